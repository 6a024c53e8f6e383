// Inventories as Ansible reads them: for each case, `plinth inventory --list` must print what
// `ansible-inventory --list` (Debian's ansible-core) prints for the same files: the same hosts,
// groups, children and merged variables. The same inventory written in YAML, INI, as a script
// and as a folder must also resolve identically. ansible-core is required: without it this
// test fails (scripts/install-debian-packages.sh installs it), it never skips.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { plinth, tempTree } from '../../helpers/cli.js';

type Files = Record<string, string>;

interface Case {
  name: string;
  files: Files;
  /** -i sources, relative to the case folder (a host list stays as written). */
  sources: string[];
  /** Files to make executable. */
  executable?: string[];
  playbookDir?: string;
}

const INI = `# The PostgreSQL lab as an Ansible user writes it.
bastion ansible_host=10.0.0.1 # a trailing comment
[primary]
pg1 ansible_host=10.0.0.11 ansible_port=2222 weight=10 ratio=0.5 ssl=True label="primary db" # comment
[replicas]
pg-replica-[1:3] sync=False
web[01:10:3]:2200
db-[a:c]-[1:2]
[replicas:vars]
tier=replica
quoted="a b" # a Python comment
max_lag=16
opts=['-c', 'fsync=on']
conf={'shared_buffers': '128MB', 'port': 5432}
plain=just text here
none=None
octal=010
hex=0x1F
[pg:children]
primary
replicas
later
[later]
late1
[later:vars]
set_after_use=yes
; a comment
[pg:vars]
tier=pg
[empty]
`;

const YAML = `all:
  vars:
    site: lab
    # YAML 1.1, as Ansible reads it: yes is true, 0644 is octal
    enabled: yes
    mode: 0644
    ratio: 1_000
  hosts:
    bastion:
      ansible_host: 10.0.0.1
  children:
    pg:
      vars:
        tier: pg
      children:
        primary:
          hosts:
            pg1:
              ansible_host: 10.0.0.11
              ansible_port: 2222
        replicas:
          vars:
            tier: replica
          hosts:
            "pg-replica-[1:3]":
              sync: false
            "web[01:10:3]:2200":
            "db-[a:c]":
    monitoring:
      hosts:
        pg1:
          scraped: true
`;

const SCRIPT_WITH_META = `#!/bin/sh
if [ "$1" = "--list" ]; then cat <<'EOF'
{
  "pg": {"children": ["primary", "replicas"], "vars": {"tier": "pg"}},
  "primary": ["pg1"],
  "replicas": {"hosts": ["pg2", "pg3"], "vars": {"tier": "replica", "n": 3}},
  "all": {"vars": {"site": "lab"}},
  "_meta": {"hostvars": {"pg1": {"ansible_host": "10.0.0.11"}, "pg3": {"weight": [1, 2]}}}
}
EOF
else echo '{}'; fi
`;

const SCRIPT_WITHOUT_META = `#!/bin/sh
case "$1" in
  --list) echo '{"app": {"hosts": ["a1", "a2"]}, "db": ["d1"]}' ;;
  --host) case "$2" in a1) echo '{"role": "first"}' ;; d1) echo '{"role": "db", "port": 5432}' ;; *) echo '{}' ;; esac ;;
esac
`;

const CASES: Case[] = [
  { name: 'INI: sections, :vars, :children (also before the group), ranges, ports, typed inline vars', files: { 'hosts.ini': INI }, sources: ['hosts.ini'] },
  { name: 'INI file without extension', files: { hosts: INI }, sources: ['hosts'] },
  { name: 'YAML: nested children, ranges with leading zeros and steps, letters, ports', files: { 'inventory.yml': YAML }, sources: ['inventory.yml'] },
  {
    name: 'group_vars/ and host_vars/ beside the inventory: precedence of all, depth and ansible_group_priority',
    files: {
      'inventory.yml': YAML,
      'group_vars/all.yml': 'tier: from-group_vars-all\nsite: group_vars-site\n',
      'group_vars/pg.yml': 'from_pg: 1\ntier: group_vars-pg\n',
      'group_vars/replicas/10.yml': 'tier: group_vars-replicas\nlist: [1]\n',
      'group_vars/replicas/20.yaml': 'list: [2]\n',
      'group_vars/monitoring.yml': 'ansible_group_priority: 10\nwho: monitoring\n',
      'group_vars/primary': 'who: primary\n',
      'host_vars/pg1.yml': 'ansible_port: 2200\n',
      'host_vars/web04/a.yml': 'sync: true\n',
    },
    sources: ['inventory.yml'],
  },
  { name: 'executable script with _meta.hostvars', files: { 'inv.sh': SCRIPT_WITH_META }, sources: ['inv.sh'], executable: ['inv.sh'] },
  { name: 'executable script without _meta: --host per host', files: { 'inv.sh': SCRIPT_WITHOUT_META }, sources: ['inv.sh'], executable: ['inv.sh'] },
  {
    name: 'a folder: every file in name order, subfolders, group_vars beside, .ini/.txt ignored',
    files: {
      'inv/10-base.yml': YAML,
      'inv/20-more': '[replicas]\npg-replica-4 tier=own\n[extra]\nx1\n',
      'inv/30-script': SCRIPT_WITHOUT_META,
      'inv/sub/40-more.yaml': 'extra:\n  hosts:\n    x2:\n      v: 2\n',
      'inv/ignored.ini': '[ignored]\nnever\n',
      'inv/notes.txt': 'not an inventory\n',
      'inv/group_vars/extra.yml': 'extra_var: yes-folder\n',
      'inv/host_vars/x1.yml': 'x1_var: 1\n',
    },
    sources: ['inv'],
    executable: ['inv/30-script'],
  },
  {
    name: 'several -i merged in order: later sources add hosts and override variables',
    files: {
      'a/hosts.yml': YAML,
      'a/group_vars/replicas.yml': 'from_a: 1\ntier: a-replicas\n',
      'b/hosts.ini': '[replicas]\npg-replica-2 sync=True extra=1\n[new]\nn1\n[replicas:vars]\ntier=b-replicas\n',
      'b/group_vars/replicas.yml': 'from_b: 1\n',
    },
    sources: ['a/hosts.yml', 'b/hosts.ini', 'listed1,listed2'],
  },
  {
    name: 'group_vars/ beside the playbook win over those beside the inventory',
    files: {
      'inv/hosts.ini': INI,
      'inv/group_vars/all.yml': 'tier: inv-all\n',
      'inv/group_vars/replicas.yml': 'tier: inv-replicas\nonly_inv: 1\n',
      'play/group_vars/all.yml': 'tier: play-all\n',
      'play/group_vars/replicas.yml': 'tier: play-replicas\n',
      'play/host_vars/pg1.yml': 'weight: 99\n',
    },
    sources: ['inv/hosts.ini'],
    playbookDir: 'play',
  },
];

async function setUp(c: Case): Promise<string> {
  const root = await tempTree(c.files);
  for (const f of c.executable ?? []) await fs.chmod(path.join(root, f), 0o755);
  return root;
}

function sourceArgs(c: Case, root: string): string[] {
  return c.sources.flatMap((s) => ['-i', s.includes(',') ? s : path.join(root, s)]);
}

async function ansibleInventory(args: string[], root: string): Promise<string> {
  // An empty ansible.cfg of its own: no configuration of the machine or the user applies.
  await fs.mkdir(path.join(root, '.ansible'), { recursive: true });
  await fs.writeFile(path.join(root, '.ansible', 'ansible.cfg'), '[defaults]\n');
  const env = {
    ...process.env,
    ANSIBLE_CONFIG: path.join(root, '.ansible', 'ansible.cfg'),
    ANSIBLE_HOME: path.join(root, '.ansible'),
    ANSIBLE_LOCAL_TEMP: path.join(root, '.ansible', 'tmp'),
    ANSIBLE_NOCOLOR: '1',
  };
  return new Promise((resolve, reject) => {
    execFile('ansible-inventory', args, { cwd: root, env, encoding: 'utf8' }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') {
        reject(new Error('ansible-inventory is not installed: run scripts/install-debian-packages.sh (Debian package ansible-core)'));
      } else if (err) reject(new Error(`ansible-inventory ${args.join(' ')} failed: ${stderr}`));
      else resolve(stdout);
    });
  });
}

async function both(c: Case, mode: string[]): Promise<{ ansible: string; plinth: string; root: string }> {
  const root = await setUp(c);
  const args = [...sourceArgs(c, root), ...mode, ...(c.playbookDir ? ['--playbook-dir', path.join(root, c.playbookDir)] : [])];
  const [ansible, ours] = await Promise.all([ansibleInventory(args, root), plinth(['inventory', ...args])]);
  expect(ours.stderr).toBe('');
  expect(ours.code).toBe(0);
  return { ansible, plinth: ours.stdout, root };
}

describe('plinth inventory --list prints what ansible-inventory --list prints', () => {
  test.each(CASES.map((c) => [c.name, c] as const))(
    '%s',
    async (_name, c) => {
      const { ansible, plinth: ours, root } = await both(c, ['--list']);
      const expected = JSON.parse(ansible);
      // Sanity: the case has hosts (a comparison of two empty inventories proves nothing).
      expect(Object.keys(expected._meta.hostvars).length + (expected.ungrouped?.hosts?.length ?? 0)).toBeGreaterThan(0);
      expect(JSON.parse(ours)).toEqual(expected);
      await fs.rm(root, { recursive: true, force: true });
    },
    120_000,
  );
});

describe('--graph and --host print what ansible-inventory prints', () => {
  test.each([CASES[0], CASES[3], CASES[6]].map((c) => [c.name, c] as const))(
    '--graph: %s',
    async (_name, c) => {
      const { ansible, plinth: ours, root } = await both(c, ['--graph']);
      expect(ours).toBe(ansible.endsWith('\n') ? ansible : `${ansible}\n`);
      await fs.rm(root, { recursive: true, force: true });
    },
    120_000,
  );

  test('--host web04 with group_vars and host_vars', async () => {
    const { ansible, plinth: ours, root } = await both(CASES[3], ['--host', 'web04']);
    expect(JSON.parse(ours)).toEqual(JSON.parse(ansible));
    expect(JSON.parse(ours)).toMatchObject({ sync: true, ansible_port: 2200, tier: 'group_vars-replicas', list: [2] });
    await fs.rm(root, { recursive: true, force: true });
  }, 120_000);
});

describe('one inventory in every format resolves to the same hosts and variables', () => {
  const ini = `[primary]
pg1 ansible_host=10.0.0.11 ansible_port=2222
[replicas]
pg-replica-[01:03] sync=False
[replicas:vars]
tier=replica
n=3
[pg:children]
primary
replicas
`;
  const yaml = `pg:
  children:
    primary:
      hosts:
        pg1: { ansible_host: 10.0.0.11, ansible_port: 2222 }
    replicas:
      vars: { tier: replica, n: 3 }
      hosts:
        "pg-replica-[01:03]": { sync: false }
`;
  const script = `#!/bin/sh
[ "$1" = "--list" ] && cat <<'EOF'
{"pg": {"children": ["primary", "replicas"]}, "primary": ["pg1"],
 "replicas": {"hosts": ["pg-replica-01", "pg-replica-02", "pg-replica-03"], "vars": {"tier": "replica", "n": 3}},
 "_meta": {"hostvars": {"pg1": {"ansible_host": "10.0.0.11", "ansible_port": 2222},
   "pg-replica-01": {"sync": false}, "pg-replica-02": {"sync": false}, "pg-replica-03": {"sync": false}}}}
EOF
`;
  test('INI, YAML, script and a folder of two halves', async () => {
    const root = await tempTree({
      'hosts.ini': ini,
      'hosts.yml': yaml,
      'hosts.sh': script,
      'split/a.yml': 'primary:\n  hosts:\n    pg1: { ansible_host: 10.0.0.11, ansible_port: 2222 }\n',
      'split/b': ini.split('[replicas]')[1].replace(/^/, '[replicas]'),
    });
    await fs.chmod(path.join(root, 'hosts.sh'), 0o755);
    const outputs = await Promise.all(['hosts.ini', 'hosts.yml', 'hosts.sh', 'split'].map((s) => plinth(['inventory', '-i', path.join(root, s), '--list'])));
    for (const o of outputs) expect(o.stderr).toBe('');
    const [first, ...rest] = outputs.map((o) => JSON.parse(o.stdout));
    expect(first._meta.hostvars['pg-replica-02']).toEqual({ sync: false, tier: 'replica', n: 3 });
    for (const other of rest) expect(other._meta).toEqual(first._meta);
    // The folder lists pg as the last top group; the hosts and variables are the same.
    for (const other of rest) for (const g of ['primary', 'replicas']) expect(other[g]).toEqual(first[g]);
    await fs.rm(root, { recursive: true, force: true });
  }, 120_000);
});

describe("group order and subscripts are Ansible's", () => {
  const ini = `[primary]
pg1
[replicas]
r1
r2
[pg:children]
replicas
primary
[pg]
pgdirect
[other]
r2
`;

  async function ansible(args: string[], root: string): Promise<string> {
    await fs.mkdir(path.join(root, '.ansible'), { recursive: true });
    await fs.writeFile(path.join(root, '.ansible', 'ansible.cfg'), '[defaults]\n');
    const env = {
      ...process.env,
      ANSIBLE_CONFIG: path.join(root, '.ansible', 'ansible.cfg'),
      ANSIBLE_HOME: path.join(root, '.ansible'),
      ANSIBLE_LOCAL_TEMP: path.join(root, '.ansible', 'tmp'),
      ANSIBLE_NOCOLOR: '1',
    };
    return new Promise((resolve, reject) => {
      execFile('ansible', args, { cwd: root, env, encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`ansible ${args.join(' ')}: ${stderr}${stdout}`)) : resolve(stdout)));
    });
  }

  test("groups[...] lists each group's hosts in the order Ansible gives them", async () => {
    const root = await tempTree({ 'h.ini': ini, 'pb.yml': '- hosts: localhost\n  gather_facts: false\n  tasks:\n    - debug: { var: groups }\n' });
    // "localhost | SUCCESS => {...}"
    const printed = await ansible(['localhost', '-i', path.join(root, 'h.ini'), '-m', 'debug', '-a', 'var=groups'], root);
    const expected = JSON.parse(printed.slice(printed.indexOf('=>') + 2)).groups;
    const ours = await plinth(['run', '--json', '-i', path.join(root, 'h.ini'), path.join(root, 'pb.yml')]);
    const result = ours.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'result');
    expect(result.result.groups).toEqual(expected);
    expect(expected.pg).toEqual(['pgdirect', 'r1', 'r2', 'pg1']);
    await fs.rm(root, { recursive: true, force: true });
  }, 120_000);

  test.each(['pg[0]', 'pg[1:2]', 'pg[-1]', 'replicas[1:]', 'pg[0]:primary', 'pg:!replicas[0]'])(
    '--limit %s selects the hosts Ansible selects',
    async (pattern) => {
      const root = await tempTree({ 'h.ini': ini, 'pb.yml': '- hosts: all\n  gather_facts: false\n  tasks: []\n' });
      const listed = (await ansible(['all', '-i', path.join(root, 'h.ini'), '--limit', pattern, '--list-hosts'], root))
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean);
      const ours = await plinth(['run', '-i', path.join(root, 'h.ini'), path.join(root, 'pb.yml'), '--limit', pattern, '--list-hosts']);
      expect(ours.code).toBe(0);
      const mine = ours.stdout
        .split('\n')
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean);
      expect(mine.sort()).toEqual(listed.sort());
      await fs.rm(root, { recursive: true, force: true });
    },
    120_000,
  );
});
