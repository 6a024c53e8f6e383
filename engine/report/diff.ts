// Unified diffs of a change, coloured on a terminal. Secret diffs are never rendered.
import { createTwoFilesPatch } from 'diff';
import type { Diff } from '../types.js';

const RED = '\x1b[31m';
const GREEN = '\x1b[32m';
const CYAN = '\x1b[36m';
const RESET = '\x1b[0m';

export function renderDiff(d: Diff, colour: boolean): string {
  if (d.secret) return `--- ${d.target}\n+++ ${d.target}\n(content hidden: it holds a secret)\n`;
  const before = withNewline(d.before);
  const after = withNewline(d.after);
  const patch = createTwoFilesPatch(`before: ${d.target}`, `after: ${d.target}`, before, after, '', '', { context: 3 });
  const lines = patch.split('\n').filter((l) => !/^=+$/.test(l) && l !== '\\ No newline at end of file');
  if (!colour) return lines.join('\n');
  return lines
    .map((l) => {
      if (l.startsWith('+++') || l.startsWith('---')) return l;
      if (l.startsWith('+')) return GREEN + l + RESET;
      if (l.startsWith('-')) return RED + l + RESET;
      if (l.startsWith('@@')) return CYAN + l + RESET;
      return l;
    })
    .join('\n');
}

function withNewline(s: string): string {
  return s === '' || s.endsWith('\n') ? s : `${s}\n`;
}
