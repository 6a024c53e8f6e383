// PostgreSQL's stored password verifiers (pg_authid.rolpassword): checking a password
// against one without the server, and making one so the server never sees the plain text.
//   SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>   (RFC 5802/5803, base64)
//   md5<md5(password || rolname)>
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

type PasswordEncryption = 'scram-sha-256' | 'md5';

const SCRAM = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/;
const MD5 = /^md5[0-9a-f]{32}$/;

export function verifierKind(stored: string | null): PasswordEncryption | 'plain' | null {
  if (stored === null) return null;
  if (SCRAM.test(stored)) return 'scram-sha-256';
  if (MD5.test(stored)) return 'md5';
  return 'plain';
}

/** True when `password` is the password the verifier was made from. */
export function verifyPassword(stored: string | null, password: string, rolname: string): boolean {
  if (stored === null) return false;
  const scram = SCRAM.exec(stored);
  if (scram) {
    const [, iterations, salt, storedKey, serverKey] = scram;
    // PostgreSQL applies SASLprep (NFKC) to non-ASCII passwords when it can; try both forms.
    return candidates(password).some((p) => {
      const keys = scramKeys(p, Buffer.from(salt, 'base64'), Number(iterations));
      return same(keys.storedKey, Buffer.from(storedKey, 'base64')) && same(keys.serverKey, Buffer.from(serverKey, 'base64'));
    });
  }
  if (MD5.test(stored)) return same(Buffer.from(md5Verifier(password, rolname)), Buffer.from(stored));
  return false;
}

export function makeVerifier(kind: PasswordEncryption, password: string, rolname: string, iterations = 4096): string {
  if (kind === 'md5') return md5Verifier(password, rolname);
  const salt = randomBytes(16);
  const { storedKey, serverKey } = scramKeys(saslPrep(password), salt, iterations);
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

function md5Verifier(password: string, rolname: string): string {
  return `md5${createHash('md5')
    .update(password + rolname, 'utf8')
    .digest('hex')}`;
}

function scramKeys(password: string, salt: Buffer, iterations: number) {
  const salted = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  return {
    storedKey: createHash('sha256').update(clientKey).digest(),
    serverKey: createHmac('sha256', salted).update('Server Key').digest(),
  };
}

function saslPrep(password: string): string {
  return /^[\x20-\x7e]*$/.test(password) ? password : password.normalize('NFKC');
}

function candidates(password: string): string[] {
  const prepped = saslPrep(password);
  return prepped === password ? [password] : [prepped, password];
}

function same(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
