import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { shell } from '../../../modules/shell.js';
import { run, schemaProblems } from '../../helpers/modules.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'plinth-shell-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('shell', () => {
  test('pipes, variables and redirections work', async () => {
    const r = await run(shell, { cmd: `X=abc; echo $X | tr a-c A-C > out; cat out`, chdir: dir });
    expect(r.status).toBe('changed');
    expect(r.result).toMatchObject({ cmd: 'X=abc; echo $X | tr a-c A-C > out; cat out', rc: 0, stdout: 'ABC' });
    expect(await readFile(join(dir, 'out'), 'utf8')).toBe('ABC\n');
  });

  test('check mode runs nothing', async () => {
    const r = await run(shell, { cmd: `touch ${join(dir, 'x')}` }, { check: true });
    expect(r.status).toBe('changed');
    await expect(readFile(join(dir, 'x'))).rejects.toThrow(/ENOENT/);
  });

  test('a failing script reports rc and stderr', async () => {
    const r = await run(shell, { cmd: 'echo broken >&2; exit 7' });
    expect(r.status).toBe('failed');
    expect(r.result).toMatchObject({ rc: 7, stderr: 'broken', stderr_lines: ['broken'] });
    expect(r.message).toMatch(/non-zero return code 7: broken/);
  });

  test('executable chooses the shell', async () => {
    const r = await run(shell, { cmd: 'echo ${BASH_VERSION:+bash}', executable: '/bin/bash' });
    expect(r.result.stdout).toBe('bash');
  });

  test('stdin reaches the script', async () => {
    const r = await run(shell, { cmd: 'read line; echo "got $line"', stdin: 'hi' });
    expect(r.result.stdout).toBe('got hi');
  });

  test.each([
    { name: 'creates exists', file: true, args: { creates: 'f' }, status: 'ok' },
    { name: 'removes missing', file: false, args: { removes: 'f' }, status: 'ok' },
    { name: 'removes exists', file: true, args: { removes: 'f' }, status: 'changed' },
  ])('$name → $status', async ({ file, args, status }) => {
    if (file) await writeFile(join(dir, 'f'), '');
    const r = await run(shell, { cmd: 'rm -f f', chdir: dir, ...args });
    expect(r.status).toBe(status);
  });

  test.each([
    { name: 'missing cmd', args: { chdir: '/' }, problem: /missing required field 'cmd'/ },
    { name: 'unknown field', args: { cmd: 'ls', argv: ['ls'] }, problem: /unknown field 'argv'/ },
    { name: 'cmd not a string', args: { cmd: ['ls'] }, problem: /cmd: must be string/ },
  ])('schema rejects $name', ({ args, problem }) => {
    const text = schemaProblems(shell, args)
      .map((p) => `${p.path.join('.')}: ${p.message}`)
      .join('\n');
    expect(text).toMatch(problem);
  });
});
