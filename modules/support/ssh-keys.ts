// ssh key pairs on a host, made with ssh-keygen (user's generate_ssh_key, openssh_keypair).
import * as path from 'node:path';
import { ModuleError, type ModuleContext } from '../../engine/types.js';
import { execOrFail } from './host-commands.js';

interface KeySpec {
  file: string;
  type: string;
  bits?: number;
  comment: string;
}

export interface KeyInfo {
  /** ssh-keygen -l: bits, fingerprint, comment, type. */
  bits: number;
  fingerprint: string;
  comment: string;
  type: string;
}

/** Writes a new pair (the passphrase goes to ssh-keygen's argv only on the host); returns the public key. */
export async function generateKeyPair(ctx: ModuleContext, key: KeySpec, passphrase = ''): Promise<string> {
  await ctx.host.exec(['rm', '-f', '--', key.file, `${key.file}.pub`], { ...ctx.become });
  const argv = ['ssh-keygen', '-q', '-t', key.type, ...(key.bits ? ['-b', String(key.bits)] : []), '-C', key.comment, '-f', key.file, '-N', passphrase];
  await execOrFail(ctx, argv, `ssh-keygen ${key.file} failed`);
  return publicKeyOf(ctx, key.file);
}

export async function publicKeyOf(ctx: ModuleContext, file: string): Promise<string> {
  const pub = await ctx.host.read(`${file}.pub`, { ...ctx.become });
  if (!pub) throw new ModuleError(`${file}.pub is missing`);
  return pub.toString('utf8').trim();
}

/** The key's type, size and fingerprint as ssh-keygen -l reports them (null when it is not a key). */
export async function keyInfo(ctx: ModuleContext, file: string): Promise<KeyInfo | null> {
  const r = await ctx.host.exec(['ssh-keygen', '-l', '-f', file], { ...ctx.become });
  if (r.exitCode !== 0) return null;
  return parseKeyInfo(r.stdout, file);
}

/**
 * `ssh-keygen -l -f FILE`: "256 SHA256:abc comment words (ED25519)". A key without a comment
 * shows "no comment" (OpenSSH before 8.x) or the name of the file it read (9.x: "FILE.pub").
 */
export function parseKeyInfo(line: string, file?: string): KeyInfo | null {
  const m = /^(\d+) (\S+) (.*) \((\w+)\)\s*$/.exec(line.trim());
  if (!m) return null;
  const none = m[3] === 'no comment' || (file !== undefined && (m[3] === file || m[3] === `${file}.pub`));
  return { bits: Number(m[1]), fingerprint: m[2], comment: none ? '' : m[3], type: m[4].toLowerCase() };
}

/** The directory of a key, 0700 and owned by its user, when it is missing. */
export async function ensureKeyDir(ctx: ModuleContext, file: string, owner?: string, group?: string): Promise<void> {
  const dir = path.posix.dirname(file);
  if (await ctx.host.stat(dir, { ...ctx.become })) return;
  const ids = [...(owner ? ['-o', owner] : []), ...(group ? ['-g', group] : [])];
  await execOrFail(ctx, ['install', '-d', '-m', '0700', ...ids, dir], `cannot create ${dir}`);
}
