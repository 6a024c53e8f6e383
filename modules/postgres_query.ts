// postgres_query: runs one SQL statement and returns typed rows, e.g. to register and assert
// replication state. Parameters are $1, $2, ... in the query; their values are passed as
// psql variables and quoted by psql, never pasted into the SQL.
//
// A read-only statement (SELECT, VALUES, TABLE, WITH without data changes, SHOW — or any
// statement with read_only: true) runs while observing, inside a read-only transaction, so
// it also runs in check mode and reports ok. Anything else is a change, run only on apply.
import { ModuleError, type Module, type ModuleContext, type ArgsOf } from '../engine/types.js';
import { connectionProperties, resolveCluster, targetOf } from './postgres/cluster.js';
import { asJsonRows, parseJsonRows, runSql, ServerUnavailableError, type SqlParams } from './postgres/sql.js';
import { classify, replacePlaceholders } from './postgres/statement.js';

type Param = string | number | boolean | null;

type QueryArgs = ArgsOf<typeof schema>;

interface QueryResult {
  rows: Record<string, unknown>[];
  rowcount: number;
}

type Observed = { ran: true; result: QueryResult } | { ran: false; unavailable?: string };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['query'],
  properties: {
    query: { type: 'string', minLength: 1, description: 'one SQL statement; $1, $2, ... stand for params' },
    params: {
      type: 'array',
      default: [],
      items: { type: ['string', 'number', 'boolean', 'null'] },
      description: 'values of $1, $2, ...; quoted by psql as literals (the server infers their type)',
    },
    db: { type: 'string', minLength: 1, default: 'postgres', description: 'database to connect to' },
    read_only: {
      type: 'boolean',
      description:
        'true: run in a read-only transaction while observing (also in check mode) and report ok; false: always a change. Default: read-only for SELECT/VALUES/TABLE/WITH/SHOW that change no data',
    },
    ...connectionProperties,
  },
} as const;

export const postgres_query: Module<typeof schema, Observed, null> = {
  name: 'postgres_query',
  description: 'Run a SQL statement with psql and return typed rows',
  schema,

  async observe(ctx, args) {
    if (!isReadOnly(args)) return { ran: false };
    try {
      return { ran: true, result: await execute(ctx, args, true) };
    } catch (e) {
      if (e instanceof ServerUnavailableError && ctx.check) return { ran: false, unavailable: e.message };
      throw e;
    }
  },

  plan(observed, args) {
    if (observed.ran) return { changed: false, readOnly: true, summary: `${observed.result.rowcount} row(s)`, result: { ...observed.result } };
    if (observed.unavailable) return { unknown: true, summary: `query ${abbreviate(args.query)}`, reason: observed.unavailable };
    return { changed: true, summary: `run SQL: ${abbreviate(args.query)}`, action: null };
  },

  async apply(ctx, _action, args) {
    return { changed: true, result: { ...(await execute(ctx, args, false)) } };
  },
};

function isReadOnly(args: QueryArgs): boolean {
  return args.read_only ?? classify(args.query).readOnly;
}

async function execute(ctx: ModuleContext, args: QueryArgs, readOnly: boolean): Promise<QueryResult> {
  const target = targetOf(resolveCluster(args), args.db);
  const { sql, params } = bindParams(args.query, args.params);
  const info = classify(args.query);
  if (info.multiple && info.kind !== 'command') throw new ModuleError('postgres_query: give one statement per task');
  const guard = readOnly ? 'SET default_transaction_read_only = on;\n' : '';
  const select =
    info.kind === 'rows'
      ? asJsonRows(sql)
      : info.kind === 'show'
        ? asJsonRows(showAsSelect(sql, params))
        : info.kind === 'returning'
          ? `WITH plinth_rows AS (${sql.trim().replace(/;\s*$/, '')}\n) ${asJsonRows('TABLE plinth_rows')}`
          : null;
  if (select) {
    const rows = parseJsonRows<Record<string, unknown>>(await runSql(ctx, target, `${guard}${select}`, params).catch(rethrowReadOnly(readOnly)));
    return { rows, rowcount: rows.length };
  }
  const out = await runSql(ctx, target, `${guard}${sql}`, params, { quiet: false }).catch(rethrowReadOnly(readOnly));
  return { rows: [], rowcount: commandRowCount(out) };
}

/** $n → :'plinth_pn' (a psql-quoted literal); null → NULL. */
export function bindParams(query: string, values: Param[]): { sql: string; params: SqlParams } {
  const params: SqlParams = {};
  const sql = replacePlaceholders(query, (n) => {
    if (n < 1 || n > values.length) throw new ModuleError(`postgres_query: the query uses $${n} but params has ${values.length} value(s)`);
    const v = values[n - 1];
    if (v === null) return 'NULL';
    params[`plinth_p${n}`] = typeof v === 'string' ? v : String(v);
    return `:'plinth_p${n}'`;
  });
  return { sql, params };
}

function showAsSelect(sql: string, params: SqlParams): string {
  const name = /^\s*SHOW\s+(.+?)\s*;?\s*$/is.exec(sql)?.[1] ?? '';
  if (/^all$/i.test(name)) return 'SELECT name, setting, unit, context, source FROM pg_settings ORDER BY name';
  const bare = name.replace(/^"(.*)"$/, '$1');
  params.plinth_show = bare;
  return `SELECT current_setting(:'plinth_show') AS :"plinth_show"`;
}

export function commandRowCount(out: string): number {
  const tags = out
    .split('\n')
    .map((l) => /^(?:INSERT \d+|UPDATE|DELETE|MERGE|SELECT|COPY|MOVE|FETCH) (\d+)$/.exec(l.trim()))
    .filter(Boolean);
  const last = tags[tags.length - 1];
  return last ? Number(last[1]) : 0;
}

function rethrowReadOnly(readOnly: boolean) {
  return (e: unknown): never => {
    if (readOnly && e instanceof ModuleError && /read-only transaction/.test(e.message)) {
      throw new ModuleError(`${e.message} (the statement writes; set read_only: false to run it as a change)`);
    }
    throw e;
  };
}

function abbreviate(query: string): string {
  const one = query.replace(/\s+/g, ' ').trim();
  return one.length > 60 ? `${one.slice(0, 57)}...` : one;
}
