// The `ssh` connection: one ssh2 Client per host for the whole run. Commands run on exec
// channels, files move over one long-lived SFTP session, and a semaphore keeps the number
// of open channels under the server's MaxSessions (OpenSSH: 10; SFTP counts as one).
import { randomBytes } from 'node:crypto';
import { existsSync, promises as fs } from 'node:fs';
import * as os from 'node:os';
import { posix } from 'node:path';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
// ssh2's client and key parser, not its index: the index also loads its server and HTTP agents
// (node's http, https and tls), a share of every run's start.
import Client from 'ssh2/lib/client.js';
import keyParser from 'ssh2/lib/protocol/keyParser.js';
import type { AnyAuthMethod, ClientChannel, ConnectConfig, ServerHostKeyAlgorithm, SFTPWrapper, Stats } from 'ssh2';
import type { BecomeMethod, BecomeOptions, ExecOptions, ExecResult, FileStat, Host, WriteOptions } from '../types.js';
import { redactor } from '../secrets/redact.js';
import { EncryptedKeyError, TimeoutError, UnreachableError } from './connection-errors.js';
import { appendKnownHost, changedKeyMessage, knownKeyTypes, readKnownHosts, revokedKeyMessage, unknownKeyMessage, verifyHostKey } from './known-hosts.js';
import { quoteArgv } from './shell-quote.js';
import { Semaphore } from '../semaphore.js';
import { becomeArgv, becomeMethod, passwordPromptOf } from './become.js';

export interface SshOptions {
  /** Inventory name of the host, used in messages. */
  name: string;
  /** Address to connect to (HostName). */
  host: string;
  port?: number;
  user: string;
  privateKeyPath?: string;
  privateKey?: string | Buffer;
  /** Secret. */
  passphrase?: string;
  /** Secret. */
  password?: string;
  /** ssh-agent socket; defaults to SSH_AUTH_SOCK; false disables the agent. */
  agent?: string | false;
  knownHostsFiles: string[];
  hostKeyChecking: 'yes' | 'accept-new' | 'no';
  connectTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Default timeout of every command; ExecOptions.timeout overrides it. */
  commandTimeoutMs?: number;
  become?: boolean;
  becomeUser?: string;
  /** sudo (the default), su, runuser or doas. */
  becomeMethod?: BecomeMethod;
  becomeFlags?: string;
  /** Secret: the become password of every method; without one, sudo runs with -n. */
  becomePassword?: string;
  /** Secret: a method's own password (ansible_su_password, ...), before becomePassword. */
  becomePasswords?: Partial<Record<BecomeMethod, string>>;
  proxyJump?: SshOptions;
  /**
   * A TCP connection to host:port the caller opened ahead (while ssh2 loads, sshd accepts and
   * forks): the handshake goes over it while it is open; else, or with proxyJump, a new one is made.
   */
  socket?: Socket;
  /** Open channels at most (exec + SFTP); stay under the server's MaxSessions. */
  maxChannels?: number;
}

type BecomeOpts = BecomeOptions;

interface RawResult {
  exitCode: number;
  stdout: Buffer;
  stderr: string;
}

interface IdTables {
  users: Map<number, string>;
  groups: Map<number, string>;
  uids: Map<string, number>;
  gids: Map<string, number>;
}

const SFTP_NO_SUCH_FILE = 2;
const SFTP_FAILURE = 4;
const S_IFMT = 0o170000;

export class SshHost implements Host {
  readonly name: string;
  private readonly port: number;
  private readonly maxChannels: number;
  private readonly channels: Semaphore;
  private client?: InstanceType<typeof Client>;
  private connecting?: Promise<InstanceType<typeof Client>>;
  private jump?: SshHost;
  /** Set once the connection is gone; every call after that rejects with it. */
  private failure?: Error;
  private closing = false;
  private readonly pending = new Set<(e: Error) => void>();
  private sftpSession?: Promise<SFTPWrapper | null>;
  private idTables?: Promise<IdTables>;

  constructor(private readonly opts: SshOptions) {
    this.name = opts.name;
    this.port = opts.port ?? 22;
    this.maxChannels = Math.max(1, opts.maxChannels ?? 8);
    this.channels = new Semaphore(this.maxChannels);
    for (const secret of [opts.passphrase, opts.password, opts.becomePassword, ...Object.values(opts.becomePasswords ?? {})]) redactor.add(secret);
  }

  /** Connects now (instead of on first use) and reports an unreachable host as UnreachableError. */
  static async connect(opts: SshOptions): Promise<SshHost> {
    const host = new SshHost(opts);
    await host.ready();
    host.warmUp();
    return host;
  }

  /**
   * Opens the SFTP session and reads the user and group names in the background, right after
   * connecting: nearly every run reads or stats a file, and its first task would otherwise wait
   * for both, one after the other.
   */
  private warmUp(): void {
    void this.sftp().catch(() => {});
    void this.loadIdTables().catch(() => {});
  }

  // ---- Host interface ----

  async exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const r = await this.execRaw(argv, opts);
    return { exitCode: r.exitCode, stdout: r.stdout.toString('utf8'), stderr: r.stderr };
  }

  async read(file: string, opts: BecomeOpts = {}): Promise<Buffer | null> {
    const sftp = this.needsBecome(opts) ? null : await this.sftp();
    if (!sftp) return this.readByExec(file, opts);
    return this.guard(
      new Promise<Buffer | null>((resolve, reject) => {
        sftp.readFile(file, (err, data) => {
          if (!err) return resolve(data);
          if (sftpCode(err) === SFTP_NO_SUCH_FILE) return resolve(null);
          reject(new Error(`cannot read ${file} on ${this.name}: ${err.message}`));
        });
      }),
    );
  }

  async stat(file: string, opts: BecomeOpts & { follow?: boolean } = {}): Promise<FileStat | null> {
    const sftp = this.needsBecome(opts) ? null : await this.sftp();
    if (!sftp) return this.statByExec(file, opts);
    const attrs = await this.guard(sftpCall<Stats | null>((cb) => (opts.follow ? sftp.stat(file, cb) : sftp.lstat(file, cb)), true));
    if (!attrs) return null;
    const type = fileType(attrs.mode);
    const [owner, group, linkTarget] = await Promise.all([
      this.nameOf('users', attrs.uid),
      this.nameOf('groups', attrs.gid),
      type === 'link' ? this.guard(sftpCall<string>((cb) => sftp.readlink(file, cb))) : undefined,
    ]);
    return {
      exists: true,
      type,
      mode: octal(attrs.mode),
      owner,
      group,
      size: attrs.size,
      linkTarget: linkTarget ?? undefined,
      mtime: attrs.mtime,
    };
  }

  async write(file: string, content: string | Buffer, opts: WriteOptions = {}): Promise<void> {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
    const sftp = this.needsBecome(opts) ? null : await this.sftp();
    if (sftp) return this.writeBySftp(sftp, file, data, opts);
    return this.writeByExec(file, data, opts);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error(`connection to ${this.name} closed`));
    const client = this.client;
    if (client) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        client.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
        client.end();
      });
    }
    await this.jump?.close();
  }

  // ---- connection ----

  private ready(): Promise<InstanceType<typeof Client>> {
    if (this.failure) return Promise.reject(this.failure);
    this.connecting ??= this.open();
    return this.connecting;
  }

  private get target(): string {
    return `${this.opts.user}@${this.opts.host}:${this.port}`;
  }

  private async open(): Promise<InstanceType<typeof Client>> {
    const early = this.opts.socket;
    this.opts.socket = undefined;
    let key: Buffer | undefined;
    let entries: Awaited<ReturnType<typeof readKnownHosts>>;
    try {
      key = await this.loadPrivateKey();
      entries = this.opts.hostKeyChecking === 'no' ? [] : await readKnownHosts(this.opts.knownHostsFiles);
    } catch (e) {
      early?.destroy();
      throw e;
    }
    const checking = this.opts.hostKeyChecking;
    // A connection opened ahead that failed already is replaced: ssh2 then reports the failure.
    const sock = this.opts.proxyJump ? await this.tunnelThroughJump(this.opts.proxyJump) : early && !early.destroyed ? early : undefined;
    if (early && sock !== early) early.destroy();
    const client = new Client();
    let hostKeyProblem: string | undefined;
    const triedAuth: string[] = [];

    const config: ConnectConfig = {
      host: this.opts.host,
      port: this.port,
      username: this.opts.user,
      sock,
      readyTimeout: this.opts.connectTimeoutMs ?? 10_000,
      // A silent peer is declared lost after about a minute: long enough for a host (or this
      // controller) that is busy for a while, short enough that a dead network never hangs a run.
      keepaliveInterval: this.opts.keepaliveIntervalMs ?? 15_000,
      keepaliveCountMax: this.opts.keepaliveCountMax ?? 4,
      authHandler: this.authMethods(key, triedAuth),
      algorithms: { serverHostKey: preferredHostKeyAlgorithms(knownKeyTypes(entries, this.opts.host, this.port)) },
      hostVerifier: (hostKey: Buffer, verify: (ok: boolean) => void) => {
        if (checking === 'no') return verify(true);
        const verdict = verifyHostKey(entries, this.opts.host, this.port, hostKey);
        if (verdict.status === 'known') return verify(true);
        if (verdict.status === 'changed') hostKeyProblem = changedKeyMessage(this.opts.host, this.port, hostKey, verdict.entry);
        else if (verdict.status === 'revoked') hostKeyProblem = revokedKeyMessage(this.opts.host, this.port, hostKey, verdict.entry);
        else if (checking === 'accept-new' && verdict.otherTypes.length === 0) {
          const file = this.opts.knownHostsFiles[0];
          if (!file) {
            hostKeyProblem = 'host key checking is accept-new but no known_hosts file is configured';
            return verify(false);
          }
          appendKnownHost(file, this.opts.host, this.port, hostKey).then(
            () => verify(true),
            (e: Error) => {
              hostKeyProblem = `cannot add the host key to ${file}: ${e.message}`;
              verify(false);
            },
          );
          return;
        } else {
          hostKeyProblem = unknownKeyMessage(this.opts.host, this.port, hostKey, this.opts.knownHostsFiles, verdict.otherTypes);
        }
        verify(false);
      },
    };

    return new Promise((resolve, reject) => {
      let connected = false;
      let lastError: (Error & { level?: string; code?: string }) | undefined;
      const failConnect = () => {
        void this.jump?.close();
        const reason = hostKeyProblem ?? this.describeConnectError(lastError, triedAuth);
        const sep = reason.includes('\n') ? ':\n' : ': ';
        reject(new UnreachableError(`${this.name}: cannot connect to ${this.target}${sep}${reason}`));
      };
      client.on('ready', () => {
        connected = true;
        lastError = undefined;
        this.client = client;
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string }) => {
        // An unusable agent is not fatal: the next authentication method is tried.
        if (err.level === 'agent') return;
        // The first error is the cause ("Connection lost before handshake" follows a timeout);
        // of authentication errors the last one is the verdict.
        if (!lastError || (lastError.level === 'client-authentication' && err.level === 'client-authentication')) lastError = err;
        if (connected) this.connectionLost(err.message);
      });
      client.on('close', () => {
        if (!connected) return failConnect();
        this.connectionLost(lastError?.message ?? 'closed by the remote host');
      });
      client.on('end', () => {
        if (connected) this.connectionLost(lastError?.message ?? 'closed by the remote host');
      });
      try {
        client.connect(config);
        // Commands are small request/response exchanges: without TCP_NODELAY, Nagle's algorithm
        // holds each one back ~40 ms waiting for an ACK (measured: 17 execs 635 ms → 62 ms).
        client.setNoDelay(true);
      } catch (e) {
        reject(new UnreachableError(`${this.name}: cannot connect to ${this.target}: ${(e as Error).message}`));
      }
    });
  }

  private async loadPrivateKey(): Promise<Buffer | undefined> {
    const { privateKey, privateKeyPath, passphrase } = this.opts;
    let data: Buffer;
    if (privateKey !== undefined) data = Buffer.from(privateKey);
    else if (privateKeyPath) {
      try {
        data = await fs.readFile(privateKeyPath);
      } catch (e) {
        throw new UnreachableError(`${this.name}: cannot read private key ${privateKeyPath}: ${(e as Error).message}`);
      }
    } else return undefined;
    const keyName = privateKeyPath ?? 'given in the inventory';
    const parsed = keyParser.parseKey(data, passphrase);
    if (parsed instanceof Error) {
      if (/no passphrase given/i.test(parsed.message)) throw new EncryptedKeyError(keyName, this.name);
      if (passphrase !== undefined && /passphrase/i.test(parsed.message)) {
        throw new UnreachableError(`${this.name}: cannot decrypt the private key ${keyName}: wrong passphrase`);
      }
      throw new UnreachableError(`${this.name}: cannot use the private key ${keyName}: ${parsed.message}`);
    }
    return data;
  }

  /** OpenSSH's order: agent keys, then the identity file, then a password. */
  private authMethods(key: Buffer | undefined, tried: string[]): ConnectConfig['authHandler'] {
    const username = this.opts.user;
    const queue: Array<{ label: string; method: AnyAuthMethod }> = [];
    const agent = this.opts.agent === false ? undefined : (this.opts.agent ?? process.env.SSH_AUTH_SOCK);
    if (agent && existsSync(agent)) queue.push({ label: 'ssh-agent', method: { type: 'agent', username, agent } });
    if (key) {
      queue.push({
        label: `publickey (${this.opts.privateKeyPath ?? 'inventory key'})`,
        method: { type: 'publickey', username, key, passphrase: this.opts.passphrase },
      });
    }
    const password = this.opts.password;
    if (password !== undefined) {
      queue.push({ label: 'password', method: { type: 'password', username, password } });
      // Servers that check passwords through PAM often offer only keyboard-interactive.
      queue.push({
        label: 'keyboard-interactive',
        method: {
          type: 'keyboard-interactive',
          username,
          prompt: (_name, _instructions, _lang, prompts, finish) => finish(prompts.map((p) => (p.echo ? '' : password))),
        },
      });
    }
    return (methodsLeft, _partial, next) => {
      while (queue.length) {
        const candidate = queue.shift()!;
        const kind = candidate.method.type === 'agent' ? 'publickey' : candidate.method.type;
        if (methodsLeft && !methodsLeft.includes(kind as (typeof methodsLeft)[number])) continue;
        tried.push(candidate.label);
        return next(candidate.method);
      }
      next(false as unknown as AnyAuthMethod);
    };
  }

  private describeConnectError(err: (Error & { level?: string; code?: string }) | undefined, tried: string[]): string {
    if (!err) return 'connection closed before the session was ready';
    if (err.code === 'ECONNREFUSED') return 'connection refused';
    if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return `could not resolve host name ${this.opts.host}`;
    if (err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return 'no route to host';
    if (err.code === 'ETIMEDOUT' || err.level === 'client-timeout') {
      return `timed out after ${this.opts.connectTimeoutMs ?? 10_000} ms`;
    }
    if (err.level === 'client-authentication') {
      const methods = tried.length ? tried.join(', ') : 'no method available (no key, agent or password)';
      return `authentication failed for user ${this.opts.user} (tried: ${methods})`;
    }
    return err.message;
  }

  private async tunnelThroughJump(jump: SshOptions): Promise<Duplex> {
    this.jump = new SshHost(jump);
    try {
      return await this.jump.forwardOut(this.opts.host, this.port);
    } catch (e) {
      await this.jump.close();
      throw new UnreachableError(`${this.name}: cannot reach ${this.opts.host}:${this.port} through jump host ${jump.name}: ${(e as Error).message}`);
    }
  }

  /** A TCP tunnel from this host to another, for ProxyJump. */
  async forwardOut(host: string, port: number): Promise<Duplex> {
    const client = await this.ready();
    await this.channels.acquire();
    return this.guard(
      new Promise<Duplex>((resolve, reject) => {
        client.forwardOut('127.0.0.1', 0, host, port, (err, stream) => {
          if (err) {
            this.channels.release();
            return reject(err);
          }
          stream.once('close', () => this.channels.release());
          resolve(stream);
        });
      }),
    );
  }

  private connectionLost(reason: string): void {
    if (this.closing || this.failure) return;
    this.fail(new UnreachableError(`connection to ${this.name} (${this.target}) lost: ${reason}`));
    this.client?.end();
  }

  private fail(err: Error): void {
    this.failure ??= err;
    for (const reject of this.pending) reject(this.failure);
    this.pending.clear();
  }

  /** Settles with `work`, or rejects as soon as the connection is lost, so that no call ever hangs. */
  private guard<T>(work: Promise<T>): Promise<T> {
    if (this.failure) {
      work.catch(() => {});
      return Promise.reject(this.failure);
    }
    return new Promise<T>((resolve, reject) => {
      this.pending.add(reject);
      work.then(resolve, reject).finally(() => this.pending.delete(reject));
    });
  }

  // ---- commands ----

  private needsBecome(opts: BecomeOpts): boolean {
    const become = opts.become ?? this.opts.become ?? false;
    return become && this.becomeUser(opts) !== this.opts.user;
  }

  private becomeUser(opts: BecomeOpts): string {
    return opts.becomeUser ?? this.opts.becomeUser ?? 'root';
  }

  private async execRaw(argv: string[], opts: ExecOptions = {}): Promise<RawResult> {
    for (const name of Object.keys(opts.env ?? {})) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid environment variable name '${name}'`);
    }
    // env(1) instead of ssh "env" requests: sshd refuses those unless AcceptEnv allows them.
    let command = ['env', 'LC_ALL=C', ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`), ...argv];
    if (opts.cwd) command = ['sh', '-c', 'cd -- "$1" || exit; shift; exec "$@"', 'sh', opts.cwd, ...command];
    // Another user may not be allowed into the login user's directory (find, pg_* tools fail there).
    else if (this.needsBecome(opts)) command = ['sh', '-c', 'cd "$HOME" 2>/dev/null || cd /; exec "$@"', 'sh', ...command];
    const timeout = opts.timeout ?? this.opts.commandTimeoutMs;
    // sshd refuses signal requests on root logins (no privilege separation after auth), so the
    // host kills a command that outlives its timeout itself, a moment after the call gave up.
    if (timeout) command = ['timeout', '-s', 'KILL', `${(timeout + 1000) / 1000}`, ...command];
    const stdin = opts.stdin === undefined ? undefined : Buffer.from(opts.stdin);
    if (!this.needsBecome(opts)) return this.runChannel(`exec ${quoteArgv(command)}`, { stdin, timeout, label: argv[0] });
    const method = becomeMethod(opts.becomeMethod ?? this.opts.becomeMethod);
    const become = { method, user: this.becomeUser(opts), flags: opts.becomeFlags ?? this.opts.becomeFlags };
    const password = this.opts.becomePasswords?.[method] ?? this.opts.becomePassword;
    // su asks root for nothing, and anyone else always: its stdin must not be the command's until it is done.
    if ((password === undefined && method !== 'su') || method === 'runuser') {
      return this.runChannel(`exec ${quoteArgv(becomeArgv(command, become))}`, { stdin, timeout, label: argv[0] });
    }
    return this.runWithBecomePassword(command, become, password, stdin, timeout, argv[0]);
  }

  /**
   * sudo and su read the password from stdin only when they ask for one (not with NOPASSWD,
   * cached credentials, or su from root), so the password is written when the prompt appears,
   * and the command's stdin only after the command announced that it started. Without a
   * password, a prompt closes stdin: the tool fails at once instead of reading the command's input.
   */
  private runWithBecomePassword(
    command: string[],
    become: { method: BecomeMethod; user: string; flags?: string },
    password: string | undefined,
    stdin: Buffer | undefined,
    timeout: number | undefined,
    label: string,
  ) {
    const tag = randomBytes(8).toString('hex');
    const prompt = passwordPromptOf(become.method, `[plinth sudo ${tag}] password:`);
    const started = `plinth-become-ok-${tag}`;
    const argv = becomeArgv(['sh', '-c', `echo ${started} >&2; exec "$@"`, 'sh', ...command], become, prompt);
    let prompts = 0;
    let seen = '';
    let startedSeen = false;
    return this.runChannel(`exec ${quoteArgv(argv)}`, {
      timeout,
      label,
      // What the tool printed before the command started (its prompt) is not the command's.
      filterStderr: (text) => (text.includes(started) ? text.slice(text.indexOf(started) + started.length).replace(/^\n/, '') : text.split(prompt).join('')),
      onStderr: (chunk, stream) => {
        if (startedSeen) return;
        seen += chunk;
        while (seen.includes(prompt)) {
          seen = seen.replace(prompt, '');
          prompts++;
          // A second prompt means a wrong password: closing stdin makes sudo give up.
          if (prompts === 1 && password !== undefined) stream.write(`${password}\n`);
          else stream.end();
        }
        if (seen.includes(started)) {
          startedSeen = true;
          seen = '';
          stream.end(stdin ?? Buffer.alloc(0));
        }
      },
    });
  }

  private async runChannel(
    command: string,
    o: {
      stdin?: Buffer;
      timeout?: number;
      label: string;
      onStderr?: (chunk: string, stream: ClientChannel) => void;
      filterStderr?: (text: string) => string;
    },
  ): Promise<RawResult> {
    const client = await this.ready();
    await this.guard(this.channels.acquire());
    return this.guard(
      new Promise<RawResult>((resolve, reject) => {
        client.exec(command, (err, stream) => {
          if (err) {
            this.channels.release();
            return reject(new Error(`${this.name}: cannot open a session channel: ${err.message}`));
          }
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          let exit: { code: number | null; signal?: string } | undefined;
          let timer: NodeJS.Timeout | undefined;
          let timedOut = false;
          if (o.timeout) {
            timer = setTimeout(() => {
              timedOut = true;
              sendSignal(stream, 'KILL');
              stream.close();
              reject(new TimeoutError(`command timed out after ${o.timeout} ms on ${this.name}: ${o.label}`));
            }, o.timeout);
          }
          stream.on('data', (b: Buffer) => out.push(b));
          stream.stderr.on('data', (b: Buffer) => {
            errOut.push(b);
            o.onStderr?.(b.toString('utf8'), stream);
          });
          stream.on('exit', (code: number | null, signal?: string) => {
            exit = { code, signal };
          });
          stream.on('error', () => {});
          stream.on('close', () => {
            clearTimeout(timer);
            this.channels.release();
            if (timedOut) return;
            if (!exit) return reject(new Error(`${this.name}: the command ended without an exit status: ${o.label}`));
            const stderr = Buffer.concat(errOut).toString('utf8');
            resolve({
              exitCode: exit.code ?? 128 + (os.constants.signals[`SIG${exit.signal}` as NodeJS.Signals] ?? 0),
              stdout: Buffer.concat(out),
              stderr: o.filterStderr ? o.filterStderr(stderr) : stderr,
            });
          });
          if (!o.onStderr) stream.end(o.stdin ?? Buffer.alloc(0));
        });
      }),
    );
  }

  // ---- files over exec (become to another user, or no SFTP) ----

  private async readByExec(file: string, opts: BecomeOpts): Promise<Buffer | null> {
    const r = await this.execRaw(['cat', '--', file], opts);
    if (r.exitCode === 0) return r.stdout;
    if (/No such file or directory|Not a directory/.test(r.stderr)) return null;
    throw new Error(`cannot read ${file} on ${this.name}: ${r.stderr.trim()}`);
  }

  private async statByExec(file: string, opts: BecomeOpts & { follow?: boolean }): Promise<FileStat | null> {
    const deref = opts.follow ? '-L ' : '';
    const script = `stat ${deref}--printf '%f\\0%a\\0%U\\0%G\\0%s\\0%Y\\0' -- "$1" && if [ -L "$1" ]; then readlink -n -- "$1"; fi`;
    const r = await this.execRaw(['sh', '-c', script, 'sh', file], opts);
    if (r.exitCode !== 0) {
      if (/No such file or directory|Not a directory/.test(r.stderr)) return null;
      throw new Error(`cannot stat ${file} on ${this.name}: ${r.stderr.trim()}`);
    }
    const [rawMode, , owner, group, size, mtime, ...rest] = r.stdout.toString('utf8').split('\0');
    const mode = parseInt(rawMode, 16);
    const type = fileType(mode);
    return {
      exists: true,
      type,
      mode: octal(mode),
      owner,
      group,
      size: Number(size),
      linkTarget: type === 'link' ? rest.join('\0') : undefined,
      mtime: Number(mtime),
    };
  }

  private async writeByExec(file: string, data: Buffer, opts: WriteOptions): Promise<void> {
    const asOther = this.needsBecome(opts);
    const previous = await this.stat(file, { ...opts, follow: true });
    const mode = normalizeMode(opts.mode ?? previous?.mode ?? '0644');
    // Run as another user, the file is created as that user; keep an old owner only as the login user.
    const owner = opts.owner ?? (asOther ? '' : (previous?.owner ?? ''));
    const group = opts.group ?? (asOther ? '' : (previous?.group ?? ''));
    const script = [
      'set -e',
      't=$(mktemp "$(dirname -- "$1")/.$(basename -- "$1").plinth-XXXXXX")',
      `trap 'rm -f -- "$t"' EXIT`,
      'cat > "$t"',
      'chmod "$2" "$t"',
      'if [ -n "$3" ] && [ "$(stat -c %U "$t")" != "$3" ]; then chown -- "$3" "$t"; fi',
      'if [ -n "$4" ] && [ "$(stat -c %G "$t")" != "$4" ]; then chgrp -- "$4" "$t"; fi',
      'mv -f -- "$t" "$1"',
      'trap - EXIT',
    ].join('\n');
    const r = await this.execRaw(['sh', '-c', script, 'sh', file, mode, owner, group], { ...opts, stdin: data });
    if (r.exitCode !== 0) {
      const who = asOther ? ` as ${this.becomeUser(opts)}` : '';
      throw new Error(`cannot write ${file}${who} on ${this.name}: ${r.stderr.trim()}`);
    }
  }

  // ---- files over SFTP ----

  /** The one SFTP session of this host, or null when the server offers none (then files go over exec). */
  private sftp(): Promise<SFTPWrapper | null> {
    if (this.maxChannels < 2) return Promise.resolve(null);
    this.sftpSession ??= (async () => {
      const client = await this.ready();
      await this.guard(this.channels.acquire());
      return this.guard(
        new Promise<SFTPWrapper | null>((resolve) => {
          client.sftp((err, sftp) => {
            if (err) {
              this.channels.release();
              return resolve(null);
            }
            sftp.once('close', () => {
              this.channels.release();
              this.sftpSession = undefined;
            });
            resolve(sftp);
          });
        }),
      );
    })();
    const session = this.sftpSession;
    session.catch(() => {
      if (this.sftpSession === session) this.sftpSession = undefined;
    });
    return session;
  }

  private async writeBySftp(sftp: SFTPWrapper, file: string, data: Buffer, opts: WriteOptions): Promise<void> {
    const previous = await this.stat(file, { become: opts.become, becomeUser: opts.becomeUser, follow: true });
    const tmp = posix.join(posix.dirname(file), `.${posix.basename(file)}.plinth-${randomBytes(6).toString('hex')}`);
    const handle = await this.guard(sftpCall<Buffer>((cb) => sftp.open(tmp, 'wx', { mode: 0o600 }, cb))).catch((e: Error) => {
      if (sftpCode(e) === SFTP_FAILURE && !this.failure) return null;
      throw new Error(`cannot write ${file} on ${this.name}: ${e.message}`);
    });
    // SFTP says only "Failure" for a full disk or a read-only file system: the same atomic
    // write over exec says why (the shell's error), or succeeds.
    if (handle === null) return this.writeByExec(file, data, opts);
    let open = true;
    try {
      await this.guard(sftpCall((cb) => sftp.write(handle, data, 0, data.length, 0, cb)));
      const created = await this.guard(sftpCall<Stats>((cb) => sftp.fstat(handle, cb)));
      await this.guard(sftpCall((cb) => sftp.ext_openssh_fsync(handle, cb))).catch(() => {});
      open = false;
      await this.guard(sftpCall((cb) => sftp.close(handle, cb)));
      await this.guard(sftpCall((cb) => sftp.chmod(tmp, parseInt(normalizeMode(opts.mode ?? previous?.mode ?? '0644'), 8), cb)));
      const uid = await this.idOf('uids', opts.owner ?? previous?.owner);
      const gid = await this.idOf('gids', opts.group ?? previous?.group);
      if ((uid !== undefined && uid !== created.uid) || (gid !== undefined && gid !== created.gid)) {
        await this.guard(sftpCall((cb) => sftp.chown(tmp, uid ?? created.uid, gid ?? created.gid, cb)));
      }
      await this.guard(sftpCall((cb) => sftp.ext_openssh_rename(tmp, file, cb)));
    } catch (e) {
      if (!this.failure) {
        // An open handle would keep the removed temp file's blocks in use (a full disk stays full).
        if (open) await sftpCall((cb) => sftp.close(handle, cb)).catch(() => {});
        await sftpCall((cb) => sftp.unlink(tmp, cb)).catch(() => {});
      }
      if (e instanceof UnreachableError) throw e;
      if (sftpCode(e) === SFTP_FAILURE && !this.failure) return this.writeByExec(file, data, opts);
      throw new Error(`cannot write ${file} on ${this.name}: ${(e as Error).message}`);
    }
  }

  // ---- user and group names ----

  private async nameOf(kind: 'users' | 'groups', id: number): Promise<string> {
    let tables = await this.loadIdTables();
    if (!tables[kind].has(id)) tables = await this.loadIdTables(true);
    return tables[kind].get(id) ?? String(id);
  }

  private async idOf(kind: 'uids' | 'gids', name: string | undefined): Promise<number | undefined> {
    if (name === undefined || name === '') return undefined;
    if (/^\d+$/.test(name)) return Number(name);
    let tables = await this.loadIdTables();
    if (!tables[kind].has(name)) tables = await this.loadIdTables(true);
    const id = tables[kind].get(name);
    if (id === undefined) throw new Error(`unknown ${kind === 'uids' ? 'user' : 'group'} '${name}' on ${this.name}`);
    return id;
  }

  /** One `getent` per host, again only when a new user or group appears during the run. */
  private loadIdTables(refresh = false): Promise<IdTables> {
    if (refresh || !this.idTables) {
      const script = 'getent passwd || cat /etc/passwd; echo @@; getent group || cat /etc/group';
      const loading = this.execRaw(['sh', '-c', script], { become: false }).then((r) => {
        const [passwd, group = ''] = r.stdout.toString('utf8').split('@@\n');
        const users = parseIdFile(passwd);
        const groups = parseIdFile(group);
        return { users: users.byId, uids: users.byName, groups: groups.byId, gids: groups.byName };
      });
      this.idTables = loading;
      loading.catch(() => {
        if (this.idTables === loading) this.idTables = undefined;
      });
    }
    return this.idTables!;
  }
}

/**
 * Sends a "signal" request; sshd (7.9+) delivers it to the command's process group. ssh2's
 * Channel.signal() refuses once stdin is closed, which it always is here, so the request
 * goes through the channel's protocol object.
 */
function sendSignal(stream: ClientChannel, name: string): void {
  const channel = stream as unknown as {
    outgoing?: { id: number; state: string };
    _client?: { _protocol?: { signal?: (id: number, name: string) => void } };
  };
  const protocol = channel._client?._protocol;
  const state = channel.outgoing?.state;
  if (!channel.outgoing || (state !== 'open' && state !== 'eof') || typeof protocol?.signal !== 'function') return;
  try {
    protocol.signal(channel.outgoing.id, name);
  } catch {
    // The channel is being torn down anyway.
  }
}

function parseIdFile(text: string): { byId: Map<number, string>; byName: Map<string, number> } {
  const byId = new Map<number, string>();
  const byName = new Map<string, number>();
  for (const line of text.split('\n')) {
    const [name, , id] = line.split(':');
    if (!name || id === undefined || !/^\d+$/.test(id)) continue;
    if (!byId.has(Number(id))) byId.set(Number(id), name);
    byName.set(name, Number(id));
  }
  return { byId, byName };
}

function sftpCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** Promisifies one SFTP call; with `missingIsNull`, "no such file" resolves to null. */
function sftpCall<T = void>(start: (cb: (err: Error | null | undefined, value?: any) => void) => void, missingIsNull = false): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    start((err, value) => {
      if (!err) return resolve(value as T);
      if (missingIsNull && sftpCode(err) === SFTP_NO_SUCH_FILE) return resolve(null as T);
      reject(err);
    });
  });
}

function fileType(mode: number): FileStat['type'] {
  switch (mode & S_IFMT) {
    case 0o100000:
      return 'file';
    case 0o040000:
      return 'directory';
    case 0o120000:
      return 'link';
    default:
      return 'other';
  }
}

function octal(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, '0');
}

function normalizeMode(mode: string): string {
  if (!/^0?[0-7]{3,4}$/.test(mode)) throw new Error(`invalid file mode '${mode}' (expected an octal string like '0644')`);
  return mode.padStart(4, '0');
}

/** Known key types first, as OpenSSH orders HostKeyAlgorithms, so a known key is the one offered. */
function preferredHostKeyAlgorithms(knownTypes: string[]): Record<'remove' | 'prepend' | 'append', ServerHostKeyAlgorithm[]> | undefined {
  const algorithms = knownTypes.flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  const supported: string[] = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];
  const usable = algorithms.filter((a) => supported.includes(a)) as ServerHostKeyAlgorithm[];
  if (usable.length === 0) return undefined;
  // ssh2 applies the operations in key order: take the known ones out, then put them first.
  return { remove: usable, prepend: usable, append: [] };
}
