#!/usr/bin/env node
// The goals of issue 20 in one run, each beside its floor (and Ansible where it can run the
// workload): the fleet bench at 1 host (plinth, Ansible, the batched-shell floor), the fleet
// bench at 500 hosts (plinth and the floor), and the lab bench (the blog's 4 hosts, a lab of its
// own: --check on bare hosts, converge, no-op re-run, plan of a one-setting change). Prints the
// goal table, then each bench's own table. Not a test: nothing passes or fails on timing.
//
//   npm run build && node bench/goals.mjs [--runs 5] [--ansible-runs 3] [--fleet-hosts 500] [--lab NAME]
//       [--skip-lab] [--skip-fleet] [--before DIR]
// --lab NAME: the lab the lab bench brings up and takes down (default: bench; never default or test);
// --before DIR: another built checkout, measured beside this one in every bench.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BENCH, parseOptions, ratio, seconds } from './lib.mjs';

const o = parseOptions(process.argv.slice(2), {
  script: import.meta.url,
  defaults: { runs: 5, ansibleRuns: 3, fleetHosts: 500, lab: 'bench', skipLab: false, skipFleet: false, before: undefined },
  values: {
    '--runs': (o, v) => (o.runs = Number(v)),
    '--ansible-runs': (o, v) => (o.ansibleRuns = Number(v)),
    '--fleet-hosts': (o, v) => (o.fleetHosts = Number(v)),
    '--lab': (o, v) => (o.lab = v),
    '--before': (o, v) => (o.before = path.resolve(v)),
  },
  flags: { '--skip-lab': (o) => (o.skipLab = true), '--skip-fleet': (o) => (o.skipFleet = true) },
});
if (['default', 'test'].includes(o.lab)) throw new Error('--lab: a lab of its own, not "default" nor "test"');

const dir = mkdtempSync(path.join(os.tmpdir(), 'plinth-goals-'));
const before = o.before ? ['--before', o.before] : [];

/** Runs one bench script; its table goes to our stdout after the goals, its progress to stderr. */
function bench(script, args, env = process.env) {
  const summary = path.join(dir, `${path.basename(script, '.mjs')}-${Math.random().toString(36).slice(2)}.json`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(BENCH, script), ...args, '--summary', summary], { env, stdio: ['ignore', 'pipe', 'inherit'] });
    const out = [];
    child.stdout.on('data', (b) => out.push(b));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) return reject(new Error(`${script} ${args.join(' ')}: exit ${code}`));
      resolve({ table: Buffer.concat(out).toString('utf8'), ...JSON.parse(readFileSync(summary, 'utf8')) });
    });
  });
}

const goals = [];
/**
 * A goal row: what was measured, its floor, and whether the goal holds (undefined: a figure, no
 * goal). A bench that printed a WARNING (a run failed, wrong change counts) measured nothing valid.
 */
function goal(summary, name, measured, detail, met) {
  const verdict = summary.warnings.length ? '**no valid figure**: WARNING in its table' : met === undefined ? '' : met ? 'met' : '**not met**';
  goals.push(`| ${name} | ${measured} | ${detail} | ${verdict} |`);
}
const row = (summary, match) => summary.rows.find((r) => Object.entries(match).every(([k, v]) => r[k] === v));
const tables = [];

try {
  if (!o.skipFleet) {
    const one = await bench('fleet.mjs', ['--hosts', '1', '--runs', String(o.runs), '--ansible-runs', String(o.ansibleRuns), ...before]);
    tables.push('### Fleet, one host', one.table);
    const noop = row(one, { hosts: 1, scenario: 'noop' });
    const r = noop.plinth.wall / noop.floor.wall;
    goal(one, 'one-host no-op ≤ 1.2x the floor', seconds(noop.plinth.wall), `floor ${seconds(noop.floor.wall)}: ${ratio(noop.plinth.wall, noop.floor.wall)}; Ansible ${seconds(noop.ansible?.wall)}`, r <= 1.2);

    const many = await bench('fleet.mjs', ['--hosts', String(o.fleetHosts), '--runs', '1', '--skip-ansible', '--scenarios', 'noop', '--addresses', '127.20.1', ...before]);
    tables.push(`### Fleet, ${o.fleetHosts} hosts`, many.table);
    const big = row(many, { hosts: o.fleetHosts, scenario: 'noop' });
    goal(many, `no-op at ${o.fleetHosts} hosts ≤ 1.0x the floor`, seconds(big.plinth.wall), `floor ${seconds(big.floor.wall)}: ${ratio(big.plinth.wall, big.floor.wall)}`, big.plinth.wall <= big.floor.wall);
    goal(many, `memory at ${o.fleetHosts} hosts under 400 MB`, `${big.plinth.rss.toFixed(0)} MB`, 'peak RSS of the plinth process', big.plinth.rss < 400);
  }
  if (!o.skipLab) {
    const lab = await bench('lab.mjs', ['--runs', String(o.runs), '--scenarios', 'check,converge,noop,plan', ...before], { ...process.env, PLINTH_LAB_NAME: o.lab });
    tables.push('### Lab (the blog\'s 4 hosts)', lab.table);
    const noop = row(lab, { scenario: 'noop' });
    goal(lab, 'lab no-op re-run of site.yml under 3 s', seconds(noop.plinth.wall), `first result ${seconds(noop.plinth.first)}; \`ssh true\` floor ${seconds(noop.floor.wall)}`, noop.plinth.wall < 3);
    const plan = row(lab, { scenario: 'plan' });
    goal(lab, '`plan` of a one-setting change under 4 s', seconds(plan.plinth.wall), `first result ${seconds(plan.plinth.first)}; floor ${seconds(plan.floor.wall)}`, plan.plinth.wall < 4);
    const check = row(lab, { scenario: 'check' });
    goal(lab, '`--check --diff` on bare hosts', seconds(check.plinth.wall), `first result ${seconds(check.plinth.first)}; floor ${seconds(check.floor.wall)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(['', `- load average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`, '', '| goal (issue 20) | plinth | beside it | |', '|---|---|---|---|', ...goals, '', ...tables].join('\n'));
