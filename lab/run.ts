// Running the host tools the lab is made of (ip, mount, mmdebstrap, ssh-keygen, ...).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { LabError } from './lab-error.js';

/** The Debian package that provides each tool the lab runs, for "install the Debian package X". */
const TOOL_PACKAGES: Record<string, string> = {
  mmdebstrap: 'mmdebstrap',
  'systemd-nspawn': 'systemd-container',
  ip: 'iproute2',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  'apt-cacher-ng': 'apt-cacher-ng',
  iptables: 'iptables',
  mount: 'mount',
  umount: 'mount',
  chroot: 'coreutils',
};

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function missingToolError(tool: string): LabError {
  const pkg = TOOL_PACKAGES[tool] ?? tool;
  return new LabError(`${tool} not found: install the Debian package ${pkg} (or run scripts/install-debian-packages.sh)`);
}

/** Runs argv without a shell and returns its exit code and output; never throws for a non-zero exit. */
export function tryRun(argv: string[], opts: { input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const stdin = opts.input === undefined ? 'ignore' : 'pipe';
    const child = spawn(argv[0], argv.slice(1), { stdio: [stdin, 'pipe', 'pipe'] }) as ChildProcessByStdio<Writable | null, Readable, Readable>;
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => {
      reject(e.code === 'ENOENT' ? missingToolError(argv[0]) : e);
    });
    child.on('close', (code) => {
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() });
    });
    if (child.stdin) {
      child.stdin.on('error', () => {}); // the command may exit without reading its input
      child.stdin.end(opts.input);
    }
  });
}

/** Runs argv and returns its stdout; a non-zero exit becomes a LabError naming the command. */
export async function run(argv: string[], opts: { input?: string } = {}): Promise<string> {
  const r = await tryRun(argv, opts);
  if (r.code !== 0) {
    const detail = (r.stderr || r.stdout).trim();
    throw new LabError(`\`${argv.join(' ')}\` failed (exit ${r.code})${detail ? `: ${detail}` : ''}`);
  }
  return r.stdout;
}
