// Where a playbook's files are looked for, as in Ansible: a role's files/, the role's folder,
// then the playbook folder's files/ and the playbook's folder; never plinth's own repository.
// `copy: src: package.json` from a playbook outside plinth used to copy plinth's package.json.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempTrees } from '../../helpers/cli.js';
import { engineJson } from '../../helpers/engine.js';

const tree = tempTrees();

const failures = (events: Record<string, any>[]) => events.filter((e) => e.type === 'result' && e.status === 'failed').map((e) => e.message as string);

describe('copy src from a playbook outside plinth', () => {
  it("package.json is not found: plinth's own package.json is not on the search path", async () => {
    const dir = await tree({
      'pb.yml': `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - copy:
        src: package.json
        dest: "{{ out }}/copied.json"
`,
    });
    const r = await engineJson(['pb.yml', '-e', `out=${dir}`], { cwd: dir });
    expect(r.code).toBe(2);
    expect(failures(r.events)).toEqual([`pb.yml:5:7: src 'package.json' not found; looked in: ${dir}/files/package.json, ${dir}/package.json`]);
    expect(existsSync(path.join(dir, 'copied.json'))).toBe(false);
  });

  it("a role's task looks in the role's files/, the role, the playbook's files/, the playbook's folder, in that order", async () => {
    const dir = await tree({
      'files/shared.txt': 'from the playbook\n',
      'roles/app/files/own.txt': 'from the role\n',
      'roles/app/tasks/main.yml': `- copy: {src: own.txt, dest: "{{ out }}/own.txt"}
- copy: {src: shared.txt, dest: "{{ out }}/shared.txt"}
- copy: {src: nowhere.txt, dest: "{{ out }}/nowhere.txt"}
`,
      'pb.yml': `- hosts: localhost
  connection: local
  gather_facts: false
  roles: [app]
`,
    });
    const r = await engineJson(['pb.yml', '-e', `out=${dir}`], { cwd: dir });
    expect(await fs.readFile(path.join(dir, 'own.txt'), 'utf8')).toBe('from the role\n');
    expect(await fs.readFile(path.join(dir, 'shared.txt'), 'utf8')).toBe('from the playbook\n');
    const role = path.join(dir, 'roles', 'app');
    expect(failures(r.events)).toEqual([
      `roles/app/tasks/main.yml:3:3: src 'nowhere.txt' not found; looked in: ${role}/files/nowhere.txt, ${role}/nowhere.txt, ${dir}/files/nowhere.txt, ${dir}/nowhere.txt`,
    ]);
  });

  it("a template is looked for the same way, under templates/: plinth's own templates are not on the path", async () => {
    const dir = await tree({
      'pb.yml': `- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - template:
        src: pgpool/pgpool.conf.ejs
        dest: "{{ out }}/pgpool.conf"
`,
    });
    const r = await engineJson(['pb.yml', '-e', `out=${dir}`], { cwd: dir });
    expect(failures(r.events)).toEqual([`pb.yml:5:7: src 'pgpool/pgpool.conf.ejs' not found; looked in: ${dir}/templates/pgpool/pgpool.conf.ejs, ${dir}/pgpool/pgpool.conf.ejs`]);
  });
});
