// A playbook's own module: KEY=value lines in an environment file (/etc/default/*, .env).
import type { ArgsOf, Module } from 'plinth';

// The one declaration of the arguments: plinth validates them with it, TypeScript types them from it.
const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'values'],
  properties: {
    path: { type: 'string', description: 'The file; created when missing.' },
    values: { type: 'object', additionalProperties: { type: 'string' }, description: 'KEY: value' },
  },
} as const;
type Args = ArgsOf<typeof schema>;
interface Observed {
  text: string | null;
}

/** Pure: the arguments and what observe saw give the plan, so fixtures test it without a host. */
export function planEnvLines(observed: Observed, args: Args) {
  const before = observed.text ?? '';
  const lines = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const changed = Object.entries(args.values).filter(([key, value]) => {
    const at = lines.findIndex((line) => line.startsWith(`${key}=`));
    if (lines[at] === `${key}=${value}`) return false;
    lines.splice(at >= 0 ? at : lines.length, at >= 0 ? 1 : 0, `${key}=${value}`);
    return true;
  });
  if (changed.length === 0 && observed.text !== null) return { changed: false as const, summary: `${args.path} up to date` };
  const after = lines.length ? `${lines.join('\n')}\n` : '';
  const summary = `set ${changed.map(([key]) => key).join(', ') || 'nothing'} in ${args.path}`;
  const diffs = [{ target: args.path, before, after }];
  return { changed: true as const, summary, diffs, writes: [{ path: args.path, content: after }], action: after };
}

const envLine: Module<typeof schema, Observed, string> = {
  name: 'env_line',
  description: 'KEY=value lines in an environment file',
  schema,
  async observe(ctx, args) {
    const content = await ctx.host.read(args.path, ctx.become);
    return { text: content === null ? null : content.toString('utf8') };
  },
  plan: planEnvLines,
  async apply(ctx, content, args) {
    await ctx.host.write(args.path, content, { ...ctx.become, mode: '0644' });
    return {};
  },
};

export default envLine;
