// Check mode changes nothing on disk, and predicts exactly the changes the real run then makes.
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { fixtures, hashTree, localInventory, plinth, plinthJson, recapOf, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

const dir = path.join(fixtures, 'check');

const changedTasks = (events: Record<string, any>[]) => events.filter((e) => e.type === 'result' && e.status === 'changed').map((e) => `${e.host}: ${e.task}`);

async function converge(root: string, ...flags: string[]) {
  const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(dir, 'site.yml'), '-e', `root=${root}`, ...flags]);
  expect(r.stderr).not.toMatch(/fatal|ERROR/);
  expect(r.code).toBe(0);
  return r;
}

describe('check mode', () => {
  it('changes nothing, predicts what the real run changes, and a second run changes nothing', async () => {
    const root = await tempTree({ 'existing.conf': 'keep = me\n', 'managed.conf': 'shared\n', 'h1/obsolete': 'old\n', 'inv.yml': localInventory(['h1', 'h2']) });
    const before = await hashTree(root);

    const check = await converge(root, '--check');
    expect(await hashTree(root)).toBe(before);
    expect(check.events.filter((e) => e.status === 'changed').every((e) => e.predicted === true)).toBe(true);
    const predicted = changedTasks(check.events);

    const real = await converge(root);
    expect(changedTasks(real.events).sort()).toEqual([...predicted].sort());
    // Spelled out, so that an empty prediction cannot pass.
    expect(predicted.filter((t) => t.startsWith('h1: '))).toEqual([
      'h1: app dir',
      'h1: config from template',
      'h1: seed file, only when missing',
      'h1: line in the seeded file',
      'h1: copy what was read',
      'h1: block in a shared file',
      'h1: a link',
      'h1: a command with creates',
      'h1: absent',
      'h1: reload',
    ]);
    expect(await fs.readFile(path.join(root, 'h2', 'app', 'app.conf'), 'utf8')).toBe('listen_port = 5432\nname = h2\n');
    expect(await fs.readFile(path.join(root, 'h1', 'app', 'extra.conf'), 'utf8')).toBe('# extra\nmax_connections = 100\n');
    expect(await fs.readFile(path.join(root, 'h1', 'copied.conf'), 'utf8')).toBe('keep = me\n');
    expect((await fs.stat(path.join(root, 'h1', 'app', 'app.conf'))).mode & 0o777).toBe(0o640);

    const second = await converge(root);
    expect(changedTasks(second.events)).toEqual([]);
    expect(recapOf(second.events).h1.changed).toBe(0);

    const afterSecond = await hashTree(root);
    const checkAgain = await converge(root, '-C');
    expect(changedTasks(checkAgain.events)).toEqual([]);
    expect(await hashTree(root)).toBe(afterSecond);
  });

  it('predicts one changed variable exactly, with a unified diff, and the real run agrees', async () => {
    const root = await tempTree({ 'existing.conf': 'keep = me\n', 'managed.conf': 'shared\n', 'inv.yml': localInventory(['h1']) });
    await converge(root);
    const before = await hashTree(root);
    const check = await converge(root, '-C', '-D', '-e', 'port=6000');
    expect(await hashTree(root)).toBe(before);
    expect(changedTasks(check.events)).toEqual(['h1: config from template', 'h1: reload']);
    const template = check.events.find((e) => e.task === 'config from template')!;
    expect(template.diff).toEqual([{ target: path.join(root, 'h1', 'app', 'app.conf'), before: 'listen_port = 5432\nname = h1\n', after: 'listen_port = 6000\nname = h1\n' }]);
    const plain = await plinth(['run', '-i', path.join(root, 'inv.yml'), path.join(dir, 'site.yml'), '-e', `root=${root}`, '-C', '-D', '-e', 'port=6000']);
    expect(plain.stdout).toContain(
      [`--- before: ${root}/h1/app/app.conf`, `+++ after: ${root}/h1/app/app.conf`, '@@ -1,2 +1,2 @@', '-listen_port = 5432', '+listen_port = 6000', ' name = h1'].join('\n'),
    );
    expect(plain.stdout).toContain(' (check mode)');
    const real = await converge(root, '-e', 'port=6000');
    expect(changedTasks(real.events)).toEqual(['h1: config from template', 'h1: reload']);
  });

  it('a lineinfile on a file that an earlier template would write predicts its change; a changed_when: false command runs', async () => {
    const root = await tempTree();
    const before = await hashTree(root);
    const r = await engineJson([path.join(dir, 'template-then-lineinfile.yml'), '-e', `root=${root}`, '--check', '--diff']);
    expect(r.code).toBe(0);
    expect(await hashTree(root)).toBe(before);
    expect(r.events.filter((e) => e.type === 'result').map((e) => `${e.task}=${e.status}`)).toEqual([
      'a new dir=changed',
      'write from template=changed',
      'edit what the template wrote=changed',
      'read-only command in check mode=ok',
      'use its result=changed',
    ]);
    const edit = r.events.find((e) => e.task === 'edit what the template wrote')!;
    expect(edit.diff[0]).toMatchObject({ before: 'listen_port = 5432\nname = localhost\n', after: 'listen_port = 6000\nname = localhost\n' });
    // The registered result of the read-only command exists in check mode.
    const use = r.events.find((e) => e.task === 'use its result')!;
    expect(use.diff[0]).toMatchObject({ target: path.join(root, 'echoed'), before: '', after: '5432' });
  });

  it('a command that changes things does not run in check mode', async () => {
    const root = await tempTree({ 'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: touch {{ root }}/made\n' });
    const r = await engineJson([path.join(root, 'pb.yml'), '-e', `root=${root}`, '-C']);
    expect(r.code).toBe(0);
    expect(r.events[0]).toMatchObject({ status: 'changed', predicted: true });
    expect(await fs.readdir(root)).toEqual(['pb.yml']);
  });

  it('ansible_check_mode is true in check mode', async () => {
    const root = await tempTree({
      'pb.yml':
        '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - command: echo check\n      when: ansible_check_mode\n      changed_when: false\n      register: r\n    - assert: { that: ["r.stdout == \'check\'"] }\n',
    });
    const r = await engineJson([path.join(root, 'pb.yml'), '-C']);
    expect(r.events.map((e) => e.status)).toEqual(['ok', 'ok', undefined]);
    const real = await engineJson([path.join(root, 'pb.yml')]);
    expect(real.events.map((e) => e.status)).toEqual(['skipped', 'failed', undefined]);
  });

  it('a read-only handler (a readiness wait) after a change check mode cannot model is unknown, not run; check_mode: false still runs', async () => {
    const playbook = [
      '- hosts: localhost',
      '  gather_facts: false',
      '  tasks:',
      '    - command: { cmd: "touch {{ root }}/app.conf", creates: "{{ root }}/app.conf" }',
      '      notify: [app is ready, app reports its state]',
      '  handlers:',
      // Stands for a readiness loop: it would wait for a service check mode did not restart.
      '    - name: app is ready',
      '      shell: touch {{ root }}/waited; sleep {{ wait }}',
      '      changed_when: false',
      '      register: ready',
      '    - name: app reports its state',
      '      shell: touch {{ root }}/reported',
      '      changed_when: false',
      '      check_mode: false',
      '',
    ].join('\n');
    const root = await tempTree({ 'pb.yml': playbook });
    const check = await plinthJson([path.join(root, 'pb.yml'), '-e', `root=${root}`, '-e', 'wait=30', '-C']);
    expect(check.code).toBe(0);
    const results = check.events.filter((e) => e.type === 'result').map((e) => `${e.task}=${e.status}`);
    expect(results).toEqual(['command=changed', 'app is ready=unknown', 'app reports its state=ok']);
    const ready = check.events.find((e) => e.task === 'app is ready')!;
    expect(ready.message).toMatch(/reads the host after command .*which check mode does not apply; not run in check mode/);
    // It still shows what it will run.
    expect(ready.diff[0].after).toContain('sleep {{ wait }}');
    expect((await fs.readdir(root)).sort()).toEqual(['pb.yml', 'reported']);

    // The real run runs it.
    const real = await plinthJson([path.join(root, 'pb.yml'), '-e', `root=${root}`, '-e', 'wait=0']);
    expect(real.events.filter((e) => e.type === 'result').map((e) => `${e.task}=${e.status}`)).toEqual(['command=changed', 'app is ready=ok', 'app reports its state=ok']);
    expect((await fs.readdir(root)).sort()).toEqual(['app.conf', 'pb.yml', 'reported', 'waited']);
  });

  it('a read-only handler after changes check mode models (a file written) runs, and reads the host as it is', async () => {
    const playbook = [
      '- hosts: localhost',
      '  gather_facts: false',
      '  tasks:',
      '    - copy: { dest: "{{ root }}/app.conf", content: "port = 1\\n" }',
      '      notify: app is ready',
      '  handlers:',
      '    - name: app is ready',
      '      shell: test -d {{ root }}',
      '      changed_when: false',
      '',
    ].join('\n');
    const root = await tempTree({ 'pb.yml': playbook });
    const check = await plinthJson([path.join(root, 'pb.yml'), '-e', `root=${root}`, '-C']);
    expect(check.code).toBe(0);
    expect(check.events.filter((e) => e.type === 'result').map((e) => `${e.task}=${e.status}`)).toEqual(['copy=changed', 'app is ready=ok']);
    expect(await fs.readdir(root)).toEqual(['pb.yml']);
  });
});
