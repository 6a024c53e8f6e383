// Values of PostgreSQL settings: how to write them in postgresql.conf and when two spellings
// mean the same setting (256MB = 262144kB, on = true = yes = 1, 'replica' = replica).

type VarType = 'bool' | 'integer' | 'real' | 'string' | 'enum';

export interface ParamInfo {
  name: string;
  context: string;
  vartype: VarType;
  /** pg_settings.unit ('8kB', 'kB', 'MB', 'ms', 's', 'min'); unknown when the server does not run. */
  unit?: string | null;
  /** Allowed values of an enum (pg_settings.enumvals); unknown when the server does not run. */
  enumvals?: string[] | null;
}

const MEMORY: Record<string, number> = { B: 1, kB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME: Record<string, number> = { us: 1e-3, ms: 1, s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };
const TRUE_WORDS = ['on', 'true', 'yes', '1', 't', 'y', 'tr', 'tru', 'ye'];
const FALSE_WORDS = ['off', 'false', 'no', '0', 'f', 'n', 'fa', 'fal', 'fals', 'of'];

const BARE_NUMBER = /^-?\d+(\.\d+)?([a-zA-Z]+)?$/;
const BARE_WORD = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The text of a value in postgresql.conf: numbers and simple words bare, the rest quoted. */
export function formatValue(value: string | number | boolean): string {
  if (typeof value === 'boolean') return value ? 'on' : 'off';
  const text = String(value);
  if (BARE_NUMBER.test(text) || BARE_WORD.test(text)) return text;
  return quoteString(text);
}

const ESCAPES: Record<string, string> = { '\\': '\\\\', "'": "''", '\n': '\\n', '\r': '\\r' };
const UNESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' };

/**
 * A string literal in PostgreSQL's configuration syntax: single quotes, '' and \\ escaped.
 * A line break cannot stand raw in a quoted value (the server refuses the file), so \n and
 * \r are written as escapes, which the server's parser decodes.
 */
function quoteString(text: string): string {
  return `'${text.replace(/[\\'\n\r]/g, (c) => ESCAPES[c])}'`;
}

/** The value a configuration token stands for: quotes removed and escapes decoded. */
export function unquoteValue(token: string): string {
  const t = token.trim();
  if (!(t.startsWith("'") && t.endsWith("'") && t.length >= 2)) return t;
  let out = '';
  const body = t.slice(1, -1);
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (c === "'" && body[i + 1] === "'") {
      out += "'";
      i++;
    } else if (c === '\\' && i + 1 < body.length) {
      // As the server reads it: up to three octal digits are one byte (exact for ASCII).
      const octal = /^[0-7]{1,3}/.exec(body.slice(i + 1))?.[0];
      if (octal) {
        out += String.fromCharCode(parseInt(octal, 8) & 0xff);
        i += octal.length;
      } else out += UNESCAPES[body[++i]] ?? body[i];
    } else out += c;
  }
  return out;
}

/**
 * A canonical form for comparison. Units convert to bytes or milliseconds; a number without
 * a unit is in the parameter's own unit (known from pg_settings). Unknown cases fall back
 * to the text, so they compare unequal rather than wrongly equal.
 */
export function normalizeValue(raw: string, info?: ParamInfo): string {
  const text = raw.trim();
  const type = info?.vartype;
  if (type === 'bool' || (!type && [...TRUE_WORDS, ...FALSE_WORDS].includes(text.toLowerCase()) && !/^\d$/.test(text))) {
    const lower = text.toLowerCase();
    if (TRUE_WORDS.includes(lower)) return 'on';
    if (FALSE_WORDS.includes(lower)) return 'off';
  }
  if (type === 'enum') return text.toLowerCase();
  if (type === 'integer' || type === 'real' || (!type && BARE_NUMBER.test(text))) {
    const quantity = toBaseQuantity(text, info?.unit ?? null);
    if (quantity !== null) return quantity;
  }
  return text;
}

function toBaseQuantity(text: string, paramUnit: string | null): string | null {
  const m = /^(-?\d+(?:\.\d+)?)\s*([a-zA-Z]+)?$/.exec(text);
  if (!m) return null;
  const n = Number(m[1]);
  const unit = m[2];
  if (unit) {
    if (unit in MEMORY) return `${n * MEMORY[unit]}B`;
    if (unit in TIME) return `${n * TIME[unit]}ms`;
    return null;
  }
  if (!paramUnit) return String(n);
  const base = /^(\d+)?\s*([a-zA-Z]+)$/.exec(paramUnit);
  if (!base) return null;
  const factor = Number(base[1] ?? 1);
  if (base[2] in MEMORY) return `${n * factor * MEMORY[base[2]]}B`;
  if (base[2] in TIME) return `${n * factor * TIME[base[2]]}ms`;
  return null;
}

/** Why the server would reject the value, or null when it is acceptable as far as can be told here. */
export function invalidValue(raw: string, info: ParamInfo): string | null {
  const text = raw.trim();
  if (info.vartype === 'bool' && ![...TRUE_WORDS, ...FALSE_WORDS].includes(text.toLowerCase())) return 'a boolean (on/off)';
  if (info.vartype === 'enum' && info.enumvals && !info.enumvals.map((v) => v.toLowerCase()).includes(text.toLowerCase())) {
    return `one of ${info.enumvals.join(', ')}`;
  }
  if ((info.vartype === 'integer' || info.vartype === 'real') && !/^-?\d+(\.\d+)?\s*([a-zA-Z]+)?$/.test(text)) {
    return info.vartype === 'integer' ? 'an integer, optionally with a unit (256MB, 30s)' : 'a number';
  }
  return null;
}

/** pg_settings.vartype and --describe-config spell types differently. */
export function parseVarType(text: string): VarType {
  const t = text.toLowerCase();
  if (t === 'boolean' || t === 'bool') return 'bool';
  if (t === 'integer') return 'integer';
  if (t === 'real') return 'real';
  if (t === 'enum') return 'enum';
  return 'string';
}

/** True when changing the parameter needs a restart (pg_settings.context). */
export function needsRestart(context: string): boolean {
  return context === 'postmaster' || context === 'internal';
}
