// postgres_standby_health against a real primary and a real streaming standby (temp clusters).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgres_standby_health } from '../../../modules/postgres_standby_health.js';
import { run, schemaProblems } from '../../helpers/modules.js';
import { useTempPrimaryAndStandby } from '../postgres/temp-cluster.js';

const pair = useTempPrimaryAndStandby({ beforeAll, afterAll });

const primaryLsn = () => pair.primary.psql('SELECT pg_current_wal_lsn()');

describe('postgres_standby_health', () => {
  test('a streaming standby that replayed up to the primary’s position is healthy, also in check mode', async () => {
    pair.primary.psql('CREATE TABLE t (v int); INSERT INTO t SELECT generate_series(1, 1000)');
    const args = { ...pair.standby.conn, primary_lsn: primaryLsn() };
    for (const check of [true, false]) {
      const out = await run(postgres_standby_health, args, { check });
      expect(out.status, out.message).toBe('ok');
      expect(out.summary).toBe('streaming and replaying, caught up with the primary');
      expect(out.result).toMatchObject({ in_recovery: true, pause_state: 'not paused', receiver: 'streaming', lag_bytes: 0 });
    }
  });

  test('paused replay fails at once, naming the host and the cause, though the primary still sees it streaming', async () => {
    pair.standby.psql('SELECT pg_wal_replay_pause()');
    try {
      pair.primary.psql('INSERT INTO t VALUES (1)');
      await expect(run(postgres_standby_health, { ...pair.standby.conn, primary_lsn: primaryLsn(), wait: 600 })).rejects.toThrow(
        /^standby localhost: WAL replay is paused \(pg_get_wal_replay_pause_state: (paused|pause requested)\)/,
      );
      expect(pair.primary.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'standby1'")).toBe('streaming');
    } finally {
      pair.standby.psql('SELECT pg_wal_replay_resume()');
    }
  });

  test('lag beyond max_lag_bytes fails after the wait, with the numbers', async () => {
    // A position the standby cannot reach yet: far ahead of anything written.
    await expect(run(postgres_standby_health, { ...pair.standby.conn, primary_lsn: 'FF/0', max_lag_bytes: 1024, wait: 1 })).rejects.toThrow(
      /^standby localhost: replay is \d+ bytes behind \(replayed up to [0-9A-F/]+, target FF\/0; allowed 1024\)/,
    );
  });

  test('the primary is not a standby', async () => {
    await expect(run(postgres_standby_health, { ...pair.primary.conn, wait: 600 })).rejects.toThrow(/^standby localhost: not a standby: it is not in recovery/);
  });

  test('a standby whose primary is gone is not streaming', async () => {
    pair.primary.pgCtl('stop', '-D', pair.primary.dataDir, '-m', 'fast', '-w');
    try {
      await expect(run(postgres_standby_health, { ...pair.standby.conn, wait: 1 })).rejects.toThrow(/^standby localhost: not streaming from the primary \(WAL receiver: (none|\w+)\)/);
    } finally {
      pair.primary.pgCtl('start', '-D', pair.primary.dataDir, '-l', `${pair.primary.dir}/server.log`, '-w');
    }
  });

  test('check mode on a host where PostgreSQL does not run: unknown with the reason', async () => {
    const out = await run(postgres_standby_health, { port: 1, socket_dir: pair.standby.dir }, { check: true });
    expect(out.status).toBe('unknown');
    expect(out.message).toMatch(/not running/);
  });

  test('schema: a malformed LSN is refused', () => {
    expect(schemaProblems(postgres_standby_health, { primary_lsn: 'zz' }).length).toBeGreaterThan(0);
  });
});
