import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgres_privs } from '../../../modules/postgres_privs.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';
import { startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';

let pg: TempCluster;
beforeAll(async () => {
  pg = await startTempCluster();
  pg.psql(`CREATE ROLE app LOGIN PASSWORD '${PASSWORD}'; CREATE ROLE reader LOGIN PASSWORD '${PASSWORD}'; CREATE ROLE "odd ""role" LOGIN; CREATE DATABASE appdb OWNER postgres`);
  pg.psql(
    `CREATE SCHEMA shop; CREATE TABLE shop.items (id serial PRIMARY KEY, name text); CREATE TABLE shop.orders (id int);
           CREATE TABLE public.victim (id int)`,
    'appdb',
  );
}, 120_000);
afterAll(() => pg?.stop());

const PASSWORD = 'role password';

/** SQL as a login role over TCP: what the role may really do. */
function asRole(role: string, sql: string, db = 'appdb'): { ok: boolean; out: string } {
  const r = spawnSync('psql', ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', '127.0.0.1', '-p', String(pg.port), '-U', role, '-d', db, '-c', sql], {
    encoding: 'utf8',
    env: { ...process.env, PGPASSWORD: PASSWORD },
  });
  return { ok: r.status === 0, out: (r.stdout + r.stderr).trim() };
}

const conn = () => ({ ...pg.conn, db: 'appdb' });

describe('postgres_privs', () => {
  test('PostgreSQL 15: a plain role may not create tables in public; a schema grant fixes it; idempotent', async () => {
    expect(asRole('app', 'CREATE TABLE public.t1 (id int)').out).toMatch(/permission denied for schema public/);
    const args = { ...conn(), type: 'schema', objs: ['public'], roles: ['app'], privs: ['USAGE', 'CREATE'] };
    const { check, first, second } = await checkApplyAgain(postgres_privs, args);
    expect(check.status).toBe('changed');
    expect(first.summary).toBe('grant USAGE, CREATE on schema public to app');
    expect(first.diffs[0].before).not.toMatch(/ app:/);
    expect(first.diffs[0].after).toMatch(/ app: CREATE, USAGE\n/);
    expect(second.status).toBe('ok');
    expect(asRole('app', 'CREATE TABLE public.t1 (id int)').ok).toBe(true);
  });

  test('check mode grants nothing', async () => {
    const out = await run(postgres_privs, { ...conn(), type: 'schema', objs: ['shop'], roles: ['reader'], privs: ['USAGE'] }, { check: true });
    expect(out.status).toBe('changed');
    expect(pg.psql("SELECT has_schema_privilege('reader', 'shop', 'USAGE')", 'appdb')).toBe('f');
  });

  test('database: CONNECT revoked from PUBLIC and granted to one role; ALL expands to the database privileges', async () => {
    const revoke = await run(postgres_privs, { ...conn(), type: 'database', roles: ['PUBLIC'], privs: ['CONNECT', 'TEMP'], state: 'absent' });
    expect(revoke.summary).toBe('revoke CONNECT, TEMPORARY on database appdb from PUBLIC');
    expect(asRole('reader', 'SELECT 1').out).toMatch(/permission denied for database "appdb"/);
    const all = await run(postgres_privs, { ...conn(), type: 'database', roles: ['reader'], privs: ['ALL'] });
    expect(all.summary).toBe('grant CREATE, CONNECT, TEMPORARY on database appdb to reader');
    expect(asRole('reader', 'SELECT 1').ok).toBe(true);
    expect((await run(postgres_privs, { ...conn(), type: 'database', roles: ['reader'], privs: ['CONNECT'] })).status).toBe('ok');
    expect((await run(postgres_privs, { ...conn(), type: 'database', roles: ['public'], privs: ['CONNECT'], state: 'absent' })).status).toBe('ok');
  });

  test('tables: ALL_IN_SCHEMA grants only what is missing; revoke one privilege', async () => {
    pg.psql('GRANT USAGE ON SCHEMA shop TO reader; GRANT SELECT ON shop.items TO reader', 'appdb');
    const args = { ...conn(), type: 'table', schema: 'shop', objs: ['ALL_IN_SCHEMA'], roles: ['reader'], privs: ['SELECT', 'INSERT'] };
    const out = await run(postgres_privs, args);
    expect(out.summary).toBe('grant INSERT on table items to reader; grant SELECT, INSERT on table orders to reader');
    expect((await run(postgres_privs, args)).status).toBe('ok');
    expect(asRole('reader', 'INSERT INTO shop.orders VALUES (1)').ok).toBe(true);
    const revoke = await run(postgres_privs, { ...args, objs: ['orders'], privs: ['INSERT'], state: 'absent' });
    expect(revoke.summary).toBe('revoke INSERT on table orders from reader');
    expect(asRole('reader', 'INSERT INTO shop.orders VALUES (2)').out).toMatch(/permission denied for table orders/);
    expect(asRole('reader', 'SELECT count(*) FROM shop.orders').out).toBe('1');
  });

  test('sequences: USAGE lets the role use a serial column', async () => {
    expect(asRole('reader', "INSERT INTO shop.items (name) VALUES ('a')").out).toMatch(/permission denied for sequence items_id_seq/);
    const args = { ...conn(), type: 'sequence', schema: 'shop', objs: ['items_id_seq'], roles: ['reader'], privs: ['USAGE'] };
    expect((await run(postgres_privs, args)).status).toBe('changed');
    expect((await run(postgres_privs, args)).status).toBe('ok');
    expect(asRole('reader', "INSERT INTO shop.items (name) VALUES ('a')").ok).toBe(true);
  });

  test('grant option: granted, then taken back while the privilege stays', async () => {
    const args = { ...conn(), type: 'table', schema: 'shop', objs: ['items'], roles: ['reader'], privs: ['SELECT'] };
    const withOption = await run(postgres_privs, { ...args, grant_option: true });
    expect(withOption.summary).toBe('grant SELECT on table items to reader with grant option');
    expect(withOption.diffs[0].after).toMatch(/reader: .*SELECT\*/);
    expect((await run(postgres_privs, { ...args, grant_option: true })).status).toBe('ok');
    const without = await run(postgres_privs, { ...args, grant_option: false });
    expect(without.summary).toBe('revoke grant option for SELECT on table items from reader');
    expect(pg.psql("SELECT has_table_privilege('reader', 'shop.items', 'SELECT'), has_table_privilege('reader', 'shop.items', 'SELECT WITH GRANT OPTION')", 'appdb')).toBe('t|f');
    expect((await run(postgres_privs, { ...args, grant_option: false })).status).toBe('ok');
  });

  test('default privileges: tables app creates later are readable by reader; idempotent; revoked again', async () => {
    pg.psql('GRANT USAGE ON SCHEMA public TO reader; GRANT CONNECT ON DATABASE appdb TO app', 'appdb');
    const args = { ...conn(), type: 'default_privs', schema: 'public', objs: ['tables'], target_roles: ['app'], roles: ['reader'], privs: ['SELECT'] };
    const { check, first, second } = await checkApplyAgain(postgres_privs, args);
    expect(check.status, check.message).toBe('changed');
    expect(first.summary).toBe('grant SELECT on future TABLES of app to reader');
    expect(second.status).toBe('ok');
    expect(asRole('app', "CREATE TABLE public.later (v text); INSERT INTO public.later VALUES ('x')").ok).toBe(true);
    expect(asRole('reader', 'SELECT v FROM public.later').out).toBe('x');
    expect((await run(postgres_privs, { ...args, state: 'absent' })).summary).toBe('revoke SELECT on future TABLES of app from reader');
    expect((await run(postgres_privs, { ...args, state: 'absent' })).status).toBe('ok');
    expect(asRole('app', 'CREATE TABLE public.later2 (v text)').ok).toBe(true);
    expect(asRole('reader', 'SELECT v FROM public.later2').out).toMatch(/permission denied/);
  });

  test('global default privileges start from the built-in ones: PUBLIC already may EXECUTE functions', async () => {
    const args = { ...conn(), type: 'default_privs', objs: ['FUNCTIONS'], target_roles: ['app'], roles: ['PUBLIC'], privs: ['EXECUTE'] };
    const before = await run(postgres_privs, args);
    expect(before.status, before.message).toBe('ok');
    expect((await run(postgres_privs, { ...args, state: 'absent' })).status).toBe('changed');
    expect((await run(postgres_privs, { ...args, state: 'absent' })).status).toBe('ok');
  });

  test('hostile role and object names are identifiers', async () => {
    pg.psql(`CREATE TABLE shop."t""; DROP TABLE public.victim; --" (id int)`, 'appdb');
    const out = await run(postgres_privs, { ...conn(), type: 'table', schema: 'shop', objs: [`t"; DROP TABLE public.victim; --`], roles: [`odd "role`], privs: ['SELECT'] });
    expect(out.status).toBe('changed');
    expect(pg.psql('SELECT count(*) FROM public.victim', 'appdb')).toBe('0');
    expect(pg.psql(`SELECT has_table_privilege('odd "role', 'shop."t""; DROP TABLE public.victim; --"', 'SELECT')`, 'appdb')).toBe('t');
  });

  test('a missing role or object: unknown in check mode, a failure naming it when applied', async () => {
    const args = { ...conn(), type: 'table', schema: 'shop', objs: ['nope'], roles: ['ghost'], privs: ['SELECT'] };
    const checked = await run(postgres_privs, args, { check: true });
    expect(checked.status).toBe('unknown');
    expect(checked.message).toBe('role ghost, table nope does not exist (any of them)');
    const applied = await run(postgres_privs, args);
    expect(applied.status).toBe('failed');
    expect(applied.message).toMatch(/role ghost, table nope does not exist/);
  });

  test('a database that does not exist yet: unknown in check mode (postgres_db may create it first)', async () => {
    const out = await run(postgres_privs, { ...pg.conn, db: 'later_db', type: 'schema', objs: ['public'], roles: ['app'], privs: ['CREATE'] }, { check: true });
    expect(out.status).toBe('unknown');
    expect(out.message).toBe('database later_db does not exist');
  });

  test('a privilege that does not apply to the type is an error naming the valid ones', async () => {
    await expect(run(postgres_privs, { ...conn(), type: 'schema', objs: ['public'], roles: ['app'], privs: ['SELECT'] })).rejects.toThrow(
      'privilege SELECT does not apply to a schema (valid: USAGE, CREATE, ALL)',
    );
    await expect(run(postgres_privs, { ...conn(), type: 'default_privs', objs: ['views'], roles: ['app'], privs: ['SELECT'] })).rejects.toThrow(
      /objs must be among TABLES, SEQUENCES, FUNCTIONS, TYPES, SCHEMAS, not 'VIEWS'/,
    );
  });

  test('schema: required fields and unknown fields', () => {
    expect(schemaProblems(postgres_privs, { roles: ['a'] }).length).toBeGreaterThan(0);
    expect(schemaProblems(postgres_privs, { roles: ['a'], privs: ['x'], obj: ['y'] }).map((p) => p.message)).toContain("unknown field 'obj'");
    expect(schemaProblems(postgres_privs, { roles: ['a'], privs: ['SELECT'] }).map((p) => p.message)).toEqual(['objs is required unless type is database (whose default object is db)']);
  });
});
