// debug: prints a message or the value of an expression.
import type { Module } from '../engine/types.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  not: { required: ['msg', 'var'] },
  'x-message': 'write either msg or var, not both',
  properties: {
    msg: { description: 'the message (any value) to print; without msg and var: Hello world!' },
    var: { type: 'string', minLength: 1, description: 'an expression whose value is printed, e.g. "result.stdout_lines"' },
    verbosity: { type: 'integer', minimum: 0, default: 0, description: 'accepted for Ansible compatibility' },
  },
} as const;

export const debug: Module<typeof schema, { msg: unknown }, never> = {
  name: 'debug',
  description: 'Print a message or the value of an expression',
  schema,
  controllerOnly: true,
  readOnly: true,

  async observe(ctx, args) {
    if (args.var !== undefined) return { msg: ctx.evaluate(args.var) };
    return { msg: args.msg ?? 'Hello world!' };
  },

  plan: (observed) => ({ changed: false, result: { msg: observed.msg } }),

  async apply() {
    return { changed: false };
  },
};
