// postgresql.conf as a human keeps it: a setting is changed on its own line (trailing
// comment kept), or a commented default line (`#wal_level = replica  # minimal, ...`) is
// uncommented and set, or — when neither exists — it goes into a marked plinth section at
// the end of the file. Every other line is left exactly as it was.
import { formatValue, unquoteValue } from './values.js';

export const SECTION_START = '# BEGIN plinth managed settings';
export const SECTION_END = '# END plinth managed settings';

// name [=] value [# comment]; value is a quoted string ('' and \' escapes) or a bare token.
const SETTING = /^(\s*)([A-Za-z_][A-Za-z0-9_.]*)(\s*=\s*|\s+)('(?:[^'\\]|''|\\.)*'|[^\s#']+)(\s*)(#.*)?$/;
const COMMENTED = /^(\s*)#(\s*)([A-Za-z_][A-Za-z0-9_.]*)(\s*=\s*)('(?:[^'\\]|''|\\.)*'|[^\s#']*)(\s*)(#.*)?$/;
const DIRECTIVES = new Set(['include', 'include_dir', 'include_if_exists']);

interface ConfSetting {
  name: string;
  /** The raw token as written (quotes included). */
  raw: string;
  /** The value it stands for. */
  value: string;
  line: number;
}

/** Active settings by lower-case name; the last occurrence wins, as in PostgreSQL. */
export function parseConf(text: string): Map<string, ConfSetting> {
  const settings = new Map<string, ConfSetting>();
  splitLines(text).forEach((line, i) => {
    const m = SETTING.exec(line);
    if (!m || DIRECTIVES.has(m[2].toLowerCase())) return;
    settings.set(m[2].toLowerCase(), { name: m[2], raw: m[4], value: unquoteValue(m[4]), line: i });
  });
  return settings;
}

/** Returns the file with each setting set to its value (already decided to differ). */
export function setConfValues(text: string, values: Record<string, string | number | boolean>): string {
  const lines = splitLines(text);
  const appended: string[] = [];
  for (const [name, value] of Object.entries(values)) {
    const formatted = formatValue(value);
    if (replaceActive(lines, name, formatted)) continue;
    if (uncommentDefault(lines, name, formatted)) continue;
    appended.push(`${name} = ${formatted}`);
  }
  if (appended.length) addToSection(lines, appended);
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function replaceActive(lines: string[], name: string, formatted: string): boolean {
  let found = false;
  lines.forEach((line, i) => {
    const m = SETTING.exec(line);
    if (!m || m[2].toLowerCase() !== name.toLowerCase()) return;
    lines[i] = `${m[1]}${m[2]}${m[3].includes('=') ? m[3] : ' = '}${formatted}${m[6] ? `${m[5] || ' '}${m[6]}` : ''}`;
    found = true;
  });
  return found;
}

function uncommentDefault(lines: string[], name: string, formatted: string): boolean {
  const i = lines.findIndex((line) => {
    const m = COMMENTED.exec(line);
    return m !== null && m[3].toLowerCase() === name.toLowerCase();
  });
  if (i < 0) return false;
  const m = COMMENTED.exec(lines[i])!;
  // The explanatory comment stays, after the same (usually tab) spacing.
  const comment = m[7] ? `${m[6] || '\t'}${m[7]}` : '';
  lines[i] = `${m[1]}${m[3]}${m[4]}${formatted}${comment}`;
  return true;
}

function addToSection(lines: string[], settings: string[]): void {
  const end = lines.indexOf(SECTION_END);
  if (lines.indexOf(SECTION_START) >= 0 && end >= 0) {
    lines.splice(end, 0, ...settings);
    return;
  }
  while (lines.length && lines[lines.length - 1].trim() === '') lines.pop();
  if (lines.length) lines.push('');
  lines.push(SECTION_START, ...settings, SECTION_END);
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  return lines;
}
