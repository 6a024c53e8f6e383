#!/usr/bin/env node
// The fleet benchmark of issue 3: K sshd processes on 127.0.1.X:22 (past 250 hosts, more sshd
// on the same addresses, ports 2222, 2223, ...), the pg-node workload run
// by plinth, Ansible (pipelining on) and the batched-shell floor, each as a whole process.
// Prints a Markdown table of median wall times and ratios. Not a test: nothing here passes or
// fails on timing; wrong change counts print a WARNING line.
//
//   npm run build && node bench/fleet.mjs [--hosts 1,16,64] [--runs 3] [--ansible-runs N]
//       [--ansible-runs-64 1] [--skip-ansible] [--skip-floor] [--scenarios converge,noop,check]
//       [--cpu-prof DIR] [--node-arg ARG]... [--keep] [--addresses 127.0.1] [--plinth DIR] [--before DIR]
//   node bench/fleet.mjs --slow-host SECONDS [--hosts 16] [--runs 3]
//       strategy linear vs free when the first host's first task takes SECONDS longer (plinth only)
// --node-arg passes ARG to the node running plinth (e.g. --node-arg=--import=/tmp/patch.mjs to try a fix).
// --plinth DIR: the checkout (built) measured; --before DIR: another built checkout (e.g. the commit
// before a change), run after plinth in each round with the same hosts and shown beside it;
// --summary FILE: the medians as JSON too (bench/goals.mjs reads them).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { BENCH, REPO, descendantsOf, jsonEvents, kill, machine, median, medians, parseOptions, ratio, seconds, timed, timedPlinth } from './lib.mjs';
const SCENARIOS = ['converge', 'noop', 'check'];
const SCENARIO_LABEL = { converge: 'converge from empty', noop: 'no-op re-run', check: '--check --diff from empty' };
/** Changed count per host each tool should report (Ansible's check mode skips the handler and a command). */
const EXPECTED = {
  plinth: { converge: 10, noop: 0, check: 10 },
  before: { converge: 10, noop: 0, check: 10 },
  ansible: { converge: 10, noop: 0, check: 9 },
  floor: { converge: 10, noop: 0, check: 10 },
};

function parseArgs(argv) {
  const o = parseOptions(argv, {
    script: import.meta.url,
    defaults: { slowHost: undefined, hosts: [1, 16, 64], runs: 3, ansibleRuns: undefined, ansibleRuns64: 1, skipAnsible: false, skipFloor: false, scenarios: SCENARIOS, cpuProf: undefined, keep: false, plinth: REPO, before: undefined },
    values: {
      '--hosts': (o, v) => (o.hosts = v.split(',').map(Number)),
      '--runs': (o, v) => (o.runs = Number(v)),
      '--ansible-runs': (o, v) => (o.ansibleRuns = Number(v)),
      '--ansible-runs-64': (o, v) => (o.ansibleRuns64 = Number(v)),
      '--scenarios': (o, v) => (o.scenarios = v.split(',')),
      '--cpu-prof': (o, v) => (o.cpuProf = path.resolve(v)),
      '--slow-host': (o, v) => (o.slowHost = Number(v)),
      '--addresses': (o, v) => (o.addresses = v),
      '--plinth': (o, v) => (o.plinth = path.resolve(v)),
      '--before': (o, v) => (o.before = path.resolve(v)),
      '--summary': (o, v) => (o.summary = path.resolve(v)),
    },
    flags: { '--skip-ansible': (o) => (o.skipAnsible = true), '--skip-floor': (o) => (o.skipFloor = true), '--keep': (o) => (o.keep = true) },
  });
  if (o.hosts.some((k) => !Number.isInteger(k) || k < 1 || k > 1000)) throw new Error('--hosts: integers from 1 to 1000');
  if (o.scenarios.some((s) => !SCENARIOS.includes(s))) throw new Error(`--scenarios: some of ${SCENARIOS.join(',')}`);
  o.ansibleRuns ??= o.runs;
  if (o.addresses && !/^127\.\d{1,3}\.\d{1,3}$/.test(o.addresses)) throw new Error('--addresses: three bytes in 127.0.0.0/8, e.g. 127.20.1');
  return o;
}

// ---------------------------------------------------------------- the fleet

const hostName = (i) => `pg${String(i).padStart(2, '0')}`;
/** 250 addresses; host 251 is the second sshd on 127.0.1.1 (port 2222), host 501 the third (2223). */
const ADDRESSES = 250;
/** The first three bytes of the fleet's addresses (--addresses): another fleet on the machine may hold 127.0.1.X:22. */
let network = '127.0.1';
const hostAddress = (i) => `${network}.${((i - 1) % ADDRESSES) + 1}`;
const hostPort = (i) => (i <= ADDRESSES ? 22 : 2221 + Math.floor((i - 1) / ADDRESSES));
/** As ssh and known_hosts write it: the address alone on port 22, else [address]:port. */
const hostKeyName = (i) => (hostPort(i) === 22 ? hostAddress(i) : `[${hostAddress(i)}]:${hostPort(i)}`);

function keygen(file) {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'plinth-bench', '-f', file], { stdio: 'ignore' });
}

function canConnect(host, port) {
  return new Promise((resolve) => {
    const s = connect({ host, port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

class Fleet {
  constructor(dir, size) {
    this.dir = dir;
    this.size = size;
    this.pids = [];
    this.hostKey = path.join(dir, 'host_key');
    this.userKey = path.join(dir, 'user_key');
    this.knownHosts = path.join(dir, 'known_hosts');
    this.hostsDir = path.join(dir, 'hosts');
  }

  async start() {
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    keygen(this.hostKey);
    keygen(this.userKey);
    writeFileSync(path.join(this.dir, 'authorized_keys'), readFileSync(`${this.userKey}.pub`), { mode: 0o644 });
    const pub = readFileSync(`${this.hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    const lines = [];
    for (let i = 1; i <= this.size; i++) lines.push(`${hostKeyName(i)} ${pub}`);
    writeFileSync(this.knownHosts, lines.join('\n') + '\n');
    const log = openSync(path.join(this.dir, 'sshd.log'), 'a');
    for (let i = 1; i <= this.size; i++) {
      const config = path.join(this.dir, `sshd_config.${i}`);
      writeFileSync(
        config,
        [
          `ListenAddress ${hostAddress(i)}:${hostPort(i)}`,
          `HostKey ${this.hostKey}`,
          `PidFile ${path.join(this.dir, `sshd.${i}.pid`)}`,
          'PermitRootLogin prohibit-password',
          'PubkeyAuthentication yes',
          'PasswordAuthentication no',
          'KbdInteractiveAuthentication no',
          'UsePAM no',
          'StrictModes no',
          `AuthorizedKeysFile ${path.join(this.dir, 'authorized_keys')}`,
          'Subsystem sftp internal-sftp',
          'MaxSessions 64',
          'MaxStartups 200:30:400',
          // root's .bashrc may run heavy shell init; with SHLVL=1 bash does not source it for ssh commands.
          'SetEnv SHLVL=1',
          'UseDNS no',
          'LogLevel ERROR',
        ].join('\n') + '\n',
      );
      const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', log] });
      this.pids.push(child.pid);
    }
    const deadline = Date.now() + 15_000 + 100 * this.size;
    for (let i = 1; i <= this.size; i++) {
      while (!(await canConnect(hostAddress(i), hostPort(i)))) {
        if (Date.now() > deadline) throw new Error(`sshd on ${hostAddress(i)}:${hostPort(i)} did not start; see ${path.join(this.dir, 'sshd.log')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      // An sshd that could not bind (the address is another fleet's) has exited: its port may still answer.
      try {
        process.kill(this.pids[i - 1], 0);
      } catch {
        throw new Error(`sshd for ${hostAddress(i)}:${hostPort(i)} exited (address in use? try --addresses); see ${path.join(this.dir, 'sshd.log')}`);
      }
    }
  }

  stop() {
    for (const pid of this.pids) for (const child of descendantsOf(pid)) kill(child, 'SIGKILL');
    for (const pid of this.pids) kill(pid, 'SIGTERM');
    this.pids = [];
  }

  rootDir(i) {
    return path.join(this.hostsDir, hostName(i));
  }

  /** Every host of the first k starts empty. */
  reset(k) {
    for (let i = 1; i <= k; i++) rmSync(this.rootDir(i), { recursive: true, force: true });
    mkdirSync(this.hostsDir, { recursive: true });
  }

  writeInventories(k) {
    const hosts = [];
    const floorLines = [];
    for (let i = 1; i <= k; i++) {
      hosts.push(`        ${hostName(i)}:\n          ansible_host: ${hostAddress(i)}\n          ansible_port: ${hostPort(i)}\n          root_dir: ${this.rootDir(i)}`);
      floorLines.push(`${hostAddress(i)} ${hostName(i)} ${this.rootDir(i)} ${hostPort(i)}`);
    }
    const inventory = [
      'all:',
      '  vars:',
      '    ansible_user: root',
      `    ansible_ssh_private_key_file: ${this.userKey}`,
      `    plinth_known_hosts_file: ${this.knownHosts}`,
      '    ansible_python_interpreter: /usr/bin/python3',
      '  children:',
      '    pg_nodes:',
      '      hosts:',
      ...hosts,
    ].join('\n');
    const inv = path.join(this.dir, `inventory-${k}.yml`);
    const floor = path.join(this.dir, `floor-hosts-${k}.txt`);
    writeFileSync(inv, inventory + '\n');
    writeFileSync(floor, floorLines.join('\n') + '\n');
    return { inv, floor };
  }
}

// ---------------------------------------------------------------- running one tool

class Tools {
  constructor(fleet, options) {
    this.fleet = fleet;
    this.options = options;
    this.runCount = 0;
  }

  async plinth(k, scenario, inv, checkout = this.options.plinth) {
    const args = ['run', '-i', inv, path.join(BENCH, 'plinth', 'pg-node.yml'), '--json', ...(scenario === 'check' ? ['--check', '--diff'] : [])];
    const tool = checkout === this.options.plinth ? 'plinth' : 'before';
    const r = await timedPlinth(checkout, args, { nodeArgs: this.options.nodeArgs, cpuProf: this.options.cpuProf, profile: `${tool}-${k}-${scenario}-${++this.runCount}` });
    const recap = jsonEvents(r.stdout).find((o) => o.type === 'recap');
    const changed = recap ? Object.fromEntries(Object.entries(recap.hosts).map(([h, c]) => [h, c.changed])) : {};
    const bad = recap ? Object.entries(recap.hosts).filter(([, c]) => c.failed || c.unreachable).map(([h]) => h) : ['(no recap)'];
    return { ...r, changed, bad };
  }

  async ansible(k, scenario, inv) {
    const dir = mkdtempSync(path.join(this.fleet.dir, 'ansible-'));
    const cp = path.join(dir, 'cp');
    mkdirSync(cp);
    const cfg = path.join(dir, 'ansible.cfg');
    writeFileSync(
      cfg,
      [
        '[defaults]',
        `forks = ${Math.min(k, 16)}`,
        'host_key_checking = True',
        'gathering = explicit',
        'retry_files_enabled = False',
        'nocows = 1',
        `local_tmp = ${path.join(dir, 'tmp')}`,
        '[ssh_connection]',
        'pipelining = True',
        `control_path_dir = ${cp}`,
        `ssh_args = -C -o ControlMaster=auto -o ControlPersist=60s -o UserKnownHostsFile=${this.fleet.knownHosts} -o StrictHostKeyChecking=yes`,
        '',
      ].join('\n'),
    );
    const args = ['-i', inv, path.join(BENCH, 'ansible', 'pg-node.yml')];
    if (scenario === 'check') args.push('--check', '--diff');
    const r = await timed('ansible-playbook', args, { env: { ...process.env, ANSIBLE_CONFIG: cfg, ANSIBLE_FORCE_COLOR: '0' } });
    // ControlPersist masters outlive the run: close them (untimed) so that runs stay independent.
    for (const sock of readdirSync(cp)) {
      spawnSync('ssh', ['-F', '/dev/null', '-o', `ControlPath=${path.join(cp, sock)}`, '-O', 'exit', 'x'], { stdio: 'ignore' });
    }
    const changed = {};
    const bad = [];
    for (const m of r.stdout.matchAll(/^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)/gm)) {
      changed[m[1]] = Number(m[3]);
      if (Number(m[4]) || Number(m[5])) bad.push(m[1]);
    }
    if (!Object.keys(changed).length) bad.push('(no recap)');
    return { ...r, changed, bad };
  }

  async floor(k, scenario, floorHosts) {
    const mode = scenario === 'check' ? 'check-diff' : 'apply';
    const r = await timed('sh', [path.join(BENCH, 'floor', 'run-fleet.sh'), floorHosts, String(Math.min(k, 16)), this.fleet.userKey, this.fleet.knownHosts, mode]);
    const changed = {};
    for (const m of r.stdout.matchAll(/^(\S+) changed=(\d+)$/gm)) changed[m[1]] = Number(m[2]);
    const bad = [];
    for (let i = 1; i <= k; i++) if (!(hostName(i) in changed)) bad.push(hostName(i));
    return { ...r, changed, bad };
  }
}

// ---------------------------------------------------------------- measuring

function checkCounts(tool, k, scenario, r, warnings) {
  const expected = EXPECTED[tool][scenario];
  const wrong = Object.entries(r.changed).filter(([, n]) => n !== expected);
  const missing = k - Object.keys(r.changed).length;
  if (r.bad.length || wrong.length || missing > 0 || (r.code !== 0 && !(tool === 'plinth' && scenario === 'check'))) {
    const detail = [
      r.code !== 0 ? `exit ${r.code}` : '',
      r.bad.length ? `failed/unreachable: ${r.bad.slice(0, 5).join(', ')}` : '',
      wrong.length ? `changed ${wrong.slice(0, 5).map(([h, n]) => `${h}=${n}`).join(', ')} (expected ${expected})` : '',
      missing > 0 ? `${missing} host(s) missing from the recap` : '',
    ].filter(Boolean).join('; ');
    const line = `WARNING: ${tool}, ${k} host(s), ${scenario}: ${detail}`;
    warnings.push(line);
    console.error(line);
    const tail = (r.stderr || r.stdout).trim().split('\n').slice(-6).join('\n    ');
    if (tail) console.error(`    ${tail}`);
  }
}

async function measure(options, fleet, tools) {
  const results = {}; // results[k][scenario][tool] = { times: [], rss: [] }
  const warnings = [];
  const toolList = ['plinth', ...(options.before ? ['before'] : []), ...(options.skipAnsible ? [] : ['ansible']), ...(options.skipFloor ? [] : ['floor'])];
  for (const k of options.hosts) {
    const { inv, floor } = fleet.writeInventories(k);
    results[k] = {};
    for (const s of options.scenarios) results[k][s] = Object.fromEntries(toolList.map((t) => [t, { times: [], rss: [] }]));
    for (let run = 1; run <= options.runs; run++) {
      for (const tool of toolList) {
        if (tool === 'ansible' && run > (k >= 64 ? Math.min(options.ansibleRuns64, options.ansibleRuns) : options.ansibleRuns)) continue;
        const go = (scenario) =>
          tool === 'plinth' ? tools.plinth(k, scenario, inv) : tool === 'before' ? tools.plinth(k, scenario, inv, options.before) : tool === 'ansible' ? tools.ansible(k, scenario, inv) : tools.floor(k, scenario, floor);
        const record = (scenario, r) => {
          checkCounts(tool, k, scenario, r, warnings);
          const slot = results[k][scenario][tool];
          slot.times.push(r.seconds);
          if (r.rssMb !== undefined) slot.rss.push(r.rssMb);
          if (r.cpu !== undefined) (slot.cpu ??= []).push(r.cpu);
          console.error(`  ${k} host(s)  run ${run}  ${tool.padEnd(7)} ${scenario.padEnd(8)} ${r.seconds.toFixed(2)} s${r.rssMb !== undefined ? `  ${r.rssMb.toFixed(0)} MB  cpu ${r.cpu.toFixed(2)} s` : ''}`);
        };
        if (options.scenarios.includes('converge') || options.scenarios.includes('noop')) {
          fleet.reset(k);
          const converged = await go('converge');
          if (options.scenarios.includes('converge')) record('converge', converged);
          if (options.scenarios.includes('noop')) record('noop', await go('noop'));
        }
        if (options.scenarios.includes('check')) {
          fleet.reset(k);
          record('check', await go('check'));
        }
      }
    }
  }
  return { results, warnings, toolList };
}

/** Once, before measuring: each tool's files must satisfy the others (byte for byte). */
async function crossCheck(fleet, tools, skipAnsible) {
  const { inv, floor } = fleet.writeInventories(1);
  const lines = [];
  const pairs = [['floor', 'plinth']];
  if (!skipAnsible) pairs.push(['plinth', 'ansible'], ['ansible', 'plinth']);
  for (const [first, second] of pairs) {
    fleet.reset(1);
    const run = (tool) => (tool === 'plinth' ? tools.plinth(1, 'converge', inv) : tool === 'ansible' ? tools.ansible(1, 'converge', inv) : tools.floor(1, 'converge', floor));
    const a = await run(first);
    const b = await run(second);
    const ok = a.changed[hostName(1)] === 10 && b.changed[hostName(1)] === 0 && !a.bad.length && !b.bad.length;
    const line = `cross-check: ${first} converges (changed=${a.changed[hostName(1)]}), then ${second} reports changed=${b.changed[hostName(1)]}: ${ok ? 'same bytes' : 'DIFFERENT'}`;
    lines.push(ok ? line : `WARNING: ${line}`);
    console.error(line);
  }
  return lines;
}

// ---------------------------------------------------------------- a slow host: linear vs free

/**
 * pg-node.yml converged from empty with a first task that sleeps on pg01 only, under each
 * strategy: when did the other hosts finish their tasks (their last task result on --json,
 * read as it arrives; the handler runs for every host at the end of the play under both
 * strategies), and when did the run end? Under linear every host waits at each task for pg01.
 */
async function slowHost(options, fleet) {
  const plays = path.join(fleet.dir, 'slow-host');
  mkdirSync(plays, { recursive: true });
  if (!existsSync(path.join(plays, 'templates'))) execFileSync('ln', ['-s', path.join(BENCH, 'plinth', 'templates'), path.join(plays, 'templates')]);
  const base = readFileSync(path.join(BENCH, 'plinth', 'pg-node.yml'), 'utf8');
  const variant = (strategy) => {
    const file = path.join(plays, `pg-node-${strategy}.yml`);
    const slowTask = `  tasks:\n    - name: Slow host (bench)\n      command: sleep ${options.slowHost}\n      when: inventory_hostname == '${hostName(1)}'\n`;
    writeFileSync(file, base.replace('  gather_facts: false\n', `  gather_facts: false\n  strategy: ${strategy}\n`).replace('  tasks:\n', slowTask));
    return file;
  };
  const rows = ['| K hosts | strategy | other hosts\' tasks done (median) | (last of them) | slow host\'s tasks done | whole run (handlers included) | runs |', '|---|---|---|---|---|---|---|'];
  for (const k of options.hosts) {
    const { inv } = fleet.writeInventories(k);
    for (const strategy of ['linear', 'free']) {
      const playbook = variant(strategy);
      const runs = [];
      for (let run = 1; run <= options.runs; run++) {
        fleet.reset(k);
        const r = await streamed(process.execPath, ['bin/plinth.js', 'run', '-i', inv, playbook, '--json']);
        const lastOf = new Map();
        // A host is done with the play at its last task; handlers run for all at the play's end.
        for (const { at, event } of r.events) if (event.type === 'result' && !event.handler) lastOf.set(event.host, at);
        const others = [...lastOf].filter(([h]) => h !== hostName(1)).map(([, at]) => at).sort((a, b) => a - b);
        if (r.code !== 0 || lastOf.size !== k) console.error(`WARNING: ${strategy} K=${k}: exit ${r.code}, results from ${lastOf.size} of ${k} hosts`);
        runs.push({ othersMedian: k > 1 ? median(others) : NaN, othersLast: k > 1 ? others.at(-1) : NaN, slow: lastOf.get(hostName(1)), total: r.seconds });
        console.error(`  ${k} host(s)  run ${run}  ${strategy.padEnd(6)} others done ${runs.at(-1).othersLast?.toFixed(2)} s, slow host ${runs.at(-1).slow?.toFixed(2)} s, run ${r.seconds.toFixed(2)} s`);
      }
      const med = (key) => seconds(median(runs.map((x) => x[key])));
      rows.push(`| ${k} | ${strategy} | ${med('othersMedian')} | ${med('othersLast')} | ${med('slow')} | ${med('total')} | ${runs.length} |`);
    }
  }
  return [`slow host: ${hostName(1)}'s first task sleeps ${options.slowHost} s; times from the start of the run`, '', ...rows].join('\n');
}

/** Runs a process; every JSON line of its stdout with the seconds since the start at which it arrived. */
function streamed(cmd, args) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - start) / 1e9;
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'ignore'] });
    const events = [];
    let rest = '';
    child.stdout.on('data', (b) => {
      const at = since();
      const lines = (rest + b.toString('utf8')).split('\n');
      rest = lines.pop();
      for (const l of lines) if (l.startsWith('{')) events.push({ at, event: JSON.parse(l) });
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, events, seconds: since() }));
  });
}

// ---------------------------------------------------------------- the table

function table(options, { results }) {
  const n = (slot) => (slot ? `${slot.times.length}` : '0');
  const before = options.before !== undefined;
  const rows = [
    `| K hosts | scenario | plinth | Ansible, pipelining | batched-shell floor | plinth/floor | plinth/Ansible |${before ? ' before | before/floor | plinth/before |' : ''} plinth peak RSS | RSS growth per host | plinth CPU |${before ? ' before CPU |' : ''} runs (plinth/Ansible/floor) |`,
    `|---|---|---|---|---|---|---|${before ? '---|---|---|' : ''}---|---|---|${before ? '---|' : ''}---|`,
  ];
  // Growth per host: from the smallest K measured, same scenario.
  const smallest = Math.min(...options.hosts);
  for (const k of options.hosts) {
    for (const s of options.scenarios) {
      const r = results[k][s];
      const p = median(r.plinth.times);
      const a = r.ansible ? median(r.ansible.times) : NaN;
      const f = r.floor ? median(r.floor.times) : NaN;
      const b = r.before ? median(r.before.times) : NaN;
      const rss = Math.max(...r.plinth.rss);
      const base = Math.max(...results[smallest][s].plinth.rss);
      const growth = k > smallest ? `${(((rss - base) * 1024) / (k - smallest)).toFixed(0)} KB` : '–';
      const beforeCells = before ? ` ${seconds(b)} | ${ratio(b, f)} | ${ratio(p, b)} |` : '';
      const beforeCpu = before ? ` ${seconds(median(r.before?.cpu ?? []))} |` : '';
      rows.push(
        `| ${k} | ${SCENARIO_LABEL[s]} | ${seconds(p)} | ${seconds(a)} | ${seconds(f)} | ${ratio(p, f)} | ${ratio(p, a)} |${beforeCells} ${Number.isFinite(rss) ? `${rss.toFixed(0)} MB` : '–'} | ${growth} | ${seconds(median(r.plinth.cpu ?? []))} |${beforeCpu} ${n(r.plinth)}/${n(r.ansible)}/${n(r.floor)} |`,
      );
    }
  }
  return rows.join('\n');
}

/** The medians of every tool, host count and scenario, for bench/goals.mjs (--summary FILE). */
function summary(options, { results }, notes) {
  const rows = [];
  for (const k of options.hosts) {
    for (const scenario of options.scenarios) {
      const r = results[k][scenario];
      const tool = (slot) => medians(slot && { wall: slot.times, cpu: slot.cpu ?? [], rss: slot.rss });
      rows.push({ hosts: k, scenario, plinth: tool(r.plinth), before: tool(r.before), ansible: tool(r.ansible), floor: tool(r.floor) });
    }
  }
  return { machine: machine(), rows, warnings: notes.filter((l) => l.startsWith('WARNING')) };
}

// ---------------------------------------------------------------- main

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.addresses) network = options.addresses;
  if (!existsSync(path.join(REPO, 'dist', 'engine', 'cli', 'main.js'))) throw new Error('build plinth first: npm run build');
  if (!options.skipAnsible && options.slowHost === undefined && spawnSync('ansible-playbook', ['--version']).status !== 0) {
    throw new Error('ansible-playbook not found: apt-get install -y ansible, or pass --skip-ansible');
  }
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-'));
  chmodSync(dir, 0o755);
  const fleet = new Fleet(dir, Math.max(...options.hosts));
  const cleanup = () => {
    fleet.stop();
    if (!options.keep) rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  try {
    const header = machine();
    console.error(`fleet of ${fleet.size} sshd in ${dir}`);
    await fleet.start();
    if (options.slowHost !== undefined) {
      console.log(['', ...header.map((l) => `- ${l}`), '', await slowHost(options, fleet)].join('\n'));
      return;
    }
    const tools = new Tools(fleet, options);
    const cross = await crossCheck(fleet, tools, options.skipAnsible);
    const measured = await measure(options, fleet, tools);
    console.log(['', ...header.map((l) => `- ${l}`), '', table(options, measured), '', ...cross.map((l) => `- ${l}`), ...measured.warnings.map((w) => `- ${w}`)].join('\n'));
    if (options.summary) writeFileSync(options.summary, JSON.stringify(summary(options, measured, [...cross, ...measured.warnings]), null, 1));
  } finally {
    cleanup();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
