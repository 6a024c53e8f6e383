// systemd: a unit's run state (started, stopped, restarted, reloaded), whether it is
// enabled or masked, and daemon-reload. The unit's state is read with `systemctl show`.
// restarted and reloaded always act (as in Ansible): they are what handlers ask for.
// In check mode, a unit a planned change stopped or started is seen in that state by later tasks.
import { ModuleError, type Module, type ModuleContext, type ArgsOf } from '../engine/types.js';

type SystemdArgs = ArgsOf<typeof schema>;

export interface UnitState {
  LoadState: string;
  ActiveState: string;
  SubState: string;
  UnitFileState: string;
  NeedDaemonReload: string;
}

type Observed = { unit: UnitState | null };

type Step = 'daemon-reload' | 'unmask' | 'mask' | 'enable' | 'disable' | 'start' | 'stop' | 'restart' | 'reload';

interface SystemdAction {
  steps: Step[];
}

const PROPERTIES = ['Id', 'LoadState', 'ActiveState', 'SubState', 'UnitFileState', 'NeedDaemonReload'];
/** UnitFileState values for which `enable` has nothing left to do. */
const ENABLED = new Set(['enabled', 'enabled-runtime', 'static', 'indirect', 'generated', 'transient', 'alias', 'linked', 'linked-runtime']);
const RUNNING = new Set(['active', 'activating', 'reloading']);

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    name: { type: 'string', minLength: 1, 'x-aliases': ['service', 'unit'], pattern: '^[^\\s/]+$', description: 'unit name, e.g. postgresql@15-main (".service" may be omitted)' },
    state: { enum: ['started', 'stopped', 'restarted', 'reloaded'], description: 'started/stopped act only when needed; restarted/reloaded always act' },
    enabled: { type: 'boolean', description: 'start at boot' },
    masked: { type: 'boolean', description: 'masked units cannot be started' },
    daemon_reload: { type: 'boolean', default: false, description: 'run systemctl daemon-reload first (with a name: only when the unit needs it)' },
    no_block: { type: 'boolean', default: false, description: 'do not wait for start/stop/restart jobs to finish' },
  },
  anyOf: [{ required: ['name'] }, { properties: { daemon_reload: { const: true } }, required: ['daemon_reload'] }],
  'x-message': 'name a unit (with state, enabled or masked), or set daemon_reload: true',
} as const;

export const systemd: Module<typeof schema, Observed, SystemdAction> = {
  name: 'systemd',
  description: 'Start, stop, restart, reload, enable or mask a systemd unit',
  schema,

  async observe(ctx, args) {
    if (!args.name) return { unit: null };
    const r = await ctx.host.exec(['systemctl', 'show', args.name, `--property=${PROPERTIES.join(',')}`]);
    if (r.exitCode !== 0) {
      throw new ModuleError(`systemctl show ${args.name} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`} (is systemd running on ${ctx.host.name}?)`);
    }
    const unit = parseShow(r.stdout);
    const predicted = ctx.host.predictedEffect?.(unitEffectKey(args.name)) as Partial<UnitState> | undefined;
    return { unit: predicted ? { ...unit, ...predicted } : unit };
  },

  plan: planSystemd,

  async apply(ctx, action, args) {
    for (const step of action.steps) await systemctl(ctx, step, args);
    const acted = action.steps.some((s) => s !== 'daemon-reload');
    return { changed: acted };
  },
};

export function parseShow(stdout: string): UnitState {
  const values: Record<string, string> = {};
  for (const line of stdout.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) values[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return {
    LoadState: values.LoadState ?? '',
    ActiveState: values.ActiveState ?? '',
    SubState: values.SubState ?? '',
    UnitFileState: values.UnitFileState ?? '',
    NeedDaemonReload: values.NeedDaemonReload ?? 'no',
  };
}

export function planSystemd(observed: Observed, args: SystemdArgs, ctx?: Pick<ModuleContext, 'check'>) {
  const unit = observed.unit;
  const steps: Step[] = [];
  if (args.daemon_reload && (!unit || unit.NeedDaemonReload === 'yes')) steps.push('daemon-reload');
  if (unit && args.name) {
    const masked = unit.LoadState === 'masked' || unit.UnitFileState.startsWith('masked');
    if (unit.LoadState === 'not-found' && !(args.masked === true)) {
      const reason = `unit ${args.name} does not exist`;
      if (ctx?.check) return { unknown: true as const, summary: `unit ${args.name}`, reason: `${reason} yet (an earlier task, such as a package install, may create it)` };
      if (args.state !== 'stopped' && args.enabled !== false) throw new ModuleError(reason);
    } else {
      if (args.masked === false && masked) steps.push('unmask');
      if (args.masked === true && !masked) steps.push('mask');
      if (args.enabled === true && !ENABLED.has(unit.UnitFileState)) steps.push('enable');
      if (args.enabled === false && ['enabled', 'enabled-runtime', 'linked', 'linked-runtime', 'alias'].includes(unit.UnitFileState)) steps.push('disable');
      const running = RUNNING.has(unit.ActiveState);
      if (args.state === 'started' && !running) steps.push('start');
      if (args.state === 'stopped' && running) steps.push('stop');
      if (args.state === 'restarted') steps.push('restart');
      if (args.state === 'reloaded') steps.push(running ? 'reload' : 'start');
    }
  }
  const result = unit ? { status: { ActiveState: unit.ActiveState, SubState: unit.SubState, UnitFileState: unit.UnitFileState } } : {};
  if (!steps.length) return { changed: false as const, summary: unit ? `${args.name} ${unit.ActiveState}` : 'nothing to do', result };
  const summary = steps.map((s) => (s === 'daemon-reload' ? s : `${s} ${args.name}`)).join(', ');
  const after = unit ? projected(unit, steps) : undefined;
  return {
    changed: true as const,
    summary,
    diffs: unit && after ? [{ target: `unit ${args.name}`, before: describe(unit), after: describe(after) }] : [],
    action: { steps },
    // What the unit is after the steps is all they change that a later task can observe through systemd.
    effects: after && args.name ? { [unitEffectKey(args.name)]: { ActiveState: after.ActiveState, UnitFileState: after.UnitFileState, LoadState: after.LoadState, NeedDaemonReload: 'no' } } : {},
    result,
  };
}

/** The key of a unit's predicted state: `pgpool2` and `pgpool2.service` are one unit. */
function unitEffectKey(name: string): string {
  return `unit:${/\.[a-z]+$/.test(name) ? name : `${name}.service`}`;
}

function projected(unit: UnitState, steps: Step[]): UnitState {
  const next = { ...unit };
  for (const s of steps) {
    if (s === 'mask') {
      next.UnitFileState = 'masked';
      next.LoadState = 'masked';
    }
    if (s === 'unmask') next.LoadState = 'loaded';
    if (s === 'unmask' || s === 'disable') next.UnitFileState = 'disabled';
    if (s === 'enable') next.UnitFileState = 'enabled';
    if (s === 'start' || s === 'restart' || s === 'reload') next.ActiveState = 'active';
    if (s === 'stop') next.ActiveState = 'inactive';
  }
  return next;
}

function describe(unit: UnitState): string {
  return `active: ${unit.ActiveState}\nenabled: ${unit.UnitFileState || 'n/a'}\n`;
}

async function systemctl(ctx: ModuleContext, step: Step, args: SystemdArgs): Promise<void> {
  const argv =
    step === 'daemon-reload' ? ['systemctl', 'daemon-reload'] : ['systemctl', ...(args.no_block && ['start', 'stop', 'restart', 'reload'].includes(step) ? ['--no-block'] : []), step, args.name!];
  const r = await ctx.host.exec(argv, { ...ctx.become, timeout: 600_000 });
  if (r.exitCode !== 0) {
    const status = await ctx.host.exec(['systemctl', 'status', '--no-pager', '--lines=10', args.name ?? '']).catch(() => null);
    throw new ModuleError(`systemctl ${step}${args.name ? ` ${args.name}` : ''} failed: ${r.stderr.trim()}${status?.stdout ? `\n${status.stdout.trim()}` : ''}`);
  }
}
