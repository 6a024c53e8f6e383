// unarchive with real zip archives (made by Info-ZIP's zip): read on the controller, compared by
// checksum with what dest holds, written file by file; the format found by name or first bytes.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { unarchive } from '../../../modules/unarchive.js';
import { plinth } from '../../helpers/cli.js';
import { checkApplyAgain, run } from '../../helpers/modules.js';

let base: string;
let zipFile: string;
const modeOf = async (p: string) => ((await fs.stat(p)).mode & 0o7777).toString(8);

beforeEach(async () => {
  base = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-unzip-'));
  const src = path.join(base, 'src');
  await fs.mkdir(path.join(src, 'pgpool-tools', 'bin'), { recursive: true });
  await fs.writeFile(path.join(src, 'pgpool-tools', 'bin', 'failover.sh'), '#!/bin/sh\necho failover\n', { mode: 0o750 });
  await fs.writeFile(path.join(src, 'pgpool-tools', 'README'), 'tools\n', { mode: 0o644 });
  await fs.writeFile(path.join(src, 'pgpool-tools', 'empty'), '');
  await fs.mkdir(path.join(base, 'files'));
  zipFile = path.join(base, 'files', 'pgpool-tools.zip');
  // -X: no extra uid/gid fields; members as zip lists them: directories first.
  execFileSync('zip', ['-q', '-r', '-X', zipFile, 'pgpool-tools'], { cwd: src });
});
afterEach(async () => {
  await fs.rm(base, { recursive: true, force: true });
});

describe('unarchive of a zip archive', () => {
  test('from the controller: check predicts, the first run unpacks with the members’ modes, the second changes nothing', async () => {
    const dest = path.join(base, 'opt');
    await fs.mkdir(dest);
    const args = { src: 'pgpool-tools.zip', dest, list_files: true };
    const { check, first, second } = await checkApplyAgain(unarchive, args, { baseDirs: [base] });
    expect(check).toMatchObject({ status: 'changed', summary: `sync ${dest} from pgpool-tools.zip: 5 added` });
    expect(check.diffs?.[0].after).toContain('pgpool-tools/bin/failover.sh 0750 24 bytes sha256:');
    expect(first.status).toBe('changed');
    expect(second.status).toBe('ok');
    // The names as the archive lists them (zip -r's order follows the directory listing).
    expect([...(second.result.files as string[])].sort()).toEqual(['pgpool-tools/', 'pgpool-tools/README', 'pgpool-tools/bin/', 'pgpool-tools/bin/failover.sh', 'pgpool-tools/empty']);
    expect(await fs.readFile(path.join(dest, 'pgpool-tools', 'bin', 'failover.sh'), 'utf8')).toBe('#!/bin/sh\necho failover\n');
    expect(await modeOf(path.join(dest, 'pgpool-tools', 'bin', 'failover.sh'))).toBe('750');
    expect(await fs.readFile(path.join(dest, 'pgpool-tools', 'empty'), 'utf8')).toBe('');
    // unzip itself unpacks the same files with the same modes.
    const byUnzip = path.join(base, 'unzip');
    execFileSync('unzip', ['-q', zipFile, '-d', byUnzip]);
    for (const f of ['bin/failover.sh', 'README', 'empty']) {
      expect(await fs.readFile(path.join(dest, 'pgpool-tools', f))).toEqual(await fs.readFile(path.join(byUnzip, 'pgpool-tools', f)));
      expect(await modeOf(path.join(dest, 'pgpool-tools', f))).toBe(await modeOf(path.join(byUnzip, 'pgpool-tools', f)));
    }
  });

  test('a changed member is put back, files the archive lacks stay; creates skips; owner is applied', async () => {
    const dest = path.join(base, 'opt');
    await fs.mkdir(dest);
    await run(unarchive, { src: 'pgpool-tools.zip', dest }, { baseDirs: [base] });
    await fs.writeFile(path.join(dest, 'pgpool-tools', 'README'), 'edited\n');
    await fs.writeFile(path.join(dest, 'pgpool-tools', 'local.conf'), 'mine\n');
    const again = await run(unarchive, { src: 'pgpool-tools.zip', dest }, { baseDirs: [base] });
    expect(again).toMatchObject({ status: 'changed', summary: `sync ${dest} from pgpool-tools.zip: 1 updated`, result: { updated: ['pgpool-tools/README'] } });
    expect(await fs.readFile(path.join(dest, 'pgpool-tools', 'README'), 'utf8')).toBe('tools\n');
    expect(await fs.readFile(path.join(dest, 'pgpool-tools', 'local.conf'), 'utf8')).toBe('mine\n');
    expect((await run(unarchive, { src: 'pgpool-tools.zip', dest, creates: path.join(dest, 'pgpool-tools') }, { baseDirs: [base] })).summary).toMatch(/since .* exists/);
    const owned = await run(unarchive, { src: 'pgpool-tools.zip', dest, owner: 'nobody' }, { baseDirs: [base] });
    expect(owned.summary).toBe(`sync ${dest} from pgpool-tools.zip: 5 updated`);
    expect((await fs.stat(path.join(dest, 'pgpool-tools', 'bin', 'failover.sh'))).uid).not.toBe(0);
    expect((await run(unarchive, { src: 'pgpool-tools.zip', dest, owner: 'nobody' }, { baseDirs: [base] })).status).toBe('ok');
  });

  test('the format from the first bytes when the name tells nothing; remote_src reads the archive from the host', async () => {
    const dest = path.join(base, 'opt');
    await fs.mkdir(dest);
    const disguised = path.join(base, 'tools.bundle');
    await fs.copyFile(zipFile, disguised);
    expect((await run(unarchive, { src: disguised, dest, remote_src: true })).summary).toBe(`sync ${dest} from ${disguised}: 5 added`);
    expect((await run(unarchive, { src: disguised, dest, remote_src: true })).status).toBe('ok');
    const tarball = path.join(base, 'tools.download');
    // Of the tree as unpacked: zip members are written without their times, so a tar of src matched only within the same second.
    execFileSync('tar', ['-czf', tarball, '-C', dest, 'pgpool-tools']);
    expect((await run(unarchive, { src: tarball, dest: path.join(base, 'opt'), remote_src: true })).status).toBe('ok');
    await fs.writeFile(path.join(base, 'notes.txt'), 'not an archive\n');
    await expect(run(unarchive, { src: path.join(base, 'notes.txt'), dest, remote_src: true })).rejects.toThrow(
      `unarchive: ${path.join(base, 'notes.txt')} is neither a tar nor a zip archive (by its name or its first bytes)`,
    );
  });

  test('bad input: tar options for a zip, a corrupt zip; named at file:line in a playbook', async () => {
    const dest = path.join(base, 'opt');
    await fs.mkdir(dest);
    await expect(run(unarchive, { src: 'pgpool-tools.zip', dest, extra_opts: ['--strip-components=1'] }, { baseDirs: [base] })).rejects.toThrow(
      'unarchive: extra_opts are tar options; pgpool-tools.zip is a zip archive',
    );
    const bytes = await fs.readFile(zipFile);
    await fs.writeFile(path.join(base, 'files', 'cut.zip'), bytes.subarray(0, bytes.length - 30));
    await expect(run(unarchive, { src: 'cut.zip', dest }, { baseDirs: [base] })).rejects.toThrow(/^unarchive: cut.zip is not a zip archive yauzl can read: /);
    await fs.writeFile(
      path.join(base, 'pb.yml'),
      [
        '- hosts: localhost',
        '  gather_facts: false',
        '  tasks:',
        '    - name: tools',
        '      ansible.builtin.unarchive:',
        '        src: pgpool-tools.zip',
        `        dest: ${dest}`,
        '        extra_opts: [-o]',
        '',
      ].join('\n'),
    );
    const r = await plinth(['run', path.join(base, 'pb.yml')]);
    expect(r.stdout).toContain(`fatal: [localhost] => pb.yml:4:7: unarchive: extra_opts are tar options; pgpool-tools.zip is a zip archive`);
  });
});
