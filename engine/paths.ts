// Where plinth itself is installed: the folder of its package.json (from dist/ or from the sources).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'modules'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find plinth's own folder");
    dir = parent;
  }
  return dir;
}

export const PLINTH_ROOT = findRoot();

/**
 * A file the build puts beside a module's compiled JavaScript (`dist/<folder>/<file>`), for the
 * module whose import.meta.url is given. Run from the bundle (dist/bundle/, scripts/bundle.mjs),
 * the module's code is in dist/bundle/: the file is where tsc's output of that module is.
 */
export function besideBuild(moduleUrl: string, folder: string, file: string): string {
  const here = path.dirname(fileURLToPath(moduleUrl));
  return path.basename(here) === 'bundle' ? path.join(here, '..', folder, file) : path.join(here, file);
}
