// replace on real files: Python's re.subn semantics (MULTILINE, backrefs, named groups), the
// after/before section, check mode, diff, backup, and the second run changing nothing.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { replace, replaceInText } from '../../../modules/replace.js';
import { checkApplyAgain, run } from '../../helpers/modules.js';
import { plinth, tempTree } from '../../helpers/cli.js';

const CONF = `# pgpool.conf
backend_hostname0 = 'pg-primary'
backend_port0 = 5432
backend_hostname1 = 'pg-replica-1'
backend_port1 = 5432
#listen_addresses = 'localhost'
port = 9999
`;

async function tempFile(content: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-replace-'));
  const file = path.join(dir, 'pgpool.conf');
  await fs.writeFile(file, content);
  await fs.chmod(file, 0o644);
  return file;
}

describe('replace', () => {
  test.each([
    ['every match, ^ and $ at each line', { regexp: '^(backend_port\\d) = \\d+$', replace: '\\1 = 5433' }, CONF.replace(/backend_port(\d) = 5432/g, 'backend_port$1 = 5433'), 2],
    ['named groups with \\g<name>', { regexp: "^#(?P<key>listen_addresses) = '[^']*'", replace: "\\g<key> = '*'" }, CONF.replace("#listen_addresses = 'localhost'", "listen_addresses = '*'"), 1],
    [
      'empty replace removes',
      { regexp: '^#.*\\n' },
      CONF.split('\n')
        .filter((l) => !l.startsWith('#'))
        .join('\n'),
      2,
    ],
    ['only after', { regexp: '5432', replace: '6432', after: 'hostname1' }, CONF.replace('backend_port1 = 5432', 'backend_port1 = 6432'), 1],
    ['only before', { regexp: '5432', replace: '6432', before: 'hostname1' }, CONF.replace('backend_port0 = 5432', 'backend_port0 = 6432'), 1],
    ['between after and before', { regexp: "'", replace: '"', after: 'port0', before: 'port1' }, CONF.replace("'pg-replica-1'", '"pg-replica-1"'), 2],
  ])('%s', (_name, args, expected, count) => {
    const r = replaceInText(CONF, { replace: '', ...args });
    expect(r.text).toBe(expected);
    expect(r.count).toBe(count);
  });

  test('after/before that match nothing change nothing and say why', () => {
    expect(replaceInText(CONF, { regexp: 'x', replace: 'y', after: 'nowhere' })).toMatchObject({ text: CONF, count: 0, sectionMissing: 'nowhere(?P<subsection>.*)' });
  });

  test('a real file: check predicts with a diff, the run changes and backs up, the second run is ok', async () => {
    const file = await tempFile(CONF);
    const args = { path: file, regexp: '^port = \\d+$', replace: 'port = 5433', backup: true, mode: '0640' };
    const { check, first, second } = await checkApplyAgain(replace, args);
    expect(check).toMatchObject({
      status: 'changed',
      diffs: [
        { target: file, before: CONF, after: CONF.replace('port = 9999', 'port = 5433') },
        { target: `${file} (attributes)`, before: 'mode: 0644\n', after: 'mode: 0640\n' },
      ],
    });
    expect(first).toMatchObject({ status: 'changed', result: { msg: '1 replacements made' } });
    expect(second.status).toBe('ok');
    expect(await fs.readFile(file, 'utf8')).toBe(CONF.replace('port = 9999', 'port = 5433'));
    expect(await fs.readFile(first.result.backup_file as string, 'utf8')).toBe(CONF);
    expect(((await fs.stat(file)).mode & 0o777).toString(8)).toBe('640');
  });

  test('a missing file and a bad pattern fail clearly', async () => {
    await expect(run(replace, { path: '/nonexistent/x.conf', regexp: 'a' })).rejects.toThrow('replace: path /nonexistent/x.conf does not exist !');
    await expect(run(replace, { path: '/etc/hostname', regexp: '(' })).rejects.toThrow(/regexp is not a valid regular expression/);
  });

  test('in a playbook: Ansible-style, with a bad field named at its file:line', async () => {
    const file = await tempFile(CONF);
    const root = await tempTree({
      'pb.yml': `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - ansible.builtin.replace:\n        path: ${file}\n        regexp: "'pg-([\\\\w-]+)'"\n        replace: "'db-\\\\1'"\n`,
      'bad.yml': `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - replace:\n        path: ${file}\n        regex: x\n`,
    });
    const r = await plinth(['run', '--diff', path.join(root, 'pb.yml')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await fs.readFile(file, 'utf8')).toContain("backend_hostname1 = 'db-replica-1'");
    const bad = await plinth(['run', path.join(root, 'bad.yml')]);
    expect(bad.stderr).toBe(`ERROR! bad.yml:5:9: replace: regexp: missing required field 'regexp'\n`);
    expect(bad.code).toBe(4);
  });
});
