// The parsers of apt, locale_gen and get_url, on output captured on this machine (Debian 12):
// dpkg-query and apt-cache policy with installed, upgradable, never-installed and virtual
// packages, `locale -a` and /usr/share/i18n/SUPPORTED, sha256sum's two output forms.
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, test } from 'vitest';
import { PLINTH_ROOT } from '../../../engine/paths.js';
import { needsCandidate, parseAptPolicy, parseDpkgQuery } from '../../../modules/apt.js';
import { isGenerated, supportedLine } from '../../../modules/locale_gen.js';
import { checksumFromList } from '../../../modules/get_url.js';

const captured = (...parts: string[]) => readFileSync(path.join(PLINTH_ROOT, 'test', 'fixtures', 'captured', ...parts), 'utf8');

describe('dpkg-query -W (what is installed)', () => {
  test('installed packages with epochs and Debian revisions', () => {
    expect(parseDpkgQuery(captured('apt', 'dpkg-query.txt'))).toEqual(
      new Map([
        ['jq', '1.6-2.1+deb12u1'],
        ['libc6', '2.36-9+deb12u14'],
        ['openssh-server', '1:9.2p1-2+deb12u10'],
        ['postgresql-15', '15.18-0+deb12u1'],
      ]),
    );
  });

  test('a package dpkg never heard of is missing from the output (dpkg-query says so on stderr and exits 1)', () => {
    const installed = parseDpkgQuery(captured('apt', 'dpkg-query-missing.txt'));
    expect([...installed.keys()]).toEqual(['jq', 'postgresql-15']);
  });

  test('"unknown ok not-installed" lines (known to dpkg, not installed) are not installed', () => {
    const installed = parseDpkgQuery(captured('apt', 'dpkg-query-glob.txt'));
    expect(installed.get('libc6')).toBe('2.36-9+deb12u14');
    expect(installed.has('libc6-amd64')).toBe(false);
    expect(installed.has('libc6-dbgsym')).toBe(false);
  });
});

describe('apt-cache policy (what would be installed)', () => {
  test('candidates of installed packages, upgradable or not; a name apt does not know prints nothing', () => {
    expect(parseAptPolicy(captured('apt', 'apt-cache-policy.txt'))).toEqual(
      new Map([
        ['postgresql-15', '15.20-0+deb12u1'],
        ['jq', '1.6-2.1+deb12u3'],
        ['pgpool2', '4.3.5-1+deb12u1'],
      ]),
    );
  });

  test('a package never installed has its candidate; a virtual package has none', () => {
    const candidates = parseAptPolicy(captured('apt', 'apt-cache-policy-not-installed.txt'));
    expect(candidates.get('nginx')).toBe('1.22.1-9+deb12u11');
    expect(candidates.has('mail-transport-agent')).toBe(false);
  });

  test('apt-cache policy is asked only when dpkg cannot settle the plan', () => {
    const installed = parseDpkgQuery(captured('apt', 'dpkg-query.txt'));
    expect(needsCandidate('present', undefined, installed.get('jq'))).toBe(false);
    expect(needsCandidate('latest', undefined, installed.get('jq'))).toBe(true);
    expect(needsCandidate('present', '1.6-2.1+deb12u3', installed.get('jq'))).toBe(true);
    expect(needsCandidate('present', undefined, installed.get('nginx'))).toBe(true);
    expect(needsCandidate('absent', undefined, installed.get('jq'))).toBe(false);
  });
});

describe('locale -a and /usr/share/i18n/SUPPORTED', () => {
  test('locale -a spells C.UTF-8 "C.utf8": the locale counts as generated', () => {
    const list = captured('locale', 'locale-a.txt');
    expect(isGenerated(list, 'C.UTF-8')).toBe(true);
    expect(isGenerated(list, 'de_DE.UTF-8')).toBe(false);
  });

  test('the SUPPORTED line is the one locale.gen needs; a near name is not a locale', () => {
    const supported = captured('locale', 'SUPPORTED');
    expect(supportedLine(supported, 'de_DE.UTF-8')).toBe('de_DE.UTF-8 UTF-8');
    expect(supportedLine(supported, 'de_DE@euro')).toBe('de_DE@euro ISO-8859-15');
    expect(supportedLine(supported, 'de_DE.utf8')).toBeNull();
  });
});

describe('sha256sum output as a checksums file', () => {
  test('the line of the downloaded file, not of its signature', () => {
    expect(checksumFromList(captured('sha256sum', 'SHA256SUMS'), 'pgpool2_4.5.4.tar.gz')).toBe('87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7');
    expect(checksumFromList(captured('sha256sum', 'SHA256SUMS'), 'other.tar.gz')).toBeUndefined();
  });

  test('binary mode (*) and a ./ path; a file of one line is that line whatever its name', () => {
    const one = captured('sha256sum', 'binary-dot-slash.txt');
    expect(checksumFromList(one, 'pgpool2_4.5.4.tar.gz')).toBe('87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7');
    expect(checksumFromList(one, 'renamed.tar.gz')).toBe('87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7');
  });
});
