// community.postgresql.postgresql_privs on plinth's postgres_privs: privileges on databases,
// schemas, tables, sequences and default privileges, with Ansible's comma-separated lists.
import type { InputOf } from '../engine/types.js';
import { postgres_privs } from './postgres_privs.js';
import { moduleAlias } from './support/module-alias.js';
import { communityConnectionProperties, plinthConnection } from './support/community-postgresql.js';

const list = (v: string | undefined) =>
  v === undefined
    ? undefined
    : v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
const { db: _db, ...connection } = communityConnectionProperties;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['database', 'roles', 'privs'],
  anyOf: [{ properties: { type: { const: 'database' } }, required: ['type'] }, { required: ['objs'] }],
  'x-message': 'objs is required unless type is database (whose default object is the database)',
  properties: {
    database: { type: 'string', minLength: 1, 'x-aliases': ['db', 'login_db'], description: 'database of the objects' },
    roles: { type: 'string', minLength: 1, 'x-aliases': ['role'], description: 'comma-separated roles (PUBLIC: every role)' },
    privs: { type: 'string', minLength: 1, 'x-aliases': ['priv'], description: 'comma-separated privileges, e.g. SELECT,INSERT or ALL' },
    type: { enum: ['database', 'schema', 'table', 'sequence', 'default_privs'], default: 'table', description: 'kind of object (function, group, language, ... are not supported)' },
    objs: { type: 'string', minLength: 1, 'x-aliases': ['obj'], description: 'comma-separated objects (ALL_IN_SCHEMA for every table or sequence of the schema)' },
    schema: { type: 'string', minLength: 1, description: 'schema of the objects' },
    target_roles: { type: 'string', minLength: 1, description: 'default_privs: comma-separated roles whose future objects get the privileges' },
    grant_option: { type: 'boolean', description: 'WITH GRANT OPTION' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'grant (present) or revoke (absent)' },
    ...connection,
  },
} as const;

export const postgresql_privs = moduleAlias(postgres_privs, {
  name: 'postgresql_privs',
  description: 'community.postgresql.postgresql_privs on postgres_privs: grant or revoke privileges',
  schema,
  toBase(args) {
    // The schema requires objs unless type is database, as postgres_privs's does.
    return {
      roles: list(args.roles)!,
      privs: list(args.privs)!.map((p) => p.toUpperCase()),
      type: args.type,
      ...(args.objs !== undefined ? { objs: list(args.objs) } : {}),
      ...(args.schema !== undefined ? { schema: args.schema } : {}),
      ...(args.target_roles !== undefined ? { target_roles: list(args.target_roles) } : {}),
      ...(args.grant_option !== undefined ? { grant_option: args.grant_option } : {}),
      state: args.state,
      ...plinthConnection('postgresql_privs', { ...args, db: args.database }),
    } as InputOf<typeof postgres_privs.schema>;
  },
});
