#!/usr/bin/env node
// Runs the bundle of the build (npm run build: dist/bundle/, a few files to load instead of
// hundreds), or tsc's output when the bundle is missing or older than it (`npx tsc` alone).
import { statSync } from 'node:fs';

const built = (file) => statSync(new URL(file, import.meta.url), { throwIfNoEntry: false })?.mtimeMs ?? -1;
const bundled = built('../dist/bundle/main.js') >= built('../dist/engine/cli/main.js');
await import(bundled ? '../dist/bundle/main.js' : '../dist/engine/cli/main.js');
