import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockinfile } from '../../../modules/blockinfile.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-blockinfile-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Golden cases: `after` is what Ansible's lib/ansible/modules/blockinfile.py main()
// (ansible/ansible devel, read with the code search) writes for `before` (null: no file,
// with create: true) and `args`. They were computed by a line-for-line Python transcription
// of main() and cross-checked with this module on thousands of random cases, with no difference.
const golden: { name: string; before: string | null; args: Record<string, unknown>; after: string }[] = [
  { name: 'new file', before: null, args: { block: 'a\nb' }, after: '# BEGIN ANSIBLE MANAGED BLOCK\na\nb\n# END ANSIBLE MANAGED BLOCK\n' },
  { name: 'appended after a last line without newline', before: 'x\ny', args: { block: 'a' }, after: 'x\ny\n# BEGIN ANSIBLE MANAGED BLOCK\na\n# END ANSIBLE MANAGED BLOCK\n' },
  {
    name: 'an existing block is replaced in place',
    before: 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ny\n',
    args: { block: 'new\nlines\n' },
    after: 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nnew\nlines\n# END ANSIBLE MANAGED BLOCK\ny\n',
  },
  { name: 'state absent removes the block', before: 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\ny\n', args: { state: 'absent' }, after: 'x\ny\n' },
  { name: 'an empty block removes the block', before: 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nold\n# END ANSIBLE MANAGED BLOCK\n', args: { block: '' }, after: 'x\n' },
  { name: 'insertbefore BOF', before: 'x\n', args: { block: 'a', insertbefore: 'BOF' }, after: '# BEGIN ANSIBLE MANAGED BLOCK\na\n# END ANSIBLE MANAGED BLOCK\nx\n' },
  {
    name: 'insertafter a regexp',
    before: '[main]\nk=1\n[other]\n',
    args: { block: 'b=2', insertafter: '^\\[main\\]' },
    after: '[main]\n# BEGIN ANSIBLE MANAGED BLOCK\nb=2\n# END ANSIBLE MANAGED BLOCK\nk=1\n[other]\n',
  },
  {
    name: 'insertbefore a regexp',
    before: '[main]\nk=1\n[other]\n',
    args: { block: 'b=2', insertbefore: '^\\[other\\]' },
    after: '[main]\nk=1\n# BEGIN ANSIBLE MANAGED BLOCK\nb=2\n# END ANSIBLE MANAGED BLOCK\n[other]\n',
  },
  {
    name: 'custom markers',
    before: '<p>\n',
    args: { block: '<b>hi</b>', marker: '<!-- {mark} -->', marker_begin: 'start', marker_end: 'stop' },
    after: '<p>\n<!-- start -->\n<b>hi</b>\n<!-- stop -->\n',
  },
  {
    name: 'prepend and append blank lines',
    before: 'x\ny\n',
    args: { block: 'a', insertafter: '^x', prepend_newline: true, append_newline: true },
    after: 'x\n\n# BEGIN ANSIBLE MANAGED BLOCK\na\n# END ANSIBLE MANAGED BLOCK\n\ny\n',
  },
  {
    name: 'a multiline insertafter searches the whole file',
    before: '[main]\nk=1\n',
    args: { block: 'b', insertafter: '(?m)^\\[main\\]$' },
    after: '[main]\n# BEGIN ANSIBLE MANAGED BLOCK\nb\n# END ANSIBLE MANAGED BLOCK\nk=1\n',
  },
  {
    name: 'markers in reverse order',
    before: 'x\n# END ANSIBLE MANAGED BLOCK\nmid\n# BEGIN ANSIBLE MANAGED BLOCK\ny\n',
    args: { block: 'n' },
    after: 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nn\n# END ANSIBLE MANAGED BLOCK\ny\n',
  },
  { name: 'a CRLF file keeps its line ends', before: 'a\r\nb\r\n', args: { block: 'x' }, after: 'a\r\nb\r\n# BEGIN ANSIBLE MANAGED BLOCK\nx\n# END ANSIBLE MANAGED BLOCK\n' },
];

describe('blockinfile: byte-for-byte as Ansible', () => {
  test.each(golden)('$name', async ({ before, args, after }) => {
    const path = join(dir, 'f');
    if (before !== null) await writeFile(path, before);
    const { check, first, second } = await checkApplyAgain(blockinfile, { path, create: true, ...args });
    expect(check.status).toBe('changed');
    expect(check.diffs[0]).toMatchObject({ before: before ?? '', after });
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    expect(await readFile(path, 'utf8')).toBe(after);
  });

  test.each(golden)('check mode leaves the disk alone: $name', async ({ before, args }) => {
    const path = join(dir, 'f');
    if (before !== null) await writeFile(path, before);
    await run(blockinfile, { path, create: true, ...args }, { check: true });
    expect(await readFile(path, 'utf8').catch(() => null)).toBe(before);
  });

  test('an unchanged block is ok', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'x\n# BEGIN ANSIBLE MANAGED BLOCK\nsame\n# END ANSIBLE MANAGED BLOCK\n');
    const r = await run(blockinfile, { path, block: 'same' });
    expect(r.status).toBe('ok');
  });

  test('the result says what happened, in Ansible’s words', async () => {
    const path = join(dir, 'f');
    expect((await run(blockinfile, { path, block: 'a', create: true })).result.msg).toBe('File created');
    expect((await run(blockinfile, { path, block: 'b' })).result.msg).toBe('Block inserted');
    expect((await run(blockinfile, { path, state: 'absent' })).result.msg).toBe('Block removed');
  });
});

describe('blockinfile: files and attributes', () => {
  test('a missing file without create fails clearly', async () => {
    await expect(run(blockinfile, { path: join(dir, 'missing'), block: 'x' })).rejects.toThrow(/does not exist \(set create: true/);
  });

  test('state absent on a missing file is ok', async () => {
    expect((await run(blockinfile, { path: join(dir, 'missing'), state: 'absent' })).status).toBe('ok');
  });

  test('create with a mode and missing parents', async () => {
    const path = join(dir, 'a/b/hosts');
    const { first, second } = await checkApplyAgain(blockinfile, { path, block: '10.0.0.1 db', create: true, mode: '0640' });
    expect([first.status, second.status]).toEqual(['changed', 'ok']);
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });

  test('insertafter with insertbefore is refused', async () => {
    const path = join(dir, 'f');
    await writeFile(path, '');
    await expect(run(blockinfile, { path, block: 'x', insertafter: 'a', insertbefore: 'b' })).rejects.toThrow(/mutually exclusive/);
  });
});

describe('blockinfile: schema', () => {
  test.each([
    { name: 'mode as a number', args: { path: '/x', mode: 644 }, problem: /mode: must be string, got number/ },
    { name: 'missing path', args: { block: 'a' }, problem: /missing required field 'path'/ },
    { name: 'unknown field', args: { path: '/x', content: 'a' }, problem: /unknown field 'content'/ },
    { name: 'block not a string', args: { path: '/x', block: ['a'] }, problem: /block: must be string, got list/ },
  ])('rejects $name', ({ args, problem }) => {
    const text = schemaProblems(blockinfile, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });
});
