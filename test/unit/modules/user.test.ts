// user and group plans as tables (what was observed → what runs); the lab test runs them on a
// real Debian host. The password hash never appears in a plan, a diff or a command line.
import { describe, expect, test } from 'vitest';
import { user } from '../../../modules/user.js';
import { group } from '../../../modules/group.js';
import { makeModuleContext } from '../../../engine/run/context.js';
import { localHost, schemaProblems } from '../../helpers/modules.js';

const ctx = makeModuleContext({ host: localHost, check: true });
const postgres = { name: 'postgres', uid: 105, gid: 110, comment: 'PostgreSQL administrator,,,', home: '/var/lib/postgresql', shell: '/bin/bash', group: 'postgres', groups: ['ssl-cert'] };
const defaults = {
  state: 'present',
  append: false,
  create_home: true,
  move_home: false,
  system: false,
  update_password: 'always',
  remove: false,
  force: false,
  generate_ssh_key: false,
  ssh_key_type: 'rsa',
};
const HASH = '$6$salt$0123456789abcdefHASH';

function planUser(account: typeof postgres | null, args: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return user.plan({ account: account && { ...account, ...extra }, publicKey: undefined }, { ...defaults, name: 'postgres', ...args } as never, ctx) as Record<string, any>;
}

describe('user', () => {
  test.each([
    [
      'new account with everything',
      null,
      { uid: 2000, group: 'postgres', groups: 'ssl-cert,adm', shell: '/bin/bash', home: '/var/lib/pg', comment: 'PG', system: true },
      ['useradd', '-u', '2000', '-g', 'postgres', '-G', 'ssl-cert,adm', '-s', '/bin/bash', '-d', '/var/lib/pg', '-c', 'PG', '-r', '-m', 'postgres'],
    ],
    ['new account without home', null, { create_home: false }, ['useradd', '-M', 'postgres']],
    ['groups exactly', postgres, { groups: ['adm'] }, ['usermod', '-G', 'adm', 'postgres']],
    ['groups appended', postgres, { groups: ['adm', 'ssl-cert'], append: true }, ['usermod', '-a', '-G', 'adm', 'postgres']],
    ["groups: '' removes all", postgres, { groups: '' }, ['usermod', '-G', '', 'postgres']],
    ['shell and move home', postgres, { shell: '/usr/sbin/nologin', home: '/srv/pg', move_home: true }, ['usermod', '-s', '/usr/sbin/nologin', '-d', '/srv/pg', '-m', 'postgres']],
    ['removal with home', postgres, { state: 'absent', remove: true }, ['userdel', '-r', 'postgres']],
  ])('%s', (_n, account, args, argv) => {
    const plan = planUser(account, args);
    expect(plan.changed).toBe(true);
    expect(plan.action.argv).toEqual(argv);
  });

  test.each([
    ['everything as wanted', { uid: 105, group: 'postgres', groups: ['ssl-cert'], shell: '/bin/bash', home: '/var/lib/postgresql' }],
    ['group given as its gid', { group: '110' }],
    ['append with groups already there', { groups: 'ssl-cert', append: true }],
    ['absent and gone', { state: 'absent' }],
  ])('no change: %s', (_n, args) => {
    expect(planUser('state' in args && args.state === 'absent' ? null : postgres, args).changed).toBe(false);
  });

  test('a password hash: set through chpasswd on stdin, never in the plan, the diff or argv', () => {
    const plan = planUser(postgres, { password: HASH }, { hash: '$6$old$x' });
    expect(plan).toMatchObject({ changed: true, summary: 'change user postgres (password)', action: { password: { locked: false } } });
    expect(JSON.stringify(plan)).not.toContain(HASH);
    expect(plan.diffs[0].after).toContain('password: (changed, not shown)');
    expect(planUser(postgres, { password: HASH }, { hash: HASH }).changed).toBe(false);
    expect(planUser(postgres, { password: HASH, update_password: 'on_create' }, { hash: '$6$old$x' }).changed).toBe(false);
    const create = planUser(null, { password: HASH });
    expect(JSON.stringify(create)).not.toContain(HASH);
  });

  test('a locked password stays locked when the hash changes', () => {
    expect(planUser(postgres, { password: HASH }, { hash: '!$6$old$x' }).action.password).toEqual({ locked: true });
    expect(planUser(postgres, { password_lock: true }, { hash: HASH }).action.argv).toEqual(['usermod', '-L', 'postgres']);
  });

  test('generate_ssh_key when the key file is missing, for a new account too', () => {
    const plan = user.plan({ account: postgres, publicKey: null }, { ...defaults, name: 'postgres', generate_ssh_key: true, ssh_key_type: 'ed25519' } as never, ctx) as Record<string, any>;
    expect(plan).toMatchObject({ summary: 'generate ssh key for postgres', action: { sshKey: { file: '/var/lib/postgresql/.ssh/id_ed25519', type: 'ed25519' } } });
    const existing = user.plan({ account: postgres, publicKey: 'ssh-ed25519 AAAA x' }, { ...defaults, name: 'postgres', generate_ssh_key: true } as never, ctx) as Record<string, any>;
    expect(existing).toMatchObject({ changed: false, result: { ssh_public_key: 'ssh-ed25519 AAAA x' } });
  });

  test('schema: a name that could be an option is refused', () => {
    expect(schemaProblems(user, { name: '-rf' }).length).toBeGreaterThan(0);
    expect(schemaProblems(user, { name: 'postgres', password: 'x' })).toEqual([]);
  });
});

describe('group', () => {
  const planGroup = (current: { name: string; gid: number; members: string[] } | null, args: Record<string, unknown>) =>
    group.plan({ group: current }, { name: 'pgpool', state: 'present', system: false, non_unique: false, ...args } as never, ctx) as Record<string, any>;
  test('create, change gid, remove, nothing to do', () => {
    expect(planGroup(null, { gid: 3000, system: true }).action.argv).toEqual(['groupadd', '-g', '3000', '-r', 'pgpool']);
    expect(planGroup({ name: 'pgpool', gid: 2999, members: [] }, { gid: 3000 }).action.argv).toEqual(['groupmod', '-g', '3000', 'pgpool']);
    expect(planGroup({ name: 'pgpool', gid: 2999, members: [] }, { state: 'absent' }).action.argv).toEqual(['groupdel', 'pgpool']);
    expect(planGroup({ name: 'pgpool', gid: 2999, members: [] }, {}).changed).toBe(false);
    expect(planGroup(null, { state: 'absent' }).changed).toBe(false);
  });
});
