// The lab's ssh keys: one user key, made once and authorized for root on every host, and a
// known_hosts file with each host's fresh host keys, so clients keep host key checking on.
import { promises as fs } from 'node:fs';
import { run } from './run.js';
import type { StateDir } from './state-dir.js';

/** Creates the lab user key (ed25519, no passphrase) unless it exists; returns the public key line. */
export async function ensureLabKey(dirs: StateDir): Promise<string> {
  await fs.mkdir(dirs.sshDir, { recursive: true, mode: 0o700 });
  const exists = await fs.stat(dirs.labKey).then(
    () => true,
    () => false,
  );
  if (!exists) await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'plinth-lab', '-f', dirs.labKey]);
  return (await fs.readFile(`${dirs.labKey}.pub`, 'utf8')).trim();
}

export interface HostKeys {
  name: string;
  address: string;
  /** Lines of the host's /etc/ssh/ssh_host_*_key.pub ("type base64 comment"). */
  publicKeys: string[];
}

/** known_hosts text: every key of every host, matched both by its name and by its address. */
function knownHostsText(hosts: HostKeys[]): string {
  const lines: string[] = [];
  for (const h of hosts) {
    for (const key of h.publicKeys) {
      const [type, blob] = key.trim().split(/\s+/);
      lines.push(`${h.name},${h.address} ${type} ${blob}`);
    }
  }
  return lines.join('\n') + '\n';
}

export async function writeKnownHosts(dirs: StateDir, hosts: HostKeys[]): Promise<void> {
  const tmp = `${dirs.knownHosts}.tmp`;
  await fs.writeFile(tmp, knownHostsText(hosts), { mode: 0o644 });
  await fs.rename(tmp, dirs.knownHosts);
}
