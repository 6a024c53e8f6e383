// unarchive with real tar archives (from the controller on stdin, or already on the host) and
// locale_gen's edits of /etc/locale.gen; the lab test generates a locale on a Debian host.
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { unarchive } from '../../../modules/unarchive.js';
import { editLocaleGen, localeKey } from '../../../modules/locale_gen.js';
import { checkApplyAgain, run, schemaProblems } from '../../helpers/modules.js';

async function archive(): Promise<{ base: string; file: string }> {
  const base = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-unarchive-'));
  const tree = path.join(base, 'src', 'pgpool-tools-1.0');
  await fs.mkdir(path.join(tree, 'bin'), { recursive: true });
  await fs.writeFile(path.join(tree, 'bin', 'failover.sh'), '#!/bin/sh\necho failover\n', { mode: 0o755 });
  await fs.writeFile(path.join(tree, 'README'), 'tools\n');
  await fs.mkdir(path.join(base, 'files'));
  const file = path.join(base, 'files', 'pgpool-tools-1.0.tar.gz');
  execFileSync('tar', ['-czf', file, '-C', path.join(base, 'src'), 'pgpool-tools-1.0']);
  return { base, file };
}

describe('unarchive', () => {
  test('from the controller: check predicts, unpack, again is ok; a changed file is put back', async () => {
    const { base } = await archive();
    const dest = path.join(base, 'opt');
    await fs.mkdir(dest);
    const args = { src: 'pgpool-tools-1.0.tar.gz', dest, extra_opts: ['--strip-components=1'] };
    const { check, first, second } = await checkApplyAgain(unarchive, args, { baseDirs: [base] });
    expect(check).toMatchObject({ status: 'changed', summary: expect.stringMatching(/^unpack pgpool-tools-1.0.tar.gz into /) });
    expect([first.status, second.status]).toEqual(['changed', 'ok']);
    expect(await fs.readFile(path.join(dest, 'bin', 'failover.sh'), 'utf8')).toBe('#!/bin/sh\necho failover\n');
    await fs.writeFile(path.join(dest, 'README'), 'edited\n');
    expect((await run(unarchive, args, { baseDirs: [base] })).status).toBe('changed');
    expect(await fs.readFile(path.join(dest, 'README'), 'utf8')).toBe('tools\n');
  });

  test('remote_src, list_files, creates; a missing dest or archive is named', async () => {
    const { base, file } = await archive();
    const dest = path.join(base, 'opt');
    await fs.mkdir(dest);
    const r = await run(unarchive, { src: file, dest, remote_src: true, list_files: true });
    expect(r.status).toBe('changed');
    expect(r.result.files).toEqual(expect.arrayContaining(['pgpool-tools-1.0/README', 'pgpool-tools-1.0/bin/failover.sh']));
    expect((await run(unarchive, { src: file, dest, remote_src: true, creates: path.join(dest, 'pgpool-tools-1.0') })).summary).toMatch(/since .* exists/);
    await expect(run(unarchive, { src: file, dest: path.join(base, 'none'), remote_src: true })).rejects.toThrow(`unarchive: dest ${path.join(base, 'none')} must be an existing directory`);
    await expect(run(unarchive, { src: `${file}.tar`, dest, remote_src: true })).rejects.toThrow(/does not exist on localhost/);
    expect(schemaProblems(unarchive, { src: '', dest }).length).toBeGreaterThan(0);
  });
});

describe('locale_gen', () => {
  test('names as locale -a prints them', () => {
    expect(localeKey('de_DE.UTF-8')).toBe('de_DE.utf8');
    expect(localeKey('sr_RS.UTF-8@latin')).toBe('sr_RS.utf8@latin');
  });
  test.each([
    ['uncomments', ['# de_DE.UTF-8 UTF-8\n', 'en_US.UTF-8 UTF-8\n'], true, ['de_DE.UTF-8 UTF-8\n', 'en_US.UTF-8 UTF-8\n']],
    ['adds from SUPPORTED', ['en_US.UTF-8 UTF-8\n'], true, ['en_US.UTF-8 UTF-8\n', 'de_DE.UTF-8 UTF-8\n']],
    ['comments out', ['de_DE.UTF-8 UTF-8\n'], false, ['# de_DE.UTF-8 UTF-8\n']],
    ['another locale with the same prefix is not touched', ['# de_DE.UTF-8@euro UTF-8\n'], false, ['# de_DE.UTF-8@euro UTF-8\n']],
  ])('%s', (_n, lines, enable, expected) => {
    expect(editLocaleGen(lines, 'de_DE.UTF-8', 'de_DE.UTF-8 UTF-8', enable)).toEqual(expected);
  });
});
