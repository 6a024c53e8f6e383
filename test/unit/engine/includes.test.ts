// Ansible's run-time pieces: dynamic include_tasks/include_role, import_role, include_vars, fail,
// meta, the with_* loops and module argument aliases; run by the engine in this process on temp dirs.
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { localInventory, plinth, recapOf, statuses, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

const read = (p: string) => fs.readFile(p, 'utf8');

async function runPlay(playbook: string, files: Record<string, string> = {}, flags: string[] = []) {
  const root = await tempTree({ 'pb.yml': playbook, 'inv.yml': localInventory(['h1', 'h2']), ...files });
  const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`, ...flags]);
  return { ...r, root };
}

const log = (line: string) => `{ name: "${line}", shell: 'echo "${line}" >> {{ root }}/{{ inventory_hostname }}.log', changed_when: false }`;
const lines = async (root: string, host: string) => (await read(path.join(root, `${host}.log`)).catch(() => '')).split('\n').filter(Boolean);

describe('include_tasks is dynamic', () => {
  it('a file behind a false when is never read: the per-OS pattern of real roles', async () => {
    const r = await runPlay(
      `- hosts: all
  gather_facts: false
  vars: { os_family: Debian }
  tasks:
    - include_tasks: "setup-{{ os_family }}.yml"
    - include_tasks: setup-RedHat.yml
      when: os_family == 'RedHat'
    - include_tasks: setup-Archlinux.yml
      when: os_family == 'Archlinux'
`,
      // RedHat's file does not parse and Archlinux's does not exist: neither is reached.
      { 'setup-Debian.yml': `- ${log('debian')}\n`, 'setup-RedHat.yml': '- yum: [this is not valid\n' },
    );
    expect(r.code).toBe(0);
    expect(await lines(r.root, 'h1')).toEqual(['debian']);
  });

  it('per host: each host includes the file its variables name', async () => {
    const r = await runPlay(`- hosts: all\n  gather_facts: false\n  tasks:\n    - include_tasks: "{{ inventory_hostname }}.yml"\n`, {
      'h1.yml': `- ${log('one')}\n`,
      'h2.yml': `- ${log('two')}\n- ${log('two again')}\n`,
    });
    expect(r.code).toBe(0);
    expect(await lines(r.root, 'h1')).toEqual(['one']);
    expect(await lines(r.root, 'h2')).toEqual(['two', 'two again']);
  });

  it('loop: included once per item, the item visible inside; when is checked per item', async () => {
    const r = await runPlay(
      `- hosts: h1
  gather_facts: false
  tasks:
    - include_tasks: { file: user.yml }
      loop: [ann, bob, carl]
      loop_control: { loop_var: user }
      when: user != 'bob'
`,
      { 'user.yml': `- ${log('user {{ user }}')}\n` },
    );
    expect(r.code).toBe(0);
    expect(await lines(r.root, 'h1')).toEqual(['user ann', 'user carl']);
  });

  it('{file:, apply:} hands the apply keywords to the included tasks, not to the include', async () => {
    const r = await runPlay(
      `- hosts: h1
  gather_facts: false
  tasks:
    - include_tasks:
        file: inner.yml
        apply: { become: true, become_user: nobody }
    - { copy: { dest: "{{ root }}/who", content: "{{ who.stdout }}" } }
`,
      { 'inner.yml': '- { command: id -un, register: who }\n' },
    );
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'who'))).toBe('nobody');
  });

  it('a handler may be an include_tasks', async () => {
    const r = await runPlay(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - { command: echo x, notify: restart }\n  handlers:\n    - name: restart\n      include_tasks: restart.yml\n`, {
      'restart.yml': `- ${log('stop')}\n- ${log('start')}\n`,
    });
    expect(r.code).toBe(0);
    expect(await lines(r.root, 'h1')).toEqual(['stop', 'start']);
  });

  it('an error in an included file is reported when a host reaches it, with its file:line:col', async () => {
    const r = await runPlay(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - include_tasks: bad.yml\n`, { 'bad.yml': '- name: x\n  comand: ls\n' });
    expect(r.code).toBe(2);
    const failed = r.events.find((e) => e.status === 'failed')!;
    expect(failed.message).toContain(`bad.yml:2:3: unknown module 'comand' (did you mean 'command'?)`);
  });

  it('a missing included file fails the host that reaches it, naming the include', async () => {
    const r = await runPlay(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - include_tasks: missing.yml\n`);
    expect(r.code).toBe(2);
    expect(r.events.find((e) => e.status === 'failed')!.message).toMatch(/pb\.yml:4:7: file not found; looked in: .*missing\.yml/);
  });

  it('loop on include_tasks of a file of several tasks runs all of them per item', async () => {
    const r = await runPlay(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - include_tasks: two.yml\n      with_items: [a, b]\n`, {
      'two.yml': `- ${log('first {{ item }}')}\n- ${log('second {{ item }}')}\n`,
    });
    expect(await lines(r.root, 'h1')).toEqual(['first a', 'second a', 'first b', 'second b']);
  });
});

describe('roles as tasks: import_role (static) and include_role (dynamic)', () => {
  const role = {
    'roles/web/defaults/main.yml': 'web_port: 80\n',
    'roles/web/tasks/main.yml': `- ${log('web main {{ web_port }}')}\n`,
    'roles/web/tasks/extra.yml': `- name: extra\n  shell: 'echo "web extra {{ web_port }}" >> {{ root }}/{{ inventory_hostname }}.log'\n  notify: web changed\n`,
    'roles/web/handlers/main.yml': `- ${log('web handler').replace('name: "web handler"', 'name: web changed')}\n`,
  };

  it('import_role with tasks_from and vars; include_role under a when, with tasks_from; handlers of both', async () => {
    const r = await runPlay(
      `- hosts: h1
  gather_facts: false
  tasks:
    - import_role: { name: web, tasks_from: extra }
      vars: { web_port: 8080 }
    - include_role: { name: web }
      when: inventory_hostname == 'h1'
    - include_role: { name: not-a-role-anywhere }
      when: false
`,
      role,
    );
    expect(r.code).toBe(0);
    expect(await lines(r.root, 'h1')).toEqual(['web extra 8080', 'web main 80', 'web handler']);
  });

  it('an include_role of a role that does not exist fails the host that reaches it', async () => {
    const r = await runPlay(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - include_role: { name: nowhere }\n`);
    expect(r.code).toBe(2);
    expect(r.events.find((e) => e.status === 'failed')!.message).toMatch(/role 'nowhere' not found/);
  });
});

describe('include_vars', () => {
  it('with_first_found picks the per-OS vars file; file, dir and name forms', async () => {
    const r = await runPlay(
      `- hosts: h1
  gather_facts: false
  vars: { os_family: Debian }
  tasks:
    - include_vars: "{{ item }}"
      with_first_found:
        - "{{ os_family }}.yml"
        - default.yml
    - include_vars: { file: extra.yml, name: extra }
    - include_vars: { dir: conf.d }
    - copy: { dest: "{{ root }}/out", content: "{{ pkg }} {{ extra.x }} {{ a }} {{ b }}" }
`,
      {
        'vars/Debian.yml': 'pkg: postgresql-15\n',
        'vars/default.yml': 'pkg: postgresql\n',
        'vars/extra.yml': 'x: 1\n',
        'conf.d/1.yml': 'a: one\nb: first\n',
        'conf.d/2.yml': 'b: second\n',
        'conf.d/skip.txt': 'b: never\n',
      },
    );
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'out'))).toBe('postgresql-15 1 one second');
  });

  it('falls back to the next candidate, and fails clearly when none exists', async () => {
    const ok = await runPlay(
      `- hosts: h1\n  gather_facts: false\n  tasks:\n    - include_vars: "{{ item }}"\n      with_first_found: [RedHat.yml, default.yml]\n    - copy: { dest: "{{ root }}/out", content: "{{ pkg }}" }\n`,
      { 'vars/default.yml': 'pkg: generic\n' },
    );
    expect(await read(path.join(ok.root, 'out'))).toBe('generic');
    const none = await runPlay(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - include_vars: "{{ item }}"\n      with_first_found: [RedHat.yml]\n`);
    expect(none.code).toBe(2);
    expect(none.events.find((e) => e.status === 'failed')!.message).toMatch(/with_first_found: none of the files exist: .*RedHat\.yml/);
  });
});

describe('fail', () => {
  it('fails the host with its message, under a when; is not mistaken for file', async () => {
    const r = await runPlay(
      `- hosts: all\n  gather_facts: false\n  tasks:\n    - fail: { msg: "unsupported on {{ inventory_hostname }}" }\n      when: inventory_hostname == 'h2'\n    - ${log('after')}\n`,
    );
    expect(r.code).toBe(2);
    expect(statuses(r.events, 'h2')).toEqual(['fail=failed']);
    expect(r.events.find((e) => e.status === 'failed')!.message).toMatch(/pb\.yml:4:7: unsupported on h2$/);
    expect(await lines(r.root, 'h1')).toEqual(['after']);
  });
});

describe('meta', () => {
  const handlers = `  handlers:\n    - name: restart\n      shell: 'echo restarted >> {{ root }}/{{ inventory_hostname }}.log'\n`;

  it('flush_handlers runs notified handlers at that point (restart before creating roles)', async () => {
    const r = await runPlay(`- hosts: h1\n  gather_facts: false\n  tasks:\n    - { command: echo conf, notify: restart }\n    - meta: flush_handlers\n    - ${log('create roles')}\n${handlers}`);
    expect(r.code).toBe(0);
    expect(await lines(r.root, 'h1')).toEqual(['restarted', 'create roles']);
  });

  it('end_host ends one host (not failed, no handlers); end_play ends the play for all, the next play runs', async () => {
    const r = await runPlay(`- hosts: all
  gather_facts: false
  tasks:
    - { command: echo x, notify: restart }
    - meta: end_host
      when: inventory_hostname == 'h1'
    - ${log('h2 goes on')}
    - meta: end_play
    - ${log('never')}
${handlers}- hosts: all
  gather_facts: false
  tasks:
    - ${log('second play')}
`);
    expect(r.code).toBe(0);
    expect(await lines(r.root, 'h1')).toEqual(['second play']);
    expect(await lines(r.root, 'h2')).toEqual(['h2 goes on', 'second play']);
    expect(recapOf(r.events).h1.failed).toBe(0);
  });

  it('noop and clear_facts are accepted; an unknown meta action is refused at load', async () => {
    const ok = await runPlay(`- hosts: h1\n  tasks:\n    - meta: noop\n    - meta: clear_facts\n    - ${log('done')}\n`);
    expect(ok.code).toBe(0);
    const root = await tempTree({ 'pb.yml': '- hosts: localhost\n  tasks:\n    - meta: refresh_inventory\n' });
    const bad = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(bad.code).toBe(4);
    expect(bad.stderr).toContain('pb.yml:3:13: meta: free_form: must be one of: flush_handlers, end_play, end_host, noop, clear_facts');
  });
});

describe('with_* loops', () => {
  it('with_items flattens one level; with_list does not; with_dict, with_sequence, with_subelements, with_fileglob', async () => {
    const r = await runPlay(
      `- hosts: h1
  gather_facts: false
  vars:
    users:
      - { name: ann, keys: [k1, k2] }
      - { name: bob, keys: [k3] }
  tasks:
    - { name: items, debug: { msg: "{{ item }}" }, with_items: [[a, b], [c], d], register: items }
    - { name: list, debug: { msg: "{{ item }}" }, with_list: [[a, b], [c]], register: list }
    - { name: dict, debug: { msg: "{{ item.key }}={{ item.value }}" }, with_dict: { x: 1, y: 2 }, register: dict }
    - { name: seq, debug: { msg: "{{ item }}" }, with_sequence: "start=1 end=3 format=node%02d", register: seq }
    - { name: sub, debug: { msg: "{{ item[0].name }}:{{ item[1] }}" }, with_subelements: ["{{ users }}", keys], register: sub }
    - { name: glob, debug: { msg: "{{ item }}" }, with_fileglob: ["conf/*.conf"], register: glob }
    - copy:
        dest: "{{ root }}/out.json"
        content: "{{ JSON.stringify([items, list, dict, seq, sub].map(r => r.results.map(x => x.msg)).concat([glob.results.map(x => x.msg.split('/').pop())])) }}"
`,
      { 'files/conf/a.conf': '', 'files/conf/b.conf': '', 'files/conf/c.txt': '' },
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(await read(path.join(r.root, 'out.json')))).toEqual([
      ['a', 'b', 'c', 'd'],
      [['a', 'b'], ['c']],
      ['x=1', 'y=2'],
      ['node01', 'node02', 'node03'],
      ['ann:k1', 'ann:k2', 'bob:k3'],
      ['a.conf', 'b.conf'],
    ]);
  });
});

describe('module argument aliases (declared in the schemas)', () => {
  it('lineinfile and blockinfile accept dest: for path', async () => {
    const r = await runPlay(`- hosts: h1
  gather_facts: false
  tasks:
    - lineinfile: { dest: "{{ root }}/a", line: one, create: yes }
    - blockinfile: { dest: "{{ root }}/b", block: two, create: true }
`);
    expect(r.code).toBe(0);
    expect(await read(path.join(r.root, 'a'))).toBe('one\n');
    expect(await read(path.join(r.root, 'b'))).toContain('two\n');
  });

  it('path and its alias together are refused at the alias', async () => {
    const root = await tempTree({ 'pb.yml': '- hosts: localhost\n  tasks:\n    - lineinfile: { path: /tmp/x, dest: /tmp/y, line: z }\n' });
    const r = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(r.stderr).toBe(`ERROR! pb.yml:3:35: lineinfile: 'dest' is another name for 'path': write only one of them\n`);
  });
});
