// Plans of day-2 changes on a converged cluster (issue 13, case 2): `plinth plan` of a pull request,
// then `plinth apply` of that plan right away. Each applies cleanly (no drift: the restarts the
// apply itself makes are expected) with exactly the planned changes, and the plan is exact: check
// mode models what the run's own restarts, reloads and pgpool's reload + attach leave, and apply
// itself fails when its real pass differs from the plan (an inconsistent result).
// Needs root; runs when PLINTH_LAB=1. The tests share one lab and run in order.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import YAML from 'yaml';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  growLab,
  HOOK_TIMEOUT_MS,
  LabSession,
  PRIMARY,
  REPLICAS,
  SITE,
  expectReplicated,
  expectStreamingFirst1,
  expectSuccess,
  hostSql,
  appName,
  newSecrets,
  resultKey,
  type RunResult,
} from '../helpers/lab-cluster.js';
import type { PlanFile, PlannedTask } from '../../engine/plan/plan-file.js';

const NEW_REPLICA = 'pg-replica-3';
const ADD_REPLICA = 'playbooks/add-replica.yml';
const key = (t: { host: string; task: string; play: string; handler?: boolean }) => resultKey(t);

describe('plan, then apply, of day-2 changes on a converged cluster', { timeout: 20 * 60_000 }, () => {
  let lab: LabSession;
  let secretsFile: string;

  beforeAll(async () => {
    lab = await LabSession.open('plan-converged');
    secretsFile = await lab.writeSecrets('secrets.yml', newSecrets());
    expectSuccess(await lab.run('converge', [secretsFile]));
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await lab?.close();
  }, 5 * 60_000);

  /** A pull request's change, as a vars file: plan it, check the plan, apply it, compare. */
  async function planThenApply(name: string, change: Record<string, unknown>): Promise<{ plan: PlanFile; applied: RunResult }> {
    const vars = path.join(lab.tmp, `${name}.yml`);
    await fs.writeFile(vars, YAML.stringify(change));
    const planFile = path.join(lab.tmp, `${name}.plan.json`);
    const report = path.join(lab.tmp, `${name}.md`);
    const made = await lab.plinth(`plan ${name}`, ['plan', '-i', lab.inventory, SITE, '-e', `@${secretsFile}`, '-e', `@${vars}`, '-o', planFile, '--report', report, '--detailed-exitcode']);
    expect(made.code, made.stderr.slice(-3000)).toBe(2);
    const plan = JSON.parse(await fs.readFile(planFile, 'utf8')) as PlanFile;
    lab.keep(`${name}: plan file`, JSON.stringify(plan));
    const markdown = await fs.readFile(report, 'utf8');
    lab.keep(`${name}: report`, markdown);
    expect(markdown).not.toMatch(/`\/[^`]*\.yml:\d+`/);

    const applied = await lab.plinth(`apply ${name}`, ['apply', planFile, '-e', `@${secretsFile}`, '-e', `@${vars}`]);
    expectSuccess(applied);
    expect(applied.stdout + applied.stderr).not.toMatch(/drift|stale|inconsistent|left unknown/);

    const planned = plan.tasks
      .filter((t) => t.status === 'changed')
      .map(key)
      .sort();
    const mayChange = new Set(plan.tasks.filter((t) => t.status === 'changed' || t.status === 'unknown').map(key));
    const made2 = applied.results
      .filter((e) => e.status === 'changed')
      .map(resultKey)
      .sort();
    const notMade = planned.filter((k) => !made2.includes(k));
    const unknown = plan.tasks.filter((t) => t.status === 'unknown');
    const exact = plan.tasks.length - unknown.length;
    console.log(
      `figure: ${name} on a converged cluster: planned exactly ${exact} of ${plan.tasks.length} (${percent(exact, plan.tasks.length)}); ` +
        `changes planned ${planned.length}, applied ${made2.length}, identical: ${JSON.stringify(made2) === JSON.stringify(planned)}; ` +
        `planned but not needed: ${notMade.join('; ') || 'none'}; unknown: ${unknown.map(key).join('; ') || 'none'}`,
    );
    // Exactly the planned changes were made, and nothing was left unknown.
    expect(made2.filter((k) => !mayChange.has(k))).toEqual([]);
    expect(notMade).toEqual([]);
    expect(unknown.map(key)).toEqual([]);
    return { plan, applied };
  }

  test('a restart-required setting (max_connections): the restarts of the apply itself are not drift', async () => {
    const { plan, applied } = await planThenApply('max-connections', { pg_extra_settings: { max_connections: 200 } });
    const made = applied.results
      .filter((e) => e.status === 'changed')
      .map(resultKey)
      .sort();
    // Both standbys and the primary restart once: the second pass of the rolling restart finds nothing pending.
    expect(made).toEqual(
      plan.tasks
        .filter((t: PlannedTask) => t.status === 'changed')
        .map(key)
        .sort(),
    );
    expect(plan.tasks.filter((t) => t.status === 'changed' && t.module === 'postgres_restart').map((t) => t.summary)).toEqual([
      expect.stringMatching(/^\(pg-replica-\d\) restart standby for max_connections 100 → 200; \(pg-replica-\d\) restart standby for max_connections 100 → 200$/),
      'restart for max_connections 100 → 200',
    ]);
    for (const h of [PRIMARY, ...REPLICAS]) expect(await hostSql(h, 'SHOW max_connections')).toEqual([['200']]);
    await expectStreamingFirst1(REPLICAS);
    await expectReplicated(REPLICAS);
  });

  test('a pg_hba rule: applied with exactly the planned changes', async () => {
    const { plan, applied } = await planThenApply('hba-rule', { pg_extra_settings: { max_connections: 200 }, pg_app_networks: ['10.77.0.0/16'] });
    expect(
      applied.results
        .filter((e) => e.status === 'changed')
        .map(resultKey)
        .sort(),
    ).toEqual(
      plan.tasks
        .filter((t) => t.status === 'changed')
        .map(key)
        .sort(),
    );
    const diff = plan.tasks
      .filter((t) => t.status === 'changed')
      .flatMap((t) => t.diffs)
      .map((d) => d.after)
      .join('\n');
    expect(diff).toContain('10.77.0.0/16');
    const rules = await hostSql(PRIMARY, "SELECT count(*) FROM pg_hba_file_rules WHERE address = '10.77.0.0'");
    expect(rules).not.toEqual([['0']]);
  });

  test('a new replica (add-replica.yml): existing hosts planned exactly, the new host shows what it will ensure', async () => {
    const grown = await growLab(lab.tmp, NEW_REPLICA);
    const vars = path.join(lab.tmp, 'hba-rule.yml');
    const planFile = path.join(lab.tmp, 'add-replica.plan.json');
    const made = await lab.plinth('plan add-replica', ['plan', '-i', grown, ADD_REPLICA, '-e', `@${secretsFile}`, '-e', `@${vars}`, '-o', planFile, '--detailed-exitcode']);
    expect(made.code, made.stderr.slice(-3000)).toBe(2);
    const plan = JSON.parse(await fs.readFile(planFile, 'utf8')) as PlanFile;
    lab.keep('add-replica: plan file', JSON.stringify(plan));
    const existing = plan.tasks.filter((t) => t.host !== NEW_REPLICA);
    const fresh = plan.tasks.filter((t) => t.host === NEW_REPLICA);
    // Exactness of the existing hosts, step by step (a loop item delegated to the new host is the new host's).
    const existingSteps = Object.entries(plan.steps)
      .flatMap(([host, steps]) => steps.map((st) => ({ host, ...st })))
      .filter((st) => (st.delegate ?? st.host) !== NEW_REPLICA);
    const existingUnknown = existingSteps.filter((st) => st.status === 'unknown');
    const pending = fresh.filter((t) => t.status === 'changed' || t.status === 'unknown');
    const shown = pending.filter((t) => t.diffs.length > 0);
    for (const t of fresh.filter((x) => x.status === 'unknown')) expect(t.message ?? '', key(t)).not.toMatch(/sudo:|stderr|Error:/);
    const basebackup = fresh.find((t) => t.module === 'basebackup');
    // "clone from the primary as replicator, application_name ...", the password never shown.
    const clone = basebackup?.diffs.map((d) => d.after).join('\n') ?? '';
    expect(clone).toMatch(/^primary_host: \S+$/m);
    expect(clone).toContain('replication_user: replicator');
    expect(clone).toContain(`application_name: ${appName(NEW_REPLICA)}`);
    expect(clone).toContain('replication_password: (secret)');
    const exactExisting = existingSteps.length - existingUnknown.length;
    console.log(
      `figure: add-replica.yml: existing hosts planned exactly ${exactExisting} of ${existingSteps.length} steps (${percent(exactExisting, existingSteps.length)}); ` +
        `unknown: ${existingUnknown.map((st) => `${st.host}: ${st.task} (${st.message})`).join('; ') || 'none'}; ` +
        `the new host: ${pending.length} pending (${fresh.filter((t) => t.status === 'unknown').length} unknown), desired state shown for ${shown.length} of ${pending.length}`,
    );
    expect(pending.filter((t) => t.diffs.length === 0).map(key)).toEqual([]);
    // The one gap, counted above: the primary's own wait for every standby in pg_stat_replication, a
    // check that changes nothing and waits for the new standby, which only the apply clones. Every
    // step of the existing hosts that may change them is exact.
    expect(existingUnknown.filter((st) => !/the until condition is not met yet/.test(st.message ?? '')).map((st) => `${st.host}: ${st.task}`)).toEqual([]);
    expect(existingUnknown.length).toBeLessThanOrEqual(1);

    const applied = await lab.plinth('apply add-replica', ['apply', planFile, '-e', `@${secretsFile}`, '-e', `@${vars}`]);
    expectSuccess(applied);
    expect(applied.stdout + applied.stderr).not.toMatch(/drift|stale|inconsistent/);
    // On the existing hosts: exactly the planned changes, pgpool's reload and attach included.
    const madeExisting = applied.results
      .filter((e) => e.host !== NEW_REPLICA && e.status === 'changed')
      .map(resultKey)
      .sort();
    const plannedExisting = existing
      .filter((t) => t.status === 'changed')
      .map(key)
      .sort();
    console.log(
      `figure: add-replica.yml: changes planned on existing hosts ${plannedExisting.length}, applied ${madeExisting.length}, identical: ${JSON.stringify(madeExisting) === JSON.stringify(plannedExisting)}`,
    );
    // A task of an existing host with a loop item on the new host may be unknown as a whole; apply's
    // own comparison (no "inconsistent result" above) holds every step to its plan.
    const unknownTasks = new Set(existing.filter((t) => t.status === 'unknown').map(key));
    expect(plannedExisting.filter((k) => !madeExisting.includes(k))).toEqual([]);
    expect(madeExisting.filter((k) => !plannedExisting.includes(k) && !unknownTasks.has(k))).toEqual([]);
    expect(plannedExisting).toEqual(
      expect.arrayContaining([
        'pgpool: reload pgpool [pgpool-II in front of the cluster, handler]',
        'pgpool: pgpool attaches added backends and detaches removed ones [pgpool-II in front of the cluster, handler]',
      ]),
    );
    expect(plannedExisting.filter((k) => /restart pgpool|pgpool starts again/.test(k))).toEqual([]);
    const allowed = new Set(pending.map(key));
    expect(
      applied.results
        .filter((e) => e.host === NEW_REPLICA && e.status === 'changed')
        .map(resultKey)
        .filter((k) => !allowed.has(k)),
    ).toEqual([]);
    await expectStreamingFirst1([...REPLICAS, NEW_REPLICA]);
  });
});

function percent(n: number, of: number): string {
  return `${of === 0 ? 100 : Math.round((n / of) * 1000) / 10}%`;
}
