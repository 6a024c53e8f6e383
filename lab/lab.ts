// The lab's three operations — up, down, status — and `ssh` into one of its hosts.
//
// `up` is idempotent: on a running lab it starts only the hosts that are missing and
// rewrites /etc/hosts, known_hosts and the inventory for all. `down` finds what is the lab's
// by name (its namespaces, veths, bridge and firewall rule, all named from the lab's number;
// mounts and processes under its state directory), so it is safe to run twice, before `up`,
// or after a crash. Labs are independent: each has its own name, state directory, subnet and
// package proxy, and shares only the base image; `down` of one never touches another.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { aptProxyRunning, ensureAptProxy, stopAptProxy } from './apt-proxy.js';
import { baseIsCurrent, ensureBaseImage } from './base-image.js';
import { LabError, quiet, type Progress } from './lab-error.js';
import { bootHost, etcHosts, findContainers, hostPublicKeys, isRunning, prepareHostRoot, removeHostRoot, removeHostRoots, stopContainers, writeEtcHosts } from './hosts.js';
import { assignAddresses, blogLab, inventoryDocument, inventoryText, type LabHost, type LabSpec } from './lab-inventory.js';
import { ensureLabKey, writeKnownHosts, type HostKeys } from './keys.js';
import { acquireLock } from './lock.js';
import { bridgeExists, checkSubnetFree, ensureBridge, ensureHostNetwork, ensureLabNetwork, noteNetnsMount, readLabNetwork, removeNetwork } from './network.js';
import { missingToolError } from './run.js';
import { sshCapture, sshdAnswers, sshInteractive, waitForSshd, type SshResult } from './ssh-client.js';
import { knownLabs, StateDir } from './state-dir.js';

export interface LabOptions {
  /** Which lab; default $PLINTH_LAB_NAME, else the default lab. */
  lab?: string;
  progress?: Progress;
}

export interface UpOptions extends LabOptions {
  /** Which hosts; default: the running lab's hosts, or the blog's four when none runs. */
  spec?: LabSpec;
  /** Where to write the inventory; default <state>/inventory.yml. */
  inventoryPath?: string;
}

export interface LabState {
  hosts: LabHost[];
  /** The lab's number: its subnet is 198.18.<index>.0/24. */
  index?: number;
  /** The user's inventory the hosts came from, if any (kept so later `up`s keep its variables). */
  sourceInventory?: Record<string, unknown>;
  inventoryPath: string;
}

export interface UpResult {
  lab: string;
  subnet: string;
  hosts: LabHost[];
  started: string[];
  inventoryPath: string;
  knownHostsPath: string;
  keyPath: string;
  /** Seconds; baseBuild is null when the cached base was used. */
  timings: { baseBuild: number | null; up: number };
}

async function readState(dirs: StateDir): Promise<LabState | null> {
  try {
    return JSON.parse(await fs.readFile(dirs.stateFile, 'utf8')) as LabState;
  } catch {
    return null;
  }
}

async function writeState(dirs: StateDir, state: LabState): Promise<void> {
  await fs.writeFile(`${dirs.stateFile}.tmp`, JSON.stringify(state, null, 2) + '\n');
  await fs.rename(`${dirs.stateFile}.tmp`, dirs.stateFile);
}

function requireRoot(): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new LabError('the lab needs root (network namespaces, mounts, containers): run it with sudo or as root');
  }
}

const PATH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

async function onPath(tool: string): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(':').filter(Boolean), ...PATH_DIRS];
  for (const d of dirs) {
    if (
      await fs.access(path.join(d, tool), fs.constants.X_OK).then(
        () => true,
        () => false,
      )
    )
      return true;
  }
  return false;
}

async function requireTools(tools: string[]): Promise<void> {
  for (const tool of tools) if (!(await onPath(tool))) throw missingToolError(tool);
}

function elapsed(since: number): number {
  return Math.round((Date.now() - since) / 100) / 10;
}

/** Labs other than this one whose hosts run now (they use the shared base image). */
async function otherRunningLabs(dirs: StateDir): Promise<string[]> {
  const names: string[] = [];
  for (const name of await knownLabs(dirs.top)) {
    if (name === dirs.name) continue;
    const other = new StateDir(name, dirs.top);
    const found = await findContainers(other, await readLabNetwork(other));
    if (found.nspawn.size > 0 || found.inits.size > 0) names.push(name);
  }
  return names;
}

/** Builds the shared base image when its recipe changed; never under a host that runs on it. */
async function ensureCurrentBase(dirs: StateDir, progress: Progress): Promise<number | null> {
  if (await baseIsCurrent(dirs)) return null;
  const release = await acquireLock(dirs.baseLock, { waitMs: 15 * 60_000, what: 'base image build' });
  try {
    if (await baseIsCurrent(dirs)) return null;
    const found = await findContainers(dirs, await readLabNetwork(dirs));
    const users = [...(found.nspawn.size > 0 ? [dirs.name] : []), ...(await otherRunningLabs(dirs))];
    if (users.length > 0) {
      throw new LabError(`the base image recipe changed while labs run on it (${users.join(', ')}): ` + 'take them down first (`plinth lab down --lab NAME`)');
    }
    await requireTools(['mmdebstrap']);
    return await ensureBaseImage(dirs, progress);
  } finally {
    await release();
  }
}

/** Brings the lab up (or completes it) and writes its inventory and known_hosts. */
export async function up(opts: UpOptions = {}): Promise<UpResult> {
  const started = Date.now();
  const progress = opts.progress ?? quiet;
  const dirs = new StateDir(opts.lab);
  requireRoot();
  await requireTools(['ip', 'mount', 'umount', 'chroot', 'systemd-nspawn', 'ssh', 'ssh-keygen', 'apt-cacher-ng']);
  await fs.mkdir(dirs.root, { recursive: true });
  const release = await acquireLock(dirs.lock, { waitMs: 60_000 });
  try {
    return await upLocked(dirs, opts, progress, started);
  } finally {
    await release();
  }
}

async function upLocked(dirs: StateDir, opts: UpOptions, progress: Progress, started: number): Promise<UpResult> {
  const net = await ensureLabNetwork(dirs);
  const found = await findContainers(dirs, net);
  const previous = await readState(dirs);
  const running = (previous?.hosts ?? []).filter((h) => isRunning(found, h.name));
  if (running.length === 0) await cleanUp(dirs, quiet); // leftovers of a crash, if any

  const spec = opts.spec ?? (previous ? { hosts: previous.hosts, inventory: previous.sourceInventory } : blogLab());
  const hosts = assignAddresses(net, spec.hosts, running);
  const toStart = hosts.filter((h) => !running.some((r) => r.name === h.name));
  const kept = running.filter((r) => !spec.hosts.some((s) => s.name === r.name));
  if (kept.length > 0) progress(`keeping running hosts not in the request: ${kept.map((h) => h.name).join(', ')}`);

  if (running.length === 0) await checkSubnetFree(net);
  const baseBuild = await ensureCurrentBase(dirs, progress);
  if (baseBuild === null) progress('base image: cached');

  const authorizedKey = await ensureLabKey(dirs);
  await ensureBridge(net);
  await ensureAptProxy(dirs, net);
  await noteNetnsMount(dirs.netnsMountMarker);

  const hostsText = etcHosts(net, hosts);
  const bootStart = Date.now();
  if (toStart.length > 0) progress(`starting ${toStart.map((h) => h.name).join(', ')}`);
  await Promise.all(
    toStart.map(async (h) => {
      await removeHostRoot(dirs, net, h.name);
      await ensureHostNetwork(net, h.name, h.address);
      await prepareHostRoot(dirs, net, h, authorizedKey, hostsText);
      await bootHost(dirs, net, h.name);
    }),
  );
  for (const h of running) await writeEtcHosts(dirs, h.name, hostsText);

  await Promise.all(hosts.map((h) => waitForSshd(h.name, h.address, path.join(dirs.hostDir(h.name), 'console.log'))));
  if (toStart.length > 0) progress(`sshd answers on all hosts (${elapsed(bootStart)} s after start)`);

  const keys: HostKeys[] = await Promise.all(hosts.map(async (h) => ({ name: h.name, address: h.address, publicKeys: await hostPublicKeys(dirs, h.name) })));
  await writeKnownHosts(dirs, keys);

  const sourceInventory = opts.spec ? opts.spec.inventory : previous?.sourceInventory;
  const inventoryPath = path.resolve(opts.inventoryPath ?? dirs.inventory);
  const doc = inventoryDocument(net, hosts, dirs.labKey, dirs.knownHosts, sourceInventory);
  // The default inventory always describes the running lab; --write-inventory adds a copy.
  for (const file of new Set([dirs.inventory, inventoryPath])) {
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, inventoryText(doc));
  }
  await writeState(dirs, { hosts, index: net.index, sourceInventory, inventoryPath });

  const result: UpResult = {
    lab: dirs.name,
    subnet: net.subnet,
    hosts,
    started: toStart.map((h) => h.name),
    inventoryPath,
    knownHostsPath: dirs.knownHosts,
    keyPath: dirs.labKey,
    timings: { baseBuild, up: elapsed(started) },
  };
  progress(`lab ${dirs.name} (${net.subnet}) up in ${result.timings.up} s` + (baseBuild !== null ? ` (base image build ${baseBuild.toFixed(0)} s of it)` : ''));
  progress(`inventory: ${inventoryPath}`);
  return result;
}

/** Removes the lab's processes, mounts, namespaces, links, rules and runtime files; keeps the base, key and apt cache. */
async function cleanUp(dirs: StateDir, progress: Progress): Promise<void> {
  const net = await readLabNetwork(dirs);
  await stopContainers(dirs, net);
  progress('hosts stopped');
  await removeHostRoots(dirs, net);
  if (net) await removeNetwork(net, dirs.netnsMountMarker);
  await stopAptProxy(dirs);
  const state = await readState(dirs);
  for (const f of [dirs.stateFile, dirs.knownHosts, dirs.inventory]) await fs.rm(f, { force: true });
  if (state?.inventoryPath && state.inventoryPath !== dirs.inventory) {
    progress(`left the inventory ${state.inventoryPath} (its hosts are gone)`);
  }
}

/** Takes the whole lab down. Safe to run when nothing (or only part of it) is up. */
export async function down(opts: LabOptions = {}): Promise<{ seconds: number }> {
  const started = Date.now();
  const progress = opts.progress ?? quiet;
  const dirs = new StateDir(opts.lab);
  requireRoot();
  await requireTools(['ip', 'umount']);
  await fs.mkdir(dirs.root, { recursive: true });
  const release = await acquireLock(dirs.lock, { waitMs: 60_000 });
  try {
    await cleanUp(dirs, progress);
  } finally {
    await release();
  }
  const seconds = elapsed(started);
  progress(`lab ${dirs.name} down in ${seconds} s`);
  return { seconds };
}

export interface HostStatus {
  name: string;
  address: string;
  groups: string[];
  running: boolean;
  sshd: boolean;
}

export interface LabStatus {
  lab: string;
  /** null for a named lab that never came up. */
  subnet: string | null;
  hosts: HostStatus[];
  bridge: boolean;
  aptProxy: boolean;
  inventoryPath: string | null;
}

export async function status(opts: LabOptions = {}): Promise<LabStatus> {
  const dirs = new StateDir(opts.lab);
  requireRoot();
  const state = await readState(dirs);
  const net = await readLabNetwork(dirs);
  const found = await findContainers(dirs, net);
  const hosts = await Promise.all(
    (state?.hosts ?? []).map(async (h) => {
      const running = isRunning(found, h.name);
      return { ...h, running, sshd: running && (await sshdAnswers(h.address)) };
    }),
  );
  return {
    lab: dirs.name,
    subnet: net?.subnet ?? null,
    hosts,
    bridge: net !== null && (await bridgeExists(net)),
    aptProxy: await aptProxyRunning(dirs),
    inventoryPath: state?.inventoryPath ?? null,
  };
}

/** The status of every lab that has a directory (`plinth lab status` without --lab). */
export async function statusOfAll(): Promise<LabStatus[]> {
  requireRoot();
  const all = await Promise.all((await knownLabs()).map((lab) => status({ lab })));
  return all.filter((s) => s.lab === new StateDir().name || s.hosts.length > 0);
}

async function labHost(dirs: StateDir, name: string): Promise<LabHost> {
  const state = await readState(dirs);
  const upCommand = dirs.isDefault ? 'plinth lab up' : `plinth lab up --lab ${dirs.name}`;
  if (!state) throw new LabError(`the lab ${dirs.name} is not up: run \`${upCommand}\``);
  const host = state.hosts.find((h) => h.name === name);
  if (!host) {
    throw new LabError(`no host named ${name} in the lab ${dirs.name}; it has ${state.hosts.map((h) => h.name).join(', ')}`);
  }
  return host;
}

/** `plinth lab ssh`: a shell (no command) or a command on a host, attached to this terminal. */
export async function ssh(name: string, command: string[], opts: LabOptions = {}): Promise<number> {
  const dirs = new StateDir(opts.lab);
  return sshInteractive(dirs, (await labHost(dirs, name)).address, command);
}

/** Runs a shell command on a lab host and returns its exit code and output (for tests and scripts). */
export async function execOnHost(name: string, command: string, opts: LabOptions = {}): Promise<SshResult> {
  const dirs = new StateDir(opts.lab);
  return sshCapture(dirs, (await labHost(dirs, name)).address, command);
}
