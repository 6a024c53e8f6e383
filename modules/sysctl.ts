// sysctl: a kernel parameter in a sysctl file (name=value), optionally set in the running kernel
// too (sysctl_set) and the file loaded after a change (reload), as Ansible's sysctl does.
// Values compare as Ansible compares them: yes/true are 1, no/false 0, whitespace collapsed.
import { ModuleError, type Diff, type Module } from '../engine/types.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { decodeText, readLines } from './support/text.js';

interface Observed {
  file: ManagedFile;
  /** The running kernel's value (read when sysctl_set is true); null when the key does not exist. */
  running?: string | null;
}

interface SysctlAction {
  file?: ManagedFileAction;
  setRunning?: string;
  reload: boolean;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  anyOf: [{ properties: { state: { const: 'absent' } }, required: ['state'] }, { required: ['value'] }],
  'x-message': 'value is required with state present',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_.*/-]+$', description: 'the parameter, e.g. vm.overcommit_memory or kernel.shmmax' },
    value: { type: ['string', 'number', 'boolean'], description: 'its value (required with state present)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the file sets the parameter' },
    reload: { type: 'boolean', default: true, description: 'after the file changes, load it (sysctl -p FILE)' },
    sysctl_file: { type: 'string', pattern: '^/', default: '/etc/sysctl.conf', description: 'the file that sets it, e.g. /etc/sysctl.d/30-postgresql.conf' },
    sysctl_set: { type: 'boolean', default: false, description: 'also set it in the running kernel when its value differs (sysctl -w)' },
    ignoreerrors: { type: 'boolean', default: false, description: 'ignore unknown keys when reloading (sysctl -e)' },
  },
} as const;

/** Ansible's comparison form of a value. */
export function normalizeSysctlValue(value: unknown): string {
  const text = String(value).trim();
  if (/^(yes|true)$/i.test(text)) return '1';
  if (/^(no|false)$/i.test(text)) return '0';
  return text.split(/\s+/).join(' ');
}

/** The file's lines with the parameter set (first line replaced, duplicates dropped) or removed. */
export function editSysctlFile(lines: string[], name: string, value: string | null): { lines: string[]; before: string | null } {
  const out: string[] = [];
  let before: string | null = null;
  let written = false;
  for (const line of lines) {
    const m = /^\s*([^#;=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m || m[1] !== name) {
      out.push(line);
      continue;
    }
    before ??= m[2];
    if (value === null || written) continue;
    out.push(normalizeSysctlValue(m[2]) === value ? line : `${name}=${value}\n`);
    written = true;
  }
  if (value !== null && !written) {
    if (out.length && !out[out.length - 1].endsWith('\n')) out[out.length - 1] += '\n';
    out.push(`${name}=${value}\n`);
  }
  return { lines: out, before };
}

export const sysctl: Module<typeof schema, Observed, SysctlAction> = {
  name: 'sysctl',
  description: 'Set a kernel parameter in a sysctl file and, if asked, in the running kernel',
  schema,

  async observe(ctx, args) {
    const file = await observeManagedFile(ctx, args.sysctl_file, {});
    if (file.stat && file.stat.type !== 'file') throw new ModuleError(`sysctl: ${args.sysctl_file} is not a file`);
    if (!args.sysctl_set) return { file };
    const r = await ctx.host.exec(['sysctl', '-n', args.name]);
    return { file, running: r.exitCode === 0 ? normalizeSysctlValue(r.stdout) : null };
  },

  plan({ file, running }, args, ctx) {
    const present = args.state === 'present';
    const value = present ? normalizeSysctlValue(args.value) : null;
    const lines = file.content ? readLines(decodeText(file.content, file.path)) : [];
    const edit = editSysctlFile(lines, args.name, value);
    const desired = Buffer.from(edit.lines.join(''), 'utf8');
    const fileChanges = !(file.content ?? Buffer.from('')).equals(desired) && (file.content !== null || present);
    const planned = fileChanges ? planManagedFile(file, desired, { makeParents: true }) : null;
    const filePlan = planned && 'action' in planned ? planned : null;
    if (args.sysctl_set && present && running === null && !ctx.check) throw new ModuleError(`sysctl: ${args.name} is not a kernel parameter on this host`);
    const setRunning = args.sysctl_set && present && running !== undefined && running !== null && running !== value ? value! : undefined;
    const result = { name: args.name, value: value ?? undefined, state: args.state, sysctl_file: args.sysctl_file };
    if (!filePlan && setRunning === undefined) return { changed: false, summary: `${args.name} = ${edit.before ?? '(not set)'}`, result };
    const diffs: Diff[] = [...(filePlan?.diffs ?? [])];
    if (setRunning !== undefined) diffs.push({ target: `kernel ${args.name}`, before: `${running}\n`, after: `${setRunning}\n` });
    const summary = [
      filePlan ? `${present ? `${args.name}=${value}` : `remove ${args.name}`} in ${args.sysctl_file}` : '',
      setRunning !== undefined ? `set ${args.name} to ${setRunning} in the kernel` : '',
      filePlan && args.reload ? `reload ${args.sysctl_file}` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return {
      changed: true,
      summary,
      diffs,
      writes: filePlan?.writes,
      action: { file: filePlan?.action, setRunning, reload: !!filePlan && args.reload !== false },
      result,
    };
  },

  async apply(ctx, action, args) {
    if (action.file) await applyManagedFile(ctx, action.file);
    if (action.setRunning !== undefined) await sysctlCommand(ctx, ['-w', `${args.name}=${action.setRunning}`]);
    if (action.reload) await sysctlCommand(ctx, [...(args.ignoreerrors ? ['-e'] : []), '-p', args.sysctl_file]);
    return {};
  },
};

async function sysctlCommand(ctx: Parameters<Module['apply']>[0], argv: string[]): Promise<void> {
  const r = await ctx.host.exec(['sysctl', ...argv], { ...ctx.become });
  // sysctl -p reports an unknown key on stderr but may still exit 0 (procps before 4).
  if (r.exitCode !== 0 || /^sysctl: /m.test(r.stderr)) {
    throw new ModuleError(`sysctl ${argv.join(' ')} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
  }
}
