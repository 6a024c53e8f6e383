// The lab's package proxy: apt-cacher-ng in the root namespace, listening only on the bridge
// address. Hosts have no route out; their apt goes through it (Acquire::http::Proxy in the
// base). Its config is ours and minimal: the stock one remaps deb.debian.org to
// ftp.debian.org, which may be unreachable (HTTP 503 and a hanging `apt-get update`).
// The cache is kept across `down`, like the base image.
import { spawn } from 'node:child_process';
import { closeSync, openSync, promises as fs } from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { LabError } from './lab-error.js';
import { APT_PROXY_PORT, type LabNetwork } from './network.js';
import { isAlive, listProcesses, signal, sleep, waitForExit } from './procs.js';
import { missingToolError } from './run.js';
import type { StateDir } from './state-dir.js';

const BINARY = '/usr/sbin/apt-cacher-ng';

function config(dir: string, net: LabNetwork): string {
  return [
    `CacheDir: ${dir}/cache`,
    `LogDir: ${dir}/log`,
    'SupportDir: /usr/lib/apt-cacher-ng',
    `BindAddress: ${net.gateway}`,
    `Port: ${APT_PROXY_PORT}`,
    `SocketPath: ${dir}/socket`,
    `PidFile: ${dir}/pid`,
    'ExThreshold: 4',
    '',
  ].join('\n');
}

async function proxyPids(dirs: StateDir): Promise<number[]> {
  const confDir = path.join(dirs.aptProxyDir, 'conf');
  return (await listProcesses()).filter((p) => path.basename(p.argv[0] ?? '') === 'apt-cacher-ng' && p.argv.includes(confDir)).map((p) => p.pid);
}

function accepts(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: ms });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

/** Starts the proxy unless the lab's proxy already runs; the bridge must be up. */
export async function ensureAptProxy(dirs: StateDir, net: LabNetwork): Promise<void> {
  if ((await proxyPids(dirs)).length > 0) return;
  const where = `${net.gateway}:${APT_PROXY_PORT}`;
  if (await accepts(net.gateway, APT_PROXY_PORT, 500)) {
    throw new LabError(`another program already listens on ${where} (the system apt-cacher-ng service?): stop it, the lab runs its own`);
  }
  const dir = dirs.aptProxyDir;
  for (const d of ['conf', 'cache', 'log']) await fs.mkdir(path.join(dir, d), { recursive: true });
  await fs.writeFile(path.join(dir, 'conf', 'acng.conf'), config(dir, net));
  const logFile = path.join(dir, 'log', 'stdout.log');
  const fd = openSync(logFile, 'a');
  let pid = 0;
  try {
    const child = spawn(BINARY, ['-c', path.join(dir, 'conf'), 'ForeGround=1'], {
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    await new Promise<void>((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? missingToolError('apt-cacher-ng') : e));
      child.once('spawn', () => resolve());
    });
    pid = child.pid ?? 0;
    child.unref();
  } finally {
    closeSync(fd);
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && isAlive(pid)) {
    if (await accepts(net.gateway, APT_PROXY_PORT, 500)) return;
    await sleep(200);
  }
  throw new LabError(`apt-cacher-ng did not start on ${where}; see ${logFile}`);
}

export async function aptProxyRunning(dirs: StateDir): Promise<boolean> {
  return (await proxyPids(dirs)).length > 0;
}

/** Stops the lab's proxy (found by its config directory on the command line), by pid. */
export async function stopAptProxy(dirs: StateDir): Promise<void> {
  const pids = await proxyPids(dirs);
  pids.forEach((pid) => signal(pid, 'SIGTERM'));
  const left = await waitForExit(pids, 5_000);
  left.forEach((pid) => signal(pid, 'SIGKILL'));
  await waitForExit(left, 5_000);
}
