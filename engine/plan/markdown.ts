// The Markdown summary of a plan, for a pull-request comment: a table of hosts, then one
// collapsible section per changed task with its diff, kept under GitHub's comment limit.
import type { PlanFile } from './plan-file.js';
import { renderDiff } from '../report/diff.js';
import { redactor } from '../secrets/redact.js';

/** GitHub refuses comments over 65536 characters; keep room for the header and the notes. */
const MAX_REPORT_CHARS = 60000;
const MAX_DIFF_LINES = 60;

export function planMarkdown(plan: PlanFile, maxChars = MAX_REPORT_CHARS): string {
  const hosts = Object.entries(plan.hosts);
  const changed = plan.tasks.filter((t) => t.status === 'changed');
  const unknown = plan.tasks.filter((t) => t.status === 'unknown');
  const failed = plan.tasks.filter((t) => t.status === 'failed' || t.status === 'unreachable');
  const head = [
    `## plinth plan: \`${plan.playbook}\``,
    '',
    `${changed.length} change${changed.length === 1 ? '' : 's'} pending on ${new Set(changed.map((t) => t.host)).size} of ${hosts.length} hosts` +
      (unknown.length ? `, ${unknown.length} unknown until apply` : '') +
      (failed.length ? `, **${failed.length} failed**` : '') +
      '.',
    '',
    '| host | changed | ok | unknown | failed | unreachable | skipped |',
    '|---|---:|---:|---:|---:|---:|---:|',
    ...hosts.map(([h, c]) => `| ${h} | ${c.changed} | ${c.ok} | ${c.unknown} | ${c.failed} | ${c.unreachable} | ${c.skipped} |`),
    '',
  ];
  const sections: string[] = [];
  for (const t of [...failed, ...changed, ...unknown]) {
    const title = `${t.status === 'changed' ? '🟡' : t.status === 'unknown' ? '⚪' : '🔴'} <code>${escapeHtml(t.host)}</code> ${escapeHtml(t.task)} — ${escapeHtml(t.summary ?? t.status)}`;
    const body: string[] = [`<details><summary>${title}</summary>`, '', `\`${t.file}\` (${t.module})`, ''];
    if (t.message && t.status !== 'changed') body.push(`> ${t.message.split('\n').join('\n> ')}`, '');
    // A restart changes no text (the unit is active before and after): no empty diff block for it.
    for (const d of t.diffs.filter((x) => x.secret || x.before !== x.after)) {
      const lines = renderDiff(d, false).split('\n');
      const shown = lines.slice(0, MAX_DIFF_LINES);
      body.push('```diff', ...shown, '```');
      if (lines.length > MAX_DIFF_LINES) body.push(`_diff truncated: ${lines.length - MAX_DIFF_LINES} more lines; run \`plinth plan\` with \`--diff\` to see all_`);
    }
    body.push('', '</details>');
    sections.push(body.join('\n'));
  }
  let out = head.join('\n');
  let omitted = 0;
  for (const s of sections) {
    if (out.length + s.length + 200 > maxChars) {
      omitted++;
      continue;
    }
    out += `\n${s}\n`;
  }
  if (omitted) out += `\n_${omitted} more section${omitted === 1 ? '' : 's'} omitted to fit a comment; the full plan is in the plan file._\n`;
  return redactor.redact(out);
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
