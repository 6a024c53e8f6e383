// The first of the README's commands starts with scripts/install-debian-packages.sh on a fresh
// Debian 12 machine. Here that machine is a lab host: a fresh Debian from the lab's base image,
// with nothing of plinth's packages installed, reaching Debian's mirror only through its lab's apt
// proxy. The real script with the real apt-get, once on a host that already ships a policy-rc.d
// (as Docker-style images do) and once on a host without one.
// Needs root; runs when PLINTH_LAB=1. Uses a lab of its own beside the suite's.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { quoteArg } from '../../engine/connection/shell-quote.js';
import { numberedLab } from '../../lab/lab-inventory.js';
import { down, execOnHost, up } from '../../lab/lab.js';
import { selectedLab } from '../../lab/state-dir.js';

const lab = `${selectedLab()}-installer`;
const log = (line: string) => process.stderr.write(`  lab ${lab}: ${line}\n`);
const script = readFileSync(path.join(__dirname, '../../scripts/install-debian-packages.sh'), 'utf8');
const packages = /^packages="([^"]*)"/m.exec(script)![1].split(/\s+/).filter(Boolean);
const SHIPPED_POLICY = "#!/bin/sh\n# shipped with the image, not plinth's\nexit 101\n";

async function sh(host: string, command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return execOnHost(host, command, { lab });
}

async function must(host: string, command: string): Promise<string> {
  const r = await sh(host, command);
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

async function installedPackages(host: string): Promise<string[]> {
  const r = await sh(host, `dpkg-query -W -f='\${Package} \${Status}\\n' ${packages.join(' ')} 2>/dev/null`);
  return r.stdout
    .split('\n')
    .filter((l) => l.endsWith(' install ok installed'))
    .map((l) => l.split(' ')[0])
    .sort();
}

describe('install-debian-packages.sh on a fresh Debian 12', { timeout: 20 * 60_000 }, () => {
  beforeAll(async () => {
    await down({ lab, progress: log });
    await up({ lab, spec: numberedLab(2), progress: log });
    for (const host of ['lab-1', 'lab-2']) {
      await must(host, `printf %s ${quoteArg(script)} > /root/install-debian-packages.sh`);
    }
    await must('lab-1', `printf %s ${quoteArg(SHIPPED_POLICY)} > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d`);
    await must('lab-2', 'rm -f /usr/sbin/policy-rc.d');
  }, 10 * 60_000);

  afterAll(async () => {
    await down({ lab, progress: log });
  }, 5 * 60_000);

  test('the hosts start without the packages (the test is not vacuous)', async () => {
    for (const host of ['lab-1', 'lab-2']) expect(await installedPackages(host)).not.toEqual([...packages].sort());
  });

  test('exits 0 on both hosts, installs every package, keeps the shipped policy-rc.d and leaves none behind', async () => {
    const [withPolicy, without] = await Promise.all([sh('lab-1', 'bash /root/install-debian-packages.sh'), sh('lab-2', 'bash /root/install-debian-packages.sh')]);
    expect({ code: withPolicy.code, stderr: withPolicy.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(withPolicy.stdout).toContain('install-debian-packages: done');
    expect({ code: without.code, stderr: without.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(without.stdout).toContain('install-debian-packages: done');

    for (const host of ['lab-1', 'lab-2']) expect(await installedPackages(host)).toEqual([...packages].sort());
    expect(await must('lab-1', 'cat /usr/sbin/policy-rc.d')).toBe(SHIPPED_POLICY);
    expect((await sh('lab-2', 'test -e /usr/sbin/policy-rc.d')).code).toBe(1);
    // policy-rc.d kept services from starting while installing: no PostgreSQL or pgpool runs.
    expect((await sh('lab-2', 'systemctl is-active --quiet postgresql@15-main')).code).not.toBe(0);
    expect((await sh('lab-2', 'systemctl is-active --quiet pgpool2')).code).not.toBe(0);
  });

  test('a second run, under sh as its shebang says, finds everything and exits 0', async () => {
    for (const host of ['lab-1', 'lab-2']) {
      const again = await sh(host, 'sh /root/install-debian-packages.sh');
      expect({ host, code: again.code, stdout: again.stdout.trim() }).toEqual({ host, code: 0, stdout: 'install-debian-packages: all present' });
    }
  });
});
