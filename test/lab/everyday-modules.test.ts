// The everyday modules on a real Debian host of the lab, over ssh, written the Ansible way and run
// with the CLI as typed: each playbook runs in check mode (which predicts), then for real (which
// changes), then again (0 changed). Needs root and PLINTH_LAB=1; uses the lab named by
// PLINTH_LAB_NAME (never the default one), bringing it up when it is not running.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { acquireLock, type Release } from '../../lab/lock.js';
import { down, execOnHost, status, up } from '../../lab/lab.js';
import { DEFAULT_LAB, StateDir } from '../../lab/state-dir.js';
import { plinth, type CliResult } from '../helpers/cli.js';

const dirs = new StateDir();
const log = (line: string) => process.stderr.write(`  lab: ${line}\n`);

let release: Release;
let ownLab = false;
let host: string;
let address: string;
let inventory: string;
let work: string;

async function onHost(command: string): Promise<string> {
  const r = await execOnHost(host, command);
  if (r.code !== 0) throw new Error(`${host}: \`${command}\` exited ${r.code}: ${r.stderr}`);
  return r.stdout.trim();
}

/** Writes the playbook (hosts: the lab host) and runs it with `plinth run`; stdout and stderr joined in failures. */
async function playbook(name: string, tasks: string, ...flags: string[]): Promise<CliResult & { recap: Record<string, number> }> {
  const file = path.join(work, `${name}.yml`);
  await fs.writeFile(file, `- hosts: ${host}\n  gather_facts: false\n  tasks:\n${tasks.replace(/^/gm, '    ').trimEnd()}\n`);
  const r = await plinth(['run', '-i', inventory, file, ...flags]);
  const line = new RegExp(`^${host}\\s*:\\s*(.*)$`, 'm').exec(r.stdout)?.[1] ?? '';
  const recap = Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1], Number(m[2])]));
  return { ...r, recap };
}

/** Check mode predicts, the first run changes, the second changes nothing. */
async function converges(name: string, tasks: string, changes: number) {
  const check = await playbook(name, tasks, '--check', '--diff');
  expect(check.code, check.stdout + check.stderr).toBe(0);
  expect(check.recap.changed, check.stdout).toBe(changes);
  const first = await playbook(name, tasks, '--diff');
  expect(first.code, first.stdout + first.stderr).toBe(0);
  expect(first.recap.changed, first.stdout).toBe(changes);
  const second = await playbook(name, tasks);
  expect(second.code, second.stdout + second.stderr).toBe(0);
  expect(second.recap.changed, second.stdout).toBe(0);
  return { check, first, second };
}

beforeAll(async () => {
  if (dirs.name === DEFAULT_LAB) throw new Error('lab tests never run on the default lab: set PLINTH_LAB_NAME');
  release = await acquireLock(dirs.suiteLock, { waitMs: 40 * 60_000, what: 'lab test suite' });
  const s = await status();
  ownLab = !s.hosts.some((h) => h.running);
  const lab = ownLab ? await up({ progress: log }) : null;
  const first = lab ? lab.hosts[0] : s.hosts.find((h) => h.running)!;
  host = first.name;
  address = first.address;
  inventory = lab?.inventoryPath ?? (await status()).inventoryPath!;
  work = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-everyday-'));
}, 45 * 60_000);

afterAll(async () => {
  try {
    if (work) await fs.rm(work, { recursive: true, force: true });
    if (ownLab) await down({ progress: log });
  } finally {
    await release?.();
  }
}, 5 * 60_000);

describe('everyday modules on a lab host', { timeout: 10 * 60_000 }, () => {
  test('ping, setup and wait_for over ssh: facts of a Debian 12 host, its sshd port and a file', async () => {
    const r = await playbook(
      'facts',
      [
        '- ping:',
        '  register: p',
        '- setup:',
        '- assert:',
        '    that:',
        '      - "p.ping == \'pong\'"',
        '      - ansible_distribution_major_version == "12"',
        '      - ansible_memtotal_mb > 0 && ansible_facts.processor_vcpus > 0',
        `      - ansible_eth0.ipv4.address == "${address}"`,
        `      - ansible_all_ipv4_addresses.includes("${address}")`,
        '      - ansible_mounts.some(m => m.mount == "/")',
        '- wait_for: { port: 22, search_regex: OpenSSH, timeout: 60 }',
        '- wait_for: { path: /etc/hostname, search_regex: "^(?P<name>[a-z0-9-]+)$" }',
        '  register: hn',
        `- assert: { that: ["hn.match_groupdict.name == '${host}'"] }`,
      ].join('\n'),
    );
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.recap).toMatchObject({ ok: 6, changed: 0, failed: 0 });
    expect(await onHost('hostname')).toBe(host);
  });
});
