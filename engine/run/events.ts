// What a run tells its reporters. Every text in an event is already redacted.
import type { Diff } from '../types.js';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable' | 'unknown';

export interface TaskResultEvent {
  type: 'result';
  play: string;
  host: string;
  task: string;
  /** file:line of the task. */
  where: string;
  module: string;
  status: TaskStatus;
  summary?: string;
  diffs?: Diff[];
  message?: string;
  /** Loop item label, when the task loops. */
  item?: string;
  ignored?: boolean;
  handler?: boolean;
  /** The task's `diff: true`: its diffs are shown even without --diff (`diff: false` sends none). */
  diff?: boolean;
  /** Check mode reported this change without applying it. */
  predicted?: boolean;
  /** The result the module returned (shown with -v; redacted; withheld for no_log tasks). */
  result?: Record<string, unknown>;
  durationMs: number;
}

export interface HostCounts {
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  unreachable: number;
  unknown: number;
  ignored: number;
  rescued: number;
}

export type RunEvent =
  | { type: 'play'; name: string; hosts: string[]; where: string }
  | { type: 'task'; play: string; name: string; where: string; hosts: string[]; handler?: boolean }
  | TaskResultEvent
  | { type: 'log'; host?: string; message: string }
  | { type: 'recap'; hosts: Record<string, HostCounts>; interrupted?: boolean; durationMs: number };

export function emptyCounts(): HostCounts {
  return { ok: 0, changed: 0, failed: 0, skipped: 0, unreachable: 0, unknown: 0, ignored: 0, rescued: 0 };
}
