// postgres_privs: GRANT and REVOKE on databases, schemas, tables, sequences and default
// privileges. The current ACLs are read first (aclexplode over the catalog, with the
// built-in defaults where an ACL was never set), so only what differs is granted or revoked
// and a second run changes nothing.
import { ModuleError, type Module, type ModuleContext, type ArgsOf } from '../engine/types.js';
import { connectionProperties, resolveCluster, targetOf } from './postgres/cluster.js';
import { observeSql, queryRows, runSql, type PgTarget, type SqlParams } from './postgres/sql.js';

type ObjectType = 'database' | 'schema' | 'table' | 'sequence' | 'default_privs';
type DefaultKind = 'TABLES' | 'SEQUENCES' | 'FUNCTIONS' | 'TYPES' | 'SCHEMAS';

type PrivsArgs = ArgsOf<typeof schema>;

/** One object the task is about, and who holds what on it now. */
interface ObservedObject {
  /** Database, schema, table or sequence name; for default privileges the kind (TABLES, ...). */
  name: string;
  /** Default privileges: whose future objects they apply to (FOR ROLE). */
  forRole?: string;
  /** grantee (a role name or PUBLIC) → privilege → grantable. */
  acl: Record<string, Record<string, boolean>>;
}

export type Observed = { objects: ObservedObject[]; missingObjects: string[]; missingRoles: string[] } | { unavailable: string };

interface PrivStatement {
  verb: 'GRANT' | 'REVOKE';
  /** REVOKE GRANT OPTION FOR / GRANT ... WITH GRANT OPTION */
  grantOption: boolean;
  privs: string[];
  object: string;
  forRole?: string;
  role: string;
}

interface PrivsAction {
  statements: PrivStatement[];
}

const TABLE_PRIVS = ['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];
const SEQUENCE_PRIVS = ['USAGE', 'SELECT', 'UPDATE'];
const PRIVS_OF: Record<Exclude<ObjectType, 'default_privs'>, string[]> = {
  database: ['CREATE', 'CONNECT', 'TEMPORARY'],
  schema: ['USAGE', 'CREATE'],
  table: TABLE_PRIVS,
  sequence: SEQUENCE_PRIVS,
};
const DEFAULT_PRIVS_OF: Record<DefaultKind, { privs: string[]; objtype: string; acldefault: string }> = {
  TABLES: { privs: TABLE_PRIVS, objtype: 'r', acldefault: 'r' },
  SEQUENCES: { privs: SEQUENCE_PRIVS, objtype: 'S', acldefault: 's' },
  FUNCTIONS: { privs: ['EXECUTE'], objtype: 'f', acldefault: 'f' },
  TYPES: { privs: ['USAGE'], objtype: 'T', acldefault: 'T' },
  SCHEMAS: { privs: ['USAGE', 'CREATE'], objtype: 'n', acldefault: 'n' },
};
/** The keyword after ON in GRANT/REVOKE; fixed text, never from input. */
const ON_KEYWORD: Record<ObjectType, string> = { database: 'DATABASE', schema: 'SCHEMA', table: 'TABLE', sequence: 'SEQUENCE', default_privs: '' };
const ALL_IN_SCHEMA = 'ALL_IN_SCHEMA';

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['roles', 'privs'],
  anyOf: [{ properties: { type: { const: 'database' } }, required: ['type'] }, { required: ['objs'] }],
  'x-message': 'objs is required unless type is database (whose default object is db)',
  properties: {
    db: { type: 'string', minLength: 1, default: 'postgres', description: 'database of the objects (for type database: the default object)' },
    roles: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1, maxLength: 63 },
      description: 'roles that receive or lose the privileges; PUBLIC means every role',
    },
    type: { enum: ['database', 'schema', 'table', 'sequence', 'default_privs'], default: 'table', description: 'kind of object' },
    objs: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1 },
      description: `names of the objects (database: default [db]; table, sequence: names in schema, or ${ALL_IN_SCHEMA}; default_privs: TABLES, SEQUENCES, FUNCTIONS, TYPES, SCHEMAS)`,
    },
    schema: { type: 'string', minLength: 1, description: 'schema of the tables or sequences (default public); default_privs: limit them to this schema (unset: every schema)' },
    privs: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', pattern: '^[A-Za-z]+$' },
      description: 'privileges, e.g. [CONNECT], [USAGE, CREATE], [SELECT, INSERT], or [ALL] (every privilege of the object type)',
    },
    target_roles: {
      type: 'array',
      minItems: 1,
      items: { type: 'string', minLength: 1, maxLength: 63 },
      description: 'default_privs: the roles whose future objects get the privileges (FOR ROLE; default: the connecting role)',
    },
    grant_option: { type: 'boolean', description: 'true: with GRANT OPTION; false: without it (revoked where held); unset: either' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'present grants what is missing, absent revokes what is held' },
    ...connectionProperties,
  },
} as const;

export const postgres_privs: Module<typeof schema, Observed, PrivsAction> = {
  name: 'postgres_privs',
  description: 'GRANT/REVOKE on databases, schemas, tables, sequences and default privileges; reads the ACLs first',
  schema,

  async observe(ctx, args) {
    const target = targetOf(resolveCluster(args), args.db);
    const type = args.type;
    const names = objectNames(args);
    const roles = args.roles.filter((r) => !isPublic(r));
    const params: SqlParams = { names: JSON.stringify(names), schema_name: args.schema ?? (type === 'default_privs' ? '' : 'public') };
    return observeSql(ctx, async () => {
      const targetRoles = type === 'default_privs' ? await defaultPrivsRoles(ctx, target, args) : [];
      params.target_roles = JSON.stringify(targetRoles);
      params.roles = JSON.stringify([...roles, ...targetRoles]);
      const [known, rows] = await Promise.all([
        queryRows<{ rolname: string }>(ctx, target, `SELECT rolname FROM pg_roles WHERE rolname IN (SELECT json_array_elements_text(:'roles'::json))`, params),
        queryRows<AclRow>(ctx, target, aclQuery(type, names), params),
      ]);
      const objects = aclObjects(rows);
      const found = new Set(objects.map((o) => objectKey(o)));
      const wantedKeys =
        type === 'default_privs' ? targetRoles.flatMap((r) => names.map((n) => objectKey({ name: n, forRole: r }))) : names.includes(ALL_IN_SCHEMA) ? [] : names.map((n) => objectKey({ name: n }));
      const knownRoles = new Set(known.map((r) => r.rolname));
      return {
        objects,
        missingObjects: wantedKeys.filter((k) => !found.has(k)),
        missingRoles: [...new Set([...roles, ...targetRoles])].filter((r) => !knownRoles.has(r)),
      };
    });
  },

  plan(observed, args) {
    const type = args.type;
    const what = `privileges on ${describeTarget(args)}`;
    const privsByObject = (o: ObservedObject) => expandPrivs(type, o.name, args.privs);
    // Validates the privileges even when nothing is found (ALL_IN_SCHEMA on an empty schema).
    for (const name of objectNames(args)) if (name !== ALL_IN_SCHEMA) expandPrivs(type, name, args.privs);
    if ('unavailable' in observed) return { unknown: true, summary: what, reason: observed.unavailable };
    const absentThings = [...observed.missingRoles.map((r) => `role ${r}`), ...observed.missingObjects.map((k) => `${type === 'default_privs' ? 'default privileges target' : type} ${k}`)];
    if (absentThings.length) {
      // In check mode an earlier task may be about to create them; applied, that is an error.
      return { unknown: true, summary: what, reason: `${absentThings.join(', ')} does not exist${absentThings.length > 1 ? ' (any of them)' : ''}` };
    }
    const state = args.state;
    const statements: PrivStatement[] = [];
    const before: string[] = [];
    const after: string[] = [];
    for (const object of observed.objects) {
      const wanted = privsByObject(object);
      const acl = structuredClone(object.acl);
      for (const role of args.roles.map((r) => (isPublic(r) ? 'PUBLIC' : r))) {
        const held = acl[role] ?? {};
        const add = (verb: PrivStatement['verb'], grantOption: boolean, privs: string[]) => {
          if (privs.length) statements.push({ verb, grantOption, privs, object: object.name, forRole: object.forRole, role });
        };
        if (state === 'present') {
          const missing = wanted.filter((p) => !(p in held) || (args.grant_option === true && !held[p]));
          add('GRANT', args.grant_option === true, missing);
          if (args.grant_option === false)
            add(
              'REVOKE',
              true,
              wanted.filter((p) => held[p] === true),
            );
          acl[role] = { ...held, ...Object.fromEntries(wanted.map((p) => [p, args.grant_option ?? held[p] ?? false])) };
        } else if (args.grant_option === true) {
          add(
            'REVOKE',
            true,
            wanted.filter((p) => held[p] === true),
          );
          for (const p of wanted) if (p in held) held[p] = false;
          acl[role] = held;
        } else {
          add(
            'REVOKE',
            false,
            wanted.filter((p) => p in held),
          );
          acl[role] = Object.fromEntries(Object.entries(held).filter(([p]) => !wanted.includes(p)));
        }
      }
      before.push(describeAcl(type, object, object.acl));
      after.push(describeAcl(type, object, acl));
    }
    if (statements.length === 0) return { changed: false, summary: `${what}: up to date` };
    return {
      changed: true,
      summary: statements.map((s) => summarize(type, s)).join('; '),
      action: { statements },
      diffs: [{ target: what, before: before.join(''), after: after.join('') }],
    };
  },

  async apply(ctx, action, args) {
    const target = targetOf(resolveCluster(args), args.db);
    const params: SqlParams = {};
    const lines = action.statements.map((s, i) => statementSql(args, s, i, params));
    await runSql(ctx, target, `BEGIN;\n${lines.join(';\n')};\nCOMMIT`, params);
    return { changed: true };
  },
};

export interface AclRow {
  object: string;
  for_role: string | null;
  grantee: string | null;
  privilege: string | null;
  grantable: boolean | null;
}

function isPublic(role: string): boolean {
  return role.toUpperCase() === 'PUBLIC';
}

function objectNames(args: PrivsArgs): string[] {
  const type = args.type;
  if (args.objs) return type === 'default_privs' ? args.objs.map((o) => o.toUpperCase()) : args.objs;
  // The schema requires objs for every other type.
  return [args.db];
}

function objectKey(o: { name: string; forRole?: string }): string {
  return o.forRole === undefined ? o.name : `${o.name} for role ${o.forRole}`;
}

/** The privileges wanted on one object: ALL expanded, aliases spelled as the catalog spells them. */
function expandPrivs(type: ObjectType, object: string, privs: string[]): string[] {
  let allowed: string[];
  if (type === 'default_privs') {
    const kind = DEFAULT_PRIVS_OF[object as DefaultKind];
    if (!kind) throw new ModuleError(`default_privs: objs must be among ${Object.keys(DEFAULT_PRIVS_OF).join(', ')}, not '${object}'`);
    allowed = kind.privs;
  } else allowed = PRIVS_OF[type];
  const out = new Set<string>();
  for (const raw of privs) {
    const p = raw.toUpperCase() === 'TEMP' ? 'TEMPORARY' : raw.toUpperCase();
    if (p === 'ALL' || p === 'PRIVILEGES') allowed.forEach((a) => out.add(a));
    else if (allowed.includes(p)) out.add(p);
    else throw new ModuleError(`privilege ${raw} does not apply to ${type === 'default_privs' ? `default privileges on ${object}` : `a ${type}`} (valid: ${allowed.join(', ')}, ALL)`);
  }
  return [...out];
}

const GRANTEE = `CASE WHEN e.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(e.grantee) END`;

/** Rows (object, for_role, grantee, privilege, grantable); an object with an empty ACL gives one row of NULLs. */
function aclQuery(type: ObjectType, names: string[]): string {
  const wanted = `(SELECT json_array_elements_text(:'names'::json))`;
  // aclexplode refuses an empty ACL (all revoked): that is no rows, as NULL is.
  const explode = (acl: string) => `LEFT JOIN LATERAL aclexplode(nullif(${acl}, '{}')) e ON true`;
  const select = (object: string, forRole = 'NULL::text') => `SELECT ${object} AS object, ${forRole} AS for_role, ${GRANTEE} AS grantee, e.privilege_type AS privilege, e.is_grantable AS grantable`;
  switch (type) {
    case 'database':
      return `${select('d.datname::text')} FROM pg_database d ${explode(`coalesce(d.datacl, acldefault('d', d.datdba))`)} WHERE d.datname IN ${wanted}`;
    case 'schema':
      return `${select('n.nspname::text')} FROM pg_namespace n ${explode(`coalesce(n.nspacl, acldefault('n', n.nspowner))`)} WHERE n.nspname IN ${wanted}`;
    case 'table':
    case 'sequence': {
      const kinds = type === 'table' ? `('r', 'p', 'v', 'm', 'f')` : `('S')`;
      const which = names.includes(ALL_IN_SCHEMA) ? '' : ` AND c.relname IN ${wanted}`;
      return `${select('c.relname::text')} FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        ${explode(`coalesce(c.relacl, acldefault('${type === 'table' ? 'r' : 's'}', c.relowner))`)}
        WHERE n.nspname = :'schema_name' AND c.relkind IN ${kinds}${which}`;
    }
    case 'default_privs': {
      // Per target role and kind: the pg_default_acl entry, else what applies without one:
      // the built-in defaults for the global entry, nothing for a schema's (it only adds).
      const kinds = Object.entries(DEFAULT_PRIVS_OF)
        .map(([kind, k]) => `('${kind}', '${k.objtype}'::"char", '${k.acldefault}'::"char")`)
        .join(', ');
      return `${select('k.kind', 'r.rolname::text')}
        FROM (VALUES ${kinds}) AS k(kind, objtype, defaulttype)
        CROSS JOIN pg_roles r
        LEFT JOIN pg_default_acl a ON a.defaclrole = r.oid AND a.defaclobjtype = k.objtype
          AND a.defaclnamespace = coalesce((SELECT oid FROM pg_namespace WHERE nspname = :'schema_name'), 0)
        ${explode(`coalesce(a.defaclacl, CASE WHEN :'schema_name' = '' THEN acldefault(k.defaulttype, r.oid) ELSE NULL END)`)}
        WHERE r.rolname IN (SELECT json_array_elements_text(:'target_roles'::json)) AND k.kind IN ${wanted}
          AND (:'schema_name' = '' OR EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = :'schema_name'))`;
    }
  }
}

async function defaultPrivsRoles(ctx: ModuleContext, target: PgTarget, args: PrivsArgs): Promise<string[]> {
  if (args.target_roles) return args.target_roles;
  const [row] = await queryRows<{ current_user: string }>(ctx, target, 'SELECT current_user');
  return [row.current_user];
}

/** aclQuery's rows → each object with who holds what on it (grantable or not), in code-unit order. */
export function aclObjects(rows: AclRow[]): ObservedObject[] {
  const byKey = new Map<string, ObservedObject>();
  for (const r of rows) {
    const object = { name: r.object, ...(r.for_role !== null ? { forRole: r.for_role } : {}) };
    const key = objectKey(object);
    const entry = byKey.get(key) ?? { ...object, acl: {} };
    byKey.set(key, entry);
    if (r.grantee !== null && r.privilege !== null) (entry.acl[r.grantee] ??= {})[r.privilege] = r.grantable === true;
  }
  return [...byKey.values()].sort((a, b) => byCodeUnits(objectKey(a), objectKey(b)));
}

/** The same order on every machine, whatever its locale. */
function byCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function describeTarget(args: PrivsArgs): string {
  const type = args.type;
  const objs = (args.objs ?? [args.db]).join(', ');
  if (type === 'default_privs') return `default privileges for ${objs}${args.schema ? ` in schema ${args.schema}` : ''}`;
  if (type === 'table' || type === 'sequence') {
    const which = args.objs?.includes(ALL_IN_SCHEMA) ? `all ${type}s` : `${type} ${objs}`;
    return `${which} in schema ${args.schema ?? 'public'}`;
  }
  return `${type} ${objs}`;
}

/** "role: PRIV, PRIV*" per grantee (* = with grant option), one object per block. */
function describeAcl(type: ObjectType, object: ObservedObject, acl: ObservedObject['acl']): string {
  const head = type === 'default_privs' ? `default ${object.name} of ${object.forRole}` : `${type} ${object.name}`;
  const lines = Object.entries(acl)
    .filter(([, privs]) => Object.keys(privs).length > 0)
    .sort(([a], [b]) => byCodeUnits(a, b))
    .map(
      ([grantee, privs]) =>
        `  ${grantee}: ${Object.entries(privs)
          .map(([p, g]) => `${p}${g ? '*' : ''}`)
          .sort()
          .join(', ')}`,
    );
  return `${head}\n${lines.join('\n')}${lines.length ? '\n' : ''}`;
}

function summarize(type: ObjectType, s: PrivStatement): string {
  const on = type === 'default_privs' ? `future ${s.object} of ${s.forRole}` : `${type} ${s.object}`;
  if (s.verb === 'GRANT') return `grant ${s.privs.join(', ')} on ${on} to ${s.role}${s.grantOption ? ' with grant option' : ''}`;
  return `revoke ${s.grantOption ? 'grant option for ' : ''}${s.privs.join(', ')} on ${on} from ${s.role}`;
}

/** One GRANT/REVOKE; names go through psql variables (quoted identifiers), keywords from fixed tables. */
function statementSql(args: PrivsArgs, s: PrivStatement, i: number, params: SqlParams): string {
  const type = args.type;
  const ident = (label: string, value: string) => {
    params[`${label}_${i}`] = value;
    return `:"${label}_${i}"`;
  };
  const grantee = s.role === 'PUBLIC' ? 'PUBLIC' : ident('role', s.role);
  const privs = s.privs.join(', ');
  const body =
    s.verb === 'GRANT' ? `GRANT ${privs} ON %ON% TO ${grantee}${s.grantOption ? ' WITH GRANT OPTION' : ''}` : `REVOKE ${s.grantOption ? 'GRANT OPTION FOR ' : ''}${privs} ON %ON% FROM ${grantee}`;
  if (type === 'default_privs') {
    const inSchema = args.schema ? ` IN SCHEMA ${ident('schema', args.schema)}` : '';
    return `ALTER DEFAULT PRIVILEGES FOR ROLE ${ident('owner', s.forRole!)}${inSchema} ${body.replace('%ON%', s.object)}`;
  }
  const qualified = type === 'table' || type === 'sequence' ? `${ident('schema', args.schema ?? 'public')}.${ident('object', s.object)}` : ident('object', s.object);
  return body.replace('%ON%', `${ON_KEYWORD[type]} ${qualified}`);
}
