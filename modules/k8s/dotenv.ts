// .env files read the way users expect, with dotenv's own parser (comments, `export`,
// single/double/backtick quotes, \n and \r in double quotes, multi-line quoted values),
// plus what dotenv does silently and users trip over: lines it ignores, and an unquoted
// `#` that cuts a value. Errors name the file and line, never the value.
import { parse as dotenvParse } from 'dotenv';
import { parse as parsePgConnectionString } from 'pg-connection-string';
import { ModuleError } from '../../engine/types.js';

interface EnvEntry {
  value: string;
  /** 1-based line of the (last) assignment. */
  line: number;
}

const ASSIGNMENT = /^\s*(?:export\s+)?([\w.-]+)(?:\s*=|:\s)\s*(.*)$/;

/** Parses .env text; `origin` names the file in errors. */
export function parseEnvFile(text: string, origin: string): Map<string, EnvEntry> {
  const values = dotenvParse(text);
  const lineOfKey = new Map<string, number>();
  // dotenv reads a lone CR as a line break too.
  const normalized = text.replace(/\r\n?/g, '\n');
  const lines = normalized.split('\n');
  const starts = lineStarts(lines);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i];
    if (/^\s*(#.*)?$/.test(raw)) continue;
    const m = ASSIGNMENT.exec(raw);
    if (!m) throw new ModuleError(`${origin}:${i + 1}: not a KEY=value line`);
    const [, key, rest] = m;
    lineOfKey.set(key, i + 1);
    const quote = rest[0];
    if (quote === '"' || quote === "'" || quote === '`') {
      const close = closingQuote(normalized, starts[i] + raw.length - rest.length, quote);
      if (close !== null) {
        while (i + 1 < lines.length && starts[i + 1] <= close) i++;
        continue;
      }
      if (!quotedOnOneLine(rest, quote)) {
        throw new ModuleError(`${origin}:${i + 1}: ${key}: the ${quote} quote is never closed (a quoted value ends at a closing ${quote} followed only by spaces or a # comment on its line)`);
      }
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

function lineStarts(lines: string[]): number[] {
  const starts: number[] = [];
  let at = 0;
  for (const line of lines) {
    starts.push(at);
    at += line.length + 1;
  }
  return starts;
}

/**
 * Where the quoted value opening at `open` closes, by dotenv's own rule (its LINE regex): the
 * value runs over non-quote characters and backslash-quote pairs, possibly across lines, to a
 * quote that only spaces or a # comment follow on its line. Null when there is none: dotenv then
 * reads the line as an unquoted value, quote character included, and the next lines on their own.
 */
function closingQuote(text: string, open: number, quote: string): number | null {
  const value = new RegExp(`${quote}(?:\\\\${quote}|[^${quote}])*${quote}(?=\\s*(?:#.*)?$)`, 'my');
  value.lastIndex = open;
  const m = value.exec(text);
  return m ? open + m[0].length - 1 : null;
}

/** True when dotenv's unquoted reading of the line still gives the quoted text: 'it's' reads as it's. */
function quotedOnOneLine(rest: string, quote: string): boolean {
  const v = rest.trim();
  return !v.includes('#') && v.length >= 2 && v.endsWith(quote);
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
