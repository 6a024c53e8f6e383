// YAML files become plain JavaScript values that remember where they came from:
// every mapping and list keeps its file:line:col, and so does every key and item in it.
import { readFileSync } from 'node:fs';
import { decryptVault, isVaultText, vaultPassword } from '../secrets/vault.js';
import { redactor } from '../secrets/redact.js';
import {
  isMap,
  isPair,
  isScalar,
  isSeq,
  isAlias,
  LineCounter,
  parseDocument,
  type Node,
  type Document,
  type DocumentOptions,
  type ParseOptions,
  type SchemaOptions,
  type Tags,
  type ScalarTag,
} from 'yaml';
import { sources } from './sources.js';
import { UserError } from '../user-error.js';

export interface Where {
  file: string;
  line: number;
  col: number;
}

interface Positions {
  self: Where;
  /** Position of each key's value (for lists: of each item), by key or index. */
  children: Map<string | number, Where>;
  /** Position of each key itself. */
  keys: Map<string, Where>;
  /** Keys (or indexes) whose value was written as a YAML 1.1 octal number (`0644`). */
  octal?: Set<string | number>;
}

const positions = new WeakMap<object, Positions>();

/** A problem in a file the user wrote: reported as file:line:col, exit code 4 at load time. */
export class SourceError extends UserError {
  constructor(
    message: string,
    readonly where?: Where,
  ) {
    super(where ? `${formatWhere(where)}: ${message}` : message, where ?? {});
  }
}

/** Every problem one load found (each with its file:line:col), up to a cap. */
export class SourceErrors extends SourceError {
  constructor(
    readonly problems: SourceError[],
    readonly capped: boolean,
  ) {
    super(problems.map((p) => p.message).join('\n'));
    this.name = 'SourceErrors';
  }
}

export function formatWhere(w: Where): string {
  return `${w.file}:${w.line}:${w.col}`;
}

/** Where an object (or one of its keys/items) was written. */
export function whereOf(value: unknown, key?: string | number): Where | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const p = positions.get(value);
  if (!p) return undefined;
  if (key === undefined) return p.self;
  return (typeof key === 'string' ? p.keys.get(key) : undefined) ?? p.children.get(key) ?? p.self;
}

/** Where the value of a key (or an item) was written, rather than the key itself. */
export function whereOfValue(value: unknown, key: string | number): Where | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const p = positions.get(value);
  return p?.children.get(key) ?? p?.self;
}

/** Where the first string below `root` that contains `text` was written (a failing expression, for one). */
export function whereOfText(root: unknown, text: string): Where | undefined {
  if (!root || typeof root !== 'object') return undefined;
  for (const [key, value] of Object.entries(root)) {
    const k = Array.isArray(root) ? Number(key) : key;
    if (typeof value === 'string' && value.includes(text)) return whereOfValue(root, k);
    const inner = whereOfText(value, text);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * Where `text` itself is written, searching the source file from a value's position: the exact
 * line and column of an expression inside a longer string or a block scalar. Falls back to `from`.
 */
export function whereInSource(from: Where, text: string): Where {
  let source: string;
  try {
    source = readFileSync(from.file, 'utf8');
  } catch {
    return from;
  }
  const lines = source.split('\n');
  const start = lines.slice(0, from.line - 1).reduce((n, l) => n + l.length + 1, 0) + from.col - 1;
  const at = source.indexOf(text, start);
  // Only within the value: a later occurrence elsewhere in the file is not this one.
  if (at < 0 || at - start > 4000) return from;
  const before = source.slice(0, at).split('\n');
  return { file: from.file, line: before.length, col: before[before.length - 1].length + 1 };
}

/** Where a value at a path below `root` was written; falls back to the deepest known ancestor. */
export function whereAtPath(root: unknown, path: (string | number)[]): Where | undefined {
  let node: unknown = root;
  let best = whereOf(root);
  for (const key of path) {
    if (!node || typeof node !== 'object') break;
    best = whereOf(node, key) ?? best;
    node = (node as Record<string | number, unknown>)[key];
  }
  return best;
}

/** Copies the position record of one value to another (for values built from loaded ones). */
function copyWhere(from: object, to: object): void {
  const p = positions.get(from);
  if (p) positions.set(to, p);
}

/**
 * YAML 1.1 as PyYAML (and so Ansible) reads it: yes/no/on/off/true/false in any of their three
 * spellings are booleans (y and n stay strings), 0644 is octal 420, 1:20 is 80. Dates stay text,
 * as Ansible's templating prints them.
 */
const pyyamlBool = (value: boolean, words: string): ScalarTag => ({
  tag: 'tag:yaml.org,2002:bool',
  default: true,
  identify: (v) => v === value,
  test: new RegExp(`^(?:${words})$`),
  resolve: () => value,
});
/** An inline `!vault |` value, decrypted once the file is read (the password may have to be asked for). */
class VaultedText {
  constructor(readonly text: string) {}
}

const vaultTag: ScalarTag = {
  tag: '!vault',
  identify: (v) => v instanceof VaultedText,
  resolve: (text) => new VaultedText(text),
};

export const YAML_1_1: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.1',
  customTags: (tags: Tags) => [
    vaultTag,
    ...tags.filter((t) => !['tag:yaml.org,2002:bool', 'tag:yaml.org,2002:timestamp'].includes((t as ScalarTag).tag)),
    pyyamlBool(true, 'yes|Yes|YES|true|True|TRUE|on|On|ON'),
    pyyamlBool(false, 'no|No|NO|false|False|FALSE|off|Off|OFF'),
  ],
};

/** Whether a key's value was written as an octal number (`mode: 0644`), which YAML 1.1 reads as 420. */
export function writtenAsOctal(value: unknown, key: string | number): boolean {
  return !!value && typeof value === 'object' && !!positions.get(value)?.octal?.has(key);
}

export async function loadYamlFile(file: string): Promise<unknown> {
  const text = await readText(file);
  const plain = isVaultText(text) ? decryptVault(text, await vaultPassword(file), file) : text;
  const data = await revealVaulted(parseYaml(plain, file), file);
  if (plain !== text) markAllSecret(data);
  return data;
}

/** Inline `!vault` values decrypted in place; their plaintext is a secret from then on. */
export async function revealVaulted(data: unknown, file: string): Promise<unknown> {
  if (data instanceof VaultedText) {
    const plain = decryptVault(data.text, await vaultPassword(file), file);
    redactor.add(plain);
    return plain;
  }
  if (Array.isArray(data)) {
    for (const [i, v] of data.entries()) data[i] = await revealVaulted(v, file);
  } else if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data)) (data as Record<string, unknown>)[k] = await revealVaulted(v, file);
  }
  return data;
}

/** Every value of a decrypted file is a secret. */
function markAllSecret(value: unknown): void {
  if (typeof value === 'string' || typeof value === 'number') redactor.add(String(value));
  else if (value && typeof value === 'object') for (const v of Object.values(value)) markAllSecret(v);
}

/** Reads a source file; the run's record of sources notes its digest. */
export async function readText(file: string): Promise<string> {
  let text: string;
  try {
    // Synchronous: loading reads many small files one after the other, and on a busy machine
    // each asynchronous read waits for a thread-pool wake-up longer than the read itself.
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new SourceError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  sources.record(file, text);
  return text;
}

/** What each file parsed to, by its path: a role's files are read again for every play that uses the role. */
const parsed = new Map<string, { text: string; value: unknown }>();

/** The YAML text of a file as plain values with their positions; a file parsed before with the same text is copied, not parsed again. */
export function parseYaml(text: string, file: string): unknown {
  const known = parsed.get(file);
  if (known?.text === text) return copyLoaded(known.value);
  const value = parseYamlText(text, file);
  parsed.set(file, { text, value });
  return copyLoaded(value);
}

/** A copy that callers may change, keeping every position (VaultedText and other values stay shared: they are never changed). */
function copyLoaded(value: unknown): unknown {
  if (Array.isArray(value)) {
    const out = value.map(copyLoaded);
    copyWhere(value, out);
    return out;
  }
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = copyLoaded(v);
    copyWhere(value, out);
    return out;
  }
  return value;
}

function parseYamlText(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { ...YAML_1_1, lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Where => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  const first = doc.errors[0];
  if (first) {
    const reason = first.message.split('\n')[0].replace(/ at line \d+, column \d+.*$/, '');
    throw new SourceError(`invalid YAML: ${reason}`, at(first.pos[0]));
  }
  return toJs(doc.contents as Node | null, doc, at);
}

function toJs(node: Node | null, doc: Document, at: (offset: number) => Where): unknown {
  if (node === null || node === undefined) return null;
  if (isAlias(node)) return toJs(node.resolve(doc) as Node, doc, at);
  if (isScalar(node)) return node.value;
  const self = at(node.range?.[0] ?? 0);
  if (isSeq(node)) {
    const out: unknown[] = [];
    const children = new Map<string | number, Where>();
    const octal = new Set<string | number>();
    node.items.forEach((item, i) => {
      children.set(i, at((item as Node).range?.[0] ?? 0));
      if (isOctal(item as Node)) octal.add(i);
      out.push(toJs(item as Node, doc, at));
    });
    positions.set(out, { self, children, keys: new Map(), octal });
    return out;
  }
  if (isMap(node)) {
    const out: Record<string, unknown> = {};
    const children = new Map<string | number, Where>();
    const keys = new Map<string, Where>();
    const octal = new Set<string | number>();
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      // YAML 1.1 resolves the merge key `<<` to a symbol.
      const merge = isScalar(keyNode) && (keyNode.value === '<<' || typeof keyNode.value === 'symbol');
      const key = merge ? '<<' : String(isScalar(keyNode) ? keyNode.value : keyNode);
      if (merge && pair.value) {
        const merged = toJs(pair.value as Node, doc, at);
        for (const m of Array.isArray(merged) ? merged : [merged]) Object.assign(out, m);
        continue;
      }
      keys.set(key, at(keyNode?.range?.[0] ?? 0));
      children.set(key, at((pair.value as Node | null)?.range?.[0] ?? keyNode?.range?.[0] ?? 0));
      if (isOctal(pair.value as Node | null)) octal.add(key);
      out[key] = toJs(pair.value as Node | null, doc, at);
    }
    positions.set(out, { self, children, keys, octal });
    return out;
  }
  return (node as { toJSON?: () => unknown }).toJSON?.() ?? null;
}

function isOctal(node: Node | null): boolean {
  return isScalar(node) && node.format === 'OCT' && typeof node.value === 'number';
}
