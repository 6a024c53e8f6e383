// fetch, cron (cron.d files), openssh_keypair and service_facts on this machine's real files and
// tools; the lab test runs hostname, timezone, service_facts and cron on a Debian host.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { fetch } from '../../../modules/fetch.js';
import { cron, editCrontab } from '../../../modules/cron.js';
import { openssh_keypair } from '../../../modules/openssh_keypair.js';
import { parseServices } from '../../../modules/service_facts.js';
import { parseKeyInfo } from '../../../modules/support/ssh-keys.js';
import { checkApplyAgain, run } from '../../helpers/modules.js';

const temp = () => fs.mkdtemp(path.join(os.tmpdir(), 'plinth-hostfiles-'));

describe('fetch', () => {
  test('host → controller under dest/<host>/<src>, or flat; again is ok; a missing file fails unless told', async () => {
    const dir = await temp();
    const src = path.join(dir, 'host', 'pg_hba.conf');
    await fs.mkdir(path.dirname(src));
    await fs.writeFile(src, 'local all postgres peer\n');
    const dest = path.join(dir, 'fetched');
    const { check, first, second } = await checkApplyAgain(fetch, { src, dest }, { vars: { inventory_hostname: 'pg-primary' } });
    expect(check).toMatchObject({ status: 'changed', diffs: [{ before: '', after: 'local all postgres peer\n' }] });
    expect([first.status, second.status]).toEqual(['changed', 'ok']);
    expect(await fs.readFile(path.join(dest, 'pg-primary', src), 'utf8')).toBe('local all postgres peer\n');
    await run(fetch, { src, dest: `${dest}/flat/`, flat: true });
    expect(await fs.readFile(path.join(dest, 'flat', 'pg_hba.conf'), 'utf8')).toBe('local all postgres peer\n');
    await expect(run(fetch, { src: `${src}.nope`, dest })).rejects.toThrow(`fetch: the remote file ${src}.nope does not exist`);
    expect((await run(fetch, { src: `${src}.nope`, dest, fail_on_missing: false })).status).toBe('ok');
  });
});

describe('cron', () => {
  const args = { name: 'vacuum', job: 'vacuumdb --all --analyze', minute: '30', hour: '3', day: '*', month: '*', weekday: '*', state: 'present' as const, disabled: false, env: false };
  test.each([
    ['adds marker and line', ['MAILTO=""\n'], args, ['MAILTO=""\n', '#Ansible: vacuum\n', '30 3 * * * vacuumdb --all --analyze\n']],
    ['replaces the line after its marker', ['#Ansible: vacuum\n', '0 1 * * * old\n', 'x\n'], args, ['#Ansible: vacuum\n', '30 3 * * * vacuumdb --all --analyze\n', 'x\n']],
    ['removes both', ['#Ansible: vacuum\n', '0 1 * * * old\n', 'x\n'], { ...args, state: 'absent' as const }, ['x\n']],
    ['disabled, special time', [], { ...args, special_time: 'daily', minute: '*', hour: '*', disabled: true }, ['#Ansible: vacuum\n', '#@daily vacuumdb --all --analyze\n']],
    [
      'env first',
      ['#Ansible: j\n', '* * * * * j\n'],
      { ...args, name: 'PGHOST', env: true, value: '/run/postgresql' },
      ['#Ansible: PGHOST\n', 'PGHOST=/run/postgresql\n', '#Ansible: j\n', '* * * * * j\n'],
    ],
  ])('%s', (_n, lines, a, expected) => {
    expect(editCrontab(lines, a as never)).toEqual(expected);
  });

  test('a cron.d file (with the user field): check, apply, again', async () => {
    const file = path.join(await temp(), 'postgresql-maintenance');
    const { check, first, second } = await checkApplyAgain(cron, { name: 'vacuum', job: 'vacuumdb --all', hour: 3, minute: 30, user: 'postgres', cron_file: file });
    expect(check).toMatchObject({ status: 'changed', summary: `add vacuum in ${file}` });
    expect([first.status, second.status]).toEqual(['changed', 'ok']);
    expect(await fs.readFile(file, 'utf8')).toBe('#Ansible: vacuum\n30 3 * * * postgres vacuumdb --all\n');
    // Written as any managed file: 0644, and a mode someone changed is set back (cron ignores a group-writable file).
    expect(((await fs.stat(file)).mode & 0o777).toString(8)).toBe('644');
    await fs.chmod(file, 0o664);
    expect(await run(cron, { name: 'vacuum', job: 'vacuumdb --all', hour: 3, minute: 30, user: 'postgres', cron_file: file })).toMatchObject({
      status: 'changed',
      summary: `mode 0664 → 0644 on ${file}`,
    });
    expect(((await fs.stat(file)).mode & 0o777).toString(8)).toBe('644');
    await expect(run(cron, { name: 'x', cron_file: file })).rejects.toThrow(': job is required with state present (unless env: true)');
  });
});

describe('openssh_keypair', () => {
  test('generate, keep, change the comment, regenerate on another type, remove', async () => {
    const key = path.join(await temp(), 'ssh', 'id_pgpool');
    const args = { path: key, type: 'ed25519', comment: 'pgpool failover' };
    const { check, first, second } = await checkApplyAgain(openssh_keypair, args);
    expect(check).toMatchObject({ status: 'changed', summary: `generate ed25519 key ${key}` });
    expect(first.status).toBe('changed');
    expect(first.result.public_key).toMatch(/^ssh-ed25519 AAAA\S+$/);
    expect(second).toMatchObject({ status: 'ok', result: { comment: 'pgpool failover' } });
    expect(((await fs.stat(key)).mode & 0o777).toString(8)).toBe('600');
    expect(((await fs.stat(path.dirname(key))).mode & 0o777).toString(8)).toBe('700');
    const comment = await run(openssh_keypair, { ...args, comment: 'renamed' });
    expect(comment.summary).toBe(`comment of ${key}`);
    expect((await fs.readFile(`${key}.pub`, 'utf8')).trim()).toMatch(/ renamed$/);
    expect((await run(openssh_keypair, { ...args, comment: 'renamed', type: 'rsa', size: 2048, regenerate: 'never' })).status).toBe('ok');
    await expect(run(openssh_keypair, { ...args, type: 'rsa', regenerate: 'fail' })).rejects.toThrow(/is a ed25519 key of 256 bits, not rsa 4096/);
    expect((await run(openssh_keypair, { path: key, type: 'rsa', size: 2048 })).summary).toBe(`regenerate rsa key ${key}`);
    expect(parseKeyInfo(execFileSync('ssh-keygen', ['-l', '-f', key], { encoding: 'utf8' }))).toMatchObject({ bits: 2048, type: 'rsa' });
    expect((await run(openssh_keypair, { path: key, type: 'rsa', size: 2048 })).status).toBe('ok');
    expect((await run(openssh_keypair, { path: key, state: 'absent' })).status).toBe('changed');
    await expect(fs.stat(`${key}.pub`)).rejects.toThrow();
  });

  test('a key without a comment, asked for with comment: "", stays as it is (OpenSSH 9 prints the file name for it)', async () => {
    const key = path.join(await temp(), 'ssh', 'id_rsa');
    const { first, second } = await checkApplyAgain(openssh_keypair, { path: key, type: 'rsa', size: 2048, comment: '' });
    expect(first.status).toBe('changed');
    expect(second).toMatchObject({ status: 'ok', result: { comment: '' } });
  });
});

describe('service_facts', () => {
  test('parses systemctl output into Ansible’s services facts', () => {
    const units =
      'ssh.service loaded active running OpenBSD Secure Shell server\npostgresql@15-main.service loaded failed failed PostgreSQL Cluster 15-main\ncron.service loaded inactive dead Regular background program\n';
    const files = 'ssh.service enabled enabled\npostgresql@.service indirect enabled\ncron.service disabled enabled\npgpool2.service enabled enabled\n';
    expect(parseServices(units, files)).toEqual({
      'ssh.service': { name: 'ssh.service', state: 'running', status: 'enabled', source: 'systemd' },
      'postgresql@.service': { name: 'postgresql@.service', state: 'stopped', status: 'indirect', source: 'systemd' },
      'postgresql@15-main.service': { name: 'postgresql@15-main.service', state: 'failed', status: 'unknown', source: 'systemd' },
      'cron.service': { name: 'cron.service', state: 'stopped', status: 'disabled', source: 'systemd' },
      'pgpool2.service': { name: 'pgpool2.service', state: 'stopped', status: 'enabled', source: 'systemd' },
    });
  });
});
