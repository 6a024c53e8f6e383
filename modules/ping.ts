// ping: proves that plinth can log in to the host and run a command there (Ansible's ping
// proves the same for its Python). It returns `ping: <data>`, "pong" by default.
import { ModuleError, type Module } from '../engine/types.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    data: { type: 'string', default: 'pong', description: "what to return as `ping`; 'crash' makes the task fail, as in Ansible" },
  },
} as const;

export const ping: Module<typeof schema, { echoed: string }, never> = {
  name: 'ping',
  description: 'Check that the host can be reached and runs commands',
  schema,
  readOnly: true,

  async observe(ctx, args) {
    const data = args.data;
    const r = await ctx.host.exec(['echo', data], { ...ctx.become });
    if (r.exitCode !== 0) throw new ModuleError(`ping: cannot run a command on ${ctx.host.name}: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
    return { echoed: r.stdout.replace(/\n$/, '') };
  },

  plan(observed, args) {
    if (args.data === 'crash') throw new ModuleError('boom (ping: data=crash makes the task fail)');
    return { changed: false, result: { ping: observed.echoed } };
  },

  async apply() {
    return { changed: false };
  },
};
