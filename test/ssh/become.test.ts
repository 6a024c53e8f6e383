// become over ssh: sudo to another user from a root login, and sudo with a password from a
// non-root login. Creates the user `plinthtest` and a sudoers rule, and removes both after.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UnreachableError } from '../../engine/connection/errors.js';
import { SshHost, type SshOptions } from '../../engine/connection/ssh.js';
import { redactor } from '../../engine/secrets/redact.js';
import { sshOptionsTo, startSshd, type TestSshd } from '../helpers/sshd.js';

const USER = 'plinthtest';
const SUDOERS = '/etc/sudoers.d/plinthtest';
const password = `Pw-${randomBytes(9).toString('base64url')}`;
let createdUser = false;
let sshd: TestSshd;
let work: string;
let uid: number;
let gid: number;

function options(extra: Partial<SshOptions> = {}): SshOptions {
  return sshOptionsTo(sshd, { name: 'db1', connectTimeoutMs: undefined, ...extra });
}

function setSudoers(rule: string): void {
  writeFileSync(`${SUDOERS}.tmp`, `${rule}\n`, { mode: 0o440 });
  execFileSync('visudo', ['-c', '-q', '-f', `${SUDOERS}.tmp`]);
  execFileSync('mv', ['-f', `${SUDOERS}.tmp`, SUDOERS]);
}

/** A directory the test user owns, inside a temp dir everyone may traverse. */
function userDir(mode = 0o700): string {
  const dir = mkdtempSync(path.join(work, 'u-'));
  chownSync(dir, uid, gid);
  chmodSync(dir, mode);
  return dir;
}

beforeAll(async () => {
  try {
    execFileSync('id', [USER], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', USER]);
    createdUser = true;
  }
  execFileSync('chpasswd', { input: `${USER}:${password}\n` });
  uid = Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' }));
  gid = Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' }));
  setSudoers(`${USER} ALL=(ALL:ALL) ALL`);
  sshd = await startSshd({ extraConfig: ['PasswordAuthentication yes'] });
  work = mkdtempSync(path.join(os.tmpdir(), 'plinth-become-'));
  chmodSync(work, 0o755);
}, 30_000);

afterAll(async () => {
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
  rmSync(SUDOERS, { force: true });
  rmSync(`${SUDOERS}.tmp`, { force: true });
  rmSync(`/var/lib/sudo/lectured/${USER}`, { force: true });
  rmSync(`/run/sudo/ts/${USER}`, { force: true });
  if (createdUser) execFileSync('userdel', ['--remove', USER], { stdio: 'ignore' });
});

describe('root login, become another user (sudo -u)', () => {
  let host: SshHost;
  beforeAll(async () => {
    host = await SshHost.connect(options());
  });
  afterAll(() => host?.close());

  test('commands run as the user with the user\'s HOME', async () => {
    const r = await host.exec(['sh', '-c', 'id -un; echo "$HOME"'], { become: true, becomeUser: USER });
    expect(r).toEqual({ exitCode: 0, stdout: `${USER}\n/home/${USER}\n`, stderr: '' });
  });

  test('cwd and env apply inside the become, in a directory only the user can enter', async () => {
    const dir = userDir(0o700);
    const r = await host.exec(['sh', '-c', 'echo "$V $(pwd) $(id -un)"'], { become: true, becomeUser: USER, cwd: dir, env: { V: 'x y' } });
    expect(r.stdout).toBe(`x y ${dir} ${USER}\n`);
  });

  test('write as the user: owned by the user, mode applied, atomic, readable back as the user', async () => {
    const dir = userDir(0o700);
    const file = path.join(dir, 'postgresql.auto.conf');
    await host.write(file, 'primary_conninfo = x\n', { become: true, becomeUser: USER, mode: '0600' });
    const st = statSync(file);
    expect([st.uid, st.gid, (st.mode & 0o7777).toString(8)]).toEqual([uid, gid, '600']);
    expect(readdirSync(dir)).toEqual(['postgresql.auto.conf']);
    expect((await host.read(file, { become: true, becomeUser: USER }))?.toString()).toBe('primary_conninfo = x\n');
    await host.write(file, 'primary_conninfo = y\n', { become: true, becomeUser: USER });
    expect((statSync(file).mode & 0o7777).toString(8)).toBe('600');
    expect(readFileSync(file, 'utf8')).toBe('primary_conninfo = y\n');
  });

  test('stat as the user returns the same fields as stat over SFTP', async () => {
    const dir = userDir(0o750);
    const file = path.join(dir, 'f');
    writeFileSync(file, 'abc');
    chownSync(file, uid, gid);
    const asUser = await host.stat(file, { become: true, becomeUser: USER });
    const asRoot = await host.stat(file);
    expect(asUser).toEqual(asRoot);
    expect(asUser).toMatchObject({ type: 'file', owner: USER, group: USER, size: 3 });
    expect(await host.stat(dir, { become: true, becomeUser: USER })).toMatchObject({ type: 'directory', mode: '0750' });
    expect(await host.stat(path.join(dir, 'missing'), { become: true, becomeUser: USER })).toBeNull();
    expect(await host.read(path.join(dir, 'missing'), { become: true, becomeUser: USER })).toBeNull();
  });

  test('a write the user may not do fails clearly and leaves the old file and no temp file', async () => {
    const dir = mkdtempSync(path.join(work, 'root-'));
    chmodSync(dir, 0o755);
    const file = path.join(dir, 'root-owned');
    writeFileSync(file, 'old');
    await expect(host.write(file, 'new', { become: true, becomeUser: USER })).rejects.toThrow(
      new RegExp(`cannot write ${file} as ${USER} on db1: .*Permission denied`),
    );
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['root-owned']);
  });

  test('a failing chown after the temp file was written removes the temp file and keeps the old file', async () => {
    const dir = userDir(0o755);
    const file = path.join(dir, 'cfg');
    writeFileSync(file, 'old');
    chownSync(file, uid, gid);
    await expect(host.write(file, 'new', { become: true, becomeUser: USER, owner: 'root' })).rejects.toThrow(/Operation not permitted/);
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['cfg']);
  });

  test('the host-wide become default applies when a call does not say', async () => {
    const h = await SshHost.connect(options({ become: true, becomeUser: USER }));
    try {
      expect((await h.exec(['id', '-un'])).stdout).toBe(`${USER}\n`);
      expect((await h.exec(['id', '-un'], { become: false })).stdout).toBe('root\n');
    } finally {
      await h.close();
    }
  });
});

describe(`login as ${USER}, become root with a sudo password`, () => {
  test('commands, stdin and file writes run as root; the password never reaches the command', async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomePassword: password }));
    try {
      const r = await host.exec(['sh', '-c', 'id -un; cat'], { stdin: 'payload\n' });
      expect(r.exitCode).toBe(0);
      expect(r.stdout).toBe('root\npayload\n');
      expect(r.stdout + r.stderr).not.toContain(password);
      expect(r.stderr).not.toContain('plinth sudo');
      const dir = mkdtempSync(path.join(work, 'r-'));
      chmodSync(dir, 0o700);
      const file = path.join(dir, 'root.conf');
      await host.write(file, 'secret: 1\n', { mode: '0640', group: 'daemon' });
      expect(statSync(file).uid).toBe(0);
      expect(await host.stat(file)).toMatchObject({ owner: 'root', group: 'daemon', mode: '0640' });
      expect((await host.read(file))?.toString()).toBe('secret: 1\n');
      expect(readdirSync(dir)).toEqual(['root.conf']);
      expect((await host.exec(['id', '-un'], { become: false })).stdout).toBe(`${USER}\n`);
      expect(redactor.redact(`pw=${password}`)).toBe('pw=********');
    } finally {
      await host.close();
    }
  });

  test('a wrong password fails the command with sudo\'s message, without hanging', async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomePassword: 'wrong-password' }));
    try {
      const r = await host.exec(['id', '-un'], { timeout: 20_000 });
      expect(r.exitCode).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/incorrect password|Sorry, try again/);
    } finally {
      await host.close();
    }
  }, 30_000);

  test('without a password, sudo -n fails at once with "a password is required"', async () => {
    const host = await SshHost.connect(options({ user: USER, become: true }));
    try {
      const r = await host.exec(['id', '-un']);
      expect(r.exitCode).toBe(1);
      expect(r.stderr).toContain('a password is required');
    } finally {
      await host.close();
    }
  });

  test('with a NOPASSWD rule, a given password is not fed to the command', async () => {
    setSudoers(`${USER} ALL=(ALL:ALL) NOPASSWD: ALL`);
    const host = await SshHost.connect(options({ user: USER, become: true, becomePassword: password }));
    try {
      const r = await host.exec(['cat'], { stdin: 'only this' });
      expect(r).toEqual({ exitCode: 0, stdout: 'only this', stderr: '' });
    } finally {
      await host.close();
      setSudoers(`${USER} ALL=(ALL:ALL) ALL`);
    }
  });
});

describe('password login', () => {
  test(`${USER} logs in with a password and no key; the password is registered as a secret`, async () => {
    const host = await SshHost.connect(options({ user: USER, privateKeyPath: undefined, password }));
    try {
      expect((await host.exec(['id', '-un'])).stdout).toBe(`${USER}\n`);
    } finally {
      await host.close();
    }
    expect(redactor.redact(password)).toBe('********');
  });

  test('a wrong password is an authentication failure that names the methods tried', async () => {
    const err = await SshHost.connect(options({ user: USER, privateKeyPath: undefined, password: 'not-the-password' })).catch((e: Error) => e);
    expect(err).toBeInstanceOf(UnreachableError);
    expect((err as Error).message).toContain(`authentication failed for user ${USER} (tried: password)`);
  });
});
