// Inventories in Ansible's YAML shape, with group_vars/ and host_vars/ beside them (file and folder forms).
import { describe, expect, it, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { loadInventory } from '../../../engine/load/inventory.js';
import { SourceError } from '../../../engine/load/yaml.js';
import { plinth, tempTree } from '../../helpers/cli.js';

const ANSIBLE_INVENTORY = `# An inventory as Ansible users write it.
all:
  vars:
    ansible_user: deploy
    tier: all
  hosts:
    bastion:
      ansible_host: 10.0.0.1
  children:
    pg:
      vars:
        tier: pg
      children:
        pg_primary:
          hosts:
            pg1:
              ansible_host: 10.0.0.11
              ansible_port: 2222
              ansible_ssh_private_key_file: ~/.ssh/pg
        pg_replicas:
          vars:
            tier: replica
          hosts:
            pg2:
              ansible_host: 10.0.0.12
              ansible_become: true
            pg3:
    lonely:
`;

describe('loading an Ansible YAML inventory', () => {
  it('reads hosts, nested children and groups', async () => {
    const root = await tempTree({ 'inventory.yml': ANSIBLE_INVENTORY });
    const inv = await loadInventory(path.join(root, 'inventory.yml'));
    expect([...inv.hosts.keys()]).toEqual(['bastion', 'pg1', 'pg2', 'pg3']);
    expect(inv.hostsOf('all')).toEqual(['bastion', 'pg1', 'pg2', 'pg3']);
    expect(inv.hostsOf('pg')).toEqual(['pg1', 'pg2', 'pg3']);
    expect(inv.hostsOf('pg_replicas')).toEqual(['pg2', 'pg3']);
    expect(inv.hostsOf('lonely')).toEqual([]);
    expect(inv.hostsOf('ungrouped')).toEqual(['bastion']);
    expect(inv.groupsOf('pg3').sort()).toEqual(['pg', 'pg_replicas']);
  });

  it('merges variables all < parent group < child group < host, keeping ansible_* as written', async () => {
    const root = await tempTree({ 'inventory.yml': ANSIBLE_INVENTORY });
    const inv = await loadInventory(path.join(root, 'inventory.yml'));
    expect(inv.varsOf('pg1')).toEqual({ ansible_user: 'deploy', tier: 'pg', ansible_host: '10.0.0.11', ansible_port: 2222, ansible_ssh_private_key_file: '~/.ssh/pg' });
    expect(inv.varsOf('pg2')).toEqual({ ansible_user: 'deploy', tier: 'replica', ansible_host: '10.0.0.12', ansible_become: true });
    expect(inv.varsOf('bastion')).toEqual({ ansible_user: 'deploy', tier: 'all', ansible_host: '10.0.0.1' });
  });

  it('reads group_vars/ and host_vars/ beside it, as NAME.yml, NAME.yaml, NAME and NAME/*.yml', async () => {
    const root = await tempTree({
      'inventory.yml': ANSIBLE_INVENTORY,
      'group_vars/all.yml': 'from_all: yes-all\ntier: all-file\n',
      'group_vars/pg.yaml': 'tier: pg-file\n',
      'group_vars/pg_replicas/10-a.yml': 'tier: replica-folder\nfolder: a\n',
      'group_vars/pg_replicas/20-b.yml': 'folder: b\n',
      'group_vars/pg_replicas/notes.txt': 'folder: ignored\n',
      'host_vars/pg3': 'ansible_host: 10.0.0.13\n',
      'host_vars/pg1.yml': 'ansible_port: 2200\n',
    });
    const inv = await loadInventory(path.join(root, 'inventory.yml'));
    expect(inv.varsOf('pg1')).toMatchObject({ from_all: 'yes-all', tier: 'pg-file', ansible_port: 2200 });
    expect(inv.varsOf('pg3')).toMatchObject({ tier: 'replica-folder', folder: 'b', ansible_host: '10.0.0.13' });
    expect(inv.varsOf('bastion')).toMatchObject({ tier: 'all-file' });
  });

  it('a comma-separated list is an inventory of ungrouped hosts; none means localhost', async () => {
    const inv = await loadInventory('web1, web2,');
    expect([...inv.hosts.keys()]).toEqual(['web1', 'web2']);
    expect(inv.hostsOf('ungrouped')).toEqual(['web1', 'web2']);
    const implicit = await loadInventory(undefined);
    expect([...implicit.hosts.keys()]).toEqual(['localhost']);
    expect(implicit.varsOf('localhost')).toEqual({ ansible_connection: 'local' });
  });

  it('an unknown key is a SourceError at its file:line:col', async () => {
    const root = await tempTree({ 'inventory.yml': 'all:\n  hosts:\n    a:\n  vras:\n    x: 1\n' });
    const err = await loadInventory(path.join(root, 'inventory.yml')).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe(`${root}/inventory.yml:4:3: inventory: all.vras: unknown field 'vras'`);
  });
});

describe('inventories in a run', () => {
  it('group_vars/ and host_vars/ beside the playbook are read too, and ansible_become in the inventory applies', async () => {
    const root = await tempTree({
      'inventory/hosts.yml':
        'all:\n  children:\n    app:\n      hosts:\n        h1:\n          ansible_connection: local\n          ansible_become: true\n          ansible_become_user: nobody\n        h2:\n          ansible_connection: local\n',
      'inventory/group_vars/app.yml': 'where_from: inventory-group_vars\n',
      'play/host_vars/h2.yml': 'where_from: playbook-host_vars\n',
      'play/pb.yml': `- hosts: app
  gather_facts: false
  tasks:
    - command: id -un
      register: who
    - copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "{{ who.stdout }} {{ where_from }}" }
      become: false
`,
    });
    const r = await plinth(['run', '-i', path.join(root, 'inventory/hosts.yml'), path.join(root, 'play/pb.yml'), '-e', `root=${root}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(root, 'h1'), 'utf8')).toBe('nobody inventory-group_vars');
    expect(await fs.readFile(path.join(root, 'h2'), 'utf8')).toBe('root playbook-host_vars');
  });

  it('an inventory host named localhost without ansible_connection still runs locally', async () => {
    const root = await tempTree({
      'inv.yml': 'all:\n  hosts:\n    localhost:\n',
      'pb.yml': '- hosts: all\n  tasks:\n    - copy: { dest: "{{ root }}/out", content: "{{ inventory_hostname }}" }\n',
    });
    const r = await plinth(['run', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`]);
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(root, 'out'), 'utf8')).toBe('localhost');
  });
});

describe('inventory sources the Ansible way', () => {
  test.each([
    ['web[01:03]', ['web01', 'web02', 'web03']],
    ['web[1:10:4]', ['web1', 'web5', 'web9']],
    ['web[08:11]', ['web08', 'web09', 'web10', 'web11']],
    ['db-[a:c]', ['db-a', 'db-b', 'db-c']],
    ['r[1:2]-[x:y]', ['r1-x', 'r1-y', 'r2-x', 'r2-y']],
    ['[:1]x', ['0x', '1x']],
    ['web[3:1]', []],
  ])('the range %s in an INI and a YAML inventory gives %j', async (pattern, hosts) => {
    const root = await tempTree({ 'a.ini': `[g]\n${pattern} v=1\n`, 'a.yml': `g:\n  hosts:\n    "${pattern}":\n      v: 1\n` });
    for (const file of ['a.ini', 'a.yml']) {
      const inv = await loadInventory(path.join(root, file));
      expect(inv.hostsOf('g')).toEqual(hosts);
      for (const h of hosts) expect(inv.varsOf(h)).toEqual({ v: 1 });
    }
  });

  test('a host list with ranges and ports', async () => {
    const inv = await loadInventory('web[1:2]:2222,db1,');
    expect([...inv.hosts.keys()]).toEqual(['web1', 'web2', 'db1']);
    expect(inv.varsOf('web2')).toEqual({ ansible_port: 2222 });
  });

  test.each([
    ['a.ini', '[g]\nweb[01:3]\n', "a.ini:2:1: host range in 'web[01:3]' must have begin and end of the same width when zero-padded"],
    ['a.ini', '[g]\nweb[c:a]\n', "a.ini:2:1: host range in 'web[c:a]' must have begin <= end"],
    ['a.ini', '[g]\nweb[1:2:x]\n', "a.ini:2:1: host range in 'web[1:2:x]': 'x' is not a number or a single letter"],
    ['a.ini', '[pg:children]\nprimary\n', 'a.ini:2:1: inventory: section [pg:children] names a group that is never defined: primary'],
    ['a.ini', '[pg:vars]\nx=1\n', 'a.ini:1:1: inventory: section [pg:vars] is for a group that is never defined: pg'],
    ['a.ini', '[pg:hostz]\nh\n', "a.ini:1:1: inventory: section [pg:hostz] has an unknown type 'hostz' (hosts, vars or children)"],
    ['a.ini', '[g]\nh1 novalue\n', "a.ini:2:1: inventory: expected key=value host variable, got 'novalue'"],
    ['a.ini', '[g]\nh1 x="open\n', "a.ini:2:1: inventory: no closing quotation in 'h1 x=\"open'"],
    ['a.ini', '[a]\n[b]\n[a:children]\nb\n[b:children]\na\n', "a.ini:6:1: inventory: adding group 'a' as a child of 'b' makes a loop of groups"],
    ['a.yml', 'g:\n  hosts:\n    "web[1:2":\n', "a.yml:3:5: host range in 'web[1:2' has no closing ']'"],
  ])('%s with %j is an error at its file:line', async (file, text, message) => {
    const root = await tempTree({ [file]: text });
    const err = await loadInventory(path.join(root, file)).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe(`${root}/${message}`);
  });

  test('a failing inventory script is an error that names it and shows its stderr', async () => {
    const root = await tempTree({ 'inv.sh': '#!/bin/sh\necho "no such cloud" >&2\nexit 3\n' });
    await fs.chmod(path.join(root, 'inv.sh'), 0o755);
    const err = await loadInventory(path.join(root, 'inv.sh')).catch((e) => e);
    expect(err).toBeInstanceOf(SourceError);
    expect(err.message).toBe(`inventory script ${root}/inv.sh --list exited with status 3: no such cloud`);
  });

  test('a script without its executable bit says so instead of failing as INI', async () => {
    const root = await tempTree({ 'inv.py': '#!/usr/bin/env python3\nimport json\n' });
    const err = await loadInventory(path.join(root, 'inv.py')).catch((e) => e);
    expect(err.message).toBe(`inventory ${root}/inv.py starts with #! but is not executable: to use it as an inventory script, chmod +x it`);
  });

  test('a missing source says how to write a host list', async () => {
    const err = await loadInventory('/nonexistent/hosts').catch((e) => e);
    expect(err.message).toBe('inventory source /nonexistent/hosts does not exist (a host list needs a comma: "/nonexistent/hosts,")');
  });

  test('plinth run takes an INI inventory and several -i, as ansible-playbook does', async () => {
    const root = await tempTree({
      'hosts.ini': '[app]\napp[1:2] ansible_connection=local\n[app:vars]\nport=5432\n',
      'more.yml': 'app:\n  hosts:\n    app2:\n      port: 6432\n',
      'pb.yml': '- hosts: app\n  gather_facts: false\n  tasks:\n    - copy: { dest: "{{ root }}/{{ inventory_hostname }}", content: "port {{ port }}" }\n',
    });
    const r = await plinth(['run', '-i', path.join(root, 'hosts.ini'), '-i', path.join(root, 'more.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(root, 'app1'), 'utf8')).toBe('port 5432');
    expect(await fs.readFile(path.join(root, 'app2'), 'utf8')).toBe('port 6432');
  });

  test('plinth inventory redacts vault-encrypted group_vars and connection passwords', async () => {
    const root = await tempTree({ 'hosts.ini': '[db]\ndb1 ansible_become_password=Sudo-Pw-123 ansible_host=10.0.0.5\n' });
    await fs.mkdir(path.join(root, 'group_vars'));
    await fs.writeFile(path.join(root, 'group_vars', 'db.yml'), 'replicator_password: S3cret-replicator\n');
    const enc = await plinth(['vault', 'encrypt', path.join(root, 'group_vars', 'db.yml')], { env: { PLINTH_VAULT_PASSWORD: 'vault-pw' } });
    expect(enc.code).toBe(0);
    for (const mode of [['--list'], ['--host', 'db1'], ['--graph', '--vars']]) {
      const r = await plinth(['inventory', '-i', path.join(root, 'hosts.ini'), ...mode], { env: { PLINTH_VAULT_PASSWORD: 'vault-pw' } });
      expect(r.stderr).toBe('');
      expect(r.stdout).toContain('10.0.0.5');
      expect(r.stdout).toContain('********');
      expect(r.stdout).not.toContain('S3cret-replicator');
      expect(r.stdout).not.toContain('Sudo-Pw-123');
    }
  });
});
