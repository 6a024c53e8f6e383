// One task on one host: conditions, loop, argument rendering and validation, the module,
// changed_when / failed_when, register and notify.
import { stringify as stringifyYaml } from 'yaml';
import type { BecomeMethod, Diff, ExecOptions, Host, Module, ModuleContext } from '../types.js';
import { octalMode, type TaskNode } from '../load/playbook.js';
import { loopOf, resolveAmount, resolveFlag, type Condition, type Keywords, type LoopKeyword } from '../load/keywords.js';
import { LoopError, loopItems } from './loops.js';
import { formatWhere, whereInSource, whereOfText } from '../load/yaml.js';
import { validateAgainst } from '../schema-validation.js';
import type { Scope } from '../expr/scope.js';
import { UndefinedVariableError, ExpressionError } from '../expr/evaluate.js';
import { TemplateError } from '../expr/ejs-template.js';
import { renderEjs } from '../expr/ejs-template.js';
import { makeModuleContext } from './context.js';
import { runModule, type ModuleOutcome } from './run-module.js';
import { UnreachableError, TimeoutError } from '../connection/connection-errors.js';
import { redactor } from '../secrets/redact.js';
import { sources } from '../load/sources.js';
import { truthy } from '../connection/open-connection.js';
import { becomeMethod, BecomeError } from '../connection/become.js';
import type { HostState } from './host-state.js';
import type { TaskStatus } from './events.js';
import { UserError } from '../user-error.js';
import { libraryFileOf } from '../load/user-modules.js';

export interface TaskRunContext {
  check: boolean;
  /** The keywords in force on the task: its own and what the play and its blocks hand down. */
  keywords: Keywords;
  scope: Scope;
  state: HostState;
  /** The state of a delegate_to host: its connection, and in check mode what this run would change on it. */
  stateOf(name: string): HostState;
  log(message: string): void;
  /** Sees every observation (plan files record them, apply compares them). */
  observer?: TaskObserver;
  /** The task is a handler (it runs because a change notified it). */
  handler?: boolean;
}

/**
 * Sees every task a run performs on a host (plan files record them, apply compares them).
 * `key` names the task on this host: file:line, loop item, occurrence.
 */
export interface TaskObserver {
  /** Before each task (or loop item) on a host; may throw to stop the host (applying a plan to a host that drifted). */
  beforeTask?(host: string, key: string): void;
  /** Once the task (or one loop item of it) is decided. */
  step?(host: string, step: TaskStep): void;
}

/** One task (or loop item) on one host, as a plan pins it. */
export interface TaskStep {
  key: string;
  task: string;
  module: string;
  status: TaskStatus;
  summary?: string;
  diffs: Diff[];
  /** The arguments after rendering (absent when they could not be rendered). */
  args?: Record<string, unknown>;
  /** What the module observed, for tasks that may change the host. */
  observed?: unknown;
  /** The observation is of the host as it is, not predicted after a change check mode could not model. */
  exact: boolean;
  /** The task has secret arguments: what it observed is never shown. */
  secret?: boolean;
  /** The task changes nothing (debug, stat, `changed_when: false`): its arguments and result may follow live data. */
  readOnly?: boolean;
  /** no_log: neither what it observed nor its summary and messages are shown. */
  noLog?: boolean;
  /** In check mode: what the task will ensure, computed when its outcome is unknown. */
  describe?: () => Promise<Diff[]>;
  message?: string;
  /** delegate_to: the host the task acted on. */
  delegate?: string;
}

export interface TaskOutcome {
  status: TaskStatus;
  summary?: string;
  diffs: Diff[];
  message?: string;
  result: Record<string, unknown>;
  ignored?: boolean;
  predicted?: boolean;
  items?: string[];
  /**
   * The task failed on its own expressions, arguments or templates, not on what its module found:
   * check mode fails it as the real run will, unless it used a result check mode did not produce.
   */
  definite?: { variable?: string };
  /** In check mode: what the task will ensure, from its rendered arguments; shown when its outcome is unknown. */
  desired?: () => Promise<Diff[]>;
  /** Handlers to notify (the task changed); `notify` may hold expressions over the task's result. */
  notify?: string[];
  /** The task changes nothing (a status query, a wait): its being unknown changes nothing later tasks find. */
  readOnly?: boolean;
}

/** A failure whose message names the task's file:line. */
export class TaskError extends UserError {}

/** become_method of the task (or block, play), else the inventory's ansible_become_method; checked. */
function becomeMethodOf(keyword: string | undefined, inventory: unknown, scope: Scope): BecomeMethod | undefined {
  const value = keyword ?? inventory;
  if (value === undefined) return undefined;
  try {
    return becomeMethod(scope.render(value));
  } catch (e) {
    if (e instanceof BecomeError) throw new TaskError(e.message);
    throw e;
  }
}

function optionalText(value: unknown, scope: Scope): string | undefined {
  return value === undefined || value === null ? undefined : String(scope.render(value));
}

export async function runTask(task: TaskNode, ctx: TaskRunContext): Promise<TaskOutcome> {
  const kw = ctx.keywords;
  const loop = loopOf(kw);
  let outcome: TaskOutcome;
  try {
    if (loop === undefined) {
      outcome = await runWithRetries(task, kw, ctx.scope, ctx);
    } else {
      outcome = await runLoop(task, kw, loop, ctx);
    }
  } catch (e) {
    // Failed before any item ran (its loop could not be read): judged against the host itself.
    outcome = ctx.check ? inCheckMode(task, failure(task, e), ctx, ctx.state) : failure(task, e);
  }
  if (ctx.check) trackUnknownResults(task, kw, outcome, ctx.state);
  // An unknown task still shows what it will ensure, even when what it will find can't be predicted.
  if (outcome.status === 'unknown' && outcome.diffs.length === 0 && outcome.desired) outcome = { ...outcome, diffs: await outcome.desired() };
  if (kw.register !== undefined && outcome.status !== 'unreachable') {
    ctx.state.registered[kw.register] = registeredValue(outcome);
  }
  if (outcome.status === 'failed' && flag(kw.ignore_errors, ctx.scope, 'ignore_errors')) outcome.ignored = true;
  // A change notifies its handlers; so does a check-mode "unknown", whose handlers are then previewed too.
  if ((outcome.status === 'changed' || outcome.status === 'unknown') && kw.notify !== undefined) {
    try {
      outcome.notify = notifiedHandlers(kw.notify, outcome, ctx.scope);
    } catch (e) {
      outcome = { ...failure(task, e), message: `${failure(task, e).message} (in notify)` };
    }
  }
  return outcome;
}

async function runLoop(task: TaskNode, kw: Keywords, loop: LoopKeyword, ctx: TaskRunContext): Promise<TaskOutcome> {
  const scope = taskScope(ctx.scope, kw.vars ?? {});
  const items = await loopItems(loop, kw[loop], scope, task.baseDirs);
  const control = kw.loop_control ?? {};
  const loopVar = control.loop_var ?? 'item';
  const results: TaskOutcome[] = [];
  for (const [index, item] of items.entries()) {
    const itemScope = ctx.scope.with(
      'loop',
      {
        [loopVar]: item,
        ansible_loop: { index: index + 1, index0: index, first: index === 0, last: index === items.length - 1, length: items.length },
        ...(control.index_var ? { [control.index_var]: index } : {}),
      },
      true,
    );
    results.push(await runWithRetries(task, kw, itemScope, ctx));
    if (results[results.length - 1].status === 'unreachable') break;
  }
  const pick = (s: TaskStatus) => results.some((r) => r.status === s);
  const status: TaskStatus = pick('unreachable')
    ? 'unreachable'
    : pick('failed')
      ? 'failed'
      : pick('unknown')
        ? 'unknown'
        : pick('changed')
          ? 'changed'
          : results.length && results.every((r) => r.status === 'skipped')
            ? 'skipped'
            : results.length
              ? 'ok'
              : 'skipped';
  return {
    status,
    summary:
      results
        .map((r, i) => (r.summary ? `(${itemLabel(items[i], control.label, ctx, loopVar)}) ${r.summary}` : ''))
        .filter(Boolean)
        .join('; ') || undefined,
    diffs: results.flatMap((r) => r.diffs),
    desired: async () => (await Promise.all(results.map((r) => r.desired?.() ?? []))).flat(),
    message:
      results
        .map((r) => r.message)
        .filter(Boolean)
        .join('\n') || undefined,
    predicted: results.some((r) => r.predicted),
    result: {
      results: results.map((r, i) => ({ ...registeredValue(r), [loopVar]: items[i] })),
      changed: pick('changed'),
      failed: pick('failed'),
      ...(results.length === 0 ? { skipped: true, msg: 'empty loop' } : {}),
    },
  };
}

/** `until: cond` with `retries` (default 3) and `delay` seconds (default 5): run again until cond holds. */
async function runWithRetries(task: TaskNode, kw: Keywords, scope: Scope, ctx: TaskRunContext): Promise<TaskOutcome> {
  const key = ctx.observer ? observationKey(task, ctx.state, scope) : '';
  // In check mode, what this run would change is tracked on the host the task acts on (its delegate).
  const target = targetState(kw, scope, ctx);
  const last: { step?: TaskStep } = {};
  let outcome: TaskOutcome;
  try {
    outcome = await attempts(task, kw, scope, ctx, key, target, last);
  } catch (e) {
    outcome = failure(task, e);
  }
  const judged = ctx.check ? inCheckMode(task, outcome, ctx, target) : outcome;
  if (last.step) {
    // The observer sees the task as the run judged it (unknown until apply, failed), not only as the module left it.
    Object.assign(last.step, { status: judged.status, summary: judged.summary ?? last.step.summary, diffs: judged.diffs, message: judged.message });
    ctx.observer?.step?.(ctx.state.name, last.step);
  }
  return judged;
}

/** The host a task (or loop item) acts on: its delegate_to, else its own. */
function targetState(kw: Keywords, scope: Scope, ctx: TaskRunContext): HostState {
  if (kw.delegate_to === undefined) return ctx.state;
  try {
    return ctx.stateOf(String(taskScope(scope, kw.vars ?? {}).render(kw.delegate_to)));
  } catch {
    // The task itself reports a delegate_to that does not render.
    return ctx.state;
  }
}

/**
 * Check mode's judgement of one outcome on the host it acted on: a failure that follows from an
 * unapplied change, or an "ok" that such a change may undo, is unknown until apply; and what is
 * unknown may change what later tasks find there, unless the task changes nothing.
 */
function inCheckMode(task: TaskNode, outcome: TaskOutcome, ctx: TaskRunContext, target: HostState): TaskOutcome {
  let judged = outcome;
  if (judged.status === 'failed') judged = unknownInCheckMode(task, judged, ctx, target);
  if (judged.status === 'ok') judged = okOnlyForNow(task, judged, ctx, target);
  if (judged.status === 'unknown' && !readOnlyTask(ctx.keywords) && !task.module.readOnly && !judged.readOnly) {
    target.speculative.push(`${task.name} (unknown until apply)`);
  }
  return judged;
}

/** `until`: the task again until its condition holds (or once, without one). */
async function attempts(task: TaskNode, kw: Keywords, scope: Scope, ctx: TaskRunContext, key: string, target: HostState, last: { step?: TaskStep }): Promise<TaskOutcome> {
  const until = kw.until;
  if (until === undefined) return runStep(task, kw, scope, ctx, key, target, last);
  const retries = resolveAmount(kw.retries, (t) => scope.render(t), 'retries') ?? 3;
  const delay = resolveAmount(kw.delay, (t) => scope.render(t), 'delay') ?? 5;
  const name = kw.register ?? 'result';
  let outcome!: TaskOutcome;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    try {
      outcome = await runStep(task, kw, scope, ctx, key, target, last);
    } catch (e) {
      if (attempt > retries || e instanceof UnreachableError) throw e;
      outcome = failure(task, e);
    }
    if (outcome.status === 'skipped' || outcome.status === 'unreachable' || outcome.status === 'unknown' || (ctx.check && outcome.predicted)) return outcome;
    const withResult = scope.with('this result', { [name]: outcome.result, result: outcome.result }, true);
    if (outcome.status !== 'failed' && allConditions(until, withResult)) return outcome;
    // Waiting cannot help while the condition depends on changes check mode does not apply.
    const dependsOn = ctx.check ? unappliedChanges(ctx, target) : [];
    if (dependsOn.length) {
      return unknownUntilApply(`the until condition is not met yet and depends on ${lastChange(dependsOn, ctx, target)}, which check mode does not apply; not retried in check mode`, outcome);
    }
    if (attempt <= retries) {
      ctx.log(`${task.name}: retrying (${attempt}/${retries}) in ${delay} s`);
      await new Promise((r) => setTimeout(r, delay * 1000));
    }
  }
  return { ...outcome, status: 'failed', message: outcome.message ?? `until condition still false after ${retries} retries: ${String(until)}` };
}

/** One attempt of the task; `last` keeps what it did, for the observer, whatever its end. */
async function runStep(task: TaskNode, kw: Keywords, scope: Scope, ctx: TaskRunContext, key: string, target: HostState, last: { step?: TaskStep }): Promise<TaskOutcome> {
  const step: TaskStep = {
    key,
    task: task.name,
    module: task.module.name,
    status: 'failed',
    diffs: [],
    exact: target.speculative.length === 0,
    ...(target !== ctx.state ? { delegate: target.name } : {}),
  };
  last.step = step;
  try {
    ctx.observer?.beforeTask?.(ctx.state.name, key);
    step.noLog = flag(kw.no_log, scope, 'no_log') === true;
    const outcome = await runOnce(task, kw, scope, ctx, step, target);
    Object.assign(step, { status: outcome.status, summary: outcome.summary, diffs: outcome.diffs, message: outcome.message });
    if (ctx.check && step.describe) outcome.desired = step.describe;
    return outcome;
  } catch (e) {
    step.message = (e as Error).message;
    if (ctx.check && step.describe && e && typeof e === 'object') desiredAtFailure.set(e, step.describe);
    throw e;
  }
}

async function runOnce(task: TaskNode, kw: Keywords, outer: Scope, ctx: TaskRunContext, step: TaskStep, target: HostState): Promise<TaskOutcome> {
  const scope = taskScope(outer, kw.vars ?? {});
  for (const cond of kw.when ?? []) {
    if (!truthyCondition(cond, scope)) {
      return { status: 'skipped', diffs: [], result: { skipped: true, skip_reason: `condition was false: ${String(cond)}` } };
    }
  }
  const module = task.module;
  // Until they render, what the task will ensure is shown as written.
  step.describe = async () => [argumentsAsDesired(module, task.args, 'as written; its values are known after apply')];
  const unapplied = readHandlerInCheckMode(module, kw, ctx, target);
  if (unapplied) {
    return unknownUntilApply(`this handler reads the host after ${unapplied}, which check mode does not apply; not run in check mode`, {
      status: 'unknown',
      diffs: [],
      result: {},
      desired: step.describe,
    });
  }
  const args = scope.render(task.args) as Record<string, unknown>;
  // A mode that renders to a number is permission bits, as in Ansible (a YAML 1.1 var `0644` is 420).
  for (const [k, v] of Object.entries(args)) if (/mode$/.test(k) && typeof v === 'number' && task.args[k] !== v) args[k] = octalMode(v);
  const problems = validateAgainst(module.schema, args);
  if (problems.length) {
    const p = problems[0];
    throw new TaskError(`${module.name}: ${p.path.join('.') || 'arguments'}: ${p.message} (after rendering expressions)`);
  }
  step.args = args;
  step.secret = markSecretArgs(module.schema, args);

  const become = {
    become: flag(kw.become, scope, 'become') ?? truthy(scope.render(ctx.state.inventoryVars.ansible_become)),
    becomeUser: (scope.render(kw.become_user ?? ctx.state.inventoryVars.ansible_become_user) as string | undefined) ?? undefined,
    becomeMethod: becomeMethodOf(kw.become_method, ctx.state.inventoryVars.ansible_become_method, scope),
    becomeFlags: optionalText(kw.become_flags ?? ctx.state.inventoryVars.ansible_become_flags, scope),
  };
  const delegate = kw.delegate_to !== undefined ? String(scope.render(kw.delegate_to)) : undefined;
  const connection = module.controllerOnly ? nullHost(ctx.state.name) : delegate ? await ctx.stateOf(delegate).host() : await ctx.state.hostFor(optionalText(kw.connection, scope));
  const timeoutSeconds = resolveAmount(kw.timeout, (t) => scope.render(t), 'timeout');
  const withEnv = withEnvironment(connection, scope.render(kw.environment ?? {}) as Record<string, unknown>);
  const host = timeoutSeconds ? withDeadline(withEnv, timeoutSeconds) : withEnv;
  const locals = scope.locals();
  const moduleCtx = makeModuleContext({
    host,
    check: ctx.check,
    vars: locals,
    become,
    baseDirs: task.baseDirs,
    facts: ctx.state.facts,
    log: ctx.log,
    evaluate: (e) => scope.evaluate(e),
  });
  moduleCtx.renderTemplate = async (source, opts) => renderEjs(source, locals, opts?.filename);
  step.describe = () => desiredState(module, args, moduleCtx);

  const readOnly = readOnlyTask(kw);
  step.readOnly = !!module.readOnly || readOnly;
  // What read-only tasks see is data for later tasks, not state they change: it is not pinned.
  const onObserved = step.readOnly
    ? undefined
    : (o: unknown) => {
        step.observed = o;
      };
  // check_mode: true makes a task a preview even in a real run.
  const check = ctx.check || flag(kw.check_mode, scope, 'check_mode') === true;
  const run = runModule(module, args, { ...moduleCtx, check }, { check, applyInCheck: readOnly, onObserved });
  const outcome = timeoutSeconds ? await withTimeout(run, timeoutSeconds) : await run;
  if (outcome.readOnly) {
    step.readOnly = true;
    step.observed = undefined;
  }
  const interpreted = interpret(task, kw, outcome, scope, ctx, target);
  interpreted.readOnly = step.readOnly;
  // set_fact returns its variables as ansible_facts: they live on the host for the rest of the run.
  // Facts named ansible_* (setup, service_facts) also join ansible_facts, without the prefix, as in Ansible.
  const facts = interpreted.result.ansible_facts;
  if (interpreted.status !== 'failed' && facts && typeof facts === 'object') {
    Object.assign(ctx.state.registered, facts);
    for (const [name, value] of Object.entries(facts)) {
      if (name.startsWith('ansible_')) (ctx.state.facts ??= {})[name.slice('ansible_'.length)] = value;
    }
  }
  return interpreted;
}

function interpret(task: TaskNode, kw: Keywords, outcome: ModuleOutcome, scope: Scope, ctx: TaskRunContext, target: HostState): TaskOutcome {
  let status: TaskStatus = outcome.status;
  const result: Record<string, unknown> = { ...outcome.result, changed: status === 'changed', failed: status === 'failed' };
  if (outcome.message) result.msg = outcome.message;
  const name = kw.register ?? 'result';
  const withResult = scope.with('this result', { [name]: result, result }, true);
  const failedWhen = kw.failed_when !== undefined && !(ctx.check && outcome.predicted);
  // Under failed_when the module's own failure is only data: a command that ran and exited 3 changed things.
  if (failedWhen && status === 'failed') {
    status = outcome.applied ? 'changed' : 'ok';
    result.changed = status === 'changed';
  }
  if (kw.changed_when !== undefined && status !== 'failed' && !(ctx.check && outcome.predicted)) {
    const changed = allConditions(kw.changed_when, withResult);
    status = changed ? 'changed' : 'ok';
    result.changed = changed;
  }
  if (failedWhen) {
    const failed = allConditions(kw.failed_when!, withResult, 'any');
    if (failed) status = 'failed';
    result.failed = failed;
  }
  if (ctx.check && outcome.predicted) {
    // Later tasks name this change in their messages: a no_log task is named without its summary.
    const what = flag(kw.no_log, scope, 'no_log') ? task.name : `${task.name} (${outcome.summary ?? 'change'})`;
    target.predicted.push(what);
    if (!outcome.exact) target.speculative.push(what);
  }
  return {
    status,
    summary: outcome.summary,
    diffs: status === 'changed' || status === 'unknown' ? outcome.diffs : [],
    message: status === 'failed' && !outcome.message ? 'failed_when condition matched' : outcome.message,
    result,
    predicted: outcome.predicted,
  };
}

function failure(task: TaskNode, e: unknown): TaskOutcome {
  if (e instanceof UnreachableError) {
    return { status: 'unreachable', diffs: [], message: redactor.redact(e.message), result: { unreachable: true, msg: e.message } };
  }
  const message = failureMessage(e, task.module);
  const desired = e && typeof e === 'object' ? desiredAtFailure.get(e) : undefined;
  // An expression's error points at the value that holds the expression, not only at the task.
  const expression = e instanceof UndefinedVariableError || e instanceof ExpressionError ? e.expression.trim() : '';
  const value = expression ? whereOfText(task.source, expression) : undefined;
  const where = value ? whereInSource(value, expression) : task.where;
  return { status: 'failed', diffs: [], message: `${formatWhere(where)}: ${message}`, result: { failed: true, changed: false, msg: message }, definite: definiteCause(e), desired };
}

/**
 * What a user must fix is its message; a system call's failure on the controller (EACCES, ENOSPC)
 * keeps its name; anything else is a bug, in plinth or in the playbook's own module, with its stack.
 */
function failureMessage(e: unknown, module: Module): string {
  if (e instanceof UserError) return e.message;
  const error = e instanceof Error ? e : new Error(String(e));
  if (typeof (error as NodeJS.ErrnoException).code === 'string' && (error as NodeJS.ErrnoException).syscall) return `${error.name}: ${error.message}`;
  const library = libraryFileOf(module);
  if (!library) return `internal error (a bug in plinth): ${error.stack ?? `${error.name}: ${error.message}`}`;
  // A user module's own `throw new Error('...')` is its message to the user; a TypeError is its bug.
  return error.constructor === Error ? error.message : `module ${module.name} (${sources.display(library)}) failed: ${error.stack ?? error.message}`;
}

/** The desired state of a task whose attempt threw after its arguments were rendered. */
const desiredAtFailure = new WeakMap<object, () => Promise<Diff[]>>();

/**
 * What a task will ensure, as its module's arguments after rendering: the settings of
 * postgres_conf, the rules of pg_hba, a role's attributes, a unit's state. Secret arguments and
 * arguments left at their defaults are not shown.
 */
async function desiredState(module: Module, args: Record<string, unknown>, ctx: ModuleContext): Promise<Diff[]> {
  if (module.desiredState) {
    // What the module can say better (a template's rendered content); its arguments otherwise.
    const better = await module.desiredState(ctx, args).catch(() => null);
    if (better?.length) return better;
  }
  return [argumentsAsDesired(module, args)];
}

function argumentsAsDesired(module: Module, args: Record<string, unknown>, note = 'the current state is known after apply'): Diff {
  const props = (module.schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const shown = Object.fromEntries(
    Object.entries(args)
      .filter(([k, v]) => v !== undefined && JSON.stringify(v) !== JSON.stringify(props[k]?.default))
      .map(([k, v]) => [k, props[k]?.['x-secret'] ? '(secret)' : v]),
  );
  return { target: `${module.name}: what it will ensure (${note})`, before: '', after: redactor.redact(stringifyYaml(shown, { lineWidth: 0 })) };
}

function definiteCause(e: unknown): TaskOutcome['definite'] {
  if (e instanceof UndefinedVariableError) return { variable: e.variable };
  if (e instanceof TemplateError) {
    // Other failures inside a template may come from the values it reads, which the task does not name.
    const variable = /undefined variable '([^']+)'/.exec(e.message)?.[1];
    return variable !== undefined ? { variable } : /syntax error/.test(e.message) ? {} : undefined;
  }
  if (e instanceof ExpressionError || e instanceof TaskError || e instanceof LoopError) return {};
  return undefined;
}

/**
 * In check mode, the names whose values come from a task check mode did not really run (a
 * predicted or unknown outcome): its `register`, and the facts a set_fact over such values sets.
 */
function trackUnknownResults(task: TaskNode, kw: Keywords, outcome: TaskOutcome, state: HostState): void {
  const unknown = outcome.status === 'unknown' || !!outcome.predicted || (outcome.status !== 'skipped' && usesUnknownResult(task, state));
  const names = [...(kw.register !== undefined ? [kw.register] : []), ...(task.module.name === 'set_fact' ? Object.keys(task.args) : [])];
  for (const name of names) {
    if (unknown) state.unknownResults.add(name);
    else state.unknownResults.delete(name);
  }
}

/** The task's text names a value check mode did not produce. */
function usesUnknownResult(task: TaskNode, state: HostState): boolean {
  if (state.unknownResults.size === 0) return false;
  const text = JSON.stringify(task.source);
  return [...state.unknownResults].some((name) => new RegExp(`(^|[^\\w.])${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`).test(text));
}

/** A definite failure fails check mode too, unless what failed is a value check mode did not produce. */
function failsInCheckModeToo(task: TaskNode, definite: NonNullable<TaskOutcome['definite']>, state: HostState): boolean {
  if (definite.variable !== undefined) return !state.unknownResults.has(definite.variable);
  return !usesUnknownResult(task, state);
}

/**
 * In check mode a task can fail only because an earlier change was not applied (a package not
 * installed yet, a command not run): that is "unknown until apply", never "ok" and not a failure.
 * A read-only command that runs in check mode sees the host as it is, without predicted files.
 */
function unknownInCheckMode(task: TaskNode, outcome: TaskOutcome, ctx: TaskRunContext, target: HostState): TaskOutcome {
  const dependsOn = unappliedChanges(ctx, target);
  if (dependsOn.length === 0) return outcome;
  if (outcome.definite && failsInCheckModeToo(task, outcome.definite, ctx.state)) return outcome;
  // What failed in check mode is detail for -v: the reason for the operator is the unapplied change.
  ctx.log(`${task.name}: in check mode: ${outcome.message ?? 'failed'}`);
  return unknownUntilApply(`depends on ${lastChange(dependsOn, ctx, target)}, which check mode does not apply`, outcome);
}

/** The latest of these unapplied changes, named with its host when the task acts on another one. */
function lastChange(changes: string[], ctx: TaskRunContext, target: HostState): string {
  const last = changes[changes.length - 1];
  return target === ctx.state ? last : `${target.name}'s ${last}`;
}

/** The changes of this check run that may change what the task finds (read-only tasks see none of the predictions). */
function unappliedChanges(ctx: TaskRunContext, target: HostState): string[] {
  return readOnlyTask(ctx.keywords) ? target.predicted : target.speculative;
}

function unknownUntilApply(reason: string, outcome: TaskOutcome): TaskOutcome {
  return {
    status: 'unknown',
    diffs: [],
    desired: outcome.desired,
    summary: 'unknown until apply',
    message: `unknown until apply: ${reason}`,
    result: { ...outcome.result, failed: false, changed: false, unknown: true },
    readOnly: outcome.readOnly,
  };
}

/** What a loop item is called in the output: loop_control.label rendered for the item, or the item itself. */
function itemLabel(item: unknown, label: string | undefined, ctx: TaskRunContext, loopVar: string): string {
  if (label === undefined) return typeof item === 'string' ? item : JSON.stringify(item);
  return String(ctx.scope.with('loop', { [loopVar]: item }, true).render(label));
}

/** Names one run of a task on a host, the same in a plan and in the apply of that plan. */
function observationKey(task: TaskNode, state: HostState, scope: Scope): string {
  const loop = scope.layers[scope.layers.length - 1]?.name === 'loop' ? scope.layers[scope.layers.length - 1].vars.ansible_loop : undefined;
  const base = `${sources.display(task.where.file)}:${task.where.line}${loop ? `[${(loop as { index0: number }).index0}]` : ''}`;
  const n = (state.occurrences.get(base) ?? 0) + 1;
  state.occurrences.set(base, n);
  return n === 1 ? base : `${base}#${n}`;
}

/** e.g. notify: "{{ result.restart_required ? 'restart postgresql' : 'reload postgresql' }}" */
function notifiedHandlers(notify: unknown, outcome: TaskOutcome, scope: Scope): string[] {
  if (outcome.status === 'unknown' && JSON.stringify(notify).includes('{{')) {
    // No result to decide with: preview every handler the expression could choose (its string literals).
    return [...JSON.stringify(notify).matchAll(/'([^']+)'|\\"([^"\\]+)\\"/g)].map((m) => m[1] ?? m[2]);
  }
  let rendered: unknown;
  try {
    rendered = scope.with('this result', { result: outcome.result }, true).render(notify);
  } catch (e) {
    // An unknown outcome has no result to decide with: its handlers stay unknown as well.
    if (outcome.status === 'unknown') return [];
    throw e;
  }
  return (Array.isArray(rendered) ? rendered : [rendered])
    .flat()
    .filter((n) => n !== '' && n != null)
    .map(String);
}

/**
 * In check mode, "ok" is a promise that the real run changes nothing. After a change whose
 * effect the plan cannot model (a package install, a command), a task that looks at the host
 * can only say that it is ok on the host as it is now.
 */
function okOnlyForNow(task: TaskNode, outcome: TaskOutcome, ctx: TaskRunContext, target: HostState): TaskOutcome {
  if (task.module.controllerOnly || readOnlyTask(ctx.keywords) || target.speculative.length === 0) return outcome;
  const before = lastChange(target.speculative, ctx, target);
  return {
    ...outcome,
    status: 'unknown',
    summary: 'unknown until apply',
    message: `unknown until apply: nothing to do on the host as it is, but ${before} may change what this task finds`,
  };
}

/**
 * In check mode a handler runs only because of a change that was not applied. After a change
 * check mode could not model (a package install, a command), a read-only handler
 * (`changed_when: false`: a readiness wait, a status query) can only read the host without it:
 * its outcome is unknown before it runs, and it is not run (a wait for a service that is not even
 * installed would wait in vain). After modelled changes only (files written, a unit reloaded) it
 * runs and reads the host as it is. `check_mode: false` asks for a real run, and gets one.
 * Returns the unapplied change it depends on, if it is such a handler.
 */
function readHandlerInCheckMode(module: Module, kw: Keywords, ctx: TaskRunContext, target: HostState): string | undefined {
  if (!ctx.check || !ctx.handler || module.controllerOnly || kw.check_mode === false || !readOnlyTask(kw)) return undefined;
  // After changes check mode models (files written, a unit reloaded), the host as it is answers at once.
  const last = target.speculative.at(-1);
  return last === undefined ? undefined : lastChange([last], ctx, target);
}

/** `changed_when: false` or `check_mode: false`: the task changes nothing, so it runs in check mode too. */
function readOnlyTask(kw: Keywords): boolean {
  return (kw.changed_when?.length === 1 && kw.changed_when[0] === false) || kw.check_mode === false;
}

/** Task (and block) vars rank below registered values and set_fact, and extra vars, as in Ansible. */
function taskScope(scope: Scope, vars: Record<string, unknown>): Scope {
  return scope.withBelow('registered', 'task vars', vars);
}

/** What `register` stores for an outcome; also what --json prints as `result`. */
export function registeredValue(o: TaskOutcome): Record<string, unknown> {
  return {
    ...o.result,
    changed: o.status === 'changed',
    failed: o.status === 'failed',
    skipped: o.status === 'skipped' || undefined,
    ...(o.message ? { msg: o.result.msg ?? o.message } : {}),
  };
}

function truthyCondition(cond: Condition, scope: Scope): boolean {
  if (typeof cond === 'boolean') return cond;
  const text = String(cond);
  const stripped = text.replace(/^\s*\{\{(.*)\}\}\s*$/s, '$1');
  return Boolean(scope.evaluate(stripped));
}

function allConditions(list: Condition[], scope: Scope, mode: 'all' | 'any' = 'all'): boolean {
  return mode === 'all' ? list.every((c) => truthyCondition(c, scope)) : list.some((c) => truthyCondition(c, scope));
}

/** Whether a task's `when` conditions (all of them) hold, with its vars in scope. */
export function whenHolds(kw: Keywords, scope: Scope): boolean {
  const withVars = taskScope(scope, kw.vars ?? {});
  return (kw.when ?? []).every((c) => truthyCondition(c, withVars));
}

/** A flag keyword's value for this host. */
export function flag(value: Keywords['no_log'], scope: Scope, name: string): boolean | undefined {
  return resolveFlag(value, (t) => scope.render(t), name);
}

/** Registers the secret arguments with the redactor; true when the task has any. */
function markSecretArgs(schema: Record<string, unknown>, args: Record<string, unknown>): boolean {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  let any = false;
  for (const [k, s] of Object.entries(props)) {
    if (s['x-secret'] && args[k] !== undefined) {
      any = true;
      const v = args[k];
      if (typeof v === 'string') redactor.add(v);
      else if (v && typeof v === 'object') for (const inner of Object.values(v)) redactor.add(inner);
    }
  }
  return any;
}

function withTimeout<T>(p: Promise<T>, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_r, reject) => {
      timer = setTimeout(() => reject(new TimeoutError(`task timed out after ${seconds} s`)), seconds * 1000);
    }),
  ]);
}

/**
 * The task's `timeout` also bounds the commands the module runs: a command still running when the
 * task gives up is killed by the connection (a moment after the task's own timeout, which names
 * the task), instead of being left behind on the host.
 */
function withDeadline(host: Host, seconds: number): Host {
  const deadline = Date.now() + seconds * 1000 + 1000;
  return new Proxy(host, {
    get(target, prop) {
      if (prop === 'exec') {
        return (argv: string[], opts: ExecOptions = {}) => {
          const left = Math.max(1, deadline - Date.now());
          return target.exec(argv, { ...opts, timeout: Math.min(opts.timeout ?? left, left) });
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** The play's and task's `environment` added to every command the module runs (a Proxy keeps instanceof working). */
function withEnvironment(host: Host, environment: Record<string, unknown>): Host {
  const env = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)]));
  if (Object.keys(env).length === 0) return host;
  return new Proxy(host, {
    get(target, prop) {
      if (prop === 'exec') return (argv: string[], opts: ExecOptions = {}) => target.exec(argv, { ...opts, env: { ...env, ...opts.env } });
      const value = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/** Controller-only modules (debug, set_fact, assert) get a host that refuses to be used. */
function nullHost(name: string): Host {
  const refuse = async (): Promise<never> => {
    throw new Error('internal error: a controller-only module used the host connection');
  };
  return { name, exec: refuse, read: refuse, write: refuse, stat: refuse, close: async () => {} };
}
