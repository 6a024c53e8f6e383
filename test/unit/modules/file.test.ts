import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { lstat, mkdir, mkdtemp, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { file } from '../../../modules/file.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-file-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const modeOf = async (p: string) => ((await stat(p)).mode & 0o7777).toString(8).padStart(4, '0');
const exists = (p: string) =>
  lstat(p).then(
    () => true,
    () => false,
  );

interface Case {
  name: string;
  setup?: (d: string) => Promise<void>;
  args: (d: string) => Record<string, unknown>;
  /** Checks the disk after the first real run. */
  after: (d: string) => Promise<void>;
  summary: RegExp;
}

const cases: Case[] = [
  {
    name: 'directory with parents and mode',
    args: (d) => ({ path: join(d, 'a/b/c'), state: 'directory', mode: '0750' }),
    after: async (d) => {
      expect((await stat(join(d, 'a/b/c'))).isDirectory()).toBe(true);
      // Every created directory gets the mode, as in Ansible.
      expect(await modeOf(join(d, 'a'))).toBe('0750');
      expect(await modeOf(join(d, 'a/b/c'))).toBe('0750');
    },
    summary: /create directory .*a\/b\/c \(0750\)/,
  },
  {
    name: 'mode of an existing file',
    setup: async (d) => writeFile(join(d, 'f'), 'x', { mode: 0o644 }),
    args: (d) => ({ path: join(d, 'f'), mode: '600' }),
    after: async (d) => expect(await modeOf(join(d, 'f'))).toBe('0600'),
    summary: /mode 0644 → 0600/,
  },
  {
    name: 'owner and group of an existing file',
    setup: async (d) => writeFile(join(d, 'f'), 'x'),
    args: (d) => ({ path: join(d, 'f'), state: 'file', owner: 'nobody', group: '65534' }),
    after: async (d) => {
      const st = await stat(join(d, 'f'));
      expect([st.uid, st.gid]).toEqual([65534, 65534]);
    },
    summary: /owner root → nobody, group root → nogroup/,
  },
  {
    name: 'absent removes a tree',
    setup: async (d) => {
      await mkdir(join(d, 't/u'), { recursive: true });
      await writeFile(join(d, 't/u/f'), 'x');
    },
    args: (d) => ({ path: join(d, 't'), state: 'absent' }),
    after: async (d) => expect(await exists(join(d, 't'))).toBe(false),
    summary: /remove directory/,
  },
  {
    name: 'touch creates an empty file with mode',
    args: (d) => ({ path: join(d, 'new'), state: 'touch', mode: '0640' }),
    after: async (d) => {
      expect((await stat(join(d, 'new'))).size).toBe(0);
      expect(await modeOf(join(d, 'new'))).toBe('0640');
    },
    summary: /create empty file/,
  },
  {
    name: 'link to an existing file',
    setup: async (d) => writeFile(join(d, 'target'), 'x'),
    args: (d) => ({ path: join(d, 'l'), state: 'link', src: join(d, 'target') }),
    after: async (d) => expect(await readlink(join(d, 'l'))).toBe(join(d, 'target')),
    summary: /link .*l → /,
  },
  {
    name: 'relink a link that points elsewhere',
    setup: async (d) => {
      await writeFile(join(d, 'one'), '1');
      await writeFile(join(d, 'two'), '2');
      await symlink('one', join(d, 'l'));
    },
    args: (d) => ({ path: join(d, 'l'), state: 'link', src: 'two' }),
    after: async (d) => expect(await readlink(join(d, 'l'))).toBe('two'),
    summary: /link .* → two/,
  },
  {
    name: 'force replaces a file with a link',
    setup: async (d) => {
      await writeFile(join(d, 'target'), 'x');
      await writeFile(join(d, 'l'), 'in the way');
    },
    args: (d) => ({ path: join(d, 'l'), state: 'link', src: 'target', force: true }),
    after: async (d) => expect(await readlink(join(d, 'l'))).toBe('target'),
    summary: /link/,
  },
  {
    name: 'recurse sets mode inside a directory',
    setup: async (d) => {
      await mkdir(join(d, 'r/s'), { recursive: true, mode: 0o755 });
      await writeFile(join(d, 'r/s/f'), 'x', { mode: 0o644 });
    },
    args: (d) => ({ path: join(d, 'r'), state: 'directory', recurse: true, mode: '0700' }),
    after: async (d) => {
      expect(await modeOf(join(d, 'r/s'))).toBe('0700');
      expect(await modeOf(join(d, 'r/s/f'))).toBe('0700');
    },
    summary: /recursively/,
  },
];

describe('file: check, apply, apply again', () => {
  test.each(cases)('$name', async (c) => {
    await c.setup?.(dir);
    const { check, first, second } = await checkApplyAgain(file, c.args(dir));
    expect(check.status).toBe('changed');
    expect(check.predicted).toBe(true);
    expect(check.summary).toMatch(c.summary);
    expect(check.diffs.length).toBeGreaterThan(0);
    expect(first.status).toBe('changed');
    await c.after(dir);
    expect(second.status).toBe('ok');
  });
});

/** A listing of the tree with modes and link targets, to prove check mode changed nothing. */
async function snapshot(root: string): Promise<string> {
  const r = await import('node:child_process').then((cp) => cp.execFileSync('find', [root, '-printf', '%p %M %u %g %l\n'], { encoding: 'utf8' }));
  return r.split('\n').sort().join('\n');
}

describe('file: check mode changes nothing on disk', () => {
  test.each(cases)('$name', async (c) => {
    await c.setup?.(dir);
    const before = await snapshot(dir);
    const check = await run(file, c.args(dir), { check: true });
    expect(check.status).toBe('changed');
    expect(await snapshot(dir)).toBe(before);
  });
});

describe('file: diffs', () => {
  test('a new directory shows state and mode before/after', async () => {
    const r = await run(file, { path: join(dir, 'd'), state: 'directory', mode: '0755' }, { check: true });
    expect(r.diffs[0].before).toContain('state: absent');
    expect(r.diffs[0].after).toContain('state: directory');
    expect(r.diffs[0].after).toContain('mode: 0755');
  });

  test('a mode change shows the old and the new mode', async () => {
    await writeFile(join(dir, 'f'), 'x', { mode: 0o644 });
    const r = await run(file, { path: join(dir, 'f'), mode: '0600' }, { check: true });
    expect(r.diffs[0].before).toContain('mode: 0644');
    expect(r.diffs[0].after).toContain('mode: 0600');
  });
});

describe('file: errors', () => {
  test.each([
    { name: 'state=file on a missing path', args: (d: string) => ({ path: join(d, 'missing'), state: 'file' }), error: /absent, cannot continue.*does not exist/ },
    { name: 'state=file on a directory', args: (d: string) => ({ path: d, state: 'file' }), error: /is directory, cannot continue/ },
    { name: 'link without src', args: (d: string) => ({ path: join(d, 'l'), state: 'link' }), error: /src is required/ },
    { name: 'link to a missing src', args: (d: string) => ({ path: join(d, 'l'), state: 'link', src: 'nope' }), error: /src file does not exist/ },
  ])('$name', async ({ args, error }) => {
    await expect(run(file, args(dir))).rejects.toThrow(error);
  });

  test('a file in the way of a directory', async () => {
    await writeFile(join(dir, 'f'), 'x');
    await expect(run(file, { path: join(dir, 'f'), state: 'directory' })).rejects.toThrow(/already exists as a file/);
    await expect(run(file, { path: join(dir, 'f/sub'), state: 'directory' })).rejects.toThrow(/already exists as a file/);
  });

  test('a file is not replaced by a link without force', async () => {
    await writeFile(join(dir, 't'), 'x');
    await writeFile(join(dir, 'l'), 'keep');
    await expect(run(file, { path: join(dir, 'l'), state: 'link', src: 't' })).rejects.toThrow(/refusing to convert from file/);
  });

  test('a non-empty directory is not replaced by a link even with force', async () => {
    await writeFile(join(dir, 't'), 'x');
    await mkdir(join(dir, 'd'));
    await writeFile(join(dir, 'd/inside'), 'x');
    await expect(run(file, { path: join(dir, 'd'), state: 'link', src: 't', force: true })).rejects.toThrow(/not empty/);
    expect(await exists(join(dir, 'd/inside'))).toBe(true);
  });

  test('chown to an unknown user fails with the reason', async () => {
    await writeFile(join(dir, 'f'), 'x');
    await expect(run(file, { path: join(dir, 'f'), owner: 'no-such-user-plinth' })).rejects.toThrow(/cannot set owner.*invalid user/);
  });
});

describe('file: check mode predictions reach later tasks', () => {
  test('a directory planned in check mode is seen as existing by a later task', async () => {
    const { PredictedHost } = await import('../../../engine/connection/predicted.js');
    const { localHost } = await import('../../helpers/modules.js');
    const host = new PredictedHost(localHost);
    await run(file, { path: join(dir, 'pd'), state: 'directory' }, { check: true, host });
    const again = await run(file, { path: join(dir, 'pd'), state: 'directory' }, { check: true, host });
    expect(again.status).toBe('ok');
    expect(await exists(join(dir, 'pd'))).toBe(false);
  });
});

describe('file: schema', () => {
  test.each([
    { name: 'mode as a number', args: { path: '/x', mode: 600 }, problem: /mode: must be string, got number/ },
    { name: 'mode not octal', args: { path: '/x', mode: '0999' }, problem: /mode: .*0\?\[0-7\]\{3,4\}|mode: file mode/ },
    { name: 'missing path', args: { state: 'directory' }, problem: /path: missing required field 'path'/ },
    { name: 'unknown field', args: { path: '/x', colour: 'red' }, problem: /colour: unknown field 'colour'/ },
    { name: 'bad state', args: { path: '/x', state: 'hard' }, problem: /state: must be one of/ },
    { name: 'recurse not a boolean', args: { path: '/x', recurse: 'yes' }, problem: /recurse: must be boolean/ },
  ])('rejects $name', ({ args, problem }) => {
    const text = schemaProblems(file, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });

  test('accepts a complete valid task', () => {
    expect(schemaProblems(file, { path: '/x', state: 'directory', mode: '0755', owner: 'root', group: 'root', recurse: true })).toEqual([]);
  });
});
