// Check mode's view of a host: reads see the files that earlier tasks of this run would
// have written, so that a lineinfile after a template plans against the template's output.
// Other state a change leaves (a unit stopped, a server restarted) is kept as keyed effects.
// Writes are refused: check mode must never change a host.
import type { Duplex } from 'node:stream';
import type { BecomeOptions, ExecOptions, ExecResult, FileStat, Host, PlannedWrite, WriteOptions } from '../types.js';

export class CheckModeWriteError extends Error {
  constructor(path: string) {
    super(`a module tried to write ${path} in check mode`);
    this.name = 'CheckModeWriteError';
  }
}

export class PredictedHost implements Host {
  private readonly predicted = new Map<string, { content: string | null; mode?: string; directory?: boolean }>();
  private readonly effects = new Map<string, unknown>();

  constructor(private readonly real: Host) {}

  get name(): string {
    return this.real.name;
  }

  /** Records the writes of a change that check mode did not apply. */
  predict(writes: PlannedWrite[]): void {
    for (const w of writes) this.predicted.set(w.path, { content: w.content, mode: w.mode, directory: w.directory });
  }

  /** Records what a change that check mode did not apply leaves besides files. */
  predictEffects(effects: Record<string, unknown>): void {
    for (const [key, value] of Object.entries(effects)) this.effects.set(key, value);
  }

  predictedEffect(key: string): unknown {
    return this.effects.get(key);
  }

  /** True when the path's current content is a prediction, not something read from the host. */
  isPredicted(path: string): boolean {
    return this.predicted.has(path);
  }

  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult> {
    return this.real.exec(argv, opts);
  }

  async read(path: string, opts?: BecomeOptions): Promise<Buffer | null> {
    const p = this.predicted.get(path);
    if (p) return p.content === null || p.directory ? null : Buffer.from(p.content);
    return this.real.read(path, opts);
  }

  async stat(path: string, opts?: BecomeOptions & { follow?: boolean }): Promise<FileStat | null> {
    const p = this.predicted.get(path);
    if (!p) return this.real.stat(path, opts);
    if (p.content === null && !p.directory) return null;
    const before = await this.real.stat(path, opts);
    return {
      exists: true,
      type: p.directory ? 'directory' : 'file',
      mode: p.mode ?? before?.mode ?? (p.directory ? '0755' : '0644'),
      owner: before?.owner ?? 'root',
      group: before?.group ?? 'root',
      size: p.content === null ? 0 : Buffer.byteLength(p.content),
      mtime: Math.floor(Date.now() / 1000),
    };
  }

  forwardOut(host: string, port: number): Promise<Duplex> {
    if (!this.real.forwardOut) return Promise.reject(new Error(`${this.real.name}: this connection opens no TCP connections`));
    return this.real.forwardOut(host, port);
  }

  async write(path: string, _content: string | Buffer, _opts?: WriteOptions): Promise<void> {
    throw new CheckModeWriteError(path);
  }

  close(): Promise<void> {
    return this.real.close();
  }
}
