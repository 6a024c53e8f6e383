// SshHost against a real sshd on 127.0.0.1: commands, files over SFTP, channel limits,
// timeouts, unreachable hosts and a server that dies mid-command.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TimeoutError, UnreachableError } from '../../engine/connection/connection-errors.js';
import { EncryptedKeyError } from '../../engine/connection/connection-errors.js';
import { SshHost, type SshOptions } from '../../engine/connection/ssh.js';
import { redactor } from '../../engine/secrets/redact.js';
import { freePort, keygen, sshOptionsTo, startSshd, type TestSshd } from '../helpers/sshd.js';

let sshd: TestSshd;
let host: SshHost;
let work: string;

function options(server: TestSshd, extra: Partial<SshOptions> = {}): SshOptions {
  return sshOptionsTo(server, extra);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection');
}

/** Polls until `check` is true (or gives up after `ms`); no timing is asserted. */
async function eventually(check: () => boolean, ms = 10_000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

function commandsOf(pids: number[]): string[] {
  return pids.map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
    } catch {
      return '';
    }
  });
}

beforeAll(async () => {
  sshd = await startSshd();
  host = await SshHost.connect(options(sshd));
  work = mkdtempSync(path.join(os.tmpdir(), 'plinth-sshhost-'));
}, 30_000);

afterAll(async () => {
  await host?.close();
  await sshd?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe('exec', () => {
  test('exit code, stdout and stderr of a command', async () => {
    const r = await host.exec(['sh', '-c', 'echo out; echo err >&2; exit 7']);
    expect(r).toEqual({ exitCode: 7, stdout: 'out\n', stderr: 'err\n' });
  });

  test('argv reaches the command unchanged: spaces, quotes, $, globs, newlines', async () => {
    const args = ['a b', "it's", '$HOME', '*', 'line1\nline2', '', '--flag=x y'];
    const r = await host.exec(['printf', '%s|', ...args]);
    expect(r.stdout).toBe(args.map((a) => `${a}|`).join(''));
  });

  test('env, cwd and stdin; LC_ALL=C is set', async () => {
    const r = await host.exec(['sh', '-c', 'echo "$GREETING $LC_ALL $(pwd)"; cat'], {
      env: { GREETING: "hello 'there'" },
      cwd: work,
      stdin: 'from stdin\n',
    });
    expect(r.stdout).toBe(`hello 'there' C ${work}\nfrom stdin\n`);
  });

  test('a missing command exits 127; a missing cwd fails the command', async () => {
    expect((await host.exec(['no-such-command-plinth'])).exitCode).toBe(127);
    const r = await host.exec(['true'], { cwd: path.join(work, 'missing') });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/can't cd|No such file/);
  });

  test('an invalid environment variable name is refused before anything runs', async () => {
    await expect(host.exec(['true'], { env: { 'A;rm': 'x' } })).rejects.toThrow(/invalid environment variable name/);
  });

  test('become to the login user (root) needs no sudo', async () => {
    const r = await host.exec(['id', '-un'], { become: true, becomeUser: 'root' });
    expect(r.stdout).toBe('root\n');
  });

  test('30 parallel commands on one connection with MaxSessions 10 all succeed, while files move over SFTP', async () => {
    writeFileSync(path.join(work, 'parallel'), 'p');
    const runs = Array.from({ length: 30 }, (_, i) => host.exec(['sh', '-c', `sleep 0.2; echo ${i}`]));
    const reads = Array.from({ length: 10 }, () => host.read(path.join(work, 'parallel')));
    const results = await Promise.all(runs);
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 30 }, (_, i) => `${i}\n`));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
    expect((await Promise.all(reads)).map((b) => b?.toString())).toEqual(Array(10).fill('p'));
  });

  test('a command past its timeout is stopped and rejects with TimeoutError; the connection stays usable', async () => {
    const marker = `plinth-timeout-${process.pid}`;
    const err = await rejection(host.exec(['sh', '-c', `exec sleep 30 # ${marker}`], { timeout: 1000 }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toContain('timed out after 1000 ms');
    const gone = await eventually(() => !commandsOf(sshd.descendants()).some((c) => c.startsWith('sleep 30')));
    expect(gone).toBe(true);
    expect((await host.exec(['echo', 'still here'])).stdout).toBe('still here\n');
  });

  test('the host-wide command timeout applies when the call gives none', async () => {
    const h = await SshHost.connect(options(sshd, { commandTimeoutMs: 500 }));
    try {
      await expect(h.exec(['sleep', '30'])).rejects.toBeInstanceOf(TimeoutError);
    } finally {
      await h.close();
    }
  });
});

describe('files over SFTP', () => {
  test('write then read; mode and owner are applied; no temp file is left', async () => {
    const dir = mkdtempSync(path.join(work, 'w-'));
    const file = path.join(dir, 'app.conf');
    await host.write(file, 'key = value\n', { mode: '0640', owner: 'root', group: 'daemon' });
    expect(readFileSync(file, 'utf8')).toBe('key = value\n');
    const st = statSync(file);
    expect((st.mode & 0o7777).toString(8)).toBe('640');
    expect(st.gid).toBe(Number(execFileSync('getent', ['group', 'daemon'], { encoding: 'utf8' }).split(':')[2]));
    expect(readdirSync(dir)).toEqual(['app.conf']);
    expect((await host.read(file))?.toString()).toBe('key = value\n');
  });

  test('rewriting keeps the old mode and group when none is given, and replaces atomically', async () => {
    const dir = mkdtempSync(path.join(work, 'w-'));
    const file = path.join(dir, 'keep');
    await host.write(file, 'one', { mode: '0600', group: 'daemon' });
    const inodeBefore = statSync(file).ino;
    await host.write(file, Buffer.from([0, 1, 2, 255]));
    const st = statSync(file);
    expect((st.mode & 0o7777).toString(8)).toBe('600');
    expect(st.ino).not.toBe(inodeBefore);
    expect(readFileSync(file)).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(readdirSync(dir)).toEqual(['keep']);
  });

  test('a failed write leaves the old file and no temp file', async () => {
    const dir = mkdtempSync(path.join(work, 'w-'));
    const file = path.join(dir, 'precious');
    writeFileSync(file, 'old');
    await expect(host.write(file, 'new', { owner: 'no-such-user-plinth' })).rejects.toThrow(/unknown user 'no-such-user-plinth'/);
    expect(readFileSync(file, 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['precious']);
  });

  test('writing into a missing directory fails with the path in the message', async () => {
    await expect(host.write(path.join(work, 'nope', 'x'), 'x')).rejects.toThrow(`cannot write ${path.join(work, 'nope', 'x')}`);
  });

  test('read of a missing file (or below a file) is null', async () => {
    expect(await host.read(path.join(work, 'missing'))).toBeNull();
    writeFileSync(path.join(work, 'plain'), 'x');
    expect(await host.read(path.join(work, 'plain', 'below'))).toBeNull();
    expect(await host.stat(path.join(work, 'missing'))).toBeNull();
  });

  test('stat: type, 4-digit mode, owner and group names, size, mtime, link target', async () => {
    const dir = mkdtempSync(path.join(work, 's-'));
    const file = path.join(dir, 'f');
    writeFileSync(file, 'hello');
    execFileSync('chown', ['daemon:daemon', file]);
    execFileSync('chmod', ['4750', file]);
    symlinkSync('f', path.join(dir, 'l'));
    mkdirSync(path.join(dir, 'd'), { mode: 0o711 });
    const st = await host.stat(file);
    expect(st).toEqual({
      exists: true,
      type: 'file',
      mode: '4750',
      owner: 'daemon',
      group: 'daemon',
      size: 5,
      linkTarget: undefined,
      mtime: Math.floor(statSync(file).mtimeMs / 1000),
    });
    expect(await host.stat(path.join(dir, 'l'))).toMatchObject({ type: 'link', linkTarget: 'f' });
    expect(await host.stat(path.join(dir, 'l'), { follow: true })).toMatchObject({ type: 'file', mode: '4750' });
    expect(await host.stat(path.join(dir, 'd'))).toMatchObject({ type: 'directory', mode: '0711', owner: 'root' });
  });

  test('a user created during the run is named in stat (the id table is refreshed)', async () => {
    const file = path.join(work, 'by-new-uid');
    writeFileSync(file, 'x');
    // No user has this uid until now: the cached table cannot know it.
    const uid = 55_000 + (process.pid % 1000);
    execFileSync('chown', [String(uid), file]);
    expect((await host.stat(file))?.owner).toBe(String(uid));
  });
});

describe('without an SFTP subsystem, files go over exec', () => {
  let bare: TestSshd;
  let h: SshHost;
  beforeAll(async () => {
    bare = await startSshd({ sftp: false });
    h = await SshHost.connect(options(bare));
  }, 30_000);
  afterAll(async () => {
    await h?.close();
    await bare?.stop();
  });

  test('write, read, stat and missing files', async () => {
    const dir = mkdtempSync(path.join(work, 'nosftp-'));
    const file = path.join(dir, 'f');
    await h.write(file, 'via exec\n', { mode: '0604', group: 'daemon' });
    expect(readFileSync(file, 'utf8')).toBe('via exec\n');
    expect(await h.stat(file)).toMatchObject({ type: 'file', mode: '0604', owner: 'root', group: 'daemon', size: 9 });
    expect((await h.read(file))?.toString()).toBe('via exec\n');
    expect(await h.read(path.join(dir, 'missing'))).toBeNull();
    expect(await h.stat(path.join(dir, 'missing'))).toBeNull();
    expect(readdirSync(dir)).toEqual(['f']);
  });
});

describe('connecting', () => {
  test('a closed port is UnreachableError: connection refused', async () => {
    const port = await freePort();
    const err = await rejection(SshHost.connect({ ...options(sshd), port, connectTimeoutMs: 30_000 }));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toBe(`web1: cannot connect to root@127.0.0.1:${port}: connection refused`);
  });

  test('a server that accepts but never speaks SSH is a connect timeout', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const err = await rejection(SshHost.connect({ ...options(sshd), port, connectTimeoutMs: 500 }));
      expect(err).toBeInstanceOf(UnreachableError);
      expect(err.message).toBe(`web1: cannot connect to root@127.0.0.1:${port}: timed out after 500 ms`);
    } finally {
      silent.close();
    }
  });

  test('a lazily connected host reports the same error on its first call, and on every later call', async () => {
    const port = await freePort();
    const lazy = new SshHost({ ...options(sshd), port });
    await expect(lazy.exec(['true'])).rejects.toBeInstanceOf(UnreachableError);
    await expect(lazy.read('/etc/hostname')).rejects.toThrow(/connection refused/);
  });

  test('a key the server does not accept is an authentication failure', async () => {
    const other = path.join(work, 'stranger_key');
    keygen(other);
    const err = await rejection(SshHost.connect(options(sshd, { privateKeyPath: other })));
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toContain(`authentication failed for user root (tried: publickey (${other}))`);
  });

  test('an encrypted key without passphrase says so; with it, it works; a wrong one is named', async () => {
    const dir = mkdtempSync(path.join(work, 'enc-'));
    const key = path.join(dir, 'id');
    const passphrase = `pass-${process.pid}-secret`;
    keygen(key, 'ed25519', passphrase);
    const authorized = path.join(sshd.dir, 'authorized_keys');
    writeFileSync(authorized, readFileSync(authorized, 'utf8') + readFileSync(`${key}.pub`, 'utf8'));

    const missing = await rejection(SshHost.connect(options(sshd, { privateKeyPath: key })));
    expect(missing).toBeInstanceOf(EncryptedKeyError);
    expect(missing.message).toContain(`the private key ${key} is encrypted and no passphrase was given`);

    const wrong = await rejection(SshHost.connect(options(sshd, { privateKeyPath: key, passphrase: 'wrong-one' })));
    expect(wrong.message).toContain('wrong passphrase');

    const h = await SshHost.connect(options(sshd, { privateKeyPath: key, passphrase }));
    expect((await h.exec(['echo', 'unlocked'])).stdout).toBe('unlocked\n');
    await h.close();
    expect(redactor.redact(`x ${passphrase} y`)).not.toContain(passphrase);
  });

  test('calls after close() reject instead of reconnecting', async () => {
    const h = await SshHost.connect(options(sshd));
    await h.close();
    await expect(h.exec(['true'])).rejects.toThrow(/closed/);
  });
});

describe('the server dies mid-command', () => {
  let doomed: TestSshd;
  beforeAll(async () => {
    doomed = await startSshd();
  }, 30_000);
  afterAll(async () => {
    await doomed?.stop();
  });

  test('the running call and every later call reject with UnreachableError, nothing hangs', async () => {
    const h = await SshHost.connect(options(doomed, { name: 'db2', keepaliveIntervalMs: 1000, keepaliveCountMax: 2 }));
    const running = h.exec(['sleep', '30']);
    const reading = h.read('/etc/hostname');
    await reading;
    expect(await eventually(() => commandsOf(doomed.descendants()).some((c) => c.startsWith('sleep 30')))).toBe(true);
    doomed.kill();
    const err = await rejection(running);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(new RegExp(`^connection to db2 \\(root@127.0.0.1:${doomed.port}\\) lost: `));
    await expect(h.exec(['true'])).rejects.toBeInstanceOf(UnreachableError);
    await expect(h.write(path.join(work, 'after-loss'), 'x')).rejects.toBeInstanceOf(UnreachableError);
    expect(existsSync(path.join(work, 'after-loss'))).toBe(false);
    await h.close();
  }, 20_000);
});

describe('the server freezes mid-command', () => {
  let frozen: TestSshd;
  let stopped: number[] = [];
  beforeAll(async () => {
    frozen = await startSshd();
  }, 30_000);
  afterAll(async () => {
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // Gone already.
      }
    }
    await frozen?.stop();
  });

  test('keepalive notices the silence: the call rejects with UnreachableError', async () => {
    const h = await SshHost.connect(options(frozen, { name: 'db3', keepaliveIntervalMs: 300, keepaliveCountMax: 2 }));
    const running = h.exec(['sleep', '30']);
    expect(await eventually(() => commandsOf(frozen.descendants()).some((c) => c.startsWith('sleep 30')))).toBe(true);
    // The TCP connection stays up, the server just stops answering.
    stopped = [frozen.pid, ...frozen.descendants()];
    for (const pid of stopped) {
      try {
        process.kill(pid, 'SIGSTOP');
      } catch (e) {
        // A short command of the connection's warm-up (getent) ended since the listing.
        if ((e as NodeJS.ErrnoException).code !== 'ESRCH') throw e;
      }
    }
    const err = await rejection(running);
    expect(err).toBeInstanceOf(UnreachableError);
    expect(err.message).toMatch(/^connection to db3 \(.*\) lost: Keepalive timeout/);
    await h.close();
  }, 20_000);
});
