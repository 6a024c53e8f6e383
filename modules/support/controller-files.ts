// Files that copy and template take from the controller (not from the host), looked up
// the way Ansible roles do: `<base>/<subdir>/<src>`, then `<base>/<src>`, for each base.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ModuleError } from '../../engine/types.js';
import { sources } from '../../engine/load/sources.js';

export interface ControllerFile {
  path: string;
  /** The path as users see it, relative to the repository root: the same wherever the repository is checked out. */
  name: string;
  content: Buffer;
}

export async function findControllerFile(baseDirs: string[], subdir: string, src: string): Promise<ControllerFile> {
  const candidates = path.isAbsolute(src)
    ? [src]
    : baseDirs.flatMap((base) => [path.join(base, subdir, src), path.join(base, src)]);
  for (const candidate of candidates) {
    const st = await fs.stat(candidate).catch(() => null);
    if (!st) continue;
    if (st.isDirectory()) throw new ModuleError(`src ${candidate} is a directory; copying directories is not supported`);
    const content = await fs.readFile(candidate);
    sources.record(candidate, content);
    return { path: candidate, name: sources.display(candidate), content };
  }
  throw new ModuleError(`could not find src '${src}' (looked in: ${candidates.join(', ')})`);
}
