// Round trips per task: a preload that counts what each task asks of each host over ssh (commands,
// file reads, stats, writes) and prints a table to stderr when the run ends, in run order. Load it
// into tsc's build (the bundle has its own copy of the ssh code) of a run with --json:
//
//   node --import ./bench/round-trips.mjs dist/engine/cli/main.js run -i INV playbooks/site.yml --json > run.jsonl
//
// A call counts for the task of the next result the run reports: under the linear strategy every
// host of a play runs the same task, and calls to a host a task delegates to count for that task
// (not right under `strategy: free`). The warm-up after connecting (the SFTP session, user and
// group names) is not counted. A read or write is one call here but several SFTP requests.
import { performance } from 'node:perf_hooks';
import * as path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const { SshHost } = await import(pathToFileURL(path.join(repo, 'dist', 'engine', 'connection', 'ssh.js')).href);

const KINDS = ['exec', 'read', 'stat', 'write'];
/** Calls made since the last result: host → counts. */
let pending = new Map();
/** "play | task" → { counts by kind, hosts, slowest host's ms }, in the order first reported. */
const tasks = new Map();

for (const kind of KINDS) {
  const original = SshHost.prototype[kind];
  SshHost.prototype[kind] = function (...args) {
    const counts = pending.get(this.name) ?? Object.fromEntries(KINDS.map((k) => [k, 0]));
    counts[kind]++;
    pending.set(this.name, counts);
    return original.apply(this, args);
  };
}

// The --json result events say which task the calls were for.
let partial = '';
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = (chunk, ...rest) => {
  const lines = (partial + String(chunk)).split('\n');
  partial = lines.pop();
  for (const line of lines) {
    if (!line.startsWith('{"type":"result"')) continue;
    const e = JSON.parse(line);
    const key = `${e.play} | ${e.task}${e.handler ? ' (handler)' : ''}`;
    let t = tasks.get(key);
    if (!t) tasks.set(key, (t = { exec: 0, read: 0, stat: 0, write: 0, hosts: new Set(), ms: 0 }));
    t.ms = Math.max(t.ms, e.duration_ms ?? 0);
    t.hosts.add(e.host);
    for (const [host, counts] of pending) {
      t.hosts.add(host);
      for (const k of KINDS) t[k] += counts[k];
    }
    pending = new Map();
  }
  return write(chunk, ...rest);
};

const started = performance.now();
process.on('exit', () => {
  const rows = [...tasks].filter(([, t]) => KINDS.some((k) => t[k] > 0));
  const left = [...pending.values()].reduce((n, c) => n + KINDS.reduce((m, k) => m + c[k], 0), 0);
  const total = Object.fromEntries(KINDS.map((k) => [k, rows.reduce((n, [, t]) => n + t[k], 0)]));
  const out = [
    '',
    `round trips per task (calls over ssh; tasks that made none are left out; run ${((performance.now() - started) / 1000).toFixed(2)} s):`,
    '',
    '| task | hosts | exec | read | stat | write | slowest host ms |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(([key, t]) => `| ${key} | ${t.hosts.size} | ${t.exec} | ${t.read} | ${t.stat} | ${t.write} | ${t.ms} |`),
    `| total | | ${total.exec} | ${total.read} | ${total.stat} | ${total.write} | |`,
    ...(left ? [`(${left} calls after the last result: closing)`] : []),
    '',
  ];
  process.stderr.write(out.join('\n'));
});
