// One lab host: an overlay of the base image with its own identity, booted by
// systemd-nspawn with real systemd as PID 1, inside the host's network namespace.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { closeSync, openSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LabError } from './lab-error.js';
import type { LabHost } from './lab-inventory.js';
import { labNamespaces, type LabNetwork } from './network.js';
import { listProcesses, sleep, signal, waitForExit, type ProcessInfo } from './procs.js';
import { missingToolError, run, tryRun } from './run.js';
import type { StateDir } from './state-dir.js';

/** nspawn keeps one directory per container here and leaves it behind when it ends. */
const NSPAWN_PROPAGATE = '/run/systemd/nspawn/propagate';

/** The lab-wide /etc/hosts: every host knows every other by name, and its own name is its lab address. */
export function etcHosts(net: LabNetwork, hosts: LabHost[]): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', `${net.gateway}\tplinth-lab-gateway`, ...hosts.map((h) => `${h.address}\t${h.name}`)];
  return lines.join('\n') + '\n';
}

async function writeAtomic(file: string, content: string, mode = 0o644): Promise<void> {
  const tmp = `${file}.plinth-lab-tmp`;
  await fs.writeFile(tmp, content, { mode });
  await fs.chmod(tmp, mode);
  await fs.rename(tmp, file);
}

/** Rewrites /etc/hosts of a host, running or not (its overlay is mounted in our namespace). */
export async function writeEtcHosts(dirs: StateDir, host: string, text: string): Promise<void> {
  await writeAtomic(path.join(dirs.hostRoot(host), 'etc/hosts'), text);
}

/**
 * Makes the host's root file system: a fresh overlay over the base, with its hostname, a new
 * machine-id, new ssh host keys and the lab key authorized for root.
 */
export async function prepareHostRoot(dirs: StateDir, net: LabNetwork, host: LabHost, authorizedKey: string, hostsText: string): Promise<void> {
  const dir = dirs.hostDir(host.name);
  const root = dirs.hostRoot(host.name);
  await fs.rm(dir, { recursive: true, force: true });
  for (const d of ['upper', 'work', 'root']) await fs.mkdir(path.join(dir, d), { recursive: true });
  await run(['mount', '-t', 'overlay', 'overlay', '-o', `lowerdir=${dirs.base},upperdir=${dir}/upper,workdir=${dir}/work`, root]);
  await writeAtomic(`${root}/etc/hostname`, `${host.name}\n`);
  await writeAtomic(`${root}/etc/hosts`, hostsText);
  await writeAtomic(`${root}/etc/machine-id`, `${randomBytes(16).toString('hex')}\n`, 0o444);
  // Hosts have no route out; they fetch packages through their lab's apt-cacher-ng.
  await writeAtomic(`${root}/etc/apt/apt.conf.d/01plinth-lab-proxy`, `Acquire::http::Proxy "${net.aptProxyUrl}";\n`);
  await fs.mkdir(`${root}/root/.ssh`, { recursive: true, mode: 0o700 });
  await fs.chmod(`${root}/root/.ssh`, 0o700);
  await writeAtomic(`${root}/root/.ssh/authorized_keys`, `${authorizedKey}\n`, 0o600);
  await run(['chroot', root, 'ssh-keygen', '-A']);
}

/** The public host keys `ssh-keygen -A` made for the host. */
export async function hostPublicKeys(dirs: StateDir, host: string): Promise<string[]> {
  const sshDir = `${dirs.hostRoot(host)}/etc/ssh`;
  const names = (await fs.readdir(sshDir)).filter((n) => /^ssh_host_.*_key\.pub$/.test(n)).sort();
  return Promise.all(names.map(async (n) => (await fs.readFile(`${sshDir}/${n}`, 'utf8')).trim()));
}

function nspawnArgs(dirs: StateDir, net: LabNetwork, host: string): string[] {
  return [
    '--boot',
    // Without these two, nspawn wants to register with systemd-machined over the system bus,
    // which a machine whose PID 1 is not systemd does not have.
    '--register=no',
    '--keep-unit',
    `--network-namespace-path=/run/netns/${net.netnsName(host)}`,
    '--console=passive',
    '--resolv-conf=off',
    '--timezone=off',
    '--link-journal=no',
    `--machine=${net.netnsName(host)}`,
    `--directory=${dirs.hostRoot(host)}`,
  ];
}

/** Starts the host's container in the background; it outlives this process. */
export async function bootHost(dirs: StateDir, net: LabNetwork, host: string): Promise<void> {
  const logFile = path.join(dirs.hostDir(host), 'console.log');
  const fd = openSync(logFile, 'a');
  try {
    const child = spawn('systemd-nspawn', nspawnArgs(dirs, net, host), { detached: true, stdio: ['ignore', fd, fd] });
    const started = await new Promise<number>((resolve, reject) => {
      child.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? missingToolError('systemd-nspawn') : e));
      child.once('spawn', () => resolve(child.pid ?? 0));
    });
    child.unref();
    await waitForContainerInit(host, started, logFile);
  } finally {
    closeSync(fd);
  }
}

/** Waits for nspawn to start the container's init; a minute is room for a loaded machine, not a speed limit. */
async function waitForContainerInit(host: string, nspawnPid: number, logFile: string): Promise<void> {
  const deadline = Date.now() + 120_000;
  let exited = false;
  while (Date.now() < deadline) {
    const procs = await listProcesses();
    if (!procs.some((p) => p.pid === nspawnPid)) {
      exited = true;
      break;
    }
    if (procs.some((p) => p.ppid === nspawnPid)) return;
    await sleep(100);
  }
  const tail = (await fs.readFile(logFile, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n  ');
  throw new LabError(`host ${host} did not boot: systemd-nspawn ${exited ? 'exited' : 'started no container in 120 s'}` + `${tail ? `; its last lines:\n  ${tail}` : ''}\n(whole log: ${logFile})`);
}

export interface LabProcesses {
  /** systemd-nspawn processes of lab hosts, by host name. */
  nspawn: Map<string, ProcessInfo>;
  /** Each container's PID 1 (a child of nspawn, or orphaned after a crash), by host name. */
  inits: Map<string, ProcessInfo>;
}

/**
 * The lab's containers as they are now. nspawn is recognised by its --directory under the
 * lab's hosts directory; a container's init by being the PID 1 of its own PID namespace while
 * living in a lab network namespace (so it is found even when its nspawn is gone).
 */
export async function findContainers(dirs: StateDir, net: LabNetwork | null): Promise<LabProcesses> {
  const procs = await listProcesses();
  const hostsDir = dirs.hostsDir + '/';
  const nspawn = new Map<string, ProcessInfo>();
  for (const p of procs) {
    const dirArg = p.argv.find((a) => a.startsWith(`--directory=${hostsDir}`));
    if (dirArg && path.basename(p.argv[0] ?? '') === 'systemd-nspawn') {
      nspawn.set(dirArg.slice(`--directory=${hostsDir}`.length).split('/')[0], p);
    }
  }
  const hostByNetns = new Map<number, string>();
  for (const ns of net ? await labNamespaces(net) : []) {
    const st = await fs.stat(`/run/netns/${ns}`).catch(() => null);
    if (st) hostByNetns.set(st.ino, ns.slice(net!.prefix.length));
  }
  const hostByNspawn = new Map([...nspawn].map(([host, p]) => [p.pid, host]));
  const inits = new Map<string, ProcessInfo>();
  for (const p of procs) {
    if (!p.namespaceInit) continue;
    const host = hostByNspawn.get(p.ppid) ?? hostByNetns.get(p.netns);
    if (host) inits.set(host, p);
  }
  return { nspawn, inits };
}

/** True when the host's nspawn and its systemd are both alive. */
export function isRunning(found: LabProcesses, host: string): boolean {
  return found.nspawn.has(host) && found.inits.has(host);
}

/**
 * Stops every lab container: SIGTERM to nspawn asks systemd inside for a clean poweroff;
 * whatever is left then gets SIGKILL on its PID 1, which ends its whole PID namespace
 * (killing nspawn alone would leave systemd and its services running, reparented).
 */
export async function stopContainers(dirs: StateDir, net: LabNetwork | null): Promise<void> {
  let found = await findContainers(dirs, net);
  const nspawnPids = [...found.nspawn.values()].map((p) => p.pid);
  nspawnPids.forEach((pid) => signal(pid, 'SIGTERM'));
  await waitForExit(nspawnPids, 5_000);
  found = await findContainers(dirs, net);
  const initPids = [...found.inits.values()].map((p) => p.pid);
  initPids.forEach((pid) => signal(pid, 'SIGKILL'));
  await waitForExit(initPids, 5_000);
  found = await findContainers(dirs, net);
  const left = [...found.nspawn.values(), ...found.inits.values()].map((p) => p.pid);
  left.forEach((pid) => signal(pid, 'SIGKILL'));
  const stuck = await waitForExit(left, 5_000);
  if (stuck.length > 0) throw new LabError(`lab processes did not end: pids ${stuck.join(', ')}`);
}

/** Mount points under the lab's host directories, deepest first. */
async function labMounts(dirs: StateDir, net: LabNetwork | null): Promise<string[]> {
  const mounts = await fs.readFile('/proc/mounts', 'utf8');
  return mounts
    .split('\n')
    .map((l) => l.split(' ')[1]?.replace(/\\040/g, ' '))
    .filter((m): m is string => !!m && (m.startsWith(dirs.hostsDir + '/') || (!!net && m.startsWith(`${NSPAWN_PROPAGATE}/${net.prefix}`))))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts the host overlays and removes their directories and nspawn's leftovers. */
export async function removeHostRoots(dirs: StateDir, net: LabNetwork | null): Promise<void> {
  for (const m of await labMounts(dirs, net)) {
    const r = await tryRun(['umount', m]);
    if (r.code !== 0) await run(['umount', '--lazy', m]);
  }
  await fs.rm(dirs.hostsDir, { recursive: true, force: true });
  const propagate = await fs.readdir(NSPAWN_PROPAGATE).catch(() => [] as string[]);
  for (const name of propagate.filter((n) => !!net && n.startsWith(net.prefix))) {
    await fs.rm(path.join(NSPAWN_PROPAGATE, name), { recursive: true, force: true });
  }
}

/** Removes one host's directory (its overlay unmounted first); used before re-creating a host that is not running. */
export async function removeHostRoot(dirs: StateDir, net: LabNetwork, host: string): Promise<void> {
  const prefix = dirs.hostDir(host) + '/';
  for (const m of (await labMounts(dirs, net)).filter((m) => m.startsWith(prefix))) {
    const r = await tryRun(['umount', m]);
    if (r.code !== 0) await run(['umount', '--lazy', m]);
  }
  await fs.rm(dirs.hostDir(host), { recursive: true, force: true });
  await fs.rm(path.join(NSPAWN_PROPAGATE, net.netnsName(host)), { recursive: true, force: true });
}
