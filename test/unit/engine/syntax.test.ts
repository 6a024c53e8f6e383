// Errors found before anything runs, all at once, at the right line; Jinja refused with a hint;
// --syntax-check, --start-at-task and --step.
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { localInventory, plinth, plinthJson, statuses, tempTree } from '../../helpers/cli.js';

async function load(files: Record<string, string>, ...flags: string[]) {
  const root = await tempTree(files);
  const r = await plinth(['run', path.join(root, 'pb.yml'), '-e', `root=${root}`, ...flags]);
  return { ...r, root };
}

describe('Jinja where plinth expects JavaScript or EJS', () => {
  it('filters, tests and statements in YAML values are refused at load, at the value, with the plinth form', async () => {
    const r = await load({
      'pb.yml': `- hosts: localhost
  gather_facts: false
  tasks:
    - debug: { msg: "{{ port | default(5432) }}" }
    - command: echo x
      when: pg_version is defined
    - copy: { dest: /tmp/x, content: "{% for u in users %}{{ u }}{% endfor %}" }
    - debug: { msg: "{{ names | join(',') }} and {{ a || b }}" }
`,
    });
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr.split('\n')).toEqual([
      `ERROR! pb.yml:4:21: the Jinja filter '| default': expressions are JavaScript, write \`x ?? fallback\` (\`vars.x ?? fallback\` when x may be undefined) (in "{{ port | default(5432) }}")`,
      `ERROR! pb.yml:6:13: the Jinja test 'pg_version is defined': expressions are JavaScript, write \`vars.pg_version !== undefined\` (in "pg_version is defined")`,
      `ERROR! pb.yml:7:38: a Jinja statement; in an EJS template write \`<% for (const x of xs) { %> ... <% } %>\` (in "{% for u in users %}{{ u }}{% endfor %}")`,
      `ERROR! pb.yml:8:21: the Jinja filter '| join': expressions are JavaScript, write \`list.join(", ")\` (in "{{ names | join(',') }} and {{ a || b }}")`,
      '4 problems',
      '',
    ]);
  });

  it('a Jinja template is refused with its file:line and a hint, and never written', async () => {
    const files = {
      'inv.yml': localInventory(['h1']),
      'templates/pg.conf.ejs': 'port = <%= port %>\n{% if ssl %}\nssl = on\n{% endif %}\n',
      'templates/app.conf.j2': 'name = <%= port %>\n',
      'pb.yml': `- hosts: h1
  gather_facts: false
  vars: { port: 5432, ssl: true }
  tasks:
    - { name: jinja, template: { src: pg.conf.ejs, dest: "{{ root }}/pg.conf" }, ignore_errors: true }
    - { name: j2, template: { src: app.conf.j2, dest: "{{ root }}/app.conf" }, ignore_errors: true }
`,
    };
    const root = await tempTree(files);
    const r = await plinthJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`]);
    expect(statuses(r.events)).toEqual(['jinja=failed', 'j2=failed']);
    // Results name controller files relative to the project (the playbook's folder here).
    expect(r.events[0].message).toContain(`templates/pg.conf.ejs:2: a Jinja statement; in an EJS template write \`<% if (cond) { %> ... <% } else { %> ... <% } %>\``);
    expect(r.events[1].message).toContain(`templates/app.conf.j2: a Jinja template (.j2): plinth templates are EJS`);
    expect(await fs.readdir(root)).not.toContain('pg.conf');
    expect(await fs.readdir(root)).not.toContain('app.conf');
  });
});

describe('JavaScript that looks like Jinja is not refused', () => {
  it('a | inside a regular expression, a string or ||', async () => {
    const root = await tempTree({
      'pb.yml': `- hosts: localhost
  gather_facts: false
  vars: { flag: "yes", a: false }
  tasks:
    - debug: { msg: "{{ /^(true|yes|on|1)$/i.test(String(flag)) }} {{ 'a | b' }} {{ a || 'b' }}" }
      when: /yes|on/.test(flag) || a
`,
    });
    const r = await plinthJson([path.join(root, 'pb.yml')]);
    expect(r.code).toBe(0);
    expect(r.events.find((e) => e.type === 'result')!.status).toBe('ok');
  });
});

describe('load errors are collected', () => {
  it('one run reports every problem with file:line:col, in files of the play, its roles and imports', async () => {
    const r = await load({
      'pb.yml': `- hosts: localhost
  gather_facts: false
  roles: [r]
  tasks:
    - comand: ls
    - import_tasks: more.yml
    - copy: { dest: /tmp/x, content: "{{ a + }}" }
- hosts: localhost
  taskz: []
`,
      'more.yml': '- file: { path: /tmp/y, state: sideways }\n',
      'roles/r/tasks/main.yml': '- debug: { msg: hi }\n  registr: x\n',
    });
    expect(r.code).toBe(4);
    expect(r.stderr.split('\n')).toEqual([
      `ERROR! roles/r/tasks/main.yml:2:3: unknown task keyword or module 'registr' (did you mean 'register'?)`,
      `ERROR! pb.yml:5:7: unknown module 'comand' (did you mean 'command'?)`,
      `ERROR! more.yml:1:25: file: state: must be one of: file, directory, link, touch, absent`,
      `ERROR! pb.yml:7:38: invalid expression: Unexpected token ')':  a + `,
      `ERROR! pb.yml:9:3: play: taskz: unknown field 'taskz'`,
      '5 problems',
      '',
    ]);
  });

  it('stops looking after 20', async () => {
    const tasks = Array.from({ length: 30 }, (_, i) => `    - comand${i}: ls\n`).join('');
    const r = await load({ 'pb.yml': `- hosts: localhost\n  tasks:\n${tasks}` });
    expect(r.code).toBe(4);
    const lines = r.stderr.trim().split('\n');
    expect(lines.filter((l) => l.startsWith('ERROR! '))).toHaveLength(20);
    expect(lines.at(-1)).toBe('20 problems (stopped looking after that many)');
  });

  it('--list-tasks refuses a playbook whose expressions do not compile', async () => {
    const r = await load({ 'pb.yml': `- hosts: localhost\n  tasks:\n    - debug: { msg: "{{ x. }}" }\n` }, '--list-tasks');
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/pb\.yml:3:21: invalid expression/);
  });
});

describe('a run-time expression error points at the expression', () => {
  it('names the line and column of the value that holds it, not only the task', async () => {
    const root = await tempTree({
      'inv.yml': localInventory(['h1']),
      'pb.yml': `- hosts: h1
  gather_facts: false
  tasks:
    - name: nested
      copy:
        dest: "{{ root }}/out"
        content: |
          first line
          {{ missing_variable }}
`,
    });
    const r = await plinthJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`]);
    expect(r.events.find((e) => e.status === 'failed')!.message).toBe(`pb.yml:9:14: undefined variable 'missing_variable' in expression: missing_variable`);
  });
});

describe('--syntax-check', () => {
  const inventory = 'all:\n  hosts:\n    far:\n      ansible_host: 127.0.0.1\n      ansible_port: 1\n';

  it('passes a good playbook without connecting to its hosts', async () => {
    const root = await tempTree({
      'inv.yml': inventory,
      'templates/ok.ejs': 'port = <%= port %>\n',
      'inner.yml': '- debug: { msg: "{{ port + 1 }}" }\n',
      'pb.yml': `- hosts: all\n  vars: { port: 1 }\n  tasks:\n    - template: { src: ok.ejs, dest: /tmp/ok }\n    - include_tasks: inner.yml\n`,
    });
    const r = await plinth(['run', '--syntax-check', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml')]);
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe(`playbook: ${path.join(root, 'pb.yml')}\n`);
    expect(r.code).toBe(0);
  });

  it('compiles templates and literal includes, and reports every problem', async () => {
    const root = await tempTree({
      'inv.yml': inventory,
      'templates/broken.ejs': 'a\n<% if (x) { %>\n',
      'inner.yml': '- debug: { msg: "{{ x | int }}" }\n',
      'pb.yml': `- hosts: all\n  tasks:\n    - template: { src: broken.ejs, dest: /tmp/b }\n    - template: { src: missing.ejs, dest: /tmp/m }\n    - include_tasks: inner.yml\n`,
    });
    const r = await plinth(['run', '--syntax-check', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml')]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`ERROR! templates/broken.ejs:2: syntax error: a '{' opened on this line is never closed\n`);
    expect(r.stderr).toContain(`ERROR! pb.yml:4:24: template: src 'missing.ejs' not found`);
    expect(r.stderr).toContain(`ERROR! inner.yml:1:17: the Jinja filter '| int'`);
    expect(r.stderr).toContain('3 problems\n');
  });
});

describe('--start-at-task and --step', () => {
  const pb = `- hosts: h1
  gather_facts: false
  tasks:
    - { name: one, shell: 'echo one >> {{ root }}/log' }
    - { name: two, shell: 'echo two >> {{ root }}/log' }
    - { name: three, shell: 'echo three >> {{ root }}/log' }
`;

  it('--start-at-task skips the tasks before it; an unknown name is refused', async () => {
    const root = await tempTree({ 'inv.yml': localInventory(['h1']), 'pb.yml': pb });
    const r = await plinth(['run', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`, '--start-at-task', 'two']);
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(root, 'log'), 'utf8')).toBe('two\nthree\n');
    const bad = await plinth(['run', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '--start-at-task', 'nine']);
    expect(bad.stderr).toBe("ERROR! --start-at-task: no task of the playbook is named 'nine'\n");
    expect(bad.code).toBe(5);
  });

  it('--step asks before each task: no skips it, yes runs it, continue runs the rest', async () => {
    const root = await tempTree({ 'inv.yml': localInventory(['h1']), 'pb.yml': pb });
    const r = await plinth(['run', '--step', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`], { stdin: 'n\nc\n' });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Perform task: one (N)o/(y)es/(c)ontinue: ');
    expect(r.stderr).not.toContain('Perform task: three');
    expect(await fs.readFile(path.join(root, 'log'), 'utf8')).toBe('two\nthree\n');
  });
});
