// Day 2 of the blog's cluster on the lab (issue 16), after site.yml converged it:
//   - the application login migrates its own schema through pgpool, and the row reaches every replica;
//   - max_connections raised (100 → 150) and lowered again with `plinth plan` + `plinth apply`: the
//     standbys restart one at a time before the primary when raising, after it when lowering, the
//     synchronous one last; no standby ever pauses its replay, each ends caught up with the new value;
//   - add-replica.yml: pgpool takes the new backend by a reload (no restart), an open client session
//     through pgpool survives, the new node is up;
//   - remove-replica.yml, for a replica in the middle of pgpool's backends: the leaving host leaves
//     synchronous_standby_names, pgpool detaches it by a reload (the others keep their node ids), its
//     PostgreSQL stops with its data kept; the open session survives and a write loop through pgpool
//     during the run records no error. pgpool lists the node as down until its next restart, then
//     no more.
// Needs root; runs when PLINTH_LAB=1. The tests share one lab and run in order.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as YAML from 'yaml';
import {
  growLab,
  HOOK_TIMEOUT_MS,
  LabSession,
  PGPOOL,
  PRIMARY,
  REPLICAS,
  SITE,
  addressOf,
  appName,
  eventually,
  expectStreamingFirst1,
  expectSuccess,
  hostSql,
  labAddress,
  log,
  newSecrets,
  onHost,
  poolNodes,
  psqlAt,
  resultKey,
  seconds,
  type RunResult,
  type Secrets,
} from '../helpers/lab-cluster.js';
import type { PlanFile } from '../../engine/plan/plan-file.js';

const STANDBY_RESTART = 'Standby restarted if a setting needs it, then streaming and replaying again';
const PRIMARY_RESTART = 'Primary restarted if a setting needs it';
const NEW_REPLICA = 'pg-replica-3';
// The replica remove-replica takes out: a middle one of pgpool's backends (node 2 of 0-3).
const LEAVING = REPLICAS[1];
const STAYING = [REPLICAS[0], NEW_REPLICA];

/** A psql session through pgpool kept open across runs; each check sends a query on it. */
class HeldSession {
  private out = '';
  private err = '';
  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stdout.on('data', (b: Buffer) => (this.out += b.toString()));
    child.stderr.on('data', (b: Buffer) => (this.err += b.toString()));
  }

  static async open(password: string): Promise<HeldSession> {
    const child = spawn('psql', ['-X', '-q', '-A', '-t', '-h', await labAddress(PGPOOL), '-U', 'app', '-d', 'app'], {
      env: { ...process.env, PGPASSWORD: password, PGSSLMODE: 'disable', PGCONNECT_TIMEOUT: '10' },
    });
    return new HeldSession(child);
  }

  /** The backend pid this session is served by, read with a query on the same connection. */
  async backendPid(label: string): Promise<string> {
    const mark = `mark-${label}`;
    this.child.stdin.write(`SELECT '${mark}', pg_backend_pid();\n`);
    return eventually(
      async () => {
        const line = this.out.split('\n').find((l) => l.startsWith(`${mark}|`));
        if (!line) throw new Error(`no answer to ${label} on the held session (stderr: ${this.err || 'none'}, exit: ${this.child.exitCode})`);
        return line.split('|')[1];
      },
      60_000,
      200,
    );
  }

  get errors(): string {
    return this.err;
  }

  close(): void {
    this.child.stdin.end();
    if (this.child.exitCode === null) this.child.kill();
  }
}

/** INSERTs through pgpool, one after another, until stopped; every failure is kept. */
function writeLoop(password: string) {
  let stop = false;
  const errors: string[] = [];
  let written = 0;
  const done = (async () => {
    while (!stop) {
      const r = await psqlAt({ password, database: 'app', sql: `INSERT INTO notes (body) VALUES ('loop ${written}')` });
      if (r.code === 0) written++;
      else errors.push(r.stderr.trim());
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  })();
  return {
    stop: async () => {
      stop = true;
      await done;
      return { written, errors };
    },
  };
}

/** How often a standby's log says its replay paused (the log of PostgreSQL on Debian). */
async function pauseLines(host: string): Promise<number> {
  const out = await onHost(host, "grep -c 'recovery has paused' /var/log/postgresql/postgresql-15-main.log || true");
  return Number(out.trim() || '0');
}

describe('day 2 on the converged blog cluster', { timeout: 20 * 60_000 }, () => {
  let lab: LabSession;
  let secrets: Secrets;
  let secretsFile: string;
  const t0 = Date.now();

  beforeAll(async () => {
    lab = await LabSession.open('day2');
    secrets = newSecrets();
    secretsFile = await lab.writeSecrets('secrets.yml', secrets);
    const converge = await lab.run('converge', [secretsFile]);
    expectSuccess(converge);
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    log(`day2 suite: ${seconds(t0)} s`);
    await lab?.close();
  }, 5 * 60_000);

  test('the application login migrates its schema through pgpool (CREATE TABLE, INSERT); the row is read on every replica', async () => {
    const migrate = await psqlAt({
      password: secrets.app_password,
      database: 'app',
      sql: "CREATE TABLE notes (id serial PRIMARY KEY, body text NOT NULL); INSERT INTO notes (body) VALUES ('first post') RETURNING id",
    });
    expect(migrate.code, migrate.stderr).toBe(0);
    const [[id]] = migrate.rows;
    expect(await hostSql(PRIMARY, 'SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()', 'app')).toEqual([['app']]);
    for (const r of REPLICAS) {
      await eventually(async () => expect(await hostSql(r, `SELECT body FROM notes WHERE id = ${Number(id)}`, 'app')).toEqual([['first post']]));
    }
    // The database the blog used, postgres, still refuses the plain login on PostgreSQL 15: the app has its own.
    const inPostgres = await psqlAt({ password: secrets.app_password, sql: 'CREATE TABLE notes (id int)' });
    expect(inPostgres.stderr).toMatch(/permission denied for schema public/);
  });

  async function planAndApply(label: string, maxConnections: number) {
    const extra = path.join(lab.tmp, `${label}.yml`);
    await fs.writeFile(extra, YAML.stringify({ pg_extra_settings: { max_connections: maxConnections } }));
    const planFile = path.join(lab.tmp, `${label}-plan.json`);
    const planned = await lab.plinth(`${label}: plan`, ['plan', '-i', lab.inventory, SITE, '-e', `@${secretsFile}`, '-e', `@${extra}`, '-o', planFile, '--detailed-exitcode']);
    expect(planned.code, planned.stderr.slice(-3000)).toBe(2);
    const plan = JSON.parse(await fs.readFile(planFile, 'utf8')) as PlanFile;
    lab.keep(`${label}: plan file`, JSON.stringify(plan));
    const pausedBefore = await Promise.all(REPLICAS.map(pauseLines));
    const applied = await lab.plinth(`${label}: apply`, ['apply', planFile, '-e', `@${secretsFile}`, '-e', `@${extra}`]);
    expectSuccess(applied);
    expect(await Promise.all(REPLICAS.map(pauseLines)), 'a standby logged "recovery has paused"').toEqual(pausedBefore);
    return { plan, applied };
  }

  async function expectEveryStandbyReplaying(maxConnections: number) {
    expect(await hostSql(PRIMARY, 'SHOW max_connections')).toEqual([[String(maxConnections)]]);
    await expectStreamingFirst1(REPLICAS);
    const [[lsn]] = await hostSql(PRIMARY, 'SELECT pg_current_wal_lsn()');
    for (const r of REPLICAS) {
      expect(await hostSql(r, 'SHOW max_connections'), r).toEqual([[String(maxConnections)]]);
      await eventually(async () => {
        const [[state, caughtUp]] = await hostSql(r, `SELECT pg_get_wal_replay_pause_state(), pg_last_wal_replay_lsn() >= '${lsn}'::pg_lsn`);
        expect({ host: r, state, caughtUp }).toEqual({ host: r, state: 'not paused', caughtUp: 't' });
      });
    }
  }

  /** Index of the first changed result of a task (in one play, when given), -1 when none. */
  const changedAt = (r: RunResult, task: string, play?: RegExp) => r.results.findIndex((e) => e.task === task && e.status === 'changed' && (!play || play.test(e.play)));

  test('max_connections raised 100 → 150 with plan + apply: standbys first (one at a time, the sync one last), then the primary; none paused', async () => {
    expect(await hostSql(PRIMARY, 'SHOW max_connections')).toEqual([['100']]);
    const { plan, applied } = await planAndApply('raise', 150);
    const plannedRestarts = plan.tasks.filter((t) => [STANDBY_RESTART, PRIMARY_RESTART].includes(t.task));
    log(`raise plan: ${plannedRestarts.map((t) => `${t.play} / ${t.task}: ${t.status}`).join('; ')}`);
    expect(plannedRestarts.length).toBeGreaterThan(0);

    const standbys = changedAt(applied, STANDBY_RESTART, /raised/);
    const primary = changedAt(applied, PRIMARY_RESTART);
    expect(standbys, 'standbys restarted').toBeGreaterThanOrEqual(0);
    expect(primary, 'primary restarted').toBeGreaterThan(standbys);
    expect(changedAt(applied, STANDBY_RESTART, /lowered/)).toBe(-1);
    // One loop over the standbys, the synchronous one (pg-replica-1 with FIRST 1) last.
    const summary = String(applied.results[standbys].summary);
    log(`raise: ${summary}`);
    expect(summary.indexOf(`(${REPLICAS[1]})`)).toBeGreaterThanOrEqual(0);
    expect(summary.indexOf(`(${REPLICAS[1]})`)).toBeLessThan(summary.indexOf(`(${REPLICAS[0]})`));
    await expectEveryStandbyReplaying(150);
  });

  test('max_connections lowered 150 → 100 with plan + apply: the primary first, then the standbys; none paused', async () => {
    const { applied } = await planAndApply('lower', 100);
    const primary = changedAt(applied, PRIMARY_RESTART);
    const standbys = changedAt(applied, STANDBY_RESTART, /lowered/);
    expect(primary, 'primary restarted').toBeGreaterThanOrEqual(0);
    expect(standbys, 'standbys restarted after the primary').toBeGreaterThan(primary);
    expect(changedAt(applied, STANDBY_RESTART, /raised/)).toBe(-1);
    await expectEveryStandbyReplaying(100);
    const again = await lab.run('after lowering', [secretsFile]);
    expectSuccess(again);
    expect(again.results.filter((e) => e.status === 'changed').map(resultKey)).toEqual([]);
  });

  let grownInventory = '';

  test('add-replica.yml: pgpool reloads (no restart), the new node is up, an open session through pgpool survives; old replicas not restarted', async () => {
    const session = await HeldSession.open(secrets.app_password);
    try {
      const pid = await session.backendPid('before-add');
      const startTimes = async () => Promise.all(REPLICAS.map(async (r) => (await hostSql(r, 'SELECT pg_postmaster_start_time()'))[0][0]));
      const before = await startTimes();

      grownInventory = await growLab(lab.tmp, NEW_REPLICA);

      const added = await lab.plinth('add-replica', ['run', '-i', grownInventory, 'playbooks/add-replica.yml', '-e', `@${secretsFile}`]);
      expectSuccess(added);
      const pgpoolChanges = added.results.filter((e) => e.host === PGPOOL && e.status === 'changed').map((e) => e.task);
      expect(pgpoolChanges).toContain('reload pgpool');
      expect(pgpoolChanges).not.toContain('restart pgpool');
      expect(pgpoolChanges).not.toContain('pgpool starts again');

      // The same connection, served by the same backend process on the primary.
      const after = await session.backendPid('after-add').catch(async (e: Error) => {
        log(`pgpool's journal:\n${await onHost(PGPOOL, "journalctl -u pgpool2 -n 400 --no-pager | grep -iE 'failover|failback|restart|child|reload' | tail -40 || true")}`);
        throw e;
      });
      expect(after).toBe(pid);
      const newAddress = await addressOf(grownInventory, NEW_REPLICA);
      await eventually(
        async () => {
          const node = (await poolNodes(secrets.app_password)).find((n) => n.hostname === newAddress);
          expect(node).toMatchObject({ id: '3', status: 'up', role: 'standby' });
        },
        60_000,
        1000,
      );
      await expectStreamingFirst1([...REPLICAS, NEW_REPLICA]);
      expect(await startTimes()).toEqual(before);
    } finally {
      session.close();
    }
  });

  test('remove-replica.yml (a middle backend): out of synchronous_standby_names, detached by a reload (the others keep their node ids), stopped with its data kept; the open session and a write loop through pgpool see no error', async () => {
    const inventory = YAML.parse(await fs.readFile(grownInventory, 'utf8'));
    const leaving = inventory.all.children.replicas.hosts[LEAVING];
    delete inventory.all.children.replicas.hosts[LEAVING];
    inventory.all.children.removed_replicas = { hosts: { [LEAVING]: leaving } };
    const shrunk = path.join(lab.tmp, 'inventory-shrunk.yml');
    await fs.writeFile(shrunk, YAML.stringify(inventory));
    const leavingAddress = await addressOf(grownInventory, LEAVING);
    const idsBefore = Object.fromEntries((await poolNodes(secrets.app_password)).map((n) => [n.hostname, n.id]));
    expect(idsBefore[leavingAddress]).toBe('2');

    const session = await HeldSession.open(secrets.app_password);
    const pid = await session.backendPid('before-remove');
    const loop = writeLoop(secrets.app_password);
    let removed: RunResult;
    try {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      removed = await lab.plinth('remove-replica', ['run', '-i', shrunk, 'playbooks/remove-replica.yml', '-e', `@${secretsFile}`]);
    } finally {
      const { written, errors } = await loop.stop();
      log(`write loop during remove-replica: ${written} inserts, ${errors.length} errors`);
      expect(errors).toEqual([]);
      expect(written).toBeGreaterThan(0);
    }
    expectSuccess(removed!);
    const pgpoolChanges = removed!.results.filter((e) => e.host === PGPOOL && e.status === 'changed').map((e) => e.task);
    expect(pgpoolChanges).toContain('reload pgpool');
    expect(pgpoolChanges).not.toContain('restart pgpool');
    expect(await session.backendPid('after-remove')).toBe(pid);

    expect(await hostSql(PRIMARY, 'SHOW synchronous_standby_names')).toEqual([[`FIRST 1 (${STAYING.map(appName).join(', ')})`]]);
    await expectStreamingFirst1(STAYING);
    // pgpool-II 4.3 cannot free a node id by a reload: the leaving node stays listed, detached
    // ("down", no queries), under its id; every other backend keeps its id (nothing renumbered).
    const nodes = await poolNodes(secrets.app_password);
    log(`pool_nodes after remove-replica: ${JSON.stringify(nodes)}`);
    expect(nodes.find((n) => n.hostname === leavingAddress)).toMatchObject({ id: '2', status: 'down' });
    for (const n of nodes.filter((x) => x.hostname !== leavingAddress)) {
      expect(n, n.hostname).toMatchObject({ id: idsBefore[n.hostname], status: 'up' });
    }
    expect(await onHost(LEAVING, 'systemctl is-active postgresql@15-main || true')).toMatch(/inactive|failed/);
    expect(await onHost(LEAVING, 'grep -vE "^#|^$" /etc/postgresql/15/main/start.conf')).toBe('manual\n');
    expect(await onHost(LEAVING, 'test -f /var/lib/postgresql/15/main/PG_VERSION && echo kept')).toBe('kept\n');
    for (const h of [PRIMARY, ...STAYING]) {
      expect(await onHost(h, 'cat /etc/postgresql/15/main/pg_hba.conf'), h).not.toContain(`${leavingAddress}/32`);
    }

    // At pgpool's next restart (here a reboot's: pgpool_status kept) the host is listed no more;
    // the other ids are unchanged, so a second run changes nothing and restarts nothing.
    await onHost(PGPOOL, 'systemctl restart pgpool2');
    await eventually(
      async () => {
        const restarted = await poolNodes(secrets.app_password);
        expect(restarted.map((n) => n.hostname)).not.toContain(leavingAddress);
        for (const n of restarted.filter((x) => x.hostname)) expect(n.id).toBe(idsBefore[n.hostname]);
      },
      60_000,
      1000,
    );
    session.close();
    const again = await lab.plinth('remove-replica again', ['run', '-i', shrunk, 'playbooks/remove-replica.yml', '-e', `@${secretsFile}`]);
    expectSuccess(again);
    expect(again.results.filter((e) => e.status === 'changed').map(resultKey)).toEqual([]);
  });

  test('no secret value appears in any output', () => {
    for (const o of lab.outputs) expect(lab.leaks(o.text), o.label).toEqual([]);
  });
});
