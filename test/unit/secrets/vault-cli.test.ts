// `plinth vault` through the CLI: encrypt, view, rekey, decrypt, edit, and a playbook that reads
// an encrypted vars file with --vault-password-file, none of them printing a secret it should not.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { plinth } from '../../helpers/cli.js';

const SECRET = 'Vx9-cli-secret "quoted" & spaced';
let dir: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-vault-cli-'));
  await fs.writeFile(path.join(dir, 'pw1'), 'first password\n');
  await fs.writeFile(path.join(dir, 'pw2'), 'second password\n');
});
afterAll(() => fs.rm(dir, { recursive: true, force: true }));

describe('plinth vault', () => {
  test('encrypt, view, rekey, decrypt round trip; a wrong password is refused', async () => {
    const file = path.join(dir, 'secrets.yml');
    const plain = `db_password: ${JSON.stringify(SECRET)}\n`;
    await fs.writeFile(file, plain);
    const enc = await plinth(['vault', '--vault-password-file', path.join(dir, 'pw1'), 'encrypt', file]);
    expect(enc.code).toBe(0);
    const encrypted = await fs.readFile(file, 'utf8');
    expect(encrypted.startsWith('$PLINTH_VAULT;1;AES256-GCM;SCRYPT\n')).toBe(true);
    expect(encrypted).not.toContain('Vx9');

    const view = await plinth(['vault', '--vault-password-file', path.join(dir, 'pw1'), 'view', file]);
    expect(view.stdout).toBe(plain);

    const wrong = await plinth(['vault', '--vault-password-file', path.join(dir, 'pw2'), 'view', file]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/cannot decrypt: wrong vault password, or the file was changed/);
    expect(wrong.stdout).toBe('');

    const rekey = await plinth(['vault', '--vault-password-file', path.join(dir, 'pw1'), 'rekey', file, '--new-vault-password-file', path.join(dir, 'pw2')]);
    expect(rekey.code).toBe(0);
    expect((await plinth(['vault', '--vault-password-file', path.join(dir, 'pw1'), 'view', file])).code).toBe(1);

    const dec = await plinth(['vault', 'decrypt', file], { env: { PLINTH_VAULT_PASSWORD: 'second password' } });
    expect(dec.code).toBe(0);
    expect(await fs.readFile(file, 'utf8')).toBe(plain);
  });

  test('edit: the editor works on a private copy; the file is encrypted again', async () => {
    const file = path.join(dir, 'edited.yml');
    // A non-interactive "editor": appends a line to the file it is given.
    const editor = path.join(dir, 'editor.sh');
    await fs.writeFile(editor, '#!/bin/sh\nprintf "api_token: Vx9-edited-token\\n" >> "$1"\n', { mode: 0o755 });
    const tmp = path.join(dir, 'tmp');
    await fs.mkdir(tmp);
    const r = await plinth(['vault', '--vault-password-file', path.join(dir, 'pw1'), 'edit', file], { env: { EDITOR: editor, VISUAL: undefined, TMPDIR: tmp } });
    expect(r.code).toBe(0);
    const text = await fs.readFile(file, 'utf8');
    expect(text).not.toContain('Vx9-edited-token');
    const view = await plinth(['vault', '--vault-password-file', path.join(dir, 'pw1'), 'view', file]);
    expect(view.stdout).toBe('api_token: Vx9-edited-token\n');
    // The clear-text copy is gone.
    expect(await fs.readdir(tmp)).toEqual([]);
  });

  test('a playbook reads an encrypted vars file; its values never reach the output', async () => {
    const vars = path.join(dir, 'vault-vars.yml');
    await fs.writeFile(vars, `db_password: ${JSON.stringify(SECRET)}\n`);
    await plinth(['vault', '--vault-password-file', path.join(dir, 'pw1'), 'encrypt', vars]);
    const target = path.join(dir, 'out.conf');
    const playbook = path.join(dir, 'pb.yml');
    await fs.writeFile(
      playbook,
      `- hosts: localhost\n  gather_facts: false\n  tasks:\n    - copy: { dest: ${JSON.stringify(target)}, content: "password={{ db_password }}\\n" }\n    - debug: { msg: "the password is {{ db_password }}" }\n`,
    );
    const r = await plinth(['run', playbook, '-e', `@${vars}`, '--vault-password-file', path.join(dir, 'pw1'), '-D', '-v', '--json']);
    expect(r.code).toBe(0);
    expect(await fs.readFile(target, 'utf8')).toBe(`password=${SECRET}\n`);
    const all = r.stdout + r.stderr;
    for (const form of [SECRET, Buffer.from(SECRET).toString('base64').replace(/=+$/, ''), encodeURIComponent(SECRET), JSON.stringify(SECRET).slice(1, -1)]) {
      expect(all).not.toContain(form);
    }
    expect(all).toContain('the password is ********');
  });
});
