import { describe, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decryptVault, encryptVault, isVaultText, setVaultPasswordSource, VaultError } from '../../../engine/secrets/vault.js';
import { readVarsFile } from '../../../engine/load/inventory.js';
import { redactor } from '../../../engine/secrets/redact.js';

describe('vault', () => {
  test('round trip, and every encryption is different (random salt and IV)', () => {
    const text = 'replicator_password: "p\'a s\\"s"\n';
    const a = encryptVault(text, 'correct horse');
    const b = encryptVault(text, 'correct horse');
    expect(isVaultText(a)).toBe(true);
    expect(a).not.toEqual(b);
    expect(a).not.toContain('replicator_password');
    expect(decryptVault(a, 'correct horse')).toBe(text);
  });

  test('a wrong password is a clear error, never garbage', () => {
    const a = encryptVault('x: 1\n', 'right');
    expect(() => decryptVault(a, 'not-right', 'secrets.yml')).toThrow(/secrets.yml: cannot decrypt: wrong vault password/);
  });

  test('a tampered file is refused (GCM authentication)', () => {
    const a = encryptVault('pgpool_key: abcdefgh\n', 'pw');
    const [header, ...body] = a.trim().split('\n');
    const envelope = JSON.parse(Buffer.from(body.join(''), 'base64').toString());
    const data = Buffer.from(envelope.data, 'base64');
    data[0] ^= 1;
    envelope.data = data.toString('base64');
    const tampered = `${header}\n${Buffer.from(JSON.stringify(envelope)).toString('base64')}\n`;
    expect(() => decryptVault(tampered, 'pw')).toThrow(VaultError);
    expect(() => decryptVault(`${header}\n!!!notbase64json\n`, 'pw')).toThrow(/damaged/);
  });

  test('encrypted vars files load transparently and all their values become secrets', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-vault-'));
    const file = path.join(dir, 'secrets.yml');
    await fs.writeFile(file, encryptVault('app_password: "Zq8-unique-app-pw"\nnested: { k: "Zq8-nested-value" }\n', 'pw'));
    setVaultPasswordSource(async () => 'pw');
    const vars = await readVarsFile(file);
    expect(vars.app_password).toBe('Zq8-unique-app-pw');
    expect(redactor.redact('x Zq8-unique-app-pw y Zq8-nested-value')).toBe('x ******** y ********');
    const b64 = Buffer.from('Zq8-unique-app-pw').toString('base64');
    expect(redactor.redact(`data: ${b64}`)).toMatch(/^data: \*{8}=*$/);
    await fs.rm(dir, { recursive: true });
  });
});
