// Ansible vaults (files and inline `!vault` values) decrypt with the vault password. The vaults
// here are built by the test itself from the format's published description, not by plinth.
import { describe, expect, it } from 'vitest';
import { createCipheriv, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decryptAnsibleVault } from '../../../engine/secrets/ansible-vault.js';
import { localInventory, plinth, plinthJson, tempTree } from '../../helpers/cli.js';

/**
 * ansible-vault encrypt, as documented: a 32-byte salt; PBKDF2-HMAC-SHA256(password, salt, 10000)
 * → 80 bytes = AES key (32) + HMAC key (32) + CTR initial counter (16); PKCS#7 padding;
 * AES-256-CTR; HMAC-SHA256 of the ciphertext; body = hex(hex(salt) \n hex(hmac) \n hex(ciphertext)),
 * lines of 80; header $ANSIBLE_VAULT;1.1;AES256 or $ANSIBLE_VAULT;1.2;AES256;<vault id>.
 */
function ansibleVaultEncrypt(plaintext: string, password: string, vaultId?: string, salt: Buffer = randomBytes(32)): string {
  const derived = pbkdf2Sync(password, salt, 10000, 80, 'sha256');
  const pad = 16 - (Buffer.byteLength(plaintext) % 16);
  const padded = Buffer.concat([Buffer.from(plaintext), Buffer.alloc(pad, pad)]);
  const cipher = createCipheriv('aes-256-ctr', derived.subarray(0, 32), derived.subarray(64, 80));
  const ciphertext = Buffer.concat([cipher.update(padded), cipher.final()]);
  const hmac = createHmac('sha256', derived.subarray(32, 64)).update(ciphertext).digest('hex');
  const body = Buffer.from(`${salt.toString('hex')}\n${hmac}\n${ciphertext.toString('hex')}`).toString('hex');
  const header = vaultId ? `$ANSIBLE_VAULT;1.2;AES256;${vaultId}` : '$ANSIBLE_VAULT;1.1;AES256';
  return `${header}\n${body.match(/.{1,80}/g)!.join('\n')}\n`;
}

const indent = (text: string, n: number) =>
  text
    .trim()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');

describe('the Ansible vault format', () => {
  it('decrypts a vault built from the specification, 1.1 and 1.2 with a vault id', () => {
    const plain = 'db_password: s3cr3t\nlong: ' + 'x'.repeat(100) + '\n';
    expect(decryptAnsibleVault(ansibleVaultEncrypt(plain, 'pw'), 'pw')).toBe(plain);
    expect(decryptAnsibleVault(ansibleVaultEncrypt(plain, 'pw', 'prod'), 'pw')).toBe(plain);
    // A plaintext of a whole number of blocks still gets a full block of padding.
    expect(decryptAnsibleVault(ansibleVaultEncrypt('0123456789abcdef', 'pw'), 'pw')).toBe('0123456789abcdef');
  });

  it('gives the same text as another implementation for a fixed salt (a published test vector)', () => {
    // From an independent C++ implementation's tests: password "mytestpassword", the salt is these 32 ASCII bytes.
    const vector = [
      '$ANSIBLE_VAULT;1.1;AES256',
      '36353634333333343339333633323335333236313634333633303331363336363335333733313631',
      '3633333333383635363136323335333533353334333436360a333266623333313331613638363063',
      '30366162363836633266623664323038303831636235313339306564383862376639656330313538',
      '6532616335656265390a316331663036366636343261366563353430366637303734356162306432',
      '38306536623464383462326539333838333930326337326338666666306164663636623335643839',
      '3237306533653535633032323038313661623166386632333735',
    ].join('\n');
    expect(decryptAnsibleVault(vector, 'mytestpassword')).toBe('My encrypted text.\nAnd another line.\n');
    expect(ansibleVaultEncrypt('My encrypted text.\nAnd another line.\n', 'mytestpassword', undefined, Buffer.from('ed3496252ad601cf571ac38eab55544f'))).toBe(`${vector}\n`);
  });

  it('refuses a wrong password and a changed byte, naming the file', () => {
    const vault = ansibleVaultEncrypt('a: 1\n', 'right');
    expect(() => decryptAnsibleVault(vault, 'wrong', 'group_vars/all/vault.yml')).toThrow(
      'group_vars/all/vault.yml: cannot decrypt the Ansible vault: wrong vault password, or the file was changed after it was encrypted',
    );
    const lines = vault.trim().split('\n');
    const last = lines[lines.length - 1];
    lines[lines.length - 1] = last.slice(0, -2) + (last.endsWith('30') ? '31' : '30');
    expect(() => decryptAnsibleVault(lines.join('\n'), 'right')).toThrow(/wrong vault password, or the file was changed/);
  });
});

describe('Ansible vaults in a playbook run', () => {
  const SECRET_FILE_VALUE = 'from-the-vault-file-8812';
  const SECRET_INLINE_VALUE = 'from-inline-vault-4471';
  const SECRET_INVENTORY_VALUE = 'inventory-inline-3390';

  async function project(password: string) {
    return tempTree({
      'vault-pass': `${password}\n`,
      'vars/secrets.yml': ansibleVaultEncrypt(`app_token: ${SECRET_FILE_VALUE}\n`, 'correct horse'),
      'inv.yml': `${localInventory(['h1'])}  vars:\n    inv_value: !vault |\n${indent(ansibleVaultEncrypt(SECRET_INVENTORY_VALUE, 'correct horse'), 6)}\n`,
      'pb.yml': `- hosts: h1
  gather_facts: false
  vars_files: [vars/secrets.yml]
  vars:
    inline_value: !vault |
${indent(ansibleVaultEncrypt(SECRET_INLINE_VALUE, 'correct horse', 'prod'), 6)}
  tasks:
    - copy: { dest: "{{ root }}/out", content: "{{ app_token }} {{ inline_value }} {{ inv_value }}" }
    - debug: { msg: "{{ app_token }} {{ inline_value }} {{ inv_value }}" }
`,
    });
  }

  it('vars_files, inline !vault in a play and in the inventory decrypt; the values are never printed', async () => {
    const root = await project('correct horse');
    const r = await plinthJson(['-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`, '--vault-password-file', path.join(root, 'vault-pass'), '-vvv', '--diff']);
    expect(r.code).toBe(0);
    expect(await fs.readFile(path.join(root, 'out'), 'utf8')).toBe(`${SECRET_FILE_VALUE} ${SECRET_INLINE_VALUE} ${SECRET_INVENTORY_VALUE}`);
    for (const s of [SECRET_FILE_VALUE, SECRET_INLINE_VALUE, SECRET_INVENTORY_VALUE]) expect(r.stdout + r.stderr).not.toContain(s);
  });

  it('ANSIBLE_VAULT_PASSWORD_FILE is honoured, as by ansible-playbook', async () => {
    const root = await project('correct horse');
    const r = await plinth(['run', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`], {
      env: { ANSIBLE_VAULT_PASSWORD_FILE: path.join(root, 'vault-pass'), PLINTH_VAULT_PASSWORD: undefined },
    });
    expect(r.code).toBe(0);
  });

  it('a wrong password is refused before anything runs, naming the file', async () => {
    const root = await project('battery staple');
    const r = await plinth(['run', '-i', path.join(root, 'inv.yml'), path.join(root, 'pb.yml'), '-e', `root=${root}`, '--vault-password-file', path.join(root, 'vault-pass')]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/^ERROR! .*(inv\.yml|secrets\.yml|pb\.yml): cannot decrypt the Ansible vault.*: wrong vault password, or the file was changed after it was encrypted\n$/);
    await expect(fs.stat(path.join(root, 'out'))).rejects.toThrow();
  });
});
