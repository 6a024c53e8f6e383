// stat: reports facts about a path (Ansible's key names), changing nothing.
import { createHash } from 'node:crypto';
import type { Module } from '../engine/types.js';

type StatResult = Record<string, unknown>;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['path'],
  properties: {
    path: { type: 'string', minLength: 1, 'x-aliases': ['dest', 'name'], description: 'absolute path on the host' },
    follow: { type: 'boolean', default: false, description: 'report on the target of a symbolic link instead of the link' },
    get_checksum: { type: 'boolean', default: true, description: 'include the SHA-1 checksum of a regular file' },
  },
} as const;

export const stat: Module<typeof schema, StatResult, never> = {
  name: 'stat',
  description: 'Report whether a path exists, its type, mode, owner, size and checksum',
  schema,
  readOnly: true,

  async observe(ctx, args) {
    const st = await ctx.host.stat(args.path, { ...ctx.become, follow: args.follow });
    if (!st) return { exists: false };
    const result: StatResult = {
      exists: true,
      path: args.path,
      isdir: st.type === 'directory',
      isreg: st.type === 'file',
      islnk: st.type === 'link',
      mode: st.mode,
      pw_name: st.owner,
      gr_name: st.group,
      size: st.size,
      mtime: st.mtime,
    };
    if (st.type === 'link') result.lnk_target = st.linkTarget;
    if (args.get_checksum && st.type === 'file') {
      // Read through the host, so that check mode sees the content earlier tasks would write.
      const content = await ctx.host.read(args.path, { ...ctx.become });
      if (content) result.checksum = createHash('sha1').update(content).digest('hex');
    }
    return result;
  },

  plan: (observed) => ({ changed: false, result: { stat: observed } }),

  async apply() {
    return { changed: false };
  },
};
