// postgres_db: a database with its owner, encoding and locale. Encoding and locale are fixed
// when a database is created: a database that exists with others is an error, never dropped
// and created again behind the user's back. The owner is changed in place.
import { ModuleError, type Module, type ArgsOf } from '../engine/types.js';
import { connectionProperties, resolveCluster, targetOf } from './postgres/cluster.js';
import { observeSql, queryRows, runSql, type SqlParams } from './postgres/sql.js';

type DbArgs = ArgsOf<typeof schema>;

interface DatabaseRow {
  owner: string;
  encoding: string;
  lc_collate: string;
  lc_ctype: string;
}

export type Observed = { database: DatabaseRow | null } | { unavailable: string };

type DbAction = { op: 'create'; owner?: string; encoding?: string; lc_collate?: string; lc_ctype?: string; template?: string } | { op: 'owner'; owner: string } | { op: 'drop'; force: boolean };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 63, description: 'database name (quoted as an identifier)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'present creates the database (or changes its owner), absent drops it' },
    owner: { type: 'string', minLength: 1, maxLength: 63, description: 'role that owns the database; unset: the creating superuser, and an existing owner is left alone' },
    encoding: { type: 'string', minLength: 1, description: 'character set at creation, e.g. UTF8; an existing database with another is an error' },
    locale: { type: 'string', minLength: 1, description: 'sets lc_collate and lc_ctype together, e.g. C.UTF-8' },
    lc_collate: { type: 'string', minLength: 1, description: 'collation order (LC_COLLATE) at creation' },
    lc_ctype: { type: 'string', minLength: 1, description: 'character classification (LC_CTYPE) at creation' },
    template: { type: 'string', minLength: 1, description: 'database to copy at creation (server default template1; template0 for an encoding or locale other than template1’s)' },
    force: { type: 'boolean', default: false, description: 'state absent: end the sessions connected to the database and drop it (DROP DATABASE ... WITH (FORCE))' },
    ...connectionProperties,
  },
} as const;

export const postgres_db: Module<typeof schema, Observed, DbAction> = {
  name: 'postgres_db',
  description: 'Create or drop a PostgreSQL database; owner, encoding, locale, template',
  schema,

  async observe(ctx, args) {
    return observeSql(ctx, async () => {
      const rows = await queryRows<DatabaseRow>(
        ctx,
        maintenanceTarget(args),
        `SELECT pg_get_userbyid(datdba) AS owner, pg_encoding_to_char(encoding) AS encoding, datcollate AS lc_collate, datctype AS lc_ctype
           FROM pg_database WHERE datname = :'database_name'`,
        { database_name: args.name },
      );
      return { database: rows[0] ?? null };
    });
  },

  plan(observed, args) {
    const what = `database ${args.name}`;
    if ('unavailable' in observed) return { unknown: true, summary: what, reason: observed.unavailable };
    const db = observed.database;
    if (args.state === 'absent') {
      if (!db) return { changed: false, summary: `${what} absent` };
      return {
        changed: true,
        summary: `drop ${what}${args.force ? ' (ending its sessions)' : ''}`,
        action: { op: 'drop', force: !!args.force },
        diffs: [{ target: what, before: describe(db), after: '' }],
      };
    }
    const wanted = wantedLocale(args);
    if (!db) {
      const action: DbAction = { op: 'create', owner: args.owner, encoding: args.encoding, ...wanted, template: args.template };
      const shown = {
        owner: args.owner ?? '(the connecting superuser)',
        encoding: args.encoding ?? '(template’s)',
        lc_collate: wanted.lc_collate ?? '(template’s)',
        lc_ctype: wanted.lc_ctype ?? '(template’s)',
      };
      return {
        changed: true,
        summary: `create ${what}${args.owner ? ` owned by ${args.owner}` : ''}${args.template ? ` from ${args.template}` : ''}`,
        action,
        diffs: [{ target: what, before: '', after: describe(shown) }],
      };
    }
    const fixed = creationMismatches(db, args.encoding, wanted);
    if (fixed.length) {
      throw new ModuleError(`${what} exists with ${fixed.join(', ')}; these are set when a database is created: drop it (state: absent) or change the arguments`);
    }
    if (args.owner === undefined || args.owner === db.owner) return { changed: false, summary: `${what} up to date` };
    return {
      changed: true,
      summary: `change owner of ${what} to ${args.owner}`,
      action: { op: 'owner', owner: args.owner },
      diffs: [{ target: what, before: describe(db), after: describe({ ...db, owner: args.owner }) }],
    };
  },

  async apply(ctx, action, args) {
    const params: SqlParams = { database_name: args.name };
    let sql: string;
    if (action.op === 'drop') sql = `DROP DATABASE :"database_name"${action.force ? ' WITH (FORCE)' : ''}`;
    else if (action.op === 'owner') {
      params.owner_name = action.owner;
      sql = `ALTER DATABASE :"database_name" OWNER TO :"owner_name"`;
    } else {
      const options: string[] = [];
      const add = (keyword: string, variable: string, value: string | undefined, quote: "'" | '"') => {
        if (value === undefined) return;
        params[variable] = value;
        options.push(`${keyword} :${quote}${variable}${quote}`);
      };
      add('OWNER', 'owner_name', action.owner, '"');
      add('TEMPLATE', 'template_name', action.template, '"');
      add('ENCODING', 'encoding_name', action.encoding, "'");
      add('LC_COLLATE', 'collate_name', action.lc_collate, "'");
      add('LC_CTYPE', 'ctype_name', action.lc_ctype, "'");
      sql = `CREATE DATABASE :"database_name"${options.length ? ` ${options.join(' ')}` : ''}`;
    }
    await runSql(ctx, maintenanceTarget(args), sql, params);
    return { changed: true };
  },
};

/** CREATE and DROP DATABASE run from another database: the cluster's `postgres`. */
function maintenanceTarget(args: DbArgs) {
  return targetOf(resolveCluster(args), 'postgres');
}

function wantedLocale(args: DbArgs): { lc_collate?: string; lc_ctype?: string } {
  for (const field of ['lc_collate', 'lc_ctype'] as const) {
    if (args.locale !== undefined && args[field] !== undefined && !sameLocale(args.locale, args[field]!)) {
      throw new ModuleError(`locale '${args.locale}' and ${field} '${args[field]}' disagree: give one of them`);
    }
  }
  return { lc_collate: args.lc_collate ?? args.locale, lc_ctype: args.lc_ctype ?? args.locale };
}

function creationMismatches(db: DatabaseRow, encoding: string | undefined, locale: { lc_collate?: string; lc_ctype?: string }): string[] {
  const out: string[] = [];
  if (encoding !== undefined && normalizeEncoding(encoding) !== normalizeEncoding(db.encoding)) out.push(`encoding ${db.encoding} (not ${encoding})`);
  for (const field of ['lc_collate', 'lc_ctype'] as const) {
    const want = locale[field];
    if (want !== undefined && !sameLocale(want, db[field])) out.push(`${field} ${db[field]} (not ${want})`);
  }
  return out;
}

/** UTF8, utf-8 and Unicode name the same server encoding. */
function normalizeEncoding(name: string): string {
  const n = name.toUpperCase().replace(/[-_]/g, '');
  return n === 'UNICODE' ? 'UTF8' : n;
}

/** glibc normalizes a locale's codeset (C.UTF-8 = C.utf8): compare the same way. */
function sameLocale(a: string, b: string): boolean {
  const norm = (l: string) => {
    const [base, codeset = ''] = l.split('.', 2);
    const [set, modifier = ''] = codeset.split('@', 2);
    return `${base}.${set.toLowerCase().replace(/[^a-z0-9]/g, '')}@${modifier}`;
  };
  return a === b || norm(a) === norm(b);
}

function describe(db: DatabaseRow): string {
  return `owner: ${db.owner}\nencoding: ${db.encoding}\nlc_collate: ${db.lc_collate}\nlc_ctype: ${db.lc_ctype}\n`;
}
