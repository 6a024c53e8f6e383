// The `local` connection: the controller's own machine. Unit tests use it on temp dirs.
import { spawn } from 'node:child_process';
import { promises as fs, constants as fsConstants } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import type { BecomeOptions, ExecOptions, ExecResult, FileStat, Host, WriteOptions } from '../types.js';
import { TimeoutError } from './connection-errors.js';
import { becomeArgv, becomeMethod } from './become.js';

interface UserTables {
  users: Map<number, string>;
  groups: Map<number, string>;
  uids: Map<string, number>;
  gids: Map<string, number>;
}

export class LocalHost implements Host {
  private tables?: Promise<UserTables>;
  private readonly currentUser = os.userInfo().username;

  constructor(
    readonly name: string,
    private readonly defaults: BecomeOptions = {},
  ) {}

  exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    const command = this.asUser(argv, opts);
    return new Promise((resolve, reject) => {
      const child = spawn(command[0], command.slice(1), {
        // Another user may not be allowed into this process's directory.
        cwd: opts.cwd ?? (command !== argv ? '/' : undefined),
        env: { ...process.env, ...opts.env },
        stdio: ['pipe', 'pipe', 'pipe'],
        // Its own process group: a timeout kills the command with everything it started (sh -c
        // does not exec its last command), and Ctrl-C on plinth's terminal does not reach it,
        // so an interrupted run lets the commands in flight finish.
        detached: true,
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timer: NodeJS.Timeout | undefined;
      let timedOut = false;
      if (opts.timeout) {
        timer = setTimeout(() => {
          timedOut = true;
          killGroup(child.pid, () => child.kill('SIGKILL'));
          // A process that left the group may still hold the pipes: do not wait for them to close.
          child.stdout.destroy();
          child.stderr.destroy();
          reject(new TimeoutError(`command timed out after ${opts.timeout} ms: ${argv[0]}`));
        }, opts.timeout);
      }
      child.stdout.on('data', (b: Buffer) => out.push(b));
      child.stderr.on('data', (b: Buffer) => err.push(b));
      child.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (e.code === 'ENOENT') resolve({ exitCode: 127, stdout: '', stderr: `${command[0]}: command not found` });
        else reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (timedOut) return;
        resolve({
          exitCode: code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1),
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
      child.stdin.on('error', () => {});
      child.stdin.end(opts.stdin ?? '');
    });
  }

  async read(file: string, opts: BecomeOptions = {}): Promise<Buffer | null> {
    if (this.needsOtherUser(opts)) {
      const r = await this.exec(['cat', '--', file], { ...opts });
      if (r.exitCode !== 0) {
        if (/No such file/.test(r.stderr)) return null;
        throw new Error(`cannot read ${file}: ${r.stderr.trim()}`);
      }
      return Buffer.from(r.stdout, 'utf8');
    }
    try {
      return await fs.readFile(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
  }

  async stat(file: string, opts: { follow?: boolean } = {}): Promise<FileStat | null> {
    let st: Awaited<ReturnType<typeof fs.stat>>;
    try {
      st = opts.follow ? await fs.stat(file) : await fs.lstat(file);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return null;
      throw e;
    }
    const t = await this.userTables();
    return {
      exists: true,
      type: st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'directory' : st.isFile() ? 'file' : 'other',
      mode: (st.mode & 0o7777).toString(8).padStart(4, '0'),
      owner: t.users.get(st.uid) ?? String(st.uid),
      group: t.groups.get(st.gid) ?? String(st.gid),
      size: st.size,
      linkTarget: st.isSymbolicLink() ? await fs.readlink(file) : undefined,
      mtime: Math.floor(st.mtimeMs / 1000),
    };
  }

  async write(file: string, content: string | Buffer, opts: WriteOptions = {}): Promise<void> {
    const previous = await this.stat(file, { follow: true });
    const tmp = path.join(path.dirname(file), `.${path.basename(file)}.plinth-${randomBytes(6).toString('hex')}`);
    const owner = opts.owner ?? (this.needsOtherUser(opts) ? this.targetUser(opts) : previous?.owner);
    const group = opts.group ?? previous?.group;
    const mode = opts.mode ?? previous?.mode;
    const handle = await fs.open(tmp, fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_WRONLY, 0o600);
    try {
      await handle.writeFile(content);
      await handle.sync();
      await handle.close();
      if (mode) await fs.chmod(tmp, parseInt(mode, 8));
      else await fs.chmod(tmp, 0o666 & ~process.umask());
      if (owner || group) {
        const t = await this.userTables();
        const uid = owner ? resolveId(t.uids, owner, 'user') : -1;
        const gid = group ? resolveId(t.gids, group, 'group') : -1;
        await fs.chown(tmp, uid, gid);
      }
      await fs.rename(tmp, file);
    } catch (e) {
      await handle.close().catch(() => {});
      await fs.rm(tmp, { force: true });
      throw e;
    }
  }

  /** This machine connects itself. */
  forwardOut(host: string, port: number): Promise<Duplex> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host, port });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(socket);
      });
      socket.once('error', reject);
    });
  }

  async close(): Promise<void> {}

  private targetUser(opts: BecomeOptions): string {
    return opts.becomeUser ?? this.defaults.becomeUser ?? 'root';
  }

  private needsOtherUser(opts: BecomeOptions): boolean {
    const become = opts.become ?? this.defaults.become ?? false;
    return become && this.targetUser(opts) !== this.currentUser;
  }

  private asUser(argv: string[], opts: ExecOptions): string[] {
    if (!this.needsOtherUser(opts)) return argv;
    const user = this.targetUser(opts);
    const method = becomeMethod(opts.becomeMethod ?? this.defaults.becomeMethod);
    const flags = opts.becomeFlags ?? this.defaults.becomeFlags;
    // root needs no password to change user: runuser is part of util-linux on every Debian.
    if (process.getuid?.() === 0 && method === 'sudo' && flags === undefined) return becomeArgv(argv, { method: 'runuser', user });
    return becomeArgv(argv, { method, user, flags });
  }

  private userTables(): Promise<UserTables> {
    this.tables ??= (async () => {
      const parse = async (file: string) => {
        const byId = new Map<number, string>();
        const byName = new Map<string, number>();
        const text = await fs.readFile(file, 'utf8').catch(() => '');
        for (const line of text.split('\n')) {
          const [name, , id] = line.split(':');
          if (name && id !== undefined && !byId.has(Number(id))) byId.set(Number(id), name);
          if (name && id !== undefined) byName.set(name, Number(id));
        }
        return { byId, byName };
      };
      const [u, g] = await Promise.all([parse('/etc/passwd'), parse('/etc/group')]);
      return { users: u.byId, uids: u.byName, groups: g.byId, gids: g.byName };
    })();
    return this.tables;
  }
}

function killGroup(pid: number | undefined, fallback: () => void): void {
  try {
    if (pid === undefined) throw new Error('no pid');
    process.kill(-pid, 'SIGKILL');
  } catch {
    fallback();
  }
}

function resolveId(table: Map<string, number>, name: string, kind: string): number {
  if (/^\d+$/.test(name)) return Number(name);
  const id = table.get(name);
  if (id === undefined) throw new Error(`unknown ${kind} '${name}'`);
  return id;
}
