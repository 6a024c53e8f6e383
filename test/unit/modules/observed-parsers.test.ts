// The parsers that turn what observe runs on a host into what plan reads, on output captured
// from real hosts (test/fixtures/captured/): systemctl on a lab host (Debian 12, systemd 252),
// /proc/mounts there, and psql / postgres / tar / ssh-keygen (OpenSSH 9.2) on this machine.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { PLINTH_ROOT } from '../../../engine/paths.js';
import { parseShow, planSystemd } from '../../../modules/systemd.js';
import { parseServices } from '../../../modules/service_facts.js';
import { mountAt } from '../../../modules/mount.js';
import { parseDescribeConfig, parseServerSettings } from '../../../modules/postgres_conf.js';
import { parseHbaErrors } from '../../../modules/pg_hba.js';
import { mergeEntries, parseHbaFile, renderHbaFile } from '../../../modules/postgres/hba.js';
import { needsRestart, normalizeValue } from '../../../modules/postgres/values.js';
import { aclObjects, type AclRow } from '../../../modules/postgres_privs.js';
import { parseJsonRows } from '../../../modules/postgres/sql.js';
import { tarDifferences } from '../../../modules/unarchive.js';
import { parseKeyInfo } from '../../../modules/support/ssh-keys.js';
import { getentFields, groupFields, passwdFields } from '../../../modules/support/accounts.js';

const captured = (...parts: string[]) => readFileSync(path.join(PLINTH_ROOT, 'test', 'fixtures', 'captured', ...parts), 'utf8');

describe('systemctl show (systemd 252 on a lab host)', () => {
  const show = (name: string) => parseShow(captured('systemctl-show', `${name}.txt`));

  test('a running enabled unit, a stopped disabled one, a failed static one', () => {
    expect(show('ssh-running-enabled')).toEqual({ LoadState: 'loaded', ActiveState: 'active', SubState: 'running', UnitFileState: 'enabled', NeedDaemonReload: 'no' });
    expect(show('stopped-disabled')).toMatchObject({ ActiveState: 'inactive', SubState: 'dead', UnitFileState: 'disabled' });
    expect(show('failed-static')).toMatchObject({ ActiveState: 'failed', UnitFileState: 'static' });
    expect(show('exited-static')).toMatchObject({ ActiveState: 'active', SubState: 'exited', UnitFileState: 'static' });
  });

  test('a unit that does not exist has an empty UnitFileState; a masked one says so twice', () => {
    expect(show('not-found')).toMatchObject({ LoadState: 'not-found', UnitFileState: '' });
    expect(show('masked')).toMatchObject({ LoadState: 'masked', UnitFileState: 'masked' });
  });

  test('plans from the captured states', () => {
    const plan = (name: string, args: Parameters<typeof planSystemd>[1], check = false) => planSystemd({ unit: show(name) }, args, { check });
    expect(plan('stopped-disabled', { name: 'plinth-demo', state: 'started', enabled: true, daemon_reload: false, no_block: false })).toMatchObject({
      changed: true,
      action: { steps: ['enable', 'start'] },
    });
    expect(plan('running-enabled', { name: 'plinth-demo', state: 'started', enabled: true, daemon_reload: false, no_block: false })).toMatchObject({ changed: false });
    expect(plan('need-daemon-reload', { name: 'plinth-demo', state: 'started', daemon_reload: true, no_block: false })).toMatchObject({ changed: true, action: { steps: ['daemon-reload'] } });
    // A static unit cannot be enabled, and needs not be: enabled: true is satisfied.
    expect(plan('exited-static', { name: 'systemd-journal-flush', enabled: true, daemon_reload: false, no_block: false })).toMatchObject({ changed: false });
    expect(plan('masked', { name: 'plinth-demo', masked: false, state: 'started', daemon_reload: false, no_block: false })).toMatchObject({ action: { steps: ['unmask', 'start'] } });
    expect(plan('not-found', { name: 'no-such-unit', state: 'started', daemon_reload: false, no_block: false }, true)).toMatchObject({ unknown: true });
    expect(() => plan('not-found', { name: 'no-such-unit', state: 'started', daemon_reload: false, no_block: false })).toThrow('unit no-such-unit does not exist');
  });
});

describe('systemctl list-units / list-unit-files (service_facts)', () => {
  const services = parseServices(captured('systemctl-list', 'list-units.txt'), captured('systemctl-list', 'list-unit-files.txt'));

  test('states and enablement of real units', () => {
    expect(services['ssh.service']).toEqual({ name: 'ssh.service', state: 'running', status: 'enabled', source: 'systemd' });
    expect(services['plinth-fail.service']).toEqual({ name: 'plinth-fail.service', state: 'failed', status: 'static', source: 'systemd' });
    // Listed by list-unit-files only: installed, never started.
    expect(services['plinth-demo.service']).toMatchObject({ state: 'stopped', status: 'disabled' });
    expect(services['systemd-journal-flush.service']).toMatchObject({ state: 'exited', status: 'static' });
    expect(Object.keys(services).every((n) => n.endsWith('.service'))).toBe(true);
    expect(Object.keys(services).length).toBeGreaterThan(50);
  });
});

describe('/proc/mounts (a lab host)', () => {
  const mounts = captured('proc', 'mounts.txt');

  test('a mount point with a space is written \\040 and read back', () => {
    expect(mountAt(mounts, '/mnt/with space')).toEqual({ src: 'tmpfs', fstype: 'tmpfs', opts: 'rw,relatime,size=1024k,mode=755' });
  });

  test('of stacked mounts the last one is on top; an unmounted path is null', () => {
    expect(mountAt(mounts, '/run/host/os-release')).toMatchObject({ src: '/dev/vda', opts: expect.stringMatching(/^rw,/) });
    expect(mountAt(mounts, '/')).toMatchObject({ fstype: 'overlay' });
    expect(mountAt(mounts, '/mnt/nothing')).toBeNull();
  });
});

describe('PostgreSQL 15 (psql and postgres output on this machine)', () => {
  test('pg_settings rows: types, units, enum values, the config file', () => {
    const { settings, configFile } = parseServerSettings(captured('postgres', 'pg-settings.psql.txt'));
    expect(configFile).toMatch(/\/postgresql\.conf$/);
    expect(settings.max_connections).toMatchObject({ context: 'postmaster', vartype: 'integer', setting: '100', pending_restart: false });
    expect(settings.shared_buffers).toMatchObject({ vartype: 'integer', unit: '8kB', setting: '16384' });
    expect(settings.wal_level).toMatchObject({ vartype: 'enum', enumvals: ['minimal', 'replica', 'logical'] });
    expect(settings.hot_standby).toMatchObject({ vartype: 'bool', setting: 'on' });
    expect(settings.work_mem).toMatchObject({ context: 'user', unit: 'kB' });
    // 16384 pages of 8kB is the 128MB a person writes.
    expect(normalizeValue(settings.shared_buffers.setting, settings.shared_buffers)).toBe(normalizeValue('128MB'));
    expect(Object.keys(settings)).toHaveLength(10);
  });

  test('postgres --describe-config: every parameter with its context and type', () => {
    const params = parseDescribeConfig(captured('postgres', 'describe-config.txt'));
    expect(Object.keys(params).length).toBeGreaterThan(300);
    expect(params.max_connections).toEqual({ name: 'max_connections', context: 'postmaster', vartype: 'integer', unit: null });
    expect(params.hot_standby.vartype).toBe('bool');
    expect(params.wal_level.vartype).toBe('enum');
    expect(needsRestart(params.shared_buffers.context)).toBe(true);
    expect(needsRestart(params.work_mem.context)).toBe(false);
  });

  test('pg_hba_file_rules errors, as the server reports a bad mask and an impossible hostssl rule', () => {
    expect(parseHbaErrors(captured('postgres', 'pg_hba_file_rules-errors.psql.txt'))).toEqual([
      'line 95: invalid CIDR mask in address "10.0.0.0/33"',
      'line 96: hostssl record cannot match because SSL is disabled',
    ]);
  });

  test("initdb's pg_hba.conf: the managed block goes above the first rule's comment, the rest stays byte for byte", () => {
    const text = captured('postgres', 'initdb-pg_hba.conf');
    const file = parseHbaFile(text, 'plinth managed');
    expect(file.block).toBeNull();
    const entries = mergeEntries([], [{ type: 'host', database: 'replication', user: 'replicator', address: '198.18.0.11/32', method: 'scram-sha-256', state: 'present' }], false);
    const out = renderHbaFile(file, entries, 'plinth managed');
    const added = out.split('\n').filter((l) => !text.split('\n').includes(l));
    expect(added).toEqual(['# BEGIN plinth managed', 'host    replication     replicator      198.18.0.11/32          scram-sha-256', '# END plinth managed']);
    expect(out.indexOf('# BEGIN plinth managed')).toBeLessThan(out.indexOf('# "local" is for Unix domain socket connections only'));
    expect(parseHbaFile(out, 'plinth managed').managed).toEqual([
      { type: 'host', database: 'replication', user: 'replicator', address: '198.18.0.11/32', method: 'scram-sha-256', options: undefined },
    ]);
  });
});

describe('aclexplode rows (postgres_privs)', () => {
  const objects = (name: string) => aclObjects(parseJsonRows<AclRow>(captured('postgres', name)));

  test('tables: the owner’s implicit privileges, a grant, a grant with grant option, an owner who revoked his own', () => {
    expect(objects('acl-tables.psql.txt')).toEqual([
      {
        name: 'accounts',
        acl: {
          postgres: { INSERT: false, SELECT: false, UPDATE: false, DELETE: false, TRUNCATE: false, REFERENCES: false, TRIGGER: false },
          reader: { SELECT: false },
        },
      },
      { name: 'audit', acl: { reader: { INSERT: true, SELECT: true } } },
    ]);
  });

  test('a database: PUBLIC’s defaults beside the owner’s and a grant', () => {
    expect(objects('acl-database.psql.txt')).toEqual([
      { name: 'app', acl: { PUBLIC: { TEMPORARY: false, CONNECT: false }, app: { CREATE: false, TEMPORARY: false, CONNECT: false }, reader: { CONNECT: false } } },
    ]);
  });

  test('default privileges per kind and target role, sorted the same on every machine', () => {
    const found = objects('acl-default-privs.psql.txt');
    expect(found.map((o) => `${o.name} for ${o.forRole}`)).toEqual(['SEQUENCES for app', 'TABLES for app']);
    expect(found[1].acl.reader).toEqual({ SELECT: false });
  });
});

describe('tar --compare (GNU tar 1.34)', () => {
  test('nothing unpacked yet: every member, directories too', () => {
    expect(tarDifferences('', captured('tar-compare', 'nothing-unpacked.stderr'), false)).toEqual([
      'pgpool-tools: Warning: Cannot stat: No such file or directory',
      'pgpool-tools/README: Warning: Cannot stat: No such file or directory',
      'pgpool-tools/bin: Warning: Cannot stat: No such file or directory',
      'pgpool-tools/bin/pcp_watch: Warning: Cannot stat: No such file or directory',
    ]);
  });

  test('a changed file and a changed mode are differences', () => {
    expect(tarDifferences(captured('tar-compare', 'changed.stdout'), '', false)).toEqual(['pgpool-tools/README: Size differs', 'pgpool-tools/bin/pcp_watch: Mode differs']);
  });

  test('files given away with owner/group differ in uid/gid by design: no difference then', () => {
    const given = captured('tar-compare', 'given-away.stdout');
    expect(tarDifferences(given, '', true)).toEqual([]);
    expect(tarDifferences(given, '', false)).toHaveLength(4);
  });
});

describe('ssh-keygen -l (OpenSSH 9.2)', () => {
  test('type, bits, fingerprint and a comment of several words', () => {
    expect(parseKeyInfo(captured('ssh-keygen', 'ed25519.txt'), 'keys/ed')).toEqual({
      bits: 256,
      type: 'ed25519',
      fingerprint: 'SHA256:tp8qiNRhcnBvvGMkcLy7Q4y2a1ep3jgXHexYXp139gs',
      comment: 'postgres@pg-primary',
    });
    expect(parseKeyInfo(captured('ssh-keygen', 'ecdsa-two-words.txt'), 'keys/ec')).toMatchObject({ type: 'ecdsa', comment: 'two words' });
  });

  test('a key without a comment: OpenSSH 9 prints the file it read, which is no comment', () => {
    expect(captured('ssh-keygen', 'rsa-no-comment.txt')).toContain(' keys/rsa.pub (RSA)');
    expect(parseKeyInfo(captured('ssh-keygen', 'rsa-no-comment.txt'), 'keys/rsa')).toMatchObject({ bits: 3072, type: 'rsa', comment: '' });
  });
});

describe('getent (Debian 12, the account postgresql-common creates)', () => {
  test('passwd: the GECOS field with its commas is the comment', () => {
    expect(passwdFields(getentFields(captured('getent', 'passwd-postgres.txt')))).toEqual({
      name: 'postgres',
      uid: 101,
      gid: 104,
      comment: 'PostgreSQL administrator,,,',
      home: '/var/lib/postgresql',
      shell: '/bin/bash',
    });
  });

  test('group: members listed, or none', () => {
    expect(groupFields(getentFields(captured('getent', 'group-ssl-cert.txt')))).toEqual({ name: 'ssl-cert', gid: 103, members: ['postgres'] });
    expect(groupFields(getentFields(captured('getent', 'group-postgres.txt')))).toEqual({ name: 'postgres', gid: 104, members: [] });
  });
});
