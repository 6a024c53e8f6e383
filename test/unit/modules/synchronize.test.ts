// copy with a directory src and synchronize (with delete): real trees on this machine, then over
// ssh to a real sshd on 127.0.0.1, then written the Ansible way and run with the CLI as typed.
import { promises as fs, readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { SshHost } from '../../../engine/connection/ssh.js';
import { copy } from '../../../modules/copy.js';
import { rsyncPattern, synchronize } from '../../../modules/synchronize.js';
import { parseHostTree } from '../../../modules/support/file-tree.js';
import { PLINTH_ROOT } from '../../../engine/paths.js';
import { plinth, tempTree, writeTree } from '../../helpers/cli.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';
import { sshOptionsTo, startSshd, type TestSshd } from '../../helpers/sshd.js';

let dir: string;
let files: string;

/** path → "mode content" (or "mode/" for a directory) of everything below root. */
async function treeOf(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (rel: string) => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const child = rel ? `${rel}/${name}` : name;
      const st = await fs.lstat(path.join(root, child));
      const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
      if (st.isDirectory()) {
        out[`${child}/`] = mode;
        await walk(child);
      } else out[child] = `${mode} ${await fs.readFile(path.join(root, child), 'utf8')}`;
    }
  };
  await walk('');
  return out;
}

beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-tree-'));
  files = path.join(dir, 'files');
  await writeTree(files, {
    'conf.d/10-memory.conf': 'shared_buffers = 1GB\n',
    'conf.d/20-logging.conf': 'log_min_duration_statement = 250\n',
    'conf.d/tuning/work_mem.conf': 'work_mem = 16MB\n',
    'conf.d/.git/HEAD': 'ref: refs/heads/main\n',
  });
  await fs.chmod(path.join(files, 'conf.d/20-logging.conf'), 0o600);
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('copy with a directory src', () => {
  test("'conf.d' copies the directory itself: check predicts, the first run creates, the second changes nothing", async () => {
    const dest = path.join(dir, 'etc');
    const { check, first, second } = await checkApplyAgain(copy, { src: 'conf.d', dest, mode: '0640', directory_mode: '0750' }, { baseDirs: [dir] });
    expect(check).toMatchObject({ status: 'changed', summary: `create ${dest}/conf.d from ${files}/conf.d: 6 added` });
    expect(check.diffs?.[0].after).toContain('tuning/work_mem.conf 0640 16 bytes sha256:');
    expect(first).toMatchObject({ status: 'changed', summary: check.summary });
    expect(second).toMatchObject({ status: 'ok', summary: `${dest}/conf.d holds ${files}/conf.d` });
    expect(await treeOf(dest)).toEqual({
      'conf.d/': '0750',
      'conf.d/.git/': '0750',
      'conf.d/.git/HEAD': '0640 ref: refs/heads/main\n',
      'conf.d/10-memory.conf': '0640 shared_buffers = 1GB\n',
      'conf.d/20-logging.conf': '0640 log_min_duration_statement = 250\n',
      'conf.d/tuning/': '0750',
      'conf.d/tuning/work_mem.conf': '0640 work_mem = 16MB\n',
    });
  });

  test("'conf.d/' copies its contents; a changed file is replaced (new inode), extra files stay, force: false keeps it", async () => {
    const dest = path.join(dir, 'main');
    await fs.mkdir(dest);
    await writeTree(dest, { '10-memory.conf': 'shared_buffers = 128MB\n', 'local.conf': 'mine\n' });
    const inode = (await fs.stat(path.join(dest, '10-memory.conf'))).ino;
    expect((await run(copy, { src: 'conf.d/', dest: `${dest}/`, force: false }, { baseDirs: [dir] })).summary).toBe(`sync ${dest} from ${files}/conf.d/: 5 added`);
    expect(await fs.readFile(path.join(dest, '10-memory.conf'), 'utf8')).toBe('shared_buffers = 128MB\n');
    const update = await run(copy, { src: 'conf.d/', dest }, { baseDirs: [dir] });
    expect(update).toMatchObject({ status: 'changed', summary: `sync ${dest} from ${files}/conf.d/: 1 updated`, result: { updated: ['10-memory.conf'], removed: [] } });
    expect(update.diffs?.[0]).toMatchObject({
      before: expect.stringMatching(/^10-memory\.conf 0644 root:root 23 bytes sha256:/),
      after: expect.stringMatching(/^10-memory\.conf 0644 21 bytes sha256:/),
    });
    expect(update.diffs?.[1]).toEqual({ target: `${dest}/10-memory.conf`, before: 'shared_buffers = 128MB\n', after: 'shared_buffers = 1GB\n' });
    expect((await fs.stat(path.join(dest, '10-memory.conf'))).ino).not.toBe(inode);
    expect(await fs.readFile(path.join(dest, 'local.conf'), 'utf8')).toBe('mine\n');
    expect((await run(copy, { src: 'conf.d/', dest }, { baseDirs: [dir] })).status).toBe('ok');
  });

  test('remote_src: a directory on the host, listed with digests; only the files that differ are read and written', async () => {
    const src = path.join(files, 'conf.d');
    const dest = path.join(dir, 'copied');
    const { check, first, second } = await checkApplyAgain(copy, { src: `${src}/`, dest, remote_src: true, mode: '0600' });
    expect(check).toMatchObject({ status: 'changed', summary: `create ${dest} from ${src}/: 6 added` });
    expect([first.status, second.status]).toEqual(['changed', 'ok']);
    expect((await treeOf(dest))['tuning/work_mem.conf']).toBe('0600 work_mem = 16MB\n');
    await fs.writeFile(path.join(src, '10-memory.conf'), 'shared_buffers = 4GB\n');
    const update = await run(copy, { src: `${src}/`, dest, remote_src: true, mode: '0600' });
    expect(update).toMatchObject({ status: 'changed', result: { updated: ['10-memory.conf'] } });
    expect(update.diffs?.[1]).toMatchObject({ before: 'shared_buffers = 1GB\n', after: 'shared_buffers = 4GB\n' });
    await fs.symlink('10-memory.conf', path.join(src, 'current.conf'));
    await expect(run(copy, { src: `${src}/`, dest, remote_src: true })).rejects.toThrow(`copy: ${src}/current.conf on the host is a symbolic link; remote_src copies files and directories only`);
  });

  test('bad input: a file where the tree has a directory, validate with a directory, dest a file', async () => {
    const dest = path.join(dir, 'clash');
    await writeTree(dest, { tuning: 'a file\n' });
    await expect(run(copy, { src: 'conf.d/', dest }, { baseDirs: [dir] })).rejects.toThrow(`${dest}/tuning is a file on the host, the source has a directory there (delete: true replaces it)`);
    await expect(run(copy, { src: 'conf.d/', dest, validate: 'true %s' }, { baseDirs: [dir] })).rejects.toThrow('copy: validate checks one file; src conf.d/ is a directory');
    await expect(run(copy, { src: 'conf.d/', dest: path.join(dest, 'tuning') }, { baseDirs: [dir] })).rejects.toThrow(`${dest}/tuning exists and is not a directory`);
  });
});

describe('synchronize', () => {
  test('delete removes what src lacks, excluded paths stay, perms are carried, a file replaces a directory', async () => {
    const dest = path.join(dir, 'srv');
    await writeTree(dest, { 'old.conf': 'gone\n', 'stale/x': 'gone\n', '.git/HEAD': 'theirs\n', '20-logging.conf/inner': 'a directory where a file goes\n' });
    const args = { src: 'conf.d/', dest, delete: true, rsync_opts: ['--exclude=.git/', '--no-motd'] };
    const { check, first, second } = await checkApplyAgain(synchronize, args, { baseDirs: [dir] });
    expect(check.summary).toBe(`sync ${dest} from ${files}/conf.d/: 4 added, 2 removed`);
    expect(check.result).toMatchObject({ added: ['10-memory.conf', '20-logging.conf', 'tuning/', 'tuning/work_mem.conf'], removed: ['old.conf', 'stale/'] });
    expect(check.diffs?.[0].before).toContain('20-logging.conf/ 0755 root:root');
    expect(first.summary).toBe(check.summary);
    expect(second.status).toBe('ok');
    expect(await treeOf(dest)).toEqual({
      '.git/': '0755',
      '.git/HEAD': '0644 theirs\n',
      '10-memory.conf': '0644 shared_buffers = 1GB\n',
      '20-logging.conf': '0600 log_min_duration_statement = 250\n',
      'tuning/': '0755',
      'tuning/work_mem.conf': '0644 work_mem = 16MB\n',
    });
    // A mode changed on the host is set back without rewriting the file.
    await fs.chmod(path.join(dest, '10-memory.conf'), 0o666);
    const inode = (await fs.stat(path.join(dest, '10-memory.conf'))).ino;
    expect(await run(synchronize, args, { baseDirs: [dir] })).toMatchObject({ status: 'changed', summary: `sync ${dest} from ${files}/conf.d/: 1 updated` });
    expect((await fs.stat(path.join(dest, '10-memory.conf'))).ino).toBe(inode);
    expect((await treeOf(dest))['10-memory.conf']).toBe('0644 shared_buffers = 1GB\n');
  });

  test('symbolic links: kept as links (archive), pointed elsewhere when src changes, followed with copy_links, left out with links: false', async () => {
    const dest = path.join(dir, 'links');
    await fs.symlink('10-memory.conf', path.join(files, 'conf.d', 'current.conf'));
    await writeTree(dest, { 'current.conf': 'a file where the link goes\n' });
    const args = { src: 'conf.d/', dest, rsync_opts: ['--exclude=.git/'] };
    const { check, first, second } = await checkApplyAgain(synchronize, args, { baseDirs: [dir] });
    expect(check).toMatchObject({ summary: `sync ${dest} from ${files}/conf.d/: 4 added, 1 updated`, result: { updated: ['current.conf'] } });
    expect(check.diffs?.[0]).toMatchObject({ before: expect.stringContaining('current.conf 0644 root:root 27 bytes'), after: expect.stringContaining('current.conf -> 10-memory.conf\n') });
    expect([first.status, second.status]).toEqual(['changed', 'ok']);
    expect(await fs.readlink(path.join(dest, 'current.conf'))).toBe('10-memory.conf');
    await fs.rm(path.join(files, 'conf.d', 'current.conf'));
    await fs.symlink('20-logging.conf', path.join(files, 'conf.d', 'current.conf'));
    expect(await run(synchronize, args, { baseDirs: [dir] })).toMatchObject({ summary: `sync ${dest} from ${files}/conf.d/: 1 updated` });
    expect(await fs.readlink(path.join(dest, 'current.conf'))).toBe('20-logging.conf');
    expect((await fs.readdir(dest)).filter((n) => n.includes('plinth'))).toEqual([]);
    expect(await run(synchronize, { ...args, copy_links: true }, { baseDirs: [dir] })).toMatchObject({ summary: `sync ${dest} from ${files}/conf.d/: 1 updated` });
    expect((await treeOf(dest))['current.conf']).toBe('0600 log_min_duration_statement = 250\n');
    const skipped = path.join(dir, 'no-links');
    await run(synchronize, { ...args, dest: skipped, links: false }, { baseDirs: [dir] });
    expect(await fs.readdir(skipped)).not.toContain('current.conf');
  });

  test('without delete nothing is removed; recursive: false copies the top files only', async () => {
    const dest = path.join(dir, 'top');
    await writeTree(dest, { 'keep.conf': 'mine\n' });
    await run(synchronize, { src: 'conf.d/', dest, recursive: false, rsync_opts: ['--exclude=.git'] }, { baseDirs: [dir] });
    expect(Object.keys(await treeOf(dest))).toEqual(['10-memory.conf', '20-logging.conf', 'keep.conf']);
  });

  test("rsync's pattern rules", () => {
    const cases: [string, string, boolean, boolean][] = [
      ['.git', 'a/.git', true, true],
      ['.git/', 'a/.git', false, false],
      ['/tuning', 'tuning', true, true],
      ['/tuning', 'a/tuning', true, false],
      ['*.conf', 'tuning/work_mem.conf', false, true],
      ['tuning/*.conf', 'x/tuning/work_mem.conf', false, true],
      ['tuning/*.conf', 'tuning/a/b.conf', false, false],
      ['tuning/**', 'tuning/a/b.conf', false, true],
      ['w?rk_mem.conf', 'tuning/work_mem.conf', false, true],
    ];
    for (const [pattern, rel, directory, excluded] of cases) expect(rsyncPattern(pattern)(rel, directory), `${pattern} ~ ${rel}`).toBe(excluded);
  });

  test('bad input is refused by name', async () => {
    await expect(run(synchronize, { src: 'conf.d/', dest: path.join(dir, 'x'), rsync_opts: ['--inplace'] }, { baseDirs: [dir] })).rejects.toThrow('synchronize: rsync_opts --inplace is not supported');
    await expect(run(synchronize, { src: 'conf.d/10-memory.conf', dest: path.join(dir, 'x') }, { baseDirs: [dir] })).rejects.toThrow(/src \S+10-memory.conf is a file; use copy for a single file/);
    await expect(run(synchronize, { src: 'conf.d/', dest: path.join(dir, 'x'), mode: 'pull' }, { baseDirs: [dir] })).rejects.toThrow('synchronize: mode pull is not supported');
    expect(schemaProblems(synchronize, { src: 'a/', dest: 'relative' }).map((p) => p.path.join('.'))).toEqual(['dest']);
  });
});

describe("the host's tree as find and sha256sum print it (captured on a Debian 12 lab host)", () => {
  const captured = (name: string) => parseHostTree(readFileSync(path.join(PLINTH_ROOT, 'test/fixtures/captured/file-tree', name), 'utf8'));
  test('everything below dest: files with digests, a directory, a symbolic link, a name with a space', () => {
    expect(captured('all.bin')).toEqual({
      state: 'directory',
      found: [
        { path: '10-memory.conf', type: 'file', mode: '0644', owner: 'root', group: 'root', size: 21, sha256: '294ba9380ae310d82e31d8639d79f254fb1b31c4fb0d744916ac5952fe5d69e3' },
        { path: 'current.conf', type: 'link', mode: '0777', owner: 'root', group: 'root', size: 14, target: '10-memory.conf' },
        { path: 'old.conf', type: 'file', mode: '0600', owner: 'root', group: 'root', size: 4, sha256: '01d09d19c2139a46aebfb577780d123d7396e97201bc7ead210a2ebff8239dee' },
        { path: 'tuning', type: 'directory', mode: '0755', owner: 'nobody', group: 'nogroup', size: 4096 },
        { path: 'tuning/work mem.conf', type: 'file', mode: '0644', owner: 'nobody', group: 'nogroup', size: 16, sha256: '78063f42b6d38a0b24be83abcfb8fcb84495d31599b451a917f8b0360ea93185' },
      ],
    });
  });
  test('only the wanted paths (missing ones, and one below a file, are no error); a missing dest; a file as dest', () => {
    expect(captured('listed.bin').found.map((e) => e.path)).toEqual(['10-memory.conf', 'tuning', 'tuning/work mem.conf']);
    expect(captured('missing.bin')).toEqual({ state: 'missing', found: [] });
    expect(captured('not-a-directory.bin')).toEqual({ state: 'other', found: [] });
  });
});

describe('over ssh to a real sshd', { timeout: 300_000 }, () => {
  let sshd: TestSshd;
  let host: SshHost;
  beforeAll(async () => {
    sshd = await startSshd();
    host = await SshHost.connect(sshOptionsTo(sshd));
  }, 60_000);
  afterAll(async () => {
    await host?.close();
    await sshd?.stop();
  });

  test('synchronize with delete and copy of a directory: check, apply, again', async () => {
    const dest = path.join(dir, 'remote');
    await writeTree(dest, { 'conf.d/old.conf': 'gone\n' });
    const sync = await checkApplyAgain(synchronize, { src: 'conf.d', dest, delete: true }, { baseDirs: [dir], host });
    expect(sync.check.summary).toBe(`sync ${dest}/conf.d from ${files}/conf.d: 6 added, 1 removed`);
    expect([sync.first.status, sync.second.status]).toEqual(['changed', 'ok']);
    expect(Object.keys(await treeOf(path.join(dest, 'conf.d')))).toEqual(['.git/', '.git/HEAD', '10-memory.conf', '20-logging.conf', 'tuning/', 'tuning/work_mem.conf']);
    await fs.symlink('10-memory.conf', path.join(files, 'conf.d', 'current.conf'));
    expect(await run(synchronize, { src: 'conf.d', dest, delete: true }, { baseDirs: [dir], host })).toMatchObject({ status: 'changed', result: { added: ['current.conf'] } });
    expect(await fs.readlink(path.join(dest, 'conf.d', 'current.conf'))).toBe('10-memory.conf');
    await fs.rm(path.join(files, 'conf.d', 'current.conf'));
    const copied = await checkApplyAgain(copy, { src: 'conf.d/tuning', dest, owner: 'nobody', mode: '0400' }, { baseDirs: [dir], host });
    expect([copied.check.status, copied.first.status, copied.second.status]).toEqual(['changed', 'changed', 'ok']);
    const st = await fs.stat(path.join(dest, 'tuning', 'work_mem.conf'));
    expect([st.uid, (st.mode & 0o777).toString(8)]).toEqual([(await fs.stat(path.join(dest, 'tuning'))).uid, '400']);
    expect(st.uid).not.toBe(0);
    const remote = await checkApplyAgain(copy, { src: path.join(files, 'conf.d'), dest: path.join(dir, 'remote-src'), remote_src: true }, { host });
    expect([remote.check.summary, remote.first.status, remote.second.status]).toEqual([`create ${dir}/remote-src/conf.d from ${files}/conf.d: 6 added`, 'changed', 'ok']);
  });
});

describe('in a playbook', { timeout: 300_000 }, () => {
  test('Ansible-style tasks with the CLI: --check --diff predicts, the run changes, a second run changes nothing; bad input names file:line', async () => {
    const root = await tempTree({
      'files/site/index.html': '<h1>pgpool status</h1>\n',
      'files/site/css/site.css': 'body { margin: 0 }\n',
      'pb.yml': [
        '- hosts: localhost',
        '  gather_facts: false',
        '  tasks:',
        '    - ansible.posix.synchronize:',
        '        src: site/',
        `        dest: ${dir}/www`,
        '        delete: yes',
        '        checksum: yes',
        '    - ansible.builtin.copy:',
        '        src: site',
        `        dest: ${dir}/backup/`,
        "        directory_mode: '0700'",
        '',
      ].join('\n'),
      'bad.yml': ['- hosts: localhost', '  gather_facts: false', '  tasks:', '    - synchronize: { src: site/, dest: www }', ''].join('\n'),
      'bad-opt.yml': ['- hosts: localhost', '  gather_facts: false', '  tasks:', '    - synchronize:', '        src: site/', `        dest: ${dir}/www`, '        rsync_opts: [--inplace]', ''].join(
        '\n',
      ),
    });
    await writeTree(path.join(dir, 'www'), { 'old.html': 'x\n' });
    const check = await plinth(['run', '--check', '--diff', path.join(root, 'pb.yml')]);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stdout).toContain(`sync ${dir}/www from files/site/: 3 added, 1 removed`);
    expect(check.stdout).toMatch(/-old\.html 0644 root:root 2 bytes sha256:/);
    expect(check.stdout).toMatch(/changed=2/);
    expect(await fs.readdir(path.join(dir, 'www'))).toEqual(['old.html']);
    const first = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(first.stdout, first.stderr).toMatch(/changed=2/);
    const second = await plinth(['run', path.join(root, 'pb.yml')]);
    expect(second.stdout, second.stderr).toMatch(/changed=0/);
    expect(Object.keys(await treeOf(path.join(dir, 'www')))).toEqual(['css/', 'css/site.css', 'index.html']);
    expect((await treeOf(path.join(dir, 'backup')))['site/']).toBe('0700');
    const bad = await plinth(['run', path.join(root, 'bad.yml')]);
    expect(bad.stderr).toBe(`ERROR! bad.yml:4:34: synchronize: dest: directory on the host (created when missing): "www" does not match ^/\n`);
    const badOpt = await plinth(['run', path.join(root, 'bad-opt.yml')]);
    expect(badOpt.stdout).toContain(`fatal: [localhost] => bad-opt.yml:4:7: synchronize: rsync_opts --inplace is not supported`);
    expect(badOpt.code).toBe(2);
    await fs.rm(root, { recursive: true, force: true });
  });
});
