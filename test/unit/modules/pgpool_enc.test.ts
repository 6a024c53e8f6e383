import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decryptPgpoolPassword, encryptPgpoolPassword, pgpoolEnc, withEntry } from '../../../modules/pgpool_enc.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';

// Debian's pgpool2 package provides the real pg_enc; without it the cross-checks are skipped.
const hasPgEnc = spawnSync('pg_enc', ['--help']).error === undefined;
const owner = 'nobody';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'pgpool-enc-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

async function fresh(name: string) {
  const d = path.join(dir, name);
  await fs.mkdir(d);
  return { keyFile: path.join(d, '.pgpoolkey'), passwd: path.join(d, 'pool_passwd'), dir: d };
}

/** Runs the real pg_enc -m on a minimal pgpool.conf beside pool_passwd. */
function realPgEnc(d: string, keyFile: string, user: string, password: string): void {
  const conf = path.join(d, 'pgpool.conf');
  execFileSync('sh', ['-c', `test -e ${conf} || echo "pool_passwd = 'pool_passwd'" > ${conf}`]);
  execFileSync('pg_enc', ['-m', '-k', keyFile, '-f', conf, '-u', user, password], { stdio: 'pipe' });
}

describe('pgpool AES entries', () => {
  test('round trip and known vector from pg_enc 4.3 (key "my secret key", password "hunter2pass")', () => {
    expect(encryptPgpoolPassword('hunter2pass', 'my secret key')).toBe('AES1Ya3XDGnmfLyozqY7r3tpw==');
    expect(decryptPgpoolPassword('AES1Ya3XDGnmfLyozqY7r3tpw==', 'my secret key')).toBe('hunter2pass');
    expect(decryptPgpoolPassword('AES1Ya3XDGnmfLyozqY7r3tpw==', 'another key')).not.toBe('hunter2pass');
    expect(decryptPgpoolPassword('md5abc', 'my secret key')).toBeNull();
  });

  test.skipIf(!hasPgEnc)('matches the real pg_enc for several keys and passwords', async () => {
    const { dir: d } = await fresh('crosscheck');
    const cases = [
      ['k', 'p'],
      ['a much longer key with spaces and ü', 'pässwörd with "quotes" and $dollars'],
      ['x'.repeat(200), 'y'.repeat(79)],
    ];
    for (const [key, password] of cases) {
      const keyFile = path.join(d, 'key');
      await fs.writeFile(keyFile, `${key}\nignored second line\n`, { mode: 0o600 });
      const out = execFileSync('pg_enc', ['-k', keyFile, password], { encoding: 'utf8' });
      const real = /pool_passwd string: (AES\S+)/.exec(out)?.[1];
      expect(real).toBeDefined();
      expect(encryptPgpoolPassword(password, key)).toBe(real);
    }
  });

  test('withEntry replaces only the user line and keeps the rest byte for byte', () => {
    const before = 'alice:md5aaa\nbob:AESold\ncarol:TEXTx\n';
    expect(withEntry(before, 'bob', 'bob:AESnew')).toBe('alice:md5aaa\nbob:AESnew\ncarol:TEXTx\n');
    expect(withEntry('alice:md5aaa', 'bob', 'bob:AESnew')).toBe('alice:md5aaa\nbob:AESnew\n');
    expect(withEntry('', 'bob', 'bob:AESnew')).toBe('bob:AESnew\n');
    // "bo" is a prefix of "bob" but not the same user.
    expect(withEntry(before, 'bo', 'bo:AESx')).toBe(`${before}bo:AESx\n`);
  });
});

describe('pgpool_enc module', () => {
  test('schema rejects a user with a colon and requires a password', () => {
    expect(schemaProblems(pgpoolEnc, { user: 'a:b', password: 'x' }).length).toBeGreaterThan(0);
    expect(schemaProblems(pgpoolEnc, { user: 'app' }).length).toBeGreaterThan(0);
  });

  test('check, apply, again: key file 0600 owned by owner, entry decrypts, second run unchanged', async () => {
    const f = await fresh('converge');
    const args = { user: 'app', password: 'app-pass-1', key: 'lab-key-1', key_file: f.keyFile, pool_passwd: f.passwd, owner };
    const { check, first, second } = await checkApplyAgain(pgpoolEnc, args);
    expect(check.status).toBe('changed');
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    expect(await fs.readFile(f.keyFile, 'utf8')).toBe('lab-key-1\n');
    const st = await fs.stat(f.keyFile);
    expect((st.mode & 0o777).toString(8)).toBe('600');
    expect(st.uid).toBe(Number(execFileSync('id', ['-u', owner], { encoding: 'utf8' }).trim()));
    const line = (await fs.readFile(f.passwd, 'utf8')).trim();
    expect(line.startsWith('app:AES')).toBe(true);
    expect(decryptPgpoolPassword(line.slice(4), 'lab-key-1')).toBe('app-pass-1');
    // Neither the key, the password nor the ciphertext appears in what the runs report.
    const reported = JSON.stringify([check, first, second]);
    for (const s of ['lab-key-1', 'app-pass-1', line.slice(4)]) expect(reported).not.toContain(s);
    expect(first.summary).toContain('user app');
  });

  test('check mode writes nothing', async () => {
    const f = await fresh('checkonly');
    const out = await run(pgpoolEnc, { user: 'app', password: 'pw-check', key: 'k-check', key_file: f.keyFile, pool_passwd: f.passwd, owner }, { check: true });
    expect(out.status).toBe('changed');
    await expect(fs.stat(f.keyFile)).rejects.toThrow();
    await expect(fs.stat(f.passwd)).rejects.toThrow();
  });

  test('a password change rewrites only that line; mode and ownership of pool_passwd are kept', async () => {
    const f = await fresh('change');
    await fs.writeFile(f.passwd, 'postgres:md5d41d8cd98f00b204e9800998ecf8427e\napp:AESxxxx\n# kept comment\nother:TEXTplain\n', { mode: 0o640 });
    const base = { user: 'app', key: 'k-change', key_file: f.keyFile, pool_passwd: f.passwd, owner };
    expect((await run(pgpoolEnc, { ...base, password: 'first-pass' })).status).toBe('changed');
    const afterFirst = await fs.readFile(f.passwd, 'utf8');
    const out = await run(pgpoolEnc, { ...base, password: 'second-pass' });
    expect(out.status).toBe('changed');
    expect(out.summary).toContain('user app: password changed (secret)');
    const after = await fs.readFile(f.passwd, 'utf8');
    const [a, b] = [afterFirst.split('\n'), after.split('\n')];
    expect(b.length).toBe(a.length);
    expect(b.filter((l, i) => l !== a[i])).toHaveLength(1);
    expect(decryptPgpoolPassword(b[1].slice(4), 'k-change')).toBe('second-pass');
    expect(b[0]).toBe('postgres:md5d41d8cd98f00b204e9800998ecf8427e');
    expect(b.slice(2)).toEqual(['# kept comment', 'other:TEXTplain', '']);
    expect(((await fs.stat(f.passwd)).mode & 0o777).toString(8)).toBe('640');
    expect(JSON.stringify(out)).not.toContain('second-pass');
  });

  test('key read from an existing key file when no key is given; missing key is a clear error', async () => {
    const f = await fresh('keyfile');
    await expect(run(pgpoolEnc, { user: 'app', password: 'pw-kf', key_file: f.keyFile, pool_passwd: f.passwd, owner })).rejects.toThrow(/no encryption key/);
    await fs.writeFile(f.keyFile, 'from-file-key\n', { mode: 0o600 });
    expect((await run(pgpoolEnc, { user: 'app', password: 'pw-kf', key_file: f.keyFile, pool_passwd: f.passwd, owner })).status).toBe('changed');
    const entry = (await fs.readFile(f.passwd, 'utf8')).trim().slice(4);
    expect(decryptPgpoolPassword(entry, 'from-file-key')).toBe('pw-kf');
  });

  test('a key file with the right key but mode 0644 is fixed without rewriting the entry', async () => {
    const f = await fresh('mode');
    const args = { user: 'app', password: 'pw-mode', key: 'k-mode', key_file: f.keyFile, pool_passwd: f.passwd, owner };
    await run(pgpoolEnc, args);
    const entry = await fs.readFile(f.passwd, 'utf8');
    await fs.chmod(f.keyFile, 0o644);
    const out = await run(pgpoolEnc, args);
    expect(out.status).toBe('changed');
    expect(out.summary).toContain('0644 → 0600');
    expect(((await fs.stat(f.keyFile)).mode & 0o777).toString(8)).toBe('600');
    expect(await fs.readFile(f.passwd, 'utf8')).toBe(entry);
  });

  test('default key file is ~owner/.pgpoolkey', async () => {
    const f = await fresh('home');
    const home = execFileSync('getent', ['passwd', owner], { encoding: 'utf8' }).split(':')[5];
    const out = await run(pgpoolEnc, { user: 'app', password: 'pw-home', key: 'k-home', pool_passwd: f.passwd, owner }, { check: true });
    expect(out.summary).toContain(`create key file ${home}/.pgpoolkey`);
  });

  test('too long a password is refused before anything is written', async () => {
    const f = await fresh('long');
    await expect(run(pgpoolEnc, { user: 'app', password: 'p'.repeat(100), key: 'k-long', key_file: f.keyFile, pool_passwd: f.passwd, owner })).rejects.toThrow(/longer than pgpool reads/);
    await expect(fs.stat(f.passwd)).rejects.toThrow();
  });

  test.skipIf(!hasPgEnc)('an entry written by the real pg_enc -m is recognised: no change; a new password replaces it', async () => {
    const f = await fresh('real');
    await fs.writeFile(f.keyFile, 'real-pg-enc-key\n', { mode: 0o600 });
    await fs.writeFile(f.passwd, 'zed:md5d41d8cd98f00b204e9800998ecf8427e\n');
    realPgEnc(f.dir, f.keyFile, 'app', 'real-pass');
    const written = await fs.readFile(f.passwd, 'utf8');
    expect(written).toMatch(/^zed:md5\S+\napp:AES\S+\n$/);
    const args = { user: 'app', password: 'real-pass', key_file: f.keyFile, pool_passwd: f.passwd, owner };
    expect((await run(pgpoolEnc, args)).status).toBe('ok');
    expect(await fs.readFile(f.passwd, 'utf8')).toBe(written);
    // And what the module writes, pg_enc -m rewrites to the same bytes.
    await run(pgpoolEnc, { ...args, password: 'new-pass' });
    const ours = await fs.readFile(f.passwd, 'utf8');
    realPgEnc(f.dir, f.keyFile, 'app', 'new-pass');
    expect(await fs.readFile(f.passwd, 'utf8')).toBe(ours);
  });
});
