// `plinth lab down` leaves the machine as it was: network namespaces, links, mounts,
// firewall rules and the lab's processes. Also covers growing a running lab and `down`
// after a crash. Needs root; runs when PLINTH_LAB=1. A lab that was up before the suite is
// taken down for the comparison and brought back up (same hosts) at the end.
import { execFileSync } from 'node:child_process';
import { promises as fs, readlinkSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as YAML from 'yaml';
import { findContainers } from '../../lab/hosts.js';
import { labFromInventory, numberedLab, type LabHost } from '../../lab/lab-inventory.js';
import { acquireLock, type Release } from '../../lab/lock.js';
import { down, execOnHost, status, up } from '../../lab/lab.js';
import { listProcesses, signal, waitForExit, type ProcessInfo } from '../../lab/procs.js';
import { ensureLabNetwork, type LabNetwork } from '../../lab/network.js';
import { StateDir } from '../../lab/state-dir.js';

const dirs = new StateDir();
const log = (line: string) => process.stderr.write(`  lab: ${line}\n`);
const ourNetns = readlinkSync('/proc/self/ns/net');

/** What the machine has of this lab: other labs (a user's, another suite's) may come and go meanwhile. */
interface Snapshot {
  netns: string;
  links: string;
  mounts: string;
  forward: string;
  processes: ProcessInfo[];
}

function capture(argv: string[]): string {
  return execFileSync(argv[0], argv.slice(1), { encoding: 'utf8' });
}

let net: LabNetwork;

const linesWith = (text: string, keep: (line: string) => boolean) => text.split('\n').filter(keep).join('\n');

async function snapshot(): Promise<Snapshot> {
  const ownLink = (line: string) => {
    const name = line.split(': ')[1]?.split('@')[0] ?? '';
    return name === net.bridge || net.isOwnVeth(name);
  };
  return {
    netns: linesWith(capture(['ip', 'netns', 'list']), (l) => l.startsWith(net.prefix)),
    links: linesWith(capture(['ip', '-o', 'link']), ownLink),
    mounts: linesWith(await fs.readFile('/proc/mounts', 'utf8'), (l) => l.includes(`${dirs.root}/`) || l.includes(`/run/systemd/nspawn/propagate/${net.prefix}`)),
    forward: linesWith(capture(['iptables', '-S', 'FORWARD']), (l) => l.split(' ').includes(net.ruleComment)),
    processes: await listProcesses(),
  };
}

/** Processes that exist now but did not before and belong to this lab: its nspawn, its proxy, anything under its directory. */
function newLabProcesses(before: Snapshot, after: Snapshot): ProcessInfo[] {
  const old = new Set(before.processes.map((p) => `${p.pid} ${p.argv[0]}`));
  return after.processes.filter((p) => !old.has(`${p.pid} ${p.argv[0]}`) && p.argv.some((a) => a.includes(`${dirs.root}/`)));
}

/** Every pid the running lab consists of: nspawn, container inits, the package proxy. */
async function labPids(): Promise<number[]> {
  const found = await findContainers(dirs, net);
  const proxy = (await listProcesses()).filter((p) => p.argv.includes(`${dirs.aptProxyDir}/conf`));
  return [...found.nspawn.values(), ...found.inits.values(), ...proxy].map((p) => p.pid);
}

async function expectAsBefore(before: Snapshot): Promise<void> {
  const after = await snapshot();
  expect(after.netns).toBe(before.netns);
  expect(after.links).toBe(before.links);
  expect(after.mounts).toBe(before.mounts);
  expect(after.forward).toBe(before.forward);
  expect(newLabProcesses(before, after)).toEqual([]);
  expect(await labPids()).toEqual([]);
}

describe('lab down leaves the machine as it was', { timeout: 300_000 }, () => {
  let release: Release;
  let restore: LabHost[] = [];
  let before: Snapshot;

  beforeAll(async () => {
    release = await acquireLock(dirs.suiteLock, { waitMs: 15 * 60_000, what: 'lab test suite' });
    net = await ensureLabNetwork(dirs);
    const s = await status();
    if (s.hosts.some((h) => h.running)) restore = s.hosts;
    await down({ progress: log });
    before = await snapshot();
    expect(ourNetns).toMatch(/^net:\[\d+\]$/);
  }, 20 * 60_000);

  afterAll(async () => {
    try {
      if (restore.length > 0) await up({ spec: { hosts: restore }, progress: log });
    } finally {
      await release?.();
    }
  }, 20 * 60_000);

  test('up, grow by an inventory, down twice: nothing of the lab is left', async () => {
    const first = await up({ spec: numberedLab(2), progress: log });
    expect(first.started).toEqual(['lab-1', 'lab-2']);
    const machineId = (await execOnHost('lab-1', 'cat /etc/machine-id')).stdout;

    // While up, the machine does differ: the comparison below is not vacuous.
    const during = await snapshot();
    expect(during.netns).toContain(net.netnsName('lab-1'));
    expect(during.links).toContain(net.bridge);
    expect(during.mounts).toContain(dirs.hostRoot('lab-2'));

    const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-lab-test-'));
    const inventoryFile = path.join(tmp, 'hosts.yml');
    await fs.writeFile(
      inventoryFile,
      YAML.stringify({
        all: { hosts: { 'lab-1': null, 'lab-2': null }, children: { extra: { hosts: { 'lab-3': { role: 'spare' } } } } },
      }),
    );
    const written = path.join(tmp, 'lab-inventory.yml');
    const grown = await up({ spec: await labFromInventory(inventoryFile), inventoryPath: written, progress: log });
    expect(grown.started).toEqual(['lab-3']);
    const lab3 = grown.hosts.find((h) => h.name === 'lab-3');
    expect(lab3?.groups).toEqual(['extra']);
    // lab-1 kept running (same machine-id) and learned the new host's name.
    expect((await execOnHost('lab-1', 'cat /etc/machine-id')).stdout).toBe(machineId);
    expect((await execOnHost('lab-1', 'getent hosts lab-3')).stdout).toContain(lab3!.address);
    const doc = YAML.parse(await fs.readFile(written, 'utf8'));
    expect(doc.all.children.extra.hosts['lab-3']).toMatchObject({ role: 'spare', ansible_host: lab3!.address });

    const pids = await labPids();
    expect(pids.length).toBe(3 + 3 + 1);
    await down({ progress: log });
    expect(await waitForExit(pids, 0)).toEqual([]);
    await expectAsBefore(before);

    await down({ progress: log });
    await expectAsBefore(before);
    await fs.rm(tmp, { recursive: true, force: true });
  });

  test('down cleans up after a crash: nspawn killed, state file lost', async () => {
    await up({ spec: numberedLab(2), progress: log });
    const found = await findContainers(dirs, net);
    const orphanInit = found.inits.get('lab-1')!.pid;
    const nspawn = found.nspawn.get('lab-1')!.pid;
    signal(nspawn, 'SIGKILL');
    expect(await waitForExit([nspawn], 5_000)).toEqual([]);
    await fs.rm(dirs.stateFile);
    // Killing nspawn alone leaves the container's systemd running, reparented.
    expect((await waitForExit([orphanInit], 500)).length).toBe(1);

    await down({ progress: log });
    expect(await waitForExit([orphanInit], 0)).toEqual([]);
    await expectAsBefore(before);
  });
});
