import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { postgres_query, bindParams, commandRowCount } from '../../../modules/postgres_query.js';
import { run } from '../../helpers/modules.js';
import { startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';

let pg: TempCluster;
beforeAll(async () => {
  pg = await startTempCluster();
  pg.psql('CREATE TABLE items (id int PRIMARY KEY, name text, price numeric, tags jsonb, ok boolean); CREATE SEQUENCE s');
}, 120_000);
afterAll(() => pg?.stop());

describe('postgres_query', () => {
  test('returns typed rows and runs in check mode for a SELECT', async () => {
    const args = { ...pg.conn, query: "SELECT 1::int AS n, 2.5::float8 AS f, true AS b, NULL AS z, '{\"a\":[1]}'::jsonb AS j, ARRAY['x','y'] AS a" };
    const out = await run(postgres_query, args, { check: true });
    expect(out.status).toBe('ok');
    expect(out.result.rows).toEqual([{ n: 1, f: 2.5, b: true, z: null, j: { a: [1] }, a: ['x', 'y'] }]);
    expect(out.result.rowcount).toBe(1);
  });

  test('parameters with quotes, backslashes, semicolons and newlines arrive verbatim', async () => {
    const nasty = `it's "q" \\ back; DROP TABLE items; --\nline2 :'x' $1`;
    const out = await run(postgres_query, { ...pg.conn, query: 'SELECT $1::text AS v, $2::int + 1 AS n, $3 IS NULL AS isnull', params: [nasty, 41, null] });
    expect(out.result.rows).toEqual([{ v: nasty, n: 42, isnull: true }]);
    expect(pg.psql("SELECT count(*) FROM pg_tables WHERE tablename = 'items'")).toBe('1');
  });

  test('$n inside strings, identifiers and comments is not a parameter', () => {
    const { sql, params } = bindParams(`SELECT '$1', "$1", $$ $1 $$ /* $1 */ , $1 -- $1\n`, ['v']);
    expect(sql).toBe(`SELECT '$1', "$1", $$ $1 $$ /* $1 */ , :'plinth_p1' -- $1\n`);
    expect(params).toEqual({ plinth_p1: 'v' });
    expect(() => bindParams('SELECT $2', ['a'])).toThrow(/uses \$2 but params has 1/);
  });

  test('a data change is planned in check mode and applied with a row count', async () => {
    const args = { ...pg.conn, query: 'INSERT INTO items (id, name, price) VALUES ($1, $2, $3), ($4, $2, 1)', params: [1, "o'brien", '9.99', 2] };
    const check = await run(postgres_query, args, { check: true });
    expect(check.status).toBe('changed');
    expect(pg.psql('SELECT count(*) FROM items')).toBe('0');
    const applied = await run(postgres_query, args);
    expect(applied.status).toBe('changed');
    expect(applied.result.rowcount).toBe(2);
    expect(pg.psql('SELECT name FROM items WHERE id = 1')).toBe("o'brien");
  });

  test('RETURNING rows come back typed', async () => {
    const out = await run(postgres_query, { ...pg.conn, query: 'UPDATE items SET price = price * 2 WHERE id = $1 RETURNING id, price', params: [1] });
    expect(out.result.rows).toEqual([{ id: 1, price: 19.98 }]);
  });

  test('SHOW returns the setting as a row', async () => {
    const out = await run(postgres_query, { ...pg.conn, query: 'SHOW listen_addresses' }, { check: true });
    expect(out.result.rows).toEqual([{ listen_addresses: '127.0.0.1' }]);
  });

  test('read_only: true refuses a statement that writes', async () => {
    await expect(run(postgres_query, { ...pg.conn, query: 'SELECT 1 FROM items FOR UPDATE', read_only: true })).rejects.toThrow(/read-only transaction/);
    await expect(run(postgres_query, { ...pg.conn, query: "SELECT nextval('s')" }, { check: true })).rejects.toThrow(/read-only transaction.*read_only: false/);
    expect(pg.psql('SELECT last_value FROM s')).toBe('1');
    expect(pg.psql('SELECT is_called FROM s')).toBe('f');
  });

  test('check mode against a stopped server is unknown, not ok', async () => {
    const out = await run(postgres_query, { ...pg.conn, port: 1, query: 'SELECT 1' }, { check: true });
    expect(out.status).toBe('unknown');
    expect(out.message).toMatch(/not running/);
  });

  test('command tags give the row count', () => {
    expect(commandRowCount('INSERT 0 3\n')).toBe(3);
    expect(commandRowCount('CREATE TABLE\n')).toBe(0);
  });
});
