// Every play, role, block, task, handler and include keyword, declared once, as Ansible's
// FieldAttribute table does (lib/ansible/playbook/base.py, block.py, task.py): its type, where it
// may be written and whether an enclosing play, block, role or import hands it down. The loader
// resolves what was written into typed values; the runner reads typed fields and the inherited
// values that `inheritKeywords` computes from this same table.
import { SourceError, whereOf, whereOfValue, type Where } from './yaml.js';
import { validateAgainst } from '../schema-validation.js';

/** Where a keyword is written. `include` is a dynamic include_tasks/include_role (an import is a block). */
export type Place = 'play' | 'role' | 'block' | 'task' | 'handler' | 'include';

/**
 * How a keyword reaches the tasks inside: not at all; the closest value wins (the task's own, else
 * the innermost block's, ... else the play's); lists are joined outermost first; mappings merged.
 */
export type Inherit = 'no' | 'closest' | 'extend' | 'merge';

/** A value written as an expression (`become: "{{ use_sudo }}"`), rendered per host at run time. */
export interface Template {
  template: string;
}

export type Flag = boolean | Template;
export type Amount = number | Template;
/** One `when`/`changed_when`/`failed_when`/`until` condition: a bare expression or a literal boolean. */
export type Condition = string | boolean;

export interface LoopControl {
  loop_var?: string;
  index_var?: string;
  label?: string;
  pause?: number;
  extended?: boolean;
}

/** What each declared type becomes once loaded. */
interface Loaded {
  flag: Flag;
  text: string;
  amount: Amount;
  conditions: Condition[];
  names: string[];
  mapping: Record<string, unknown>;
  loopControl: LoopControl;
  /** Checked by its own schema, kept as written (loops: a list or an expression). */
  raw: unknown;
}

type Isa = keyof Loaded;

interface KeywordSpec {
  isa: Isa;
  on: readonly Place[];
  inherit: Inherit;
  /** A JSON Schema beyond the type's own (play keywords mostly). */
  schema?: Record<string, unknown>;
  description?: string;
}

const TASKLIKE = ['role', 'block', 'task', 'handler'] as const;
const EVERYWHERE = ['play', 'role', 'block', 'task', 'handler'] as const;
const LOOPING = ['task', 'handler', 'include'] as const;
const loopSpec = (description: string): KeywordSpec => ({ isa: 'raw', on: LOOPING, inherit: 'no', description });

/** The table. To add a keyword: one line here, and the code that gives it its meaning. */
export const KEYWORDS = {
  name: { isa: 'text', on: [...EVERYWHERE, 'include'], inherit: 'no' },
  when: { isa: 'conditions', on: [...TASKLIKE, 'include'], inherit: 'extend', description: 'Bare expressions; all must hold.' },
  tags: { isa: 'names', on: [...EVERYWHERE, 'include'], inherit: 'extend' },
  vars: { isa: 'mapping', on: [...EVERYWHERE, 'include'], inherit: 'merge' },
  environment: { isa: 'mapping', on: EVERYWHERE, inherit: 'merge', description: 'Environment variables for every command.' },
  connection: { isa: 'text', on: EVERYWHERE, inherit: 'closest', description: "local: run on the controller, with the host's own variables; ssh: the default." },
  become: { isa: 'flag', on: EVERYWHERE, inherit: 'closest' },
  become_user: { isa: 'text', on: EVERYWHERE, inherit: 'closest' },
  become_method: { isa: 'text', on: EVERYWHERE, inherit: 'closest', description: 'sudo (default), su, runuser or doas.' },
  become_flags: { isa: 'text', on: EVERYWHERE, inherit: 'closest', description: 'Extra options for the become tool.' },
  throttle: { isa: 'amount', on: EVERYWHERE, inherit: 'closest', description: 'At most this many hosts run the task (or each task of the block) at once.' },
  no_log: { isa: 'flag', on: [...EVERYWHERE, 'include'], inherit: 'closest', description: "Hide the task's values, results and diffs in every output." },
  check_mode: { isa: 'flag', on: EVERYWHERE, inherit: 'closest', description: 'true: always a preview; false: runs even in check mode.' },
  diff: { isa: 'flag', on: EVERYWHERE, inherit: 'closest', description: "Show (true) or never show (false) this task's diff, whatever --diff says." },
  run_once: { isa: 'flag', on: [...EVERYWHERE, 'include'], inherit: 'closest' },
  delegate_to: { isa: 'text', on: TASKLIKE, inherit: 'closest' },
  ignore_errors: { isa: 'flag', on: [...EVERYWHERE, 'include'], inherit: 'closest' },
  any_errors_fatal: { isa: 'flag', on: ['play', 'role', 'block', 'task'], inherit: 'closest' },
  timeout: { isa: 'amount', on: [...EVERYWHERE, 'include'], inherit: 'closest', description: 'Seconds before the task is stopped.' },
  notify: { isa: 'names', on: ['block', 'task', 'handler'], inherit: 'closest' },

  register: { isa: 'text', on: LOOPING, inherit: 'no', schema: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description: 'must be a variable name' } },
  loop: loopSpec('A list, or an expression that gives one.'),
  with_items: loopSpec('A list; lists inside it are flattened one level.'),
  with_list: loopSpec('A list, item by item.'),
  with_dict: loopSpec('A mapping: items are {key, value}.'),
  with_fileglob: loopSpec('Glob patterns on the controller: items are the matching files.'),
  with_sequence: loopSpec('start=, end=, stride=, format= (or "start-end").'),
  with_subelements: loopSpec('[list, "subkey"]: items are [element, subelement].'),
  with_first_found: loopSpec('Files: the first that exists is the item.'),
  loop_control: {
    isa: 'loopControl',
    on: LOOPING,
    inherit: 'no',
    schema: {
      type: 'object',
      additionalProperties: false,
      properties: { loop_var: { type: 'string' }, label: { type: 'string' }, index_var: { type: 'string' }, pause: { type: 'number' }, extended: { type: 'boolean' } },
    },
  },
  changed_when: { isa: 'conditions', on: ['task', 'handler'], inherit: 'no' },
  failed_when: { isa: 'conditions', on: ['task', 'handler'], inherit: 'no' },
  until: { isa: 'conditions', on: ['task', 'handler'], inherit: 'no' },
  retries: { isa: 'amount', on: ['task', 'handler'], inherit: 'no' },
  delay: { isa: 'amount', on: ['task', 'handler'], inherit: 'no' },
  args: { isa: 'mapping', on: ['task', 'handler', 'include'], inherit: 'no', description: 'Module arguments (alternative to the module key value).' },
  listen: { isa: 'names', on: ['handler'], inherit: 'no' },

  hosts: { isa: 'raw', on: ['play'], inherit: 'no', schema: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'A host pattern.' } },
  vars_files: { isa: 'raw', on: ['play'], inherit: 'no', schema: { type: 'array', items: { type: 'string' } } },
  roles: {
    isa: 'raw',
    on: ['play'],
    inherit: 'no',
    schema: { type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'object', required: ['role'], properties: { role: { type: 'string' } } }] } },
  },
  pre_tasks: { isa: 'raw', on: ['play'], inherit: 'no', schema: { type: ['array', 'null'] } },
  tasks: { isa: 'raw', on: ['play'], inherit: 'no', schema: { type: ['array', 'null'] } },
  post_tasks: { isa: 'raw', on: ['play'], inherit: 'no', schema: { type: ['array', 'null'] } },
  handlers: { isa: 'raw', on: ['play'], inherit: 'no', schema: { type: ['array', 'null'] } },
  serial: { isa: 'raw', on: ['play'], inherit: 'no', schema: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\d+%?$' }, { type: 'array' }] } },
  gather_facts: { isa: 'flag', on: ['play'], inherit: 'no' },
  max_fail_percentage: { isa: 'amount', on: ['play'], inherit: 'no', schema: { type: 'number', minimum: 0, maximum: 100 } },
  force_handlers: { isa: 'flag', on: ['play'], inherit: 'no' },
  secret_vars: { isa: 'raw', on: ['play'], inherit: 'no', schema: { type: 'array', items: { type: 'string' } }, description: 'Variables whose values are secrets.' },
  strategy: { isa: 'raw', on: ['play'], inherit: 'no', schema: { enum: ['linear', 'free'] }, description: 'linear: each task on every host, then the next; free: each host at its own pace.' },
  collections: { isa: 'raw', on: ['play'], inherit: 'no', schema: { type: 'array' } },
} as const satisfies Record<string, KeywordSpec>;

export type KeywordName = keyof typeof KEYWORDS;

/** The keywords written on one play, role, block, task, handler or include, typed. */
export type Keywords = { -readonly [K in KeywordName]?: Loaded[(typeof KEYWORDS)[K]['isa']] };

const SPECS: Record<string, KeywordSpec> = KEYWORDS;

/** Keywords whose strings are bare expressions (`when: x > 1`), not text with `{{ }}`. */
export function isConditionKeyword(name: string): boolean {
  return isKeyword(name) && SPECS[name].isa === 'conditions';
}

function isKeyword(name: string): name is KeywordName {
  return Object.hasOwn(SPECS, name);
}

function allowedOn(name: KeywordName, place: Place): boolean {
  return (SPECS[name].on as readonly Place[]).includes(place);
}

export function keywordsOn(place: Place): KeywordName[] {
  return (Object.keys(SPECS) as KeywordName[]).filter((k) => allowedOn(k, place));
}

const PLACE_NAMES: Record<Place, string> = { play: 'a play', role: 'a role', block: 'a block', task: 'a task', handler: 'a handler', include: 'include_tasks/include_role' };

const HINTS: Partial<Record<KeywordName, Partial<Record<Place, string>>>> = {
  loop: { block: 'loop over the tasks inside, or over an include_tasks of a file with these tasks' },
  register: { block: 'register on the tasks inside' },
};

/**
 * Resolves the keywords of one mapping written at `place`; keys that are no keyword are returned
 * as `others` (a task's module, a role's parameters). A keyword not allowed there is an error at its key.
 */
export function loadKeywords(raw: Record<string, unknown>, place: Place, skip: readonly string[] = [], placeName = PLACE_NAMES[place]): { keywords: Keywords; others: string[] } {
  const keywords: Record<string, unknown> = {};
  const others: string[] = [];
  for (const [key, value] of Object.entries(raw)) {
    if (skip.includes(key)) continue;
    if (!isKeyword(key)) {
      others.push(key);
      continue;
    }
    const at = whereOf(raw, key);
    if (!allowedOn(key, place)) {
      const hint = HINTS[key]?.[place];
      throw new SourceError(`'${key}' is not allowed on ${placeName}${hint ? `: ${hint}` : ''}`, at);
    }
    keywords[key] = loadValue(key, value, whereOfValue(raw, key) ?? at, raw);
  }
  const loops = LOOP_KEYWORDS.filter((k) => k in keywords);
  if (loops.length > 1) throw new SourceError(`one loop per task: '${loops[0]}' and '${loops[1]}' are both written`, whereOf(raw, loops[1]));
  return { keywords: keywords as Keywords, others };
}

function loadValue(key: KeywordName, value: unknown, at: Where | undefined, raw: Record<string, unknown>): unknown {
  const spec = SPECS[key];
  if (spec.schema) {
    const problems = validateAgainst(spec.schema, value);
    if (problems.length) {
      const p = problems[0];
      throw new SourceError(`${[key, ...p.path].join('.')}: ${p.message}`, p.path.length ? (whereOf(raw[key], p.path[0]) ?? at) : at);
    }
  }
  const fail = (what: string): never => {
    throw new SourceError(`${key}: must be ${what}, got ${describe(value)}`, at);
  };
  switch (spec.isa) {
    case 'flag':
      return flagOf(value) ?? fail('a boolean (true/false, yes/no) or an expression "{{ ... }}"');
    case 'amount':
      if (typeof value === 'number') return value;
      return isTemplate(value) ? { template: value } : fail('a number or an expression "{{ ... }}"');
    case 'text':
      return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : fail('a string');
    case 'conditions': {
      const list = Array.isArray(value) ? value : [value];
      return list.every((c) => typeof c === 'string' || typeof c === 'boolean') ? list : fail('an expression, a boolean or a list of them');
    }
    case 'names':
      if (value === null) return [];
      if (typeof value === 'string')
        return value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      if (typeof value === 'number') return [String(value)];
      return Array.isArray(value) && value.every((v) => typeof v === 'string' || typeof v === 'number') ? value.map(String) : fail('a name or a list of names');
    case 'mapping':
      if (value === null) return {};
      return value && typeof value === 'object' && !Array.isArray(value) ? value : fail('a mapping');
    default:
      return value;
  }
}

/** true/false/yes/no/on/off (any case), 1/0, or an expression; undefined for anything else. */
function flagOf(value: unknown): Flag | undefined {
  if (typeof value === 'boolean') return value;
  if (value === 1 || value === 0) return value === 1;
  if (typeof value !== 'string') return undefined;
  if (isTemplate(value)) return { template: value };
  return booleanWord(value);
}

/** Ansible's boolean(): the words it accepts for true and false. */
export function booleanWord(text: string): boolean | undefined {
  const t = text.trim().toLowerCase();
  if (['true', 'yes', 'on', 'y', '1', 't'].includes(t)) return true;
  if (['false', 'no', 'off', 'n', '0', 'f', ''].includes(t)) return false;
  return undefined;
}

function isTemplate(v: unknown): v is string {
  return typeof v === 'string' && v.includes('{{');
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/**
 * The keywords in force on a task: `layers` from the outermost (the play) to the task itself.
 * Non-inherited keywords come from the last layer only.
 */
export function inheritKeywords(layers: Keywords[]): Keywords {
  const out: Record<string, unknown> = {};
  const last = layers.length - 1;
  layers.forEach((layer, i) => {
    for (const [key, value] of Object.entries(layer) as [KeywordName, unknown][]) {
      if (value === undefined) continue;
      switch (SPECS[key].inherit) {
        case 'no':
          if (i === last) out[key] = value;
          break;
        case 'closest':
          out[key] = value;
          break;
        case 'extend':
          out[key] = [...((out[key] as unknown[] | undefined) ?? []), ...(value as unknown[])];
          break;
        case 'merge':
          out[key] = { ...(out[key] as object | undefined), ...(value as object) };
          break;
      }
    }
  });
  return out as Keywords;
}

/** A flag's value for one host: an expression is rendered with `render`, then read as Ansible reads booleans. */
export function resolveFlag(flag: Flag | undefined, render: (template: string) => unknown, name: string): boolean | undefined {
  if (flag === undefined || typeof flag === 'boolean') return flag;
  const value = render(flag.template);
  if (typeof value === 'boolean') return value;
  const word = typeof value === 'string' || typeof value === 'number' ? booleanWord(String(value)) : undefined;
  if (word === undefined) throw new SourceError(`${name}: ${JSON.stringify(flag.template)} gave ${JSON.stringify(value)}, which is not a boolean`);
  return word;
}

export function resolveAmount(amount: Amount | undefined, render: (template: string) => unknown, name: string): number | undefined {
  if (amount === undefined || typeof amount === 'number') return amount;
  const value = Number(render(amount.template));
  if (!Number.isFinite(value)) throw new SourceError(`${name}: ${JSON.stringify(amount.template)} does not give a number`);
  return value;
}

const LOOP_KEYWORDS = ['loop', 'with_items', 'with_list', 'with_dict', 'with_fileglob', 'with_sequence', 'with_subelements', 'with_first_found'] as const;
export type LoopKeyword = (typeof LOOP_KEYWORDS)[number];

/** The loop keyword written on a task, if any (the loader allows one only). */
export function loopOf(kw: Keywords): LoopKeyword | undefined {
  return LOOP_KEYWORDS.find((k) => kw[k] !== undefined);
}

/** The JSON Schema of the keywords allowed at a place (published for editors; plays are validated with it). */
export function keywordSchemas(place: Place): Record<string, Record<string, unknown>> {
  return Object.fromEntries(keywordsOn(place).map((k) => [k, schemaOf(SPECS[k])]));
}

function schemaOf(spec: KeywordSpec): Record<string, unknown> {
  if (spec.schema) return spec.schema;
  const description = spec.description ? { description: spec.description } : {};
  switch (spec.isa) {
    case 'flag':
      return { type: ['boolean', 'string'], ...description };
    case 'amount':
      return { type: ['number', 'string'], ...description };
    case 'text':
      return { type: 'string', ...description };
    case 'conditions':
      return { anyOf: [{ type: 'string' }, { type: 'boolean' }, { type: 'array', items: { type: ['string', 'boolean'] } }], ...description };
    case 'names':
      return { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], ...description };
    case 'mapping':
      return { type: ['object', 'null'], ...description };
    default:
      return { ...description };
  }
}

/** The keywords of a mapping that reach the tasks inside it. */
export function inheritable(keywords: Keywords): Keywords {
  return Object.fromEntries(Object.entries(keywords).filter(([k]) => SPECS[k].inherit !== 'no')) as Keywords;
}
