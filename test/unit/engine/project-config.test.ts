// plinth.cfg, the project defaults file in ansible.cfg's INI form: found in the working folder
// (or through PLINTH_CONFIG), read as written, and applied by the CLI under its own options.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseProjectConfig } from '../../../engine/cli/project-config.js';
import { SourceError } from '../../../engine/load/yaml.js';
import { plinth, plinthJson, tempTree } from '../../helpers/cli.js';

const ANSIBLE_CFG = `# copied from the team's ansible.cfg
[defaults]
inventory = inventory/hosts.ini, extra.yml
forks = 2
roles_path = myroles:/opt/shared/roles
vault_password_file = .vault-pass   ; kept out of git
host_key_checking = False
remote_user = deploy
private_key_file = keys/id_ed25519
retry_files_enabled = False
stdout_callback = yaml

[privilege_escalation]
become = True
become_method = su
become_user = postgres

[ssh_connection]
pipelining = True
`;

describe('parsing plinth.cfg', () => {
  it('reads what plinth uses from an ansible.cfg copied whole, paths relative to the file, and lists the rest', () => {
    const c = parseProjectConfig(ANSIBLE_CFG, '/srv/project/plinth.cfg');
    expect(c.inventory).toEqual(['/srv/project/inventory/hosts.ini', '/srv/project/extra.yml']);
    expect(c.forks).toBe(2);
    expect(c.rolesPath).toEqual(['/srv/project/myroles', '/opt/shared/roles']);
    expect(c.vaultPasswordFile).toBe('/srv/project/.vault-pass');
    expect(c.hostDefaults).toEqual({
      ansible_host_key_checking: 'False',
      ansible_user: 'deploy',
      ansible_ssh_private_key_file: '/srv/project/keys/id_ed25519',
      ansible_become: 'True',
      ansible_become_method: 'su',
      ansible_become_user: 'postgres',
    });
    expect(c.ignored).toEqual(['[defaults] retry_files_enabled', '[defaults] stdout_callback', '[ssh_connection] pipelining']);
  });

  it.each([
    ['[defaults]\nforks = many\n', "/p/plinth.cfg:2:1: plinth config: forks must be a positive integer, got 'many'"],
    ['forks = 2\n', "/p/plinth.cfg:1:1: plinth config: 'forks' is outside a section; put it under [defaults]"],
    ['[defaults]\njust words\n', '/p/plinth.cfg:2:1: plinth config: expected "key = value" or a [section], got \'just words\''],
  ])('%j is an error at its line', (text, message) => {
    const err = (() => {
      try {
        parseProjectConfig(text, '/p/plinth.cfg');
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(SourceError);
    expect(err!.message).toBe(message);
  });
});

describe('plinth.cfg in a project', () => {
  const project = async () => {
    const root = await tempTree({
      'plinth.cfg': '[defaults]\ninventory = inventory/hosts.ini\nforks = 1\nroles_path = myroles\nvault_password_file = .vault-pass\nremote_user = deploy-from-cfg\n',
      'inventory/hosts.ini': '[app]\nh[1:3] ansible_connection=local\n',
      'inventory/group_vars/app.yml': 'db_password: Sekret-From-Vault\n',
      '.vault-pass': 'vault-pw\n',
      'myroles/greeter/tasks/main.yml': '- shell: echo "begin {{ inventory_hostname }}" >> {{ log }}; sleep 0.1; echo "end {{ inventory_hostname }}" >> {{ log }}\n',
      'site.yml': `- hosts: app
  gather_facts: false
  roles: [greeter]
  tasks:
    - copy: { dest: "{{ log }}.{{ inventory_hostname }}", content: "{{ ansible_user }} {{ db_password.length }}" }
`,
    });
    const enc = await plinth(['vault', 'encrypt', path.join(root, 'inventory/group_vars/app.yml')], { env: { PLINTH_VAULT_PASSWORD: 'vault-pw' } });
    expect(enc.code).toBe(0);
    return root;
  };

  it('plinth run with no -i, -f or --vault-password-file: inventory, forks, roles path, vault password and remote user come from it', async () => {
    const root = await project();
    const log = path.join(root, 'run.log');
    const r = await plinthJson(['site.yml', '-e', `log=${log}`], { cwd: root });
    expect(r.stderr).not.toContain('ERROR');
    expect(r.code).toBe(0);
    expect(
      r.events
        .filter((e) => e.type === 'result')
        .map((e) => e.host)
        .sort(),
    ).toEqual(['h1', 'h1', 'h2', 'h2', 'h3', 'h3']);
    // forks = 1: one host at a time, each begin followed by its end.
    const lines = (await fs.readFile(log, 'utf8')).trim().split('\n');
    expect(lines).toEqual(['begin h1', 'end h1', 'begin h2', 'end h2', 'begin h3', 'end h3']);
    expect(await fs.readFile(`${log}.h2`, 'utf8')).toBe('deploy-from-cfg 17');
  }, 120_000);

  it('command-line options win: -i replaces its inventory; PLINTH_CONFIG names another file', async () => {
    const root = await project();
    await fs.writeFile(path.join(root, 'other.ini'), '[app]\nonly ansible_connection=local\n');
    const log = path.join(root, 'run.log');
    // group_vars/ beside the cfg's inventory are not read for other.ini: db_password comes from -e.
    const r = await plinthJson(['-i', 'other.ini', 'site.yml', '-e', `log=${log}`, '-e', 'db_password=x'], { cwd: root });
    expect(r.code).toBe(0);
    expect([...new Set(r.events.filter((e) => e.type === 'result').map((e) => e.host))]).toEqual(['only']);
    await fs.rename(path.join(root, 'plinth.cfg'), path.join(root, 'team.cfg'));
    const listed = await plinth(['inventory', '--graph'], { cwd: root, env: { PLINTH_CONFIG: 'team.cfg' } });
    expect(listed.stdout).toBe('@all:\n  |--@ungrouped:\n  |--@app:\n  |  |--h1\n  |  |--h2\n  |  |--h3\n');
  }, 120_000);
});
