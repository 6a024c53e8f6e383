// assert: fails the task when an expression over the variables is false.
import { ModuleError, type Module } from '../engine/types.js';

interface AssertObserved {
  /** The first expression that was false, if any. */
  failed?: { assertion: string; value: unknown };
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['that'],
  properties: {
    that: {
      description: 'expression, or list of expressions, that must all be true (e.g. "port > 1024")',
      anyOf: [{ type: ['string', 'boolean'] }, { type: 'array', minItems: 1, items: { type: ['string', 'boolean'] } }],
    },
    fail_msg: { type: 'string', description: 'message when an assertion is false' },
    msg: { type: 'string', description: 'same as fail_msg' },
    success_msg: { type: 'string', default: 'All assertions passed', description: 'message when all assertions are true' },
    quiet: { type: 'boolean', default: false, description: 'accepted for Ansible compatibility; changes nothing' },
  },
} as const;

export const assert: Module<typeof schema, AssertObserved, never> = {
  name: 'assert',
  description: 'Fail unless every expression in `that` is true',
  schema,
  controllerOnly: true,
  readOnly: true,

  async observe(ctx, args) {
    for (const item of Array.isArray(args.that) ? args.that : [args.that]) {
      const value = typeof item === 'boolean' ? item : ctx.evaluate(item);
      if (!value) return { failed: { assertion: String(item), value } };
    }
    return {};
  },

  plan(observed, args) {
    if (observed.failed) {
      const { assertion, value } = observed.failed;
      const msg = args.fail_msg ?? args.msg ?? `Assertion failed: ${assertion}`;
      throw new ModuleError((args.fail_msg ?? args.msg) ? `${msg} (assertion: ${assertion})` : msg, {
        assertion,
        evaluated_to: value,
        msg,
      });
    }
    return { changed: false, result: { msg: args.success_msg } };
  },

  async apply() {
    return { changed: false };
  },
};
