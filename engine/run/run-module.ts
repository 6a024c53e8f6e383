// One module on one host: observe → plan → apply (or predict, in check mode).
import type { Diff, Module, ModuleContext, Plan } from '../types.js';
import { PredictedHost } from '../connection/predicted.js';

export type ModuleStatus = 'ok' | 'changed' | 'failed' | 'unknown';

export interface ModuleOutcome {
  status: ModuleStatus;
  summary?: string;
  diffs: Diff[];
  /** What `register` stores (changed/failed are added by the task runner). */
  result: Record<string, unknown>;
  message?: string;
  /** True when check mode reported a change without applying it. */
  predicted?: boolean;
  /** A predicted change whose effect on the host is modelled (its writes, its effects): later tasks are planned from it. */
  exact?: boolean;
  /** apply ran (and may have changed the host) even though the outcome is a failure. */
  applied?: boolean;
  /** The plan said it only read live data (Plan's readOnly). */
  readOnly?: boolean;
}

export interface RunModuleOptions {
  check: boolean;
  /** Apply even in check mode: read-only commands (`changed_when: false`, `check_mode: false`). */
  applyInCheck?: boolean;
  /** Called with what the module observed, before it plans (plans record it; apply compares). May throw. */
  onObserved?: (observed: unknown) => void;
}

export async function runModule(mod: Module, args: Record<string, unknown>, ctx: ModuleContext, opts: RunModuleOptions): Promise<ModuleOutcome> {
  const observed = await mod.observe(ctx, args);
  opts.onObserved?.(observed);
  const plan = markSecretDiffs(await mod.plan(observed, args, ctx), ctx);
  if ('unknown' in plan) {
    if (!opts.check) return { status: 'failed', diffs: [], result: {}, message: `${plan.summary}: ${plan.reason}` };
    return { status: 'unknown', summary: plan.summary, diffs: [], result: {}, message: plan.reason };
  }
  if (!plan.changed) return { status: 'ok', summary: plan.summary, diffs: [], result: plan.result ?? {}, ...(plan.readOnly ? { readOnly: true } : {}) };

  if (opts.check && !opts.applyInCheck && !mod.readOnly) {
    if (ctx.host instanceof PredictedHost) {
      if (plan.writes) ctx.host.predict(plan.writes);
      if (plan.effects) ctx.host.predictEffects(plan.effects);
    }
    return { status: 'changed', summary: plan.summary, diffs: plan.diffs ?? [], result: plan.result ?? {}, predicted: true, exact: !!plan.writes || !!plan.effects };
  }
  const applied = await mod.apply(ctx, plan.action, args);
  const result = { ...plan.result, ...applied.result };
  if (applied.failed) return { status: 'failed', summary: plan.summary, diffs: plan.diffs ?? [], result, message: applied.message, applied: true };
  return {
    status: applied.changed === false ? 'ok' : 'changed',
    summary: plan.summary,
    diffs: applied.changed === false ? [] : (plan.diffs ?? []),
    result,
    message: applied.message,
  };
}

/**
 * A diff that holds a secret is shown as "changed (secret)" only. The engine decides it, not each
 * module: plans stay pure, and a module cannot forget it.
 */
function markSecretDiffs<P extends Plan>(plan: P, ctx: ModuleContext): P {
  if (!('changed' in plan) || !plan.changed || !plan.diffs) return plan;
  const diffs = plan.diffs.map((d) => (!d.secret && (ctx.isSecret(d.before) || ctx.isSecret(d.after)) ? { ...d, secret: true } : d));
  return { ...plan, diffs };
}
