import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { copy } from '../../../modules/copy.js';
import { redactor } from '../../../engine/secrets/redact.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';

let dir: string;
let base: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-copy-'));
  base = join(dir, 'playbook');
  await mkdir(join(base, 'files'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8).padStart(4, '0');

interface Case {
  name: string;
  setup?: () => Promise<void>;
  args: () => Record<string, unknown>;
  dest: () => string;
  expected: string | Buffer;
  mode?: string;
}

const cases: Case[] = [
  { name: 'content into a new file', args: () => ({ dest: join(dir, 'a.conf'), content: 'a = 1\n', mode: '0640' }), dest: () => join(dir, 'a.conf'), expected: 'a = 1\n', mode: '0640' },
  {
    name: 'content over a different file',
    setup: () => writeFile(join(dir, 'b.conf'), 'old\n'),
    args: () => ({ dest: join(dir, 'b.conf'), content: 'new\n' }),
    dest: () => join(dir, 'b.conf'),
    expected: 'new\n',
  },
  {
    name: 'src from files/',
    setup: () => writeFile(join(base, 'files/motd'), 'hello\n'),
    args: () => ({ dest: join(dir, 'motd'), src: 'motd' }),
    dest: () => join(dir, 'motd'),
    expected: 'hello\n',
  },
  {
    name: 'src beside the playbook when files/ has none',
    setup: () => writeFile(join(base, 'plain.txt'), 'plain\n'),
    args: () => ({ dest: join(dir, 'plain.txt'), src: 'plain.txt' }),
    dest: () => join(dir, 'plain.txt'),
    expected: 'plain\n',
  },
  {
    name: 'src into an existing directory keeps its name',
    setup: async () => {
      await writeFile(join(base, 'files/app.ini'), '[app]\n');
      await mkdir(join(dir, 'etc'));
    },
    args: () => ({ dest: join(dir, 'etc'), src: 'app.ini' }),
    dest: () => join(dir, 'etc/app.ini'),
    expected: '[app]\n',
  },
  {
    name: 'binary src',
    setup: () => writeFile(join(base, 'files/blob'), Buffer.from([0, 1, 2, 255, 254])),
    args: () => ({ dest: join(dir, 'blob'), src: 'blob' }),
    dest: () => join(dir, 'blob'),
    expected: Buffer.from([0, 1, 2, 255, 254]),
  },
  {
    name: 'mode only',
    setup: () => writeFile(join(dir, 'm'), 'same\n', { mode: 0o644 }),
    args: () => ({ dest: join(dir, 'm'), content: 'same\n', mode: '0600' }),
    dest: () => join(dir, 'm'),
    expected: 'same\n',
    mode: '0600',
  },
];

describe('copy: check, apply, apply again', () => {
  test.each(cases)('$name', async (c) => {
    await c.setup?.();
    const before = await readFile(c.dest()).catch(() => null);
    const { check, first, second } = await checkApplyAgain(copy, c.args(), { baseDirs: [base] });
    expect(check.status).toBe('changed');
    expect(check.predicted).toBe(true);
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    const after = await readFile(c.dest());
    expect(after.equals(Buffer.from(c.expected))).toBe(true);
    if (c.mode) expect(await modeOf(c.dest())).toBe(c.mode);
    expect(before === null || !before.equals(after) || c.mode !== undefined).toBe(true);
  });

  test.each(cases)('check mode leaves the disk alone: $name', async (c) => {
    await c.setup?.();
    const before = await readFile(c.dest()).catch(() => null);
    const beforeMode = before ? await modeOf(c.dest()) : null;
    await run(copy, c.args(), { check: true, baseDirs: [base] });
    const after = await readFile(c.dest()).catch(() => null);
    expect(after === null ? null : after.toString('hex')).toBe(before === null ? null : before.toString('hex'));
    if (before) expect(await modeOf(c.dest())).toBe(beforeMode);
  });
});

describe('copy: diffs', () => {
  test('text before/after', async () => {
    await writeFile(join(dir, 'f'), 'one\n');
    const r = await run(copy, { dest: join(dir, 'f'), content: 'two\n' }, { check: true });
    expect(r.diffs[0]).toEqual({ target: join(dir, 'f'), before: 'one\n', after: 'two\n' });
  });

  test('binary content is not shown', async () => {
    await writeFile(join(dir, 'b'), Buffer.from([0, 1]));
    await writeFile(join(base, 'files/b'), Buffer.from([0, 2, 3]));
    const r = await run(copy, { dest: join(dir, 'b'), src: 'b' }, { check: true, baseDirs: [base] });
    expect(r.diffs[0].after).toContain('binary file changed');
    expect(r.diffs[0].before).toContain('binary file');
  });

  test('content holding a registered secret is a secret diff', async () => {
    redactor.add('s3cret-copy-password');
    const r = await run(copy, { dest: join(dir, 'pw'), content: 'password = s3cret-copy-password\n' }, { check: true });
    expect(r.diffs[0].secret).toBe(true);
  });
});

describe('copy: options', () => {
  test('force: false leaves an existing file alone', async () => {
    await writeFile(join(dir, 'keep'), 'mine\n');
    const r = await run(copy, { dest: join(dir, 'keep'), content: 'theirs\n', force: false });
    expect(r.status).toBe('ok');
    expect(await readFile(join(dir, 'keep'), 'utf8')).toBe('mine\n');
  });

  test('backup keeps the old content beside the file', async () => {
    await writeFile(join(dir, 'conf'), 'v1\n');
    const r = await run(copy, { dest: join(dir, 'conf'), content: 'v2\n', backup: true });
    const backup = r.result.backup_file as string;
    expect(backup).toMatch(/conf\.\d+\.\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d~$/);
    expect(await readFile(backup, 'utf8')).toBe('v1\n');
    expect((await readdir(dir)).length).toBe(3);
  });

  test('a missing destination directory: check mode says unknown, a real run fails', async () => {
    const args = { dest: join(dir, 'nope/f'), content: 'x' };
    expect((await run(copy, args, { check: true })).status).toBe('unknown');
    const real = await run(copy, args);
    expect(real.status).toBe('failed');
    expect(real.message).toMatch(/directory .*nope does not exist/);
  });

  test('a missing src names where it looked', async () => {
    await expect(run(copy, { dest: join(dir, 'f'), src: 'ghost' }, { baseDirs: [base] })).rejects.toThrow(/src 'ghost' not found; looked in: .*files\/ghost/);
  });

  test('content and src together, or neither, are refused by the schema with its message', async () => {
    await expect(run(copy, { dest: join(dir, 'f'), src: 'a', content: 'b' })).rejects.toThrow(/^: write either content or src \(one of them, not both\)$/);
    await expect(run(copy, { dest: join(dir, 'f') })).rejects.toThrow(/^: write either content or src/);
  });
});

describe('copy: schema', () => {
  test.each([
    { name: 'mode as a number', args: { dest: '/x', content: '', mode: 600 }, problem: /mode: must be string, got number/ },
    { name: 'missing dest', args: { content: 'x' }, problem: /dest: missing required field 'dest'/ },
    { name: 'neither content nor src', args: { dest: '/x' }, problem: /write either content or src/ },
    { name: 'both content and src', args: { dest: '/x', content: 'a', src: 'b' }, problem: /write either content or src/ },
    { name: 'unknown field', args: { dest: '/x', content: '', remote_srcs: true }, problem: /unknown field 'remote_srcs'/ },
    { name: 'content not a string', args: { dest: '/x', content: 5 }, problem: /content: must be string/ },
  ])('rejects $name', ({ args, problem }) => {
    const text = schemaProblems(copy, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });
});
