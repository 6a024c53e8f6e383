#!/usr/bin/env node
// Bundles the built CLI (dist/engine/cli/main.js and everything it imports, libraries included)
// into a few files in dist/bundle/, which bin/plinth.js runs: node then reads and compiles a few
// files at start instead of about 250 (measured on one host: about 0.04 s of CPU less per run, the
// largest share of a one-host run's start). Modules and rarely used commands stay in chunks of
// their own, loaded when used; ssh2 is inside too, its native addons loaded from node_modules.
// Run after tsc and scripts/build-validators.mjs (npm run build runs all three):
//
//   node scripts/bundle.mjs [DIST]      (default: dist; writes DIST/bundle/)
import { readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.resolve(root, process.argv[2] ?? 'dist');
const out = path.join(dist, 'bundle');

/** A native addon (ssh2's sshcrypto.node) is loaded from where npm built it, by a path relative to the bundle. */
const nativeAddonsInPlace = {
  name: 'native-addons-in-place',
  setup(build) {
    build.onResolve({ filter: /\.node$/ }, (args) => ({
      path: `./${path.relative(out, path.resolve(args.resolveDir, args.path))}`,
      external: true,
    }));
  },
};
rmSync(out, { recursive: true, force: true });
/**
 * ssh2 compiles a WebAssembly Poly1305 at load, and every connection waits for it, though only its
 * JavaScript ChaCha20 (used when its native addon did not build) calls it: it is compiled only then.
 */
const ssh2WasmOnlyWithoutAddon = {
  name: 'ssh2-wasm-only-without-addon',
  setup(build) {
    build.onLoad({ filter: /[\\/]ssh2[\\/]lib[\\/]protocol[\\/]crypto\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const init = 'return new Promise(async (resolve, reject) => {';
      if (source.split(init).length !== 2) throw new Error(`${args.path}: ssh2's crypto init changed; see ssh2WasmOnlyWithoutAddon`);
      return { contents: source.replace(init, `${init}\n      if (binding) return resolve();`), loader: 'js' };
    });
  },
};

await build({
  entryPoints: [path.join(dist, 'engine', 'cli', 'main.js')],
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: ['cpu-features', 'pg-native'],
  plugins: [nativeAddonsInPlace, ssh2WasmOnlyWithoutAddon],
  // The CommonJS libraries inside (yaml, ssh2, ...) call require() for node's own modules, and
  // ssh2's WebAssembly fallback reads __dirname.
  banner: {
    js: [
      "import { createRequire as plinthCreateRequire } from 'node:module';",
      "import { fileURLToPath as plinthFileURLToPath } from 'node:url';",
      'const require = plinthCreateRequire(import.meta.url);',
      'const __filename = plinthFileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
  logLevel: 'warning',
});
