import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { basebackup } from '../../../modules/basebackup.js';
import { run } from '../../helpers/modules.js';
import { asPostgres, BIN, freePort, postgresTempDir, startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';
import { spawnSync } from 'node:child_process';

const PASSWORD = `rep pa's"s\\word;`;
let primary: TempCluster;
const standbys: { dir: string; dataDir: string; port: number }[] = [];
const others: TempCluster[] = [];

beforeAll(async () => {
  primary = await startTempCluster();
  primary.psql(`CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD '${PASSWORD.replace(/'/g, "''")}'; CREATE TABLE t (v text)`);
}, 120_000);
afterAll(() => {
  for (const s of standbys) spawnSync('runuser', ['-u', 'postgres', '--', `${BIN}/pg_ctl`, 'stop', '-D', s.dataDir, '-m', 'immediate', '-w']);
  for (const s of standbys) spawnSync('rm', ['-rf', s.dir]);
  for (const c of others) c.stop();
  primary?.stop();
});

async function newStandbyDir() {
  const dir = postgresTempDir('plinth-standby-');
  const s = { dir, dataDir: path.join(dir, 'data'), port: await freePort() };
  standbys.push(s);
  return s;
}

function psqlOn(s: { dir: string; port: number }, sql: string) {
  return asPostgres(['psql', '-X', '-A', '-t', '-h', s.dir, '-p', String(s.port), '-d', 'postgres'], sql).trim();
}

function argsFor(s: { dir: string; dataDir: string; port: number }, extra: Record<string, unknown> = {}) {
  return {
    primary_host: '127.0.0.1',
    primary_port: primary.port,
    replication_user: 'replicator',
    replication_password: PASSWORD,
    application_name: 'replica1',
    data_dir: s.dataDir,
    port: s.port,
    socket_dir: s.dir,
    ...extra,
  };
}

async function eventually(fn: () => boolean) {
  for (let i = 0; i < 200 && !fn(); i++) await new Promise((r) => setTimeout(r, 100));
  return fn();
}

describe('basebackup', () => {
  let s1: Awaited<ReturnType<typeof newStandbyDir>>;

  test('check mode reports the clone and changes nothing', async () => {
    s1 = await newStandbyDir();
    const out = await run(basebackup, argsFor(s1), { check: true });
    expect(out.status).toBe('changed');
    expect(out.summary).toMatch(/pg_basebackup from 127\.0\.0\.1/);
    expect(existsSync(s1.dataDir)).toBe(false);
  });

  test('clones, starts and streams with application_name; the password never shows', async () => {
    const out = await run(basebackup, argsFor(s1));
    expect(out.status).toBe('changed');
    expect(out.result.streaming).toBe(true);
    expect(JSON.stringify(out)).not.toContain(PASSWORD);
    expect(primary.psql('SELECT application_name, state FROM pg_stat_replication')).toBe('replica1|streaming');
    expect(existsSync(path.join(s1.dataDir, 'standby.signal'))).toBe(true);
    expect(readFileSync(path.join(s1.dataDir, 'postgresql.auto.conf'), 'utf8')).toMatch(/^primary_conninfo = '.*application_name=replica1.*'$/m);
    primary.psql("INSERT INTO t VALUES ('from primary')");
    expect(await eventually(() => psqlOn(s1, 'SELECT v FROM t') === 'from primary')).toBe(true);
  });

  test('a second run leaves the streaming standby alone (no restart)', async () => {
    const started = psqlOn(s1, 'SELECT pg_postmaster_start_time()');
    const out = await run(basebackup, argsFor(s1));
    expect(out.status).toBe('ok');
    expect(out.result.streaming).toBe(true);
    expect(psqlOn(s1, 'SELECT pg_postmaster_start_time()')).toBe(started);
  });

  test('a new password rewrites primary_conninfo and reloads, without re-cloning', async () => {
    const started = psqlOn(s1, 'SELECT pg_postmaster_start_time()');
    const sysid = psqlOn(s1, 'SELECT system_identifier FROM pg_control_system()');
    primary.psql("ALTER ROLE replicator PASSWORD 'second'");
    const out = await run(basebackup, argsFor(s1, { replication_password: 'second' }));
    expect(out.status).toBe('changed');
    expect(out.summary).toMatch(/update primary_conninfo/);
    expect(out.diffs[0].secret).toBe(true);
    expect(psqlOn(s1, 'SELECT pg_postmaster_start_time()')).toBe(started);
    expect(psqlOn(s1, 'SELECT system_identifier FROM pg_control_system()')).toBe(sysid);
    expect((await run(basebackup, argsFor(s1, { replication_password: 'second' }))).status).toBe('ok');
    primary.psql(`ALTER ROLE replicator PASSWORD '${PASSWORD.replace(/'/g, "''")}'`);
  });

  test('a fresh cluster (as a package install leaves it) is replaced without force and kept aside', async () => {
    const fresh = await startTempCluster();
    others.push(fresh);
    const out = await run(basebackup, argsFor({ dir: fresh.dir, dataDir: fresh.dataDir, port: fresh.port }, { application_name: 'replica2' }));
    expect(out.status).toBe('changed');
    expect(String(out.result.moved_aside)).toMatch(/data\.plinth-old-/);
    expect(existsSync(path.join(String(out.result.moved_aside), 'PG_VERSION'))).toBe(true);
    expect(primary.psql("SELECT state FROM pg_stat_replication WHERE application_name = 'replica2'")).toBe('streaming');
  });

  test('refuses a running primary in use, then a stopped foreign cluster; force moves it aside', async () => {
    const foreign = await startTempCluster();
    others.push(foreign);
    foreign.psql('CREATE TABLE precious (id int)');
    const args = argsFor({ dir: foreign.dir, dataDir: foreign.dataDir, port: foreign.port }, { application_name: 'replica3' });
    await expect(run(basebackup, args)).rejects.toThrow(/running primary in use.*relation/);
    await expect(run(basebackup, args, { check: true })).rejects.toThrow(/running primary in use/);
    foreign.pgCtl('stop', '-D', foreign.dataDir, '-w', '-m', 'fast');
    await expect(run(basebackup, args)).rejects.toThrow(/another cluster \(system identifier \d+, the primary's is \d+\)/);
    expect(existsSync(path.join(foreign.dataDir, 'PG_VERSION'))).toBe(true);
    const forced = await run(basebackup, { ...args, force: true });
    expect(forced.status).toBe('changed');
    expect(existsSync(path.join(String(forced.result.moved_aside), 'PG_VERSION'))).toBe(true);
  });

  test('check mode with an unreachable primary is unknown, not ok', async () => {
    const s = await newStandbyDir();
    const out = await run(basebackup, argsFor(s, { primary_port: 1 }), { check: true });
    expect(out.status).toBe('unknown');
    expect(out.message).toMatch(/not reachable/);
  });
});
