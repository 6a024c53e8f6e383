// Plain lines, as ansible-playbook prints them: for pipes, CI logs and --json's stderr.
import type { RunEvent, TaskResultEvent } from '../run/events.js';
import { renderDiff } from './diff.js';
import { renderRecap } from './recap.js';
import type { Reporter, ReporterOptions } from './reporter.js';

const COLOURS: Record<string, string> = { ok: '32', changed: '33', failed: '31', unreachable: '31', skipped: '36', unknown: '35' };

export class PlainReporter implements Reporter {
  constructor(private readonly o: ReporterOptions) {}

  onEvent(e: RunEvent): void {
    const w = this.o.write;
    switch (e.type) {
      case 'play':
        w(`\nPLAY [${e.name}] ${'*'.repeat(Math.max(3, 60 - e.name.length))}${this.o.check ? ' (check mode)' : ''}\n`);
        if (e.hosts.length === 0) w('skipping: no hosts matched\n');
        break;
      case 'task':
        w(`\n${e.handler ? 'RUNNING HANDLER' : 'TASK'} [${e.name}] ${'*'.repeat(Math.max(3, 56 - e.name.length))}\n`);
        if (this.o.verbose > 0) w(`task path: ${e.where}\n`);
        break;
      case 'result':
        w(this.resultText(e));
        break;
      case 'log':
        if (this.o.verbose > 0) w(`${e.host ? `[${e.host}] ` : ''}${e.message}\n`);
        break;
      case 'recap':
        w(`${renderRecap(e.hosts, this.o.colour)}\n`);
        if (e.interrupted) w('\nInterrupted: tasks in flight were finished, no new task was started.\n');
        break;
    }
  }

  resultText(e: TaskResultEvent): string {
    const label = e.status === 'failed' && e.ignored ? 'failed (ignored)' : e.status === 'skipped' ? 'skipping' : e.status === 'unreachable' ? 'fatal' : e.status === 'failed' ? 'fatal' : e.status;
    const head = this.paint(COLOURS[e.status], `${label}: [${e.host}]`);
    let text = head;
    if (e.summary && (e.status === 'changed' || e.status === 'unknown')) text += ` ${e.summary}`;
    if (e.status === 'failed' || e.status === 'unreachable' || e.status === 'unknown') text += e.message ? ` => ${e.message}` : '';
    else if (e.module === 'debug' && e.result) text += ` => ${JSON.stringify(shownByDebug(e.result), null, 4)}`;
    else if (e.message && this.o.verbose > 0) text += ` => ${e.message}`;
    text += '\n';
    if (this.o.verbose > 0 && e.result) text += `${JSON.stringify(e.result, null, 2)}\n`;
    if ((e.diff ?? this.o.diff) && e.diffs?.length) for (const d of e.diffs) text += `${renderDiff(d, this.o.colour)}\n`;
    return text;
  }

  private paint(code: string | undefined, text: string): string {
    return this.o.colour && code ? `\x1b[${code}m${text}\x1b[0m` : text;
  }

  async finish(): Promise<void> {}
}

/** What debug printed, as Ansible shows it: `{"msg": ...}` or `{"<var>": value}`, without changed and failed. */
function shownByDebug(result: Record<string, unknown>): Record<string, unknown> {
  const { changed: _changed, failed: _failed, ...shown } = result;
  return shown;
}
