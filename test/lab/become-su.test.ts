// become_method su on a real Debian host of the lab, as an Ansible user sets it up: the lab's
// inventory, then a second -i (INI) that logs in as one unprivileged user and su's to another
// with that user's password (ansible_su_password). Needs root and PLINTH_LAB=1; uses the lab
// named by PLINTH_LAB_NAME (never the default one), bringing it up when it is not running.
// Creates two users on the host and removes them after.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { acquireLock, type Release } from '../../lab/lock.js';
import { down, execOnHost, status, up } from '../../lab/lab.js';
import { DEFAULT_LAB, StateDir } from '../../lab/state-dir.js';
import { plinth, plinthJson } from '../helpers/cli.js';

const dirs = new StateDir();
const log = (line: string) => process.stderr.write(`  lab: ${line}\n`);
const LOGIN = 'plinth_login';
const TARGET = 'plinth_target';
const targetPassword = `Su-${randomBytes(9).toString('base64url')}`;

let release: Release;
let ownLab = false;
let host: string;
let inventory: string;
let work: string;

async function onHost(command: string): Promise<string> {
  const r = await execOnHost(host, command);
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

beforeAll(async () => {
  if (dirs.name === DEFAULT_LAB) throw new Error('lab tests never run on the default lab: set PLINTH_LAB_NAME');
  release = await acquireLock(dirs.suiteLock, { waitMs: 40 * 60_000, what: 'lab test suite' });
  const s = await status();
  ownLab = !s.hosts.some((h) => h.running);
  const lab = ownLab ? await up({ progress: log }) : null;
  host = (lab ? lab.hosts[0] : s.hosts.find((h) => h.running)!).name;
  inventory = lab?.inventoryPath ?? (await status()).inventoryPath!;
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-su-'));
  // The login user logs in with the lab key (root's authorized key); the target user has only a password.
  await onHost(
    `for u in ${LOGIN} ${TARGET}; do id "$u" >/dev/null 2>&1 || useradd --create-home --shell /bin/sh "$u"; done; ` +
      `echo '${TARGET}:${targetPassword}' | chpasswd; ` +
      `install -d -o ${LOGIN} -m 700 /home/${LOGIN}/.ssh && install -o ${LOGIN} -m 600 /root/.ssh/authorized_keys /home/${LOGIN}/.ssh/authorized_keys`,
  );
}, 45 * 60_000);

afterAll(async () => {
  try {
    if (host) await onHost(`userdel --remove ${LOGIN} 2>/dev/null; userdel --remove ${TARGET} 2>/dev/null; rm -f /tmp/plinth-su-proof; true`);
    if (work) await fs.rm(work, { recursive: true, force: true });
    if (ownLab) await down({ progress: log });
  } finally {
    await release?.();
  }
}, 5 * 60_000);

async function overlay(vars: string): Promise<string> {
  const file = path.join(work, `su-${randomBytes(4).toString('hex')}.ini`);
  await fs.writeFile(file, `${host} ansible_user=${LOGIN} ansible_become=true ansible_become_method=su ansible_become_user=${TARGET} ${vars}\n`);
  return file;
}

describe('become_method su on a lab host', { timeout: 10 * 60_000 }, () => {
  test('commands and files run as the su user; a second run changes nothing; the password is never printed', async () => {
    const su = await overlay(`ansible_su_password=${targetPassword}`);
    const pb = path.join(work, 'su.yml');
    await fs.writeFile(
      pb,
      `- hosts: ${host}
  gather_facts: false
  tasks:
    - command: id -un
      register: who
      changed_when: false
    - copy: { dest: /tmp/plinth-su-proof, content: "written by {{ who.stdout }}\\n", mode: "0640" }
    - command: id -un
      register: login
      become: false
      changed_when: false
`,
    );
    const first = await plinthJson(['-i', inventory, '-i', su, pb, '-v']);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    const results = first.events.filter((e) => e.type === 'result');
    expect(results.map((e) => e.result?.stdout ?? null)).toEqual([TARGET, null, LOGIN]);
    expect(await onHost('stat -c "%U %a" /tmp/plinth-su-proof; cat /tmp/plinth-su-proof')).toBe(`${TARGET} 640\nwritten by ${TARGET}`);
    expect(first.stdout + first.stderr).not.toContain(targetPassword);
    const second = await plinthJson(['-i', inventory, '-i', su, pb]);
    expect(second.code).toBe(0);
    expect(second.events.find((e) => e.type === 'recap')!.hosts[host]).toMatchObject({ changed: 0, failed: 0 });
  });

  test("a wrong su password fails the task with su's own message, and nothing is written", async () => {
    await onHost('rm -f /tmp/plinth-su-proof');
    const wrong = await overlay('ansible_su_password=not-the-password');
    const pb = path.join(work, 'wrong.yml');
    await fs.writeFile(pb, `- hosts: ${host}\n  gather_facts: false\n  tasks:\n    - copy: { dest: /tmp/plinth-su-proof, content: "x" }\n`);
    const r = await plinth(['run', '-i', inventory, '-i', wrong, pb]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/Authentication failure/);
    expect(r.stdout).not.toContain('Password:');
    expect(await onHost('test -e /tmp/plinth-su-proof && echo present || echo absent')).toBe('absent');
  });
});
