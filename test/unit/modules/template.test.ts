import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { template } from '../../../modules/template.js';
import { redactor } from '../../../engine/secrets/redact.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';

let dir: string;
let base: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-template-'));
  base = join(dir, 'role');
  await mkdir(join(base, 'templates'), { recursive: true });
  await writeFile(join(base, 'templates/pg.conf.ejs'), "port = <%= port %>\nlisten_addresses = '<%= hosts.join(',') %>'\n");
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const vars = { port: 5432, hosts: ['10.0.0.1', '10.0.0.2'] };
const rendered = "port = 5432\nlisten_addresses = '10.0.0.1,10.0.0.2'\n";

describe('template', () => {
  test.each([
    { name: 'new file', setup: async () => {}, mode: '0640' },
    { name: 'file with other content', setup: () => writeFile(join(dir, 'pg.conf'), 'port = 1\n'), mode: undefined },
  ])('check, apply, apply again: $name', async ({ setup, mode }) => {
    await setup();
    const before = await readFile(join(dir, 'pg.conf'), 'utf8').catch(() => null);
    const args = { src: 'pg.conf.ejs', dest: join(dir, 'pg.conf'), ...(mode ? { mode } : {}) };
    const check = await run(template, args, { check: true, vars, baseDirs: [base] });
    expect(check.status).toBe('changed');
    expect(check.diffs[0].after).toBe(rendered);
    expect(check.diffs[0].before).toBe(before ?? '');
    expect(await readFile(join(dir, 'pg.conf'), 'utf8').catch(() => null)).toBe(before);
    const { first, second } = await checkApplyAgain(template, args, { vars, baseDirs: [base] });
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    expect(await readFile(join(dir, 'pg.conf'), 'utf8')).toBe(rendered);
    if (mode) expect(((await stat(join(dir, 'pg.conf'))).mode & 0o777).toString(8)).toBe('640');
  });

  test('changed variables change the file', async () => {
    const args = { src: 'pg.conf.ejs', dest: join(dir, 'pg.conf') };
    await run(template, args, { vars, baseDirs: [base] });
    const r = await run(template, args, { vars: { ...vars, port: 5433 }, baseDirs: [base] });
    expect(r.status).toBe('changed');
    expect(r.diffs[0].before).toContain('port = 5432');
    expect(r.diffs[0].after).toContain('port = 5433');
  });

  test('a template outside templates/ is found beside the role', async () => {
    await writeFile(join(base, 'other.ejs'), 'x=<%= port %>\n');
    await run(template, { src: 'other.ejs', dest: join(dir, 'o') }, { vars, baseDirs: [join(dir, 'elsewhere'), base] });
    expect(await readFile(join(dir, 'o'), 'utf8')).toBe('x=5432\n');
  });

  test('an undefined variable fails with the template name and line', async () => {
    await writeFile(join(base, 'templates/bad.ejs'), 'ok\n<%= missing_var %>\n');
    await expect(run(template, { src: 'bad.ejs', dest: join(dir, 'b') }, { vars, baseDirs: [base] })).rejects.toThrow(/bad\.ejs:2.*missing_var/s);
  });

  test('a rendered secret makes the diff secret', async () => {
    redactor.add('tpl-secret-value-42');
    await writeFile(join(base, 'templates/s.ejs'), 'password=<%= pw %>\n');
    const r = await run(template, { src: 's.ejs', dest: join(dir, 's') }, { check: true, vars: { pw: 'tpl-secret-value-42' }, baseDirs: [base] });
    expect(r.diffs[0].secret).toBe(true);
  });

  test.each([
    { name: 'mode as a number', args: { src: 'a', dest: '/x', mode: 644 }, problem: /mode: must be string, got number/ },
    { name: 'missing src', args: { dest: '/x' }, problem: /src: missing required field 'src'/ },
    { name: 'unknown field', args: { src: 'a', dest: '/x', trim_blocks: true }, problem: /unknown field 'trim_blocks'/ },
  ])('schema rejects $name', ({ args, problem }) => {
    const text = schemaProblems(template, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });
});
