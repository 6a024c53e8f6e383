// Ansible's vault format, read so that teams keep their existing vaults (files and inline
// `!vault` values):
//
//   $ANSIBLE_VAULT;1.1;AES256            (1.2 adds ;<vault id>)
//   <hex of "hex(salt)\nhex(hmac)\nhex(ciphertext)", in lines of 80>
//
// PBKDF2-HMAC-SHA256 of the password over the 32-byte salt, 10000 rounds, gives 80 bytes: the
// AES-256 key, the HMAC-SHA256 key and the 16-byte initial counter of AES-256-CTR. The plaintext
// is PKCS#7-padded; the HMAC covers the ciphertext and is checked before anything is decrypted.
import { createDecipheriv, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto';
import { UserError } from '../user-error.js';

const ANSIBLE_VAULT_PREFIX = '$ANSIBLE_VAULT;';

class AnsibleVaultError extends UserError {
  override name = 'VaultError';
}

export function isAnsibleVaultText(text: string): boolean {
  return text.trimStart().startsWith(ANSIBLE_VAULT_PREFIX);
}

export function decryptAnsibleVault(text: string, password: string, file = 'vault'): string {
  const [headerLine, ...lines] = text.trim().split(/\r?\n/);
  const [, version, cipher, vaultId] = headerLine.trim().split(';');
  if (!['1.1', '1.2'].includes(version) || cipher !== 'AES256') {
    throw new AnsibleVaultError(`${file}: an Ansible vault of format ${version ?? '?'}/${cipher ?? '?'}; plinth reads 1.1 and 1.2 with AES256`);
  }
  const damaged = (why: string) => new AnsibleVaultError(`${file}: the Ansible vault${vaultId ? ` (vault id ${vaultId})` : ''} is damaged: ${why}`);
  const body = lines.map((l) => l.trim()).join('');
  if (!/^([0-9a-fA-F]{2})+$/.test(body)) throw damaged('its body is not hexadecimal');
  const parts = Buffer.from(body, 'hex').toString('latin1').split('\n');
  if (parts.length !== 3 || !parts.every((p) => /^([0-9a-fA-F]{2})+$/.test(p))) throw damaged('it does not hold salt, HMAC and ciphertext');
  const [salt, hmac, ciphertext] = parts.map((p) => Buffer.from(p, 'hex'));
  const derived = pbkdf2Sync(Buffer.from(password, 'utf8'), salt, 10000, 80, 'sha256');
  const [cipherKey, hmacKey, counter] = [derived.subarray(0, 32), derived.subarray(32, 64), derived.subarray(64, 80)];
  const expected = createHmac('sha256', hmacKey).update(ciphertext).digest();
  if (expected.length !== hmac.length || !timingSafeEqual(expected, hmac)) {
    throw new AnsibleVaultError(`${file}: cannot decrypt the Ansible vault${vaultId ? ` (vault id ${vaultId})` : ''}: wrong vault password, or the file was changed after it was encrypted`);
  }
  const decipher = createDecipheriv('aes-256-ctr', cipherKey, counter);
  const padded = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
  const pad = padded[padded.length - 1];
  if (!pad || pad > 16 || padded.length < pad || !padded.subarray(padded.length - pad).every((b) => b === pad)) throw damaged('its padding is wrong');
  return padded.subarray(0, padded.length - pad).toString('utf8');
}
