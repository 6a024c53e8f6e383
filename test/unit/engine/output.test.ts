// What a run prints: plain lines and the recap table when not on a TTY, unified diffs with -D,
// a listr2 task list on a TTY (through `script`, which gives the CLI a pseudo-terminal).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { plinth, repoRoot, tempTree } from '../../helpers/cli.js';

const playbook = (root: string) => `- name: demo
  hosts: localhost
  gather_facts: false
  tasks:
    - name: write a file
      copy: { dest: "${root}/f.conf", content: "a = 1\\nb = 2\\n" }
    - name: nothing to do
      command: echo hi
      changed_when: false
    - name: skipped
      command: echo no
      when: false
    - name: show
      debug: { msg: "hello" }
    - name: tolerated failure
      command: "false"
      ignore_errors: true
`;

const task = (name: string) => `TASK [${name}] ${'*'.repeat(56 - name.length)}`;

describe('plain output (not a TTY)', () => {
  it('prints plays, tasks, one line per host result and the recap table', async () => {
    const root = await tempTree();
    const pb = path.join(root, 'pb.yml');
    await import('node:fs/promises').then((fs) => fs.writeFile(pb, playbook(root)));
    const r = await plinth(['run', pb]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(
      [
        '',
        `PLAY [demo] ${'*'.repeat(56)}`,
        '',
        task('write a file'),
        `changed: [localhost] create ${root}/f.conf`,
        '',
        task('nothing to do'),
        'ok: [localhost]',
        '',
        task('skipped'),
        'skipping: [localhost]',
        '',
        task('show'),
        'ok: [localhost] => {',
        '    "msg": "hello"',
        '}',
        '',
        task('tolerated failure'),
        'failed (ignored): [localhost] => non-zero return code 1',
        '',
        `PLAY RECAP ${'*'.repeat(60)}`,
        'localhost : ok=3     changed=1   unreachable=0   failed=0   skipped=1   unknown=0   rescued=0   ignored=1',
        '',
      ].join('\n'),
    );
  });

  it('-D prints a unified diff of each change; without -D there is none', async () => {
    const root = await tempTree({ 'f.conf': 'a = 1\nb = 3\n' });
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(root, 'pb.yml'), playbook(root)));
    const withDiff = await plinth(['run', path.join(root, 'pb.yml'), '--check', '--diff']);
    expect(withDiff.stdout).toContain(
      [`changed: [localhost] update ${root}/f.conf`, `--- before: ${root}/f.conf`, `+++ after: ${root}/f.conf`, '@@ -1,2 +1,2 @@', ' a = 1', '-b = 3', '+b = 2', ''].join('\n'),
    );
    expect(withDiff.stdout).not.toContain('\x1b[');
    const without = await plinth(['run', path.join(root, 'pb.yml'), '--check']);
    expect(without.stdout).not.toContain('--- before');
  });
});

const hasScript = spawnSync('script', ['--version']).status === 0;

describe.skipIf(!hasScript)('on a TTY', () => {
  function onTty(args: string, env: Record<string, string> = {}): string {
    const cmd = `stty cols 120 rows 40; ${process.execPath} ${path.join(repoRoot, 'bin', 'plinth.js')} ${args}`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env: { ...process.env, CI: '', ...env } });
    // eslint-disable-next-line no-control-regex
    // biome-ignore lint/suspicious/noControlCharactersInRegex: removes the terminal's escape sequences (ESC [ ...)
    return r.stdout.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '').replace(/\r/g, '');
  }

  it("shows a listr2 task list with each host's status, then the recap", async () => {
    const root = await tempTree();
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(root, 'pb.yml'), playbook(root)));
    const out = onTty(`run ${root}/pb.yml`);
    expect(out).toContain('TASK [write a file]');
    expect(out).toContain(`✔ localhost: changed — create ${root}/f.conf`);
    expect(out).toContain('localhost: failed (ignored) — non-zero return code 1');
    expect(out).toMatch(/^localhost : ok=3 +changed=1 /m);
  });

  it('CI=1 gives plain lines even on a TTY', async () => {
    const root = await tempTree();
    await import('node:fs/promises').then((fs) => fs.writeFile(path.join(root, 'pb.yml'), playbook(root)));
    const out = onTty(`run ${root}/pb.yml`, { CI: '1' });
    expect(out).toContain(`changed: [localhost] create ${root}/f.conf`);
    expect(out).not.toContain('✔');
  });
});
