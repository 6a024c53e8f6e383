// pgpool_enc: the equivalent of `pg_enc -m -u USER` — the user's pool_passwd entry is an
// AES-encrypted password that decrypts to the wanted password with pgpool's key.
//
// How pgpool encrypts (src/utils/ssl_utils.c, src/tools/pgenc/pg_enc.c, src/auth/pool_passwd.c):
// key and IV = EVP_BytesToKey(AES-256-CBC, SHA-1, no salt, 1 iteration) over the key text,
// then AES-256-CBC with PKCS#7 padding over the password, base64, prefixed with "AES".
// The key file's first line is the key (trailing newline stripped, fgets into 256 bytes).
// Because the entry is deterministic, the module decrypts the current entry and rewrites the
// line only when it does not decrypt to the wanted password.
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { Diff, Module, ModuleContext, Plan, PlannedWrite, FileStat } from '../engine/types.js';
import { ModuleError, type ArgsOf } from '../engine/types.js';

const AES_PREFIX = 'AES';
/** pgpool reads the key with fgets(buf, MAX_POOL_KEY_LEN=256): at most 255 bytes. */
const MAX_KEY_BYTES = 255;
/** MAX_PGPASS_LEN is 128 including the terminating NUL. */
const MAX_PASSWORD_BYTES = 127;
/** pool_get_user_credentials tokenizes with MAX_TOKEN_LEN=128: a longer entry is cut and cannot be decrypted. */
const MAX_ENTRY_CHARS = 128;
/** Debian's pgpool2 package ships pool_passwd as root:postgres 0640. */
const DEFAULT_PASSWD_MODE = '0640';

type PgpoolEncArgs = ArgsOf<typeof schema>;

interface FileState {
  content: string | null;
  stat: FileStat | null;
}

interface Observed {
  keyPath: string;
  /** The owner's primary group: the group of a new pool_passwd (Debian: root:postgres 0640). */
  ownerGroup: string;
  keyFile: FileState;
  passwd: FileState;
}

interface Action {
  keyFile?: { path: string; content: string; owner: string };
  passwd?: { path: string; content: string; mode: string; owner: string; group: string };
}

export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['user', 'password'],
  properties: {
    user: {
      type: 'string',
      minLength: 1,
      maxLength: 127,
      pattern: '^[^:\\n\\\\]+$',
      description: 'Database user whose pool_passwd entry is managed (no ":", backslash or newline).',
    },
    password: { type: 'string', minLength: 1, 'x-secret': true, description: 'The clear-text password the entry must decrypt to.' },
    key: {
      type: 'string',
      minLength: 1,
      'x-secret': true,
      description: 'The pgpool encryption key text. When omitted, the first line of key_file is used.',
    },
    key_file: {
      type: 'string',
      description: 'Path of the key file; "~user/..." and "~/..." (the owner\'s home) are expanded. Default: ~OWNER/.pgpoolkey.',
    },
    pool_passwd: { type: 'string', default: '/etc/pgpool2/pool_passwd', description: 'Path of pool_passwd.' },
    owner: {
      type: 'string',
      default: 'postgres',
      description: "The user pgpool runs as (Debian's pgpool2.service: User=postgres); owns the key file.",
    },
    manage_key_file: {
      type: 'boolean',
      default: true,
      description: 'With `key`: ensure the key file holds the key (first line), mode 0600, owned by `owner`.',
    },
  },
} as const;

/** OpenSSL's EVP_BytesToKey with SHA-1, no salt, one iteration, sized for AES-256-CBC. */
function pgpoolKeyAndIv(keyText: string): { key: Buffer; iv: Buffer } {
  const material: Buffer[] = [];
  let total = 0;
  let previous = Buffer.alloc(0);
  while (total < 48) {
    previous = createHash('sha1')
      .update(Buffer.concat([previous, Buffer.from(keyText, 'utf8')]))
      .digest();
    material.push(previous);
    total += previous.length;
  }
  const all = Buffer.concat(material);
  return { key: all.subarray(0, 32), iv: all.subarray(32, 48) };
}

/** The pool_passwd value pg_enc writes: "AES" + base64(AES-256-CBC(password)). */
export function encryptPgpoolPassword(password: string, keyText: string): string {
  const { key, iv } = pgpoolKeyAndIv(keyText);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return AES_PREFIX + Buffer.concat([cipher.update(password, 'utf8'), cipher.final()]).toString('base64');
}

/** Decrypts an "AES..." entry; null when it is not AES or the key does not fit. */
export function decryptPgpoolPassword(entry: string, keyText: string): string | null {
  if (!entry.startsWith(AES_PREFIX)) return null;
  const { key, iv } = pgpoolKeyAndIv(keyText);
  try {
    const decipher = createDecipheriv('aes-256-cbc', key, iv);
    return Buffer.concat([decipher.update(Buffer.from(entry.slice(AES_PREFIX.length), 'base64')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

/** The key pgpool reads from a key file: the first line without its newline. */
function keyFromKeyFile(content: string): string {
  const newline = content.indexOf('\n');
  return newline === -1 ? content : content.slice(0, newline);
}

/** The password part of `user`'s first line in pool_passwd (pgpool uses the first match), or null. */
function findEntry(passwd: string, user: string): { index: number; value: string } | null {
  const lines = passwd.split('\n');
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].startsWith(`${user}:`)) return { index: i, value: lines[i].slice(user.length + 1).split(':')[0] };
  }
  return null;
}

/** pool_passwd with `user`'s line set to `line`; every other line is kept byte for byte. */
export function withEntry(passwd: string, user: string, line: string): string {
  const found = findEntry(passwd, user);
  if (found) {
    const lines = passwd.split('\n');
    lines[found.index] = line;
    return lines.join('\n');
  }
  const base = passwd === '' || passwd.endsWith('\n') ? passwd : `${passwd}\n`;
  return `${base}${line}\n`;
}

async function homeOf(ctx: ModuleContext, user: string): Promise<string> {
  const r = await ctx.host.exec(['getent', 'passwd', user]);
  const home = r.exitCode === 0 ? r.stdout.trim().split(':')[5] : undefined;
  if (!home) throw new ModuleError(`pgpool_enc: user '${user}' does not exist on ${ctx.host.name}; install pgpool2 first or set owner/key_file`);
  return home;
}

async function keyFilePath(ctx: ModuleContext, args: PgpoolEncArgs): Promise<string> {
  const path = args.key_file ?? `~${args.owner}/.pgpoolkey`;
  const tilde = /^~([^/]*)(\/.*)?$/.exec(path);
  if (!tilde) return path;
  return (await homeOf(ctx, tilde[1] || args.owner)) + (tilde[2] ?? '');
}

async function primaryGroup(ctx: ModuleContext, user: string): Promise<string> {
  const r = await ctx.host.exec(['id', '-gn', user]);
  if (r.exitCode !== 0) throw new ModuleError(`pgpool_enc: user '${user}' does not exist on ${ctx.host.name}; install pgpool2 first or set owner`);
  return r.stdout.trim();
}

async function readState(ctx: ModuleContext, path: string): Promise<FileState> {
  const opts = ctx.become;
  const stat = await ctx.host.stat(path, { ...opts, follow: true });
  if (!stat) return { content: null, stat: null };
  if (stat.type !== 'file') throw new ModuleError(`pgpool_enc: ${path} is not a regular file`);
  const content = await ctx.host.read(path, opts);
  return { content: content?.toString('utf8') ?? null, stat };
}

function checkLimits(args: PgpoolEncArgs, key: string): void {
  if (/[\r\n]/.test(key)) throw new ModuleError('pgpool_enc: the key must be one line (pgpool reads only the first line of the key file)');
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new ModuleError(`pgpool_enc: the key is longer than pgpool reads (${MAX_KEY_BYTES} bytes)`);
  if (Buffer.byteLength(args.password) > MAX_PASSWORD_BYTES) {
    throw new ModuleError(`pgpool_enc: the password of ${args.user} is longer than pgpool accepts (${MAX_PASSWORD_BYTES} bytes)`);
  }
}

function planKeyFile(observed: Observed, args: PgpoolEncArgs): { action?: Action['keyFile']; changes: string[] } {
  if (!args.key || !args.manage_key_file) return { changes: [] };
  const { content, stat } = observed.keyFile;
  const changes: string[] = [];
  const rightKey = content !== null && keyFromKeyFile(content) === args.key;
  if (content === null) changes.push(`create key file ${observed.keyPath}`);
  else if (!rightKey) changes.push(`key file ${observed.keyPath}: key changed (secret)`);
  if (stat && stat.mode !== '0600') changes.push(`key file mode ${stat.mode} → 0600`);
  if (stat && stat.owner !== args.owner) changes.push(`key file owner ${stat.owner} → ${args.owner}`);
  if (!changes.length) return { changes };
  // Keep the existing text when only mode or owner are wrong: pgpool reads the first line only.
  const desired = rightKey ? (content as string) : `${args.key}\n`;
  return { action: { path: observed.keyPath, content: desired, owner: args.owner }, changes };
}

function planPasswd(observed: Observed, args: PgpoolEncArgs, key: string, ctx: ModuleContext): { action?: Action['passwd']; change?: string } {
  const current = observed.passwd.content ?? '';
  const entry = findEntry(current, args.user);
  if (entry) ctx.markSecret(entry.value);
  if (entry && decryptPgpoolPassword(entry.value, key) === args.password) return {};
  const encrypted = encryptPgpoolPassword(args.password, key);
  ctx.markSecret(encrypted);
  if (encrypted.length > MAX_ENTRY_CHARS) {
    throw new ModuleError(`pgpool_enc: the encrypted password of ${args.user} would be longer than pgpool reads from pool_passwd (${MAX_ENTRY_CHARS} characters); use a shorter password`);
  }
  const stat = observed.passwd.stat;
  return {
    action: {
      path: args.pool_passwd,
      content: withEntry(current, args.user, `${args.user}:${encrypted}`),
      mode: stat?.mode ?? DEFAULT_PASSWD_MODE,
      owner: stat?.owner ?? 'root',
      group: stat?.group ?? observed.ownerGroup,
    },
    change: entry ? `user ${args.user}: password changed (secret)` : `user ${args.user}: add encrypted password (secret)`,
  };
}

function passwdDiff(path: string, user: string, hadEntry: boolean): Diff {
  // The ciphertext is derived from the secret: the diff names the entry, never its value.
  return {
    target: path,
    before: hadEntry ? `${user}:AES(encrypted password)\n` : '',
    after: `${user}:AES(encrypted password, changed)\n`,
    secret: true,
  };
}

export const pgpoolEnc: Module<typeof schema, Observed, Action> = {
  name: 'pgpool_enc',
  description: "Ensures a user's pool_passwd entry is the pgpool AES encryption of a password (like `pg_enc -m`), and optionally the key file.",
  schema,

  async observe(ctx, args) {
    ctx.markSecret(args.password);
    if (args.key) ctx.markSecret(args.key);
    const keyPath = await keyFilePath(ctx, args);
    const [keyFile, passwd, ownerGroup] = await Promise.all([readState(ctx, keyPath), readState(ctx, args.pool_passwd), primaryGroup(ctx, args.owner)]);
    if (keyFile.content) ctx.markSecret(keyFromKeyFile(keyFile.content));
    return { keyPath, keyFile, passwd, ownerGroup };
  },

  plan(observed, args, ctx): Plan<Action> {
    const key = args.key ?? (observed.keyFile.content === null ? null : keyFromKeyFile(observed.keyFile.content));
    if (key === null || key === '') {
      throw new ModuleError(`pgpool_enc: no encryption key: set \`key\` or create ${observed.keyPath} (its first line is the key)`);
    }
    checkLimits(args, key);
    const keyPlan = planKeyFile(observed, args);
    const passwdPlan = planPasswd(observed, args, key, ctx);
    const changes = [...keyPlan.changes, ...(passwdPlan.change ? [passwdPlan.change] : [])];
    if (!changes.length) return { changed: false, summary: `user ${args.user}: encrypted password up to date` };

    const diffs: Diff[] = [];
    const writes: PlannedWrite[] = [];
    if (keyPlan.action) {
      diffs.push({ target: observed.keyPath, before: observed.keyFile.content === null ? '' : '(key)\n', after: '(key)\n', secret: true });
      writes.push({ path: keyPlan.action.path, content: keyPlan.action.content, mode: '0600' });
    }
    if (passwdPlan.action) {
      diffs.push(passwdDiff(args.pool_passwd, args.user, findEntry(observed.passwd.content ?? '', args.user) !== null));
      writes.push({ path: passwdPlan.action.path, content: passwdPlan.action.content, mode: passwdPlan.action.mode });
    }
    return {
      changed: true,
      summary: changes.join('; '),
      diffs,
      writes,
      action: { keyFile: keyPlan.action, passwd: passwdPlan.action },
    };
  },

  async apply(ctx, action) {
    if (action.keyFile) {
      const { path, content, owner } = action.keyFile;
      await ctx.host.write(path, content, { mode: '0600', owner, ...ctx.become });
    }
    if (action.passwd) {
      const { path, content, mode, owner, group } = action.passwd;
      await ctx.host.write(path, content, { mode, owner, group, ...ctx.become });
    }
    return { changed: true };
  },
};
