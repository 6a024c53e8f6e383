import fc from 'fast-check';
import { appendFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { LocalHost } from '../../../engine/connection/local.js';
import { makeModuleContext } from '../../../engine/run/context.js';
import { parseConf, setConfValues } from '../../../modules/postgres/conf.js';
import { formatConninfo, parseConninfo } from '../../../modules/postgres/conninfo.js';
import { formatEntry, mergeEntries, parseEntry, parseHbaFile, renderHbaFile, validAddress } from '../../../modules/postgres/hba.js';
import { pg_hba } from '../../../modules/pg_hba.js';
import { validateAgainst } from '../../../engine/schema-validation.js';
import { makeVerifier, verifyPassword } from '../../../modules/postgres/password.js';
import { queryRows, setVariableLine } from '../../../modules/postgres/sql.js';
import { formatValue, normalizeValue, unquoteValue } from '../../../modules/postgres/values.js';
import { startTempCluster, type TempCluster } from './temp-cluster.js';

let pg: TempCluster;
beforeAll(async () => {
  pg = await startTempCluster();
}, 120_000);
afterAll(() => pg?.stop());

describe('psql variables', () => {
  test('any value without NUL arrives in SQL exactly, as a literal and as an identifier', async () => {
    const ctx = makeModuleContext({ host: new LocalHost('local'), check: false });
    const target = { socketDir: pg.dir, port: pg.port, db: 'postgres', user: 'postgres' };
    const values = fc.sample(
      fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }).filter((s) => !s.includes('\0')),
      40,
    );
    values.push(`'; DROP TABLE x; --`, `\\'\\\\"`, 'a\nb\r\nc', ':"x" :\'y\'');
    const names = values.map((v, i) => `c${i} ${[...v].slice(0, 10).join('')}`);
    const params = Object.fromEntries([...values.map((v, i) => [`v${i}`, v]), ...names.map((n, i) => [`n${i}`, n])]);
    const select = `SELECT ARRAY[${values.map((_, i) => `:'v${i}'`).join(', ')}] AS literals, ${names.map((_, i) => `1 AS :"n${i}"`).join(', ')}`;
    const [row] = await queryRows<Record<string, unknown>>(ctx, target, select, params);
    expect(row.literals).toEqual(values);
    expect(Object.keys(row).slice(1)).toEqual(names);
  });

  test('a NUL byte is refused', () => {
    expect(() => setVariableLine('v', 'a\0b')).toThrow(/NUL/);
  });
});

describe('postgresql.conf', () => {
  const sample = `# comment\nmax_connections = 100\t\t\t# (change requires restart)\n#wal_level = replica\t\t\t# minimal, replica, or logical\nshared_buffers 128MB\n#listen_addresses = 'localhost'\t# what IP\ninclude_dir = 'conf.d'\n`;

  test('parses active settings, last one wins, directives skipped', () => {
    const conf = parseConf(`${sample}max_connections = 50\n`);
    expect(conf.get('max_connections')?.value).toBe('50');
    expect(conf.get('shared_buffers')?.value).toBe('128MB');
    expect(conf.has('include_dir')).toBe(false);
    expect(conf.has('wal_level')).toBe(false);
  });

  test('edits in place, uncomments defaults, appends the rest in a section', () => {
    const out = setConfValues(sample, { max_connections: 200, wal_level: 'logical', listen_addresses: '*', 'x.y': "a'b" });
    expect(out).toBe(
      `# comment\nmax_connections = 200\t\t\t# (change requires restart)\nwal_level = logical\t\t\t# minimal, replica, or logical\nshared_buffers 128MB\nlisten_addresses = '*'\t# what IP\ninclude_dir = 'conf.d'\n\n# BEGIN plinth managed settings\nx.y = 'a''b'\n# END plinth managed settings\n`,
    );
    expect(setConfValues(out, { 'x.z': 1 })).toMatch(/x\.y = 'a''b'\nx\.z = 1\n# END/);
    expect(parseConf(out).get('x.y')?.value).toBe("a'b");
  });

  test('values: quoting round-trips; units, booleans and case normalise', () => {
    fc.assert(fc.property(fc.string(), (s) => unquoteValue(formatValue(s)) === s));
    expect(formatValue('256MB')).toBe('256MB');
    expect(formatValue('FIRST 1 (a, b)')).toBe("'FIRST 1 (a, b)'");
    expect(formatValue(false)).toBe('off');
    expect(normalizeValue('256MB')).toBe(normalizeValue('262144kB'));
    expect(normalizeValue('16384', { name: 'shared_buffers', context: 'postmaster', vartype: 'integer', unit: '8kB' })).toBe(normalizeValue('128MB'));
    expect(normalizeValue('5min')).toBe(normalizeValue('300s'));
    expect(normalizeValue('yes', { name: 'hot_standby', context: 'postmaster', vartype: 'bool' })).toBe('on');
    expect(normalizeValue('Replica', { name: 'wal_level', context: 'postmaster', vartype: 'enum' })).toBe('replica');
    expect(normalizeValue('1024')).not.toBe(normalizeValue('1GB'));
  });
});

describe('postgresql.conf values the server reads', () => {
  test('line breaks are written as escapes; the server reads back exactly the value written', () => {
    const values = [
      'a\nb',
      'x\r\ny',
      '\n',
      "it's\\n not a break\\",
      'tab\there é 漢 #no comment',
      ...fc.sample(
        fc.string({ unit: 'binary', maxLength: 12 }).filter((s) => !s.includes('\0')),
        30,
      ),
    ];
    const text = setConfValues('', Object.fromEntries(values.map((v, i) => [`plinth.v${i}`, v])));
    expect(text.split('\n')).toHaveLength(values.length + 3); // one line per value, the section markers, the final newline
    for (const [i, v] of values.entries()) expect(parseConf(text).get(`plinth.v${i}`)?.value).toBe(v);
    expect(formatValue('a\nb\rc')).toBe("'a\\nb\\rc'");
    writeFileSync(path.join(pg.dataDir, 'plinth-values.conf'), text);
    appendFileSync(path.join(pg.dataDir, 'postgresql.conf'), "\ninclude_if_exists = 'plinth-values.conf'\n");
    expect(pg.psql('SELECT count(*) FROM pg_file_settings WHERE error IS NOT NULL')).toBe('0');
    const rows = pg.psql("SELECT name || ' ' || encode(convert_to(setting, 'UTF8'), 'hex') FROM pg_file_settings WHERE name LIKE 'plinth.%'");
    const read = new Map(
      rows
        .split('\n')
        .map((r) => r.split(' '))
        .map(([n, hex]) => [n, Buffer.from(hex ?? '', 'hex').toString('utf8')]),
    );
    for (const [i, v] of values.entries()) expect(read.get(`plinth.v${i}`), JSON.stringify(v)).toBe(v);
  });

  test('octal and letter escapes written by hand decode as the server decodes them', () => {
    expect(unquoteValue("'\\101\\0102\\7x\\b\\f\\t\\q'")).toBe('A\x082\x07x\b\f\tq');
  });
});

describe('pg_hba.conf', () => {
  const e = (n: number) => ({ type: 'host', database: 'replication', user: 'replicator', address: `10.0.0.${n}/32`, method: 'scram-sha-256' });

  test('entries format and parse back', () => {
    for (const entry of [e(1), { type: 'local', database: 'all', user: 'postgres', method: 'peer' }, { ...e(2), method: 'cert', options: 'clientcert=verify-full' }]) {
      expect(parseEntry(formatEntry(entry))).toEqual({ address: undefined, options: undefined, ...entry });
    }
  });

  test("'#' inside a quoted name is part of the name; outside quotes it starts a comment", () => {
    const entry = { type: 'host', database: '"db#1","x""#"', user: '"a#b"', address: '10.0.0.1/32', method: 'md5', options: undefined };
    expect(parseEntry(formatEntry(entry))).toEqual(entry);
    expect(parseEntry(`${formatEntry(entry)}  # "note" #`)).toEqual(entry);
    expect(parseEntry('host all "a#b" 10.0.0.1/32 md5 # trust')).toMatchObject({ user: '"a#b"', method: 'md5', options: undefined });
    expect(parseEntry('host all a#b 10.0.0.1/32 md5')).toBeNull();
    const problems = validateAgainst(pg_hba.schema, { entries: [{ ...entry, options: undefined, user: '"a\nb"' }] });
    expect(problems.map((p) => `${p.path.join('.')}: ${p.message}`)).toEqual([expect.stringMatching(/^entries\.0\.user: role name\(s\), comma-separated/)]);
  });

  test('addresses', () => {
    for (const ok of ['10.0.0.1/32', '::1/128', 'all', 'samenet', 'db.example.com', '.example.com']) expect(validAddress(ok), ok).toBe(true);
    for (const bad of ['10.0.0.1', '10.0.0.1/33', '::1/129', 'a b', 'x/y']) expect(validAddress(bad), bad).toBe(false);
  });

  test('the block goes above the comment of the first rule and is replaced in place later', () => {
    const text = '# docs\n\n# admin login\nlocal all postgres peer\nhost all all 0.0.0.0/0 scram-sha-256\n';
    const first = renderHbaFile(parseHbaFile(text, 'm'), [e(1)], 'm');
    expect(first).toBe(`# docs\n\n# BEGIN m\n${formatEntry(e(1))}\n# END m\n\n# admin login\nlocal all postgres peer\nhost all all 0.0.0.0/0 scram-sha-256\n`);
    const file = parseHbaFile(first, 'm');
    expect(file.managed).toEqual([{ ...e(1), options: undefined }]);
    const second = renderHbaFile(file, mergeEntries(file.managed, [{ ...e(2), state: 'present' }], false), 'm');
    expect(second.split('\n').slice(3, 5)).toEqual([formatEntry(e(1)), formatEntry(e(2))]);
    expect(() => parseHbaFile('# BEGIN m\nlocal all all peer\n', 'm')).toThrow(/markers are damaged/);
  });
});

describe('passwords', () => {
  test('verifiers made here verify; other passwords and names do not', () => {
    for (const pw of ['secret', 'p\'w "x"', 'pässwörd']) {
      const scram = makeVerifier('scram-sha-256', pw, 'r');
      expect(verifyPassword(scram, pw, 'r')).toBe(true);
      expect(verifyPassword(scram, `${pw}x`, 'r')).toBe(false);
      const md5 = makeVerifier('md5', pw, 'r');
      expect(verifyPassword(md5, pw, 'r')).toBe(true);
      expect(verifyPassword(md5, pw, 'other')).toBe(false);
    }
    expect(verifyPassword(null, 'x', 'r')).toBe(false);
  });

  test('a verifier made by the server verifies (non-ASCII too)', () => {
    pg.psql("SET password_encryption = 'scram-sha-256'; CREATE ROLE v1 PASSWORD 'pässwörd ünïcode'");
    const stored = pg.psql("SELECT rolpassword FROM pg_authid WHERE rolname = 'v1'");
    expect(stored).toMatch(/^SCRAM-SHA-256\$4096:/);
    expect(verifyPassword(stored, 'pässwörd ünïcode', 'v1')).toBe(true);
    expect(verifyPassword(stored, 'passwörd ünïcode', 'v1')).toBe(false);
  });
});

describe('conninfo', () => {
  test('round-trips values with spaces, quotes and backslashes', () => {
    fc.assert(
      fc.property(fc.string(), fc.string({ minLength: 1 }), (pw, app) => {
        const parsed = parseConninfo(formatConninfo({ host: 'h', password: pw, application_name: app }));
        return parsed.password === pw && parsed.application_name === app && parsed.host === 'h';
      }),
    );
  });
});
