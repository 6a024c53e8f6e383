// On a terminal: a listr2 task list per task (one line per host, live), then diffs and the recap.
import { Listr } from 'listr2';
import type { RunEvent, TaskResultEvent } from '../run/events.js';
import { PlainReporter } from './plain.js';
import type { Reporter, ReporterOptions } from './reporter.js';
import { renderDiff } from './diff.js';

interface Pending {
  resolve: (e: TaskResultEvent) => void;
  promise: Promise<TaskResultEvent>;
}

export class TtyReporter implements Reporter {
  private queue: Promise<void> = Promise.resolve();
  private pending = new Map<string, Pending>();
  private readonly plain: PlainReporter;

  constructor(private readonly o: ReporterOptions) {
    this.plain = new PlainReporter(o);
  }

  onEvent(e: RunEvent): void {
    if (e.type === 'task') {
      // Results are matched by host: under strategy free, hosts are at different tasks at once.
      const pending = new Map(e.hosts.map((h) => [h, deferred()]));
      for (const [host, d] of pending) this.pending.set(host, d);
      const list = new Listr(
        e.hosts.map((host) => ({
          title: host,
          task: async (_ctx: unknown, task: { title: string; skip: (m?: string) => void; output?: string }) => {
            const r = await pending.get(host)!.promise;
            const status = r.status === 'failed' && r.ignored ? 'failed (ignored)' : r.status;
            const detail = r.status === 'failed' || r.status === 'unknown' ? r.message : r.summary && r.status !== 'ok' ? r.summary : undefined;
            task.title = `${host}: ${status}${detail ? ` — ${detail}` : ''}`;
            if (r.status === 'skipped') task.skip(`${host}: skipped`);
            if ((r.status === 'failed' && !r.ignored) || r.status === 'unreachable') throw new Error(r.message ?? r.status);
          },
        })),
        { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
      );
      const title = `${e.handler ? 'HANDLER' : 'TASK'} [${e.name}]`;
      this.queue = this.queue.then(async () => {
        this.o.write(`\n${title}\n`);
        await list.run().catch(() => {});
      });
      return;
    }
    if (e.type === 'result') {
      this.pending.get(e.host)?.resolve(e);
      this.pending.delete(e.host);
      if ((e.diff ?? this.o.diff) && e.diffs?.length) {
        const text = e.diffs.map((d) => renderDiff(d, this.o.colour)).join('\n');
        this.queue = this.queue.then(() => this.o.write(`${text}\n`));
      }
      return;
    }
    this.queue = this.queue.then(() => this.plain.onEvent(e));
  }

  async finish(): Promise<void> {
    await this.queue;
  }
}

function deferred(): Pending {
  let resolve!: (e: TaskResultEvent) => void;
  const promise = new Promise<TaskResultEvent>((r) => (resolve = r));
  return { resolve, promise };
}
