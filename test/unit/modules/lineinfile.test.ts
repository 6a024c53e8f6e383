import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lineinfile } from '../../../modules/lineinfile.js';
import { template } from '../../../modules/template.js';
import { PredictedHost } from '../../../engine/connection/predicted.js';
import { checkApplyAgain, localHost, run, schemaProblems } from '../../helpers/modules.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-lineinfile-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

// Golden cases: `after` is what Ansible's lib/ansible/modules/lineinfile.py (present() and
// absent(), ansible/ansible devel, read with the code search) writes for `before` and `args`.
// They were computed by a line-for-line Python transcription of those functions, and
// cross-checked with this module on 12,000 random lineinfile and blockinfile cases; the one
// difference is the test after the table.
const golden: { name: string; before: string; args: Record<string, unknown>; after: string }[] = [
  { name: 'append at EOF', before: 'a\nb\n', args: { line: 'c' }, after: 'a\nb\nc\n' },
  { name: 'append after a last line without newline', before: 'a\nb', args: { line: 'c' }, after: 'a\nb\nc\n' },
  { name: 'regexp replaces the matching line', before: '# c\nport = 5432\nx\n', args: { regexp: '^port\\s*=', line: 'port = 5433' }, after: '# c\nport = 5433\nx\n' },
  { name: 'regexp replaces the last of several matches', before: 'p=1\np=2\n', args: { regexp: '^p=', line: 'p=3' }, after: 'p=1\np=3\n' },
  { name: 'firstmatch replaces the first', before: 'p=1\np=2\n', args: { regexp: '^p=', line: 'p=3', firstmatch: true }, after: 'p=3\np=2\n' },
  { name: 'insertafter a regexp', before: '[main]\na=1\n[other]\n', args: { regexp: '^k=', line: 'k=v', insertafter: '^\\[main\\]' }, after: '[main]\nk=v\na=1\n[other]\n' },
  { name: 'insertbefore a regexp', before: '[main]\na=1\n[other]\n', args: { line: 'k=v', insertbefore: '^\\[other\\]' }, after: '[main]\na=1\nk=v\n[other]\n' },
  { name: 'insertbefore BOF', before: 'a\n', args: { line: 'first', insertbefore: 'BOF' }, after: 'first\na\n' },
  { name: 'insertafter without a match goes to EOF', before: 'a\n', args: { line: 'z', insertafter: '^nothing' }, after: 'a\nz\n' },
  { name: 'backrefs with a named group and Python $', before: 'host=db1\nport=1\n', args: { regexp: '^(?P<key>host=).*$', line: '\\g<key>db2', backrefs: true }, after: 'host=db2\nport=1\n' },
  { name: 'backrefs without a match changes nothing', before: 'port=1\n', args: { regexp: '^(host=).*$', line: '\\1db2', backrefs: true }, after: 'port=1\n' },
  { name: 'Python $ matches before the final newline', before: 'ax\nb\n', args: { regexp: 'x$', line: 'y' }, after: 'y\nb\n' },
  { name: 'search_string replaces the line containing it', before: 'listen 80;\nroot /srv;\n', args: { search_string: 'listen', line: 'listen 8080;' }, after: 'listen 8080;\nroot /srv;\n' },
  { name: 'an existing CRLF line is rewritten with LF (as Ansible does)', before: 'a\r\nb\r\n', args: { line: 'b' }, after: 'a\r\nb\n' },
  { name: 'absent removes every matching line', before: 'a=1\nb=2\na=3\n', args: { state: 'absent', regexp: '^a=' }, after: 'b=2\n' },
  { name: 'absent by exact line', before: 'keep\ndrop\nkeep\n', args: { state: 'absent', line: 'drop' }, after: 'keep\nkeep\n' },
];

describe('lineinfile: byte-for-byte as Ansible', () => {
  test.each(golden)('$name', async ({ before, args, after }) => {
    const path = join(dir, 'f');
    await writeFile(path, before);
    const { check, first, second } = await checkApplyAgain(lineinfile, { path, ...args });
    const changes = before !== after;
    expect(check.status).toBe(changes ? 'changed' : 'ok');
    expect(first.status).toBe(changes ? 'changed' : 'ok');
    expect(second.status).toBe('ok');
    expect(await readFile(path, 'utf8')).toBe(after);
  });

  test('check mode predicts the edit and leaves the file alone', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'port = 5432\n');
    const r = await run(lineinfile, { path, regexp: '^port', line: 'port = 5433' }, { check: true });
    expect(r.status).toBe('changed');
    expect(r.diffs[0]).toEqual({ target: path, before: 'port = 5432\n', after: 'port = 5433\n' });
    expect(await readFile(path, 'utf8')).toBe('port = 5432\n');
  });

  test('unlike Ansible, a line inserted after an unterminated last line does not glue onto it', async () => {
    // Ansible writes "x\n[main]k=1\n" here: its insertafter branch appends without adding the missing newline.
    const path = join(dir, 'f');
    await writeFile(path, 'x\n[main]');
    await run(lineinfile, { path, line: 'k=1', insertafter: '^\\[main\\]' });
    expect(await readFile(path, 'utf8')).toBe('x\n[main]\nk=1\n');
  });

  test('absent reports how many lines it removed', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'a=1\nb\na=2\n');
    const r = await run(lineinfile, { path, regexp: '^a=', state: 'absent' });
    expect(r.result).toMatchObject({ found: 2, msg: '2 line(s) removed' });
  });
});

describe('lineinfile: files and attributes', () => {
  test('a missing file without create fails clearly', async () => {
    await expect(run(lineinfile, { path: join(dir, 'missing'), line: 'x' })).rejects.toThrow(/missing does not exist \(set create: true/);
  });

  test('create makes the file and its parent directories', async () => {
    const path = join(dir, 'sub/dir/f');
    const { check, first, second } = await checkApplyAgain(lineinfile, { path, line: 'only', create: true, mode: '0600' });
    expect(check.status).toBe('changed');
    expect([first.status, second.status]).toEqual(['changed', 'ok']);
    expect(await readFile(path, 'utf8')).toBe('only\n');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
  });

  test('state absent on a missing file is ok', async () => {
    expect((await run(lineinfile, { path: join(dir, 'missing'), line: 'x', state: 'absent' })).status).toBe('ok');
  });

  test('a mode change alone is a change, then ok', async () => {
    const path = join(dir, 'f');
    await writeFile(path, 'x\n', { mode: 0o644 });
    const { first, second } = await checkApplyAgain(lineinfile, { path, line: 'x', mode: '0640' });
    expect(first.summary).toMatch(/mode 0644 → 0640/);
    expect(second.status).toBe('ok');
    expect((await stat(path)).mode & 0o777).toBe(0o640);
  });

  test('a directory is refused', async () => {
    await expect(run(lineinfile, { path: dir, line: 'x' })).rejects.toThrow(/is a directory/);
  });

  test('a file that is not UTF-8 is refused, not corrupted', async () => {
    const path = join(dir, 'latin1');
    await writeFile(path, Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]));
    await expect(run(lineinfile, { path, line: 'x' })).rejects.toThrow(/not UTF-8/);
    expect((await readFile(path)).equals(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a]))).toBe(true);
  });

  test.each([
    { name: 'backrefs without regexp', args: { line: 'x', backrefs: true }, error: /regexp is required with backrefs/ },
    { name: 'present without line', args: { regexp: 'x' }, error: /line is required/ },
    { name: 'absent with nothing to match', args: { state: 'absent' }, error: /one of line, search_string or regexp/ },
    { name: 'insertafter with insertbefore', args: { line: 'x', insertafter: 'a', insertbefore: 'b' }, error: /mutually exclusive/ },
    { name: 'an invalid regexp', args: { line: 'x', regexp: '(' }, error: /regexp is not a valid regular expression/ },
    { name: 'a bad group in backrefs', args: { line: '\\3', regexp: '^(a)', backrefs: true }, error: /invalid group reference 3/ },
  ])('refuses $name', async ({ args, error }) => {
    const path = join(dir, 'f');
    await writeFile(path, 'a\n');
    await expect(run(lineinfile, { path, ...args })).rejects.toThrow(error);
  });
});

describe('lineinfile: check mode after a template', () => {
  test('plans against the content the template would write', async () => {
    const base = join(dir, 'role');
    await mkdir(join(base, 'templates'), { recursive: true });
    await writeFile(join(base, 'templates/app.conf.ejs'), 'name = <%= name %>\nport = 1\n');
    const dest = join(dir, 'app.conf');
    const host = new PredictedHost(localHost);

    const t = await run(template, { src: 'app.conf.ejs', dest }, { check: true, host, vars: { name: 'api' }, baseDirs: [base] });
    expect(t.status).toBe('changed');
    // The file does not exist: only the prediction can make this task plan a replacement.
    const l = await run(lineinfile, { path: dest, regexp: '^port', line: 'port = 2' }, { check: true, host });
    expect(l.status).toBe('changed');
    expect(l.diffs[0]).toEqual({ target: dest, before: 'name = api\nport = 1\n', after: 'name = api\nport = 2\n' });
    await expect(stat(dest)).rejects.toThrow(/ENOENT/);
  });
});

describe('lineinfile: schema', () => {
  test.each([
    { name: 'mode as a number', args: { path: '/x', line: 'a', mode: 600 }, problem: /mode: must be string, got number/ },
    { name: 'missing path', args: { line: 'a' }, problem: /missing required field 'path'/ },
    { name: 'unknown field', args: { path: '/x', line: 'a', validate: 'true %s' }, problem: /unknown field 'validate'/ },
    { name: 'bad state', args: { path: '/x', state: 'gone' }, problem: /state: must be one of: present, absent/ },
    { name: 'create not a boolean', args: { path: '/x', line: 'a', create: 'yes' }, problem: /create: must be boolean/ },
  ])('rejects $name', ({ args, problem }) => {
    const text = schemaProblems(lineinfile, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });
});
