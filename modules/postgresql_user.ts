// community.postgresql.postgresql_user: a role with a password and role_attr_flags, on plinth's
// postgres_role.
import type { ArgsOf, InputOf } from '../engine/types.js';
import { postgres_role } from './postgres_role.js';
import { moduleAlias } from './support/module-alias.js';
import { communityConnectionProperties, plinthConnection } from './support/community-postgresql.js';

const FLAGS = ['SUPERUSER', 'CREATEDB', 'CREATEROLE', 'INHERIT', 'LOGIN', 'REPLICATION', 'BYPASSRLS'];

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  allOf: [
    {
      not: { properties: { encrypted: { const: false } }, required: ['encrypted'] },
      'x-message': 'encrypted: false is not possible: PostgreSQL stores passwords hashed',
    },
    {
      not: { required: ['priv'] },
      'x-message': 'priv is not supported (community.postgresql removed it): grant with postgresql_privs / postgres_privs',
    },
  ],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 63, 'x-aliases': ['user'], description: 'role name (alias user)' },
    password: { type: 'string', 'x-secret': true, description: 'the password (stored as a SCRAM verifier; an md5/SCRAM verifier given here is stored as is)' },
    encrypted: { type: 'boolean', default: true, description: 'must stay true: PostgreSQL 10+ stores no clear-text passwords' },
    role_attr_flags: {
      type: 'string',
      pattern: `^((NO)?(${FLAGS.join('|')}))?(,(NO)?(${FLAGS.join('|')}))*$`,
      description: 'comma-separated: SUPERUSER, NOSUPERUSER, CREATEDB, LOGIN, NOLOGIN, REPLICATION, ...',
    },
    conn_limit: { type: 'integer', minimum: -1, description: 'connection limit (-1: none)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'whether the role should exist' },
    priv: { type: 'string', description: 'refused: removed from community.postgresql; use postgresql_privs (postgres_privs)' },
    ...communityConnectionProperties,
  },
} as const;

export function postgresRoleArgs(args: ArgsOf<typeof schema>): InputOf<typeof postgres_role.schema> {
  const flags: Record<string, boolean> = {};
  for (const flag of (args.role_attr_flags ?? '').split(',').filter(Boolean)) {
    const negated = flag.startsWith('NO') && FLAGS.includes(flag.slice(2));
    flags[(negated ? flag.slice(2) : flag).toLowerCase()] = !negated;
  }
  return {
    name: args.name,
    state: args.state,
    ...(args.password !== undefined && args.password !== '' ? { password: args.password } : {}),
    ...flags,
    ...(args.conn_limit !== undefined ? { connection_limit: args.conn_limit } : {}),
    ...plinthConnection('postgresql_user', args),
  };
}

export const postgresql_user = moduleAlias(postgres_role, {
  name: 'postgresql_user',
  description: 'community.postgresql.postgresql_user on postgres_role: a role, its password and attributes',
  schema,
  toBase: postgresRoleArgs,
  result: (r, args) => ({ ...r, user: args.name }),
});
