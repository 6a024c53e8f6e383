import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { pg_hba } from '../../../modules/pg_hba.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';
import { startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';

let pg: TempCluster;
let hba: string;
let original: string;
beforeAll(async () => {
  pg = await startTempCluster();
  hba = path.join(pg.dataDir, 'pg_hba.conf');
  original = readFileSync(hba, 'utf8');
  pg.psql("CREATE ROLE blocked LOGIN PASSWORD 'pw-blocked'");
}, 120_000);
afterAll(() => pg?.stop());

const read = () => readFileSync(hba, 'utf8');
const withoutBlock = (text: string) => text.replace(/# BEGIN plinth managed\n[\s\S]*?# END plinth managed\n\n?/, '');
const replication = (n: number) => ({ type: 'host', database: 'replication', user: 'replicator', address: `198.18.0.${n}/32`, method: 'scram-sha-256' });

function login(user: string, password: string) {
  return spawnSync('psql', ['-X', '-A', '-t', '-c', 'SELECT 1', `host=127.0.0.1 port=${pg.port} dbname=postgres user=${user}`], {
    env: { ...process.env, PGPASSWORD: password },
    encoding: 'utf8',
  });
}

describe('pg_hba', () => {
  test('puts the rules in a marked block before the first rule; other lines untouched; idempotent', async () => {
    const args = { ...pg.args, entries: [replication(11), replication(12)] };
    const { check, first, second } = await checkApplyAgain(pg_hba, args);
    expect(check.status).toBe('changed');
    expect(first.status).toBe('changed');
    expect(first.result.reload_required).toBe(true);
    expect(second.status).toBe('ok');
    const text = read();
    expect(withoutBlock(text)).toBe(original);
    const lines = text.split('\n');
    const begin = lines.indexOf('# BEGIN plinth managed');
    const firstRule = lines.findIndex((l) => /^(local|host)/.test(l));
    expect(firstRule).toBe(begin + 1);
    expect(lines[begin + 1]).toMatch(/^host\s+replication\s+replicator\s+198\.18\.0\.11\/32\s+scram-sha-256$/);
    expect(lines[begin + 2]).toMatch(/198\.18\.0\.12\/32/);
    expect(lines[begin + 3]).toBe('# END plinth managed');
    expect(pg.psql('SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')).toBe('0');
  });

  test('merge: a new rule is appended, an absent one removed, order of the rest kept', async () => {
    const out = await run(pg_hba, { ...pg.args, entries: [{ ...replication(11), state: 'absent' }, replication(13)] });
    expect(out.status).toBe('changed');
    const block = read().split('# BEGIN plinth managed\n')[1].split('# END')[0];
    expect(block.match(/198\.18\.0\.\d+/g)).toEqual(['198.18.0.12', '198.18.0.13']);
  });

  test('exclusive: the block is exactly the given rules, in the given order', async () => {
    await run(pg_hba, { ...pg.args, exclusive: true, entries: [replication(14), replication(12)] });
    const block = read().split('# BEGIN plinth managed\n')[1].split('# END')[0];
    expect(block.match(/198\.18\.0\.\d+/g)).toEqual(['198.18.0.14', '198.18.0.12']);
    expect(withoutBlock(read())).toBe(original);
  });

  test('first match: a managed reject rule wins over the generic rule below it (after reload)', async () => {
    expect(login('blocked', 'pw-blocked').status).toBe(0);
    const out = await run(pg_hba, { ...pg.args, reload: true, entries: [{ type: 'host', database: 'all', user: 'blocked', address: '127.0.0.1/32', method: 'reject' }] });
    expect(out.result.reloaded).toBe(true);
    let r = login('blocked', 'pw-blocked');
    for (let i = 0; i < 50 && r.status === 0; i++) {
      await new Promise((res) => setTimeout(res, 100));
      r = login('blocked', 'pw-blocked');
    }
    expect(r.stderr).toMatch(/pg_hba\.conf rejects connection/);
  });

  test('a rule the server rejects fails the task and restores the old file', async () => {
    const before = read();
    await expect(run(pg_hba, { ...pg.args, entries: [{ type: 'host', database: 'all', user: 'all', address: '10.0.0.0/8', method: 'cert' }] })).rejects.toThrow(
      /server rejects the new .*old file restored.*cert/,
    );
    expect(read()).toBe(before);
  });

  test('invalid entries are refused before anything is read or written', async () => {
    const before = read();
    await expect(run(pg_hba, { ...pg.args, entries: [{ ...replication(1), address: '10.0.0.1' }] })).rejects.toThrow(/address must be a CIDR/);
    await expect(run(pg_hba, { ...pg.args, entries: [{ type: 'local', database: 'all', user: 'all', address: '10.0.0.0/8', method: 'peer' }] })).rejects.toThrow(/a local rule has no address/);
    await expect(run(pg_hba, { ...pg.args, entries: [{ ...replication(1), address: '10.0.0.0/33' }] })).rejects.toThrow(/CIDR/);
    expect(schemaProblems(pg_hba, { entries: [{ ...replication(1), method: 'md6' }] })[0].message).toMatch(/must be one of/);
    expect(read()).toBe(before);
  });

  test("a quoted name holding '#' is written quoted and read back by the server and by later runs (kept on merge, idempotent)", async () => {
    const rule = { type: 'host', database: 'all', user: '"ops#1"', address: '198.18.0.40/32', method: 'reject' };
    const first = await run(pg_hba, { ...pg.args, entries: [rule] });
    expect(first.status).toBe('changed');
    expect(read()).toMatch(/^host\s+all\s+"ops#1"\s+198\.18\.0\.40\/32\s+reject$/m);
    expect(pg.psql("SELECT count(*) FROM pg_hba_file_rules WHERE error IS NULL AND user_name = '{ops#1}'")).toBe('1');
    expect(pg.psql('SELECT count(*) FROM pg_hba_file_rules WHERE error IS NOT NULL')).toBe('0');
    // A later run with another rule merges with the block as read back: the '#' rule must stay.
    expect((await run(pg_hba, { ...pg.args, entries: [replication(41)] })).status).toBe('changed');
    const block = read().split('# BEGIN plinth managed\n')[1].split('# END')[0];
    expect(block).toMatch(/"ops#1"[^\n]*\n[^\n]*198\.18\.0\.41\/32/);
    expect((await run(pg_hba, { ...pg.args, entries: [rule, replication(41)] })).status).toBe('ok');
  });

  test('check mode on a host without the file is unknown', async () => {
    const out = await run(pg_hba, { path: '/nonexistent/pg_hba.conf', entries: [replication(1)] }, { check: true });
    expect(out.status).toBe('unknown');
  });
});
