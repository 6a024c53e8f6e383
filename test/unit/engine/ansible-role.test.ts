// A role written the way published Ansible roles are written (per-OS vars and task files,
// YAML 1.1 values, aliases, fail, flush_handlers, with_items), run unchanged on this machine:
// it converges on this (Debian) machine, and a second run changes nothing.
import { describe, expect, it } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { localInventory, recapOf, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

const role = {
  'roles/ntpish/defaults/main.yml': `ntp_enabled: yes
ntp_servers:
  - [0.pool.example, 1.pool.example]
  - [2.pool.example]
ntp_config_mode: 0644
`,
  'roles/ntpish/vars/Debian.yml': 'ntp_package: ntpsec\nntp_daemon: ntpsec\n',
  'roles/ntpish/vars/RedHat.yml': 'ntp_package: chrony\nntp_daemon: chronyd\n',
  'roles/ntpish/tasks/main.yml': `---
- name: Include OS-specific variables.
  include_vars: "{{ item }}"
  with_first_found:
    - "{{ ansible_os_family }}.yml"
    - default.yml

- name: Refuse what the role does not support.
  fail:
    msg: "unsupported: {{ ansible_os_family }}"
  when: "!['Debian', 'RedHat'].includes(ansible_os_family)"

- include_tasks: setup-{{ ansible_os_family }}.yml

- name: Configure the servers.
  lineinfile:
    dest: "{{ root }}/ntp.conf"
    regexp: "^server {{ item }}"
    line: "server {{ item }} iburst"
    create: yes
    mode: 0644
  with_items: "{{ ntp_servers }}"
  notify: restart ntp

- meta: flush_handlers

- name: After the restart.
  copy:
    dest: "{{ root }}/after"
    content: "{{ ntp_daemon }} restarted before this\\n"
    mode: "{{ ntp_config_mode }}"
  when: ntp_enabled
`,
  'roles/ntpish/tasks/setup-Debian.yml': `- name: Pretend to install the package.
  copy: { dest: "{{ root }}/package", content: "{{ ntp_package }}\\n", force: no }
`,
  // Never read on Debian: it would not even load.
  'roles/ntpish/tasks/setup-RedHat.yml': '- yum: { name: "{{ ntp_package }}" state: present\n',
  'roles/ntpish/handlers/main.yml': `- name: restart ntp
  shell: 'echo "restart {{ ntp_daemon }}" >> {{ root }}/log'
`,
};

describe('an Ansible-shaped role runs unchanged', () => {
  it('converges, and the second run changes nothing', async () => {
    const root = await tempTree({
      ...role,
      'inv.yml': localInventory(['localhost']),
      'pb.yml': `- hosts: all\n  gather_facts: yes\n  roles:\n    - ntpish\n`,
    });
    const args = ['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`];
    const first = await engineJson(args);
    expect(first.code).toBe(0);
    expect(await fs.readFile(path.join(root, 'ntp.conf'), 'utf8')).toBe('server 0.pool.example iburst\nserver 1.pool.example iburst\nserver 2.pool.example iburst\n');
    expect(((await fs.stat(path.join(root, 'ntp.conf'))).mode & 0o777).toString(8)).toBe('644');
    expect(await fs.readFile(path.join(root, 'package'), 'utf8')).toBe('ntpsec\n');
    expect(await fs.readFile(path.join(root, 'log'), 'utf8')).toBe('restart ntpsec\n');
    expect(await fs.readFile(path.join(root, 'after'), 'utf8')).toBe('ntpsec restarted before this\n');
    // A YAML 1.1 `0644` in defaults, used through an expression, is the mode 0644.
    expect(((await fs.stat(path.join(root, 'after'))).mode & 0o777).toString(8)).toBe('644');

    const second = await engineJson(args);
    expect(second.code).toBe(0);
    expect(recapOf(second.events).localhost.changed).toBe(0);
    expect(await fs.readFile(path.join(root, 'log'), 'utf8')).toBe('restart ntpsec\n');
  });
});
