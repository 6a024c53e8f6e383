// roles/app-database: the application's two URLs derived from the inventory, through the real
// CLI. The URLs are secrets (they hold the password): the play writes them to a file, and no
// output may show them.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse } from 'pg-connection-string';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { plinth } from '../../helpers/cli.js';

const PASSWORD = "Pa55:w/rd#1@x'y %";
let tmp: string;

const inventory = (withPgpool: boolean) => `all:
  hosts:
    localhost: {ansible_connection: local}
  children:
    primary: {hosts: {pg-primary: {ansible_host: 198.18.0.10}}}
    replicas: {hosts: {pg-replica-1: {ansible_host: 198.18.0.11}, pg-replica-2: {ansible_host: "fd00::12"}}}
${withPgpool ? '    pgpool: {hosts: {pgpool: {ansible_host: 198.18.0.13}}}\n' : ''}`;

beforeAll(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-app-database-'));
  await fs.writeFile(path.join(tmp, 'with-pgpool.yml'), inventory(true));
  await fs.writeFile(path.join(tmp, 'without-pgpool.yml'), inventory(false));
  await fs.writeFile(
    path.join(tmp, 'urls.yml'),
    `- hosts: localhost
  gather_facts: false
  roles: [app-database]
  tasks:
    - copy:
        dest: "{{ out }}"
        mode: "0600"
        content: "{{ JSON.stringify({ write: write_database_url, read: read_database_url }) }}"
`,
  );
});
afterAll(() => fs.rm(tmp, { recursive: true, force: true }));

async function urls(inv: string, extra: Record<string, string> = {}) {
  const out = path.join(tmp, `urls-${Math.random().toString(36).slice(2)}.json`);
  const r = await plinth(['run', '-i', path.join(tmp, inv), path.join(tmp, 'urls.yml'), '-e', JSON.stringify({ app_password: PASSWORD, out, ...extra })]);
  expect(r.code, r.stderr + r.stdout).toBe(0);
  for (const text of [r.stdout, r.stderr]) {
    expect(text).not.toContain(PASSWORD);
    expect(text).not.toContain(encodeURIComponent(PASSWORD));
  }
  return JSON.parse(await fs.readFile(out, 'utf8')) as { write: string; read: string };
}

describe('roles/app-database: write_database_url and read_database_url', () => {
  test('both through pgpool by default, to the app database, the password percent-encoded', async () => {
    const { write, read } = await urls('with-pgpool.yml');
    expect(write).toBe(`postgres://app:${encodeURIComponent(PASSWORD)}@198.18.0.13:5432/app?sslmode=disable`);
    expect(read).toBe(write);
    const parsed = parse(write);
    expect(parsed).toMatchObject({ user: 'app', password: PASSWORD, host: '198.18.0.13', port: '5432', database: 'app' });
  });

  test('reads from a replica (an IPv6 address in brackets), on PostgreSQL’s port', async () => {
    const { write, read } = await urls('with-pgpool.yml', { app_db_read_via: 'replica', app_db_read_replica: 'pg-replica-2', app_db_postgres_port: '5433' });
    expect(write).toMatch(/@198\.18\.0\.13:5432\/app\?/);
    expect(read).toMatch(/@\[fd00::12\]:5433\/app\?sslmode=disable$/);
    expect(parse(read)).toMatchObject({ host: 'fd00::12', port: '5433', password: PASSWORD });
  });

  test('without a pgpool group: writes and reads go to the primary; replica reads to the first replica', async () => {
    const direct = await urls('without-pgpool.yml');
    expect(direct.write).toMatch(/@198\.18\.0\.10:5432\/app\?/);
    expect(direct.read).toBe(direct.write);
    const replica = await urls('without-pgpool.yml', { app_db_read_via: 'replica' });
    expect(replica.read).toMatch(/@198\.18\.0\.11:5432\/app\?/);
  });

  test('another user, database and no sslmode', async () => {
    const { write } = await urls('with-pgpool.yml', { app_user: 'blog user', app_database: 'blog/db', app_db_sslmode: '' });
    expect(write).toBe(`postgres://blog%20user:${encodeURIComponent(PASSWORD)}@198.18.0.13:5432/blog%2Fdb`);
  });
});
