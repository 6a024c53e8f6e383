// Builds dist/ once before the suites run: the CLI tests spawn `node bin/plinth.js`, which runs dist/.
// Several people share this work tree, so the build goes to a private folder first and each changed
// file is then moved into dist/ by rename: a CLI started meanwhile never reads a half-written file.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, copyFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export default function setup(): void {
  // Same depth as dist/, so that the source maps' relative paths stay right.
  const out = mkdtempSync(path.join(root, '.dist-build-'));
  try {
    const r = spawnSync('npx', ['tsc', '-p', '.', '--outDir', out], { cwd: root, encoding: 'utf8' });
    // tsc emits even with type errors; only a missing build is fatal here (typecheck is its own step).
    if (r.status !== 0) process.stderr.write(`tsc reported errors:\n${r.stdout}${r.stderr}\n`);
    if (!existsSync(path.join(out, 'engine', 'cli', 'main.js'))) {
      throw new Error(`the build did not produce engine/cli/main.js:\n${r.stdout}${r.stderr}`);
    }
    // The validators compiled at build time, as `npm run build` makes them.
    const v = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-validators.mjs'), out], { cwd: root, encoding: 'utf8' });
    if (v.status !== 0) process.stderr.write(`build-validators failed:\n${v.stderr}\n`);
    // And the bundle bin/plinth.js runs (without it, bin/plinth.js runs tsc's output).
    const b = spawnSync(process.execPath, [path.join(root, 'scripts', 'bundle.mjs'), out], { cwd: root, encoding: 'utf8' });
    if (b.status !== 0) process.stderr.write(`bundle failed:\n${b.stderr}\n`);
    sync(out, path.join(root, 'dist'));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

function sync(from: string, to: string): void {
  mkdirSync(to, { recursive: true });
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) {
      sync(src, dst);
      continue;
    }
    const same = existsSync(dst) && readFileSync(dst).equals(readFileSync(src));
    if (same) continue;
    const tmp = `${dst}.${process.pid}.tmp`;
    copyFileSync(src, tmp);
    renameSync(tmp, dst);
  }
}
