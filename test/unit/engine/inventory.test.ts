// Inventories in Ansible's YAML shape, with group_vars/ and host_vars/ beside them (file and folder forms).
import { describe, expect, it } from 'vitest';
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
      'inventory/hosts.yml': 'all:\n  children:\n    app:\n      hosts:\n        h1:\n          ansible_connection: local\n          ansible_become: true\n          ansible_become_user: nobody\n        h2:\n          ansible_connection: local\n',
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
