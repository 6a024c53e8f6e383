// fail: stops the host with a message (Ansible's `fail`), usually under a `when`.
import { ModuleError, type Module } from '../engine/types.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    msg: { default: 'Failed as requested from task', description: 'the message the failure shows (any value)' },
  },
} as const;

export const fail: Module<typeof schema, never, never> = {
  name: 'fail',
  description: 'Fail the host with a message',
  schema,
  freeForm: 'msg',
  controllerOnly: true,

  async observe(_ctx, args) {
    throw new ModuleError(typeof args.msg === 'string' ? args.msg : JSON.stringify(args.msg));
  },

  plan() {
    throw new ModuleError('fail: internal error: plan after a failed observe');
  },

  async apply() {
    return { changed: false };
  },
};
