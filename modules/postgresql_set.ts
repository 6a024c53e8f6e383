// community.postgresql.postgresql_set on plinth's postgres_conf: the parameter is set in
// postgresql.conf (not with ALTER SYSTEM in postgresql.auto.conf) and the server reloaded;
// restart_required says when a reload is not enough, as Ansible's does.
import { postgres_conf } from './postgres_conf.js';
import { moduleAlias } from './support/module-alias.js';
import { communityConnectionProperties, plinthConnection } from './support/community-postgresql.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'value'],
  not: { properties: { reset: { const: true } }, required: ['reset'] },
  'x-message': 'reset is not supported: plinth sets parameters in postgresql.conf, not with ALTER SYSTEM (remove the line there instead)',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*(\\.[A-Za-z_][A-Za-z0-9_]*)?$', description: 'parameter name, e.g. shared_buffers' },
    value: { type: ['string', 'number', 'boolean'], description: 'its value, with units as PostgreSQL takes them (e.g. 1GB)' },
    reset: { type: 'boolean', default: false, description: 'refused: plinth keeps the value in postgresql.conf; remove it there instead' },
    ...communityConnectionProperties,
  },
} as const;

export const postgresql_set = moduleAlias(postgres_conf, {
  name: 'postgresql_set',
  description: 'community.postgresql.postgresql_set on postgres_conf: one server parameter, then a reload',
  schema,
  toBase(args) {
    return { settings: { [args.name]: args.value }, reload: true, ...plinthConnection('postgresql_set', args) };
  },
  result: (r, args) => ({ ...r, name: args.name, value: { value: String(args.value) } }),
});
