// The lab's hosts are separate machines-in-miniature: own hostname and machine-id, own file
// system, systemd as PID 1, own address on the lab network, and nothing beyond it.
// Needs root; runs when PLINTH_LAB=1 (see vitest.config.ts). Brings the default lab up when
// none is running and takes it down afterwards; a lab that was already up is used and left up.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as YAML from 'yaml';
import { acquireLock, type Release } from '../../lab/lock.js';
import { down, execOnHost, status, up, type UpResult } from '../../lab/lab.js';
import { sshArgv } from '../../lab/ssh-client.js';
import { StateDir } from '../../lab/state-dir.js';

const dirs = new StateDir();
const log = (line: string) => process.stderr.write(`  lab: ${line}\n`);

async function sh(host: string, command: string): Promise<string> {
  const r = await execOnHost(host, command);
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A host's variables wherever the (Ansible-shaped) inventory lists them. */
function hostVars(group: Record<string, any>, name: string): Record<string, unknown> {
  for (const body of Object.values(group ?? {})) {
    if (body?.hosts?.[name]) return body.hosts[name];
    const inChildren = body?.children ? hostVars(body.children, name) : {};
    if (Object.keys(inChildren).length > 0) return inChildren;
  }
  return {};
}

describe('lab hosts are isolated from each other', { timeout: 120_000 }, () => {
  let release: Release;
  let lab: UpResult;
  let ownLab = false;

  beforeAll(async () => {
    // Lab suites take turns: each may bring the lab up and down.
    release = await acquireLock(dirs.suiteLock, { waitMs: 15 * 60_000, what: 'lab test suite' });
    ownLab = !(await status()).hosts.some((h) => h.running);
    lab = await up({ progress: log });
    expect(lab.hosts.length).toBeGreaterThanOrEqual(2);
  }, 20 * 60_000);

  afterAll(async () => {
    try {
      if (ownLab) await down({ progress: log });
    } finally {
      await release?.();
    }
  }, 120_000);

  test('each host has its own hostname and a fresh machine-id', async () => {
    const ids = new Set<string>();
    for (const h of lab.hosts) {
      const [hostname, machineId] = (await sh(h.name, 'hostname; cat /etc/machine-id')).split('\n');
      expect(hostname).toBe(h.name);
      expect(machineId).toMatch(/^[0-9a-f]{32}$/);
      ids.add(machineId);
    }
    expect(ids.size).toBe(lab.hosts.length);
    expect(readFileSync(`${dirs.base}/etc/machine-id`, 'utf8')).toBe('');
  });

  test('a file written on one host is absent on the others and from the base image', async () => {
    const [writer, ...others] = lab.hosts;
    const token = randomBytes(8).toString('hex');
    const file = `/var/tmp/plinth-isolation-${token}`;
    await sh(writer.name, `echo ${token} > ${file}`);
    try {
      expect(await sh(writer.name, `cat ${file}`)).toBe(token);
      for (const h of others) {
        expect(await sh(h.name, `test -e ${file} && echo present || echo absent`)).toBe('absent');
      }
      expect(existsSync(`${dirs.base}${file}`)).toBe(false);
    } finally {
      await sh(writer.name, `rm -f ${file}`);
    }
  });

  test('systemd is PID 1 and the system reports running or degraded', async () => {
    for (const h of lab.hosts) {
      expect(await sh(h.name, 'cat /proc/1/comm')).toBe('systemd');
      const r = await execOnHost(h.name, 'timeout 60 systemctl is-system-running --wait');
      expect(['running', 'degraded']).toContain(r.stdout.trim());
    }
  });

  test('each host reaches every other by name from its own address, and has no route out', async () => {
    for (const a of lab.hosts) {
      expect(await sh(a.name, 'ip -4 -o addr show dev eth0')).toContain(` ${a.address}/24 `);
      expect(await sh(a.name, 'ip -4 route show default')).toBe('');
      for (const b of lab.hosts.filter((h) => h !== a)) {
        expect(await sh(a.name, `ip -4 route get ${b.address}`)).toContain(`src ${a.address}`);
        const banner = await sh(a.name, `timeout 5 bash -c 'exec 3<>/dev/tcp/${b.name}/22; head -c 8 <&3'`);
        expect(banner).toBe('SSH-2.0-');
      }
    }
  });

  test('the inventory points at the lab key and a known_hosts that ssh checks', async () => {
    const inventory = YAML.parse(readFileSync(lab.inventoryPath, 'utf8'));
    const vars = hostVars(inventory, lab.hosts[0].name);
    expect(vars).toMatchObject({
      ansible_host: lab.hosts[0].address,
      ansible_user: 'root',
      ansible_ssh_private_key_file: dirs.labKey,
      plinth_known_hosts_file: dirs.knownHosts,
    });
    const known = readFileSync(dirs.knownHosts, 'utf8');
    for (const h of lab.hosts) expect(known).toContain(`${h.name},${h.address} ssh-ed25519 `);

    // The same ssh command with an empty known_hosts must be refused: host key checking is on.
    const argv = sshArgv(dirs, lab.hosts[0].address).map((a) => (a.startsWith('UserKnownHostsFile=') ? 'UserKnownHostsFile=/dev/null' : a));
    const refused = spawnSync(argv[0], [...argv.slice(1), 'true'], { encoding: 'utf8' });
    expect(refused.status).toBe(255);
    expect(refused.stderr).toMatch(/Host key verification failed/);
  });

  test('status shows every host running with sshd answering', async () => {
    const s = await status();
    expect(s.hosts.map((h) => h.name).sort()).toEqual(lab.hosts.map((h) => h.name).sort());
    for (const h of s.hosts) expect(h).toMatchObject({ running: true, sshd: true });
    expect(s.bridge).toBe(true);
    expect(s.aptProxy).toBe(true);
  });
});
