// mount: fstab edits as a table; the lab test mounts a tmpfs on a Debian host for real.
import { describe, expect, test } from 'vitest';
import { editFstab, fstabLine } from '../../../modules/mount.js';

const entry = { path: '/var/lib/postgresql', src: 'UUID=1234', fstype: 'xfs', opts: 'noatime', dump: '0', passno: '2', state: 'mounted' as const, fstab: '/etc/fstab' };

describe('mount', () => {
  test('an fstab line, spaces escaped as mount reads them', () => {
    expect(fstabLine(entry)).toBe('UUID=1234 /var/lib/postgresql xfs noatime 0 2\n');
    expect(fstabLine({ ...entry, path: '/mnt/with space' })).toBe('UUID=1234 /mnt/with\\040space xfs noatime 0 2\n');
  });

  test.each([
    ['appends', ['proc /proc proc defaults 0 0\n'], fstabLine(entry), ['proc /proc proc defaults 0 0\n', fstabLine(entry)]],
    [
      'replaces the entry of the mount point, drops a duplicate',
      ['UUID=9 /var/lib/postgresql ext4 defaults 0 0\n', '# note\n', 'UUID=8 /var/lib/postgresql ext4 defaults 0 0\n'],
      fstabLine(entry),
      [fstabLine(entry), '# note\n'],
    ],
    ['the same entry with other spacing stays', ['UUID=1234\t/var/lib/postgresql  xfs noatime 0 2\n'], fstabLine(entry), ['UUID=1234\t/var/lib/postgresql  xfs noatime 0 2\n']],
    ['removes', ['a /b c d 0 0\n', 'UUID=1234 /var/lib/postgresql xfs noatime 0 2\n'], null, ['a /b c d 0 0\n']],
    ['a commented entry is not the entry', ['#UUID=1 /var/lib/postgresql xfs defaults 0 0\n'], null, ['#UUID=1 /var/lib/postgresql xfs defaults 0 0\n']],
  ])('%s', (_n, lines, line, expected) => {
    expect(editFstab(lines, '/var/lib/postgresql', line)).toEqual(expected);
  });
});
