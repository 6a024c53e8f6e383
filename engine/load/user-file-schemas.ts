// JSON Schemas of the files users write. The same objects validate at load time and are
// published in schemas/ (npm run schemas) for editors with a YAML language server.

import { keywordSchemas } from './keywords.js';

const anyVars = { type: ['object', 'null'], description: 'Variables: name → value.' };
const stringOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };

const groupSchema: Record<string, unknown> = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    hosts: {
      type: ['object', 'null'],
      additionalProperties: { type: ['object', 'null'], description: 'Host variables (ansible_host, ansible_port, ansible_user, ...).' },
    },
    children: { type: ['object', 'null'], additionalProperties: { $ref: '#/definitions/group' } },
    vars: anyVars,
  },
};

export const inventorySchema: Record<string, unknown> = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://plinth.dev/schemas/inventory.schema.json',
  title: 'plinth inventory (Ansible YAML inventory shape)',
  type: 'object',
  definitions: { group: groupSchema },
  additionalProperties: { $ref: '#/definitions/group' },
};

/** Keywords a task may carry besides its module (from the keyword table). */
export const taskKeywordSchemas: Record<string, Record<string, unknown>> = keywordSchemas('task');

export const blockKeywordSchemas: Record<string, Record<string, unknown>> = keywordSchemas('block');

/** The sections of a block, besides its keywords. */
export const blockSections = ['block', 'rescue', 'always'];

export const playSchema: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: keywordSchemas('play'),
};

export const roleMetaSchema: Record<string, unknown> = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://plinth.dev/schemas/role-meta.schema.json',
  title: 'plinth role meta/main.yml',
  type: ['object', 'null'],
  properties: {
    galaxy_info: { type: 'object' },
    dependencies: {
      type: 'array',
      items: { anyOf: [{ type: 'string' }, { type: 'object', required: ['role'], properties: { role: { type: 'string' } } }] },
    },
    argument_specs: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        properties: {
          short_description: { type: 'string' },
          description: stringOrList,
          options: { type: 'object', additionalProperties: { $ref: '#/definitions/option' } },
        },
      },
    },
  },
  definitions: {
    option: {
      type: 'object',
      additionalProperties: false,
      properties: {
        type: { enum: ['str', 'int', 'float', 'bool', 'list', 'dict', 'path', 'raw'] },
        required: { type: 'boolean' },
        default: {},
        choices: { type: 'array' },
        description: stringOrList,
        no_log: { type: 'boolean', description: 'The value is a secret.' },
        elements: { type: 'string' },
        options: { type: 'object' },
      },
    },
  },
};
