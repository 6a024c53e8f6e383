// authorized_key: ssh public keys in a user's authorized_keys, with options (from="...",
// command="...") and exclusive (every other key goes). Keys are matched by their key blob, as in
// Ansible, so a changed comment or options rewrite the line instead of adding a second one.
// The file is written atomically, 0600 and owned by the user; ~/.ssh is made 0700 when missing.
import * as path from 'node:path';
import { ModuleError, type ArgsOf, type Module } from '../engine/types.js';
import { ACCOUNT_NAME, groupEntry, passwdEntry } from './support/accounts.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { execOrFail } from './support/host-commands.js';
import { decodeText, readLines } from './support/text.js';

interface Observed {
  file: ManagedFile;
  /** ~/.ssh (or the path's directory) must be created, owned by the user. */
  createDir?: { path: string; owner: string; group: string };
}

interface AuthorizedKeyAction {
  createDir?: Observed['createDir'];
  file: ManagedFileAction;
}

interface SshKey {
  options?: string;
  type: string;
  blob: string;
  comment?: string;
}

type AuthorizedKeyArgs = ArgsOf<typeof schema>;

const KEY_TYPES = /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp\d+|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com)(-cert-v01@openssh\.com)?$/;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['user', 'key'],
  properties: {
    user: { type: 'string', pattern: ACCOUNT_NAME, description: 'whose authorized_keys' },
    key: { type: 'string', minLength: 1, description: 'one or more public keys, one per line ("ssh-ed25519 AAAA... comment", options allowed in front)' },
    path: { type: 'string', pattern: '^/', description: 'the authorized_keys file (default ~user/.ssh/authorized_keys)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the keys should be in the file' },
    exclusive: { type: 'boolean', default: false, description: 'remove every other key from the file' },
    key_options: { type: 'string', description: 'options for the keys, e.g. from="10.0.0.0/8",no-pty (replaces the options of the key lines)' },
    comment: { type: 'string', description: 'comment for the keys (replaces the comment of the key lines)' },
    manage_dir: { type: 'boolean', default: true, description: "create the file's directory (0700, owned by the user) when missing" },
  },
} as const;

/** Splits one authorized_keys line: [options] type blob [comment]. Options may hold quoted spaces. */
export function parseKeyLine(line: string): SshKey | null {
  const text = line.trim();
  if (!text || text.startsWith('#')) return null;
  const words: { word: string; end: number }[] = [];
  for (const m of text.matchAll(/(?:[^\s"]|"(?:[^"\\]|\\.)*")+/g)) {
    words.push({ word: m[0], end: m.index + m[0].length });
    if (words.length === 3) break;
  }
  const at = words.findIndex((w) => KEY_TYPES.test(w.word));
  if (at < 0 || at > 1 || !words[at + 1]) return null;
  const key: SshKey = { type: words[at].word, blob: words[at + 1].word };
  if (at === 1) key.options = words[0].word;
  const comment = text.slice(words[at + 1].end).trim();
  if (comment) key.comment = comment;
  return key;
}

function formatKey(k: SshKey): string {
  return [k.options, k.type, k.blob, k.comment].filter((p) => p !== undefined && p !== '').join(' ');
}

function wantedKeys(args: AuthorizedKeyArgs): SshKey[] {
  const keys: SshKey[] = [];
  for (const line of args.key.split('\n')) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const k = parseKeyLine(line);
    if (!k) throw new ModuleError(`authorized_key: invalid key specified: ${line.trim().slice(0, 60)}`);
    if (args.key_options !== undefined) k.options = args.key_options || undefined;
    if (args.comment !== undefined) k.comment = args.comment || undefined;
    keys.push(k);
  }
  if (!keys.length) throw new ModuleError('authorized_key: key holds no public key');
  return keys;
}

/** The file's lines after ensuring the keys (present or absent; exclusive drops all other keys). */
export function editAuthorizedKeys(lines: string[], args: AuthorizedKeyArgs): string[] {
  const wanted = wantedKeys(args);
  const byBlob = new Map(wanted.map((k) => [k.blob, k]));
  const out: string[] = [];
  const seen = new Set<string>();
  for (const line of lines) {
    const existing = parseKeyLine(line);
    if (!existing) {
      out.push(line);
      continue;
    }
    const want = byBlob.get(existing.blob);
    if (args.state === 'absent') {
      if (!want) out.push(line);
      continue;
    }
    if (!want) {
      if (!args.exclusive) out.push(line);
      continue;
    }
    if (seen.has(want.blob)) continue;
    seen.add(want.blob);
    // Options and comment not given keep what the line had, as in Ansible.
    const merged = { ...existing, ...want, options: args.key_options !== undefined || want.options ? want.options : existing.options, comment: want.comment ?? existing.comment };
    out.push(formatKey(merged) === line.replace(/\r?\n$/, '') ? line : formatKey(merged) + '\n');
  }
  if (args.state !== 'absent') {
    if (out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
    for (const k of wanted) if (!seen.has(k.blob)) out.push(formatKey(k) + '\n'), seen.add(k.blob);
  }
  return out;
}

export const authorized_key: Module<typeof schema, Observed, AuthorizedKeyAction> = {
  name: 'authorized_key',
  description: "Add or remove ssh public keys in a user's authorized_keys",
  schema,

  async observe(ctx, args) {
    wantedKeys(args);
    const account = await passwdEntry(ctx, args.user);
    if (!account) throw new ModuleError(`authorized_key: user ${args.user} does not exist`);
    const group = (await groupEntry(ctx, String(account.gid)))?.name ?? String(account.gid);
    const file = args.path ?? path.posix.join(account.home, '.ssh', 'authorized_keys');
    const observed = await observeManagedFile(ctx, file, { mode: '0600', owner: args.user, group });
    if (observed.stat?.type === 'directory') throw new ModuleError(`authorized_key: ${file} is a directory`);
    const dir = path.posix.dirname(file);
    if (!observed.parentExists) {
      if (!args.manage_dir) throw new ModuleError(`authorized_key: ${dir} does not exist (manage_dir: true creates it)`);
      return { file: { ...observed, parentExists: true }, createDir: { path: dir, owner: args.user, group } };
    }
    return { file: observed };
  },

  plan({ file, createDir }, args) {
    if (!file.stat && args.state === 'absent') return { changed: false, summary: `${file.path} absent`, result: { user: args.user, key: args.key } };
    const before = file.content ? readLines(decodeText(file.content, file.path)) : [];
    const after = editAuthorizedKeys(before, args);
    const desired = Buffer.from(after.join(''), 'utf8');
    const unchangedContent = file.content?.equals(desired);
    const plan = planManagedFile(file, unchangedContent ? null : desired, { result: { user: args.user, key: args.key, exclusive: args.exclusive, keyfile: file.path } });
    if (!plan || !('changed' in plan) || !plan.changed) return plan;
    if (createDir) plan.summary = `create ${createDir.path} (0700), ${plan.summary}`;
    return { ...plan, action: { createDir, file: plan.action } };
  },

  async apply(ctx, action) {
    const dir = action.createDir;
    if (dir) await execOrFail(ctx, ['install', '-d', '-m', '0700', '-o', dir.owner, '-g', dir.group, dir.path], `cannot create ${dir.path}`);
    return applyManagedFile(ctx, action.file);
  },
};
