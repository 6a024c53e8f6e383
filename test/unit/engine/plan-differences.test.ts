// How a fresh survey differs from a saved plan, as data: which differences refuse the apply
// outright (sources, tasks, arguments, actions) and which are host drift (--allow-drift).
import { describe, expect, it } from 'vitest';
import { planDifferences, PLAN_FORMAT, type PinnedStep, type PlanFile } from '../../../engine/plan/plan-file.js';
import { planMarkdown } from '../../../engine/plan/markdown.js';

const step = (key: string, over: Partial<PinnedStep> = {}): PinnedStep => ({
  key,
  task: `task ${key}`,
  module: 'copy',
  status: 'changed',
  args: `args-${key}`,
  action: `action-${key}`,
  observed: `observed-${key}`,
  ...over,
});

const plan = (steps: Record<string, PinnedStep[]>, sources: Record<string, string> = { 'site.yml': 'a' }): PlanFile => ({
  format: PLAN_FORMAT,
  created: '',
  salt: '',
  playbook: 'site.yml',
  extraVarsDigest: '',
  sources,
  hosts: {},
  tasks: [],
  steps,
});

const base = plan({ h1: [step('site.yml:3'), step('site.yml:9')], h2: [step('site.yml:3')] });

describe('planDifferences', () => {
  it('finds nothing between a plan and the same survey', () => {
    expect(planDifferences(base, structuredClone(base))).toEqual({ changed: [], drifted: new Map() });
  });

  it('names a changed, a missing and a new source', () => {
    const now = plan(base.steps, { 'site.yml': 'b', 'roles/x/tasks/main.yml': 'c' });
    const withRole = plan(base.steps, { 'site.yml': 'a', 'templates/t.ejs': 'd' });
    expect(planDifferences(withRole, now).changed).toEqual([
      'site.yml changed since the plan',
      'templates/t.ejs was read for the plan but is not read now',
      'roles/x/tasks/main.yml is read now but was not read for the plan',
    ]);
  });

  it('a task absent from the plan, or planned and absent now, is a difference', () => {
    const extra = plan({ ...base.steps, h2: [step('site.yml:3'), step('site.yml:12')] });
    expect(planDifferences(base, extra).changed).toEqual(['h2: task "task site.yml:12" (site.yml:12) would run now but is not in the plan']);
    const missing = plan({ ...base.steps, h1: [step('site.yml:3')] });
    expect(planDifferences(base, missing).changed).toEqual(['h1: task "task site.yml:9" (site.yml:9) is in the plan but would not run now']);
  });

  it('changed arguments refuse the apply even when the host also drifted', () => {
    const now = plan({ ...base.steps, h1: [step('site.yml:3', { args: 'other', observed: 'other' }), step('site.yml:9')] });
    const d = planDifferences(base, now);
    expect(d.changed).toEqual(['h1: the arguments of task "task site.yml:3" (site.yml:3) differ from the plan\'s']);
    expect(d.drifted.size).toBe(0);
  });

  it('a different observed state is drift of that host only, shown as a diff of the snapshots', () => {
    const planned = plan({ ...base.steps, h1: [step('site.yml:3', { snapshot: 'content: |\n  a = 1\n' }), step('site.yml:9')] });
    const now = plan({ ...base.steps, h1: [step('site.yml:3', { observed: 'x', action: 'y', snapshot: 'content: |\n  a = 1\n  b = 2\n' }), step('site.yml:9')] });
    const d = planDifferences(planned, now);
    expect(d.changed).toEqual([]);
    expect([...d.drifted.keys()]).toEqual(['h1']);
    expect(d.drifted.get('h1')).toContain('h1 drifted since the plan: task "task site.yml:3" (site.yml:3) observes a different state');
    expect(d.drifted.get('h1')).toMatch(/^\+ {2}b = 2$/m);
  });

  it('an action that differs with the same arguments and state refuses, unless another host drifted', () => {
    const now = plan({ ...base.steps, h2: [step('site.yml:3', { action: 'other', status: 'ok' })] });
    expect(planDifferences(base, now).changed).toEqual(['h2: task "task site.yml:3" (site.yml:3) planned changed, would now be ok']);
    const alsoDrift = plan({ h1: [step('site.yml:3', { observed: 'x' }), step('site.yml:9')], h2: [step('site.yml:3', { action: 'other', status: 'ok' })] });
    const d = planDifferences(base, alsoDrift);
    expect(d.changed).toEqual([]);
    expect([...d.drifted.keys()].sort()).toEqual(['h1', 'h2']);
    expect(d.drifted.get('h2')).toMatch(/^h2 depends on a host that drifted/);
  });
});

describe('planMarkdown', () => {
  it('shows no empty diff block for a restart, and the desired state of an unknown task', () => {
    const md = planMarkdown({
      ...plan({}),
      hosts: { h1: { ok: 0, changed: 1, failed: 0, skipped: 0, unreachable: 0, unknown: 1, ignored: 0, rescued: 0 } },
      tasks: [
        {
          host: 'h1',
          play: 'p',
          task: 'restart postgresql',
          file: 'roles/postgresql/handlers/main.yml:1',
          module: 'systemd',
          status: 'changed',
          summary: 'restart postgresql@15-main',
          diffs: [{ target: 'unit postgresql@15-main', before: 'active\n', after: 'active\n' }],
          handler: true,
        },
        {
          host: 'h1',
          play: 'p',
          task: 'settings',
          file: 'roles/postgresql/tasks/main.yml:14',
          module: 'postgres_conf',
          status: 'unknown',
          summary: 'unknown until apply',
          message: 'unknown until apply: depends on X',
          diffs: [{ target: 'postgres_conf: what it will ensure', before: '', after: 'settings:\n  max_connections: 200\n' }],
        },
      ],
    });
    const restart = md.slice(md.indexOf('restart postgresql'), md.indexOf('</details>', md.indexOf('restart postgresql')));
    expect(restart).not.toContain('```diff');
    expect(md).toContain('+  max_connections: 200');
    expect(md).toContain('`roles/postgresql/tasks/main.yml:14` (postgres_conf)');
  });
});
