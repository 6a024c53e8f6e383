// modprobe (community.general's): a kernel module loaded or not (modprobe, modprobe -r), and
// with persistent, the files that load it at boot (/etc/modules-load.d/<name>.conf and its
// options in /etc/modprobe.d/<name>.conf). Unlike Ansible, persistent: absent removes plinth's
// files instead of commenting lines out.
import { ModuleError, type Module } from '../engine/types.js';
import { applyManagedFile, observeManagedFile, planManagedFile, type ManagedFile, type ManagedFileAction } from './support/managed-file.js';
import { execOrFail } from './support/host-commands.js';

interface Observed {
  loaded: boolean;
  loadFile: ManagedFile;
  optionsFile: ManagedFile;
}

interface ModprobeAction {
  files: ManagedFileAction[];
  remove: string[];
  load?: 'load' | 'unload';
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_-]+$', description: 'the kernel module, e.g. softdog' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'loaded or not' },
    params: { type: 'string', default: '', description: "module parameters, e.g. 'soft_margin=60'" },
    persistent: { enum: ['disabled', 'present', 'absent'], default: 'disabled', description: 'present: load it at boot (modules-load.d, modprobe.d); absent: not; disabled: leave those files alone' },
  },
} as const;

const loadPath = (name: string) => `/etc/modules-load.d/${name}.conf`;
const optionsPath = (name: string) => `/etc/modprobe.d/${name}.conf`;

export const modprobe: Module<typeof schema, Observed, ModprobeAction> = {
  name: 'modprobe',
  description: 'Load or unload a kernel module, and load it at boot',
  schema,

  async observe(ctx, args) {
    const module = args.name.replace(/-/g, '_');
    const loaded = !!(await ctx.host.stat(`/sys/module/${module}`, { follow: true }));
    return { loaded, loadFile: await observeManagedFile(ctx, loadPath(args.name), {}), optionsFile: await observeManagedFile(ctx, optionsPath(args.name), {}) };
  },

  plan(o, args) {
    const present = args.state === 'present';
    const load = present && !o.loaded ? 'load' : !present && o.loaded ? 'unload' : undefined;
    const files: ManagedFileAction[] = [];
    const remove: string[] = [];
    const diffs = [];
    if (args.persistent === 'present') {
      const wanted: [ManagedFile, string | null][] = [
        [o.loadFile, `${args.name}\n`],
        [o.optionsFile, args.params ? `options ${args.name} ${args.params}\n` : null],
      ];
      for (const [file, content] of wanted) {
        if (content === null) {
          if (file.stat) remove.push(file.path), diffs.push({ target: file.path, before: file.content?.toString('utf8') ?? '', after: '' });
          continue;
        }
        const plan = planManagedFile(file, Buffer.from(content), { makeParents: true });
        if ('action' in plan) files.push(plan.action), diffs.push(...(plan.diffs ?? []));
      }
    } else if (args.persistent === 'absent') {
      for (const file of [o.loadFile, o.optionsFile]) if (file.stat) remove.push(file.path), diffs.push({ target: file.path, before: file.content?.toString('utf8') ?? '', after: '' });
    }
    const result = { name: args.name, state: args.state, params: args.params };
    if (!load && !files.length && !remove.length) return { changed: false, summary: `${args.name} ${o.loaded ? 'loaded' : 'not loaded'}`, result };
    if (load) diffs.push({ target: `module ${args.name}`, before: o.loaded ? 'loaded\n' : 'not loaded\n', after: present ? 'loaded\n' : 'not loaded\n' });
    const summary = [load ? `${load} ${args.name}` : '', ...files.map((f) => `write ${f.path}`), ...remove.map((p) => `remove ${p}`)].filter(Boolean).join(', ');
    return { changed: true, summary, diffs, action: { files, remove, load }, result };
  },

  async apply(ctx, action, args) {
    for (const f of action.files) await applyManagedFile(ctx, f);
    if (action.remove.length) await execOrFail(ctx, ['rm', '-f', '--', ...action.remove], 'cannot remove the persistence files');
    if (action.load === 'load') {
      const r = await ctx.host.exec(['modprobe', args.name, ...args.params.split(/\s+/).filter(Boolean)], { ...ctx.become });
      if (r.exitCode !== 0) throw new ModuleError(`modprobe ${args.name} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
    }
    if (action.load === 'unload') await execOrFail(ctx, ['modprobe', '-r', args.name], `modprobe -r ${args.name} failed`);
    return {};
  },
};
