// `plinth vault encrypt|decrypt|view|edit|rekey FILE`, and where the vault password comes from:
// --vault-password-file, then ANSIBLE_VAULT_PASSWORD_FILE, then PLINTH_VAULT_PASSWORD, then a prompt on a terminal.
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Command } from 'commander';
import { decryptVault, encryptVault, isVaultText, setVaultPasswordSource, VaultError } from '../secrets/vault.js';
import { redactor } from '../secrets/redact.js';
import { UsageError } from './exit-codes.js';

export function passwordSource(file?: string, prompt = 'Vault password: '): () => Promise<string> {
  return async () => {
    let password: string | undefined;
    // Ansible's variable, so an Ansible project's setup works unchanged.
    file ??= process.env.ANSIBLE_VAULT_PASSWORD_FILE || undefined;
    if (file)
      password = (
        await fs.readFile(file, 'utf8').catch(() => {
          throw new UsageError(`cannot read the vault password file ${file}`);
        })
      ).split('\n')[0];
    else if (process.env.PLINTH_VAULT_PASSWORD) password = process.env.PLINTH_VAULT_PASSWORD;
    else if (process.stdin.isTTY) password = await askHidden(prompt);
    if (!password) throw new VaultError('no vault password: use --vault-password-file FILE, PLINTH_VAULT_PASSWORD, or a terminal');
    redactor.add(password);
    return password;
  };
}

/** Installs the password source for the loader (encrypted vars files are read transparently). */
export function useVaultPassword(file?: string): void {
  setVaultPasswordSource(passwordSource(file));
}

export function registerVaultCommands(program: Command): void {
  const vault = program
    .command('vault')
    .description('encrypt vars files (AES-256-GCM, scrypt) so secrets can live in the repository; their values are always redacted')
    .option('--vault-password-file <file>', 'file whose first line is the vault password (else PLINTH_VAULT_PASSWORD, else a prompt)');
  const pw = () => passwordSource(vault.opts().vaultPasswordFile)();

  vault
    .command('encrypt')
    .argument('<file>')
    .description('encrypt a file in place')
    .action(async (file: string) => {
      const text = await fs.readFile(file, 'utf8');
      if (isVaultText(text)) throw new UsageError(`${file} is already encrypted`);
      await writeAtomic(file, encryptVault(text, await pw()));
      process.stderr.write(`encrypted ${file}\n`);
    });
  vault
    .command('decrypt')
    .argument('<file>')
    .description('decrypt a file in place')
    .action(async (file: string) => {
      await writeAtomic(file, decryptVault(await fs.readFile(file, 'utf8'), await pw(), file));
      process.stderr.write(`decrypted ${file}\n`);
    });
  vault
    .command('view')
    .argument('<file>')
    .description('print the decrypted content (to stdout, on purpose)')
    .action(async (file: string) => {
      process.stdout.write(decryptVault(await fs.readFile(file, 'utf8'), await pw(), file));
    });
  vault
    .command('edit')
    .argument('<file>')
    .description('decrypt to a private temporary file, open $EDITOR, encrypt again (a new file is created if missing)')
    .action(async (file: string) => {
      const password = await pw();
      const existing = await fs.readFile(file, 'utf8').catch(() => null);
      const plain = existing === null ? '' : decryptVault(existing, password, file);
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'plinth-vault-'));
      const tmp = path.join(dir, path.basename(file));
      try {
        await fs.writeFile(tmp, plain, { mode: 0o600 });
        const editor = process.env.VISUAL ?? process.env.EDITOR ?? 'vi';
        const r = spawnSync(editor, [tmp], { stdio: 'inherit', shell: false });
        if (r.status !== 0) throw new UsageError(`the editor '${editor}' exited with ${r.status ?? r.signal}; ${file} is unchanged`);
        const edited = await fs.readFile(tmp, 'utf8');
        if (edited !== plain) await writeAtomic(file, encryptVault(edited, password));
        process.stderr.write(edited === plain ? `${file} unchanged\n` : `saved ${file}\n`);
      } finally {
        await fs.rm(dir, { recursive: true, force: true });
      }
    });
  vault
    .command('rekey')
    .argument('<file>')
    .option('--new-vault-password-file <file>', 'file with the new password (else PLINTH_NEW_VAULT_PASSWORD, else a prompt)')
    .description('encrypt a vault file under a new password')
    .action(async (file: string, opts: { newVaultPasswordFile?: string }) => {
      const plain = decryptVault(await fs.readFile(file, 'utf8'), await pw(), file);
      const fresh = opts.newVaultPasswordFile
        ? passwordSource(opts.newVaultPasswordFile)
        : process.env.PLINTH_NEW_VAULT_PASSWORD
          ? async () => process.env.PLINTH_NEW_VAULT_PASSWORD as string
          : passwordSource(undefined, 'New vault password: ');
      await writeAtomic(file, encryptVault(plain, await fresh()));
      process.stderr.write(`rekeyed ${file}\n`);
    });
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.plinth-${process.pid}`;
  const mode = (await fs.stat(file).catch(() => null))?.mode ?? 0o600;
  await fs.writeFile(tmp, content, { mode: mode & 0o777 });
  await fs.rename(tmp, file);
}

/** Reads a line from the terminal without echoing it. */
export async function askHidden(prompt: string): Promise<string> {
  process.stderr.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode?.(true);
  stdin.resume();
  return new Promise((resolve) => {
    let value = '';
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode?.(false);
          stdin.pause();
          stdin.off('data', onData);
          process.stderr.write('\n');
          resolve(value);
          return;
        }
        if (ch === '\u0003') process.kill(process.pid, 'SIGINT');
        else if (ch === '\u007f') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
