// Files that copy and template take from the controller (not from the host), looked up
// the way Ansible roles do: `<base>/<subdir>/<src>`, then `<base>/<src>`, for each base.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModuleError, type ModuleContext } from '../../engine/types.js';

/** What the lookups need of a task's context: where to look, and the run's record of what was read. */
type LookupContext = Pick<ModuleContext, 'baseDirs' | 'controllerFiles'>;

export interface ControllerFile {
  path: string;
  /** The path as users see it, relative to the repository root: the same wherever the repository is checked out. */
  name: string;
  content: Buffer;
}

export async function findControllerFile(ctx: LookupContext, subdir: string, src: string): Promise<ControllerFile> {
  const found = await findControllerPath(ctx, subdir, src);
  if (found.directory) throw new ModuleError(`src ${found.path} is a directory; copying directories is not supported`);
  const content = await fs.readFile(found.path);
  ctx.controllerFiles.record(found.path, content);
  return { path: found.path, name: ctx.controllerFiles.display(found.path), content };
}

/** The first candidate that exists, file or directory. */
export async function findControllerPath(ctx: LookupContext, subdir: string, src: string): Promise<{ path: string; directory: boolean }> {
  const candidates = path.isAbsolute(src) ? [src] : ctx.baseDirs.flatMap((base) => [path.join(base, subdir, src), path.join(base, src)]);
  for (const candidate of candidates) {
    const st = await fs.stat(candidate).catch(() => null);
    if (st) return { path: candidate, directory: st.isDirectory() };
  }
  throw new ModuleError(`src '${src}' not found; looked in: ${candidates.join(', ')}`);
}

interface ControllerTreeEntry {
  /** Below the directory, POSIX separators. */
  path: string;
  type: 'file' | 'directory' | 'link';
  /** A link's target (with links: 'keep'). */
  target?: string;
  /** Permission bits, four octal digits. */
  mode: string;
  content?: Buffer;
}

/**
 * Every file and directory below `dir`, parents first; `skip` leaves a path and everything below
 * it out. Symbolic links are followed (copy's local_follow, rsync's copy_links), kept as links
 * (rsync's links), or left out (rsync without either).
 */
export async function readControllerTree(
  ctx: LookupContext,
  dir: string,
  skip: (rel: string, directory: boolean) => boolean = () => false,
  links: 'follow' | 'keep' | 'skip' = 'follow',
): Promise<ControllerTreeEntry[]> {
  const out: ControllerTreeEntry[] = [];
  const walk = async (rel: string, seen: Set<string>): Promise<void> => {
    const names = (await fs.readdir(path.join(dir, rel))).sort();
    for (const name of names) {
      const child = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, child);
      if (links !== 'follow' && (await fs.lstat(full)).isSymbolicLink()) {
        if (links === 'keep' && !skip(child, false)) out.push({ path: child, type: 'link', mode: '0777', target: await fs.readlink(full) });
        continue;
      }
      const st = await fs.stat(full).catch(() => null);
      if (!st) throw new ModuleError(`src ${full} is a broken symbolic link`);
      if (skip(child, st.isDirectory())) continue;
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isDirectory()) {
        const real = await fs.realpath(full);
        if (seen.has(real)) throw new ModuleError(`src ${full} is a symbolic link loop`);
        out.push({ path: child, type: 'directory', mode });
        await walk(child, new Set([...seen, real]));
      } else if (st.isFile()) {
        const content = await fs.readFile(full);
        ctx.controllerFiles.record(full, content);
        out.push({ path: child, type: 'file', mode, content });
      }
    }
  };
  await walk('', new Set([await fs.realpath(dir)]));
  return out;
}
