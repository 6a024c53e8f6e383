// slurp: reads a file from the host and returns its content base64-encoded (Ansible's key
// names), changing nothing. In check mode it reads the file as earlier tasks of the run would
// have left it, so a later command can be given what an unapplied template will write.
import { ModuleError, type Module } from '../engine/types.js';

type Observed = { content: Buffer | null };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['src'],
  properties: {
    src: { type: 'string', minLength: 1, pattern: '^/', 'x-aliases': ['path'], description: 'absolute path of the file on the host' },
  },
} as const;

export const slurp: Module<typeof schema, Observed, never> = {
  name: 'slurp',
  description: 'Read a file from the host (base64 content in the result)',
  schema,
  readOnly: true,

  async observe(ctx, args) {
    return { content: await ctx.host.read(args.src, { ...ctx.become }) };
  },

  plan(observed, args) {
    if (observed.content === null) throw new ModuleError(`file not found: ${args.src}`);
    return { changed: false, summary: `${observed.content.length} bytes`, result: { content: observed.content.toString('base64'), encoding: 'base64', source: args.src } };
  },

  async apply() {
    throw new ModuleError('slurp changes nothing');
  },
};
