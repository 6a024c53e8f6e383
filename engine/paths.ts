// Where plinth itself is installed: the folder of its package.json (from dist/ or from the sources).
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) || !existsSync(path.join(dir, 'modules'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('cannot find plinth\'s own folder');
    dir = parent;
  }
  return dir;
}

export const PLINTH_ROOT = findRoot();
