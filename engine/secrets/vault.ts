// The vault: files encrypted with AES-256-GCM under a key derived from a password with scrypt.
// A vault file is text, so it diffs and merges like any file in a repository:
//
//   $PLINTH_VAULT;1;AES256-GCM;SCRYPT
//   <base64 of {"n":..,"r":..,"p":..,"salt":..,"iv":..,"tag":..,"data":..}, wrapped at 76>
//
// GCM authenticates the data: a wrong password or a changed byte is an error, never garbage.
import { createCipheriv, createDecipheriv, randomBytes, scryptSync } from 'node:crypto';
import { decryptAnsibleVault, isAnsibleVaultText } from './ansible-vault.js';
import { UserError } from '../user-error.js';

const VAULT_HEADER = '$PLINTH_VAULT;1;AES256-GCM;SCRYPT';

/** scrypt cost: 2^15 × 8 × 1 takes about 32 MiB and ~100 ms: slow for guessing, quick for one file. */
const COST = { N: 1 << 15, r: 8, p: 1 };

export class VaultError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'VaultError';
  }
}

interface Envelope {
  n: number;
  r: number;
  p: number;
  salt: string;
  iv: string;
  tag: string;
  data: string;
}

/** plinth's own vault, or Ansible's (read only: plinth writes its own format). */
export function isVaultText(text: string): boolean {
  return text.trimStart().startsWith('$PLINTH_VAULT;') || isAnsibleVaultText(text);
}

export function encryptVault(plaintext: string, password: string): string {
  if (!password) throw new VaultError('the vault password is empty');
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const key = deriveKey(password, salt, COST.N, COST.r, COST.p);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(VAULT_HEADER));
  const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  const envelope: Envelope = {
    n: COST.N,
    r: COST.r,
    p: COST.p,
    salt: salt.toString('base64'),
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
  const body = Buffer.from(JSON.stringify(envelope)).toString('base64');
  return `${VAULT_HEADER}\n${body.match(/.{1,76}/g)!.join('\n')}\n`;
}

export function decryptVault(text: string, password: string, file = 'vault'): string {
  if (isAnsibleVaultText(text)) return decryptAnsibleVault(text, password, file);
  const [header, ...lines] = text.trim().split('\n');
  if (header.trim() !== VAULT_HEADER) {
    throw new VaultError(`${file}: not a plinth vault file of a version this plinth knows (header '${header.slice(0, 40)}')`);
  }
  let env: Envelope;
  try {
    env = JSON.parse(Buffer.from(lines.join(''), 'base64').toString('utf8')) as Envelope;
  } catch {
    throw new VaultError(`${file}: the vault file is damaged (its body is not readable)`);
  }
  if (![env.n, env.r, env.p].every(Number.isInteger) || env.n > 1 << 20 || env.r > 32 || env.p > 16) {
    throw new VaultError(`${file}: the vault file is damaged (key derivation parameters out of range)`);
  }
  try {
    const key = deriveKey(password, Buffer.from(env.salt, 'base64'), env.n, env.r, env.p);
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(env.iv, 'base64'));
    decipher.setAAD(Buffer.from(VAULT_HEADER));
    decipher.setAuthTag(Buffer.from(env.tag, 'base64'));
    return Buffer.concat([decipher.update(Buffer.from(env.data, 'base64')), decipher.final()]).toString('utf8');
  } catch {
    throw new VaultError(`${file}: cannot decrypt: wrong vault password, or the file was changed after it was encrypted`);
  }
}

function deriveKey(password: string, salt: Buffer, N: number, r: number, p: number): Buffer {
  return scryptSync(password, salt, 32, { N, r, p, maxmem: 256 * N * r + 1024 * 1024 });
}

/** Where the vault password comes from; set once by the CLI, asked for only when a vault file is read. */
let passwordSource: (() => Promise<string>) | null = null;
let cached: Promise<string> | null = null;

export function setVaultPasswordSource(source: () => Promise<string>): void {
  passwordSource = source;
  cached = null;
}

export async function vaultPassword(file: string): Promise<string> {
  if (!passwordSource) {
    throw new VaultError(`${file} is encrypted: give the vault password with --vault-password-file FILE or PLINTH_VAULT_PASSWORD`);
  }
  cached ??= passwordSource();
  return cached;
}
