// .env files read the way users expect, with dotenv's own parser (comments, `export`,
// single/double/backtick quotes, \n and \r in double quotes, multi-line quoted values),
// plus what dotenv does silently and users trip over: lines it ignores, and an unquoted
// `#` that cuts a value. Errors name the file and line, never the value.
import { parse as dotenvParse } from 'dotenv';
import { parse as parsePgConnectionString } from 'pg-connection-string';
import { ModuleError } from '../../engine/types.js';

export interface EnvEntry {
  value: string;
  /** 1-based line of the (last) assignment. */
  line: number;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)\s*(.*)$/;

/** Parses .env text; `origin` names the file in errors. */
export function parseEnvFile(text: string, origin: string): Map<string, EnvEntry> {
  const values = dotenvParse(text);
  const lineOfKey = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (/^\s*(#.*)?$/.test(raw)) continue;
    const m = ASSIGNMENT.exec(raw);
    if (!m) throw new ModuleError(`${origin}:${i + 1}: not a KEY=value line`);
    const [, key, rest] = m;
    lineOfKey.set(key, i + 1);
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      i = closingLine(lines, i, rest, quote, origin, key);
      continue;
    }
    if (/(^|[^\s])#/.test(rest.replace(/\s+#.*$/, ''))) {
      throw new ModuleError(`${origin}:${i + 1}: ${key}: an unquoted '#' starts a comment and cuts the value; put the value in quotes`);
    }
  }
  const out = new Map<string, EnvEntry>();
  for (const [key, value] of Object.entries(values)) out.set(key, { value, line: lineOfKey.get(key) ?? 0 });
  return out;
}

/** The index of the line that closes a quoted value starting on line `start`. */
function closingLine(lines: string[], start: number, rest: string, quote: string, origin: string, key: string): number {
  const body = rest.slice(1);
  if (closes(body, quote)) return start;
  for (let j = start + 1; j < lines.length; j++) if (closes(lines[j], quote)) return j;
  throw new ModuleError(`${origin}:${start + 1}: ${key}: the ${quote} quote is never closed`);
}

function closes(text: string, quote: string): boolean {
  for (let k = 0; k < text.length; k++) {
    if (text[k] === '\\') k++;
    else if (text[k] === quote) return true;
  }
  return false;
}

/**
 * Checks that `key` is a PostgreSQL URL a driver can parse (postgres:// or postgresql://
 * with a host). The message says what is wrong, never the value.
 */
export function checkPostgresUrl(key: string, entry: EnvEntry, origin: string): void {
  const where = `${origin}:${entry.line}: ${key}`;
  const v = entry.value;
  if (/^\s|\s$/.test(v)) throw new ModuleError(`${where}: the value has leading or trailing spaces`);
  if (/^["'`]|["'`]$/.test(v)) throw new ModuleError(`${where}: the value still has quote characters around it`);
  if (!/^postgres(ql)?:\/\//.test(v)) throw new ModuleError(`${where}: is not a PostgreSQL URL (expected postgres://user:password@host:port/database)`);
  let parsed: ReturnType<typeof parsePgConnectionString>;
  try {
    parsed = parsePgConnectionString(v);
    new URL(v);
  } catch {
    throw new ModuleError(`${where}: is not a valid PostgreSQL URL (check that special characters in the password are percent-encoded)`);
  }
  if (!parsed.host) throw new ModuleError(`${where}: the PostgreSQL URL has no host`);
  if (parsed.port !== undefined && parsed.port !== null && parsed.port !== '' && !/^\d+$/.test(String(parsed.port))) {
    throw new ModuleError(`${where}: the PostgreSQL URL has an invalid port`);
  }
}
