// `plinth plan`: a check-mode run saved as a plan (and a Markdown report for a pull request);
// `plinth apply PLAN`: the same run for real, refusing hosts whose state drifted since the plan.
import { promises as fs } from 'node:fs';
import type { Command } from 'commander';
import { addRunOptions, executePlaybook, exitCodeOf, type RunFlags } from './run-command.js';
import { DriftGuard, PlanRecorder, digestOf, readPlan } from '../plan/plan-file.js';
import { planMarkdown } from '../plan/markdown.js';
import { ExitCode, UsageError } from './exit-codes.js';

interface PlanFlags extends RunFlags {
  out?: string;
  report?: string;
  detailedExitcode?: boolean;
}

interface ApplyFlags extends RunFlags {
  allowDrift?: boolean;
}

export function registerPlanCommands(program: Command): void {
  addRunOptions(
    program
      .command('plan')
      .description('plan a playbook (check mode) and save the plan: the state it was made from and every change, with diffs')
      .argument('<playbook>', 'playbook file')
      .option('-o, --out <file>', 'write the plan (JSON) to this file')
      .option('--report <file>', 'write a Markdown summary for a pull-request comment')
      .option('--detailed-exitcode', 'exit 0 when nothing would change, 2 when changes are pending, 1 on errors'),
  ).action(async (playbook: string, flags: PlanFlags) => {
    process.exitCode = await planCommand(playbook, flags);
  });

  addRunOptions(
    program
      .command('apply')
      .description('apply a saved plan: re-observe each task first and stop a host whose state drifted since the plan')
      .argument('<plan>', 'plan file written by `plinth plan -o`')
      .option('--allow-drift', 'apply even where the host changed since the plan (prints what drifted)'),
  ).action(async (planFile: string, flags: ApplyFlags) => {
    process.exitCode = await applyCommand(planFile, flags);
  });
}

async function planCommand(playbook: string, flags: PlanFlags): Promise<number> {
  const recorder = new PlanRecorder();
  let extraVarsDigest = '';
  const summary = await executePlaybook(playbook, flags, {
    check: true,
    observer: recorder,
    onEvent: (e) => recorder.onEvent(e),
    onExtraVars: (v) => (extraVarsDigest = digestOf(v)),
  });
  if (!summary) return ExitCode.Ok;
  const plan = recorder.toFile({
    playbook,
    inventory: flags.inventory,
    limit: flags.limit,
    tags: flags.tags?.split(','),
    skipTags: flags.skipTags?.split(','),
    extraVarsDigest,
  });
  if (flags.out) await writeAtomic(flags.out, JSON.stringify(plan, null, 2) + '\n');
  if (flags.report) await writeAtomic(flags.report, planMarkdown(plan));
  const code = exitCodeOf(summary);
  if (!flags.detailedExitcode) return code;
  if (code !== ExitCode.Ok) return ExitCode.Error;
  return plan.tasks.some((t) => t.status === 'changed' || t.status === 'unknown') ? 2 : 0;
}

async function applyCommand(planFile: string, flags: ApplyFlags): Promise<number> {
  const plan = await readPlan(planFile);
  if (flags.check) throw new UsageError('apply changes hosts; to preview, use `plinth plan`');
  const merged: RunFlags = {
    ...flags,
    inventory: flags.inventory ?? (plan.inventory === undefined ? undefined : [plan.inventory].flat()),
    limit: flags.limit ?? plan.limit,
    tags: flags.tags ?? plan.tags?.join(','),
    skipTags: flags.skipTags ?? plan.skipTags?.join(','),
  };
  const sameExtraVars = (v: Record<string, unknown>) => {
    if (digestOf(v) !== plan.extraVarsDigest && !flags.allowDrift) {
      throw new UsageError('the extra vars (-e) differ from the ones the plan was made with: pass the same -e options, or --allow-drift');
    }
  };
  const warn = (m: string) => process.stderr.write(`${m}\n`);
  // First every planned task is observed again, changing nothing: a host that drifted anywhere
  // is then stopped at its first task, before any of its changes is applied.
  const survey = new DriftGuard(plan, true, () => {});
  await executePlaybook(plan.playbook, merged, { check: true, quiet: true, observer: survey, onExtraVars: sameExtraVars });
  const guard = new DriftGuard(plan, !!flags.allowDrift, warn, survey.driftedHosts);
  const summary = await executePlaybook(plan.playbook, merged, { observer: guard, onExtraVars: sameExtraVars });
  return summary ? exitCodeOf(summary) : ExitCode.Ok;
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.plinth-${process.pid}`;
  await fs.writeFile(tmp, content, { mode: 0o644 });
  await fs.rename(tmp, file);
}
