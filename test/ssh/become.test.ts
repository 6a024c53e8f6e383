// become over ssh: sudo to another user from a root login, and sudo with a password from a
// non-root login; su with a real password between two unprivileged users, runuser, become_flags,
// and a playbook run that sets become_method in an INI inventory. Creates the users `plinthtest`
// and `plinthtest2` and a sudoers rule, and removes them after.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { UnreachableError } from '../../engine/connection/connection-errors.js';
import { SshHost, type SshOptions } from '../../engine/connection/ssh.js';
import { redactor } from '../../engine/secrets/redact.js';
import { sshOptionsTo, startSshd, type TestSshd } from '../helpers/sshd.js';

const USER = 'plinthtest';
const USER2 = 'plinthtest2';
const SUDOERS = '/etc/sudoers.d/plinthtest';
const password = `Pw-${randomBytes(9).toString('base64url')}`;
const password2 = `Pw2-${randomBytes(9).toString('base64url')}`;
let createdUser = false;
let createdUser2 = false;
let sshd: TestSshd;
let work: string;
let uid: number;
let gid: number;

function options(extra: Partial<SshOptions> = {}): SshOptions {
  return sshOptionsTo(sshd, { name: 'db1', connectTimeoutMs: undefined, ...extra });
}

/** Creates the user unless it exists and sets its password; true when it was created here. */
function ensureUser(name: string, pw: string): boolean {
  let created = false;
  try {
    execFileSync('id', [name], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', name]);
    created = true;
  }
  execFileSync('chpasswd', { input: `${name}:${pw}\n` });
  return created;
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
  createdUser = ensureUser(USER, password);
  createdUser2 = ensureUser(USER2, password2);
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
  if (createdUser2) execFileSync('userdel', ['--remove', USER2], { stdio: 'ignore' });
});

describe('root login, become another user (sudo -u)', () => {
  let host: SshHost;
  beforeAll(async () => {
    host = await SshHost.connect(options());
  });
  afterAll(() => host?.close());

  test("commands run as the user with the user's HOME", async () => {
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
    await expect(host.write(file, 'new', { become: true, becomeUser: USER })).rejects.toThrow(new RegExp(`cannot write ${file} as ${USER} on db1: .*Permission denied`));
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

  test("a wrong password fails the command with sudo's message, without hanging", async () => {
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

describe(`become_method su: login as ${USER}, su to ${USER2} with ${USER2}'s password`, () => {
  test('commands, stdin, cwd and env run as the other user; the password never reaches the command or the output', async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomeUser: USER2, becomeMethod: 'su', becomePassword: password2 }));
    try {
      const r = await host.exec(['sh', '-c', 'id -un; cat; echo "$V" >&2'], { stdin: 'payload\n', env: { V: 'from-env' } });
      expect(r).toEqual({ exitCode: 0, stdout: `${USER2}\npayload\n`, stderr: 'from-env\n' });
      expect((await host.exec(['id', '-un'], { become: false })).stdout).toBe(`${USER}\n`);
    } finally {
      await host.close();
    }
    expect(redactor.redact(password2)).toBe('********');
  });

  test('files written, read and stat-ed through su belong to that user', async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomeUser: USER2, becomeMethod: 'su', becomePassword: password2 }));
    const dir = mkdtempSync(path.join(work, 'su-'));
    chmodSync(dir, 0o777);
    try {
      const file = path.join(dir, 'owned');
      await host.write(file, 'by su\n', { mode: '0600' });
      expect(await host.stat(file)).toMatchObject({ owner: USER2, mode: '0600', size: 6 });
      expect((await host.read(file))?.toString()).toBe('by su\n');
      expect(readdirSync(dir)).toEqual(['owned']);
    } finally {
      await host.close();
    }
  });

  test("a method's own password (ansible_su_password) wins over the generic become password", async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomeUser: USER2, becomeMethod: 'su', becomePassword: 'wrong-generic', becomePasswords: { su: password2 } }));
    try {
      expect((await host.exec(['id', '-un'])).stdout).toBe(`${USER2}\n`);
    } finally {
      await host.close();
    }
  });

  test("a wrong password fails with su's message, without hanging and without the prompt in stderr", async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomeUser: USER2, becomeMethod: 'su', becomePassword: 'wrong-password' }));
    try {
      const r = await host.exec(['cat'], { stdin: 'must not be read as a password', timeout: 60_000 });
      expect(r.exitCode).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Authentication failure');
      expect(r.stderr).not.toContain('Password:');
    } finally {
      await host.close();
    }
  }, 90_000);

  test("without a password, su fails at once: the command's stdin is never offered to it as a password", async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomeUser: USER2, becomeMethod: 'su' }));
    try {
      const r = await host.exec(['cat'], { stdin: password2, timeout: 60_000 });
      expect(r.exitCode).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain('Authentication failure');
    } finally {
      await host.close();
    }
  }, 90_000);
});

describe('root login: su and runuser need no password; become_flags reach the tool', () => {
  test.each(['su', 'runuser'] as const)('%s to the user', async (method) => {
    const host = await SshHost.connect(options({ become: true, becomeUser: USER, becomeMethod: method }));
    try {
      expect(await host.exec(['sh', '-c', 'id -un; cat'], { stdin: 'in' })).toEqual({ exitCode: 0, stdout: `${USER}\nin`, stderr: '' });
    } finally {
      await host.close();
    }
  });

  test('sudo with become_flags "-H -g daemon" runs with that group; su with "-l" runs a login shell', async () => {
    const host = await SshHost.connect(options({ become: true, becomeUser: USER }));
    try {
      expect((await host.exec(['id', '-gn'], { becomeFlags: '-H -g daemon' })).stdout).toBe('daemon\n');
      const login = await host.exec(['sh', '-c', 'pwd'], { becomeMethod: 'su', becomeFlags: '-l' });
      expect(login.stdout).toBe(`/home/${USER}\n`);
    } finally {
      await host.close();
    }
  });

  test('an unknown method is refused before anything runs', async () => {
    const host = await SshHost.connect(options({ become: true, becomeUser: USER }));
    try {
      await expect(host.exec(['id'], { becomeMethod: 'pbrun' as never })).rejects.toThrow("become_method 'pbrun' is not supported; plinth knows sudo, su, runuser, doas");
    } finally {
      await host.close();
    }
  });
});

describe(`become_method doas (Debian's opendoas): login as ${USER}, doas to ${USER2} by a nopass rule`, () => {
  const DOAS_CONF = '/etc/doas.conf';
  let madeConf = false;
  beforeAll(() => {
    expect(existsSync('/usr/bin/doas'), 'doas is not installed: run scripts/install-debian-packages.sh').toBe(true);
    if (existsSync(DOAS_CONF)) throw new Error(`${DOAS_CONF} exists: this test writes its own and will not replace it`);
    writeFileSync(DOAS_CONF, `permit nopass ${USER} as ${USER2}\n`, { mode: 0o600 });
    madeConf = true;
  });
  afterAll(() => {
    if (madeConf) rmSync(DOAS_CONF, { force: true });
  });

  test('commands and stdin run as the other user', async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomeUser: USER2, becomeMethod: 'doas' }));
    try {
      expect(await host.exec(['sh', '-c', 'id -un; cat'], { stdin: 'in' })).toEqual({ exitCode: 0, stdout: `${USER2}\nin`, stderr: '' });
    } finally {
      await host.close();
    }
  });

  test('a target the rules do not permit fails at once (doas -n), and a doas password is refused with the reason', async () => {
    const host = await SshHost.connect(options({ user: USER, become: true, becomeUser: 'root', becomeMethod: 'doas' }));
    try {
      const r = await host.exec(['id', '-un'], { timeout: 60_000 });
      expect(r.exitCode).not.toBe(0);
      expect(r.stdout).toBe('');
    } finally {
      await host.close();
    }
    const withPassword = await SshHost.connect(options({ user: USER, become: true, becomeUser: USER2, becomeMethod: 'doas', becomePassword: password }));
    try {
      await expect(withPassword.exec(['id'])).rejects.toThrow('doas reads a password only from a terminal');
    } finally {
      await withPassword.close();
    }
  });
});

describe('a playbook run with become_method su set in an INI inventory', () => {
  test('tasks run as the su user; a task may switch back to sudo; the password is not printed', async () => {
    const dir = mkdtempSync(path.join(work, 'run-'));
    chmodSync(dir, 0o777);
    const known = path.join(dir, 'known_hosts');
    writeFileSync(known, `${sshd.knownHostsLine}\n`);
    const key = path.join(dir, 'key');
    writeFileSync(key, readFileSync(sshd.userKeyPath), { mode: 0o600 });
    writeFileSync(
      path.join(dir, 'hosts.ini'),
      `[db]\ndb1 ansible_host=127.0.0.1 ansible_port=${sshd.port} ansible_user=${USER} ansible_ssh_private_key_file=${key} plinth_known_hosts_file=${known}\n` +
        `[db:vars]\nansible_become=true\nansible_become_method=su\nansible_become_user=${USER2}\nansible_su_password=${password2}\nansible_become_password=${password}\n`,
    );
    writeFileSync(
      path.join(dir, 'pb.yml'),
      `- hosts: db
  gather_facts: false
  tasks:
    - command: id -un
      register: via_su
    - command: id -un
      register: via_sudo
      become_method: sudo
      become_user: root
    - copy: { dest: "${dir}/who", content: "{{ via_su.stdout }} {{ via_sudo.stdout }}", mode: "0644" }
`,
    );
    const { plinthJson } = await import('../helpers/cli.js');
    const r = await plinthJson(['-i', path.join(dir, 'hosts.ini'), path.join(dir, 'pb.yml')]);
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    expect(readFileSync(path.join(dir, 'who'), 'utf8')).toBe(`${USER2} root`);
    expect(statSync(path.join(dir, 'who')).uid).toBe(Number(execFileSync('id', ['-u', USER2], { encoding: 'utf8' })));
    expect(r.stdout + r.stderr).not.toContain(password2);
    expect(r.stdout + r.stderr).not.toContain(password);
  }, 120_000);
});
