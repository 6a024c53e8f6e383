// Every file:line a user reads (plain lines, the TTY, --json, plan files, reports) names the file
// relative to the repository root, as plan.json does: the run's events are told that way once,
// before any reporter sees them.
import type { RunEvent } from '../run/events.js';
import { sources } from '../load/sources.js';

export function withDisplayPaths(e: RunEvent): RunEvent {
  const shown = { ...e } as RunEvent & { where?: string; message?: string };
  if (typeof shown.where === 'string') shown.where = sources.displayText(shown.where);
  if (typeof shown.message === 'string') shown.message = sources.displayText(shown.message);
  return shown;
}
