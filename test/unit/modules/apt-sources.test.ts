// apt_repository and deb822_repository: the files they write (as Ansible's modules write them),
// on real files in a temp dir is not possible (the paths are apt's), so: content as tables here,
// and the lab test writes them on a Debian host where apt itself must accept them.
import { describe, expect, test } from 'vitest';
import { normalizeSourceLine, sourceFileName } from '../../../modules/apt_repository.js';
import { deb822Content } from '../../../modules/deb822_repository.js';

const PGDG = 'deb [signed-by=/etc/apt/keyrings/pgdg.asc] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main';

describe('apt_repository', () => {
  test('a line compares as apt reads it', () => {
    expect(normalizeSourceLine(`deb  [ signed-by=/etc/apt/keyrings/pgdg.asc ]   https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main  # pgdg\n`)).toBe(PGDG);
  });
  test('the default file name follows the URL, as Ansible names it', () => {
    expect(sourceFileName(PGDG)).toBe('apt_postgresql_org_pub_repos_apt');
  });
});

describe('deb822_repository', () => {
  const base = { name: 'pgdg', types: 'deb', uris: 'https://apt.postgresql.org/pub/repos/apt', suites: 'bookworm-pgdg', components: 'main', state: 'present' as const };
  test('a key path', () => {
    expect(deb822Content({ ...base, signed_by: '/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc' } as never)).toBe(
      'X-Repolib-Name: pgdg\nTypes: deb\nURIs: https://apt.postgresql.org/pub/repos/apt\nSuites: bookworm-pgdg\nComponents: main\nSigned-By: /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc\n',
    );
  });
  test('a key URL is fetched to /etc/apt/keyrings/<name>.asc', () => {
    expect(deb822Content({ ...base, signed_by: 'https://www.postgresql.org/media/keys/ACCC4CF8.asc', types: ['deb', 'deb-src'], enabled: false } as never)).toContain(
      'Types: deb deb-src\nURIs: https://apt.postgresql.org/pub/repos/apt\nSuites: bookworm-pgdg\nComponents: main\nEnabled: no\nSigned-By: /etc/apt/keyrings/pgdg.asc\n',
    );
  });
  test('an armored key is embedded, empty lines as " ."', () => {
    const key = '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmQINBE6XR8IBEACVdDKT2HEH1IyHzXkb4nIWAY7echjRxo7MTcj4vbXAyBKOfjja\n-----END PGP PUBLIC KEY BLOCK-----\n';
    expect(deb822Content({ ...base, signed_by: key } as never)).toContain(
      'Signed-By:\n -----BEGIN PGP PUBLIC KEY BLOCK-----\n .\n mQINBE6XR8IBEACVdDKT2HEH1IyHzXkb4nIWAY7echjRxo7MTcj4vbXAyBKOfjja\n -----END PGP PUBLIC KEY BLOCK-----\n',
    );
  });
});
