// user: a local account present (uid, primary group, groups, shell, home, comment, password
// hash, system account, an ssh key pair) or absent, with useradd, usermod and userdel. The
// password hash is never shown: diffs and results say only whether it changes.
import * as path from 'node:path';
import { ModuleError, type Diff, type Module, type ModuleContext, type ArgsOf } from '../engine/types.js';
import { execOrFail } from './support/host-commands.js';
import { ensureKeyDir, generateKeyPair } from './support/ssh-keys.js';
import { ACCOUNT_NAME, getent, groupEntry, passwdEntry, type PasswdEntry } from './support/accounts.js';

type UserArgs = ArgsOf<typeof schema>;

interface Account extends PasswdEntry {
  group: string;
  groups: string[];
  /** The shadow hash; read only when password or password_lock is given. */
  hash?: string;
}

interface Observed {
  account: Account | null;
  /** The public key when ssh_key_file exists (generate_ssh_key only). */
  publicKey?: string | null;
}

interface UserAction {
  /** useradd, usermod or userdel; none when only the ssh key is missing. */
  argv?: string[];
  /** Set the password hash with chpasswd -e (on stdin: never on a command line, never in a plan). */
  password?: { locked: boolean };
  sshKey?: { file: string; type: string; bits?: number; comment: string };
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: ACCOUNT_NAME, description: 'user name' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the account should exist' },
    uid: { type: 'integer', minimum: 0, description: 'user id' },
    group: { type: 'string', minLength: 1, description: 'primary group (name or gid); it must exist' },
    groups: {
      oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string', minLength: 1 } }],
      description: "supplementary groups (list or comma-separated); without append the user's groups become exactly these ('' removes all)",
    },
    append: { type: 'boolean', default: false, description: 'add to groups, keep the other supplementary groups' },
    shell: { type: 'string', minLength: 1, description: 'login shell' },
    home: { type: 'string', pattern: '^/', description: 'home directory' },
    create_home: { type: 'boolean', default: true, description: 'create the home directory with a new account' },
    move_home: { type: 'boolean', default: false, description: 'when home changes, move the contents there' },
    system: { type: 'boolean', default: false, description: 'create a system account (uid below UID_MIN, no home unless create_home)' },
    comment: { type: 'string', description: 'the GECOS field (full name)' },
    password: { type: 'string', 'x-secret': true, description: 'the password HASH as in /etc/shadow (e.g. from mkpasswd); never shown' },
    update_password: { enum: ['always', 'on_create'], default: 'always', description: 'on_create: set the password only for a new account' },
    password_lock: { type: 'boolean', description: 'lock (true) or unlock (false) the password' },
    remove: { type: 'boolean', default: false, description: 'with state absent: remove the home directory and mail spool too' },
    force: { type: 'boolean', default: false, description: 'with state absent: remove even when the user is logged in' },
    generate_ssh_key: { type: 'boolean', default: false, description: 'create an ssh key pair for the user when ssh_key_file does not exist' },
    ssh_key_type: { type: 'string', default: 'rsa', enum: ['rsa', 'ed25519', 'ecdsa', 'dsa'], description: 'type of the key pair' },
    ssh_key_bits: { type: 'integer', minimum: 256, description: 'key size (rsa default 3072)' },
    ssh_key_file: { type: 'string', minLength: 1, description: 'private key path, relative to the home directory (default .ssh/id_<type>)' },
    ssh_key_comment: { type: 'string', description: 'key comment (default ansible-generated on <hostname>)' },
    ssh_key_passphrase: { type: 'string', 'x-secret': true, description: 'passphrase of the new private key' },
  },
} as const;

export const user: Module<typeof schema, Observed, UserAction> = {
  name: 'user',
  description: 'Create, change or remove a local user account (and its ssh key pair)',
  schema,

  async observe(ctx, args) {
    const entry = await passwdEntry(ctx, args.name);
    if (args.group !== undefined && args.state !== 'absent' && !(await groupEntry(ctx, args.group))) {
      throw new ModuleError(`user: group ${args.group} does not exist (create it first with the group module)`);
    }
    for (const g of wantedGroups(args) ?? []) {
      if (!(await groupEntry(ctx, g))) throw new ModuleError(`user: group ${g} does not exist (create it first with the group module)`);
    }
    if (!entry) return { account: null, publicKey: args.generate_ssh_key ? null : undefined };
    const primary = await groupEntry(ctx, String(entry.gid));
    const ids = await ctx.host.exec(['id', '-Gn', args.name]);
    const all = ids.exitCode === 0 ? ids.stdout.trim().split(/\s+/).filter(Boolean) : [];
    const account: Account = { ...entry, group: primary?.name ?? String(entry.gid), groups: all.filter((g) => g !== primary?.name) };
    if (args.password !== undefined || args.password_lock !== undefined) account.hash = (await getent(ctx, 'shadow', args.name))?.[1] ?? '';
    let publicKey: string | null | undefined;
    if (args.generate_ssh_key) {
      const pub = await ctx.host.read(`${keyFile(args, account.home)}.pub`, { ...ctx.become });
      publicKey = pub ? pub.toString('utf8').trim() : null;
    }
    return { account, publicKey };
  },

  plan({ account, publicKey }, args) {
    const state = args.state;
    const base = { name: args.name, state };
    if (state === 'absent') {
      if (!account) return { changed: false, summary: `user ${args.name} absent`, result: base };
      const argv = ['userdel', ...(args.remove ? ['-r'] : []), ...(args.force ? ['-f'] : []), args.name];
      return {
        changed: true,
        summary: `remove user ${args.name}${args.remove ? ' and its home' : ''}`,
        diffs: [{ target: `user ${args.name}`, before: describe(account), after: '' }],
        action: { argv },
        result: base,
      };
    }
    const groups = wantedGroups(args);
    const sshKey = (home: string) =>
      args.generate_ssh_key && !publicKey
        ? { file: keyFile(args, home), type: args.ssh_key_type, bits: args.ssh_key_bits, comment: args.ssh_key_comment ?? `ansible-generated on ${'$HOSTNAME'}` }
        : undefined;
    if (!account) {
      const argv = ['useradd'];
      if (args.uid !== undefined) argv.push('-u', String(args.uid));
      if (args.group !== undefined) argv.push('-g', args.group);
      if (groups?.length) argv.push('-G', groups.join(','));
      if (args.shell !== undefined) argv.push('-s', args.shell);
      if (args.home !== undefined) argv.push('-d', args.home);
      if (args.comment !== undefined) argv.push('-c', args.comment);
      if (args.system) argv.push('-r');
      argv.push(args.create_home === false ? '-M' : '-m', args.name);
      const home = args.home ?? `/home/${args.name}`;
      const planned: Partial<Account> = { name: args.name, uid: args.uid, group: args.group ?? args.name, groups: groups ?? [], shell: args.shell, home, comment: args.comment ?? '' };
      const key = sshKey(home);
      return {
        changed: true,
        summary: `create user ${args.name}${args.uid !== undefined ? ` (uid ${args.uid})` : ''}${key ? ', generate ssh key' : ''}`,
        diffs: [{ target: `user ${args.name}`, before: '', after: describe(planned, args.password !== undefined) }],
        action: { argv, sshKey: key, ...(args.password !== undefined ? { password: { locked: false } } : {}) },
        result: { ...base, home, password: args.password !== undefined ? 'NOT_LOGGING_PASSWORD' : undefined },
      };
    }
    const mod: string[] = [];
    const after: Account = { ...account, groups: [...account.groups] };
    if (args.uid !== undefined && args.uid !== account.uid) mod.push('-u', String(args.uid)), (after.uid = args.uid);
    if (args.group !== undefined && args.group !== account.group && args.group !== String(account.gid)) mod.push('-g', args.group), (after.group = args.group);
    if (groups !== undefined) {
      const missing = groups.filter((g) => !account.groups.includes(g));
      if (args.append) {
        if (missing.length) mod.push('-a', '-G', missing.join(',')), after.groups.push(...missing);
      } else if (missing.length || account.groups.some((g) => !groups.includes(g))) {
        mod.push('-G', groups.join(','));
        after.groups = groups;
      }
    }
    if (args.shell !== undefined && args.shell !== account.shell) mod.push('-s', args.shell), (after.shell = args.shell);
    if (args.home !== undefined && args.home !== account.home) mod.push('-d', args.home, ...(args.move_home ? ['-m'] : [])), (after.home = args.home);
    if (args.comment !== undefined && args.comment !== account.comment) mod.push('-c', args.comment), (after.comment = args.comment);
    let passwordChanges = false;
    if (args.password !== undefined && args.update_password !== 'on_create' && account.hash?.replace(/^!/, '') !== args.password) {
      passwordChanges = true;
    }
    const locked = account.hash?.startsWith('!');
    if (args.password_lock === true && !locked) mod.push('-L');
    if (args.password_lock === false && locked) mod.push('-U');
    const key = sshKey(after.home);
    const result = { ...base, uid: after.uid, group: after.gid, home: after.home, shell: after.shell, ...(publicKey ? { ssh_public_key: publicKey, ssh_key_file: keyFile(args, after.home) } : {}) };
    if (!mod.length && !key && !passwordChanges) return { changed: false, summary: `user ${args.name} (uid ${account.uid})`, result };
    const diffs: Diff[] = [{ target: `user ${args.name}`, before: describe(account), after: describe(after, passwordChanges) }];
    if (args.password_lock !== undefined && mod.some((m) => m === '-L' || m === '-U'))
      diffs.push({ target: `user ${args.name} password`, before: locked ? 'locked\n' : 'unlocked\n', after: args.password_lock ? 'locked\n' : 'unlocked\n' });
    const fields = [changedFields(mod), passwordChanges ? 'password' : ''].filter(Boolean).join(', ');
    const what = [fields ? `change user ${args.name} (${fields})` : '', key ? `generate ssh key for ${args.name}` : ''].filter(Boolean).join(', ');
    return {
      changed: true,
      summary: what,
      diffs,
      action: { argv: mod.length ? ['usermod', ...mod, args.name] : undefined, sshKey: key, ...(passwordChanges ? { password: { locked: args.password_lock ?? !!locked } } : {}) },
      result,
    };
  },

  async apply(ctx, action, args) {
    if (action.argv) await execOrFail(ctx, action.argv, `${action.argv[0]} ${args.name} failed`);
    if (action.password && args.password !== undefined) {
      const hash = action.password.locked ? `!${args.password}` : args.password;
      const r = await ctx.host.exec(['chpasswd', '-e'], { ...ctx.become, stdin: `${args.name}:${hash}\n` });
      if (r.exitCode !== 0) throw new ModuleError(`cannot set the password of ${args.name}: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
    }
    const result: Record<string, unknown> = {};
    const entry = await passwdEntry(ctx, args.name);
    if (entry) Object.assign(result, { uid: entry.uid, group: entry.gid, home: entry.home, shell: entry.shell });
    if (action.sshKey && entry) result.ssh_public_key = await generateKey(ctx, entry, action.sshKey, args);
    if (action.sshKey) result.ssh_key_file = action.sshKey.file;
    return { result };
  },
};

function wantedGroups(args: UserArgs): string[] | undefined {
  if (args.groups === undefined) return undefined;
  const list = Array.isArray(args.groups) ? args.groups : args.groups.split(',');
  return list.map((g) => g.trim()).filter(Boolean);
}

function keyFile(args: UserArgs, home: string): string {
  const file = args.ssh_key_file ?? `.ssh/id_${args.ssh_key_type}`;
  return path.posix.isAbsolute(file) ? file : path.posix.join(home, file);
}

/** ssh-keygen as root, then the pair and its directory given to the user (0700, as ssh wants). */
async function generateKey(ctx: ModuleContext, entry: PasswdEntry, key: NonNullable<UserAction['sshKey']>, args: UserArgs): Promise<string> {
  await ensureKeyDir(ctx, key.file, String(entry.uid), String(entry.gid));
  const hostname = (await ctx.host.exec(['hostname'])).stdout.trim();
  const publicKey = await generateKeyPair(ctx, { ...key, comment: key.comment.replace('$HOSTNAME', hostname) }, args.ssh_key_passphrase);
  await execOrFail(ctx, ['chown', `${entry.uid}:${entry.gid}`, key.file, `${key.file}.pub`], `cannot give ${key.file} to ${args.name}`);
  return publicKey;
}

const FLAG_NAMES: Record<string, string> = { '-u': 'uid', '-g': 'group', '-G': 'groups', '-s': 'shell', '-d': 'home', '-c': 'comment', '-L': 'lock', '-U': 'unlock' };

function changedFields(mod: string[]): string {
  return [...new Set(mod.filter((m) => m in FLAG_NAMES).map((m) => FLAG_NAMES[m]))].join(', ');
}

function describe(a: Partial<Account>, passwordChanges = false): string {
  const lines = [
    `uid: ${a.uid ?? '(assigned by useradd)'}`,
    `group: ${a.group ?? ''}`,
    `groups: ${(a.groups ?? []).join(',')}`,
    `home: ${a.home ?? ''}`,
    `shell: ${a.shell ?? '(default)'}`,
    `comment: ${a.comment ?? ''}`,
  ];
  if (passwordChanges) lines.push('password: (changed, not shown)');
  return lines.join('\n') + '\n';
}
