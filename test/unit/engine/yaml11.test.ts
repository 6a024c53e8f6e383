// Playbooks, vars files and inventories are read as Ansible reads them: YAML 1.1 (PyYAML).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promises as fs, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { localInventory, plinth, statuses, tempTree } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';
import { startTempCluster, type TempCluster } from '../postgres/temp-cluster.js';

const modeOf = async (p: string) => ((await fs.stat(p)).mode & 0o777).toString(8);

async function runIn(files: Record<string, string>, flags: string[] = []) {
  const root = await tempTree({ 'inv.yml': localInventory(['h1']), ...files });
  const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`, ...flags]);
  return { ...r, root };
}

describe('YAML 1.1 in keywords and module arguments', () => {
  it('yes/no/on/off are booleans and 0640 is an octal mode, as Ansible reads them', async () => {
    const r = await runIn({
      'pb.yml': `- hosts: all
  gather_facts: no
  become: no
  tasks:
    - name: touch
      file: { path: "{{ root }}/touched", state: touch, mode: 0640 }
    - name: line
      lineinfile: { path: "{{ root }}/lines", line: first, create: yes }
    - name: keyvalue
      lineinfile: path={{ root }}/kv line=second create=yes
    - name: off switch
      command: echo x
      when: off
    - name: on switch
      copy: { dest: "{{ root }}/on", content: "on", force: On }
      ignore_errors: YES
`,
    });
    expect(r.code).toBe(0);
    expect(statuses(r.events)).toEqual(['touch=changed', 'line=changed', 'keyvalue=changed', 'off switch=skipped', 'on switch=changed']);
    expect(await modeOf(path.join(r.root, 'touched'))).toBe('640');
    expect(await fs.readFile(path.join(r.root, 'lines'), 'utf8')).toBe('first\n');
    expect(await fs.readFile(path.join(r.root, 'kv'), 'utf8')).toBe('second\n');
  });

  it('a vars file value 0600 used as a mode is the mode 0600; y and n stay strings', async () => {
    const r = await runIn({
      'vars.yml': 'file_mode: 0600\nanswer: n\nenabled: on\n',
      'pb.yml': `- hosts: all
  gather_facts: false
  vars_files: [vars.yml]
  tasks:
    - name: write
      copy: { dest: "{{ root }}/f", content: "{{ answer }} {{ typeof enabled }} {{ file_mode }}", mode: "{{ file_mode }}" }
`,
    });
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(r.root, 'f'), 'utf8')).toBe('n boolean 384');
    expect(await modeOf(path.join(r.root, 'f'))).toBe('600');
  });

  it('inventory variables: ansible_become: yes is true', async () => {
    const root = await tempTree({
      'inv.yml': `all:\n  hosts:\n    h1:\n      ansible_connection: local\n      ansible_become: yes\n      ansible_become_user: nobody\n`,
      'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - { command: id -un, register: who }\n    - { copy: { dest: "{{ root }}/who", content: "{{ who.stdout }}" }, become: no }\n`,
    });
    const r = await engineJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`]);
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(root, 'who'), 'utf8')).toBe('nobody');
  });

  it('-e with a YAML mapping reads it as YAML 1.1 too', async () => {
    const r = await runIn({ 'pb.yml': `- hosts: all\n  gather_facts: false\n  tasks:\n    - { copy: { dest: "{{ root }}/e", content: "{{ typeof flag }} {{ flag }}" } }\n` }, ['-e', '{flag: yes}']);
    expect(await fs.readFile(path.join(r.root, 'e'), 'utf8')).toBe('boolean true');
  });

  it('positions stay exact after YAML 1.1 values (file:line:col of the error)', async () => {
    const root = await tempTree({
      'pb.yml': `- hosts: all\n  gather_facts: no\n  tasks:\n    - name: a\n      file: { path: /tmp/x, mode: 0644, state: touch }\n      when: yes\n    - name: b\n      comand: ls\n`,
    });
    const r = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(r.stderr).toBe(`ERROR! pb.yml:8:7: unknown module 'comand' (did you mean 'command'?)\n`);
    expect(r.code).toBe(4);
  });
});

describe('PostgreSQL settings written on/off still mean on/off', () => {
  let pg: TempCluster;
  beforeAll(async () => {
    pg = await startTempCluster();
  }, 120_000);
  afterAll(() => pg?.stop());

  it('postgres_conf settings: synchronous_commit: off, fsync: on', async () => {
    const r = await runIn({
      'pb.yml': `- hosts: all
  gather_facts: false
  tasks:
    - name: conf
      postgres_conf:
        data_dir: ${pg.args.data_dir}
        port: ${pg.args.port}
        socket_dir: ${pg.args.socket_dir}
        settings:
          synchronous_commit: off
          fsync: on
`,
    });
    expect(r.code).toBe(0);
    const text = readFileSync(path.join(pg.dataDir, 'postgresql.conf'), 'utf8');
    expect(text).toMatch(/^synchronous_commit = off/m);
    // fsync is on by default: nothing written for it, and the second run changes nothing.
    const again = await engineJson(['-i', path.join(r.root, 'inv.yml'), path.join(r.root, 'pb.yml'), '-e', `root=${r.root}`]);
    expect(statuses(again.events)).toEqual(['conf=ok']);
  }, 120_000);
});
