// community.postgresql.postgresql_db on plinth's postgres_db: a database present or absent with
// its owner, encoding, locale and template. dump, restore and rename are not plinth's.
import { postgres_db } from './postgres_db.js';
import { moduleAlias } from './support/module-alias.js';
import { communityConnectionProperties, plinthConnection } from './support/community-postgresql.js';

const dbProperties = postgres_db.schema.properties;
const { db: _db, ...connection } = communityConnectionProperties;

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  not: { properties: { state: { enum: ['dump', 'restore', 'rename'] } }, required: ['state'] },
  'x-message': 'state dump, restore and rename are not supported (plinth keeps databases present or absent; use pg_dump/pg_restore with command)',
  properties: {
    name: { ...dbProperties.name, 'x-aliases': ['db', 'datname'] },
    owner: dbProperties.owner,
    template: dbProperties.template,
    encoding: dbProperties.encoding,
    lc_collate: dbProperties.lc_collate,
    lc_ctype: dbProperties.lc_ctype,
    state: {
      enum: ['present', 'absent', 'dump', 'restore', 'rename'],
      default: 'present',
      description: 'present or absent (dump, restore and rename are refused: use pg_dump/pg_restore with command)',
    },
    force: dbProperties.force,
    maintenance_db: { type: 'string', minLength: 1, default: 'postgres', description: 'database to connect to while creating or dropping' },
    ...connection,
  },
} as const;

export const postgresql_db = moduleAlias(postgres_db, {
  name: 'postgresql_db',
  description: 'community.postgresql.postgresql_db on postgres_db: a database, its owner, encoding and locale',
  schema,
  toBase(args) {
    const { name, owner, template, encoding, lc_collate, lc_ctype, force } = args;
    // The schema refuses the other states.
    const state = args.state as 'present' | 'absent';
    return { name, owner, template, encoding, lc_collate, lc_ctype, force, state, ...plinthConnection('postgresql_db', { ...args, db: args.maintenance_db }) };
  },
  result: (r, args) => ({ ...r, db: args.name }),
});
