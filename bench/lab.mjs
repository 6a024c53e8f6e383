#!/usr/bin/env node
// The lab benchmark of issue 20: where a user of the blog's cluster waits. On a lab of its own
// (the blog's 4 hosts, brought up fresh), it measures plinth's `--check` on bare hosts, the
// converge, the no-op re-run of site.yml, `plan` of a one-setting change on the converged
// cluster, and add-replica (a 5th host), each beside the floor: one plain `ssh host true` to
// every host of the run at once. Prints a Markdown table (wall, CPU, time to the first result,
// ratio to the floor). Not a test: nothing passes or fails on timing.
//
//   npm run build && PLINTH_LAB_NAME=h20 node bench/lab.mjs [--runs 3] [--scenarios check,noop,plan,add-replica]
//       [--node-arg ARG]... [--cpu-prof DIR] [--reuse] [--keep-lab] [--before DIR] [--plinth DIR]
// --plinth DIR: the checkout (built) whose plinth is measured (default: this one; a copy keeps a
// rebuild of this work tree, e.g. by vitest, out of a running benchmark);
// --before DIR: another checkout of plinth (built), e.g. the commit before a change: its runs are
// interleaved with this checkout's in the repeatable scenarios (check, no-op, plan) and shown beside them;
// --reuse: the lab is up and converged already (check and add-replica are then skipped);
// --keep-lab: leave the lab up at the end (default: `lab down`); --json-dir DIR: keep each plinth run's --json output there;
// --summary FILE: the medians as JSON too (bench/goals.mjs reads them).
import { chmodSync, copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import * as os from 'node:os';
import * as path from 'node:path';
import * as YAML from 'yaml';
import { REPO, jsonEvents, machine, median, medians, parseOptions, ratio, seconds, timed, timedPlinth } from './lib.mjs';

const SCENARIOS = ['check', 'converge', 'noop', 'plan', 'add-replica'];
const LABEL = {
  check: '`--check --diff` on bare hosts',
  converge: 'converge from bare hosts',
  noop: 'no-op re-run of site.yml',
  plan: '`plan` of a one-setting change',
  'add-replica': 'add-replica (a 5th host joins)',
};
/** Measured `--runs` times; the others change the lab, so they happen once. */
const REPEATABLE = new Set(['check', 'noop', 'plan']);
const FIRST_RESULT = /^\{"type":"result"/;

function parseArgs(argv) {
  const o = parseOptions(argv, {
    script: import.meta.url,
    defaults: { runs: 3, scenarios: SCENARIOS, cpuProf: undefined, reuse: false, keepLab: false, before: undefined, jsonDir: undefined, plinth: REPO },
    values: {
      '--runs': (o, v) => (o.runs = Number(v)),
      '--scenarios': (o, v) => (o.scenarios = v.split(',')),
      '--cpu-prof': (o, v) => (o.cpuProf = path.resolve(v)),
      '--before': (o, v) => (o.before = path.resolve(v)),
      '--json-dir': (o, v) => (o.jsonDir = path.resolve(v)),
      '--plinth': (o, v) => (o.plinth = path.resolve(v)),
      '--summary': (o, v) => (o.summary = path.resolve(v)),
    },
    flags: { '--reuse': (o) => (o.reuse = true), '--keep-lab': (o) => (o.keepLab = true) },
  });
  if (o.scenarios.some((s) => !SCENARIOS.includes(s))) throw new Error(`--scenarios: some of ${SCENARIOS.join(',')}`);
  if (o.reuse) o.scenarios = o.scenarios.filter((s) => s === 'noop' || s === 'plan');
  return o;
}

const lab = process.env.PLINTH_LAB_NAME;

async function plinthCli(args, extra = {}) {
  const r = await timed(process.execPath, ['bin/plinth.js', ...args], { env: { ...process.env, PLINTH_LAB_NAME: lab }, ...extra });
  if (r.code !== 0) throw new Error(`plinth ${args.join(' ')}: exit ${r.code}\n${r.stderr.slice(-3000)}`);
  return r;
}

/** The lab's hosts as its inventory names them: name → its ansible_host, key and known_hosts. */
function hostsOf(inventoryFile) {
  const hosts = {};
  const visit = (group) => {
    for (const [name, vars] of Object.entries(group?.hosts ?? {})) if (vars) hosts[name] = { ...hosts[name], ...vars };
    for (const child of Object.values(group?.children ?? {})) visit(child);
  };
  visit(YAML.parse(readFileSync(inventoryFile, 'utf8')).all);
  return hosts;
}

/** The floor: one fresh `ssh host true` to each host, all at once; wall until the last, first = the first. */
async function floor(inventoryFile, names) {
  const hosts = hostsOf(inventoryFile);
  const start = process.hrtime.bigint();
  const runs = await Promise.all(names.map(async (name) => {
    const h = hosts[name];
    const r = await timed('ssh', [
      '-F', '/dev/null', '-i', h.ansible_ssh_private_key_file, '-o', `UserKnownHostsFile=${h.plinth_known_hosts_file}`,
      '-o', 'StrictHostKeyChecking=yes', '-o', 'BatchMode=yes', `root@${h.ansible_host}`, 'true',
    ], { measure: true });
    if (r.code !== 0) throw new Error(`ssh ${name} true: exit ${r.code}: ${r.stderr}`);
    return { ...r, end: Number(process.hrtime.bigint() - start) / 1e9 };
  }));
  return {
    seconds: Math.max(...runs.map((r) => r.end)),
    firstSeconds: Math.min(...runs.map((r) => r.end)),
    cpu: runs.reduce((n, r) => n + r.cpu, 0),
  };
}

class Bench {
  constructor(options, dir) {
    this.options = options;
    this.dir = dir;
    this.inventory = path.join(dir, 'inventory.yml');
    this.secrets = path.join(dir, 'secrets.yml');
    this.rows = {};
    this.warnings = [];
    this.profiles = 0;
    this.jsonRuns = 0;
  }

  async plinth(scenario, args, checkout = this.options.plinth) {
    const r = await timedPlinth(checkout, [...args, '--json'], {
      nodeArgs: this.options.nodeArgs, cpuProf: this.options.cpuProf, profile: `lab-${scenario}-${++this.profiles}`,
      cwd: REPO, firstLine: FIRST_RESULT, env: { ...process.env, PLINTH_LAB_NAME: lab },
    });
    if (this.options.jsonDir) {
      mkdirSync(this.options.jsonDir, { recursive: true });
      writeFileSync(path.join(this.options.jsonDir, `${scenario}-${checkout === this.options.plinth ? 'plinth' : 'before'}-${++this.jsonRuns}.jsonl`), r.stdout);
    }
    const recap = jsonEvents(r.stdout).find((e) => e.type === 'recap');
    const counts = { changed: 0, failed: 0, unreachable: 0, unknown: 0 };
    for (const c of Object.values(recap?.hosts ?? {})) for (const k of Object.keys(counts)) counts[k] += c[k] ?? 0;
    return { ...r, recap, counts };
  }

  site(extra = [], inventory = this.inventory, playbook = 'playbooks/site.yml') {
    return ['run', '-i', inventory, playbook, '-e', `@${this.secrets}`, ...extra];
  }

  record(scenario, tool, r) {
    const slot = ((this.rows[scenario] ??= {})[tool] ??= { wall: [], cpu: [], first: [], rss: [] });
    slot.wall.push(r.seconds);
    slot.cpu.push(r.cpu);
    slot.first.push(r.firstSeconds);
    if (r.rssMb !== undefined) slot.rss.push(r.rssMb);
    const extra = r.counts ? `  changed ${r.counts.changed}, unknown ${r.counts.unknown}` : '';
    console.error(`  ${scenario.padEnd(11)} ${tool.padEnd(6)} wall ${r.seconds.toFixed(2)} s  cpu ${r.cpu.toFixed(2)} s  first ${Number.isFinite(r.firstSeconds) ? r.firstSeconds.toFixed(2) : '–'} s${extra}`);
  }

  expect(scenario, r, want) {
    const bad = [];
    if (r.code !== want.code) bad.push(`exit ${r.code}, expected ${want.code}`);
    if (!r.recap) bad.push('no recap');
    if (r.counts.failed || r.counts.unreachable) bad.push(`${r.counts.failed} failed, ${r.counts.unreachable} unreachable`);
    if (want.changed !== undefined && r.counts.changed !== want.changed) bad.push(`${r.counts.changed} changed, expected ${want.changed}`);
    if (want.someChanged && r.counts.changed + r.counts.unknown === 0) bad.push('no change reported');
    if (!bad.length) return;
    const line = `WARNING: ${scenario}: ${bad.join('; ')}`;
    this.warnings.push(line);
    console.error(`${line}\n    ${r.stderr.trim().split('\n').slice(-6).join('\n    ')}`);
  }

  /** `runs` rounds of plinth then the floor, interleaved, so that load spikes hit both. */
  async sideBySide(scenario, args, hosts, want) {
    const runs = REPEATABLE.has(scenario) ? this.options.runs : 1;
    for (let i = 0; i < runs; i++) {
      const r = await this.plinth(scenario, args);
      this.expect(scenario, r, want);
      this.record(scenario, 'plinth', r);
      if (this.options.before && REPEATABLE.has(scenario)) {
        const b = await this.plinth(scenario, args, this.options.before);
        this.expect(`${scenario} (before)`, b, want);
        this.record(scenario, 'before', b);
      }
      this.record(scenario, 'floor', await floor(this.inventory, hosts));
    }
  }

  async run() {
    const s = this.options.scenarios;
    const has = (x) => s.includes(x);
    const baseHosts = ['pg-primary', 'pg-replica-1', 'pg-replica-2', 'pgpool'];
    if (!this.options.reuse) {
      console.error(`lab ${lab}: fresh (down, then up)`);
      await plinthCli(['lab', 'down']);
      await plinthCli(['lab', 'up', '--write-inventory', this.inventory]);
    } else {
      await plinthCli(['lab', 'status']);
      writeFileSync(this.inventory, readFileSync(`/var/lib/plinth-lab/labs/${lab}/inventory.yml`));
    }
    if (has('check')) await this.sideBySide('check', this.site(['--check', '--diff']), baseHosts, { code: 0, someChanged: true });
    if (!this.options.reuse) {
      const converge = await this.plinth('converge', this.site());
      this.expect('converge', converge, { code: 0, someChanged: true });
      if (has('converge')) {
        this.record('converge', 'plinth', converge);
        this.record('converge', 'floor', await floor(this.inventory, baseHosts));
      }
    }
    if (has('noop')) await this.sideBySide('noop', this.site(), baseHosts, { code: 0, changed: 0 });
    if (has('plan')) {
      const setting = JSON.stringify({ pg_extra_settings: { work_mem: '7MB' } });
      const args = ['plan', '-i', this.inventory, 'playbooks/site.yml', '-e', `@${this.secrets}`, '-e', setting, '-o', path.join(this.dir, 'plan.json'), '--detailed-exitcode'];
      await this.sideBySide('plan', args, baseHosts, { code: 2, someChanged: true });
    }
    if (has('add-replica')) {
      const userInventory = path.join(this.dir, 'five-hosts.yml');
      writeFileSync(userInventory, [
        'all:', '  children:',
        '    primary: {hosts: {pg-primary: null}}',
        '    replicas: {hosts: {pg-replica-1: null, pg-replica-2: null, pg-replica-3: null}}',
        '    pgpool: {hosts: {pgpool: null}}', '',
      ].join('\n'));
      await plinthCli(['lab', 'up', '--inventory', userInventory, '--write-inventory', this.inventory]);
      await this.sideBySide('add-replica', this.site([], this.inventory, 'playbooks/add-replica.yml'), [...baseHosts, 'pg-replica-3'], { code: 0, someChanged: true });
    }
  }

  /** The medians of every scenario and tool, for bench/goals.mjs (--summary FILE). */
  summary(header) {
    const rows = Object.entries(this.rows).map(([scenario, r]) => ({
      scenario,
      hosts: scenario === 'add-replica' ? 5 : 4,
      plinth: medians(r.plinth),
      before: medians(r.before),
      floor: medians(r.floor),
    }));
    return { machine: header, rows, warnings: this.warnings };
  }

  table() {
    const before = this.options.before !== undefined;
    const out = [
      `| scenario | hosts | plinth wall | plinth CPU | plinth first result | plinth peak RSS | \`ssh host true\` floor | plinth/floor |${before ? ' before: wall | before: CPU | before: first result | before/floor | plinth/before |' : ''} runs |`,
      `|---|---|---|---|---|---|---|---|${before ? '---|---|---|---|---|' : ''}---|`,
    ];
    const none = { wall: [], cpu: [], first: [], rss: [] };
    for (const scenario of SCENARIOS) {
      const row = this.rows[scenario];
      if (!row) continue;
      const p = row.plinth ?? none;
      const f = row.floor ?? none;
      const b = row.before ?? none;
      const wall = median(p.wall);
      const floorWall = median(f.wall);
      const beforeCells = before ? ` ${seconds(median(b.wall))} | ${seconds(median(b.cpu))} | ${seconds(median(b.first))} | ${ratio(median(b.wall), floorWall)} | ${ratio(wall, median(b.wall))} |` : '';
      out.push(`| ${LABEL[scenario]} | ${scenario === 'add-replica' ? 5 : 4} | ${seconds(wall)} | ${seconds(median(p.cpu))} | ${seconds(median(p.first))} | ${p.rss.length ? `${Math.max(...p.rss).toFixed(0)} MB` : '–'} | ${seconds(floorWall)} (CPU ${seconds(median(f.cpu))}) | ${ratio(wall, floorWall)} |${beforeCells} ${p.wall.length} |`);
    }
    return out.join('\n');
  }
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!lab || lab === 'default' || lab === 'test') throw new Error('set PLINTH_LAB_NAME to a lab of your own (not "default", not "test")');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plinth-lab-bench-'));
  chmodSync(dir, 0o700);
  // The lab's secrets outlive a run that keeps the lab up: --reuse needs the ones it was converged with.
  const kept = path.join(os.tmpdir(), `plinth-lab-bench-${lab}.secrets.yml`);
  const secret = () => randomBytes(18).toString('base64url');
  if (!options.reuse || !existsSync(kept)) {
    writeFileSync(kept, `replicator_password: "${secret()}"\npgpool_key: "${secret()}"\napp_password: "${secret()}"\n`, { mode: 0o600 });
  }
  copyFileSync(kept, path.join(dir, 'secrets.yml'));
  const bench = new Bench(options, dir);
  const header = machine();
  let failure;
  try {
    await bench.run();
  } catch (e) {
    failure = e;
    console.error(e instanceof Error ? e.stack : e);
  } finally {
    if (!options.keepLab) {
      await plinthCli(['lab', 'down']).catch((e) => console.error(`lab down: ${e.message}`));
      rmSync(kept, { force: true });
    }
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(['', ...header.map((l) => `- ${l}`), `- lab: ${lab}; load average at the end ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`, '', bench.table(), '', ...bench.warnings.map((w) => `- ${w}`)].join('\n'));
  if (options.summary) writeFileSync(options.summary, JSON.stringify(bench.summary(header), null, 1));
  if (failure) throw failure;
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
