// pg_hba.conf entries: validation, printing, and the plinth managed block. pg_hba.conf is
// first-match, so the block goes before the first rule of the file: plinth's specific lines
// (replication from the replicas) must win over a later generic rule. Lines outside the
// block are never touched.
import { isIP } from 'node:net';
import { ModuleError } from '../../engine/types.js';

export interface HbaEntry {
  type: string;
  database: string;
  user: string;
  address?: string;
  method: string;
  options?: string;
}

const HOSTNAME = /^\.?[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
/** A comma-separated list of names; a name with spaces, commas or '#' in double quotes ("" for a quote). */
const NAME_LIST = '^("([^"\\r\\n]|"")*"|[^\\s",#]+)(,("([^"\\r\\n]|"")*"|[^\\s",#]+))*$';

/** The schema of one rule's fields, shared by pg_hba and postgresql_pg_hba. */
export const hbaFieldProperties = {
  type: { enum: ['local', 'host', 'hostssl', 'hostnossl', 'hostgssenc', 'hostnogssenc'], description: 'connection type' },
  database: { type: 'string', pattern: NAME_LIST, description: 'database name(s), comma-separated (quote names with spaces in double quotes); all, sameuser, replication, ...' },
  user: { type: 'string', pattern: NAME_LIST, description: 'role name(s), comma-separated (quote names with spaces in double quotes); all, +group, ...' },
  address: { type: 'string', minLength: 1, description: 'CIDR (198.18.0.11/32), host name, all, samehost or samenet; not for local' },
  method: {
    enum: ['trust', 'reject', 'scram-sha-256', 'md5', 'password', 'gss', 'sspi', 'ident', 'peer', 'ldap', 'radius', 'cert', 'pam', 'bsd'],
    description: 'authentication method',
  },
  options: { type: 'string', pattern: '^[^\\n#]+$', description: 'auth options as name=value pairs on one line, e.g. clientcert=verify-full' },
} as const;

export const HBA_TYPES = hbaFieldProperties.type.enum;
export const HBA_METHODS = hbaFieldProperties.method.enum;

export function beginMarker(marker: string): string {
  return `# BEGIN ${marker}`;
}
export function endMarker(marker: string): string {
  return `# END ${marker}`;
}

/**
 * Throws a ModuleError naming the entry when its address is not one the server takes. The rest
 * of a rule (type, method, name lists, local without an address) is the schema's to check.
 */
export function validateEntry(e: HbaEntry, index: number): void {
  if (e.address === undefined || validAddress(e.address)) return;
  const where = `entries[${index}] (${e.type} ${e.database} ${e.user} ${e.address})`;
  throw new ModuleError(`${where}: address must be a CIDR (10.0.0.5/32, ::1/128), a host name, all, samehost or samenet`);
}

export function validAddress(address: string): boolean {
  if (['all', 'samehost', 'samenet'].includes(address)) return true;
  const slash = address.indexOf('/');
  if (slash >= 0) {
    const ip = address.slice(0, slash);
    const bits = address.slice(slash + 1);
    const family = isIP(ip);
    if (!family || !/^\d{1,3}$/.test(bits)) return false;
    return Number(bits) <= (family === 4 ? 32 : 128);
  }
  if (isIP(address)) return false; // an address without a mask length is rejected by the server too
  return HOSTNAME.test(address);
}

/** Identity of a rule: the same connection match. Method and options are its value. */
function entryKey(e: HbaEntry): string {
  return [e.type, e.database, e.user, e.type === 'local' ? '' : (e.address ?? '')].join(' ');
}

export function formatEntry(e: HbaEntry): string {
  const cols = [e.type.padEnd(7), e.database.padEnd(15), e.user.padEnd(15), (e.type === 'local' ? '' : (e.address ?? '')).padEnd(23), e.method];
  return `${cols.join(' ')}${e.options ? ` ${e.options}` : ''}`;
}

/** Parses a rule line written by formatEntry (or by hand) back into an entry. */
export function parseEntry(line: string): HbaEntry | null {
  const fields = splitFields(stripComment(line));
  if (fields.length < 3 || !(HBA_TYPES as readonly string[]).includes(fields[0])) return null;
  const [type, database, user, ...rest] = fields;
  const address = type === 'local' ? undefined : rest.shift();
  const method = rest.shift();
  if (!method) return null;
  return { type, database, user, address, method, options: rest.length ? rest.join(' ') : undefined };
}

/** The line without its comment: as in PostgreSQL, a '#' inside double quotes is part of a name. */
function stripComment(line: string): string {
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    if (line[i] === '"') quoted = !quoted;
    else if (line[i] === '#' && !quoted) return line.slice(0, i);
  }
  return line;
}

function splitFields(line: string): string[] {
  return line.match(/(?:"(?:[^"]|"")*"|[^\s"])+/g) ?? [];
}

interface HbaFile {
  lines: string[];
  /** Index range of the managed block (markers included), or null when absent. */
  block: { start: number; end: number } | null;
  managed: HbaEntry[];
}

export function parseHbaFile(text: string, marker: string): HbaFile {
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  const start = lines.indexOf(beginMarker(marker));
  const end = lines.indexOf(endMarker(marker));
  if (start < 0 !== end < 0 || end < start) {
    throw new ModuleError(`the ${beginMarker(marker)} / ${endMarker(marker)} markers are damaged; fix the file by hand`);
  }
  if (start < 0) return { lines, block: null, managed: [] };
  const managed = lines
    .slice(start + 1, end)
    .map(parseEntry)
    .filter((e): e is HbaEntry => e !== null);
  return { lines, block: { start, end }, managed };
}

/** The managed entries after applying the task's entries. */
export function mergeEntries(current: HbaEntry[], wanted: (HbaEntry & { state: 'present' | 'absent' })[], exclusive: boolean): HbaEntry[] {
  const present = wanted.filter((w) => w.state === 'present').map(({ state: _s, ...e }) => e);
  if (exclusive) return present;
  const absent = new Set(wanted.filter((w) => w.state === 'absent').map(entryKey));
  const result = current.filter((e) => !absent.has(entryKey(e)));
  for (const e of present) {
    const i = result.findIndex((r) => entryKey(r) === entryKey(e));
    if (i >= 0) result[i] = e;
    else result.push(e);
  }
  return result;
}

/** The new file text: the block replaced in place, or inserted before the first rule line. */
export function renderHbaFile(file: HbaFile, entries: HbaEntry[], marker: string): string {
  const block = entries.length ? [beginMarker(marker), ...entries.map(formatEntry), endMarker(marker)] : [];
  const lines = [...file.lines];
  if (file.block) {
    lines.splice(file.block.start, file.block.end - file.block.start + 1, ...block);
  } else if (block.length) {
    let at = lines.findIndex((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    if (at < 0) {
      lines.push(...(lines.length && lines[lines.length - 1].trim() !== '' ? [''] : []), ...block);
    } else {
      // Above the comment that introduces the first rule, so that comment keeps its rule.
      while (at > 0 && lines[at - 1].trim().startsWith('#')) at--;
      lines.splice(at, 0, ...block, '');
    }
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
