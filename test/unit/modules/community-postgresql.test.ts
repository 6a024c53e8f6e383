// community.postgresql's module names, written the way Ansible roles write them, run against a
// real PostgreSQL cluster in a temp dir: postgresql_user, postgresql_query, postgresql_pg_hba;
// postgresql_set by its plan (it edits the Debian cluster's postgresql.conf).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgresql_user, postgresRoleArgs } from '../../../modules/postgresql_user.js';
import { postgresql_query, numberedQuery } from '../../../modules/postgresql_query.js';
import { postgresql_pg_hba } from '../../../modules/postgresql_pg_hba.js';
import { postgresql_db } from '../../../modules/postgresql_db.js';
import { postgresql_privs } from '../../../modules/postgresql_privs.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';
import { plinth, tempTree } from '../../helpers/cli.js';
import { startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';

let pg: TempCluster;
let conn: { port: number; login_unix_socket: string };
beforeAll(async () => {
  pg = await startTempCluster();
  conn = { port: pg.conn.port, login_unix_socket: pg.conn.socket_dir };
}, 120_000);
afterAll(() => pg?.stop());

describe('community.postgresql names', () => {
  test('postgresql_user: role_attr_flags and a password; check, apply, again', async () => {
    const args = { ...conn, name: 'replicator', password: 'rep secret', role_attr_flags: 'LOGIN,REPLICATION,NOSUPERUSER', encrypted: true };
    const { check, first, second } = await checkApplyAgain(postgresql_user, args);
    expect([check.status, first.status, second.status]).toEqual(['changed', 'changed', 'ok']);
    expect(first.result.user).toBe('replicator');
    expect(pg.psql("SELECT rolcanlogin, rolreplication, rolsuper FROM pg_roles WHERE rolname = 'replicator'")).toBe('t|t|f');
    expect(JSON.stringify([check, first, second])).not.toContain('rep secret');
    expect((await run(postgresql_user, { ...conn, name: 'replicator', state: 'absent' })).status).toBe('changed');
  });

  test('postgresql_user: what plinth cannot do is refused, not ignored', () => {
    const base = { name: 'x', encrypted: true, login_user: 'postgres', state: 'present' as const, port: 5432 };
    expect(() => postgresRoleArgs({ ...base, login_host: '10.0.0.5' })).toThrow(/login_host 10.0.0.5: plinth connects to the server on the host itself/);
    expect(() => postgresRoleArgs({ ...base, login_password: 'x' })).toThrow(/login_password is not used/);
    expect(schemaProblems(postgresql_user, { name: 'x', priv: 'CONNECT' }).map((p) => p.message)).toEqual([expect.stringMatching(/^priv is not supported/)]);
    expect(schemaProblems(postgresql_user, { name: 'x', encrypted: false }).map((p) => p.message)).toEqual([expect.stringMatching(/^encrypted: false is not possible/)]);
    expect(postgresRoleArgs({ ...base, login_host: 'localhost', role_attr_flags: 'CREATEDB,NOLOGIN' })).toMatchObject({ createdb: true, login: false, become_user: 'postgres' });
  });

  test('postgresql_query: %s and %(name)s arguments, Ansible’s result names', async () => {
    expect(numberedQuery('SELECT %s, %(a)s, %(a)s, %s, 100%%', [1, 2], { a: 'x' })).toEqual({ query: 'SELECT $1, $2, $2, $3, 100%', params: [1, 'x', 2] });
    const r = await run(postgresql_query, {
      ...conn,
      db: 'postgres',
      query: 'SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname = %(name)s OR rolname = %s ORDER BY 1',
      named_args: { name: 'postgres' },
      positional_args: ['nobody'],
    });
    expect(r.status).toBe('ok');
    expect(r.result).toMatchObject({ rowcount: 1, query_result: [{ rolname: 'postgres', rolcanlogin: true }] });
    const write = await run(postgresql_query, { ...conn, query: 'CREATE TABLE IF NOT EXISTS app_settings (k text)' });
    expect(write.status).toBe('changed');
  });

  test('postgresql_db and postgresql_privs as geerlingguy.postgresql writes them: check, apply, again', async () => {
    await run(postgresql_user, { ...conn, name: 'blog', role_attr_flags: 'LOGIN' });
    const db = { ...conn, name: 'blog', owner: 'blog', encoding: 'UTF8', template: 'template0' };
    const dbRuns = await checkApplyAgain(postgresql_db, db);
    expect([dbRuns.check.status, dbRuns.first.status, dbRuns.second.status]).toEqual(['changed', 'changed', 'ok']);
    expect(pg.psql("SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'blog'")).toBe('blog|UTF8');
    pg.psql('CREATE TABLE posts (id int); CREATE TABLE comments (id int)', 'blog');
    await run(postgresql_user, { ...conn, name: 'reader', role_attr_flags: 'LOGIN' });
    const privs = { ...conn, database: 'blog', roles: 'reader', type: 'table', objs: 'ALL_IN_SCHEMA', schema: 'public', privs: 'select' };
    const privRuns = await checkApplyAgain(postgresql_privs, privs);
    expect([privRuns.check.status, privRuns.first.status, privRuns.second.status]).toEqual(['changed', 'changed', 'ok']);
    expect(pg.psql("SELECT string_agg(table_name, ',' ORDER BY table_name) FROM information_schema.role_table_grants WHERE grantee = 'reader' AND privilege_type = 'SELECT'", 'blog')).toBe(
      'comments,posts',
    );
    await expect(run(postgresql_db, { ...conn, name: 'blog', state: 'dump' })).rejects.toThrow(/state dump, restore and rename are not supported/);
    await expect(run(postgresql_privs, { ...conn, database: 'blog', roles: 'reader', type: 'function', objs: 'f()', privs: 'EXECUTE' })).rejects.toThrow(
      /type: must be one of: database, schema, table, sequence, default_privs/,
    );
  });

  test('postgresql_pg_hba: a rule with source and netmask; check, apply, again; absent', async () => {
    const dest = path.join(pg.dataDir, 'pg_hba.conf');
    const before = await fs.readFile(dest, 'utf8');
    const args = { dest, contype: 'host', databases: 'replication', users: 'replicator', source: '198.18.0.0', netmask: '255.254.0.0', method: 'scram-sha-256' };
    const { check, first, second } = await checkApplyAgain(postgresql_pg_hba, args);
    expect([check.status, first.status, second.status]).toEqual(['changed', 'changed', 'ok']);
    expect(await fs.readFile(dest, 'utf8')).toMatch(/^host\s+replication\s+replicator\s+198\.18\.0\.0\/15\s+scram-sha-256$/m);
    pg.psql('SELECT pg_reload_conf()');
    expect(pg.psql("SELECT count(*) FROM pg_hba_file_rules WHERE address = '198.18.0.0' AND error IS NULL")).toBe('1');
    expect((await run(postgresql_pg_hba, { ...args, state: 'absent' })).status).toBe('changed');
    expect(await fs.readFile(dest, 'utf8')).not.toContain('198.18.0.0');
    await fs.writeFile(dest, before);
  });

  test('in a playbook by their full names; a refused argument names file:line', async () => {
    const root = await tempTree({
      'pb.yml': [
        '- hosts: localhost',
        '  gather_facts: false',
        '  tasks:',
        '    - community.postgresql.postgresql_user:',
        '        name: app',
        '        role_attr_flags: LOGIN',
        `        port: ${conn.port}`,
        `        login_unix_socket: ${conn.login_unix_socket}`,
        '    - community.postgresql.postgresql_query:',
        '        query: SELECT count(*) AS n FROM pg_roles WHERE rolname = %s',
        '        positional_args: [app]',
        `        port: ${conn.port}`,
        `        login_unix_socket: ${conn.login_unix_socket}`,
        '      register: q',
        '    - assert: { that: ["q.query_result[0].n == 1"] }',
        '    - community.postgresql.postgresql_db:',
        '        db: appdb',
        '        owner: app',
        `        port: ${conn.port}`,
        `        login_unix_socket: ${conn.login_unix_socket}`,
        '    - community.postgresql.postgresql_privs:',
        '        db: appdb',
        '        type: database',
        '        privs: CONNECT,TEMPORARY',
        '        roles: app',
        `        port: ${conn.port}`,
        `        login_unix_socket: ${conn.login_unix_socket}`,
        '    - community.postgresql.postgresql_user:',
        '        name: app',
        '        login_host: db.example.com',
        '',
      ].join('\n'),
    });
    const r = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(r.stdout).toContain(`fatal: [localhost] => pb.yml:28:7: postgresql_user: login_host db.example.com: plinth connects to the server on the host itself`);
    // The owner of appdb holds CONNECT and TEMPORARY already: the grant finds nothing to do.
    expect(r.stdout).toMatch(/TASK \[postgresql_privs\] \*+\nok: \[localhost\]/);
    expect(r.stdout).toMatch(/localhost\s*:\s*ok=5\s+changed=2\s+unreachable=0\s+failed=1/);
  });
});
