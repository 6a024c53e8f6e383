import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgres_conf } from '../../../modules/postgres_conf.js';
import { run } from '../../helpers/modules.js';
import { startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';

let pg: TempCluster;
let conf: string;
beforeAll(async () => {
  pg = await startTempCluster();
  conf = path.join(pg.dataDir, 'postgresql.conf');
}, 120_000);
afterAll(() => pg?.stop());

const read = () => readFileSync(conf, 'utf8');
const restart = () => pg.pgCtl('restart', '-D', pg.dataDir, '-w', '-m', 'fast', '-l', path.join(pg.dir, 'server.log'));

describe('postgres_conf', () => {
  test('uncomments defaults in place, keeps their comments; restart vs reload from pg_settings', async () => {
    const before = read();
    const args = { ...pg.args, settings: { wal_level: 'logical', synchronous_standby_names: 'FIRST 1 (a, "b c")', listen_addresses: '127.0.0.1' } };
    const check = await run(postgres_conf, args, { check: true });
    expect(check.status).toBe('changed');
    expect(read()).toBe(before);

    const first = await run(postgres_conf, args);
    expect(first.status).toBe('changed');
    expect(first.result).toMatchObject({ restart_required: true, changed_settings: ['wal_level', 'synchronous_standby_names'] });
    const text = read();
    expect(text).toMatch(/^wal_level = logical\t+# minimal, replica, or logical$/m);
    expect(text).toMatch(/^synchronous_standby_names = 'FIRST 1 \(a, "b c"\)'\t# standby servers that provide sync rep$/m);
    expect(text).not.toMatch(/^#wal_level/m);
    expect(text.split('\n').length).toBe(before.split('\n').length);
    expect(first.diffs[0].before).toBe(before);
    expect(first.diffs[0].after).toBe(text);

    // The file is right but the server still runs the old wal_level: still a restart to do, no change.
    const second = await run(postgres_conf, args);
    expect(second.status).toBe('ok');
    expect(second.result.restart_required).toBe(true);

    restart();
    expect(pg.psql('SHOW wal_level')).toBe('logical');
    const third = await run(postgres_conf, args);
    expect(third.status).toBe('ok');
    expect(third.result).toMatchObject({ restart_required: false, reload_required: false });
  });

  test('a sighup parameter needs only a reload; reload: true performs it', async () => {
    const out = await run(postgres_conf, { ...pg.args, settings: { work_mem: '8MB' }, reload: true });
    expect(out.status).toBe('changed');
    expect(out.result).toMatchObject({ restart_required: false, reload_required: true, reloaded: true });
    // pg_reload_conf() signals the postmaster; wait for the new value without asserting on time.
    for (let i = 0; i < 100 && pg.psql('SHOW work_mem') !== '8MB'; i++) await new Promise((r) => setTimeout(r, 100));
    expect(pg.psql('SHOW work_mem')).toBe('8MB');
  });

  test('units and booleans compare normalised: no false changes', async () => {
    expect(read()).toMatch(/^shared_buffers = 128MB/m);
    for (const value of ['128MB', '131072kB', '16384', 16384]) {
      const out = await run(postgres_conf, { ...pg.args, settings: { shared_buffers: value } });
      expect(out.status, String(value)).toBe('ok');
    }
    await run(postgres_conf, { ...pg.args, settings: { hot_standby: 'on' } });
    for (const value of ['yes', true, 'TRUE', 'on']) {
      expect((await run(postgres_conf, { ...pg.args, settings: { hot_standby: value } })).status).toBe('ok');
    }
    const changed = await run(postgres_conf, { ...pg.args, settings: { shared_buffers: '256MB' } }, { check: true });
    expect(changed.status).toBe('changed');
    expect(changed.result.restart_required).toBe(true);
  });

  test('replaces an active line in place and keeps its trailing comment', async () => {
    writeFileSync(conf, read().replace(/^listen_addresses = .*$/m, "listen_addresses = '127.0.0.1'   # test only"));
    const out = await run(postgres_conf, { ...pg.args, settings: { listen_addresses: '127.0.0.1,::1' } });
    expect(out.status).toBe('changed');
    expect(read()).toMatch(/^listen_addresses = '127\.0\.0\.1,::1'   # test only$/m);
    expect(out.result.restart_required).toBe(true);
  });

  test('parameters without a line go into a marked section; strings are quoted with escapes', async () => {
    const value = "it's a \\ test";
    const out = await run(postgres_conf, { ...pg.args, settings: { 'plinth.note': value } });
    expect(out.status).toBe('changed');
    expect(read()).toMatch(/# BEGIN plinth managed settings\nplinth\.note = 'it''s a \\\\ test'\n# END plinth managed settings\n$/);
    restart();
    expect(pg.psql("SELECT current_setting('plinth.note')")).toBe(value);
    expect((await run(postgres_conf, { ...pg.args, settings: { 'plinth.note': value } })).status).toBe('ok');
  });

  test('unknown parameters and invalid values are rejected before writing', async () => {
    const before = read();
    await expect(run(postgres_conf, { ...pg.args, settings: { wal_levle: 'replica' } })).rejects.toThrow(/unknown PostgreSQL parameter 'wal_levle'/);
    await expect(run(postgres_conf, { ...pg.args, settings: { wal_level: 'bogus' } })).rejects.toThrow(/one of minimal, replica, logical/);
    await expect(run(postgres_conf, { ...pg.args, settings: { hot_standby: 'maybe' } })).rejects.toThrow(/boolean/);
    expect(read()).toBe(before);
  });

  test('with the server stopped, the installed binary says what needs a restart', async () => {
    pg.pgCtl('stop', '-D', pg.dataDir, '-w', '-m', 'fast');
    try {
      const restartOne = await run(postgres_conf, { ...pg.args, settings: { max_wal_senders: 7 } });
      expect(restartOne.result).toMatchObject({ restart_required: true, changed_settings: ['max_wal_senders'] });
      const reloadOne = await run(postgres_conf, { ...pg.args, settings: { wal_keep_size: '256MB' } }, { check: true });
      expect(reloadOne.result).toMatchObject({ restart_required: false, reload_required: true });
    } finally {
      pg.pgCtl('start', '-D', pg.dataDir, '-w', '-l', path.join(pg.dir, 'server.log'));
    }
    expect(pg.psql('SHOW max_wal_senders')).toBe('7');
  });

  test('defer_lowering: a raise is written, a lowering (below the file or the running value) is left for later', async () => {
    const args = { ...pg.args, settings: { max_connections: 150, max_wal_senders: 10 }, defer_lowering: ['max_connections', 'max_wal_senders'] };
    const raise = await run(postgres_conf, args);
    expect(raise.summary).toBe('set max_connections = 150, max_wal_senders = 10 (restart required)');
    expect((await run(postgres_conf, args)).status).toBe('ok');
    const lower = await run(postgres_conf, { ...args, settings: { max_connections: 120, max_wal_senders: 8, shared_buffers: '64MB' } });
    expect(lower.summary).toBe('set shared_buffers = 64MB (restart required); lowering left for later: max_connections = 120, max_wal_senders = 8');
    expect(lower.result).toMatchObject({ deferred_lowering: ['max_connections = 120', 'max_wal_senders = 8'] });
    expect(read()).toMatch(/^max_connections = 150/m);
    // Without defer_lowering (the later task), the lowering is written.
    const later = await run(postgres_conf, { ...pg.args, settings: { max_connections: 120 } });
    expect(later.summary).toBe('set max_connections = 120 (restart required)');
    // The file says 120, the server still runs with 100 (no restart yet): 110 lowers the file's value, 90 both.
    expect((await run(postgres_conf, { ...args, settings: { max_connections: 110 } }, { check: true })).summary).toMatch(/^settings up to date; lowering left for later: max_connections = 110/);
    expect((await run(postgres_conf, { ...args, settings: { max_connections: 90 } }, { check: true })).summary).toMatch(/^settings up to date; lowering left for later: max_connections = 90/);
  });

  test('check mode on a host without the file is unknown with the reason', async () => {
    const out = await run(postgres_conf, { ...pg.args, config_file: '/nonexistent/postgresql.conf', settings: { wal_level: 'replica' } }, { check: true });
    expect(out.status).toBe('unknown');
    expect(out.message).toMatch(/does not exist yet/);
  });
});
