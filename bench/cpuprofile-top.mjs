#!/usr/bin/env node
// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by file, and
// inclusive (total) time of the functions under a path filter.
//   node bench/cpuprofile-top.mjs FILE.cpuprofile [--top 25] [--inclusive engine/] [--callers NAME]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const file = args[0];
const top = Number(args[args.indexOf('--top') + 1] || 25) || 25;
const inclusiveFilter = args.includes('--inclusive') ? args[args.indexOf('--inclusive') + 1] : undefined;
if (!file) {
  console.error('usage: cpuprofile-top.mjs FILE.cpuprofile [--top N] [--inclusive PATH_PART]');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

// Sample i lasted timeDeltas[i + 1] microseconds.
const selfUs = new Map();
for (let i = 0; i < profile.samples.length; i++) {
  const dt = profile.timeDeltas[i + 1] ?? 0;
  selfUs.set(profile.samples[i], (selfUs.get(profile.samples[i]) ?? 0) + dt);
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const short = (url) => url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/)/, '$1').replace(/^.*\/dist\//, 'dist/');
const label = (cf) => `${cf.functionName || '(anonymous)'} ${short(cf.url)}:${cf.lineNumber + 1}`;
const pct = (us) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;

function tally(key) {
  const m = new Map();
  for (const [id, us] of selfUs) {
    const k = key(byId.get(id).callFrame);
    m.set(k, (m.get(k) ?? 0) + us);
  }
  return [...m].sort((a, b) => b[1] - a[1]);
}

console.log(`${file}: ${(total / 1000).toFixed(0)} ms of samples (wall ${((profile.endTime - profile.startTime) / 1000).toFixed(0)} ms)`);
console.log('\nself time by function:');
for (const [k, us] of tally(label).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
console.log('\nself time by file:');
for (const [k, us] of tally((cf) => short(cf.url) || cf.functionName).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);

if (inclusiveFilter !== undefined) {
  // Inclusive: a sample counts once for every distinct function on its stack.
  const incl = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const dt = profile.timeDeltas[i + 1] ?? 0;
    const seen = new Set();
    for (let id = profile.samples[i]; id !== undefined; id = parent.get(id)) {
      const cf = byId.get(id).callFrame;
      if (!cf.url.includes(inclusiveFilter)) continue;
      const k = label(cf);
      if (seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  console.log(`\ninclusive time, functions in files matching '${inclusiveFilter}':`);
  for (const [k, us] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
}

const callersOf = args.includes('--callers') ? args[args.indexOf('--callers') + 1] : undefined;
if (callersOf !== undefined) {
  // For samples whose leaf is `callersOf`, the first few frames above it.
  const paths = new Map();
  for (let i = 0; i < profile.samples.length; i++) {
    const leaf = byId.get(profile.samples[i]);
    if ((leaf.callFrame.functionName || '(anonymous)') !== callersOf) continue;
    const chain = [];
    for (let id = parent.get(leaf.id); id !== undefined && chain.length < 8; id = parent.get(id)) chain.push(label(byId.get(id).callFrame));
    const k = chain.join('\n      <- ');
    paths.set(k, (paths.get(k) ?? 0) + (profile.timeDeltas[i + 1] ?? 0));
  }
  console.log(`\ncall paths into ${callersOf}:`);
  for (const [k, us] of [...paths].sort((a, b) => b[1] - a[1]).slice(0, 6)) console.log(`  ${pct(us)}  ${k}`);
}
