// Variables in layers, lowest precedence first, and `{{ expr }}` rendering over them.
// A variable written with expressions is rendered when it is read, in the reader's scope
// (so `conf_dir: "{{ root }}/etc"` follows the host's `root`). Values that came from a host
// (registered results, facts) are data: they are never rendered again.
import { evaluateExpression } from './evaluate.js';
import { redactor } from '../secrets/redact.js';

/** Variables named like secrets are secrets: their values are redacted wherever they appear. */
export const SECRET_NAME = /(password|passphrase|passwd|secret|token|_key|_dsn|database_url)$/i;

export interface Layer {
  name: string;
  vars: Record<string, unknown>;
  /** Data from hosts: returned as it is, never rendered. */
  data?: boolean;
}

// Spaces around one expression are tolerated; a newline is text (`content: "{{ x }}\n"` keeps it).
const WHOLE = /^[ \t]*\{\{((?:(?!\{\{|\}\}).)*)\}\}[ \t]*$/s;
const PART = /\{\{((?:(?!\}\}).)*)\}\}/gs;

export class Scope {
  /** Names being rendered, with the layer their value came from: a self-reference reads the layers below. */
  private readonly resolving = new Map<string, number>();
  private readonly cache = new Map<string, unknown>();

  constructor(readonly layers: Layer[]) {}

  /** A scope with one more layer on top (loop items, registered results of this task). */
  with(name: string, vars: Record<string, unknown>, data = false): Scope {
    return new Scope([...this.layers, { name, vars, data }]);
  }

  /** A scope with one more layer just below the layer called `below` (on top when there is none). */
  withBelow(below: string, name: string, vars: Record<string, unknown>): Scope {
    const i = this.layers.findIndex((l) => l.name === below);
    if (i < 0) return this.with(name, vars);
    return new Scope([...this.layers.slice(0, i), { name, vars }, ...this.layers.slice(i)]);
  }

  has(name: string): boolean {
    return this.layers.some((l) => Object.hasOwn(l.vars, name));
  }

  lookup(name: string): { found: boolean; value?: unknown } {
    const outer = this.resolving.get(name);
    if (outer === undefined && this.cache.has(name)) return { found: true, value: this.cache.get(name) };
    // `x: "{{ x }}/more"` refers to the x of a lower layer, as in Ansible's role params.
    for (let i = (outer ?? this.layers.length) - 1; i >= 0; i--) {
      const layer = this.layers[i];
      if (!Object.hasOwn(layer.vars, name)) continue;
      const raw = layer.vars[name];
      if (layer.data) return { found: true, value: raw };
      this.resolving.set(name, i);
      try {
        const value = this.render(raw);
        if (SECRET_NAME.test(name)) redactor.add(value);
        if (outer === undefined) this.cache.set(name, value);
        return { found: true, value };
      } finally {
        if (outer === undefined) this.resolving.delete(name);
        else this.resolving.set(name, outer);
      }
    }
    if (name === 'vars') return { found: true, value: this.varsProxy() };
    return { found: false };
  }

  /** Evaluates a bare expression (`when`, `changed_when`, `assert.that`). */
  evaluate(expression: string): unknown {
    return evaluateExpression(expression, (n) => this.lookup(n));
  }

  /** Renders `{{ }}` in a value: a value that is one expression keeps its type; text around it makes a string. */
  render(value: unknown): unknown {
    if (typeof value === 'string') return this.renderString(value);
    if (Array.isArray(value)) return value.map((v) => this.render(v));
    if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.render(v);
      return out;
    }
    return value;
  }

  private renderString(text: string): unknown {
    if (!text.includes('{{')) return text;
    const whole = WHOLE.exec(text);
    if (whole) return this.evaluate(whole[1]);
    return text.replace(PART, (_m, expr: string) => stringify(this.evaluate(expr)));
  }

  /** `vars.name` is undefined (not an error) for a missing name: `vars.port ?? 5432`. */
  private varsProxy(): Record<string, unknown> {
    return new Proxy(
      {},
      {
        get: (_t, key) => (typeof key === 'string' ? this.lookup(key).value : undefined),
        has: (_t, key) => typeof key === 'string' && this.lookup(key).found,
      },
    );
  }

  /**
   * The variables as an object whose properties are read lazily: the locals of an EJS template
   * (a name that is not a variable is then a ReferenceError naming it).
   */
  locals(): Record<string, unknown> {
    return new Proxy(
      {},
      {
        get: (_t, key) => (typeof key === 'string' ? this.lookup(key).value : undefined),
        has: (_t, key) => typeof key === 'string' && this.lookup(key).found,
        ownKeys: () => [...new Set(this.layers.flatMap((l) => Object.keys(l.vars)))],
        getOwnPropertyDescriptor: (_t, key) => (typeof key === 'string' && this.has(key) ? { enumerable: true, configurable: true, get: () => this.lookup(key).value } : undefined),
      },
    );
  }
}

function stringify(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
