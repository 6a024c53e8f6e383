import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, test } from 'vitest';
import { apt, needsCandidate, parseAptPolicy, parseDpkgQuery } from '../../../modules/apt.js';
import { LocalHost } from '../../../engine/connection/local.js';
import type { ExecOptions, ExecResult } from '../../../engine/types.js';
import { run, schemaProblems } from '../../helpers/modules.js';

/** The local host, remembering the first word after `env LC_ALL=C` of every command it runs. */
class RecordingHost extends LocalHost {
  readonly commands: string[] = [];
  override exec(argv: string[], o?: ExecOptions): Promise<ExecResult> {
    this.commands.push(argv.slice(0, 4).join(' '));
    return super.exec(argv, o);
  }
}

// Real dpkg and apt-cache of this machine, check mode only: tests never install packages.
const installedVersion = execFileSync('dpkg-query', ['-W', '-f', '${Version}', 'postgresql-15']).toString();
const helloCandidate = /Candidate:\s*(\S+)/.exec(execFileSync('apt-cache', ['policy', 'hello'], { env: { ...process.env, LC_ALL: 'C' } }).toString())?.[1];

describe('apt (check mode against the real dpkg database)', () => {
  test('an installed package is ok', async () => {
    const out = await run(apt, { name: 'postgresql-15' }, { check: true });
    expect(out.status).toBe('ok');
  });

  test('a missing package would be installed, with the candidate version', async () => {
    expect(helloCandidate).toBeTruthy();
    const out = await run(apt, { name: ['postgresql-15', 'hello'] }, { check: true });
    expect(out.status).toBe('changed');
    expect(out.summary).toBe(`install hello (${helloCandidate})`);
    expect(out.result).toMatchObject({ installed: ['hello'], versions: { hello: helloCandidate } });
    expect(out.diffs[0]).toEqual({ target: 'packages', before: 'hello (not installed)\n', after: `hello ${helloCandidate}\n` });
    expect(spawnSync('dpkg-query', ['-W', '-f', '${Status}', 'hello'], { encoding: 'utf8' }).stdout).not.toContain('install ok installed');
  });

  test('absent: an installed package would be removed, a missing one is ok', async () => {
    expect((await run(apt, { name: 'hello', state: 'absent' }, { check: true })).status).toBe('ok');
    const out = await run(apt, { name: 'postgresql-15', state: 'absent', purge: true }, { check: true });
    expect(out.status).toBe('changed');
    expect(out.summary).toBe('purge postgresql-15');
    expect(out.diffs[0].before).toBe(`postgresql-15 ${installedVersion}\n`);
  });

  test('a pinned version different from the installed one is a change', async () => {
    const out = await run(apt, { name: 'postgresql-15=1.0-1' }, { check: true });
    expect(out.status).toBe('changed');
    expect(out.summary).toBe('install postgresql-15=1.0-1');
    expect((await run(apt, { name: `postgresql-15=${installedVersion}` }, { check: true })).status).toBe('ok');
  });

  test('an unknown package fails clearly; with a pending cache update it is unknown in check mode', async () => {
    await expect(run(apt, { name: 'no-such-package-plinth' }, { check: true })).rejects.toThrow(/no installation candidate/);
    const out = await run(apt, { name: 'no-such-package-plinth', update_cache: true }, { check: true });
    expect(out.status).toBe('unknown');
    expect(out.message).toMatch(/until the cache is updated/);
  });

  test('cache_valid_time: a fresh enough cache is not updated', async () => {
    const fresh = await run(apt, { name: 'postgresql-15', update_cache: true, cache_valid_time: 10 * 365 * 86400 }, { check: true });
    expect(fresh.status).toBe('ok');
    const stale = await run(apt, { name: 'postgresql-15', update_cache: true, cache_valid_time: 0 }, { check: true });
    expect(stale.status).toBe('changed');
    expect(stale.summary).toBe('update cache');
  });

  test('apt-cache policy (slow: it reads the whole cache) is asked only for what dpkg cannot settle', async () => {
    const installedOnly = new RecordingHost('localhost');
    expect((await run(apt, { name: ['postgresql-15'], update_cache: true, cache_valid_time: 10 * 365 * 86400 }, { check: true, host: installedOnly })).status).toBe('ok');
    expect(installedOnly.commands.filter((c) => c.includes('apt-cache'))).toEqual([]);
    expect(installedOnly.commands.filter((c) => c.includes('dpkg-query'))).toHaveLength(1);

    const oneMissing = new RecordingHost('localhost');
    await run(apt, { name: ['postgresql-15', 'hello'] }, { check: true, host: oneMissing });
    expect(oneMissing.commands.filter((c) => c.includes('apt-cache'))).toEqual(['env LC_ALL=C apt-cache policy']);

    const latest = new RecordingHost('localhost');
    await run(apt, { name: 'postgresql-15', state: 'latest' }, { check: true, host: latest });
    expect(latest.commands.filter((c) => c.includes('apt-cache'))).toHaveLength(1);

    expect(needsCandidate('present', undefined, '1.0')).toBe(false);
    expect(needsCandidate('present', '1.0', '1.0')).toBe(false);
    expect(needsCandidate('present', '2.0', '1.0')).toBe(true);
    expect(needsCandidate('present', undefined, undefined)).toBe(true);
    expect(needsCandidate('latest', undefined, '1.0')).toBe(true);
    expect(needsCandidate('absent', undefined, undefined)).toBe(false);
  });

  test('schema rejects names that could be options', () => {
    expect(schemaProblems(apt, { name: '-o=foo' }).length).toBeGreaterThan(0);
    expect(schemaProblems(apt, { name: ['postgresql-15', 'pgpool2'] })).toEqual([]);
  });

  test('parsers: dpkg-query status lines and apt-cache policy', () => {
    const dpkg = parseDpkgQuery('a\tinstall ok installed\t1.0\nb\tdeinstall ok config-files\t2.0\nlibc6:amd64\tinstall ok installed\t2.36\n');
    expect([...dpkg]).toEqual([
      ['a', '1.0'],
      ['libc6', '2.36'],
    ]);
    const policy = parseAptPolicy('x:\n  Installed: (none)\n  Candidate: 1.2\ny:\n  Installed: (none)\n  Candidate: (none)\n');
    expect([...policy]).toEqual([['x', '1.2']]);
  });
});
