// A full disk and a read-only file system under a template write, on the local connection and
// over ssh (a real sshd, files over SFTP). The write is atomic: it fails with a message that
// says why, the old file stays byte for byte, and no temp file is left beside it.
// Needs root (mount); every mount is undone in afterAll.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { jsonEvents, spawnPlinth, startFleet, stopFleet, writeSshInventory, type FleetHost } from '../fixtures/faults/fleet.js';

const OLD = 'listen = 127.0.0.1\n# the old configuration, kept whole when a write fails\n';

let root: string;
let fleet: FleetHost[];
const mounts: string[] = [];

function mount(...args: string[]): void {
  execFileSync('mount', args, { stdio: 'pipe' });
}

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'plinth-faults-disk-'));
  fleet = await startFleet(['remote']);
  writeSshInventory(root, fleet);
  const inventory = path.join(root, 'inventory.yml');
  writeFileSync(inventory, `${readFileSync(inventory, 'utf8')}    local:\n      ansible_connection: local\n`);
  mkdirSync(path.join(root, 'templates'));
  // Bigger than anything a full 64 KiB tmpfs could still hold.
  writeFileSync(path.join(root, 'templates', 'app.conf.ejs'), 'listen = <%= listen %>\n' + '# padding\n'.repeat(2000));
}, 60_000);

afterAll(async () => {
  // Innermost first; a mount that is still busy is unmounted lazily rather than left behind.
  for (const dir of mounts.reverse()) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
    }
  }
  await stopFleet(fleet ?? []);
  rmSync(root, { recursive: true, force: true });
});

/** A 64 KiB tmpfs holding the old file, then filled up to the last byte. */
function fullDisk(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  mount('-t', 'tmpfs', '-o', 'size=64k,mode=0755', 'tmpfs', dir);
  mounts.push(dir);
  writeFileSync(path.join(dir, 'app.conf'), OLD);
  try {
    execFileSync('dd', ['if=/dev/zero', `of=${path.join(dir, 'filler')}`, 'bs=4096'], { stdio: 'pipe' });
  } catch {
    // dd stops with "No space left on device": that is the point.
  }
  expect(() => writeFileSync(path.join(dir, 'probe'), 'x'.repeat(4096))).toThrow(/ENOSPC/);
  rmSync(path.join(dir, 'probe'), { force: true });
  return dir;
}

/** A directory holding the old file, bind-mounted read-only over itself. */
function readOnly(name: string): string {
  const dir = path.join(root, name);
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'app.conf'), OLD);
  mount('--bind', dir, dir);
  mounts.push(dir);
  mount('-o', 'remount,ro,bind', dir);
  expect(() => writeFileSync(path.join(dir, 'probe'), 'x')).toThrow(/EROFS/);
  return dir;
}

async function writeTemplate(host: string, dir: string) {
  const pb = path.join(root, `pb-${path.basename(dir)}.yml`);
  writeFileSync(
    pb,
    `- hosts: ${host}
  gather_facts: false
  tasks:
    - name: render app.conf
      template: { src: app.conf.ejs, dest: "${dir}/app.conf" }
      vars: { listen: 0.0.0.0 }
    - name: not reached
      command: "true"
`,
  );
  const run = spawnPlinth(['-i', path.join(root, 'inventory.yml'), pb, '--json']);
  const code = await run.exited;
  const results = jsonEvents(run.stdout()).filter((e) => e.type === 'result');
  return { code, results, stderr: run.stderr() };
}

function leftovers(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.includes('.plinth-'));
}

const cases: [string, (name: string) => string, RegExp][] = [
  ['a full disk', fullDisk, /[Nn]o space left on device/],
  ['a read-only file system', readOnly, /[Rr]ead-only file system/],
];

for (const host of ['local', 'remote']) {
  describe(`${host === 'local' ? 'local connection' : 'ssh'}: a template write`, () => {
    for (const [what, make, reason] of cases) {
      test(`on ${what} fails with a clear message and leaves the old file intact`, async () => {
        const dir = make(`${host}-${what.replace(/\W+/g, '-')}`);
        const r = await writeTemplate(host, dir);
        expect(
          r.results.map((e) => `${e.task}=${e.status}`),
          r.stderr,
        ).toEqual(['render app.conf=failed']);
        const message: string = r.results[0].message;
        expect(message).toContain(`cannot write ${dir}/app.conf`);
        expect(message).toMatch(reason);
        expect(message).not.toMatch(/\n\s+at /);
        expect(readFileSync(path.join(dir, 'app.conf'), 'utf8')).toBe(OLD);
        expect(leftovers(dir)).toEqual([]);
        expect(existsSync(path.join(dir, 'app.conf'))).toBe(true);
        expect(r.code).toBe(2);
      });
    }
  });
}
