// A real OpenSSH server for tests: /usr/sbin/sshd -D on 127.0.0.1, a free port, fresh host
// and user keys and its own sshd_config in a temp dir. Stopped (with every session process
// it forked) by PID; nothing else on the machine is touched.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SshOptions } from '../../engine/connection/ssh.js';

export interface TestSshd {
  port: number;
  /** The server's public host key, "ssh-ed25519 AAAA...". */
  hostKey: string;
  /** Private key of a user allowed to log in (root and every other user, one authorized_keys). */
  userKeyPath: string;
  /** "[127.0.0.1]:PORT ssh-ed25519 AAAA..." */
  knownHostsLine: string;
  /** The temp dir holding keys, config and the log (sshd.log). */
  dir: string;
  /** PID of the listening sshd. */
  pid: number;
  /** PIDs of every process the listener forked (connections, sessions, their commands). */
  descendants(): number[];
  /** SIGKILLs the listener and all its descendants: the server dies mid-session. */
  kill(): void;
  /** Stops the server and removes its temp dir. */
  stop(): Promise<void>;
}

export interface SshdOptions {
  hostKeyType?: 'ed25519' | 'ecdsa' | 'rsa';
  /** Use this private host key file instead of generating one (same identity across restarts). */
  hostKeyPath?: string;
  maxSessions?: number;
  /** Extra sshd_config lines; they come first, so they win over the defaults (sshd takes the first value). */
  extraConfig?: string[];
  /** false: no SFTP subsystem, so file transfer must go over exec. */
  sftp?: boolean;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export function keygen(file: string, type: 'ed25519' | 'ecdsa' | 'rsa' = 'ed25519', passphrase = ''): void {
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', passphrase, '-C', 'plinth-test', '-f', file], { stdio: 'ignore' });
}

function descendantsOf(pid: number): number[] {
  let children: number[] = [];
  try {
    children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    // pgrep exits 1 when there are none.
  }
  return children.flatMap((c) => [c, ...descendantsOf(c)]);
}

function killPids(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

export async function startSshd(opts: SshdOptions = {}): Promise<TestSshd> {
  // sshd refuses to start without its privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plinth-sshd-'));
  // sshd reads authorized_keys as the user logging in, who may not be root.
  chmodSync(dir, 0o755);
  const hostKeyFile = path.join(dir, 'host_key');
  if (opts.hostKeyPath) {
    writeFileSync(hostKeyFile, readFileSync(opts.hostKeyPath), { mode: 0o600 });
    writeFileSync(`${hostKeyFile}.pub`, readFileSync(`${opts.hostKeyPath}.pub`));
  } else {
    keygen(hostKeyFile, opts.hostKeyType ?? 'ed25519');
  }
  const userKeyPath = path.join(dir, 'user_key');
  keygen(userKeyPath);
  writeFileSync(path.join(dir, 'authorized_keys'), readFileSync(`${userKeyPath}.pub`), { mode: 0o644 });

  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const config = [
      ...(opts.extraConfig ?? []),
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKeyFile}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'PermitRootLogin prohibit-password',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      ...(opts.sftp === false ? [] : ['Subsystem sftp internal-sftp']),
      `MaxSessions ${opts.maxSessions ?? 10}`,
      'LogLevel VERBOSE',
    ];
    writeFileSync(path.join(dir, 'sshd_config'), config.join('\n') + '\n');
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', path.join(dir, 'sshd_config')], {
      stdio: ['ignore', 'ignore', 'pipe'],
      detached: true,
    });
    const listening = await waitForListening(child, port);
    if (!listening.ok) {
      if (attempt < 3 && /Address already in use/.test(listening.log)) continue;
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`sshd did not start: ${listening.log}`);
    }
    writeFileSync(path.join(dir, 'sshd.log'), listening.log);
    return handle(child, dir, port, hostKeyFile, userKeyPath);
  }
}

function waitForListening(child: ChildProcess, port: number): Promise<{ ok: boolean; log: string }> {
  return new Promise((resolve) => {
    let log = '';
    const timer = setTimeout(() => resolve({ ok: false, log: `timed out; log: ${log}` }), 10_000);
    child.stderr!.on('data', (b: Buffer) => {
      log += b.toString();
      if (log.includes(`Server listening on 127.0.0.1 port ${port}`)) {
        clearTimeout(timer);
        resolve({ ok: true, log });
      }
    });
    child.on('exit', () => {
      clearTimeout(timer);
      resolve({ ok: false, log });
    });
  });
}

function handle(child: ChildProcess, dir: string, port: number, hostKeyFile: string, userKeyPath: string): TestSshd {
  const pid = child.pid!;
  // Keep draining sshd's log so it never blocks on a full pipe; tests may read it.
  child.stderr!.on('data', (b: Buffer) => {
    try {
      appendFileSync(path.join(dir, 'sshd.log'), b);
    } catch {
      // The dir is gone after stop().
    }
  });
  child.unref();
  (child.stderr as unknown as { unref?: () => void }).unref?.();
  const hostKey = readFileSync(`${hostKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const kill = () => {
    const all = [pid, ...descendantsOf(pid)];
    killPids(all, 'SIGKILL');
  };
  return {
    port,
    hostKey,
    userKeyPath,
    knownHostsLine: `[127.0.0.1]:${port} ${hostKey}`,
    dir,
    pid,
    descendants: () => descendantsOf(pid),
    kill,
    async stop() {
      kill();
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Options for an SshHost that logs in to a test sshd as root with its user key, checking its
 * host key against a known_hosts file that lists only this server.
 */
export function sshOptionsTo(server: TestSshd, extra: Partial<SshOptions> = {}): SshOptions {
  const knownHosts = path.join(server.dir, 'known_hosts');
  writeFileSync(knownHosts, `${server.knownHostsLine}\n`);
  return {
    name: 'web1',
    host: '127.0.0.1',
    port: server.port,
    user: 'root',
    privateKeyPath: server.userKeyPath,
    agent: false,
    knownHostsFiles: [knownHosts],
    hostKeyChecking: 'yes',
    connectTimeoutMs: 5000,
    ...extra,
  };
}
