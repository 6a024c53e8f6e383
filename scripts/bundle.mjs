#!/usr/bin/env node
// Bundles the built CLI (dist/engine/cli/main.js and everything it imports, libraries included)
// into a few files in dist/bundle/, which bin/plinth.js runs: node then reads and compiles a few
// files at start instead of about 250 (measured on one host: about 0.04 s of CPU less per run, the
// largest share of a one-host run's start). Modules and rarely used commands stay in chunks of
// their own, loaded when used. ssh2 stays outside: it loads a native addon. Run after tsc and
// scripts/build-validators.mjs (npm run build runs all three):
//
//   node scripts/bundle.mjs [DIST]      (default: dist; writes DIST/bundle/)
import { rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.argv[2] ?? 'dist');
const out = path.join(dist, 'bundle');
rmSync(out, { recursive: true, force: true });
await build({
  entryPoints: [path.join(dist, 'engine', 'cli', 'main.js')],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['ssh2', 'cpu-features', 'pg-native'],
  // The CommonJS libraries inside (yaml, commander, ...) call require() for node's own modules.
  banner: { js: "import { createRequire as plinthCreateRequire } from 'node:module'; const require = plinthCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});
