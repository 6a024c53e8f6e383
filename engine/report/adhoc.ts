// The compact per-host output of `plinth adhoc`, shaped like Ansible's ad-hoc output:
//   pg-primary | CHANGED | rc=0 >>        (command and shell: their output follows)
//   pgpool | SUCCESS => {"ping":"pong"}   (other modules: their result, on one line)
import type { RunEvent } from '../run/events.js';
import { renderDiff } from './diff.js';
import type { Reporter, ReporterOptions } from './reporter.js';

const LABEL: Record<string, string> = { ok: 'SUCCESS', changed: 'CHANGED', failed: 'FAILED!', unreachable: 'UNREACHABLE!', skipped: 'SKIPPED', unknown: 'UNKNOWN' };
const COMMANDS = new Set(['command', 'shell', 'raw']);
/** What every result holds: not worth a line. */
const NOISE = new Set(['changed', 'failed', 'skipped', 'stdout_lines', 'stderr_lines', 'cmd', 'invocation']);

export class AdhocReporter implements Reporter {
  constructor(private readonly o: ReporterOptions) {}

  onEvent(e: RunEvent): void {
    if (e.type !== 'result') return;
    const label = `${e.host} | ${LABEL[e.status] ?? e.status.toUpperCase()}${e.predicted ? ' (check mode)' : ''}`;
    const result = e.result ?? {};
    let text: string;
    if (COMMANDS.has(e.module) && typeof result.rc === 'number') {
      const out = [result.stdout, result.stderr].filter((s) => typeof s === 'string' && s !== '').join('\n');
      text = `${label} | rc=${result.rc} >>\n${out ? `${out}\n` : ''}`;
    } else if (e.status === 'failed' || e.status === 'unreachable' || e.status === 'unknown') {
      // The one-task play is plinth's, not the user's: its file:line says nothing to them.
      const file = e.where.replace(/:\d+$/, '');
      text = `${label} => ${(e.message ?? '').replace(`${file}:`, '').replace(/^\d+:\d+: /, '')}\n`;
    } else {
      const shown = Object.fromEntries(Object.entries(result).filter(([k]) => !NOISE.has(k)));
      const summary = e.status === 'changed' && e.summary ? ` | ${e.summary}` : '';
      text = `${label}${summary}${Object.keys(shown).length ? ` => ${JSON.stringify(shown)}` : ''}\n`;
    }
    if (this.o.diff && e.diffs?.length) for (const d of e.diffs) text += `${renderDiff(d, this.o.colour)}\n`;
    this.o.write(text);
  }

  async finish(): Promise<void> {}
}
