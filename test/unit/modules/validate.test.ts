// validate on copy, template and replace with the checkers Ansible users name (visudo -cf %s,
// pgpool -f %s -n style): a rejected file leaves the old one in place and no temporary file
// behind; copy's remote_src copies a file already on the host.
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { copy } from '../../../modules/copy.js';
import { template } from '../../../modules/template.js';
import { replace } from '../../../modules/replace.js';
import { checkApplyAgain, run } from '../../helpers/modules.js';

const visudo = ['/usr/sbin/visudo', '/usr/bin/visudo'].find((p) => existsSync(p));

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), 'plinth-validate-'));
}

describe.runIf(visudo)('validate', () => {
  test('copy: a sudoers file visudo rejects is not written; one it accepts is, once', async () => {
    const dir = await tempDir();
    const dest = path.join(dir, 'postgres');
    await fs.writeFile(dest, 'postgres ALL=(root) NOPASSWD: /usr/bin/systemctl restart pgpool2\n');
    await expect(run(copy, { dest, content: 'postgres ALL=(root NOPASSWD\n', validate: `${visudo} -cf %s` })).rejects.toThrow(
      new RegExp(`^failed to validate ${dest} with '${visudo} -cf %s': rc 1: `),
    );
    expect(await fs.readFile(dest, 'utf8')).toContain('restart pgpool2');
    expect(await fs.readdir(dir)).toEqual(['postgres']);
    const good = 'postgres ALL=(root) NOPASSWD: /usr/bin/systemctl reload pgpool2\n';
    const { first, second } = await checkApplyAgain(copy, { dest, content: good, mode: '0440', validate: `${visudo} -cf %s` });
    expect([first.status, second.status]).toEqual(['changed', 'ok']);
    expect(await fs.readFile(dest, 'utf8')).toBe(good);
    expect(await fs.readdir(dir)).toEqual(['postgres']);
  });

  test('template and replace validate too', async () => {
    const dir = await tempDir();
    await fs.mkdir(path.join(dir, 'templates'));
    await fs.writeFile(path.join(dir, 'templates', 'sudoers.ejs'), '<%= user %> ALL=(root) NOPASSWD: <%= cmd %>\n');
    const dest = path.join(dir, 'app');
    const args = { src: 'sudoers.ejs', dest, validate: `${visudo} -cf %s` };
    await expect(run(template, args, { baseDirs: [dir], vars: { user: 'app', cmd: 'not-absolute' } })).rejects.toThrow(/failed to validate/);
    expect(existsSync(dest)).toBe(false);
    expect((await run(template, args, { baseDirs: [dir], vars: { user: 'app', cmd: '/bin/true' } })).status).toBe('changed');
    await expect(run(replace, { path: dest, regexp: '/bin/true', replace: 'true', validate: `${visudo} -cf %s` })).rejects.toThrow(/failed to validate/);
    expect(await fs.readFile(dest, 'utf8')).toBe('app ALL=(root) NOPASSWD: /bin/true\n');
  });
});

describe('copy remote_src', () => {
  test('copies a file that is on the host; a missing one is named', async () => {
    const dir = await tempDir();
    const src = path.join(dir, 'pgpool.conf.sample');
    await fs.writeFile(src, 'port = 9999\n');
    const dest = path.join(dir, 'pgpool.conf');
    const { check, first, second } = await checkApplyAgain(copy, { src, dest, remote_src: true });
    expect([check.status, first.status, second.status]).toEqual(['changed', 'changed', 'ok']);
    expect(await fs.readFile(dest, 'utf8')).toBe('port = 9999\n');
    await expect(run(copy, { src: path.join(dir, 'nope'), dest, remote_src: true })).rejects.toThrow(`copy: src ${path.join(dir, 'nope')} does not exist on localhost`);
  });
});
