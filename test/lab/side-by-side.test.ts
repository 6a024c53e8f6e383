// Labs side by side: the test suite brings its own lab up and down while a user's lab runs, and
// the user's lab keeps its hosts, its data and its network. The "user's lab" here is a bystander
// lab made by this test (the real user's lab may or may not be up on a test machine); it is named,
// numbered and torn down like any other, so what holds for it holds for the default lab too.
// Needs root; runs when PLINTH_LAB=1.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { numberedLab } from '../../lab/lab-inventory.js';
import { down, execOnHost, status, statusOfAll, up } from '../../lab/lab.js';
import { acquireLock, type Release } from '../../lab/lock.js';
import { readLabNetwork } from '../../lab/network.js';
import { StateDir } from '../../lab/state-dir.js';

const suiteLab = new StateDir();
const bystander = `${suiteLab.name}-bystander`;
const log = (line: string) => process.stderr.write(`  lab: ${line}\n`);

async function must(lab: string, host: string, command: string): Promise<string> {
  const r = await execOnHost(host, command, { lab });
  if (r.code !== 0) throw new Error(`${lab}/${host}: \`${command}\` exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

describe('a lab is untouched by another lab going up and down', { timeout: 10 * 60_000 }, () => {
  let release: Release;
  const marker = randomBytes(8).toString('hex');

  beforeAll(async () => {
    release = await acquireLock(suiteLab.suiteLock, { waitMs: 40 * 60_000, what: 'lab test suite' });
    await up({ lab: bystander, spec: numberedLab(2), progress: log });
    await must(bystander, 'lab-1', `echo ${marker} > /root/marker`);
  }, 45 * 60_000);

  afterAll(async () => {
    try {
      await down({ lab: bystander, progress: log });
    } finally {
      await release?.();
    }
  }, 5 * 60_000);

  test('the suite lab comes up on another subnet, status lists both, and its down leaves the other running', async () => {
    const machineId = await must(bystander, 'lab-1', 'cat /etc/machine-id');
    const before = await status({ lab: bystander });

    const ours = await up({ spec: numberedLab(2), progress: log });
    expect(ours.lab).toBe(suiteLab.name);
    expect(ours.subnet).not.toBe(before.subnet);
    // Same host names in both labs, different machines.
    expect(await must(suiteLab.name, 'lab-1', 'cat /etc/machine-id')).not.toBe(machineId);
    expect((await execOnHost('lab-1', `cat /root/marker`, { lab: suiteLab.name })).code).not.toBe(0);
    const listed = (await statusOfAll()).map((s) => s.lab);
    expect(listed).toEqual(expect.arrayContaining([suiteLab.name, bystander]));

    await down({ progress: log });
    await down({ progress: log });

    const after = await status({ lab: bystander });
    expect(after).toEqual(before);
    expect(after.hosts.every((h) => h.running && h.sshd)).toBe(true);
    expect(await must(bystander, 'lab-1', 'cat /root/marker')).toBe(marker);
    expect(await must(bystander, 'lab-1', 'cat /etc/machine-id')).toBe(machineId);
    // The two hosts still reach each other over their lab's bridge.
    const lab2 = after.hosts.find((h) => h.name === 'lab-2')!.address;
    expect(await must(bystander, 'lab-1', `bash -c 'exec 3<>/dev/tcp/${lab2}/22 && head -c 4 <&3'`)).toBe('SSH-');
    const net = await readLabNetwork(new StateDir(bystander));
    expect(after.subnet).toBe(net!.subnet);
  });

  test('down of the bystander leaves the suite lab as it is', async () => {
    await up({ spec: numberedLab(1), progress: log });
    const ours = await must(suiteLab.name, 'lab-1', 'cat /etc/machine-id');
    await down({ lab: bystander, progress: log });
    expect((await status({ lab: bystander })).bridge).toBe(false);
    expect(await must(suiteLab.name, 'lab-1', 'cat /etc/machine-id')).toBe(ours);
    await up({ lab: bystander, spec: numberedLab(2), progress: log });
    await down({ progress: log });
  });
});
