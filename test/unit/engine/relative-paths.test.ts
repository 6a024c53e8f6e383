// Every file:line reference a user reads names the file relative to the repository root (the git
// top level, else the playbook's folder), whatever the current directory: plain lines (-v's task
// paths, failure messages), --list-tasks, load errors, --json, the plan file and its Markdown.
import { afterAll, describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { localInventory, plinth, tempTree } from '../../helpers/cli.js';

const made: string[] = [];
afterAll(async () => {
  for (const d of made) await fs.rm(d, { recursive: true, force: true });
});

async function project(extraTask = ''): Promise<string> {
  const state = await tempTree();
  const dir = await tempTree({
    'inventory.yml': localInventory(['h1'], `  vars:\n    state: ${state}\n`),
    'site.yml': `- hosts: all
  gather_facts: false
  roles: [app]
  tasks:
    - name: a message from a name nobody defined
      debug:
        msg: "{{ not_defined_anywhere }}"
`,
    'roles/app/tasks/main.yml': `- name: the settings
  copy:
    content: "x = 1\\n"
    dest: "{{ state }}/app.conf"
${extraTask}`,
  });
  made.push(state, dir);
  return dir;
}

describe('file:line references are relative to the repository root', () => {
  it('in plain output (-v), --list-tasks, --json, the plan file and its report, run from another directory', async () => {
    const dir = await project();
    const elsewhere = os.tmpdir();
    const run = (...args: string[]) => plinth([...args], { cwd: elsewhere });
    const inv = path.join(dir, 'inventory.yml');
    const site = path.join(dir, 'site.yml');

    const plain = await run('run', '-i', inv, site, '-v');
    expect(plain.stdout).toContain('task path: roles/app/tasks/main.yml:1');
    expect(plain.stdout).toContain('task path: site.yml:5');
    expect(plain.stdout).toMatch(/fatal: \[h1\] => site\.yml:7:\d+: undefined variable 'not_defined_anywhere'/);

    const listed = await run('run', '-i', inv, site, '--list-tasks');
    expect(listed.stdout).toContain('the settings\troles/app/tasks/main.yml:1');

    const json = await run('run', '-i', inv, site, '--json', '-v');
    expect(json.stdout).toContain('"file":"roles/app/tasks/main.yml:1"');

    const plan = await run('plan', '-i', inv, site, '-o', path.join(dir, 'plan.json'), '--report', path.join(dir, 'plan.md'), '-v');
    const texts = {
      plain: plain.stdout + plain.stderr,
      listed: listed.stdout,
      json: json.stdout + json.stderr,
      plan: plan.stdout + plan.stderr,
      planFile: await fs.readFile(path.join(dir, 'plan.json'), 'utf8'),
      report: await fs.readFile(path.join(dir, 'plan.md'), 'utf8'),
    };
    expect(texts.report).toContain('`site.yml:5` (debug)');
    for (const [name, text] of Object.entries(texts)) expect(text.includes(dir), `${name} names ${dir}`).toBe(false);
  });

  it('in a load error', async () => {
    const dir = await project('  notify: no such handler\n');
    const r = await plinth(['run', '-i', path.join(dir, 'inventory.yml'), path.join(dir, 'site.yml')], { cwd: os.tmpdir() });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("ERROR! roles/app/tasks/main.yml:1:3: notify: no handler named 'no such handler' in this play");
    expect(r.stderr.includes(dir)).toBe(false);
  });
});
