// group: a local group present (with a gid, a system gid) or absent, with groupadd, groupmod
// and groupdel.
import type { Module } from '../engine/types.js';
import { execOrFail } from './support/host-commands.js';
import { ACCOUNT_NAME, groupEntry, type GroupEntry } from './support/accounts.js';

interface GroupAction {
  argv: string[];
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: ACCOUNT_NAME, description: 'group name' },
    gid: { type: 'integer', minimum: 0, description: 'group id (changed with groupmod when the group exists)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the group should exist' },
    system: { type: 'boolean', default: false, description: 'create it with a system gid' },
    non_unique: { type: 'boolean', default: false, description: 'allow a gid another group already has (needs gid)' },
  },
} as const;

export const group: Module<typeof schema, { group: GroupEntry | null }, GroupAction> = {
  name: 'group',
  description: 'Create, change or remove a local group',
  schema,

  observe: async (ctx, args) => ({ group: await groupEntry(ctx, args.name) }),

  plan({ group: current }, args) {
    const result = { name: args.name, state: args.state, ...(current ? { gid: current.gid } : {}), system: args.system };
    const show = (g: { name: string; gid?: number } | null) => (g ? `group ${g.name}\ngid ${g.gid ?? '(assigned by groupadd)'}\n` : '');
    if (args.state === 'absent') {
      if (!current) return { changed: false, summary: `group ${args.name} absent`, result };
      return {
        changed: true,
        summary: `remove group ${args.name}`,
        diffs: [{ target: `group ${args.name}`, before: show(current), after: '' }],
        action: { argv: ['groupdel', args.name] },
        result: { ...result },
      };
    }
    const unique = args.non_unique ? ['-o'] : [];
    if (!current) {
      const argv = ['groupadd', ...(args.gid !== undefined ? ['-g', String(args.gid), ...unique] : []), ...(args.system ? ['-r'] : []), args.name];
      return {
        changed: true,
        summary: `create group ${args.name}${args.gid !== undefined ? ` (gid ${args.gid})` : ''}`,
        diffs: [{ target: `group ${args.name}`, before: '', after: show({ name: args.name, gid: args.gid }) }],
        action: { argv },
        result,
      };
    }
    if (args.gid === undefined || args.gid === current.gid) return { changed: false, summary: `group ${args.name} gid ${current.gid}`, result };
    return {
      changed: true,
      summary: `gid of group ${args.name} ${current.gid} → ${args.gid}`,
      diffs: [{ target: `group ${args.name}`, before: show(current), after: show({ name: args.name, gid: args.gid }) }],
      action: { argv: ['groupmod', '-g', String(args.gid), ...unique, args.name] },
      result: { ...result, gid: args.gid },
    };
  },

  async apply(ctx, action, args) {
    await execOrFail(ctx, action.argv, `${action.argv[0]} ${args.name} failed`);
    const after = await groupEntry(ctx, args.name);
    return { result: after ? { gid: after.gid } : {} };
  },
};
