// The base image: one Debian bookworm root file system, built with mmdebstrap, that every
// lab host boots from (each host writes to its own overlay on top of it).
//
// Built once and cached in <state>/base. Its recipe (packages, pre-downloaded packages,
// customisations) is hashed into <state>/base.hash; when the recipe changes, the next
// `up` rebuilds the base. Bookworm on purpose: newer systemd drops cgroup v1, which the
// machines running the lab may still use.
import { createHash } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { LabError, type Progress } from './lab-error.js';
import { missingToolError } from './run.js';
import type { StateDir } from './state-dir.js';

const SUITE = 'bookworm';

const SOURCES = ['deb http://deb.debian.org/debian bookworm main', 'deb http://deb.debian.org/debian bookworm-updates main', 'deb http://deb.debian.org/debian-security bookworm-security main'];

/** Installed in the base: a bootable systemd host with sshd. */
const BASE_PACKAGES = ['systemd', 'systemd-sysv', 'dbus', 'libpam-systemd', 'openssh-server', 'iproute2', 'procps', 'ca-certificates', 'sudo', 'netbase', 'locales'];

/**
 * Downloaded into the base's apt cache but not installed: what the PostgreSQL roles install,
 * so that `apt-get install` inside a host takes seconds and barely touches the network.
 */
const PREDOWNLOADED_PACKAGES = ['postgresql-15', 'postgresql-client-15', 'postgresql-contrib', 'pgpool2', 'postgresql-15-pgpool2'];

/** Units a container does not need; their timers would only compete for the CPU. */
const MASKED_UNITS = ['getty@tty1.service', 'console-getty.service', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'e2scrub_all.timer', 'e2scrub_reap.service', 'systemd-timesyncd.service'];

/** Shell run by mmdebstrap inside the finished tree ($1 is its path) before it cleans up. */
function customizeHooks(): string[] {
  const inChroot = 'env --unset=APT_CONFIG chroot "$1"';
  return [
    // Keep the lists (hosts install without `apt-get update`) and only the .debs we want.
    `${inChroot} apt-get clean`,
    // mmdebstrap's own apt settings skip Recommends; a host's apt-get will not, so fetch them too.
    `${inChroot} apt-get install --download-only --yes -o APT::Install-Recommends=true ${PREDOWNLOADED_PACKAGES.join(' ')}`,
    `systemctl --root="$1" mask ${MASKED_UNITS.join(' ')}`,
    // No logind session per ssh login: pam_systemd starts and stops root's user manager
    // (user@0.service) around every connection, and a login that lands while it stops waited
    // over a minute — seen as ssh "Keepalive timeout" in plinth runs. Hosts need no user sessions.
    `sed -i 's/^\\(session[[:space:]]*optional[[:space:]]*pam_systemd.so\\)/# \\1  (disabled by plinth lab)/' "$1/etc/pam.d/common-session"`,
    `echo 'en_US.UTF-8 UTF-8' > "$1/etc/locale.gen" && ${inChroot} locale-gen`,
    // Per-host identity is written by `up`: none of it may come from the base.
    `rm -f "$1"/etc/ssh/ssh_host_*`,
    `: > "$1/etc/machine-id"`,
    `: > "$1/etc/resolv.conf"`,
    `: > "$1/etc/hostname"`,
  ];
}

function mmdebstrapArgs(target: string): string[] {
  return ['--variant=minbase', `--include=${BASE_PACKAGES.join(',')}`, '--skip=cleanup/apt', ...customizeHooks().map((h) => `--customize-hook=${h}`), SUITE, target, SOURCES.join('\n')];
}

/** The hash of everything that decides what the base contains. */
function recipeHash(): string {
  return createHash('sha256')
    .update(JSON.stringify(mmdebstrapArgs('TARGET')))
    .digest('hex')
    .slice(0, 16);
}

async function readIfExists(file: string): Promise<string | null> {
  try {
    return (await fs.readFile(file, 'utf8')).trim();
  } catch {
    return null;
  }
}

/** True when the cached base matches the current recipe. */
export async function baseIsCurrent(dirs: StateDir): Promise<boolean> {
  const hash = await readIfExists(dirs.baseHash);
  if (hash !== recipeHash()) return false;
  return (await fs.stat(`${dirs.base}/usr/lib/systemd/systemd`).catch(() => null)) !== null;
}

/**
 * Builds the base when it is missing or its recipe changed. Returns the seconds the build
 * took, or null when the cached base was used. The caller makes sure no host is using it.
 */
export async function ensureBaseImage(dirs: StateDir, progress: Progress): Promise<number | null> {
  if (await baseIsCurrent(dirs)) return null;
  const started = Date.now();
  const building = `${dirs.base}.new`;
  await fs.rm(building, { recursive: true, force: true });
  progress(`building the base image (Debian ${SUITE}, takes a few minutes; log: ${dirs.baseLog})`);
  await runMmdebstrap(building, dirs.baseLog, progress);
  await fs.rm(dirs.base, { recursive: true, force: true });
  await fs.rename(building, dirs.base);
  await fs.writeFile(dirs.baseHash, recipeHash() + '\n');
  const seconds = (Date.now() - started) / 1000;
  progress(`base image built in ${seconds.toFixed(0)} s`);
  return seconds;
}

function shorten(line: string): string {
  return line.length > 110 ? `${line.slice(0, 107)}...` : line;
}

/** Runs mmdebstrap with its output in the log; its "I:" lines are shown as progress. */
function runMmdebstrap(target: string, logFile: string, progress: Progress): Promise<void> {
  return new Promise((resolve, reject) => {
    const log = createWriteStream(logFile);
    const child = spawn('mmdebstrap', mmdebstrapArgs(target), { stdio: ['ignore', 'pipe', 'pipe'] });
    let pending = '';
    const onData = (b: Buffer) => {
      log.write(b);
      pending += b.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('I: ')) progress(`  base: ${shorten(line.slice(3))}`);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (e: NodeJS.ErrnoException) => {
      log.end();
      reject(e.code === 'ENOENT' ? missingToolError('mmdebstrap') : e);
    });
    child.on('close', (code) => {
      log.end(() => {
        if (code === 0) return resolve();
        fs.rm(target, { recursive: true, force: true }).finally(() => reject(new LabError(`the base image build failed (mmdebstrap exit ${code}); see ${logFile}`)));
      });
    });
  });
}
