// The run's connections, by host name: each host is connected once and the connection is shared
// by every play. A host can be connected ahead of its first task (`prefetch`): while the
// playbook's roles are still loading, or while earlier plays run, the handshakes go on.
import type { Host } from '../types.js';
import type { Inventory } from '../load/inventory.js';
import { openConnection } from '../connection/open-connection.js';
import { selectHosts } from './patterns.js';

export type Connect = (name: string, vars: Record<string, unknown>) => Promise<Host>;

export class Connections {
  private readonly opened = new Map<string, Promise<Host>>();
  /** Handed to the run: from then on the run closes it. */
  private readonly taken = new Set<string>();

  constructor(
    private readonly inventory: Inventory,
    private readonly o: {
      /** plinth.cfg's connection defaults, below the inventory's variables. */
      hostDefaults?: Record<string, unknown>;
      /** --limit: hosts outside it are never connected ahead. */
      limited?: Set<string> | null;
      /** Hosts connected ahead of need, at most. */
      forks: number;
      connect?: Connect;
    },
  ) {}

  /** The connection variables of a host: plinth.cfg's defaults, then the inventory's (a host only delegated to connects locally). */
  varsOf(name: string): Record<string, unknown> {
    return this.inventory.hosts.has(name) ? { ...this.o.hostDefaults, ...this.inventory.varsOf(name) } : { ansible_connection: 'local' };
  }

  /** The run's connection to a host: the one opened ahead, or a new one. */
  readonly connect: Connect = (name, vars) => {
    this.taken.add(name);
    return this.open(name, vars);
  };

  /**
   * Starts connecting, in the background, to the hosts of a play's pattern (within --limit): at
   * most `forks` hosts ahead of need in all, the first ones named. More would compete with the
   * hosts the run is busy with (500 hosts: handshakes ran late, some past their timeout); the
   * run connects the others when it reaches them. A failure is kept for the first task that
   * needs the host, which reports it; a pattern that does not resolve fails when its play starts.
   */
  prefetch(pattern: string): void {
    let names: string[];
    try {
      names = selectHosts(this.inventory, pattern).filter((h) => !this.o.limited || this.o.limited.has(h));
    } catch {
      return;
    }
    for (const name of names) {
      if (this.opened.size >= this.o.forks) return;
      if (this.opened.has(name)) continue;
      const started = (this.o.connect ?? openConnection)(name, this.varsOf(name));
      started.catch(() => {});
      this.opened.set(name, started);
    }
  }

  /** Closes the connections opened ahead that the run never asked for (it closes the others). */
  async closeUnused(): Promise<void> {
    const unused = [...this.opened].filter(([name]) => !this.taken.has(name));
    for (const [name] of unused) this.opened.delete(name);
    await Promise.all(unused.map(async ([, p]) => (await p.catch(() => null))?.close().catch(() => {})));
  }

  private open(name: string, vars: Record<string, unknown>): Promise<Host> {
    let p = this.opened.get(name);
    if (!p) {
      p = (this.o.connect ?? openConnection)(name, vars);
      p.catch(() => {});
      this.opened.set(name, p);
    }
    return p;
  }
}
