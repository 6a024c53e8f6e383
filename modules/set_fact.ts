// set_fact: sets host variables from the task's (already evaluated) arguments.
import type { Module } from '../engine/types.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  description: 'variable names and their values',
  minProperties: 1,
  propertyNames: { pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  additionalProperties: true,
  properties: {
    cacheable: { type: 'boolean', description: 'accepted for Ansible compatibility; facts are not cached' },
  },
} as const;

export const set_fact: Module<typeof schema, Record<string, unknown>, never> = {
  name: 'set_fact',
  description: 'Set variables for the rest of the play on this host',
  schema,
  controllerOnly: true,
  readOnly: true,

  async observe(_ctx, args) {
    const { cacheable: _ignored, ...facts } = args;
    return facts;
  },

  plan: (facts) => ({ changed: false, result: { ansible_facts: facts } }),

  async apply() {
    return { changed: false };
  },
};
