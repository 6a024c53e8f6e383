import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { chmod, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stat } from '../../../modules/stat.js';
import { copy } from '../../../modules/copy.js';
import { PredictedHost } from '../../../engine/connection/predicted.js';
import { localHost, run, schemaProblems } from '../../helpers/modules.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-stat-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('stat', () => {
  test.each([
    {
      name: 'a regular file',
      setup: async (d: string) => {
        await writeFile(join(d, 'f'), 'hello\n');
        await chmod(join(d, 'f'), 0o640);
      },
      args: (d: string) => ({ path: join(d, 'f') }),
      // sha1 of "hello\n", as `sha1sum` prints it.
      expected: { exists: true, isreg: true, isdir: false, islnk: false, mode: '0640', pw_name: 'root', gr_name: 'root', size: 6, checksum: 'f572d396fae9206628714fb2ce00f72e94f2258f' },
    },
    {
      name: 'a directory',
      setup: async () => {},
      args: (d: string) => ({ path: d }),
      expected: { exists: true, isdir: true, isreg: false, mode: '0700' },
    },
    {
      name: 'a link, not followed',
      setup: async (d: string) => {
        await writeFile(join(d, 't'), 'x');
        await symlink('t', join(d, 'l'));
      },
      args: (d: string) => ({ path: join(d, 'l') }),
      expected: { exists: true, islnk: true, isreg: false, lnk_target: 't' },
    },
    {
      name: 'a link, followed',
      setup: async (d: string) => {
        await writeFile(join(d, 't'), 'x');
        await symlink('t', join(d, 'l'));
      },
      args: (d: string) => ({ path: join(d, 'l'), follow: true }),
      expected: { exists: true, islnk: false, isreg: true, size: 1 },
    },
    {
      name: 'a missing path',
      setup: async () => {},
      args: (d: string) => ({ path: join(d, 'nope') }),
      expected: { exists: false },
    },
  ])('$name', async ({ setup, args, expected }) => {
    await setup(dir);
    for (const check of [true, false]) {
      const r = await run(stat, args(dir), { check });
      expect(r.status).toBe('ok');
      expect(r.result.stat).toMatchObject(expected);
    }
  });

  test('get_checksum: false leaves the checksum out', async () => {
    await writeFile(join(dir, 'f'), 'x');
    const r = await run(stat, { path: join(dir, 'f'), get_checksum: false });
    expect(r.result.stat).not.toHaveProperty('checksum');
  });

  test('in check mode it sees a file an earlier task would write', async () => {
    const host = new PredictedHost(localHost);
    const path = join(dir, 'planned');
    await run(copy, { dest: path, content: 'hello\n' }, { check: true, host });
    const r = await run(stat, { path }, { check: true, host });
    expect(r.result.stat).toMatchObject({ exists: true, isreg: true, checksum: 'f572d396fae9206628714fb2ce00f72e94f2258f' });
  });

  test('is read-only', () => {
    expect(stat.readOnly).toBe(true);
  });

  test.each([
    { name: 'missing path', args: {}, problem: /missing required field 'path'/ },
    { name: 'follow not a boolean', args: { path: '/', follow: 'yes' }, problem: /follow: must be boolean/ },
    { name: 'unknown field', args: { path: '/', get_md5: true }, problem: /unknown field 'get_md5'/ },
  ])('schema rejects $name', ({ args, problem }) => {
    const text = schemaProblems(stat, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });
});
