// hostname: the host's name, now (hostname) and at boot (/etc/hostname), as Ansible's Debian
// strategy sets it.
import { ModuleError, type Module } from '../engine/types.js';

interface Observed {
  running: string;
  file: string | null;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$', description: 'the host name' },
    use: { enum: ['debian', 'systemd'], description: 'accepted for Ansible compatibility: plinth writes /etc/hostname and runs hostname' },
  },
} as const;

export const hostname: Module<typeof schema, Observed, { writeFile: boolean; setRunning: boolean }> = {
  name: 'hostname',
  description: 'Set the host name (now and at boot)',
  schema,

  async observe(ctx) {
    const r = await ctx.host.exec(['hostname']);
    if (r.exitCode !== 0) throw new ModuleError(`hostname failed: ${r.stderr.trim()}`);
    const file = await ctx.host.read('/etc/hostname', { ...ctx.become });
    return { running: r.stdout.trim(), file: file ? file.toString('utf8').trim() : null };
  },

  plan(o, args) {
    const writeFile = o.file !== args.name;
    const setRunning = o.running !== args.name;
    const result = { ansible_facts: { ansible_hostname: args.name.split('.')[0], ansible_nodename: args.name }, name: args.name };
    if (!writeFile && !setRunning) return { changed: false, summary: `hostname ${args.name}`, result };
    return {
      changed: true,
      summary: `hostname ${o.running} → ${args.name}`,
      diffs: [{ target: 'hostname', before: `hostname = ${o.running}\n/etc/hostname = ${o.file ?? ''}\n`, after: `hostname = ${args.name}\n/etc/hostname = ${args.name}\n` }],
      writes: writeFile ? [{ path: '/etc/hostname', content: `${args.name}\n` }] : undefined,
      action: { writeFile, setRunning },
      result,
    };
  },

  async apply(ctx, action, args) {
    if (action.writeFile) await ctx.host.write('/etc/hostname', `${args.name}\n`, { mode: '0644', ...ctx.become });
    if (action.setRunning) {
      const r = await ctx.host.exec(['hostname', args.name], { ...ctx.become });
      if (r.exitCode !== 0) throw new ModuleError(`hostname ${args.name} failed: ${r.stderr.trim()}`);
    }
    return {};
  },
};
