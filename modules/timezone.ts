// timezone: /etc/localtime points at the zone and /etc/timezone names it (what timedatectl and
// Debian's tzdata do), checked against the zones the host has.
import { ModuleError, type Module } from '../engine/types.js';

interface Observed {
  link: string | null;
  file: string | null;
  zoneExists: boolean;
}

const ZONES = '/usr/share/zoneinfo';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$', description: 'zone name, e.g. Etc/UTC or Europe/Berlin' },
    hwclock: { enum: ['local', 'UTC'], description: 'accepted for Ansible compatibility; the hardware clock is left alone' },
  },
} as const;

export const timezone: Module<typeof schema, Observed, { link: boolean; file: boolean }> = {
  name: 'timezone',
  description: 'Set the time zone of the host',
  schema,

  async observe(ctx, args) {
    const st = await ctx.host.stat('/etc/localtime', { ...ctx.become });
    const file = await ctx.host.read('/etc/timezone', { ...ctx.become });
    const zone = await ctx.host.stat(`${ZONES}/${args.name}`, { follow: true });
    return { link: st?.type === 'link' ? (st.linkTarget ?? null) : null, file: file ? file.toString('utf8').trim() : null, zoneExists: zone?.type === 'file' };
  },

  plan(o, args) {
    if (!o.zoneExists) throw new ModuleError(`timezone: ${args.name} is not a time zone on this host (no ${ZONES}/${args.name}; is tzdata installed?)`);
    const current = o.link?.replace(/^(\.\.)?\/usr\/share\/zoneinfo\//, '') ?? null;
    const link = current !== args.name;
    const file = o.file !== args.name;
    const result = { name: args.name };
    if (!link && !file) return { changed: false, summary: `time zone ${args.name}`, result };
    return {
      changed: true,
      // The link is what the system uses; when only /etc/timezone is wrong, that is what is shown.
      summary: link ? `time zone ${current ?? o.file ?? 'unset'} → ${args.name}` : `/etc/timezone ${o.file ?? 'unset'} → ${args.name}`,
      diffs: [{ target: 'timezone', before: `${(link ? (current ?? o.file) : o.file) ?? ''}\n`, after: `${args.name}\n` }],
      action: { link, file },
      result,
    };
  },

  async apply(ctx, action, args) {
    if (action.link) {
      const r = await ctx.host.exec(['ln', '-sfn', `${ZONES}/${args.name}`, '/etc/localtime'], { ...ctx.become });
      if (r.exitCode !== 0) throw new ModuleError(`cannot link /etc/localtime to ${args.name}: ${r.stderr.trim()}`);
    }
    if (action.file) await ctx.host.write('/etc/timezone', `${args.name}\n`, { mode: '0644', ...ctx.become });
    return {};
  },
};
