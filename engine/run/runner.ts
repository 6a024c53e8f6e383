// Plays in order; in each play, hosts in serial batches. The linear strategy runs each task on
// every active host of the batch at once (at most `forks`), then the next task; the free
// strategy runs each host through the tasks at its own pace (at most `forks` hosts at once).
// `throttle` caps the hosts running one task at once. A failed host leaves the play; the others
// go on. Notified handlers run at the end of the play.
import type { Host } from '../types.js';
import type { Inventory } from '../load/inventory.js';
import type { BlockNode, Node, Play, TaskNode } from '../load/playbook.js';
import { formatWhere, SourceError, whereOf } from '../load/yaml.js';
import { Scope, type Layer } from '../expr/scope.js';
import { Connections } from './connections.js';
import { UnreachableError } from '../connection/connection-errors.js';
import { redactor } from '../secrets/redact.js';
import { factVariables, gatherFacts } from './facts.js';
import { HostState } from './host-state.js';
import { selectHosts } from './patterns.js';
import { flag, registeredValue, runTask, TaskError, whenHolds, type TaskObserver, type TaskOutcome } from './task.js';
import { lookupFunctions } from './lookups.js';
import { inheritKeywords, loopOf, resolveAmount, type Keywords } from '../load/keywords.js';
import { Semaphore } from '../semaphore.js';
import { loopItems } from './loops.js';
import { appliedKeywords, loadIncludedRole, loadIncludedTasks } from '../load/playbook.js';
import type { MetaAction } from '../load/actions.js';
import { validateAgainst } from '../schema-validation.js';
import { checkRoleArguments } from './role-arguments.js';
import { tagsSelected } from './tags.js';
import type { HostCounts, RunEvent, TaskStatus } from './events.js';

export interface RunOptions {
  inventory: Inventory;
  plays: Play[];
  check: boolean;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars?: Record<string, unknown>;
  forks?: number;
  onEvent: (event: RunEvent) => void;
  /** Aborting stops the run after the tasks in flight: no new task starts. */
  signal?: AbortSignal;
  /** Opens a host's connection (tests may pass their own; default: from the inventory's ansible_* vars). */
  connect?: (name: string, vars: Record<string, unknown>) => Promise<Host>;
  /** The connections, some perhaps opened while the playbook loaded (default: a new set; `connect` is then ignored). */
  connections?: Connections;
  /** Connection and become defaults for every host (plinth.cfg), below the inventory's variables. */
  hostDefaults?: Record<string, unknown>;
  /** Sees every module observation: `plinth plan` records them, `plinth apply` compares them. */
  observer?: TaskObserver;
  /** --start-at-task: tasks before the first one of this name (or glob, or "role : name") are skipped. */
  startAtTask?: string;
  /** --step: asked before each task; 'continue' stops asking. */
  confirmTask?: (name: string) => Promise<'yes' | 'no' | 'continue'>;
}

/** Where --start-at-task and --step stand: it carries over from one play to the next. */
interface Progress {
  started: boolean;
  stepping: boolean;
}

/** A task's names for --start-at-task: its name, and "role : name" for a role's task. */
export function taskMatches(task: TaskNode, pattern: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return [task.name, ...(task.role ? [`${task.role.name} : ${task.name}`] : [])].some((n) => n === pattern || re.test(n));
}

export interface RunSummary {
  hosts: Record<string, HostCounts>;
  interrupted: boolean;
}

export const DEFAULT_FORKS = 64;

export async function runPlaybook(o: RunOptions): Promise<RunSummary> {
  const started = Date.now();
  const limited = o.limit ? new Set(selectHosts(o.inventory, o.limit)) : null;
  const connections = o.connections ?? new Connections(o.inventory, { hostDefaults: o.hostDefaults, limited, forks: o.forks ?? DEFAULT_FORKS, connect: o.connect });
  const states = new Map<string, HostState>();
  const stateOf = (name: string): HostState => {
    let s = states.get(name);
    if (!s) {
      const vars = connections.varsOf(name);
      s = new HostState(name, vars, () => connections.connect(name, vars), o.check);
      states.set(name, s);
    }
    return s;
  };
  const emit = (e: RunEvent) => o.onEvent(redactor.redactValue(e));
  // The recap lists the hosts of the plays, not hosts that were only delegated to.
  const played = new Set<string>();
  const progress: Progress = { started: !o.startAtTask, stepping: !!o.confirmTask };
  // A notify without its handler is a mistake in the files: found before anything runs.
  for (const play of o.plays) checkHandlersExist(play);
  try {
    // Every play's hosts are connected ahead, in play order, so that a later play finds its connections ready.
    for (const play of o.plays) connections.prefetch(play.hosts);
    for (const play of o.plays) {
      if (o.signal?.aborted) break;
      for (const name of play.secretVars) {
        const v = o.extraVars?.[name] ?? play.vars[name] ?? play.varsFiles[name];
        if (typeof v === 'string') redactor.add(v);
      }
      const hosts = selectHosts(o.inventory, play.hosts).filter((h) => !limited || limited.has(h));
      for (const h of hosts) played.add(h);
      for (const h of hosts) stateOf(h).ended = false;
      emit({ type: 'play', name: play.name, hosts, where: formatWhere(play.where) });
      const stopped = await new PlayRun(play, hosts.map(stateOf), o, emit, stateOf, progress).run();
      // As in Ansible: a play stopped by its failure limits ends the run; later plays do not start.
      if (stopped) break;
    }
  } finally {
    await Promise.all([...states.values()].map((s) => s.close()));
    await connections.closeUnused();
  }
  const counts = Object.fromEntries([...states.values()].filter((s) => played.has(s.name)).map((s) => [s.name, s.counts]));
  emit({ type: 'recap', hosts: counts, interrupted: !!o.signal?.aborted, durationMs: Date.now() - started });
  return { hosts: counts, interrupted: !!o.signal?.aborted };
}

class PlayRun {
  /** The hosts of the serial batch being run that were still active when it started: failure limits count against them. */
  private batch: HostState[] = [];
  /** Why max_fail_percentage, any_errors_fatal or a wholly failed batch stopped the play: no task, batch or play starts after it. */
  private stopped?: string;
  /** `meta: end_play`: no further task of this play runs, on any host; the run goes on with the next play. */
  private ended = false;

  constructor(
    private readonly play: Play,
    private readonly hosts: HostState[],
    private readonly o: RunOptions,
    private readonly emit: (e: RunEvent) => void,
    private readonly stateOf: (name: string) => HostState,
    private readonly progress: Progress = { started: true, stepping: false },
  ) {}

  private knownHandlers?: Set<string>;

  /** Every name a handler of this play answers to (its name and its `listen` topics). */
  private handlerNames(): Set<string> {
    this.knownHandlers ??= new Set(this.play.handlers.flatMap(namesOf));
    return this.knownHandlers;
  }

  /** Runs the play; true when its failure limits stopped it (the run then ends). */
  async run(): Promise<boolean> {
    for (const batch of this.batches()) {
      if (this.o.signal?.aborted) return false;
      this.batch = batch.filter((h) => h.active);
      if (this.play.strategy === 'free') {
        // Each host gathers its facts and walks the tasks alone: a slow host holds back no other.
        await this.forEachHost(this.batch, async (h) => {
          if (this.play.gatherFacts) await this.gather([h]);
          this.checkLimits(this.play.keywords.any_errors_fatal === true && h.lost ? [h] : []);
          await this.runNodes(this.play.tasks, [h], []);
        });
      } else {
        if (this.play.gatherFacts) await this.gather(batch);
        this.checkLimits(this.play.keywords.any_errors_fatal === true ? this.batch.filter((h) => h.lost) : []);
        await this.runNodes(this.play.tasks, batch, []);
      }
      if (this.ended) return false;
      await this.runHandlers(batch);
      const failed = this.batch.filter((h) => h.lost).length;
      if (!this.stopped && this.batch.length > 0 && failed === this.batch.length) {
        this.stop(this.hosts.length > batch.length ? 'every host of the batch failed' : 'every host failed');
      }
      if (this.stopped) return true;
    }
    return false;
  }

  /**
   * max_fail_percentage and any_errors_fatal, checked after every task as Ansible does (not only
   * at the end of a batch): the failed (or unreachable) hosts of the current batch are counted.
   * `fatal`: the hosts that failed a task (or block) on which any_errors_fatal is in force.
   */
  private checkLimits(fatal: HostState[]): void {
    if (this.stopped || this.batch.length === 0) return;
    const failed = this.batch.filter((h) => h.lost).length;
    const limit = this.play.maxFailPercentage;
    if (limit !== undefined && (failed / this.batch.length) * 100 > limit) {
      this.stop(`${failed} of ${this.batch.length} hosts failed, more than max_fail_percentage ${limit}%`);
    } else if (fatal.length > 0) {
      this.stop(`${fatal.length} host${fatal.length === 1 ? '' : 's'} failed and any_errors_fatal is set`);
    }
  }

  /** The keywords in force on a task or block: the play's, then each enclosing block's, then its own. */
  private keywordsOf(chain: BlockNode[], node: Node): Keywords {
    return inheritKeywords([this.play.keywords, ...chain.map((b) => b.keywords), node.keywords]);
  }

  private stop(reason: string): void {
    this.stopped = reason;
    this.emit({ type: 'log', message: `play "${this.play.name}" stopped: ${reason}` });
  }

  private batches(): HostState[][] {
    const sizes = this.play.serial;
    if (!sizes) return [this.hosts];
    const out: HostState[][] = [];
    let i = 0;
    let step = 0;
    while (i < this.hosts.length) {
      const spec = String(sizes[Math.min(step, sizes.length - 1)]);
      const n = spec.endsWith('%') ? Math.max(1, Math.floor((this.hosts.length * parseFloat(spec)) / 100)) : Math.max(1, parseInt(spec, 10));
      out.push(this.hosts.slice(i, i + n));
      i += n;
      step++;
    }
    return out;
  }

  private async gather(batch: HostState[]): Promise<void> {
    const need = batch.filter((h) => h.active && !h.facts);
    if (need.length === 0) return;
    const where = `${this.play.where.file}:${this.play.where.line}`;
    this.emit({ type: 'task', play: this.play.name, name: 'Gathering Facts', where, hosts: need.map((h) => h.name) });
    await this.forEachHost(need, async (h) => {
      const t0 = Date.now();
      let status: TaskStatus = 'ok';
      let message: string | undefined;
      try {
        h.facts = await gatherFacts(await h.hostFor(this.play.keywords.connection));
      } catch (e) {
        status = e instanceof UnreachableError ? 'unreachable' : 'failed';
        message = (e as Error).message;
      }
      this.record(h, status, false);
      this.emit({ type: 'result', play: this.play.name, host: h.name, task: 'Gathering Facts', where, module: 'setup', status, message, durationMs: Date.now() - t0 });
    });
  }

  private async runNodes(nodes: Node[], hosts: HostState[], chain: BlockNode[]): Promise<void> {
    for (const node of nodes) {
      if (this.o.signal?.aborted || this.stopped || this.ended) return;
      if (node.kind === 'block') await this.runBlock(node, hosts, chain);
      else if (!(await this.reached(node))) continue;
      else if (node.action?.kind === 'meta' && (node.action.meta === 'flush_handlers' || this.selectedByTags(node))) await this.runMeta(node, node.action.meta, hosts, chain);
      else if (!this.selectedByTags(node)) continue;
      else if (node.action) await this.runInclude(node, hosts, chain);
      else await this.runTaskOnHosts(node, hosts, chain, false);
    }
  }

  /** --start-at-task and --step: whether this task is to run. */
  private async reached(task: TaskNode): Promise<boolean> {
    if (!this.progress.started) {
      if (!taskMatches(task, this.o.startAtTask!)) return false;
      this.progress.started = true;
    }
    if (!this.progress.stepping || !this.o.confirmTask) return true;
    const answer = await this.o.confirmTask(task.name);
    if (answer === 'continue') this.progress.stepping = false;
    return answer !== 'no';
  }

  /** `meta:` acts on the run: handlers now, the end of the play or of a host, facts forgotten. */
  private async runMeta(task: TaskNode, meta: MetaAction, hosts: HostState[], chain: BlockNode[]): Promise<void> {
    const keywords = this.keywordsOf(chain, task);
    const chosen: HostState[] = [];
    for (const h of hosts.filter((x) => x.active)) {
      try {
        if (whenHolds(keywords, this.scopeFor(h, task))) chosen.push(h);
      } catch (e) {
        this.failInclude(task, h, e);
      }
    }
    if (chosen.length === 0) return;
    this.emit({ type: 'log', message: `META: ${meta} (${task.where.file}:${task.where.line}) for ${chosen.map((h) => h.name).join(', ')}` });
    switch (meta) {
      case 'flush_handlers':
        await this.runHandlers(chosen);
        break;
      case 'end_host':
        for (const h of chosen) h.ended = true;
        break;
      case 'end_play':
        this.ended = true;
        break;
      case 'clear_facts':
        for (const h of chosen) h.facts = undefined;
        break;
      case 'noop':
        break;
    }
  }

  /**
   * include_tasks / include_role: for each host that reaches it (its `when` holding, once per loop
   * item), the file or role is read now and its tasks run; hosts that included the same file with
   * the same item run it together, as in Ansible's linear strategy.
   */
  private async runInclude(task: TaskNode, hosts: HostState[], chain: BlockNode[]): Promise<void> {
    const active = hosts.filter((h) => h.active);
    if (active.length === 0 || this.stopped) return;
    const keywords = this.keywordsOf(chain, task);
    this.emit({ type: 'task', play: this.play.name, name: task.name, where: `${task.where.file}:${task.where.line}`, hosts: active.map((h) => h.name) });
    const groups = new Map<string, { args: Record<string, unknown>; itemVars: Record<string, unknown>; hosts: HostState[] }>();
    const { apply: _apply, ...written } = task.args;
    for (const h of active) {
      const t0 = Date.now();
      const scope = this.scopeFor(h, task).withBelow('registered', 'task vars', keywords.vars ?? {});
      const noLog = flagOrFailure(keywords.no_log, scope, 'no_log').value === true;
      try {
        const loop = loopOf(keywords);
        const items = loop ? await loopItems(loop, keywords[loop], scope, task.baseDirs) : [undefined];
        const included: string[] = [];
        for (const [index, item] of items.entries()) {
          const control = keywords.loop_control ?? {};
          const itemVars = loop ? { [control.loop_var ?? 'item']: item, ...(control.index_var ? { [control.index_var]: index } : {}) } : {};
          const itemScope = loop ? scope.with('loop', itemVars, true) : scope;
          if (!whenHolds({ when: keywords.when }, itemScope)) continue;
          const args = itemScope.render(written) as Record<string, unknown>;
          const problems = validateAgainst(task.module.schema, args);
          if (problems.length) throw new TaskError(`${task.module.name}: ${problems[0].path.join('.') || 'arguments'}: ${problems[0].message} (after rendering expressions)`);
          const key = JSON.stringify([args, itemVars]);
          const group = groups.get(key) ?? { args, itemVars, hosts: [] };
          group.hosts.push(h);
          groups.set(key, group);
          included.push(String(args.file ?? args.name));
        }
        const outcome: TaskOutcome = included.length
          ? { status: 'ok', summary: `included: ${included.join(', ')}`, diffs: [], result: { included } }
          : { status: 'skipped', diffs: [], result: { skipped: true } };
        this.report(task, h, outcome, Date.now() - t0, false, { noLog });
      } catch (e) {
        this.failInclude(task, h, e);
      }
    }
    const apply = appliedKeywords(task);
    const tags = [...task.outerTags, ...(apply.tags ?? [])];
    for (const group of groups.values()) {
      const members = group.hosts.filter((h) => h.active);
      if (members.length === 0) continue;
      let nodes: Node[];
      try {
        nodes = await this.loadIncluded(task, group.args, tags);
      } catch (e) {
        for (const h of members) this.failInclude(task, h, e);
        continue;
      }
      const handedDown = { ...apply, vars: { ...task.keywords.vars, ...apply.vars, ...group.itemVars } };
      await this.runBlock({ kind: 'block', name: task.name, block: nodes, rescue: [], always: [], keywords: handedDown, tags, where: task.where }, members, chain);
    }
  }

  private async loadIncluded(task: TaskNode, args: Record<string, unknown>, tags: string[]): Promise<Node[]> {
    if (task.action?.kind === 'include_tasks') return loadIncludedTasks(task, String(args.file), this.play.loader, tags);
    const { nodes, handlers } = await loadIncludedRole(task, args, this.play, tags);
    const known = new Set(this.play.handlers);
    for (const handler of handlers) if (![...known].some((k) => k.where.file === handler.where.file && k.where.line === handler.where.line)) this.play.handlers.push(handler);
    this.knownHandlers = undefined;
    return nodes;
  }

  private failInclude(task: TaskNode, h: HostState, e: unknown): void {
    const message = `${formatWhere(task.where)}: ${(e as Error).message}`;
    this.report(task, h, { status: 'failed', diffs: [], message, result: { failed: true, msg: message } }, 0, false, { noLog: false });
  }

  private async runBlock(block: BlockNode, hosts: HostState[], chain: BlockNode[]): Promise<void> {
    const entered = hosts.filter((h) => h.active);
    if (entered.length === 0 || this.stopped) return;
    const inner = [...chain, block];
    const participants = block.role ? await this.checkRole(block, entered) : entered;
    await this.runNodes(block.block, participants, inner);
    const failedHere = participants.filter((h) => h.failed);
    if (block.rescue.length && failedHere.length) {
      for (const h of failedHere) {
        h.failed = false;
        h.counts.failed--;
        h.counts.rescued++;
      }
      await this.runNodes(block.rescue, failedHere, inner);
    }
    if (block.always.length) {
      const failedBefore = new Set(participants.filter((h) => h.failed));
      for (const h of failedBefore) h.failed = false;
      await this.runNodes(
        block.always,
        participants.filter((h) => !h.unreachable),
        inner,
      );
      for (const h of failedBefore) h.failed = true;
    }
    // Failures inside a block with a rescue count only once the block is over.
    if (block.rescue.length && !rescuable(chain)) {
      const fatal = this.keywordsOf(chain, block).any_errors_fatal;
      this.checkLimits(participants.filter((h) => h.failed && flag(fatal, this.scopeFor(h), 'any_errors_fatal')));
    }
  }

  private async checkRole(block: BlockNode, hosts: HostState[]): Promise<HostState[]> {
    const role = block.role!;
    if (!role.argumentSpec) return hosts;
    for (const h of hosts) {
      const problem = checkRoleArguments(role, this.scopeFor(h, block.block[0]?.kind === 'task' ? block.block[0] : undefined));
      if (!problem) continue;
      h.failed = true;
      h.counts.failed++;
      const where = whereOf(role.argumentSpec.options, problem.option) ?? role.argumentSpec.where;
      this.emit({
        type: 'result',
        play: this.play.name,
        host: h.name,
        task: `validate arguments of role ${role.name}`,
        where: `${where.file}:${where.line}`,
        module: 'role',
        status: 'failed',
        message: `${formatWhere(where)}: ${problem.message}`,
        durationMs: 0,
      });
    }
    return hosts.filter((h) => h.active);
  }

  private selectedByTags(task: TaskNode): boolean {
    return tagsSelected(task.tags, this.o.tags, this.o.skipTags);
  }

  private async runTaskOnHosts(task: TaskNode, hosts: HostState[], chain: BlockNode[], handler: boolean): Promise<void> {
    let active = hosts.filter((h) => h.active);
    if (active.length === 0 || (this.stopped && !handler)) return;
    const keywords = this.keywordsOf(chain, task);
    const runOnce = flag(keywords.run_once, this.scopeFor(active[0], task), 'run_once') === true;
    const where = `${task.where.file}:${task.where.line}`;
    if (runOnce) active = active.slice(0, 1);
    this.emit({ type: 'task', play: this.play.name, name: task.name, where, hosts: active.map((h) => h.name), handler });
    const outcomes = new Map<HostState, TaskOutcome>();
    const runOne = async (h: HostState) => {
      const t0 = Date.now();
      const scope = this.scopeFor(h, task);
      const withVars = scope.withBelow('registered', 'task vars', keywords.vars ?? {});
      const noLog = flagOrFailure(keywords.no_log, withVars, 'no_log');
      const diff = flagOrFailure(keywords.diff, withVars, 'diff');
      const outcome =
        noLog.error ??
        diff.error ??
        (await runTask(task, {
          check: this.o.check,
          keywords,
          scope,
          state: h,
          stateOf: this.stateOf,
          // A no_log task's module logs may hold its values: they are not shown.
          log: noLog.value ? () => {} : (message) => this.emit({ type: 'log', host: h.name, message }),
          observer: this.o.observer,
          handler,
        }));
      outcomes.set(h, outcome);
      this.report(task, h, outcome, Date.now() - t0, handler, { noLog: noLog.value !== false && noLog.value !== undefined, diff: diff.value });
    };
    const throttle = this.throttleOf(task, keywords, active[0]);
    await this.forEachHost(active, async (h) => {
      await throttle?.acquire();
      try {
        await runOne(h);
      } finally {
        throttle?.release();
      }
    });
    if (runOnce) {
      const [first] = active;
      const outcome = outcomes.get(first);
      const register = keywords.register;
      for (const h of hosts.filter((x) => x !== first && x.active)) {
        if (register) h.registered[register] = first.registered[register];
        if (outcome?.notify) this.notify(outcome, h);
      }
    }
    if (!handler && !rescuable(chain)) {
      const failedHere = [...outcomes].filter(([, o]) => (o.status === 'failed' && !o.ignored) || o.status === 'unreachable').map(([h]) => h);
      this.checkLimits(failedHere.filter((h) => flag(keywords.any_errors_fatal, this.scopeFor(h, task), 'any_errors_fatal')));
    }
  }

  private report(task: TaskNode, h: HostState, outcome: TaskOutcome, durationMs: number, handler: boolean, shown: { noLog: boolean; diff?: boolean }): void {
    const noLog = shown.noLog;
    const diffs = shown.diff === false ? [] : outcome.diffs;
    this.record(h, outcome.status, !!outcome.ignored);
    if (outcome.notify) this.notify(outcome, h);
    this.emit({
      type: 'result',
      play: this.play.name,
      host: h.name,
      task: task.name,
      where: `${task.where.file}:${task.where.line}`,
      module: task.module.name,
      status: outcome.status,
      summary: noLog ? undefined : outcome.summary,
      diffs: noLog ? diffs.map((d) => ({ target: d.target, before: '', after: '', secret: true })) : diffs,
      ...(shown.diff === true ? { diff: true } : {}),
      message: noLog && outcome.message ? 'the output has been hidden because no_log is set for this task' : outcome.message,
      ignored: outcome.ignored,
      handler,
      predicted: outcome.predicted,
      result: noLog ? { censored: 'the output has been hidden because no_log is set for this task' } : registeredValue(outcome),
      durationMs,
    });
  }

  private record(h: HostState, status: TaskStatus, ignored: boolean): void {
    if (status === 'failed' && ignored) {
      h.counts.ignored++;
      return;
    }
    h.counts[status]++;
    if (status === 'failed') h.failed = true;
    if (status === 'unreachable') h.unreachable = true;
  }

  private notify(outcome: TaskOutcome, h: HostState): void {
    const known = this.handlerNames();
    for (const name of outcome.notify ?? []) {
      if (!known.has(name)) {
        // An unknown outcome names every handler its notify expression could choose (see notifiedHandlers).
        if (outcome.status === 'unknown') continue;
        this.emit({ type: 'log', host: h.name, message: `warning: notified handler '${name}' does not exist in this play` });
      }
      h.notified.add(name);
    }
  }

  private async runHandlers(batch: HostState[]): Promise<void> {
    for (const handler of this.play.handlers) {
      const names = namesOf(handler);
      const hosts = batch.filter((h) => !h.unreachable && !h.ended && (this.play.forceHandlers || !h.failed) && names.some((n) => h.notified.has(n)));
      if (hosts.length === 0) continue;
      // A host that failed after a change still gets its handler (the restart is owed), unless force_handlers: false.
      const failed = hosts.filter((h) => h.failed);
      for (const h of failed) h.failed = false;
      // A handler may be an include_tasks (a restart written in its own file), as in Ansible.
      if (handler.action?.kind === 'include_tasks' || handler.action?.kind === 'include_role') await this.runInclude(handler, hosts, []);
      else if (handler.action?.kind === 'meta') await this.runMeta(handler, handler.action.meta, hosts, []);
      else await this.runTaskOnHosts(handler, hosts, [], true);
      for (const h of failed) h.failed = true;
    }
    for (const h of batch) h.notified.clear();
  }

  /**
   * The throttle of a task: one semaphore per task, shared by every host that runs it (under the
   * free strategy, hosts reach a task at different times). Undefined when the task has none.
   */
  private throttleOf(task: TaskNode, keywords: Keywords, first: HostState): Semaphore | undefined {
    const limit = resolveAmount(keywords.throttle, (t) => this.scopeFor(first, task).render(t), 'throttle');
    if (!limit || limit <= 0) return undefined;
    let sem = this.throttles.get(task);
    if (!sem) {
      sem = new Semaphore(Math.floor(limit));
      this.throttles.set(task, sem);
    }
    return sem;
  }

  private readonly throttles = new Map<TaskNode, Semaphore>();

  private async forEachHost(hosts: HostState[], fn: (h: HostState) => Promise<void>): Promise<void> {
    const forks = Math.max(1, this.o.forks ?? DEFAULT_FORKS);
    let next = 0;
    const worker = async () => {
      while (next < hosts.length) {
        const h = hosts[next++];
        await fn(h);
      }
    };
    await Promise.all(Array.from({ length: Math.min(forks, hosts.length) }, worker));
  }

  /** Variables for a task on a host, lowest precedence first (documented in the README). */
  scopeFor(h: HostState, task?: TaskNode): Scope {
    const role = task?.role;
    const layers: Layer[] = [
      { name: 'role defaults', vars: role ? { ...this.play.roleDefaults, ...role.defaults } : this.play.roleDefaults },
      { name: 'inventory', vars: h.inventoryVars },
      { name: 'facts', vars: h.facts ? factVariables(h.facts) : {}, data: true },
      { name: 'magic', vars: this.magicVars(h, task?.baseDirs ?? [this.play.dir]), data: true },
      { name: 'play vars_files', vars: this.play.varsFiles },
      { name: 'play vars', vars: this.play.vars },
      { name: 'role vars', vars: role?.vars ?? {} },
      { name: 'role params', vars: role?.params ?? {} },
      { name: 'registered', vars: h.registered, data: true },
      { name: 'extra vars', vars: this.o.extraVars ?? {} },
    ];
    return new Scope(layers);
  }

  /** Every group's hosts, made once per play: a scope is made for every host and task (500 hosts: 500 × 500 names each time). */
  private groups?: Record<string, string[]>;

  private magicVars(h: HostState, baseDirs: string[]): Record<string, unknown> {
    const inv = this.o.inventory;
    this.groups ??= Object.fromEntries([...inv.groups.keys()].map((g) => [g, inv.hostsOf(g)]));
    const stateOf = this.stateOf;
    const activeHosts = () => this.hosts.filter((x) => x.active).map((x) => x.name);
    const hostvars = new Proxy(
      {},
      {
        get: (_t, name) => (typeof name === 'string' && inv.hosts.has(name) ? this.scopeFor(stateOf(name)).locals() : undefined),
        has: (_t, name) => typeof name === 'string' && inv.hosts.has(name),
        ownKeys: () => [...inv.hosts.keys()],
        getOwnPropertyDescriptor: (_t, name) => (typeof name === 'string' && inv.hosts.has(name) ? { enumerable: true, configurable: true } : undefined),
      },
    );
    return {
      inventory_hostname: h.name,
      inventory_hostname_short: h.name.split('.')[0],
      groups: this.groups,
      group_names: inv.groupsOf(h.name).filter((g) => g !== 'ungrouped'),
      hostvars,
      // Made when a template reads them.
      get play_hosts() {
        return activeHosts();
      },
      get ansible_play_hosts() {
        return activeHosts();
      },
      ansible_play_name: this.play.name,
      ansible_check_mode: this.o.check,
      plinth_check_mode: this.o.check,
      playbook_dir: this.play.dir,
      ...lookupFunctions({ baseDirs, playbookDir: this.play.dir }),
    };
  }
}

/** A handler answers to its name and to each of its `listen` topics. */
function namesOf(handler: TaskNode): string[] {
  return [handler.name, ...(handler.keywords.listen ?? [])];
}

function checkHandlersExist(play: Play): void {
  const known = new Set(play.handlers.flatMap(namesOf));
  const visit = (nodes: Node[]) => {
    for (const n of nodes) {
      if (n.kind === 'block') {
        visit(n.block);
        visit(n.rescue);
        visit(n.always);
        continue;
      }
      for (const name of n.keywords.notify ?? []) {
        if (!known.has(name) && !name.includes('{{')) throw new SourceError(`notify: no handler named '${name}' in this play`, n.where);
      }
    }
  };
  visit(play.tasks);
  visit(play.handlers);
}

/** A failure inside a block with a rescue section may still be rescued. */
function rescuable(chain: BlockNode[]): boolean {
  return chain.some((b) => b.rescue.length > 0);
}

/** A flag keyword's value for a host, or the failure of a task whose flag expression does not give a boolean. */
function flagOrFailure(value: Keywords['no_log'], scope: Scope, name: string): { value?: boolean; error?: TaskOutcome } {
  try {
    return { value: flag(value, scope, name) };
  } catch (e) {
    // Unreadable no_log: hide, as Ansible does when in doubt.
    return { value: name === 'no_log' ? true : undefined, error: { status: 'failed', diffs: [], message: (e as Error).message, result: { failed: true, msg: (e as Error).message } } };
  }
}
