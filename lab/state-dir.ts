// Where labs keep everything they make on disk. One directory, documented, so that a user can
// look inside and `down` can find what is its own even after a crash.
//
//   /var/lib/plinth-lab/               (PLINTH_LAB_DIR overrides it)
//     base/                 the Debian bookworm root file system shared by all hosts of all labs (read-only lower layer)
//     base.hash             hash of the package list the base was built from; a new hash rebuilds it
//     base-build.log        output of the last base build (kept; named in the error when it fails)
//     netns-mount           present when a lab made the /run/netns mount (so the last `down` unmounts it)
//     <the default lab's own files, listed below>
//     labs/<name>/          each named lab (`--lab NAME` or PLINTH_LAB_NAME): the same files as the default lab
//
//   A lab's own files:
//     index                 (named labs) the lab's number N: its subnet is 198.18.N.0/24
//     ssh/id_ed25519        the lab user key (generated once), root's authorized key on every host
//     ssh/known_hosts       the hosts' current ssh host keys, by name and by address
//     inventory.yml         the inventory `up` writes unless --write-inventory is given
//     state.json            the hosts of the running lab: names, addresses, groups, inventory path
//     hosts/<name>/         one host: upper/ and work/ of its overlay, root/ (the mounted overlay), console.log
//     apt-cacher-ng/        the lab's package proxy: config, cache and logs
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { LabError } from './lab-error.js';

export const DEFAULT_STATE_DIR = '/var/lib/plinth-lab';
/** The lab `plinth lab up` makes when no name is given: the user's lab. */
export const DEFAULT_LAB = 'default';
const LAB_NAME = /^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$/;

function labsRoot(): string {
  return process.env.PLINTH_LAB_DIR || DEFAULT_STATE_DIR;
}

/** The lab a command works on when none is named: PLINTH_LAB_NAME, else the default lab. */
export function selectedLab(): string {
  return process.env.PLINTH_LAB_NAME || DEFAULT_LAB;
}

export class StateDir {
  /** This lab's own directory. */
  readonly root: string;
  /** What all labs share: the base image. */
  readonly top: string;

  constructor(
    readonly name: string = selectedLab(),
    top: string = labsRoot(),
  ) {
    if (!LAB_NAME.test(name)) {
      throw new LabError(`lab name "${name}" is not usable: use 1–24 lowercase letters, digits and dashes`);
    }
    this.top = top;
    this.root = name === DEFAULT_LAB ? top : path.join(top, 'labs', name);
  }

  get isDefault(): boolean {
    return this.name === DEFAULT_LAB;
  }

  get base(): string {
    return path.join(this.top, 'base');
  }
  get baseHash(): string {
    return path.join(this.top, 'base.hash');
  }
  get baseLog(): string {
    return path.join(this.top, 'base-build.log');
  }
  /** Held while the shared base image is checked or built. */
  get baseLock(): string {
    return path.join(this.top, 'base-lock');
  }
  /** Held while a new lab picks its number. */
  get indexLock(): string {
    return path.join(this.top, 'index-lock');
  }
  /** Present when a lab's first `ip netns add` made the /run/netns mount, which the last `down` then removes. */
  get netnsMountMarker(): string {
    return path.join(this.top, 'netns-mount');
  }
  get namedLabsDir(): string {
    return path.join(this.top, 'labs');
  }

  get index(): string {
    return path.join(this.root, 'index');
  }
  get sshDir(): string {
    return path.join(this.root, 'ssh');
  }
  get labKey(): string {
    return path.join(this.root, 'ssh', 'id_ed25519');
  }
  get knownHosts(): string {
    return path.join(this.root, 'ssh', 'known_hosts');
  }
  get inventory(): string {
    return path.join(this.root, 'inventory.yml');
  }
  get stateFile(): string {
    return path.join(this.root, 'state.json');
  }
  get lock(): string {
    return path.join(this.root, 'lock');
  }
  /** Held by a lab test suite for its whole run, so suites that bring this lab up and down take turns. */
  get suiteLock(): string {
    return path.join(this.root, 'suite-lock');
  }
  get hostsDir(): string {
    return path.join(this.root, 'hosts');
  }
  get aptProxyDir(): string {
    return path.join(this.root, 'apt-cacher-ng');
  }

  hostDir(name: string): string {
    return path.join(this.hostsDir, name);
  }
  hostRoot(name: string): string {
    return path.join(this.hostsDir, name, 'root');
  }
}

/** Every lab that has a directory: the default lab first, then the named ones by name. */
export async function knownLabs(top: string = labsRoot()): Promise<string[]> {
  const named = await fs.readdir(path.join(top, 'labs')).catch(() => [] as string[]);
  return [DEFAULT_LAB, ...named.filter((n) => LAB_NAME.test(n) && n !== DEFAULT_LAB).sort()];
}
