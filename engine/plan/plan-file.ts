// A saved plan: what a check-mode run saw and would change, per host and task, so that it can
// be reviewed in a pull request and applied later exactly as planned. It pins the sources the
// run read and, per host and task, the rendered arguments, the planned action and the state the
// action was planned from; apply compares a fresh survey with it before it changes anything.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Diff } from '../types.js';
import type { HostCounts, RunEvent, TaskStatus } from '../run/events.js';
import type { TaskObserver, TaskStep } from '../run/task.js';
import { fingerprintOf, observationText } from './fingerprint.js';
import { renderDiff } from '../report/diff.js';
import { redactor } from '../secrets/redact.js';
import { sources } from '../load/sources.js';
import { UserError } from '../user-error.js';

export const PLAN_FORMAT = 'plinth-plan/3';

/** Observations longer than this are pinned by their fingerprint only (a drift then shows no diff). */
const MAX_SNAPSHOT_CHARS = 100_000;

export interface PlannedTask {
  host: string;
  play: string;
  task: string;
  file: string;
  module: string;
  status: TaskStatus;
  summary?: string;
  message?: string;
  diffs: Diff[];
  handler?: boolean;
}

/** One task (or loop item) on one host, as the plan pins it. */
export interface PinnedStep {
  /** file:line of the task, [loop index], #occurrence. */
  key: string;
  task: string;
  module: string;
  status: TaskStatus;
  summary?: string;
  message?: string;
  /** Digest of the rendered arguments, taken with secrets redacted. */
  args?: string;
  /** Digest of the planned action: status, summary and diffs. */
  action: string;
  /** Fingerprint of the state the action was planned from, when it was observed on the host as it is. */
  observed?: string;
  /** That state as redacted text, to show what drifted; not kept for tasks that handle secrets. */
  snapshot?: string;
  /** delegate_to: the host the task acted on. */
  delegate?: string;
}

export interface PlanFile {
  format: typeof PLAN_FORMAT;
  created: string;
  /** What to run again on apply, relative to the repository root. Extra vars are not stored (they may hold secrets): pass the same -e again. */
  playbook: string;
  /** The -i sources (a single string in plans made before -i could be repeated). */
  inventory?: string[];
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  /** Random key of this plan's digests (HMAC): the digests of -e values and task arguments can't be matched against guesses. */
  salt: string;
  /** Keyed hash of the extra vars, so apply can tell when it was given different ones. */
  extraVarsDigest: string;
  /** Every file the run read (relative to the repository root) → digest of its content. */
  sources: Record<string, string>;
  hosts: Record<string, HostCounts>;
  tasks: PlannedTask[];
  /** host → the tasks run on it, in order. */
  steps: Record<string, PinnedStep[]>;
}

/** Collects a plan from a check-mode run: its events and every task it decided. */
export class PlanRecorder implements TaskObserver {
  readonly tasks: PlannedTask[] = [];
  /** host → key → step; a task retried with `until` keeps its last attempt. */
  private readonly steps = new Map<string, Map<string, PinnedStep>>();
  hosts: Record<string, HostCounts> = {};

  /** A new plan gets a new salt; the apply of a plan records with the plan's, to compare digests. */
  constructor(readonly salt = randomBytes(16).toString('hex')) {}

  step(host: string, s: TaskStep): void {
    let byKey = this.steps.get(host);
    if (!byKey) this.steps.set(host, (byKey = new Map()));
    byKey.set(s.key, pin(s, this.salt));
  }

  onEvent(e: RunEvent): void {
    if (e.type === 'result') {
      this.tasks.push({
        host: e.host,
        play: e.play,
        task: e.task,
        file: sources.displayText(e.where),
        module: e.module,
        status: e.status,
        summary: e.summary,
        message: e.message === undefined ? undefined : sources.displayText(e.message),
        diffs: e.diffs ?? [],
        ...(e.handler ? { handler: true } : {}),
      });
    } else if (e.type === 'recap') {
      this.hosts = e.hosts;
    }
  }

  /** host → the steps recorded, in order, as a plan pins them. */
  pinnedSteps(): Record<string, PinnedStep[]> {
    return Object.fromEntries([...this.steps].map(([host, byKey]) => [host, [...byKey.values()]]));
  }

  toFile(meta: Omit<PlanFile, 'format' | 'created' | 'salt' | 'hosts' | 'tasks' | 'steps'>): PlanFile {
    return redactor.redactValue({
      format: PLAN_FORMAT,
      created: new Date().toISOString(),
      salt: this.salt,
      ...meta,
      hosts: this.hosts,
      tasks: this.tasks,
      steps: this.pinnedSteps(),
    });
  }
}

function pin(s: TaskStep, salt: string): PinnedStep {
  // Only states the plan knows exactly are pinned: not those predicted from changes it could not model.
  const exact = s.observed !== undefined && s.exact && (s.status === 'ok' || s.status === 'changed');
  const snapshot = exact && !s.secret && !s.noLog ? redactor.redact(observationText(s.observed)) : undefined;
  const shown = !s.noLog;
  return {
    key: s.key,
    task: s.task,
    module: s.module,
    status: s.status,
    ...(s.summary && shown ? { summary: redactor.redact(s.summary) } : {}),
    ...(s.message && shown ? { message: redactor.redact(sources.displayText(s.message)) } : {}),
    // A read-only task (a status query, a wait for replay past an LSN) changes nothing: its arguments
    // and output may follow live data; that it runs, and whether it passes, is what the plan pins.
    ...(s.args && !s.readOnly ? { args: fingerprintOf(redactor.redactValue(s.args), salt) } : {}),
    action: fingerprintOf(redactor.redactValue(s.readOnly ? { status: s.status } : { status: s.status, summary: s.summary, diffs: s.diffs }), salt),
    ...(exact ? { observed: fingerprintOf(s.observed, salt) } : {}),
    ...(snapshot !== undefined && snapshot.length <= MAX_SNAPSHOT_CHARS ? { snapshot } : {}),
    ...(s.delegate ? { delegate: s.delegate } : {}),
  };
}

/** How a fresh survey differs from a plan. */
export interface PlanDifferences {
  /** Differences no flag overrides: sources, arguments, actions, tasks. */
  changed: string[];
  /** host → what drifted on it: the first task that observes a state other than the plan's, with a diff. */
  drifted: Map<string, string>;
}

export function planDifferences(plan: PlanFile, now: PlanFile): PlanDifferences {
  const changed = sourceDifferences(plan.sources, now.sources);
  const drifted = new Map<string, string>();
  const actionOnly = new Map<string, string>();
  for (const host of new Set([...Object.keys(plan.steps), ...Object.keys(now.steps)])) {
    const d = firstDifference(host, plan.steps[host] ?? [], now.steps[host] ?? []);
    if (!d) continue;
    if (d.kind === 'drift') drifted.set(host, d.text);
    else if (d.kind === 'action') actionOnly.set(host, d.text);
    else changed.push(d.text);
  }
  // With the same sources, arguments and observed state, a task plans the same action; when
  // another host drifted, what this host's tasks plan may follow from that host's state.
  for (const [host, text] of actionOnly) {
    if (drifted.size > 0) drifted.set(host, `${host} depends on a host that drifted: ${text}`);
    else changed.push(text);
  }
  return { changed, drifted };
}

function sourceDifferences(planned: Record<string, string>, now: Record<string, string>): string[] {
  const out: string[] = [];
  for (const [name, digest] of Object.entries(planned)) {
    if (!(name in now)) out.push(`${name} was read for the plan but is not read now`);
    else if (now[name] !== digest) out.push(`${name} changed since the plan`);
  }
  for (const name of Object.keys(now)) if (!(name in planned)) out.push(`${name} is read now but was not read for the plan`);
  return out;
}

interface StepDifference {
  kind: 'tasks' | 'arguments' | 'action' | 'drift';
  text: string;
}

/** The first way a host's tasks now differ from its planned tasks; later ones may follow from it. */
function firstDifference(host: string, planned: PinnedStep[], now: PinnedStep[]): StepDifference | undefined {
  for (let i = 0; i < Math.max(planned.length, now.length); i++) {
    const p = planned[i];
    const n = now[i];
    if (!p) return { kind: 'tasks', text: `${host}: task "${n.task}" (${n.key}) would run now but is not in the plan` };
    if (!n) return { kind: 'tasks', text: `${host}: task "${p.task}" (${p.key}) is in the plan but would not run now` };
    if (p.key !== n.key) return { kind: 'tasks', text: `${host}: the plan has task "${p.task}" (${p.key}) where task "${n.task}" (${n.key}) would run now` };
    if (p.args !== n.args) return { kind: 'arguments', text: `${host}: the arguments of task "${p.task}" (${p.key}) differ from the plan's` };
    if (p.observed !== n.observed) return { kind: 'drift', text: driftText(host, p, n) };
    if (p.action !== n.action) {
      return { kind: 'action', text: `${host}: task "${p.task}" (${p.key}) planned ${describe(p)}, would now be ${describe(n)}` };
    }
  }
  return undefined;
}

function describe(s: PinnedStep): string {
  const detail = s.status === 'failed' || s.status === 'unknown' ? (s.message ?? s.summary) : s.summary;
  return detail ? `${s.status} (${detail})` : s.status;
}

function driftText(host: string, p: PinnedStep, n: PinnedStep): string {
  const head = `${host} drifted since the plan: task "${p.task}" (${p.key}) observes a different state`;
  if (p.snapshot !== undefined && n.snapshot !== undefined) {
    return `${head} (before: when planned, after: now):\n${renderDiff({ target: `state observed by ${p.key}`, before: p.snapshot, after: n.snapshot }, false)}`;
  }
  if (p.observed === undefined) return `${head}: the plan could only predict it, now it is known (${describe(n)})`;
  if (n.observed === undefined) return `${head}: now ${describe(n)}`;
  return `${head} (not shown: the task handles secrets)`;
}

/** How the real pass of an apply differed from its plan: what ran unreviewed. */
export interface AppliedDifferences {
  /** A definite plan the apply did not keep (Terraform's "inconsistent result"): an error. */
  inconsistent: string[];
  /** Tasks the plan left unknown until apply that changed the host: reviewed by their desired state only. */
  decidedAtApply: string[];
}

/**
 * Compares the steps an apply really took with the plan's: a task that changed where the plan
 * said ok or skipped, that found nothing to do where the plan said changed, that changed with
 * another action, or that ran without being planned (or the reverse). Two "ok" are the same
 * whatever they read (a query's row count follows live data), and so are "ok" and "skipped"
 * (a stat check mode made before a package created the file). A failed task is already the
 * run's error and is not listed again.
 */
export function appliedDifferences(plan: PlanFile, applied: Record<string, PinnedStep[]>): AppliedDifferences {
  const inconsistent: string[] = [];
  const decidedAtApply: string[] = [];
  for (const host of new Set([...Object.keys(plan.steps), ...Object.keys(applied)])) {
    const planned = new Map((plan.steps[host] ?? []).map((p) => [p.key, p]));
    const done = new Map((applied[host] ?? []).map((r) => [r.key, r]));
    for (const [key, r] of done) {
      const p = planned.get(key);
      if (r.status === 'failed' || r.status === 'unreachable') continue;
      const what = `${host}: task "${r.task}" (${key})`;
      if (!p) inconsistent.push(`${what} ran (${describe(r)}) but is not in the plan`);
      else if (p.status === 'unknown') {
        if (r.status === 'changed') decidedAtApply.push(`${what}: ${describe(r)}`);
      } else if (p.status !== r.status && !(changesNothing(p) && changesNothing(r))) inconsistent.push(`${what} was planned ${describe(p)}, apply: ${describe(r)}`);
      else if (r.status === 'changed' && p.action !== r.action) {
        const same = describe(p) === describe(r);
        inconsistent.push(`${what} was planned ${describe(p)}, apply ${same ? 'made a change other than the reviewed diff' : `did something else: ${describe(r)}`}`);
      }
    }
    const failed = [...done.values()].some((r) => r.status === 'failed' || r.status === 'unreachable');
    for (const [key, p] of planned) {
      // After a failure the host's later tasks do not run: that is the failure, not a difference.
      if (!done.has(key) && !failed) inconsistent.push(`${host}: task "${p.task}" (${key}) was planned ${describe(p)} but did not run`);
    }
  }
  return { inconsistent, decidedAtApply };
}

/** ok and skipped leave the host as it was: a task planned as one and run as the other did what was reviewed. */
function changesNothing(s: PinnedStep): boolean {
  return s.status === 'ok' || s.status === 'skipped';
}

class DriftError extends UserError {
  constructor(message: string) {
    super(message);
    this.name = 'DriftError';
  }
}

/** A plan whose sources, tasks, arguments or actions differ from what apply would run now. */
export class StalePlanError extends UserError {
  override name = 'StalePlanError';
}

/** Applying a plan: hosts a survey found drifted are stopped at their first task. */
export class DriftGuard implements TaskObserver {
  constructor(private readonly drifted: Map<string, string>) {}

  beforeTask(host: string): void {
    const what = this.drifted.get(host);
    if (what) throw new DriftError(`${what}\nnothing is changed on ${host}: plan again, or apply with --allow-drift`);
  }
}

/** The keyed digest of a value (the extra vars), with a plan's salt. */
export function digestOf(value: unknown, salt: string): string {
  return fingerprintOf(value ?? {}, salt);
}

export async function readPlan(file: string): Promise<PlanFile> {
  let plan: PlanFile;
  try {
    plan = JSON.parse(await fs.readFile(file, 'utf8')) as PlanFile;
  } catch (e) {
    throw new UserError(`cannot read the plan ${file}: ${(e as Error).message}`, { file });
  }
  if (plan.format !== PLAN_FORMAT) throw new StalePlanError(`${file} is not a plinth plan of this version (format ${String(plan.format)}; expected ${PLAN_FORMAT}): plan again`);
  return plan;
}
