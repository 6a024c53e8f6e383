// `plinth plan` and `plinth apply` of site.yml on the lab (issue 8): a plan made on bare hosts says
// changes are pending (exit 2), changes nothing, and its Markdown report holds no secret; applying
// the saved plan converges the cluster as a direct run does; a host whose state changed between
// plan and apply is refused (the drift message, exit 2) until --allow-drift.
// Needs root; runs when PLINTH_LAB=1. The tests share one lab and run in order.
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  HOOK_TIMEOUT_MS,
  LabSession,
  PRIMARY,
  REPLICAS,
  labAddress,
  SITE,
  changedCount,
  expectPoolNodesUp,
  expectReplicated,
  expectStreamingFirst1,
  expectSuccess,
  log,
  newSecrets,
  onHost,
  psqlAt,
  randomSecret,
  resultKey,
  viaPgpool,
  eventually,
  type Secrets,
} from '../helpers/lab-cluster.js';
import type { PlanFile, PlannedTask } from '../../engine/plan/plan-file.js';

// Addresses as the suite's lab assigned them (its subnet is its own).
let PRIMARY_ADDRESS = '';
let REPLICA_ADDRESSES: string[] = [];
const POOL_HBA = '/etc/pgpool2/pool_hba.conf';

const key = (t: { host: string; task: string; play: string; handler?: boolean }) => resultKey(t);

function countBy(tasks: PlannedTask[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const t of tasks) out[t.status] = (out[t.status] ?? 0) + 1;
  return out;
}

describe('plinth plan, then apply of exactly that plan, for site.yml on bare lab hosts', { timeout: 15 * 60_000 }, () => {
  let lab: LabSession;
  let secrets: Secrets;
  let secretsFile: string;
  let plan: PlanFile;
  const t0 = Date.now();

  async function makePlan(label: string, vars: string, name: string): Promise<{ code: number | null; plan: PlanFile; report: string; file: string }> {
    const file = path.join(lab.tmp, `${name}.json`);
    const reportFile = path.join(lab.tmp, `${name}.md`);
    const r = await lab.plinth(label, ['plan', '-i', lab.inventory, SITE, '-e', `@${vars}`, '-o', file, '--report', reportFile, '--detailed-exitcode']);
    const text = await fs.readFile(file, 'utf8');
    const report = await fs.readFile(reportFile, 'utf8');
    lab.keep(`${label}: plan file`, text);
    lab.keep(`${label}: report`, report);
    return { code: r.code, plan: JSON.parse(text) as PlanFile, report, file };
  }

  beforeAll(async () => {
    lab = await LabSession.open('plan');
    [PRIMARY_ADDRESS, ...REPLICA_ADDRESSES] = await Promise.all([PRIMARY, ...REPLICAS].map(labAddress));
    secrets = newSecrets();
    secretsFile = await lab.writeSecrets('secrets.yml', secrets);
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    log(`plan suite: ${Math.round((Date.now() - t0) / 1000)} s`);
    await lab?.close();
  }, 5 * 60_000);

  let planFile: string;

  test('plan on bare hosts: exit 2 (changes pending), nothing changed, a report without secrets', async () => {
    const made = await makePlan('plan on bare hosts', secretsFile, 'plan');
    plan = made.plan;
    planFile = made.file;
    expect(made.code).toBe(2);

    for (const h of [PRIMARY, ...REPLICAS]) expect(await onHost(h, 'test -e /etc/postgresql && echo yes || echo no')).toBe('no\n');
    expect(await onHost('pgpool', 'test -e /etc/pgpool2 && echo yes || echo no')).toBe('no\n');

    expect(Object.keys(plan.hosts).sort()).toEqual([PRIMARY, ...REPLICAS, 'pgpool'].sort());
    expect(plan.tasks.some((t) => t.status === 'failed')).toBe(false);
    for (const t of plan.tasks.filter((x) => x.status === 'unknown')) expect(t.message ?? '', key(t)).not.toBe('');
    // The report: the hosts table, then a section per pending change.
    expect(made.report).toMatch(/^## plinth plan: `playbooks\/site\.yml`/);
    for (const h of Object.keys(plan.hosts)) expect(made.report).toContain(`| ${h} |`);
    expect(made.report).toContain('PostgreSQL packages are installed');
    expect(made.report).toContain('unknown until apply');

    // Unknown tasks still show what they will ensure; their reasons are written for the operator.
    const unknownTasks = plan.tasks.filter((t) => t.status === 'unknown');
    const shown = unknownTasks.filter((t) => t.diffs.length > 0);
    for (const t of unknownTasks) expect(t.message ?? '', key(t)).not.toMatch(/sudo:|stderr|Error:/);
    console.log(
      `figure: site.yml on bare lab hosts: desired state shown for ${plan.tasks.filter((t) => t.status === 'changed').length + shown.length} of ${plan.tasks.filter((t) => t.status === 'changed' || t.status === 'unknown').length} pending tasks (${shown.length} of ${unknownTasks.length} unknown ones): ${
        unknownTasks
          .filter((t) => t.diffs.length === 0)
          .map(key)
          .join('; ') || 'all'
      }`,
    );
    expect(unknownTasks.filter((t) => t.diffs.length === 0).map(key)).toEqual([]);

    const byStatus = countBy(plan.tasks);
    const perHost = Object.entries(plan.hosts).map(([h, c]) => `${h} ${c.changed} changed/${c.unknown} unknown/${c.ok} ok`);
    console.log(
      `plan of site.yml on bare lab hosts: ${plan.tasks.length} task results; planned exactly: ` +
        `${(byStatus.changed ?? 0) + (byStatus.ok ?? 0)} (${byStatus.changed ?? 0} changes, ${byStatus.ok ?? 0} ok), ` +
        `unknown until apply: ${byStatus.unknown ?? 0}, skipped: ${byStatus.skipped ?? 0} — ${perHost.join('; ')}`,
    );
  });

  test('apply of the saved plan converges the cluster as a direct run does; a run after it changes nothing', async () => {
    const applied = await lab.plinth('apply', ['apply', planFile, '-e', `@${secretsFile}`]);
    expectSuccess(applied);

    const planned = new Map(plan.tasks.map((t) => [key(t), t.status as string]));
    const made = applied.results.filter((e) => e.status === 'changed');
    const madeKeys = new Set(made.map(resultKey));
    expect(
      plan.tasks
        .filter((t) => t.status === 'changed')
        .map(key)
        .filter((k) => !madeKeys.has(k)),
    ).toEqual([]);
    expect(made.filter((e) => ['ok', 'skipped'].includes(planned.get(resultKey(e)) ?? '')).map(resultKey)).toEqual([]);
    expect(made.filter((e) => !e.handler && !['changed', 'unknown'].includes(planned.get(resultKey(e)) ?? '')).map(resultKey)).toEqual([]);
    const exact = made.filter((e) => planned.get(resultKey(e)) === 'changed').length;
    const unknown = made.filter((e) => planned.get(resultKey(e)) === 'unknown').length;
    const unlisted = made.filter((e) => !planned.has(resultKey(e)));
    console.log(
      `plan accuracy (site.yml, bare hosts): apply made ${made.length} changes: ${exact} planned exactly, ` +
        `${unknown} planned as unknown until apply, ${unlisted.length} not in the plan (${unlisted.map(resultKey).join('; ') || 'none'})`,
    );

    await expectStreamingFirst1(REPLICAS);
    await expectReplicated(REPLICAS);
    await expectPoolNodesUp(secrets.app_password, PRIMARY_ADDRESS, REPLICA_ADDRESSES);

    const again = await lab.run('run after apply', [secretsFile]);
    expectSuccess(again);
    expect(again.results.filter((e) => e.status === 'changed').map(resultKey)).toEqual([]);
    expect(changedCount(again)).toBe(0);

    const replan = await makePlan('plan on the converged cluster', secretsFile, 'plan-converged');
    expect(replan.code).toBe(0);
  });

  test('apply stops a host whose file changed since the plan, with the drift message; --allow-drift applies it', async () => {
    const old = secrets.app_password;
    secrets = { ...secrets, app_password: randomSecret('app2') };
    const newFile = await lab.writeSecrets('secrets-2.yml', secrets);
    const made = await makePlan('plan with a new app_password', newFile, 'plan-password');
    expect(made.code).toBe(2);
    const pending = made.plan.tasks.filter((t) => t.status === 'changed').map((t) => `${t.host}: ${t.task}`);
    expect(pending).toContain('pgpool: Encrypted passwords in pool_passwd (pg_enc -m)');
    const poolHbaTask = made.plan.tasks.find((t) => t.host === 'pgpool' && t.task === 'pool_hba.conf');
    expect(poolHbaTask?.status).toBe('ok');

    // Someone edits a file that a planned task manages, between plan and apply.
    const marker = `# edited by hand after the plan ${Date.now()}`;
    await onHost('pgpool', `echo '${marker}' >> ${POOL_HBA}`);
    const poolPasswd = await onHost('pgpool', 'cat /etc/pgpool2/pool_passwd');

    const refused = await lab.plinth('apply after drift', ['apply', made.file, '-e', `@${newFile}`]);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stdout + refused.stderr).toMatch(/pgpool drifted since the plan: task "pool_hba.conf" \(roles\/[^)]+\) observes a different state/);
    // What drifted is shown as a diff of the observed state: the hand-edited line, not hashes.
    expect(refused.stdout + refused.stderr).toMatch(new RegExp(`^\\+ +${marker}$`, 'm'));
    expect(refused.stdout + refused.stderr).toMatch(/nothing is changed on pgpool: plan again, or apply with --allow-drift/);
    expect(refused.recap?.pgpool.failed).toBe(1);
    for (const h of [PRIMARY, ...REPLICAS]) expect(refused.recap?.[h].failed, h).toBe(0);
    // Nothing of pgpool's plan was applied: the hand edit and the old pool_passwd are still there.
    expect(await onHost('pgpool', `cat ${POOL_HBA}`)).toContain(marker);
    expect(await onHost('pgpool', 'cat /etc/pgpool2/pool_passwd')).toBe(poolPasswd);

    const forced = await lab.plinth('apply --allow-drift', ['apply', made.file, '-e', `@${newFile}`, '--allow-drift']);
    expectSuccess(forced);
    expect(forced.stderr).toMatch(/warning: pgpool drifted since the plan: [\s\S]*applying anyway \(--allow-drift\)/);
    expect(await onHost('pgpool', `cat ${POOL_HBA}`)).not.toContain(marker);
    expect(await onHost('pgpool', 'cat /etc/pgpool2/pool_passwd')).not.toBe(poolPasswd);
    await eventually(async () => expect(await viaPgpool(secrets.app_password, 'SELECT current_user')).toEqual([['app']]));
    const oldRefused = await psqlAt({ password: old, sql: 'SELECT 1' });
    expect(oldRefused.code).not.toBe(0);
  });

  test('no secret value (nor its base64 or URL-encoded form) in any output, plan file or report', () => {
    expect(lab.secretValues.size).toBe(4);
    const outputs = lab.outputs.filter((o) => o.label.endsWith('stdout'));
    expect(outputs.length).toBe(7); // 3 plans, 3 applies, 1 run
    expect(lab.outputs.filter((o) => o.label.endsWith('report')).length).toBe(3);
    for (const o of lab.outputs) expect(lab.leaks(o.text), o.label).toEqual([]);
    expect(lab.leaks(`x ${Buffer.from(secrets.pgpool_key).toString('base64')} y`)).not.toEqual([]);
  });
});
