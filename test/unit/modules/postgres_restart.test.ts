// postgres_restart against a real primary and a real streaming standby (temp clusters), with the
// case that motivated it: the primary raising max_connections before its standby pauses replay.
import { appendFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgres_restart } from '../../../modules/postgres_restart.js';
import { postgres_standby_health } from '../../../modules/postgres_standby_health.js';
import { pendingSettings } from '../../../modules/postgres_restart.js';
import { checkApplyAgain, run } from '../../helpers/modules.js';
import { useTempPrimaryAndStandby, type TempCluster } from '../postgres/temp-cluster.js';

const pair = useTempPrimaryAndStandby({ beforeAll, afterAll });

const setConf = (c: TempCluster, line: string) => appendFileSync(path.join(c.dataDir, 'postgresql.conf'), `${line}\n`);
const pid = (c: TempCluster) => c.psql('SELECT pg_postmaster_start_time()');

describe('postgres_restart', () => {
  test('nothing configured differently: no restart', async () => {
    const before = pid(pair.standby);
    const out = await run(postgres_restart, { ...pair.standby.args });
    expect(out.status).toBe('ok');
    expect(out.summary).toBe('no setting waits for a restart');
    expect(pid(pair.standby)).toBe(before);
  });

  test('a raised max_connections on the standby: restarted, then streaming and caught up; the next run does nothing', async () => {
    setConf(pair.standby, 'max_connections = 150');
    const before = pid(pair.standby);
    const { check, first, second } = await checkApplyAgain(postgres_restart, { ...pair.standby.args });
    expect(check.status).toBe('changed');
    expect(check.summary).toBe('restart standby for max_connections 100 → 150');
    expect(first.status).toBe('changed');
    expect(first.result).toMatchObject({ standby: true, receiver: 'streaming' });
    expect(second.status).toBe('ok');
    expect(pid(pair.standby)).not.toBe(before);
    expect(pair.standby.psql('SHOW max_connections')).toBe('150');
  });

  test('on a primary with a streaming standby, defer_when_replicating leaves the restart to the rolling restart', async () => {
    setConf(pair.primary, 'max_connections = 150');
    const out = await run(postgres_restart, { ...pair.primary.args, defer_when_replicating: true });
    expect(out.status).toBe('ok');
    expect(out.summary).toBe('restart left to the rolling restart (the primary of standby1): max_connections 100 → 150');
    expect(pair.primary.psql('SHOW max_connections')).toBe('100');
  });

  test('standby raised first, then the primary: the standby never pauses', async () => {
    const out = await run(postgres_restart, { ...pair.primary.args });
    expect(out.summary).toBe('restart for max_connections 100 → 150');
    expect(out.result).toMatchObject({ standby: false });
    pair.primary.psql('CREATE TABLE after_raise (v int); INSERT INTO after_raise VALUES (1)');
    const health = await run(postgres_standby_health, { ...pair.standby.conn, primary_lsn: pair.primary.psql('SELECT pg_current_wal_lsn()') });
    expect(health.status, health.message).toBe('ok');
    expect(pair.standby.psql('SELECT v FROM after_raise')).toBe('1');
  });

  test('the wrong order (primary raised past its standby): replay pauses; health names it; restarting the raised standby repairs it', async () => {
    setConf(pair.primary, 'max_connections = 200');
    await run(postgres_restart, { ...pair.primary.args });
    pair.primary.psql('INSERT INTO after_raise VALUES (2)');
    const lsn = pair.primary.psql('SELECT pg_current_wal_lsn()');
    await expect(run(postgres_standby_health, { ...pair.standby.conn, primary_lsn: lsn, wait: 120 })).rejects.toThrow(/^standby localhost: WAL replay is paused/);
    expect(pair.primary.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'standby1'")).toBe('streaming');
    setConf(pair.standby, 'max_connections = 200');
    const restarted = await run(postgres_restart, { ...pair.standby.args });
    expect(restarted.status, restarted.message).toBe('changed');
    expect((await run(postgres_standby_health, { ...pair.standby.conn, primary_lsn: lsn })).status).toBe('ok');
    expect(pair.standby.psql('SELECT count(*) FROM after_raise')).toBe('2');
  });

  test('force restarts without a pending setting', async () => {
    const before = pid(pair.primary);
    expect((await run(postgres_restart, { ...pair.primary.args, force: true })).status).toBe('changed');
    expect(pid(pair.primary)).not.toBe(before);
  });

  test('check mode where PostgreSQL does not run: unknown', async () => {
    const out = await run(postgres_restart, { port: 1, socket_dir: pair.standby.dir, data_dir: pair.standby.dataDir }, { check: true });
    expect(out.status).toBe('unknown');
  });
});

describe('pendingSettings', () => {
  const row = (name: string, setting: string, extra: Record<string, unknown> = {}) => ({
    name,
    setting,
    shown: setting,
    unit: null,
    vartype: 'integer',
    context: 'postmaster',
    source: 'configuration file',
    pending_restart: false,
    ...extra,
  });
  test('units are compared normalised; auto.conf wins; command-line settings are not the files’', () => {
    const running = [
      row('shared_buffers', '16384', { unit: '8kB', shown: '128MB' }),
      row('max_connections', '100'),
      row('port', '5433', { source: 'command line' }),
      row('max_wal_senders', '10', { pending_restart: true }),
    ];
    expect(pendingSettings(running, ['shared_buffers = 128MB\nmax_connections = 100\nport = 5432\n', "max_connections = '120'\n"])).toEqual([
      'max_connections 100 → 120',
      'max_wal_senders (pending_restart)',
    ]);
  });
});
