// The PLAY RECAP table: one line per host with its counts.
import type { HostCounts } from '../run/events.js';

export function renderRecap(hosts: Record<string, HostCounts>, colour: boolean): string {
  const names = Object.keys(hosts);
  const width = Math.max(4, ...names.map((n) => n.length));
  const paint = (code: string, text: string, on: boolean) => (colour && on ? `\x1b[${code}m${text}\x1b[0m` : text);
  const lines = ['', 'PLAY RECAP ' + '*'.repeat(60)];
  for (const name of names) {
    const c = hosts[name];
    const bad = c.failed > 0 || c.unreachable > 0;
    lines.push(
      [
        paint(bad ? '31' : c.changed ? '33' : '32', name.padEnd(width), true),
        ':',
        paint('32', `ok=${c.ok + c.changed}`.padEnd(8), c.ok + c.changed > 0),
        paint('33', `changed=${c.changed}`.padEnd(11), c.changed > 0),
        paint('31', `unreachable=${c.unreachable}`.padEnd(15), c.unreachable > 0),
        paint('31', `failed=${c.failed}`.padEnd(10), c.failed > 0),
        paint('36', `skipped=${c.skipped}`.padEnd(11), c.skipped > 0),
        paint('35', `unknown=${c.unknown}`.padEnd(11), c.unknown > 0),
        `rescued=${c.rescued}`.padEnd(11),
        `ignored=${c.ignored}`,
      ].join(' '),
    );
  }
  return lines.join('\n');
}
