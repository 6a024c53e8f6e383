// `plinth plan`: a check-mode run saved as a plan (and a Markdown report for a pull request);
// `plinth apply PLAN`: the same run for real, only when it would do what the plan says.
import { existsSync, promises as fs } from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { addRunOptions, executePlaybook, exitCodeOf, type RunFlags } from './run-command.js';
import { DriftGuard, PlanRecorder, StalePlanError, appliedDifferences, digestOf, planDifferences, readPlan, type PlanFile } from '../plan/plan-file.js';
import { planMarkdown } from '../plan/markdown.js';
import { repositoryRootOf, sources } from '../load/sources.js';
import { PLINTH_ROOT } from '../paths.js';
import { ExitCode, UsageError } from './exit-codes.js';

interface PlanFlags extends RunFlags {
  out?: string;
  report?: string;
  detailedExitcode?: boolean;
}

interface ApplyFlags extends RunFlags {
  allowDrift?: boolean;
}

/** How many differences a refused apply lists. */
const MAX_LISTED = 20;

export function registerPlanCommands(program: Command): void {
  addRunOptions(
    program
      .command('plan')
      .description("plan a playbook (check mode) and save the plan: the sources it read, every task's arguments and action, the state it was made from")
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
      .description('apply a saved plan: refused before any change when a source, a task or its arguments changed; a host whose state drifted since the plan is stopped')
      .argument('<plan>', 'plan file written by `plinth plan -o`')
      .option('--allow-drift', "apply even where a host's state changed since the plan (prints what drifted); never overrides a changed source or task"),
  ).action(async (planFile: string, flags: ApplyFlags) => {
    process.exitCode = await applyCommand(planFile, flags);
  });
}

async function planCommand(playbook: string, flags: PlanFlags): Promise<number> {
  const plan = await survey(playbook, flags, { root: repositoryRootOf(playbook), quiet: false });
  if (!plan) return ExitCode.Ok;
  if (flags.out) await writeAtomic(flags.out, JSON.stringify(plan.file, null, 2) + '\n');
  if (flags.report) await writeAtomic(flags.report, planMarkdown(plan.file));
  const code = plan.code;
  if (!flags.detailedExitcode) return code;
  if (code !== ExitCode.Ok) return ExitCode.Error;
  return plan.file.tasks.some((t) => t.status === 'changed' || t.status === 'unknown') ? 2 : 0;
}

/** A check-mode run recorded as a plan. */
async function survey(playbook: string, flags: RunFlags, o: { root: string; quiet: boolean; salt?: string }): Promise<{ file: PlanFile; code: number } | undefined> {
  const recorder = new PlanRecorder(o.salt);
  let extraVarsDigest = '';
  const summary = await executePlaybook(playbook, flags, {
    check: true,
    quiet: o.quiet,
    root: o.root,
    observer: recorder,
    onEvent: (e) => recorder.onEvent(e),
    onExtraVars: (v) => (extraVarsDigest = digestOf(v, recorder.salt)),
  });
  if (!summary) return undefined;
  // Sources that are not paths (a host list "web1,web2,") are kept as written.
  const inventory = flags.inventory?.map((i) => (existsSync(i) ? sources.display(i) : i));
  const file = recorder.toFile({
    playbook: sources.display(playbook),
    inventory,
    limit: flags.limit,
    tags: flags.tags?.split(','),
    skipTags: flags.skipTags?.split(','),
    extraVarsDigest,
    sources: sources.digests(),
  });
  return { file, code: exitCodeOf(summary) };
}

async function applyCommand(planFile: string, flags: ApplyFlags): Promise<number> {
  const plan = await readPlan(planFile);
  if (flags.check) throw new UsageError('apply changes hosts; to preview, use `plinth plan`');
  const root = locateRoot(plan, planFile);
  sources.begin(root);
  const playbook = sources.resolve(plan.playbook);
  const merged: RunFlags = {
    ...flags,
    inventory: flags.inventory ?? plan.inventory?.map((i) => (existsSync(sources.resolve(i)) ? sources.resolve(i) : i)),
    limit: flags.limit ?? plan.limit,
    tags: flags.tags ?? plan.tags?.join(','),
    skipTags: flags.skipTags ?? plan.skipTags?.join(','),
  };
  // First every task is planned again, changing nothing, and compared with the plan: apply goes
  // ahead only when it would run the reviewed tasks with the reviewed arguments and actions.
  const now = await survey(playbook, merged, { root, quiet: true, salt: plan.salt });
  if (!now) return ExitCode.Ok;
  const refusals: string[] = [];
  if (now.file.extraVarsDigest !== plan.extraVarsDigest) refusals.push('the extra vars (-e) differ from the ones the plan was made with: pass the same -e options');
  const { changed, drifted } = planDifferences(plan, now.file);
  refusals.push(...changed);
  if (refusals.length) throw new StalePlanError(`the plan is stale: nothing was changed; plan again and review the new plan\n${listed(refusals)}`);
  for (const what of drifted.values()) {
    if (flags.allowDrift) process.stderr.write(`warning: ${what}\napplying anyway (--allow-drift)\n`);
  }
  const guard = new DriftGuard(flags.allowDrift ? new Map() : drifted);
  const real = new PlanRecorder(plan.salt);
  const summary = await executePlaybook(playbook, merged, {
    observer: { beforeTask: (host) => guard.beforeTask(host), step: (host, step) => real.step(host, step) },
    root,
    expectedSources: plan.sources,
  });
  if (!summary) return ExitCode.Ok;
  // As Terraform's "Provider produced inconsistent result after applying": what ran other than
  // reviewed is an error, named task by task.
  const { inconsistent: all, decidedAtApply } = appliedDifferences(plan, real.pinnedSteps());
  if (decidedAtApply.length) {
    process.stderr.write(`note: ${decidedAtApply.length} change(s) the plan left unknown until apply (reviewed by their desired state only):\n${listed(decidedAtApply)}\n`);
  }
  // On a host applied despite its drift (--allow-drift), a result other than planned was asked for.
  const accepted = flags.allowDrift ? all.filter((d) => [...drifted.keys()].some((h) => d.startsWith(`${h}: `))) : [];
  const inconsistent = all.filter((d) => !accepted.includes(d));
  if (accepted.length) process.stderr.write(`warning: applied other than planned on hosts that drifted (--allow-drift):\n${listed(accepted)}\n`);
  if (inconsistent.length) {
    process.stderr.write(`error: the apply did not do what the plan said (inconsistent result): ${inconsistent.length} task(s) ran unreviewed:\n${listed(inconsistent)}\n`);
    return Math.max(exitCodeOf(summary), ExitCode.Error);
  }
  return exitCodeOf(summary);
}

function listed(lines: string[]): string {
  const shown = lines.slice(0, MAX_LISTED).map((r) => `  - ${r}`);
  if (lines.length > MAX_LISTED) shown.push(`  - and ${lines.length - MAX_LISTED} more`);
  return shown.join('\n');
}

/**
 * The repository root the plan's paths are relative to: the one above the current directory or
 * the plan file that holds the plan's playbook (else plinth's own, for its playbooks), so that a
 * plan applies from any directory.
 */
function locateRoot(plan: PlanFile, planFile: string): string {
  const starts = [process.cwd(), path.dirname(path.resolve(planFile)), PLINTH_ROOT];
  const candidates = [...new Set(starts.flatMap((d) => [repositoryRootOf(path.join(d, 'x')), d]))];
  for (const c of candidates) {
    const playbook = path.join(c, plan.playbook);
    if (existsSync(playbook) && repositoryRootOf(playbook) === c) return c;
  }
  throw new UsageError(`cannot find the plan's playbook ${plan.playbook} (relative to its repository root) from ${candidates.join(' or ')}: apply inside the repository, or keep the plan file in it`);
}

async function writeAtomic(file: string, content: string): Promise<void> {
  const tmp = `${file}.plinth-${process.pid}`;
  await fs.writeFile(tmp, content, { mode: 0o644 });
  await fs.rename(tmp, file);
}
