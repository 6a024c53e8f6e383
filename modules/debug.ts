// debug: prints a message or the value of an expression.
import { ModuleError, type Module } from '../engine/types.js';

interface DebugArgs {
  msg?: unknown;
  var?: string;
  verbosity: number;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    msg: { description: 'the message (any value) to print' },
    var: { type: 'string', minLength: 1, description: 'an expression whose value is printed, e.g. "result.stdout_lines"' },
    verbosity: { type: 'integer', minimum: 0, default: 0, description: 'accepted for Ansible compatibility' },
  },
} as const;

export const debug: Module<DebugArgs, { msg: unknown }, never> = {
  name: 'debug',
  description: 'Print a message or the value of an expression',
  schema,
  controllerOnly: true,
  readOnly: true,

  async observe(ctx, args) {
    if (args.msg !== undefined && args.var !== undefined) throw new ModuleError('debug: msg and var are mutually exclusive');
    if (args.var !== undefined) return { msg: ctx.evaluate(args.var) };
    return { msg: args.msg ?? 'Hello world!' };
  },

  plan: (observed) => ({ changed: false, result: { msg: observed.msg } }),

  async apply() {
    return { changed: false };
  },
};
