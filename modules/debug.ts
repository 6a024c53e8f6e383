// debug: prints a message or the value of an expression, as Ansible does: `{"msg": ...}` or
// `{"<var>": value}`, and an undefined variable is printed as such, not an error.
import { type Module, UndefinedVariableError } from '../engine/types.js';

/** What Ansible prints for `var:` naming a variable that is not defined. */
const NOT_DEFINED = 'VARIABLE IS NOT DEFINED!';

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

export const debug: Module<typeof schema, { key: string; value: unknown }, never> = {
  name: 'debug',
  description: 'Print a message or the value of an expression',
  schema,
  controllerOnly: true,
  readOnly: true,

  async observe(ctx, args) {
    if (args.var === undefined) return { key: 'msg', value: args.msg ?? 'Hello world!' };
    try {
      return { key: args.var, value: ctx.evaluate(args.var) };
    } catch (e) {
      if (e instanceof UndefinedVariableError) return { key: args.var, value: NOT_DEFINED };
      throw e;
    }
  },

  plan: (observed) => ({ changed: false, result: { [observed.key]: observed.value } }),

  async apply() {
    return { changed: false };
  },
};
