// What the run knows about one host: its connection, facts, registered results, notified
// handlers and counts. Registered results and facts live for the whole run, as in Ansible.
import type { Host } from '../types.js';
import { PredictedHost } from '../connection/predicted.js';
import { LocalHost } from '../connection/local.js';
import { emptyCounts, type HostCounts } from './events.js';

export class HostState {
  readonly registered: Record<string, unknown> = {};
  facts?: Record<string, unknown>;
  failed = false;
  unreachable = false;
  /** `meta: end_host`: the host left the current play without failing. */
  ended = false;
  readonly notified = new Set<string>();
  readonly counts: HostCounts = emptyCounts();
  /** In check mode: changes predicted without knowing their effect on the host (package installs, commands). */
  readonly speculative: string[] = [];
  /** In check mode: every change predicted so far on this host (exactly known or not). */
  readonly predicted: string[] = [];
  /** In check mode: registered names and facts whose values come from tasks check mode did not really run. */
  readonly unknownResults = new Set<string>();
  /** How often each task ran on this host, to name its observations (see observationKey). */
  readonly occurrences = new Map<string, number>();
  private connection?: Promise<Host>;
  private controller?: Host;

  constructor(
    readonly name: string,
    readonly inventoryVars: Record<string, unknown>,
    private readonly open: () => Promise<Host>,
    private readonly check: boolean,
  ) {}

  get active(): boolean {
    return !this.failed && !this.unreachable && !this.ended;
  }

  /** Failed or unreachable: what failure limits count. */
  get lost(): boolean {
    return this.failed || this.unreachable;
  }

  /** The connection, opened on first use and kept for the run. In check mode reads see predicted writes. */
  host(): Promise<Host> {
    this.connection ??= this.open().then((h) => (this.check ? new PredictedHost(h) : h));
    this.connection.catch(() => {});
    return this.connection;
  }

  /** `connection: local`: the controller stands in for this host. */
  hostFor(connection: string | undefined): Promise<Host> {
    if (connection === undefined || connection === 'ssh') return this.host();
    if (connection !== 'local') throw new Error(`connection: '${connection}' is not supported (plinth knows local and ssh)`);
    this.controller ??= this.check ? new PredictedHost(new LocalHost(this.name)) : new LocalHost(this.name);
    return Promise.resolve(this.controller);
  }

  async close(): Promise<void> {
    if (!this.connection) return;
    const h = await this.connection.catch(() => null);
    await h?.close().catch(() => {});
  }
}
