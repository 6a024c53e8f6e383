import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgres_db } from '../../../modules/postgres_db.js';
import { postgres_role } from '../../../modules/postgres_role.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';
import { startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';

let pg: TempCluster;
beforeAll(async () => {
  pg = await startTempCluster();
  pg.psql('CREATE ROLE app LOGIN; CREATE ROLE other LOGIN; CREATE TABLE victim (id int)');
}, 120_000);
afterAll(() => pg?.stop());

const dbInfo = (name: string) => pg.psql(`SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = '${name.replace(/'/g, "''")}'`);

describe('postgres_db', () => {
  test('creates a database owned by a role with encoding, locale and template; check first, then idempotent', async () => {
    const args = { ...pg.conn, name: 'app', owner: 'app', encoding: 'UTF8', locale: 'C.UTF-8', template: 'template0' };
    const { check, first, second } = await checkApplyAgain(postgres_db, args);
    expect(check.status).toBe('changed');
    expect(check.summary).toBe('create database app owned by app from template0');
    expect(first.status).toBe('changed');
    expect(first.diffs[0]).toMatchObject({ target: 'database app', before: '' });
    expect(first.diffs[0].after).toContain('owner: app');
    expect(second.status).toBe('ok');
    expect(dbInfo('app')).toBe('app|UTF8|C.UTF-8|C.UTF-8');
  });

  test('check mode creates nothing', async () => {
    expect((await run(postgres_db, { ...pg.conn, name: 'never' }, { check: true })).status).toBe('changed');
    expect(dbInfo('never')).toBe('');
  });

  test('the same locale spelled another way (C.utf8) and the encoding as utf-8 are no change', async () => {
    const out = await run(postgres_db, { ...pg.conn, name: 'app', owner: 'app', encoding: 'utf-8', lc_collate: 'C.utf8', lc_ctype: 'C.utf8' });
    expect(out.status).toBe('ok');
  });

  test('a new owner is set in place, with a diff', async () => {
    const out = await run(postgres_db, { ...pg.conn, name: 'app', owner: 'other' });
    expect(out.status).toBe('changed');
    expect(out.summary).toBe('change owner of database app to other');
    expect(out.diffs[0].before).toContain('owner: app');
    expect(out.diffs[0].after).toContain('owner: other');
    expect(dbInfo('app').split('|')[0]).toBe('other');
    expect((await run(postgres_db, { ...pg.conn, name: 'app', owner: 'other' })).status).toBe('ok');
  });

  test('no owner given leaves the owner alone', async () => {
    expect((await run(postgres_db, { ...pg.conn, name: 'app' })).status).toBe('ok');
  });

  test('another encoding or locale than the existing database is an error naming both, and nothing changes', async () => {
    await expect(run(postgres_db, { ...pg.conn, name: 'app', encoding: 'LATIN1' })).rejects.toThrow(/database app exists with encoding UTF8 \(not LATIN1\)/);
    await expect(run(postgres_db, { ...pg.conn, name: 'app', locale: 'C' })).rejects.toThrow(/lc_collate C.UTF-8 \(not C\), lc_ctype C.UTF-8 \(not C\)/);
    expect(dbInfo('app')).toBe('other|UTF8|C.UTF-8|C.UTF-8');
  });

  test('locale and lc_collate that disagree are refused', async () => {
    await expect(run(postgres_db, { ...pg.conn, name: 'x', locale: 'C', lc_collate: 'C.UTF-8' })).rejects.toThrow(/locale 'C' and lc_collate 'C.UTF-8' disagree/);
  });

  test('an owner that does not exist fails with the server’s message', async () => {
    await expect(run(postgres_db, { ...pg.conn, name: 'orphan', owner: 'nobody_here' })).rejects.toThrow(/role "nobody_here" does not exist/);
    expect(dbInfo('orphan')).toBe('');
  });

  test('a hostile name is an identifier, not SQL', async () => {
    const name = `d"; DROP TABLE victim; --`;
    expect((await run(postgres_db, { ...pg.conn, name, owner: 'app' })).status).toBe('changed');
    expect(pg.psql('SELECT count(*) FROM victim')).toBe('0');
    expect(dbInfo(name).split('|')[0]).toBe('app');
    expect((await run(postgres_db, { ...pg.conn, name, state: 'absent' })).status).toBe('changed');
  });

  test('absent: a database with a session is dropped only with force; then ok', async () => {
    await run(postgres_db, { ...pg.conn, name: 'busy' });
    const { spawn } = await import('node:child_process');
    const session = spawn('runuser', ['-u', 'postgres', '--', 'psql', '-X', '-h', pg.dir, '-p', String(pg.port), '-d', 'busy', '-c', 'SELECT pg_sleep(600)'], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 600 && pg.psql("SELECT count(*) FROM pg_stat_activity WHERE datname = 'busy'") === '0'; i++) await new Promise((r) => setTimeout(r, 100));
      await expect(run(postgres_db, { ...pg.conn, name: 'busy', state: 'absent' })).rejects.toThrow(/is being accessed by other users/);
      const forced = await run(postgres_db, { ...pg.conn, name: 'busy', state: 'absent', force: true });
      expect(forced.summary).toBe('drop database busy (ending its sessions)');
      expect(forced.diffs[0].after).toBe('');
    } finally {
      session.kill();
    }
    expect(dbInfo('busy')).toBe('');
    expect((await run(postgres_db, { ...pg.conn, name: 'busy', state: 'absent' })).status).toBe('ok');
  });

  test('check mode against a server that does not run: unknown with the reason', async () => {
    const out = await run(postgres_db, { port: 1, socket_dir: pg.dir, name: 'app' }, { check: true });
    expect(out.status).toBe('unknown');
    expect(out.message).toMatch(/not running/);
  });

  test('schema: unknown fields and bad values are rejected', () => {
    expect(schemaProblems(postgres_db, { name: 'a', ownr: 'x' })[0].message).toMatch(/unknown field/);
    expect(schemaProblems(postgres_db, { name: 'a', state: 'gone' }).length).toBeGreaterThan(0);
  });

  test('works together with postgres_role: the application login owns its database', async () => {
    await run(postgres_role, { ...pg.conn, name: 'blog', login: true });
    expect((await run(postgres_db, { ...pg.conn, name: 'blog', owner: 'blog' })).status).toBe('changed');
    expect(pg.psql("SELECT has_database_privilege('blog', 'blog', 'CREATE')")).toBe('t');
  });
});
