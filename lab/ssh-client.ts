// Reaching lab hosts over ssh: waiting for sshd, and running the system ssh client with
// the lab key and the lab's known_hosts (host key checking stays on).
import { spawn } from 'node:child_process';
import * as net from 'node:net';
import { LabError } from './lab-error.js';
import { sleep } from './procs.js';
import { missingToolError } from './run.js';
import type { StateDir } from './state-dir.js';

/** True when something on address:22 sends an SSH banner within ms. */
export function sshdAnswers(address: string, ms = 2_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: address, port: 22 });
    let received = '';
    const timer = setTimeout(() => done(false), ms);
    function done(ok: boolean) {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    }
    socket.on('data', (b: Buffer) => {
      received += b.toString('latin1');
      if (received.includes('\n')) done(received.startsWith('SSH-'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

export async function waitForSshd(host: string, address: string, consoleLog: string, ms = 180_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await sshdAnswers(address)) return;
    await sleep(250);
  }
  throw new LabError(`sshd on ${host} (${address}:22) did not answer within ${ms / 1000} s; see ${consoleLog}`);
}

/** The ssh command line for one lab host, up to and including the destination. */
export function sshArgv(dirs: StateDir, address: string, opts: { tty?: boolean } = {}): string[] {
  return [
    'ssh',
    ...(opts.tty ? ['-t'] : ['-T']),
    '-i',
    dirs.labKey,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${dirs.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-o',
    'LogLevel=ERROR',
    `root@${address}`,
  ];
}

export interface SshResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a shell command on a lab host and collects its output. */
export function sshCapture(dirs: StateDir, address: string, command: string, input = ''): Promise<SshResult> {
  return new Promise((resolve, reject) => {
    const argv = [...sshArgv(dirs, address), '--', command];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? missingToolError('ssh') : e));
    child.on('close', (code) => resolve({ code: code ?? 255, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }));
    child.stdin.on('error', () => {}); // the command may exit without reading its input
    child.stdin.end(input);
  });
}

/** Runs ssh attached to this terminal: a shell when command is empty, else the command. Resolves to its exit code. */
export function sshInteractive(dirs: StateDir, address: string, command: string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const tty = command.length === 0 && process.stdin.isTTY === true;
    const argv = [...sshArgv(dirs, address, { tty }), ...(command.length > 0 ? ['--', ...command] : [])];
    const child = spawn(argv[0], argv.slice(1), { stdio: 'inherit' });
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? missingToolError('ssh') : e));
    child.on('close', (code) => resolve(code ?? 255));
  });
}
