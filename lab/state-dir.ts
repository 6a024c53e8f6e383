// Where the lab keeps everything it makes on disk. One directory, documented, so that a
// user can look inside and `down` can find what is its own even after a crash.
//
//   /var/lib/plinth-lab/               (PLINTH_LAB_DIR overrides it)
//     base/                 the Debian bookworm root file system shared by all hosts (read-only lower layer)
//     base.hash             hash of the package list the base was built from; a new hash rebuilds it
//     base-build.log        output of the last base build (kept; named in the error when it fails)
//     ssh/id_ed25519        the lab user key (generated once), root's authorized key on every host
//     ssh/known_hosts       the hosts' current ssh host keys, by name and by address
//     inventory.yml         the inventory `up` writes unless --write-inventory is given
//     state.json            the hosts of the running lab: names, addresses, groups, inventory path
//     netns-mount           present when the lab made the /run/netns mount (so `down` unmounts it)
//     hosts/<name>/         one host: upper/ and work/ of its overlay, root/ (the mounted overlay), console.log
//     apt-cacher-ng/        the package proxy's config, cache and logs
import * as path from 'node:path';

export const DEFAULT_STATE_DIR = '/var/lib/plinth-lab';

export class StateDir {
  constructor(readonly root: string = process.env.PLINTH_LAB_DIR || DEFAULT_STATE_DIR) {}

  get base(): string { return path.join(this.root, 'base'); }
  get baseHash(): string { return path.join(this.root, 'base.hash'); }
  get baseLog(): string { return path.join(this.root, 'base-build.log'); }
  get sshDir(): string { return path.join(this.root, 'ssh'); }
  get labKey(): string { return path.join(this.root, 'ssh', 'id_ed25519'); }
  get knownHosts(): string { return path.join(this.root, 'ssh', 'known_hosts'); }
  get inventory(): string { return path.join(this.root, 'inventory.yml'); }
  get stateFile(): string { return path.join(this.root, 'state.json'); }
  get lock(): string { return path.join(this.root, 'lock'); }
  /** Held by a lab test suite for its whole run, so suites that bring the lab up and down take turns. */
  get suiteLock(): string { return path.join(this.root, 'suite-lock'); }
  get hostsDir(): string { return path.join(this.root, 'hosts'); }
  get aptProxyDir(): string { return path.join(this.root, 'apt-cacher-ng'); }
  /** Present when the lab's first `ip netns add` made the /run/netns mount, which `down` then removes. */
  get netnsMountMarker(): string { return path.join(this.root, 'netns-mount'); }

  hostDir(name: string): string { return path.join(this.hostsDir, name); }
  hostRoot(name: string): string { return path.join(this.hostsDir, name, 'root'); }
}
