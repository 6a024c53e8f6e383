// A saved plan: what a check-mode run saw and would change, per host and task, so that it can
// be reviewed in a pull request and applied later exactly as planned.
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { Diff } from '../types.js';
import type { HostCounts, RunEvent, TaskStatus } from '../run/events.js';
import type { TaskObserver } from '../run/task.js';
import { fingerprintOf } from './fingerprint.js';
import { redactor } from '../secrets/redact.js';

export const PLAN_FORMAT = 'plinth-plan/1';

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

export interface PlanFile {
  format: typeof PLAN_FORMAT;
  created: string;
  /** What to run again on apply. Extra vars are not stored (they may hold secrets): pass the same -e again. */
  playbook: string;
  /** The -i sources (a single string in plans made before -i could be repeated). */
  inventory?: string[] | string;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  /** Hash of the extra vars, so apply can tell when it was given different ones. */
  extraVarsDigest: string;
  hosts: Record<string, HostCounts>;
  tasks: PlannedTask[];
  /** host → observation key → fingerprint of the state the plan was made from. */
  fingerprints: Record<string, Record<string, string>>;
}

/** Collects a plan from a check-mode run: its events and its observations. */
export class PlanRecorder implements TaskObserver {
  readonly tasks: PlannedTask[] = [];
  readonly fingerprints: Record<string, Record<string, string>> = {};
  hosts: Record<string, HostCounts> = {};

  /** Only states the plan knows exactly are recorded: not those predicted from changes it could not model. */
  after(host: string, key: string, observed: unknown, outcome: { status: string; exact: boolean }): void {
    if (!outcome.exact || (outcome.status !== 'ok' && outcome.status !== 'changed')) return;
    (this.fingerprints[host] ??= {})[key] = fingerprintOf(observed);
  }

  onEvent(e: RunEvent): void {
    if (e.type === 'result') {
      this.tasks.push({
        host: e.host,
        play: e.play,
        task: e.task,
        file: e.where,
        module: e.module,
        status: e.status,
        summary: e.summary,
        message: e.message,
        diffs: e.diffs ?? [],
        ...(e.handler ? { handler: true } : {}),
      });
    } else if (e.type === 'recap') {
      this.hosts = e.hosts;
    }
  }

  toFile(meta: Omit<PlanFile, 'format' | 'created' | 'hosts' | 'tasks' | 'fingerprints'>): PlanFile {
    return redactor.redactValue({
      format: PLAN_FORMAT,
      created: new Date().toISOString(),
      ...meta,
      hosts: this.hosts,
      tasks: this.tasks,
      fingerprints: this.fingerprints,
    });
  }
}

export class DriftError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DriftError';
  }
}

/** Applying a plan: every observation must match the plan's, or the host stops. */
export class DriftGuard implements TaskObserver {
  /** host → what drifted first. */
  readonly driftedHosts = new Map<string, string>();

  constructor(
    private readonly plan: PlanFile,
    private readonly allowDrift: boolean,
    private readonly warn: (message: string) => void,
    /** Hosts a survey found drifted: they are stopped at their first task, before anything changes. */
    private readonly knownDrift = new Map<string, string>(),
  ) {}

  beforePlan(host: string, key: string, observed: unknown): void {
    const earlier = this.knownDrift.get(host);
    if (earlier && !this.allowDrift) this.refuse(host, earlier);
    const planned = this.plan.fingerprints[host]?.[key];
    // Tasks the plan could only predict (after a package install, say) have nothing to compare.
    if (planned === undefined) return;
    const now = fingerprintOf(observed);
    if (planned === now) return;
    const what = `${host} drifted since the plan: the task at ${key} observed a different state (planned ${planned.slice(0, 12)}, now ${now.slice(0, 12)})`;
    if (!this.driftedHosts.has(host)) this.driftedHosts.set(host, what);
    if (this.allowDrift) {
      this.warn(`warning: ${what}; applying anyway (--allow-drift)`);
      return;
    }
    this.refuse(host, what);
  }

  private refuse(host: string, what: string): never {
    throw new DriftError(`${what}; nothing is changed on ${host}: plan again, or apply with --allow-drift`);
  }
}

export function digestOf(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value ?? {})).digest('hex').slice(0, 32);
}

export async function readPlan(file: string): Promise<PlanFile> {
  let plan: PlanFile;
  try {
    plan = JSON.parse(await fs.readFile(file, 'utf8')) as PlanFile;
  } catch (e) {
    throw new Error(`cannot read the plan ${file}: ${(e as Error).message}`);
  }
  if (plan.format !== PLAN_FORMAT) throw new Error(`${file} is not a plinth plan (format ${String(plan.format)}; expected ${PLAN_FORMAT})`);
  return plan;
}
