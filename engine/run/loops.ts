// The items of a task's loop: `loop`, and Ansible's older `with_<lookup>` spellings, each with
// the meaning its lookup plugin gives it (with_items flattens one level, with_dict gives
// {key, value} pairs, ...). Files are looked up on the controller, as Ansible's lookups do.
import { readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';
import type { LoopKeyword } from '../load/keywords.js';
import type { Scope } from '../expr/scope.js';
import { UserError } from '../user-error.js';

export class LoopError extends UserError {
  override name = 'LoopError';
}

/** The items for one host; `baseDirs` are where relative files are searched (the role's, the playbook's). */
export async function loopItems(kind: LoopKeyword, source: unknown, scope: Scope, baseDirs: string[]): Promise<unknown[]> {
  const value = scope.render(source);
  switch (kind) {
    case 'loop':
    case 'with_list':
      if (!Array.isArray(value)) throw new LoopError(`${kind} must give a list, got ${describe(value)}`);
      return value;
    case 'with_items':
      return (Array.isArray(value) ? value : [value]).flatMap((v) => (Array.isArray(v) ? v : [v]));
    case 'with_dict':
      if (!value || typeof value !== 'object' || Array.isArray(value)) throw new LoopError(`with_dict must give a mapping, got ${describe(value)}`);
      return Object.entries(value).map(([key, v]) => ({ key, value: v }));
    case 'with_fileglob':
      return fileglob(toStrings(value), baseDirs);
    case 'with_sequence':
      return sequence(String(value));
    case 'with_subelements':
      return subelements(value);
    case 'with_first_found': {
      const found = firstFound(value, baseDirs);
      if (found === undefined && skipWhenNoneFound(value)) return [];
      if (found === undefined) throw new LoopError(`with_first_found: none of the files exist: ${firstFoundCandidates(value, baseDirs).join(', ')}`);
      return [found];
    }
  }
}

function describe(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'a mapping' : `${typeof v} ${JSON.stringify(v)}`;
}

function toStrings(v: unknown): string[] {
  return (Array.isArray(v) ? v.flat() : [v]).map(String);
}

/** Files (not folders) matching each pattern; `*`, `?` and `[...]` in the last part of the path. */
export function fileglob(patterns: string[], baseDirs: string[]): string[] {
  const out: string[] = [];
  for (const pattern of patterns) {
    const dirs = path.isAbsolute(pattern) ? [path.dirname(pattern)] : baseDirs.flatMap((d) => [path.join(d, 'files', path.dirname(pattern)), path.join(d, path.dirname(pattern))]);
    const re = globRegExp(path.basename(pattern));
    for (const dir of dirs) {
      const entries = readdirOrNone(dir);
      const matches = entries.filter((e) => e.isFile() && re.test(e.name)).map((e) => path.join(dir, e.name));
      if (matches.length) {
        out.push(...matches.sort());
        break;
      }
    }
  }
  return out;
}

function readdirOrNone(dir: string) {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function globRegExp(glob: string): RegExp {
  const body = glob
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '[^/]*')
    .replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

/** `start=1 end=10 stride=2 format=host%02d`, `count=3`, or the short form `1-10/2:fmt`. */
export function sequence(spec: string): string[] {
  const opts: Record<string, string> = {};
  const short = /^\s*(-?\w+)-(-?\w+)(?:\/(-?\w+))?(?::(.+))?\s*$/.exec(spec);
  if (short && !spec.includes('=')) Object.assign(opts, { start: short[1], end: short[2], ...(short[3] ? { stride: short[3] } : {}), ...(short[4] ? { format: short[4] } : {}) });
  else for (const m of spec.matchAll(/(\w+)=(\S+)/g)) opts[m[1]] = m[2];
  const num = (s: string | undefined, fallback: number) => (s === undefined ? fallback : Number(s.startsWith('0x') ? parseInt(s, 16) : s.startsWith('0o') ? parseInt(s.slice(2), 8) : s));
  const start = num(opts.start, 1);
  const stride = num(opts.stride, 1);
  const end = opts.count !== undefined ? start + (num(opts.count, 0) - 1) * stride : num(opts.end, NaN);
  if (![start, end, stride].every(Number.isInteger)) throw new LoopError(`with_sequence: cannot read '${spec}': give start=, end= (or count=), stride=, format=`);
  if (stride === 0 || (end - start) * stride < 0) {
    if (opts.count === '0') return [];
    throw new LoopError(`with_sequence: stride ${stride} never goes from ${start} to ${end}`);
  }
  const format = opts.format ?? '%d';
  const out: string[] = [];
  for (let i = start; stride > 0 ? i <= end : i >= end; i += stride) out.push(printf(format, i));
  return out;
}

function printf(format: string, n: number): string {
  return format.replace(/%(0?)(\d*)([dxXo])/g, (_m, zero: string, width: string, conv: string) => {
    const text = conv === 'd' ? String(n) : conv === 'o' ? n.toString(8) : conv === 'x' ? n.toString(16) : n.toString(16).toUpperCase();
    return text.padStart(Number(width || 0), zero ? '0' : ' ');
  });
}

/** `[users, "authorized_keys"]` (or with `{skip_missing: true}`): one item [user, key] per key of each user. */
function subelements(value: unknown): unknown[] {
  if (!Array.isArray(value) || value.length < 2 || !Array.isArray(value[0]) || typeof value[1] !== 'string') {
    throw new LoopError('with_subelements needs [a list of mappings, "the name of a list in each"]');
  }
  const [list, key, flags] = value as [Record<string, unknown>[], string, Record<string, unknown> | undefined];
  const out: unknown[] = [];
  for (const element of list) {
    let sub: unknown = element;
    for (const part of key.split('.')) sub = sub && typeof sub === 'object' ? (sub as Record<string, unknown>)[part] : undefined;
    if (sub === undefined) {
      if (flags?.skip_missing) continue;
      throw new LoopError(`with_subelements: an element has no '${key}': ${JSON.stringify(element)}`);
    }
    if (!Array.isArray(sub)) throw new LoopError(`with_subelements: '${key}' must be a list in ${JSON.stringify(element)}`);
    for (const s of sub) out.push([element, s]);
  }
  return out;
}

/**
 * `first_found`: a list of files, or `{files: [...], paths: [...], skip: bool}`; relative names are
 * searched in `vars/`, `files/`, `tasks/` and the folder itself of the role, then of the playbook.
 */
export function firstFound(value: unknown, baseDirs: string[]): string | undefined {
  return firstFoundCandidates(value, baseDirs).find((candidate) => statSync(candidate, { throwIfNoEntry: false })?.isFile());
}

function skipWhenNoneFound(value: unknown): boolean {
  return (Array.isArray(value) ? value : [value]).some((v) => v && typeof v === 'object' && (v as Record<string, unknown>).skip === true);
}

export function firstFoundCandidates(value: unknown, baseDirs: string[]): string[] {
  const specs = (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) ? [v as Record<string, unknown>] : [{ files: [v] }]));
  const out: string[] = [];
  for (const spec of specs) {
    const files = toStrings(spec.files ?? [])
      .flatMap((f) => f.split(/[,;]/))
      .map((f) => f.trim())
      .filter(Boolean);
    const paths = toStrings(spec.paths ?? [])
      .flatMap((p) => p.split(/[,:]/))
      .filter(Boolean);
    for (const file of files) {
      if (path.isAbsolute(file)) out.push(file);
      else if (paths.length) out.push(...paths.map((p) => path.resolve(baseDirs[0] ?? '.', p, file)));
      else out.push(...baseDirs.flatMap((d) => ['vars', 'files', 'tasks', '.'].map((sub) => path.join(d, sub, file))));
    }
  }
  return out;
}
