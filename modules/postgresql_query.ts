// community.postgresql.postgresql_query on plinth's postgres_query: psycopg's %s and %(name)s
// placeholders become $1, $2, ... and the result also carries Ansible's names (query_result,
// query_all_results, rowcount).
import { ModuleError } from '../engine/types.js';
import { postgres_query } from './postgres_query.js';
import { moduleAlias } from './support/module-alias.js';
import { communityConnectionProperties, plinthConnection } from './support/community-postgresql.js';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: { type: 'string', minLength: 1, description: 'one SQL statement; %s takes positional_args in order, %(name)s takes named_args' },
    positional_args: { type: 'array', items: { type: ['string', 'number', 'boolean', 'null'] }, description: 'values of the %s placeholders' },
    named_args: { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] }, description: 'values of the %(name)s placeholders' },
    autocommit: { type: 'boolean', description: 'accepted: psql runs each statement in its own transaction (VACUUM works)' },
    ...communityConnectionProperties,
  },
} as const;

type SqlArg = string | number | boolean | null;

/** psycopg's placeholders → PostgreSQL's numbered ones, with the values in order. */
export function numberedQuery(query: string, positional: SqlArg[] = [], named: Record<string, SqlArg> = {}): { query: string; params: SqlArg[] } {
  const params: SqlArg[] = [];
  const byName = new Map<string, number>();
  let next = 0;
  const out = query.replace(/%(%|s|\(([A-Za-z_][A-Za-z0-9_]*)\)s)/g, (_whole, kind: string, name?: string) => {
    if (kind === '%') return '%';
    if (name === undefined) {
      if (next >= positional.length) throw new ModuleError(`postgresql_query: the query has more %s than positional_args (${positional.length})`);
      params.push(positional[next++]);
      return `$${params.length}`;
    }
    if (!(name in named)) throw new ModuleError(`postgresql_query: named_args has no '${name}'`);
    if (!byName.has(name)) {
      params.push(named[name]);
      byName.set(name, params.length);
    }
    return `$${byName.get(name)}`;
  });
  if (next < positional.length) throw new ModuleError(`postgresql_query: ${positional.length} positional_args for ${next} %s`);
  return { query: out, params };
}

export const postgresql_query = moduleAlias(postgres_query, {
  name: 'postgresql_query',
  description: 'community.postgresql.postgresql_query on postgres_query: run SQL with %s / %(name)s arguments',
  schema,
  toBase: (args) => ({ ...numberedQuery(args.query, args.positional_args, args.named_args), ...plinthConnection('postgresql_query', args) }),
  result: (r, args) => ({ ...r, query: args.query, query_result: r.rows, query_all_results: r.rows === undefined ? undefined : [r.rows] }),
});
