// From an inventory host's ansible_* variables to an ssh connection; ~/.ssh/config fills in
// what the inventory does not say (sshOptionsFor: inventory, then the config, then OpenSSH's defaults).
import * as os from 'node:os';
import * as path from 'node:path';
import * as net from 'node:net';
import type { BecomeOptions, Host } from '../types.js';
import { becomePasswords } from './become.js';
import { EncryptedKeyError } from './connection-errors.js';
import type { SshOptions } from './ssh.js';
import { loadSshConfig, sshOptionsFor } from './ssh-config.js';
import { redactor } from '../secrets/redact.js';
import { passphrasePrompt } from './passphrase-prompt.js';

type Vars = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));
const num = (v: unknown): number | undefined => (str(v) === undefined ? undefined : Number(v));
const expand = (p: string) => (p.startsWith('~/') ? path.join(os.homedir(), p.slice(2)) : p);

export async function connectSsh(name: string, vars: Vars, become: BecomeOptions): Promise<Host> {
  const { any: becomePassword, ...ownPasswords } = becomePasswords(vars);
  const knownHosts = str(vars.plinth_known_hosts_file) ?? str(vars.ansible_ssh_known_hosts_file);
  const keyFile = str(vars.ansible_ssh_private_key_file) ?? str(vars.ansible_private_key_file);
  const timeout = num(vars.ansible_timeout ?? vars.ansible_ssh_timeout);
  const checking = str(vars.plinth_host_key_checking) ?? str(vars.ansible_host_key_checking);
  const settings: Partial<SshOptions> = {
    passphrase: str(vars.ansible_ssh_private_key_passphrase),
    password: str(vars.ansible_password) ?? str(vars.ansible_ssh_pass),
    become: become.become,
    becomeUser: become.becomeUser,
    becomeMethod: become.becomeMethod,
    becomeFlags: become.becomeFlags,
    becomePassword,
    becomePasswords: ownPasswords,
    ...(knownHosts ? { knownHostsFiles: [expand(knownHosts)] } : {}),
    ...(checking ? { hostKeyChecking: hostKeyChecking(checking) } : {}),
    ...(timeout ? { connectTimeoutMs: timeout * 1000 } : {}),
    ...(vars.plinth_command_timeout ? { commandTimeoutMs: Number(vars.plinth_command_timeout) * 1000 } : {}),
  };
  const options = sshOptionsFor(
    loadSshConfig(),
    {
      name,
      host: str(vars.ansible_host),
      port: num(vars.ansible_port ?? vars.ansible_ssh_port),
      user: str(vars.ansible_user) ?? str(vars.ansible_ssh_user),
      privateKeyPath: keyFile ? expand(keyFile) : undefined,
    },
    settings,
  );
  if (!options.proxyJump) options.socket = connectTcp(options.host, options.port ?? 22);
  const { SshHost } = await import('./ssh.js');
  try {
    return await SshHost.connect(options);
  } catch (e) {
    if (!(e instanceof EncryptedKeyError) || !passphrasePrompt() || options.passphrase) throw e;
    options.passphrase = await askPassphrase(e.keyPath);
    return SshHost.connect(options);
  }
}

/**
 * Starts the TCP connection before ssh2 is loaded: sshd accepts, forks and sends its greeting
 * meanwhile. An error is left for ssh2 to report (it connects anew when this one failed).
 */
function connectTcp(host: string, port: number): net.Socket {
  const socket = net.connect({ host, port });
  socket.on('error', () => {});
  return socket;
}

/** Asks for a key's passphrase (a terminal prompt, set by the CLI); asked once per key file. */
const passphrases = new Map<string, Promise<string>>();

function askPassphrase(keyPath: string): Promise<string> {
  let p = passphrases.get(keyPath);
  if (!p) {
    p = passphrasePrompt()!(`Enter passphrase for key '${keyPath}': `).then((v) => {
      redactor.add(v);
      return v;
    });
    passphrases.set(keyPath, p);
  }
  return p;
}

function hostKeyChecking(v: string): SshOptions['hostKeyChecking'] {
  const s = v.toLowerCase();
  if (['no', 'false', 'off', '0'].includes(s)) return 'no';
  if (s === 'accept-new') return 'accept-new';
  return 'yes';
}
