// The JSON Schemas published in schemas/ for editors (YAML language server): inventory, playbook
// (with every module's arguments, so an editor completes them), role meta. Generated from the
// same schemas the loader validates with, so they cannot drift; a test checks schemas/ is current.
import type { Module } from '../types.js';
import { blockKeywordSchemas, blockSections, inventorySchema, playSchema, roleMetaSchema, taskKeywordSchemas } from './user-file-schemas.js';

export function publishedSchemas(modules: ReadonlyMap<string, Module>): Record<string, Record<string, unknown>> {
  const taskVariants = [...modules.values()].map((m) => ({
    type: 'object',
    required: [m.name],
    properties: {
      ...taskKeywordSchemas,
      [m.name]: m.freeForm ? { anyOf: [{ type: 'string' }, stripExtensions(m.schema)] } : stripExtensions(m.schema),
    },
    additionalProperties: false,
  }));
  const blockVariant = {
    type: 'object',
    required: ['block'],
    properties: {
      ...blockKeywordSchemas,
      ...Object.fromEntries(blockSections.map((k) => [k, { $ref: '#/definitions/tasks' }])),
    },
    additionalProperties: false,
  };
  const tasks = { type: ['array', 'null'], items: { anyOf: [blockVariant, { type: 'object', required: ['import_tasks'] }, ...taskVariants] } };
  const play = structuredClone(playSchema) as { properties: Record<string, unknown> };
  for (const k of ['pre_tasks', 'tasks', 'post_tasks', 'handlers']) play.properties[k] = { $ref: '#/definitions/tasks' };
  return {
    'inventory.schema.json': inventorySchema,
    'playbook.schema.json': {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: 'https://plinth.dev/schemas/playbook.schema.json',
      title: 'plinth playbook (a list of plays)',
      type: 'array',
      items: { anyOf: [play, { type: 'object', required: ['import_playbook'] }] },
      definitions: { tasks },
    },
    'tasks.schema.json': {
      $schema: 'http://json-schema.org/draft-07/schema#',
      $id: 'https://plinth.dev/schemas/tasks.schema.json',
      title: 'plinth task file (roles/*/tasks/main.yml, handlers/main.yml)',
      $ref: '#/definitions/tasks',
      definitions: { tasks },
    },
    'role-meta.schema.json': roleMetaSchema,
  };
}

/** Without plinth's own keywords; a field's aliases become fields of the same schema, so editors accept them. */
function stripExtensions(schema: Record<string, unknown>): Record<string, unknown> {
  const out = JSON.parse(JSON.stringify(schema, (k, v) => (k === 'x-secret' || k === 'x-message' ? undefined : v)));
  const props = (out.properties ?? {}) as Record<string, Record<string, unknown>>;
  for (const spec of Object.values(props)) {
    const aliases = (spec['x-aliases'] as string[] | undefined) ?? [];
    delete spec['x-aliases'];
    for (const alias of aliases) props[alias] = spec;
  }
  return out;
}
