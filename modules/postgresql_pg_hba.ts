// community.postgresql.postgresql_pg_hba on plinth's pg_hba: one rule (contype, databases,
// users, source, method, options) present or absent. plinth keeps its rules in a marked block
// of pg_hba.conf; like Ansible's module it does not reload the server (notify a handler).
import { pg_hba } from './pg_hba.js';
import { moduleAlias } from './support/module-alias.js';
import { hbaFieldProperties } from './postgres/hba.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['dest', 'contype'],
  anyOf: [
    { properties: { contype: { const: 'local' } }, not: { required: ['source'] } },
    { properties: { contype: { not: { const: 'local' } } }, required: ['source'] },
  ],
  'x-message': 'a local rule takes no source; every other contype needs one (CIDR, host name, all, samehost or samenet)',
  properties: {
    dest: { type: 'string', pattern: '^/', description: 'the pg_hba.conf file' },
    contype: { ...hbaFieldProperties.type, description: 'local, host, hostssl, ...' },
    databases: { ...hbaFieldProperties.database, default: 'all' },
    users: { ...hbaFieldProperties.user, default: 'all' },
    source: { type: 'string', minLength: 1, description: 'address: CIDR, host name, all, samehost, samenet (not with local)' },
    netmask: { type: 'string', pattern: '^\\d+\\.\\d+\\.\\d+\\.\\d+$', description: 'netmask of an address given without a prefix length' },
    method: { ...hbaFieldProperties.method, default: 'md5' },
    options: hbaFieldProperties.options,
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the rule should be there' },
    create: { type: 'boolean', default: false, description: 'accepted: plinth creates the file when it is missing' },
  },
} as const;

function cidr(source: string, netmask: string | undefined): string {
  if (!netmask) return source;
  const bits = netmask
    .split('.')
    .map(Number)
    .reduce((n, octet) => n + (octet >>> 0).toString(2).replace(/0/g, '').length, 0);
  return `${source}/${bits}`;
}

export const postgresql_pg_hba = moduleAlias(pg_hba, {
  name: 'postgresql_pg_hba',
  description: 'community.postgresql.postgresql_pg_hba on pg_hba: one pg_hba.conf rule present or absent',
  schema,
  toBase(args) {
    const where = args.source === undefined ? { type: 'local' as const } : { type: args.contype, address: cidr(args.source, args.netmask) };
    const entry = {
      ...where,
      database: args.databases,
      user: args.users,
      method: args.method,
      ...(args.options ? { options: args.options } : {}),
      state: args.state,
    };
    // Ansible's module only edits the file; a reload is the play's to ask for (a handler).
    return { entries: [entry], path: args.dest, reload: false };
  },
  result: (r, args) => ({ ...r, pg_hba: args.dest }),
});
