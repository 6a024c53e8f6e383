#!/usr/bin/env node
// Where a run's wall time went, from its --json output: each task's slowest host (a linear
// play waits for it), in run order, with the share of the run. A task on several hosts counts
// once, with its slowest host.
//
//   node bin/plinth.js run ... --json > run.jsonl && node bench/json-tasks.mjs run.jsonl [--top N]
import { readFileSync } from 'node:fs';
import { jsonEvents } from './lib.mjs';

const [file, ...rest] = process.argv.slice(2);
if (!file) throw new Error('usage: node bench/json-tasks.mjs RUN.jsonl [--top N]');
const top = rest[0] === '--top' ? Number(rest[1]) : Infinity;
const events = jsonEvents(readFileSync(file, 'utf8'));
const tasks = new Map();
for (const e of events.filter((x) => x.type === 'result')) {
  const key = `${e.play} | ${e.task}${e.handler ? ' (handler)' : ''}`;
  const t = tasks.get(key) ?? { key, module: e.module, slowest: 0, host: '', hosts: 0 };
  t.hosts++;
  if (e.duration_ms >= t.slowest) Object.assign(t, { slowest: e.duration_ms, host: e.host });
  tasks.set(key, t);
}
const total = events.find((e) => e.type === 'recap')?.duration_ms ?? NaN;
const sum = [...tasks.values()].reduce((n, t) => n + t.slowest, 0);
const rows = [...tasks.values()].sort((a, b) => b.slowest - a.slowest).slice(0, top);
console.log(`run ${total} ms (engine's own clock); slowest hosts of the tasks add up to ${sum} ms\n`);
console.log('| ms | share | module | task | slowest host | hosts |\n|---|---|---|---|---|---|');
for (const t of rows) console.log(`| ${t.slowest} | ${((t.slowest / total) * 100).toFixed(0)} % | ${t.module} | ${t.key} | ${t.host} | ${t.hosts} |`);
