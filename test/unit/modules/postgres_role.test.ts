import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgres_role } from '../../../modules/postgres_role.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';
import { startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';
import { redactor } from '../../../engine/secrets/redact.js';
import { createHash } from 'node:crypto';

let pg: TempCluster;
beforeAll(async () => {
  pg = await startTempCluster();
  pg.psql('CREATE TABLE victim (id int)');
}, 120_000);
afterAll(() => pg?.stop());

/** Logs in over TCP with a password (scram-sha-256 in the test cluster's pg_hba.conf). */
function canLogin(user: string, password: string): boolean {
  const conninfo = `host=127.0.0.1 port=${pg.port} dbname=postgres user='${user.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const r = spawnSync('psql', ['-X', '-A', '-t', '-c', 'SELECT current_user', conninfo], { env: { ...process.env, PGPASSWORD: password }, encoding: 'utf8' });
  return r.status === 0 && r.stdout.trim() === user;
}

const NAME = `rep'l "user x`;
const PASSWORD = `pa's"s \\ w;rd --`;

describe('postgres_role', () => {
  test('creates a role with a quoted name and password; idempotent; the password never shows', async () => {
    const args = { ...pg.conn, name: NAME, password: PASSWORD, login: true, replication: true };
    const { check, first, second } = await checkApplyAgain(postgres_role, args);
    expect(check.status).toBe('changed');
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    expect(first.diffs[0].after).toContain('replication: true');
    expect(first.diffs[0].after).toContain('password: (secret, changed)');
    for (const outcome of [check, first, second]) expect(JSON.stringify(outcome)).not.toContain(PASSWORD);
    expect(redactor.has(PASSWORD)).toBe(true);
    expect(pg.psql(`SELECT rolreplication, rolcanlogin, rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = '${NAME.replace(/'/g, "''")}'`)).toBe('t|t|t');
    expect(canLogin(NAME, PASSWORD)).toBe(true);
  });

  test('check mode does not create the role', async () => {
    const out = await run(postgres_role, { ...pg.conn, name: 'never_created', login: true }, { check: true });
    expect(out.status).toBe('changed');
    expect(pg.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'never_created'")).toBe('0');
  });

  test('a different password is set; the old one stops working', async () => {
    const out = await run(postgres_role, { ...pg.conn, name: NAME, password: 'second password' });
    expect(out.status).toBe('changed');
    expect(out.summary).toContain('(password)');
    expect(canLogin(NAME, 'second password')).toBe(true);
    expect(canLogin(NAME, PASSWORD)).toBe(false);
  });

  test('a password set by the server itself verifies (no reset)', async () => {
    pg.psql(`SET password_encryption = 'scram-sha-256'; CREATE ROLE by_server LOGIN PASSWORD 'server made'`);
    expect((await run(postgres_role, { ...pg.conn, name: 'by_server', password: 'server made', login: true })).status).toBe('ok');
  });

  test('md5: stored as md5(password || name), verified on the next run, switching back to scram re-sets it', async () => {
    const args = { ...pg.conn, name: 'legacy', password: 'md5 pass', login: true, password_encryption: 'md5' };
    expect((await run(postgres_role, args)).status).toBe('changed');
    const expected = 'md5' + createHash('md5').update('md5 passlegacy').digest('hex');
    expect(pg.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'legacy'")).toBe(expected);
    expect((await run(postgres_role, args)).status).toBe('ok');
    expect((await run(postgres_role, { ...args, password_encryption: 'scram-sha-256' })).status).toBe('changed');
    expect(pg.psql("SELECT rolpassword LIKE 'SCRAM%' FROM pg_authid WHERE rolname = 'legacy'")).toBe('t');
  });

  test('attributes change without touching the password', async () => {
    const out = await run(postgres_role, { ...pg.conn, name: NAME, replication: false, connection_limit: 3 });
    expect(out.status).toBe('changed');
    expect(out.summary).toBe(`alter role ${NAME} NOREPLICATION CONNECTION LIMIT 3`);
    expect(pg.psql(`SELECT rolreplication, rolconnlimit FROM pg_roles WHERE rolname = '${NAME.replace(/'/g, "''")}'`)).toBe('f|3');
    expect(canLogin(NAME, 'second password')).toBe(true);
  });

  test('a hostile role name is an identifier, not SQL', async () => {
    const hostile = `x"; DROP TABLE victim; --`;
    expect((await run(postgres_role, { ...pg.conn, name: hostile, password: `'); DROP TABLE victim; --` })).status).toBe('changed');
    expect(pg.psql('SELECT count(*) FROM victim')).toBe('0');
    expect(pg.psql(`SELECT count(*) FROM pg_roles WHERE rolname = 'x"; DROP TABLE victim; --'`)).toBe('1');
  });

  test('state absent drops the role, then is ok', async () => {
    const args = { ...pg.conn, name: 'legacy', state: 'absent' };
    expect((await run(postgres_role, args)).status).toBe('changed');
    expect((await run(postgres_role, args)).status).toBe('ok');
    expect(pg.psql("SELECT count(*) FROM pg_roles WHERE rolname = 'legacy'")).toBe('0');
  });

  test('schema: password is secret, unknown fields rejected', () => {
    expect((postgres_role.schema as any).properties.password['x-secret']).toBe(true);
    expect(schemaProblems(postgres_role, { name: 'a', pasword: 'x' })[0].message).toMatch(/unknown field/);
  });
});
