// Builds dist/ once before the suites run: the CLI tests spawn `node bin/plinth.js`, which runs dist/.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  const r = spawnSync('npx', ['tsc', '-p', '.'], { cwd: root, encoding: 'utf8' });
  // tsc emits even with type errors; only a missing build is fatal here (typecheck is its own step).
  if (r.status !== 0) process.stderr.write(`tsc reported errors:\n${r.stdout}${r.stderr}\n`);
  if (!existsSync(path.join(root, 'dist', 'engine', 'cli', 'main.js'))) {
    throw new Error(`the build did not produce dist/engine/cli/main.js:\n${r.stdout}${r.stderr}`);
  }
}
