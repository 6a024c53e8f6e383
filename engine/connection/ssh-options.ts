// From an inventory host's ansible_* variables (and ~/.ssh/config, as OpenSSH reads it) to SshOptions.
import * as os from 'node:os';
import * as path from 'node:path';
import type { Host } from '../types.js';
import { SshHost, type SshOptions } from './ssh.js';
import { loadSshConfig, resolveSshHost, type JumpSpec, type ResolvedSshHost } from './ssh-config.js';

type Vars = Record<string, unknown>;

const str = (v: unknown): string | undefined => (v === undefined || v === null || v === '' ? undefined : String(v));

export async function connectSsh(name: string, vars: Vars, become: { become: boolean; becomeUser?: string }): Promise<Host> {
  const config = loadSshConfig();
  const target = str(vars.ansible_host) ?? name;
  const resolved = resolveSshHost(config, target);
  const opts = sshOptions(name, vars, resolved, become);
  // Lazy: the connection opens on the first call, so an unreachable host fails its first task.
  return SshHost.connect(opts);
}

function sshOptions(name: string, vars: Vars, resolved: ResolvedSshHost, become: { become: boolean; becomeUser?: string }): SshOptions {
  const home = os.homedir();
  const expand = (p: string) => (p.startsWith('~/') ? path.join(home, p.slice(2)) : p);
  const knownHosts = str(vars.plinth_known_hosts_file) ?? str(vars.ansible_ssh_known_hosts_file);
  const checking = str(vars.plinth_host_key_checking) ?? str(vars.ansible_host_key_checking) ?? resolved.strictHostKeyChecking ?? 'yes';
  const keyFile = str(vars.ansible_ssh_private_key_file) ?? str(vars.ansible_private_key_file) ?? resolved.identityFiles[0];
  const timeout = Number(vars.ansible_timeout ?? vars.ansible_ssh_timeout ?? resolved.connectTimeoutSeconds ?? 10);
  return {
    name,
    host: resolved.hostName,
    port: Number(vars.ansible_port ?? vars.ansible_ssh_port ?? resolved.port ?? 22),
    user: str(vars.ansible_user) ?? str(vars.ansible_ssh_user) ?? resolved.user ?? os.userInfo().username,
    privateKeyPath: keyFile ? expand(keyFile) : undefined,
    passphrase: str(vars.ansible_ssh_private_key_passphrase),
    password: str(vars.ansible_password) ?? str(vars.ansible_ssh_pass),
    knownHostsFiles: knownHosts ? [expand(knownHosts)] : resolved.userKnownHostsFiles?.map(expand) ?? [path.join(home, '.ssh', 'known_hosts')],
    hostKeyChecking: normaliseChecking(checking),
    connectTimeoutMs: timeout * 1000,
    keepaliveIntervalMs: (resolved.serverAliveIntervalSeconds ?? 5) * 1000,
    keepaliveCountMax: resolved.serverAliveCountMax ?? 3,
    commandTimeoutMs: vars.plinth_command_timeout ? Number(vars.plinth_command_timeout) * 1000 : undefined,
    become: become.become,
    becomeUser: become.becomeUser,
    becomePassword: str(vars.ansible_become_password) ?? str(vars.ansible_become_pass),
    proxyJump: resolved.proxyJump?.length ? jumpOptions(name, resolved.proxyJump, vars) : undefined,
  };
}

/** ProxyJump a,b: the connection to b goes through a; the target goes through b. */
function jumpOptions(name: string, hops: JumpSpec[], vars: Vars): SshOptions | undefined {
  let previous: SshOptions | undefined;
  for (const hop of hops) {
    const resolved = resolveSshHost(loadSshConfig(), hop.host);
    const opts = sshOptions(`${name} (jump ${hop.host})`, { plinth_known_hosts_file: vars.plinth_known_hosts_file, plinth_host_key_checking: vars.plinth_host_key_checking }, resolved, { become: false });
    opts.user = hop.user ?? opts.user;
    opts.port = hop.port ?? opts.port;
    opts.proxyJump = previous;
    previous = opts;
  }
  return previous;
}

function normaliseChecking(v: string): SshOptions['hostKeyChecking'] {
  const s = v.toLowerCase();
  if (['no', 'false', 'off', '0'].includes(s)) return 'no';
  if (s === 'accept-new') return 'accept-new';
  return 'yes';
}
