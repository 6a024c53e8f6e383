// JSON Schemas of the files users write. The same objects validate at load time and are
// published in schemas/ (npm run schemas) for editors with a YAML language server.

const anyVars = { type: ['object', 'null'], description: 'Variables: name → value.' };
const stringOrList = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] };
const condition = {
  anyOf: [{ type: 'string' }, { type: 'boolean' }, { type: 'array', items: { type: ['string', 'boolean'] } }],
  description: 'A bare JavaScript expression (or a list of them, all must hold).',
};

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

/** Keywords a task may carry besides its module. */
export const taskKeywordSchemas: Record<string, Record<string, unknown>> = {
  name: { type: 'string' },
  when: condition,
  loop: { description: 'A list, or an expression that gives one.' },
  with_items: { description: 'Old spelling of loop.' },
  loop_control: {
    type: 'object',
    additionalProperties: false,
    properties: { loop_var: { type: 'string' }, label: { type: 'string' }, index_var: { type: 'string' } },
  },
  register: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
  notify: stringOrList,
  tags: stringOrList,
  become: { type: ['boolean', 'string'] },
  become_user: { type: 'string' },
  delegate_to: { type: 'string' },
  run_once: { type: ['boolean', 'string'] },
  changed_when: condition,
  failed_when: condition,
  ignore_errors: { type: ['boolean', 'string'] },
  no_log: { type: ['boolean', 'string'] },
  check_mode: { type: ['boolean', 'string'], description: 'false: run even in check mode (read-only tasks).' },
  vars: anyVars,
  args: { type: 'object', description: 'Module arguments (alternative to the module key value).' },
  environment: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } },
  timeout: { type: 'number', description: 'Seconds before the task is stopped.' },
  listen: stringOrList,
  retries: { type: 'number' },
  delay: { type: 'number' },
  until: condition,
};

export const blockKeywords = ['block', 'rescue', 'always'];

export const playSchema: Record<string, unknown> = {
  type: 'object',
  additionalProperties: false,
  required: ['hosts'],
  properties: {
    name: { type: 'string' },
    hosts: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }], description: 'A host pattern.' },
    vars: anyVars,
    vars_files: { type: 'array', items: { type: 'string' } },
    roles: {
      type: 'array',
      items: {
        anyOf: [{ type: 'string' }, { type: 'object', required: ['role'], properties: { role: { type: 'string' } } }],
      },
    },
    pre_tasks: { type: ['array', 'null'] },
    tasks: { type: ['array', 'null'] },
    post_tasks: { type: ['array', 'null'] },
    handlers: { type: ['array', 'null'] },
    become: { type: 'boolean' },
    become_user: { type: 'string' },
    serial: { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\d+%?$' }, { type: 'array' }] },
    gather_facts: { type: 'boolean' },
    tags: stringOrList,
    max_fail_percentage: { type: 'number', minimum: 0, maximum: 100 },
    any_errors_fatal: { type: 'boolean' },
    environment: { type: 'object' },
    secret_vars: { type: 'array', items: { type: 'string' }, description: 'Variables whose values are secrets.' },
    force_handlers: { type: 'boolean' },
    strategy: { enum: ['linear'] },
    collections: { type: 'array' },
  },
};

export const playbookSchema: Record<string, unknown> = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://plinth.dev/schemas/playbook.schema.json',
  title: 'plinth playbook (a list of plays)',
  type: 'array',
  items: playSchema,
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
