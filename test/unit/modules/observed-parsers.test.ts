// The parsers that turn what observe runs on a host into what plan reads, on output captured
// from real hosts (test/fixtures/captured/): systemctl on a lab host (Debian 12, systemd 252),
// /proc/mounts there, and psql / postgres from this machine's PostgreSQL 15.
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
    expect(plan('stopped-disabled', { name: 'plinth-demo', state: 'started', enabled: true, daemon_reload: false, no_block: false })).toMatchObject({ changed: true, action: { steps: ['enable', 'start'] } });
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
    expect(parseHbaFile(out, 'plinth managed').managed).toEqual([{ type: 'host', database: 'replication', user: 'replicator', address: '198.18.0.11/32', method: 'scram-sha-256', options: undefined }]);
  });
});
