// What the benchmarks share: running a whole process under /usr/bin/time (wall, CPU, peak RSS,
// time to its first result line), medians, and the machine's description for the table's header.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.dirname(BENCH);

/**
 * Runs a whole process; resolves with its wall time, exit code and output. With `firstLine`, also
 * the seconds until the first stdout line that matches it (`firstSeconds`, NaN when none did).
 * With `measure`, the process runs under /usr/bin/time: peak RSS (MB) and CPU seconds (user +
 * system, its waited-for children included).
 */
export function timed(cmd, args, opts = {}) {
  let timeFile;
  if (opts.measure) {
    timeFile = path.join(mkdtempSync(path.join(os.tmpdir(), 'plinth-bench-time-')), 'time');
    args = ['-f', '%M %U %S', '-o', timeFile, cmd, ...args];
    cmd = '/usr/bin/time';
  }
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const since = () => Number(process.hrtime.bigint() - start) / 1e9;
    const child = spawn(cmd, args, { cwd: opts.cwd ?? REPO, env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    const out = [];
    const err = [];
    let firstSeconds = NaN;
    let partial = '';
    child.stdout.on('data', (b) => {
      out.push(b);
      if (!opts.firstLine || !Number.isNaN(firstSeconds)) return;
      const lines = (partial + b.toString('utf8')).split('\n');
      partial = lines.pop();
      if (lines.some((l) => opts.firstLine.test(l))) firstSeconds = since();
    });
    child.stderr.on('data', (b) => err.push(b));
    child.once('error', reject);
    child.once('close', (code, signal) => {
      const seconds = since();
      const r = { seconds, firstSeconds, code: code ?? signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') };
      if (timeFile) {
        // /usr/bin/time: peak RSS in KiB, then user and system CPU seconds.
        const [maxKb, user, sys] = existsSync(timeFile) ? readFileSync(timeFile, 'utf8').trim().split('\n').pop().split(' ').map(Number) : [NaN, NaN, NaN];
        rmSync(path.dirname(timeFile), { recursive: true, force: true });
        Object.assign(r, { rssMb: maxKb / 1024, cpu: user + sys });
      }
      resolve(r);
    });
  });
}

/** The --json lines of a plinth run's stdout. */
export function jsonEvents(stdout) {
  return stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
}

/** The medians of a tool's runs ({ wall: [..], cpu: [..] } → { wall, cpu, runs }), for a --summary file. */
export function medians(slot) {
  if (!slot) return undefined;
  const out = {};
  for (const [k, xs] of Object.entries(slot)) if (Array.isArray(xs) && xs.length) out[k] = k === 'rss' ? Math.max(...xs) : median(xs);
  out.runs = Object.values(slot).find(Array.isArray)?.length ?? 0;
  return out;
}

export const median = (xs) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export function descendantsOf(pid) {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  const children = (r.stdout ?? '').split('\n').filter(Boolean).map(Number);
  return children.flatMap((c) => [...descendantsOf(c), c]);
}

export function kill(pid, signal) {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

export function machine() {
  const ansible = spawnSync('ansible-playbook', ['--version'], { encoding: 'utf8' });
  const ansibleVersion = ansible.status === 0 ? ansible.stdout.split('\n')[0] : 'not installed';
  return [
    `date: ${new Date().toISOString()}`,
    `machine: ${os.cpus().length} CPUs (nproc ${execFileSync('nproc', { encoding: 'utf8' }).trim()}), ${os.cpus()[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`,
    `node ${process.version}; ${ansibleVersion}; ${spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim()}`,
  ];
}

/** `1.23 s`, or – when not measured. */
export const seconds = (x) => (Number.isFinite(x) ? `${x.toFixed(2)} s` : '–');
export const ratio = (a, b) => (Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}x` : '–');

/**
 * The command line of a benchmark: `values` take the next argument (`--runs 3`), `flags` take
 * none; `--node-arg ARG` (or `--node-arg=ARG`, repeatable) collects into `nodeArgs`, and `-h` prints
 * the script's header comment (the lines before its first import).
 */
export function parseOptions(argv, { defaults, values = {}, flags = {}, script }) {
  const o = { nodeArgs: [], ...defaults };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--node-arg=')) {
      o.nodeArgs.push(a.slice('--node-arg='.length));
      continue;
    }
    if (a === '-h' || a === '--help') {
      const lines = readFileSync(fileURLToPath(script), 'utf8').split('\n');
      console.log(lines.slice(1, lines.findIndex((l) => l.startsWith('import'))).join('\n'));
      process.exit(0);
    }
    if (a === '--node-arg' || a in values) {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      const v = argv[++i];
      if (a === '--node-arg') o.nodeArgs.push(v);
      else values[a](o, v);
    } else if (a in flags) flags[a](o);
    else throw new Error(`unknown option ${a}`);
  }
  return o;
}

/**
 * One whole plinth process of a checkout (`DIR/bin/plinth.js`), with the benchmark's node
 * arguments and, with `cpuProf`, a CPU profile named `profile`; measured as `timed` does.
 */
export function timedPlinth(checkout, args, { nodeArgs = [], cpuProf, profile, ...opts } = {}) {
  const node = [...nodeArgs];
  if (cpuProf) {
    mkdirSync(cpuProf, { recursive: true });
    node.push('--cpu-prof', '--cpu-prof-dir', cpuProf, '--cpu-prof-name', `${profile}.cpuprofile`);
  }
  return timed(process.execPath, [...node, path.join(checkout, 'bin', 'plinth.js'), ...args], { measure: true, ...opts });
}
