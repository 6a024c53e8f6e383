// The project's main job, end to end on the lab (issues 5 and 6): from bare Debian hosts, site.yml
// converges a PostgreSQL primary, two streaming replicas (FIRST 1: one sync, one potential) and
// pgpool-II in front; a check run first changes nothing and lists what the real run then does;
// a second run changes nothing; a new application password reaches pgpool's pool_passwd and the
// role; a third replica joins without restarting the others. No secret shows in any output.
// Needs root; runs when PLINTH_LAB=1. The tests share one cluster and run in order.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as YAML from 'yaml';
import {
  HOOK_TIMEOUT_MS,
  LabSession,
  PRIMARY,
  REPLICAS,
  labAddress,
  addressOf,
  changedCount,
  eventually,
  expectPoolNodesUp,
  expectReplicated,
  expectStreamingFirst1,
  expectSuccess,
  hostSql,
  log,
  newSecrets,
  onHost,
  psqlAt,
  randomSecret,
  resultKey,
  viaPgpool,
  type RunResult,
  type Secrets,
} from '../helpers/lab-cluster.js';
import { plinth } from '../helpers/cli.js';

const HOSTS = [PRIMARY, ...REPLICAS, 'pgpool'];
// Addresses as the suite's lab assigned them (its subnet is its own).
let PRIMARY_ADDRESS = '';
let REPLICA_ADDRESSES: string[] = [];

/** What a check run must not touch on a bare host: installed packages, /etc, apt's lists, PostgreSQL's home. */
const SNAPSHOT = [
  "dpkg-query -W -f '${Package} ${Version} ${Status}\\n' | sha256sum",
  "find /etc /var/lib/apt/lists /var/lib/postgresql /var/lib/dpkg/status -xdev -printf '%p %s %m %U %T@\\n' 2>/dev/null | sort | sha256sum",
  'test -e /etc/postgresql && echo has-etc-postgresql || true',
  'test -e /etc/pgpool2 && echo has-etc-pgpool2 || true',
  'dpkg-query -W -f "\\${Status}" postgresql-15 pgpool2 2>/dev/null | grep -q "ok installed" && echo has-packages || true',
  'getent passwd postgres >/dev/null && echo has-user-postgres || true',
].join('; ');

async function snapshot(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const h of HOSTS) out[h] = await onHost(h, SNAPSHOT);
  return out;
}

describe('the blog cluster, converged by site.yml from bare lab hosts', { timeout: 15 * 60_000 }, () => {
  let lab: LabSession;
  let secrets: Secrets;
  let secretsFile: string;
  let check: RunResult;
  let converge: RunResult;
  const t0 = Date.now();

  beforeAll(async () => {
    lab = await LabSession.open('cluster');
    [PRIMARY_ADDRESS, ...REPLICA_ADDRESSES] = await Promise.all([PRIMARY, ...REPLICAS].map(labAddress));
    secrets = newSecrets();
    secretsFile = await lab.writeSecrets('secrets.yml', secrets);
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    log(`cluster suite: ${Math.round((Date.now() - t0) / 1000)} s`);
    await lab?.close();
  }, 5 * 60_000);

  test('a --check --diff run on bare hosts changes nothing there and lists the changes, unknowns with a reason', async () => {
    const before = await snapshot();
    for (const h of HOSTS) expect(before[h]).not.toMatch(/has-/);

    check = await lab.run('check run', [secretsFile], ['--check', '--diff']);
    expectSuccess(check);

    expect(await snapshot()).toEqual(before);
    // Every host has something to do, and each package install is a listed change with its diff.
    for (const h of HOSTS) {
      const installs = check.results.filter((e) => e.host === h && e.module === 'apt');
      expect(
        installs.map((e) => e.status),
        h,
      ).toEqual(['changed']);
      expect(installs[0].diff, h).not.toBeNull();
    }
    // A task that cannot be known before the install says why, and is never "ok".
    const unknown = check.results.filter((e) => e.status === 'unknown');
    expect(unknown.length).toBeGreaterThan(0);
    for (const e of unknown) expect(e.message ?? '', resultKey(e)).not.toBe('');
    for (const task of ['Server settings in postgresql.conf', 'Client and replication access in pg_hba.conf']) {
      for (const h of [PRIMARY, ...REPLICAS]) {
        const r = check.results.find((e) => e.host === h && e.task === task);
        expect(r?.status, `${h}: ${task}`).toBe('unknown');
      }
    }
  });

  test('one real run converges the primary and two streaming replicas: one sync, one potential (FIRST 1)', async () => {
    converge = await lab.run('first run', [secretsFile]);
    expectSuccess(converge);
    await expectStreamingFirst1(REPLICAS);
  });

  test('the check run predicted the real run: nothing it called ok or left out was changed', () => {
    const checked = new Map(check.results.map((e) => [resultKey(e), e.status as string]));
    const made = converge.results.filter((e) => e.status === 'changed');
    const predicted = [...checked].filter(([, s]) => s === 'changed').map(([k]) => k);
    const madeKeys = new Set(made.map(resultKey));

    // Every change the check run announced was made.
    expect(predicted.filter((k) => !madeKeys.has(k))).toEqual([]);
    // No task the check run called ok (or skipped) was changed.
    expect(made.filter((e) => ['ok', 'skipped'].includes(checked.get(resultKey(e)) ?? '')).map(resultKey)).toEqual([]);
    // Every task (not handler) that changed was listed as changed or unknown.
    const unlisted = made.filter((e) => !['changed', 'unknown'].includes(checked.get(resultKey(e)) ?? ''));
    expect(unlisted.filter((e) => !e.handler).map(resultKey)).toEqual([]);

    const exact = made.filter((e) => checked.get(resultKey(e)) === 'changed').length;
    const unknown = made.filter((e) => checked.get(resultKey(e)) === 'unknown').length;
    console.log(
      `check-mode accuracy (site.yml, bare hosts): ${made.length} changes made; ${exact} planned exactly as changes, ` +
        `${unknown} reported unknown until apply, ${unlisted.length} not listed (handlers: ${unlisted.map(resultKey).join('; ') || 'none'}); ` +
        `check run: ${[...checked.values()].filter((s) => s === 'changed').length} changed, ` +
        `${[...checked.values()].filter((s) => s === 'unknown').length} unknown, ${[...checked.values()].filter((s) => s === 'ok').length} ok`,
    );
  });

  test('a row written on the primary is readable on both replicas', async () => {
    await expectReplicated(REPLICAS);
  });

  test('a second run reports 0 changed', async () => {
    const again = await lab.run('second run', [secretsFile]);
    expectSuccess(again);
    expect(again.results.filter((e) => e.status === 'changed').map(resultKey)).toEqual([]);
    expect(changedCount(again)).toBe(0);
  });

  test('through pgpool: the app login connects, all backends are up, a write lands on the primary and reaches the replicas', async () => {
    await expectPoolNodesUp(secrets.app_password, PRIMARY_ADDRESS, REPLICA_ADDRESSES);
    await hostSql(PRIMARY, 'CREATE TABLE IF NOT EXISTS plinth_pool_check (token text PRIMARY KEY, server inet)');
    await hostSql(PRIMARY, 'GRANT SELECT, INSERT ON plinth_pool_check TO app');
    const token = `pool-${Date.now()}`;
    const [[server]] = await viaPgpool(secrets.app_password, `INSERT INTO plinth_pool_check VALUES ('${token}', inet_server_addr()) RETURNING host(inet_server_addr())`);
    expect(server).toBe(PRIMARY_ADDRESS);
    expect(await hostSql(PRIMARY, `SELECT host(server) FROM plinth_pool_check WHERE token = '${token}'`)).toEqual([[PRIMARY_ADDRESS]]);
    for (const r of REPLICAS) {
      await expectEventuallyRows(r, `SELECT token FROM plinth_pool_check WHERE token = '${token}'`, [[token]]);
    }
  });

  test('a new app_password reaches pool_passwd and the role: it works through pgpool, the old one fails; then 0 changed', async () => {
    const old = secrets.app_password;
    const poolPasswdBefore = await onHost('pgpool', 'cat /etc/pgpool2/pool_passwd');
    secrets = { ...secrets, app_password: randomSecret('app2') };
    secretsFile = await lab.writeSecrets('secrets-2.yml', secrets);

    const changed = await lab.run('new app_password', [secretsFile]);
    expectSuccess(changed);
    const changes = changed.results.filter((e) => e.status === 'changed').map((e) => `${e.host}: ${e.task}`);
    expect(changes).toContain('pgpool: Encrypted passwords in pool_passwd (pg_enc -m)');
    expect(changes).toContain('pgpool: Database logins for pgpool and the application (on the primary)');
    const poolPasswd = await onHost('pgpool', 'cat /etc/pgpool2/pool_passwd');
    expect(poolPasswd).not.toBe(poolPasswdBefore);
    expect(poolPasswd).toMatch(/^app:AES/m);

    await eventually200(async () => expect(await viaPgpool(secrets.app_password, 'SELECT current_user')).toEqual([['app']]));
    const refused = await psqlAt({ password: old, sql: 'SELECT 1' });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/authentication failed|password/);
    // pgpool's health checks read the new pool_passwd too: no pgpool process still holds the replaced
    // file, and after a health-check period (10 s) every backend is still up, none failed over.
    expect(await onHost('pgpool', "ls -l /proc/[0-9]*/fd 2>/dev/null | grep -c 'pool_passwd (deleted)' || true")).toBe('0\n');
    await new Promise((resolve) => setTimeout(resolve, 12_000));
    await expectPoolNodesUp(secrets.app_password, PRIMARY_ADDRESS, REPLICA_ADDRESSES);

    const again = await lab.run('after new app_password', [secretsFile]);
    expectSuccess(again);
    expect(again.results.filter((e) => e.status === 'changed').map(resultKey)).toEqual([]);
  });

  test('a third replica in the inventory joins: 3 streaming, the old replicas not restarted, pgpool has a 4th backend up', async () => {
    const startTimes = async () =>
      Object.fromEntries(await Promise.all(REPLICAS.map(async (r) => [r, (await hostSql(r, 'SELECT pg_postmaster_start_time(), system_identifier FROM pg_control_system()'))[0].join(' ')])));
    const before = await startTimes();

    const userInventory = path.join(lab.tmp, 'four-db-hosts.yml');
    await fs.writeFile(
      userInventory,
      YAML.stringify({
        all: {
          children: {
            primary: { hosts: { [PRIMARY]: null } },
            replicas: { hosts: { 'pg-replica-1': null, 'pg-replica-2': null, 'pg-replica-3': null } },
            pgpool: { hosts: { pgpool: null } },
          },
        },
      }),
    );
    const grownInventory = path.join(lab.tmp, 'inventory-grown.yml');
    const grow = await plinth(['lab', 'up', '--inventory', userInventory, '--write-inventory', grownInventory]);
    expect(grow.code, grow.stderr).toBe(0);
    const newAddress = await addressOf(grownInventory, 'pg-replica-3');

    const run = await lab.run('with a third replica', [secretsFile], [], grownInventory);
    expectSuccess(run);
    const replicas = [...REPLICAS, 'pg-replica-3'];
    await expectStreamingFirst1(replicas);
    expect(await startTimes()).toEqual(before);
    // The old replicas were neither cloned again nor restarted by this run.
    for (const r of REPLICAS) {
      const touched = run.results.filter((e) => e.host === r && e.status === 'changed').map((e) => e.task);
      expect(touched, r).not.toContain('Streaming standby of the primary (pg_basebackup -Fp -Xs -R)');
      expect(touched, r).not.toContain('restart postgresql');
    }
    await expectReplicated(replicas);

    const conf = await onHost('pgpool', 'cat /etc/pgpool2/pgpool.conf');
    expect(conf).toContain(`backend_hostname3 = '${newAddress}'`);
    expect(conf).not.toContain('backend_hostname4');
    await expectPoolNodesUp(secrets.app_password, PRIMARY_ADDRESS, [...REPLICA_ADDRESSES, newAddress]);
  });

  test('no secret value (nor its base64 or URL-encoded form) appears in any output of any run', () => {
    const runs = lab.outputs.filter((o) => o.label.endsWith('stdout'));
    expect(runs.length).toBe(6);
    expect(lab.secretValues.size).toBe(4); // replicator_password, pgpool_key, app_password old and new
    for (const o of lab.outputs) expect(lab.leaks(o.text), o.label).toEqual([]);
    // The search is not vacuous: the --json output is there, and a leak would be found.
    expect(runs.every((o) => o.text.includes('"type":"recap"'))).toBe(true);
    expect(lab.leaks(`x ${encodeURIComponent(secrets.app_password)} y`)).not.toEqual([]);
  });
});

async function expectEventuallyRows(host: string, sql: string, rows: string[][]): Promise<void> {
  await eventually200(async () => expect(await hostSql(host, sql)).toEqual(rows));
}

async function eventually200(fn: () => Promise<void>): Promise<void> {
  await eventually(fn, 30_000, 200);
}
