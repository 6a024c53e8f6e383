// Bad input: one clear message with the exact file:line[:col], the documented exit code, never a stack trace.
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fixtures, plinth, repoRoot, tempTree } from '../../helpers/cli.js';

const dir = path.join(fixtures, 'bad');
const STACK = /\n\s+at |Error: .*\n.*node:internal|\.js:\d+:\d+\)/;

async function runBad(file: string, ...flags: string[]) {
  const root = await tempTree();
  const r = await plinth(['run', path.join(dir, file), '-e', `root=${root}`, ...flags]);
  expect(r.stdout + r.stderr).not.toMatch(STACK);
  return { ...r, root };
}

describe('load-time errors: exit 4, one line on stderr, nothing on stdout', () => {
  const cases: [string, string][] = [
    ['malformed.yml', 'malformed.yml:5:1: invalid YAML: Sequence item without - indicator'],
    ['duplicate-key.yml', 'duplicate-key.yml:6:7: invalid YAML: Map keys must be unique'],
    ['unknown-module.yml', "unknown-module.yml:5:7: unknown module 'comand' (did you mean 'command'?)"],
    ['unknown-task-keyword.yml', "unknown-task-keyword.yml:6:7: unknown task keyword or module 'registr' (did you mean 'register'?)"],
    ['wrong-type.yml', 'wrong-type.yml:8:9: copy: force: must be boolean, got number'],
    ['missing-required.yml', "missing-required.yml:6:9: copy: dest: missing required field 'dest'"],
    ['unknown-play-keyword.yml', "unknown-play-keyword.yml:3:3: play: taskz: unknown field 'taskz'"],
    ['unquoted-mode.yml', "unquoted-mode.yml:8:9: file: mode: 600 without a leading zero is the decimal number 600, not a file mode: write 0600 or '0600'"],
  ];
  for (const [file, message] of cases) {
    it(file, async () => {
      const r = await runBad(file);
      expect(r.stderr).toBe(`ERROR! ${path.relative(repoRoot, dir)}/${message}\n`);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(4);
    });
  }

  it('an unquoted mode is never applied: nothing is created', async () => {
    const r = await runBad('unquoted-mode.yml');
    expect(r.code).toBe(4);
    expect(await fs.readdir(r.root)).toEqual([]);
  });

  it('an inventory with an unknown key', async () => {
    const r = await plinth(['run', '-i', path.join(dir, 'bad-inventory.yml'), path.join(fixtures, 'cli', 'tags.yml')]);
    expect(r.stderr).toBe(`ERROR! ${path.relative(repoRoot, dir)}/bad-inventory.yml:5:3: inventory: all.chlidren: unknown field 'chlidren'\n`);
    expect(r.code).toBe(4);
  });

  it('a vars file that is not a mapping (-e @file)', async () => {
    const root = await tempTree({ 'vars.yml': '- a\n- b\n' });
    const r = await plinth(['run', path.join(fixtures, 'cli', 'tags.yml'), '-e', `@${root}/vars.yml`]);
    expect(r.stderr).toBe(`ERROR! ${root}/vars.yml:1:1: a vars file must be a mapping of variable names to values\n`);
    expect(r.code).toBe(4);
  });

  it('a vars_files entry that does not exist', async () => {
    const root = await tempTree({ 'pb.yml': '- hosts: localhost\n  vars_files:\n    - vars/common.yml\n    - vars/missing.yml\n  tasks: []\n', 'vars/common.yml': 'a: 1\n' });
    const r = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(r.stderr).toBe(`ERROR! pb.yml:4:7: vars_files: file not found: ${root}/vars/missing.yml\n`);
    expect(r.code).toBe(4);
  });

  it('an unknown keyword on include_tasks', async () => {
    const root = await tempTree({ 'pb.yml': '- hosts: localhost\n  tasks:\n    - include_tasks: t.yml\n      whn: true\n', 't.yml': '- command: echo\n' });
    const r = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(r.stderr).toBe(`ERROR! pb.yml:4:7: unknown keyword 'whn' on include_tasks (did you mean 'when'?)\n`);
    expect(r.code).toBe(4);
  });

  it('a playbook that is not a list of plays', async () => {
    const r = await plinth(['run', path.join(dir, 'bad-inventory.yml')]);
    expect(r.stderr).toBe(`ERROR! ${path.relative(repoRoot, dir)}/bad-inventory.yml:1:1: a playbook must be a list of plays\n`);
    expect(r.code).toBe(4);
  });
});

describe('run-time errors: the host fails (exit 2) with file:line', () => {
  it('an undefined variable in a task names the variable and the line:col of the value that uses it, and stops that host', async () => {
    const r = await runBad('undefined-variable.yml');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`fatal: [localhost] => ${path.relative(repoRoot, dir)}/undefined-variable.yml:7:24: undefined variable 'nope' in expression: nope\n`);
    expect(await fs.readdir(r.root)).toEqual(['before']);
  });

  it('an undefined variable in when', async () => {
    const r = await runBad('undefined-when.yml');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`fatal: [localhost] => ${path.relative(repoRoot, dir)}/undefined-when.yml:6:13: undefined variable 'nope_either' in expression: nope_either > 1\n`);
  });

  it('an EJS syntax error names the template file and line', async () => {
    const r = await runBad('template-syntax.yml');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      `fatal: [localhost] => ${path.relative(repoRoot, dir)}/template-syntax.yml:5:7: template templates/unclosed.ejs: ${path.relative(repoRoot, dir)}/templates/unclosed.ejs:2: syntax error: a '{' opened on this line is never closed\n`,
    );
    expect(r.stdout).not.toContain('EJS-Lint');
    expect(await fs.readdir(r.root)).toEqual([]);
  });

  it('an undefined variable in a template names the variable, the template file and line', async () => {
    const r = await runBad('template-undefined.yml');
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(
      `fatal: [localhost] => ${path.relative(repoRoot, dir)}/template-undefined.yml:4:7: template templates/undefined.ejs: ${path.relative(repoRoot, dir)}/templates/undefined.ejs:3: undefined variable 'missing_var'\n`,
    );
  });

  it('the same errors in --json carry the message and the task file:line', async () => {
    const r = await runBad('template-undefined.yml', '--json');
    const [result] = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // --json names files relative to the repository root.
    const rel = path.relative(repoRoot, dir);
    expect(result).toMatchObject({ status: 'failed', file: `${rel}/template-undefined.yml:4` });
    expect(result.message).toBe(`${rel}/template-undefined.yml:4:7: template templates/undefined.ejs: ${rel}/templates/undefined.ejs:3: undefined variable 'missing_var'`);
  });

  it('a wrong type that only shows after rendering is reported at run time', async () => {
    const root = await tempTree({ 'pb.yml': '- hosts: localhost\n  gather_facts: false\n  vars: { n: 3 }\n  tasks:\n    - copy: { dest: "/tmp/x", content: hi, force: "{{ n }}" }\n' });
    const r = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain(`fatal: [localhost] => pb.yml:5:7: copy: force: must be boolean, got number (after rendering expressions)\n`);
  });
});
