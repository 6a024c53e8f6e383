import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from '../../../modules/command.js';
import { splitWords } from '../../../modules/support/words.js';
import { run, schemaProblems } from '../../helpers/modules.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-command-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('command: word splitting like shlex.split', () => {
  test.each([
    { line: 'ls -l /tmp', words: ['ls', '-l', '/tmp'] },
    { line: "echo 'a b'  c", words: ['echo', 'a b', 'c'] },
    { line: 'echo "a \\"b\\" $HOME"', words: ['echo', 'a "b" $HOME'] },
    { line: 'echo a\\ b', words: ['echo', 'a b'] },
    { line: "echo '' x", words: ['echo', '', 'x'] },
    { line: 'printf "%s\\n" x', words: ['printf', '%s\\n', 'x'] },
    { line: 'a\'b\'"c"d', words: ['abcd'] },
    { line: 'echo $(id) | cat > f', words: ['echo', '$(id)', '|', 'cat', '>', 'f'] },
  ])('$line', ({ line, words }) => {
    expect(splitWords(line)).toEqual(words);
  });

  test.each(["echo 'open", 'echo "open', 'echo \\'])('refuses %s', (line) => {
    expect(() => splitWords(line)).toThrow(/closing quotation|escaped character/);
  });
});

describe('command: runs without a shell', () => {
  test('check mode predicts a change and runs nothing', async () => {
    const marker = join(dir, 'ran');
    const r = await run(command, { argv: ['touch', marker] }, { check: true });
    expect(r.status).toBe('changed');
    expect(r.predicted).toBe(true);
    await expect(readFile(marker)).rejects.toThrow(/ENOENT/);
  });

  test('stdout, stderr, rc and their lines', async () => {
    const r = await run(command, { cmd: `sh -c 'echo one; echo two; echo err >&2'` });
    expect(r.status).toBe('changed');
    expect(r.result).toMatchObject({
      cmd: `sh -c 'echo one; echo two; echo err >&2'`,
      rc: 0,
      stdout: 'one\ntwo',
      stderr: 'err',
      stdout_lines: ['one', 'two'],
      stderr_lines: ['err'],
    });
  });

  test('shell syntax is passed as words, not interpreted', async () => {
    const r = await run(command, { cmd: 'echo $HOME | cat' });
    expect(r.result.stdout).toBe('$HOME | cat');
  });

  test('a non-zero exit fails with rc and the end of stderr', async () => {
    const r = await run(command, { argv: ['sh', '-c', 'echo first >&2; echo last words >&2; exit 3'] });
    expect(r.status).toBe('failed');
    expect(r.result.rc).toBe(3);
    expect(r.message).toMatch(/non-zero return code 3: first\nlast words/);
  });

  test('a missing program fails with rc 127', async () => {
    const r = await run(command, { cmd: 'no-such-program-plinth --x' });
    expect(r.status).toBe('failed');
    expect(r.result.rc).toBe(127);
  });

  test('chdir and stdin', async () => {
    const r = await run(command, { argv: ['sh', '-c', 'pwd; cat'], chdir: dir, stdin: 'hello' });
    expect(r.result.stdout_lines).toEqual([dir, 'hello']);
  });

  test('stdin gets a newline unless stdin_add_newline is false', async () => {
    const added = await run(command, { argv: ['od', '-c'], stdin: 'ab' });
    const exact = await run(command, { argv: ['od', '-c'], stdin: 'ab', stdin_add_newline: false });
    expect(added.result.stdout).toContain('\\n');
    expect(exact.result.stdout).not.toContain('\\n');
  });

  test('a missing chdir fails before running', async () => {
    await expect(run(command, { cmd: 'true', chdir: join(dir, 'nope') })).rejects.toThrow(/Unable to change directory/);
  });

  test('timeout kills the command and fails the task', async () => {
    const r = await run(command, { argv: ['sleep', '30'], timeout: 0.2 });
    expect(r.status).toBe('failed');
    expect(r.message).toMatch(/timed out after 0.2 s/);
  });
});

describe('command: creates and removes', () => {
  test.each([
    { name: 'creates exists → skipped', setup: true, args: { creates: 'marker' }, runs: false, msg: /since 'marker' exists/ },
    { name: 'creates missing → runs', setup: false, args: { creates: 'marker' }, runs: true },
    { name: 'creates glob matches → skipped', setup: true, args: { creates: 'mark*' }, runs: false, msg: /since 'mark\*' exists/ },
    { name: 'creates glob without match → runs', setup: false, args: { creates: 'mark*' }, runs: true },
    { name: 'removes missing → skipped', setup: false, args: { removes: 'marker' }, runs: false, msg: /since 'marker' does not exist/ },
    { name: 'removes exists → runs', setup: true, args: { removes: 'marker' }, runs: true },
  ])('$name', async ({ setup, args, runs, msg }) => {
    if (setup) await writeFile(join(dir, 'marker'), '');
    const out = join(dir, 'out');
    // Relative creates/removes are relative to chdir, as in Ansible.
    const r = await run(command, { argv: ['touch', out], chdir: dir, ...args });
    expect(r.status).toBe(runs ? 'changed' : 'ok');
    expect(
      await readFile(out).then(
        () => true,
        () => false,
      ),
    ).toBe(runs);
    if (msg) expect(r.result.msg).toMatch(msg);
    if (!runs) expect(r.result.rc).toBe(0);
  });

  test('creates makes a command idempotent', async () => {
    const marker = join(dir, 'done');
    const args = { argv: ['touch', marker], creates: marker };
    expect((await run(command, args)).status).toBe('changed');
    expect((await run(command, args)).status).toBe('ok');
  });
});

describe('command: arguments', () => {
  test('cmd and argv together are refused', async () => {
    await expect(run(command, { cmd: 'true', argv: ['true'] })).rejects.toThrow(': write either cmd or argv (one of them, not both)');
  });

  test.each([
    { name: 'neither cmd nor argv', args: { chdir: '/tmp' }, problem: /write either cmd or argv/ },
    { name: 'argv not a list', args: { argv: 'ls' }, problem: /argv: must be array/ },
    { name: 'timeout not a number', args: { cmd: 'ls', timeout: '5' }, problem: /timeout: must be number/ },
    { name: 'unknown field', args: { cmd: 'ls', warn: false }, problem: /unknown field 'warn'/ },
  ])('schema rejects $name', ({ args, problem }) => {
    const text = schemaProblems(command, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });

  test('free-form maps to cmd', () => {
    expect(command.freeForm).toBe('cmd');
    expect(schemaProblems(command, { cmd: 'ls -l' })).toEqual([]);
  });
});
