#!/usr/bin/env node
// The fleet benchmark of issue 3: K sshd processes on 127.0.1.X:22, the pg-node workload run
// by plinth, Ansible (pipelining on) and the batched-shell floor, each as a whole process.
// Prints a Markdown table of median wall times and ratios. Not a test: nothing here passes or
// fails on timing; wrong change counts print a WARNING line.
//
//   npx tsc -p . && node bench/fleet.mjs [--hosts 1,16,64] [--runs 3] [--ansible-runs N]
//       [--ansible-runs-64 1] [--skip-ansible] [--skip-floor] [--scenarios converge,noop,check]
//       [--cpu-prof DIR] [--node-arg ARG]... [--keep]
// --node-arg passes ARG to the node running plinth (e.g. --node-arg=--import=/tmp/patch.mjs to try a fix).
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.dirname(BENCH);
const SCENARIOS = ['converge', 'noop', 'check'];
const SCENARIO_LABEL = { converge: 'converge from empty', noop: 'no-op re-run', check: '--check --diff from empty' };
/** Changed count per host each tool should report (Ansible's check mode skips the handler and a command). */
const EXPECTED = {
  plinth: { converge: 10, noop: 0, check: 10 },
  ansible: { converge: 10, noop: 0, check: 9 },
  floor: { converge: 10, noop: 0, check: 10 },
};

function parseArgs(argv) {
  const o = { hosts: [1, 16, 64], runs: 3, ansibleRuns: undefined, ansibleRuns64: 1, skipAnsible: false, skipFloor: false, scenarios: SCENARIOS, cpuProf: undefined, nodeArgs: [], keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--node-arg=')) {
      o.nodeArgs.push(a.slice('--node-arg='.length));
      continue;
    }
    const next = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--hosts') o.hosts = next().split(',').map(Number);
    else if (a === '--runs') o.runs = Number(next());
    else if (a === '--ansible-runs') o.ansibleRuns = Number(next());
    else if (a === '--ansible-runs-64') o.ansibleRuns64 = Number(next());
    else if (a === '--skip-ansible') o.skipAnsible = true;
    else if (a === '--skip-floor') o.skipFloor = true;
    else if (a === '--scenarios') o.scenarios = next().split(',');
    else if (a === '--cpu-prof') o.cpuProf = path.resolve(next());
    else if (a === '--node-arg') o.nodeArgs.push(next());
    else if (a === '--keep') o.keep = true;
    else if (a === '-h' || a === '--help') {
      console.log(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 10).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  if (o.hosts.some((k) => !Number.isInteger(k) || k < 1 || k > 250)) throw new Error('--hosts: integers from 1 to 250');
  if (o.scenarios.some((s) => !SCENARIOS.includes(s))) throw new Error(`--scenarios: some of ${SCENARIOS.join(',')}`);
  o.ansibleRuns ??= o.runs;
  return o;
}

// ---------------------------------------------------------------- the fleet

const hostName = (i) => `pg${String(i).padStart(2, '0')}`;
const hostAddress = (i) => `127.0.1.${i}`;

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
    for (let i = 1; i <= this.size; i++) lines.push(`${hostAddress(i)} ${pub}`);
    writeFileSync(this.knownHosts, lines.join('\n') + '\n');
    const log = openSync(path.join(this.dir, 'sshd.log'), 'a');
    for (let i = 1; i <= this.size; i++) {
      const config = path.join(this.dir, `sshd_config.${i}`);
      writeFileSync(
        config,
        [
          `ListenAddress ${hostAddress(i)}:22`,
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
    const deadline = Date.now() + 15_000;
    for (let i = 1; i <= this.size; i++) {
      while (!(await canConnect(hostAddress(i), 22))) {
        if (Date.now() > deadline) throw new Error(`sshd on ${hostAddress(i)}:22 did not start; see ${path.join(this.dir, 'sshd.log')}`);
        await new Promise((r) => setTimeout(r, 50));
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
      hosts.push(`        ${hostName(i)}:\n          ansible_host: ${hostAddress(i)}\n          root_dir: ${this.rootDir(i)}`);
      floorLines.push(`${hostAddress(i)} ${hostName(i)} ${this.rootDir(i)}`);
    }
    const inventory = [
      'all:',
      '  vars:',
      '    ansible_user: root',
      '    ansible_port: 22',
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

function descendantsOf(pid) {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  const children = (r.stdout ?? '').split('\n').filter(Boolean).map(Number);
  return children.flatMap((c) => [...descendantsOf(c), c]);
}

function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

// ---------------------------------------------------------------- running one tool

/** Runs a whole process; resolves with its wall time, exit code and output. */
function timed(cmd, args, opts = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(cmd, args, { cwd: REPO, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    child.stdout.on('data', (b) => out.push(b));
    child.stderr.on('data', (b) => err.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      resolve({ seconds, code: code ?? signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

class Tools {
  constructor(fleet, options) {
    this.fleet = fleet;
    this.options = options;
    this.runCount = 0;
  }

  async plinth(k, scenario, inv) {
    const rssFile = path.join(this.fleet.dir, 'plinth.rss');
    rmSync(rssFile, { force: true });
    const node = [...this.options.nodeArgs];
    if (this.options.cpuProf) {
      mkdirSync(this.options.cpuProf, { recursive: true });
      node.push('--cpu-prof', '--cpu-prof-dir', this.options.cpuProf, '--cpu-prof-name', `plinth-${k}-${scenario}-${++this.runCount}.cpuprofile`);
    }
    const args = ['-f', '%M %U %S', '-o', rssFile, process.execPath, ...node, 'bin/plinth.js', 'run', '-i', inv, path.join(BENCH, 'plinth', 'pg-node.yml'), '--json'];
    if (scenario === 'check') args.push('--check', '--diff');
    const r = await timed('/usr/bin/time', args);
    const recap = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l))
      .find((o) => o.type === 'recap');
    const changed = recap ? Object.fromEntries(Object.entries(recap.hosts).map(([h, c]) => [h, c.changed])) : {};
    const bad = recap ? Object.entries(recap.hosts).filter(([, c]) => c.failed || c.unreachable).map(([h]) => h) : ['(no recap)'];
    // /usr/bin/time: peak RSS in KiB, then user and system CPU seconds of the controller.
    const [maxKb, user, sys] = existsSync(rssFile) ? readFileSync(rssFile, 'utf8').trim().split('\n').pop().split(' ').map(Number) : [NaN, NaN, NaN];
    return { ...r, changed, bad, rssMb: maxKb / 1024, cpu: user + sys };
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

const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

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
  const toolList = ['plinth', ...(options.skipAnsible ? [] : ['ansible']), ...(options.skipFloor ? [] : ['floor'])];
  for (const k of options.hosts) {
    const { inv, floor } = fleet.writeInventories(k);
    results[k] = {};
    for (const s of options.scenarios) results[k][s] = Object.fromEntries(toolList.map((t) => [t, { times: [], rss: [] }]));
    for (let run = 1; run <= options.runs; run++) {
      for (const tool of toolList) {
        if (tool === 'ansible' && run > (k >= 64 ? Math.min(options.ansibleRuns64, options.ansibleRuns) : options.ansibleRuns)) continue;
        const go = (scenario) => (tool === 'plinth' ? tools.plinth(k, scenario, inv) : tool === 'ansible' ? tools.ansible(k, scenario, inv) : tools.floor(k, scenario, floor));
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

// ---------------------------------------------------------------- the table

function table(options, { results, toolList }) {
  const fmt = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} s` : '–');
  const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) ? `${(a / b).toFixed(2)}x` : '–');
  const n = (slot) => (slot ? `${slot.times.length}` : '0');
  const rows = [
    '| K hosts | scenario | plinth | Ansible, pipelining | batched-shell floor | plinth/floor | plinth/Ansible | plinth peak RSS | plinth CPU | runs (plinth/Ansible/floor) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const k of options.hosts) {
    for (const s of options.scenarios) {
      const r = results[k][s];
      const p = median(r.plinth.times);
      const a = r.ansible ? median(r.ansible.times) : NaN;
      const f = r.floor ? median(r.floor.times) : NaN;
      const rss = Math.max(...r.plinth.rss);
      rows.push(
        `| ${k} | ${SCENARIO_LABEL[s]} | ${fmt(p)} | ${fmt(a)} | ${fmt(f)} | ${ratio(p, f)} | ${ratio(p, a)} | ${Number.isFinite(rss) ? `${rss.toFixed(0)} MB` : '–'} | ${fmt(median(r.plinth.cpu ?? []))} | ${n(r.plinth)}/${n(r.ansible)}/${n(r.floor)} |`,
      );
    }
  }
  return rows.join('\n');
}

function machine() {
  const ansible = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  const ansibleVersion = ansible.status === 0 ? ansible.stdout.split('\n')[0] : 'not installed';
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${os.cpus().length} CPUs (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `node ${process.version}; ${ansibleVersion}; ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}`,
  ];
}

// ---------------------------------------------------------------- main

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (!existsSync(path.join(REPO, 'dist', 'engine', 'cli', 'main.js'))) throw new Error('build plinth first: npx tsc -p .');
  if (!options.skipAnsible && spawnSync('ansible-playbook', ['--version']).status !== 0) {
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
    const tools = new Tools(fleet, options);
    const cross = await crossCheck(fleet, tools, options.skipAnsible);
    const measured = await measure(options, fleet, tools);
    console.log(['', ...header.map((l) => `- ${l}`), '', table(options, measured), '', ...cross.map((l) => `- ${l}`), ...measured.warnings.map((w) => `- ${w}`)].join('\n'));
  } finally {
    cleanup();
  }
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});
