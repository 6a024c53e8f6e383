// --json: one JSON object per line on stdout, for every task result (with the value `register`
// would hold, redacted), then the recap.
import type { RunEvent } from '../run/events.js';
import type { Reporter } from './reporter.js';
import { sources } from '../load/sources.js';

export class JsonReporter implements Reporter {
  constructor(private readonly write: (line: string) => void) {}

  onEvent(e: RunEvent): void {
    if (e.type === 'result') {
      this.write(
        JSON.stringify({
          type: 'result',
          play: e.play,
          host: e.host,
          task: e.task,
          file: sources.displayText(e.where),
          module: e.module,
          status: e.status,
          ...(e.ignored ? { ignored: true } : {}),
          ...(e.handler ? { handler: true } : {}),
          ...(e.predicted ? { predicted: true } : {}),
          summary: e.summary ?? null,
          diff: e.diffs?.length ? e.diffs : null,
          message: e.message === undefined ? null : sources.displayText(e.message),
          // What `register` gives the task's variable (no_log tasks: only that it is censored).
          result: e.result ?? null,
          duration_ms: e.durationMs,
        }) + '\n',
      );
    } else if (e.type === 'recap') {
      this.write(JSON.stringify({ type: 'recap', hosts: e.hosts, interrupted: !!e.interrupted, duration_ms: e.durationMs }) + '\n');
    }
  }

  async finish(): Promise<void> {}
}
