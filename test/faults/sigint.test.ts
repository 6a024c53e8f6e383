// Ctrl-C during a run, as a terminal sends it: SIGINT to the CLI's whole process group. Two
// ssh hosts (real sshd) and the local machine. The tasks in flight finish, no new task starts,
// the exit code is 99, a recap is printed, and no file on any host is half-written: no
// `.plinth-*` temp file is left, and every target holds either its old or its new content.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { repoRoot } from '../helpers/cli.js';
import { eventually, startFleet, stopFleet, writeSshInventory, type FleetHost } from '../fixtures/faults/fleet.js';

const HOSTS = ['ssh1', 'ssh2', 'local1'];
const ITEMS = Array.from({ length: 12 }, (_, i) => i + 1);
const OLD = 'old content\n';
const NEW = `${'new content, long enough to take a while to move over ssh. '.repeat(4096)}\n`;

let root: string;
let fleet: FleetHost[];
let inventory: string;
const children = new Set<number>();

beforeAll(async () => {
  root = mkdtempSync(path.join(os.tmpdir(), 'plinth-faults-sigint-'));
  fleet = await startFleet(['ssh1', 'ssh2']);
  inventory = writeSshInventory(root, fleet);
  writeFileSync(inventory, `${readFileSync(inventory, 'utf8')}    local1:\n      ansible_connection: local\n`);
  writeFileSync(path.join(root, 'content.yml'), `new_content: ${JSON.stringify(NEW)}\n`);
}, 60_000);

afterEach(() => {
  // Only after a failed test: the CLI (its own process group) and what it started.
  for (const pid of children) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone.
    }
  }
  children.clear();
});

afterAll(async () => {
  await stopFleet(fleet ?? []);
  rmSync(root, { recursive: true, force: true });
});

const playbook = (work: string) => `- hosts: all
  gather_facts: false
  vars_files: [${path.join(root, 'content.yml')}]
  vars:
    dir: "${work}/{{ inventory_hostname }}"
  tasks:
    - name: rewrite the data files
      copy: { dest: "{{ dir }}/data-{{ item }}.txt", content: "{{ new_content }}" }
      loop: ${JSON.stringify(ITEMS)}
    - name: slow
      shell: |
        touch "{{ dir }}/slow-started"
        sleep 4
        touch "{{ dir }}/slow-finished"
    - name: after the interruption
      copy: { dest: "{{ dir }}/late.conf", content: "new\\n" }
`;

/** A work dir with each host's target files holding their old content. */
function prepare(name: string): string {
  const work = mkdtempSync(path.join(root, `${name}-`));
  for (const h of HOSTS) {
    mkdirSync(path.join(work, h));
    for (const i of ITEMS) writeFileSync(path.join(work, h, `data-${i}.txt`), OLD);
    writeFileSync(path.join(work, h, 'late.conf'), 'old\n');
  }
  writeFileSync(path.join(work, 'pb.yml'), playbook(work));
  return work;
}

interface Interrupted {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in its own process group and sends SIGINT to the group once `when` holds. */
async function runAndInterrupt(work: string, when: () => boolean): Promise<Interrupted> {
  const child = spawn(process.execPath, [path.join(repoRoot, 'bin', 'plinth.js'), 'run', '-i', inventory, path.join(work, 'pb.yml')], {
    cwd: repoRoot,
    env: { ...process.env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  children.add(child.pid!);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
  child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let running = true;
  void exited.then(() => (running = false));
  const reached = await eventually(() => !running || when(), 45_000);
  expect(reached && running, `the run ended before the interruption point:\n${stdout}\n${stderr}`).toBe(true);
  process.kill(-child.pid!, 'SIGINT');
  const code = await exited;
  children.delete(child.pid!);
  return { code, stdout, stderr };
}

function tempFiles(work: string): string[] {
  return HOSTS.flatMap((h) =>
    readdirSync(path.join(work, h))
      .filter((f) => f.includes('.plinth-'))
      .map((f) => `${h}/${f}`),
  );
}

function dataFiles(work: string): Record<string, 'old' | 'new' | 'torn'> {
  const out: Record<string, 'old' | 'new' | 'torn'> = {};
  for (const h of HOSTS) {
    for (const i of ITEMS) {
      const text = readFileSync(path.join(work, h, `data-${i}.txt`), 'utf8');
      out[`${h}/data-${i}.txt`] = text === OLD ? 'old' : text === NEW ? 'new' : 'torn';
    }
  }
  return out;
}

function expectRecap(r: Interrupted): void {
  expect(r.stdout).toMatch(/PLAY RECAP \*+\n/);
  for (const h of HOSTS) expect(r.stdout).toMatch(new RegExp(`^${h}\\s+: ok=\\d+\\s+changed=\\d+`, 'm'));
  expect(r.stdout).toContain('Interrupted: tasks in flight were finished, no new task was started.');
  expect(r.stderr).toContain('Interrupted: finishing the tasks in flight, starting no new one...');
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('SIGINT (Ctrl-C) during a run', () => {
  test('in the middle of file writes: the writing task finishes everywhere, nothing is torn, no later task starts, exit 99', async () => {
    const work = prepare('writes');
    const r = await runAndInterrupt(work, () => HOSTS.some((h) => existsSync(path.join(work, h, 'data-1.txt')) && readFileSync(path.join(work, h, 'data-1.txt'), 'utf8') === NEW));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(99);
    expectRecap(r);
    expect(tempFiles(work)).toEqual([]);
    const files = dataFiles(work);
    expect(Object.values(files).filter((v) => v === 'torn')).toEqual([]);
    // The task in flight was finished on every host, so every data file is new.
    expect(Object.entries(files).filter(([, v]) => v !== 'new')).toEqual([]);
    for (const h of HOSTS) {
      expect(existsSync(path.join(work, h, 'slow-started'))).toBe(false);
      expect(readFileSync(path.join(work, h, 'late.conf'), 'utf8')).toBe('old\n');
    }
  });

  test('during a slow command: the command finishes on every host (the local one too), the next task never starts, exit 99', async () => {
    const work = prepare('slow');
    const r = await runAndInterrupt(work, () => HOSTS.every((h) => existsSync(path.join(work, h, 'slow-started'))));
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(99);
    expectRecap(r);
    expect(r.stdout).toMatch(/^ssh1\s+: ok=2\s+changed=2\s+unreachable=0\s+failed=0/m);
    expect(r.stdout).toMatch(/^local1\s+: ok=2\s+changed=2\s+unreachable=0\s+failed=0/m);
    expect(tempFiles(work)).toEqual([]);
    expect(Object.entries(dataFiles(work)).filter(([, v]) => v !== 'new')).toEqual([]);
    for (const h of HOSTS) {
      expect(existsSync(path.join(work, h, 'slow-finished'))).toBe(true);
      expect(readFileSync(path.join(work, h, 'late.conf'), 'utf8')).toBe('old\n');
    }
  });
});
