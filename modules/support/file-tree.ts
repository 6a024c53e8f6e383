// A directory tree put on the host from a tree the controller holds: copy with a directory src,
// synchronize, and zip archives for unarchive. The host's side is observed in one command (find
// and sha256sum), the plan lists every file to add, update or delete, and apply writes each file
// atomically (temporary file and rename, as host.write does), makes directories, sets modes and
// owners, and removes what `delete` asks for. Contents compare by sha256, never by mtime.
import { createHash, randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { ModuleError, type ApplyResult, type Diff, type ModuleContext, type Plan, type PlannedWrite } from '../../engine/types.js';
import { resolveAttributes } from './attributes.js';
import { execOrFail } from './host-commands.js';
import { diffText } from './text.js';

/** One file, directory or symbolic link of the wanted tree, by its path below the destination. */
export interface WantedEntry {
  path: string;
  type: 'file' | 'directory' | 'link';
  /** A link's target, as readlink prints it. */
  target?: string;
  /** Needed for a file that will be written; the others may give only their digest. */
  content?: Buffer;
  /** sha256 of the content, when the content itself was not read (remote_src). */
  sha256?: string;
  /** Four octal digits; absent: a new entry gets the host's default, an existing one keeps its own. */
  mode?: string;
}

/** One entry of the destination as find saw it. */
interface HostEntry {
  path: string;
  type: 'file' | 'directory' | 'link' | 'other';
  mode: string;
  owner: string;
  group: string;
  size: number;
  sha256?: string;
  /** A link's target. */
  target?: string;
}

export interface TreeObserved {
  dest: string;
  /** What is at dest: nothing, a directory, or something else (refused). */
  destState: 'missing' | 'directory' | 'other';
  /** Display name of the source (repository-relative path, archive name). */
  source: string;
  wanted: WantedEntry[];
  /** The entries of dest that matter: the wanted paths, or everything when deleting. */
  found: HostEntry[];
  /** Owner and group for every entry (names as the host reports them). */
  owner?: string;
  group?: string;
  /** The current content of files that will be rewritten (the first few, when small), for their diffs. */
  previous?: Record<string, Buffer>;
}

interface TreeOptions {
  /** Remove what dest holds and the tree does not (synchronize's delete). */
  delete: boolean;
  /** false: only missing files are created, existing ones keep their content (copy's force). */
  replace: boolean;
  /** Mode of directories that are created (copy's directory_mode); wanted modes win. */
  directoryMode?: string;
}

export interface TreeAction {
  dest: string;
  owner?: string;
  group?: string;
  /** Removed first (what delete asks, and what stands where the other type must go). */
  remove: string[];
  /** Created in this order (parents first), each with its mode. */
  mkdir: { path: string; mode?: string }[];
  write: { path: string; content: string; mode?: string }[];
  /** Symbolic links made or pointed elsewhere (each replaced atomically). */
  link?: { path: string; target: string }[];
  /** Existing entries whose mode or owner is set without rewriting them. */
  attributes: { path: string; mode?: string; owner?: string; group?: string }[];
}

/** A path of the tree as a relative POSIX path; refuses anything that leaves the destination. */
export function treePath(name: string): string {
  const normal = path.posix.normalize(name.replace(/\/+$/, ''));
  if (normal === '.' || normal.startsWith('../') || normal === '..' || path.posix.isAbsolute(normal)) {
    throw new ModuleError(`${name}: a path outside the destination`);
  }
  return normal;
}

// $1 dest, $2 "all" or "listed" (the wanted paths on stdin, NUL-separated). A wanted path that
// is missing is no error; anything else find or sha256sum says is.
const LIST_SCRIPT = String.raw`
if [ ! -e "$1" ]; then printf 'missing\0'; exit 0; fi
if [ ! -d "$1" ]; then printf 'other\0'; exit 0; fi
cd -- "$1" || exit 3
printf 'directory\0'
if [ "$2" = all ]; then
  find . -mindepth 1 \( -printf 'E %y %m %u %g %s %p\0%l\0' \) \( -type f -exec sha256sum -z -- {} + \)
else
  xargs -0 -r sh -c 'find "$@" -maxdepth 0 \( -printf "E %y %m %u %g %s %p\0%l\0" \) \( -type f -exec sha256sum -z -- {} + \) 2>&1 >&3 3>&- | grep -v -e ": No such file or directory\$" -e ": Not a directory\$" >&2; exit 0' sh 3>&1
fi
`;

/**
 * Lists dest in one command: everything below it when `all` (delete needs it), else only the
 * wanted paths, so that copying two files into /etc reads two files, not /etc.
 */
export async function observeHostTree(ctx: ModuleContext, dest: string, wanted: string[], all: boolean): Promise<{ state: TreeObserved['destState']; found: HostEntry[] }> {
  const stdin = all ? '' : wanted.map((p) => `./${p}\0`).join('');
  const r = await ctx.host.exec(['sh', '-c', LIST_SCRIPT, 'plinth-tree', dest, all ? 'all' : 'listed'], { ...ctx.become, stdin, timeout: 3600_000 });
  if (r.stderr.trim() || r.exitCode !== 0) throw new ModuleError(`cannot read ${dest} on ${ctx.host.name}: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  return parseHostTree(r.stdout);
}

const TYPES: Record<string, HostEntry['type']> = { f: 'file', d: 'directory', l: 'link' };

/** The wanted tree and what dest holds of it, owner and group resolved to names. */
export async function observeTree(
  ctx: ModuleContext,
  t: { dest: string; source: string; wanted: WantedEntry[]; delete: boolean; owner?: string; group?: string; exclude?: (rel: string, directory: boolean) => boolean },
): Promise<TreeObserved> {
  const { state, found } = await observeHostTree(
    ctx,
    t.dest,
    t.wanted.map((w) => w.path),
    t.delete,
  );
  const exclude = t.exclude ?? (() => false);
  const excludedDirs: string[] = [];
  const kept = found.filter((e) => {
    if (excludedDirs.some((d) => e.path.startsWith(`${d}/`))) return false;
    if (!exclude(e.path, e.type === 'directory')) return true;
    if (e.type === 'directory') excludedDirs.push(e.path);
    return false;
  });
  const [attributes, previous] = await Promise.all([resolveAttributes(ctx, { owner: t.owner, group: t.group }), readChanged(ctx, t.dest, t.wanted, kept)]);
  return { dest: t.dest, destState: state, source: t.source, wanted: t.wanted, found: kept, ...attributes, ...(Object.keys(previous).length ? { previous } : {}) };
}

const SHOWN_DIFFS = 20;
const SHOWN_SIZE = 256 * 1024;

/** The files whose content differs, read for their diffs: the first 20 of at most 256 KiB. */
async function readChanged(ctx: ModuleContext, dest: string, wanted: WantedEntry[], found: HostEntry[]): Promise<Record<string, Buffer>> {
  const byPath = new Map(found.map((e) => [e.path, e]));
  const changed = wanted
    .filter((w) => {
      const have = byPath.get(w.path);
      return w.type === 'file' && have?.type === 'file' && have.size <= SHOWN_SIZE && have.sha256 !== digestOf(w);
    })
    .slice(0, SHOWN_DIFFS);
  const contents = await Promise.all(changed.map((w) => ctx.host.read(join(dest, w.path), { ...ctx.become })));
  return Object.fromEntries(changed.flatMap((w, i) => (contents[i] ? [[w.path, contents[i]!]] : [])));
}

/**
 * find's records ("E type mode owner group size ./path", then the link target or nothing) and
 * sha256sum's ("digest  ./path"), NUL-terminated.
 */
export function parseHostTree(output: string): { state: TreeObserved['destState']; found: HostEntry[] } {
  const records = output.split('\0');
  const state = records.shift() as TreeObserved['destState'];
  const entries = new Map<string, HostEntry>();
  const digests = new Map<string, string>();
  for (let i = 0; i < records.length; i++) {
    const record = records[i];
    const entry = /^E (\S) (\d+) (\S+) (\S+) (\d+) \.\/(.*)$/s.exec(record);
    if (entry) {
      const [, y, mode, owner, group, size, name] = entry;
      const target = records[++i];
      entries.set(name, { path: name, type: TYPES[y] ?? 'other', mode: mode.padStart(4, '0'), owner, group, size: Number(size), ...(y === 'l' ? { target } : {}) });
      continue;
    }
    const digest = /^([0-9a-f]{64}) {2}\.\/(.*)$/s.exec(record);
    if (digest) digests.set(digest[2], digest[1]);
  }
  for (const [name, sha256] of digests) {
    const e = entries.get(name);
    if (e) e.sha256 = sha256;
  }
  return { state, found: [...entries.values()].sort((a, b) => compareTreePaths(a.path, b.path)) };
}

/** Parents before children, siblings by name. */
export function compareTreePaths(a: string, b: string): number {
  const pa = a.split('/');
  const pb = b.split('/');
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) if (pa[i] !== pb[i]) return pa[i] < pb[i] ? -1 : 1;
  return pa.length - pb.length;
}

const sha256Of = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** A wanted file's digest: given, or of its content. */
export const digestOf = (w: WantedEntry) => w.sha256 ?? sha256Of(w.content ?? Buffer.alloc(0));
const join = (dest: string, rel: string) => path.posix.join(dest, rel);

/** The plan for the tree: every add, update, attribute change and removal, listed in the diff. */
export function planTree(o: TreeObserved, opts: TreeOptions, result: Record<string, unknown> = {}): Plan<TreeAction> {
  if (o.destState === 'other') throw new ModuleError(`${o.dest} exists and is not a directory`);
  const found = new Map(o.found.map((e) => [e.path, e]));
  const wantedPaths = new Set(o.wanted.map((e) => e.path));
  const action: TreeAction = { dest: o.dest, owner: o.owner, group: o.group, remove: [], mkdir: [], write: [], attributes: [] };
  const lines = { before: [] as string[], after: [] as string[] };
  const added: string[] = [];
  const updated: string[] = [];
  const contentDiffs: Diff[] = [];

  for (const w of [...o.wanted].sort((a, b) => compareTreePaths(a.path, b.path))) {
    let have = found.get(w.path);
    // A file or a link takes the place of either atomically (rename); anything else needs delete.
    const swappable = (t: string) => t === 'file' || t === 'link';
    if (have && have.type !== w.type && !(swappable(w.type) && swappable(have.type))) {
      if (!opts.delete) throw new ModuleError(`${join(o.dest, w.path)} is a ${have.type} on the host, the source has a ${w.type} there (delete: true replaces it)`);
      action.remove.push(join(o.dest, w.path));
      lines.before.push(describeHost(have));
      have = undefined;
    }
    const mode = w.mode ?? (w.type === 'directory' && !have ? opts.directoryMode : undefined);
    if (w.type === 'link') {
      if (have?.type !== 'link' || have.target !== w.target) {
        (action.link ??= []).push({ path: join(o.dest, w.path), target: w.target! });
        (have ? updated : added).push(w.path);
        if (have) lines.before.push(describeHost(have));
        lines.after.push(describeWanted(w, undefined));
      }
      continue;
    }
    if (w.type === 'directory') {
      if (!have) {
        action.mkdir.push({ path: join(o.dest, w.path), mode });
        added.push(`${w.path}/`);
        lines.after.push(describeWanted(w, mode));
        continue;
      }
    } else {
      const digest = digestOf(w);
      const content = w.content ?? Buffer.alloc(0);
      const replace = have && (have.type === 'link' || have.sha256 !== digest);
      if (!have || (replace && opts.replace)) {
        if (!w.content && w.sha256) throw new Error(`internal error: ${w.path} is to be written but its content was not read`);
        action.write.push({ path: join(o.dest, w.path), content: content.toString('base64'), mode: mode ?? (have?.type === 'file' ? have.mode : undefined) });
        (have ? updated : added).push(w.path);
        if (have) lines.before.push(describeHost(have));
        lines.after.push(describeWanted(w, mode ?? have?.mode, digest));
        if (have && contentDiffs.length < SHOWN_DIFFS) contentDiffs.push(fileDiff(join(o.dest, w.path), o.previous?.[w.path], content));
        continue;
      }
    }
    const change = attributeChange(have!, mode, o.owner, o.group);
    if (change) {
      action.attributes.push({ path: join(o.dest, w.path), ...change });
      updated.push(w.type === 'directory' ? `${w.path}/` : w.path);
      lines.before.push(describeHost(have!));
      lines.after.push(describeHost({ ...have!, ...change }));
    }
  }

  const removed: string[] = [];
  if (opts.delete) {
    const gone = o.found.filter((e) => !wantedPaths.has(e.path));
    for (const e of gone) {
      // Only the topmost of what goes: rm -r takes the rest with it.
      const under = (top: string) => e.path.startsWith(`${top.replace(/\/$/, '')}/`);
      if (removed.some(under) || action.remove.some((r) => under(r.slice(o.dest.length + 1)))) continue;
      action.remove.push(join(o.dest, e.path));
      removed.push(e.type === 'directory' ? `${e.path}/` : e.path);
      lines.before.push(describeHost(e));
    }
  }

  const total = added.length + updated.length + removed.length;
  const listing = { dest: o.dest, ...result, added, updated, removed };
  if (total === 0 && o.destState === 'directory') return { changed: false, summary: `${o.dest} holds ${o.source}`, result: listing };
  if (o.destState === 'missing') action.mkdir.unshift({ path: o.dest, mode: opts.directoryMode });
  const counts = [added.length ? `${added.length} added` : '', updated.length ? `${updated.length} updated` : '', removed.length ? `${removed.length} removed` : ''].filter(Boolean);
  const listingDiff: Diff = { target: `${o.dest}/`, before: lines.before.map((l) => `${l}\n`).join(''), after: lines.after.map((l) => `${l}\n`).join('') };
  return {
    changed: true,
    summary: `${o.destState === 'missing' ? 'create' : 'sync'} ${o.dest} from ${o.source}${counts.length ? `: ${counts.join(', ')}` : ''}`,
    diffs: [listingDiff, ...contentDiffs],
    writes: plannedWrites(action),
    action,
    result: listing,
  };
}

function attributeChange(have: HostEntry, mode: string | undefined, owner?: string, group?: string) {
  const change: { mode?: string; owner?: string; group?: string } = {};
  if (mode !== undefined && have.mode !== mode) change.mode = mode;
  if (owner !== undefined && have.owner !== owner) change.owner = owner;
  if (group !== undefined && have.group !== group) change.group = group;
  return Object.keys(change).length ? change : null;
}

function describeHost(e: Pick<HostEntry, 'path' | 'type' | 'mode' | 'owner' | 'group' | 'size' | 'sha256' | 'target'>): string {
  if (e.type === 'directory') return `${e.path}/ ${e.mode} ${e.owner}:${e.group}`;
  if (e.type === 'link') return `${e.path} -> ${e.target}`;
  if (e.type !== 'file') return `${e.path} (${e.type})`;
  return `${e.path} ${e.mode} ${e.owner}:${e.group} ${e.size} bytes${e.sha256 ? ` sha256:${e.sha256.slice(0, 12)}` : ''}`;
}

function describeWanted(w: WantedEntry, mode: string | undefined, digest?: string): string {
  const m = mode ? ` ${mode}` : '';
  if (w.type === 'directory') return `${w.path}/${m}`;
  if (w.type === 'link') return `${w.path} -> ${w.target}`;
  return `${w.path}${m}${w.content ? ` ${w.content.length} bytes` : ''} sha256:${digest!.slice(0, 12)}`;
}

/** An updated file's content before and after (the engine hides a diff that holds a secret). */
function fileDiff(target: string, before: Buffer | undefined, after: Buffer): Diff {
  return { target, before: before ? diffText(before) : '(not read: a large file, or more than 20 changed)\n', after: diffText(after) };
}

function plannedWrites(action: TreeAction): PlannedWrite[] {
  return [
    ...action.remove.map((p) => ({ path: p, content: null })),
    ...action.mkdir.map((d) => ({ path: d.path, content: null, directory: true, ...(d.mode ? { mode: d.mode } : {}) })),
    ...action.write.map((w) => ({ path: w.path, content: Buffer.from(w.content, 'base64').toString('utf8'), ...(w.mode ? { mode: w.mode } : {}) })),
  ];
}

/** Removes, makes directories, writes each file atomically, then sets attributes, in batches. */
export async function applyTree(ctx: ModuleContext, action: TreeAction): Promise<ApplyResult> {
  for (const batch of chunks(action.remove)) await execOrFail(ctx, ['rm', '-rf', '--', ...batch], `cannot remove from ${action.dest}`);
  for (const batch of chunks(action.mkdir.map((d) => d.path))) await execOrFail(ctx, ['mkdir', '-p', '--', ...batch], `cannot create directories in ${action.dest}`);
  const owned = action.owner || action.group ? `${action.owner ?? ''}${action.group ? `:${action.group}` : ''}` : undefined;
  if (owned) for (const batch of chunks(action.mkdir.map((d) => d.path))) await execOrFail(ctx, ['chown', owned, '--', ...batch], `cannot set owner ${owned} in ${action.dest}`);
  await setModes(ctx, action.dest, action.mkdir);
  const queue = [...action.write];
  const writer = async () => {
    for (let w = queue.shift(); w; w = queue.shift()) {
      await ctx.host.write(w.path, Buffer.from(w.content, 'base64'), { ...ctx.become, mode: w.mode, owner: action.owner, group: action.group });
    }
  };
  await Promise.all(Array.from({ length: Math.min(4, queue.length) }, writer));
  for (const batch of chunks(action.link ?? [])) {
    // Each link made beside its place and renamed over it: the path is never missing.
    const argv = batch.flatMap((l) => [l.target, l.path, `${path.posix.dirname(l.path)}/.${path.posix.basename(l.path)}.plinth-${randomBytes(6).toString('hex')}`]);
    await execOrFail(
      ctx,
      ['sh', '-c', 'while [ $# -gt 0 ]; do ln -s -- "$1" "$3" && mv -fT -- "$3" "$2" || { rm -f -- "$3"; exit 1; }; shift 3; done', 'plinth-link', ...argv],
      `cannot make symbolic links in ${action.dest}`,
    );
  }
  for (const a of action.attributes) {
    if (a.owner || a.group) await execOrFail(ctx, ['chown', '-h', `${a.owner ?? ''}${a.group ? `:${a.group}` : ''}`, '--', a.path], `cannot set the owner of ${a.path}`);
  }
  await setModes(ctx, action.dest, action.attributes);
  return {};
}

async function setModes(ctx: ModuleContext, dest: string, entries: { path: string; mode?: string }[]): Promise<void> {
  const byMode = new Map<string, string[]>();
  for (const e of entries) if (e.mode) byMode.set(e.mode, [...(byMode.get(e.mode) ?? []), e.path]);
  for (const [mode, paths] of byMode) for (const batch of chunks(paths)) await execOrFail(ctx, ['chmod', mode, '--', ...batch], `cannot set mode ${mode} in ${dest}`);
}

function chunks<T>(items: T[], size = 200): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
