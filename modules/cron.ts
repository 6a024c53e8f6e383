// cron: a named job (or environment variable) in a user's crontab or in a cron.d file, marked
// the way Ansible marks it ("#Ansible: <name>" above the line), so that crontabs Ansible wrote
// are managed the same and back.
import * as path from 'node:path';
import { ModuleError, type ArgsOf, type Module, type ModuleContext } from '../engine/types.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { readLines } from './support/text.js';

interface Observed {
  lines: string[];
  exists: boolean;
  /** A cron_file: written as any other managed file (atomically, 0644). */
  file?: ManagedFile;
}

/** A crontab's new content (installed with crontab), or a cron_file's write. */
type CronAction = { content: string } | { file: ManagedFileAction };

type CronArgs = ArgsOf<typeof schema>;

const FIELD = { type: ['string', 'integer'], default: '*' } as const;
const TIME_FIELDS = ['minute', 'hour', 'day', 'month', 'weekday'] as const;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  allOf: [
    {
      anyOf: [{ required: ['state'], properties: { state: { const: 'absent' } } }, { required: ['env'], properties: { env: { const: true } } }, { required: ['job'] }],
      'x-message': 'job is required with state present (unless env: true)',
    },
    {
      // A time field written as '*' is what special_time means too (Ansible accepts it).
      not: { required: ['special_time'], anyOf: TIME_FIELDS.map((f) => ({ required: [f], properties: { [f]: { not: { const: '*' } } } })) },
      'x-message': 'special_time cannot be combined with minute, hour, day, month or weekday',
    },
  ],
  properties: {
    name: { type: 'string', minLength: 1, pattern: '^[^\\n]+$', description: 'the entry’s name (the "#Ansible: name" marker); with env, the variable' },
    job: { type: 'string', pattern: '^[^\\n]+$', description: 'the command (required with state present, unless env)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the entry should be there' },
    user: { type: 'string', pattern: '^[a-z_][a-z0-9_.-]*$', description: "whose crontab (default: the connection's user); in a cron_file, who runs the job (default root)" },
    cron_file: { type: 'string', pattern: '^[^\\s]+$', description: 'a file in /etc/cron.d (or an absolute path) instead of the user’s crontab' },
    minute: { ...FIELD, description: 'minute field' },
    hour: { ...FIELD, description: 'hour field' },
    day: { ...FIELD, description: 'day of month field' },
    month: { ...FIELD, description: 'month field' },
    weekday: { ...FIELD, description: 'day of week field' },
    special_time: { enum: ['annually', 'daily', 'hourly', 'monthly', 'reboot', 'weekly', 'yearly'], description: '@daily etc. instead of the five fields' },
    disabled: { type: 'boolean', default: false, description: 'keep the entry commented out' },
    env: { type: 'boolean', default: false, description: 'manage an environment variable (name=value) instead of a job' },
    value: { type: 'string', description: 'the variable’s value (with env)' },
  },
} as const;

function cronFilePath(file: string): string {
  return path.posix.isAbsolute(file) ? file : path.posix.join('/etc/cron.d', file);
}

/** The line the entry should have. */
function cronLine(args: CronArgs): string {
  if (args.env) return `${args.name}=${args.value ?? ''}`;
  const when = args.special_time ? `@${args.special_time}` : TIME_FIELDS.map((f) => String(args[f])).join(' ');
  const who = args.cron_file ? ` ${args.user ?? 'root'}` : '';
  return `${args.disabled ? '#' : ''}${when}${who} ${args.job}`;
}

/** The crontab's lines with the named entry set or removed (marker and line together). */
export function editCrontab(lines: string[], args: CronArgs): string[] {
  const marker = `#Ansible: ${args.name}`;
  const out: string[] = [];
  let placed = false;
  for (let i = 0; i < lines.length; i++) {
    if (lines[i].replace(/\n$/, '') !== marker) {
      out.push(lines[i]);
      continue;
    }
    i++; // the entry's line follows its marker
    if (args.state === 'absent' || placed) continue;
    out.push(`${marker}\n`, `${cronLine(args)}\n`);
    placed = true;
  }
  if (args.state !== 'absent' && !placed) {
    if (out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
    // Ansible puts variables first, jobs last.
    const entry = [`${marker}\n`, `${cronLine(args)}\n`];
    if (args.env) out.unshift(...entry);
    else out.push(...entry);
  }
  return out;
}

export const cron: Module<typeof schema, Observed, CronAction> = {
  name: 'cron',
  description: 'Manage a named cron job or variable in a crontab or cron.d file',
  schema,

  async observe(ctx, args) {
    if (args.cron_file) {
      const file = await observeManagedFile(ctx, cronFilePath(args.cron_file), { mode: '0644' });
      return { lines: file.content ? readLines(file.content.toString('utf8')) : [], exists: !!file.stat, file };
    }
    const r = await crontab(ctx, args, ['-l']);
    if (r.exitCode !== 0 && !/no crontab for/.test(r.stderr)) throw new ModuleError(`crontab -l failed: ${r.stderr.trim()}`);
    return { lines: r.exitCode === 0 ? readLines(r.stdout) : [], exists: r.exitCode === 0 };
  },

  plan(o, args) {
    const before = o.lines.join('');
    const after = editCrontab(o.lines, args).join('');
    const target = args.cron_file ? cronFilePath(args.cron_file) : `crontab of ${args.user ?? 'the login user'}`;
    const result = { jobs: [args.name], state: args.state, ...(args.cron_file ? { cron_file: cronFilePath(args.cron_file) } : {}) };
    const summary = `${args.state === 'absent' ? 'remove' : before.includes(`#Ansible: ${args.name}\n`) ? 'update' : 'add'} ${args.name} in ${target}`;
    const unchanged = `${args.name} ${args.state === 'absent' ? 'absent' : 'present'} in ${target}`;
    if (o.file) {
      const plan = planManagedFile(o.file, Buffer.from(after), { makeParents: true, result });
      if ('unknown' in plan) return plan;
      if (!plan.changed) return { ...plan, summary: unchanged };
      // Only the mode differs: the managed file's own summary says so.
      return { ...plan, summary: before === after ? plan.summary : summary, action: { file: plan.action } };
    }
    if (before === after) return { changed: false, summary: unchanged, result };
    return { changed: true, summary, diffs: [{ target, before, after }], action: { content: after }, result };
  },

  async apply(ctx, action, args) {
    if ('file' in action) return applyManagedFile(ctx, action.file);
    const r = await crontab(ctx, args, ['-'], action.content);
    if (r.exitCode !== 0) throw new ModuleError(`crontab failed: ${r.stderr.trim()}`);
    return {};
  },
};

function crontab(ctx: ModuleContext, args: CronArgs, argv: string[], stdin?: string) {
  return ctx.host.exec(['crontab', ...(args.user ? ['-u', args.user] : []), ...argv], { ...ctx.become, stdin });
}
