// postgres_role: a database role with its attributes and password. The password is
// verified against the stored SCRAM-SHA-256 or md5 verifier, so an unchanged password is
// not reset on every run; a new one is sent as a verifier computed here, so the plain text
// never reaches the server (or its statement log).
import type { Module, ArgsOf } from '../engine/types.js';
import { connectionProperties, resolveCluster, targetOf } from './postgres/cluster.js';
import { makeVerifier, verifierKind, verifyPassword } from './postgres/password.js';
import { observeSql, queryRows, runSql, type SqlParams } from './postgres/sql.js';

const FLAGS = {
  superuser: ['rolsuper', 'SUPERUSER', 'NOSUPERUSER'],
  createdb: ['rolcreatedb', 'CREATEDB', 'NOCREATEDB'],
  createrole: ['rolcreaterole', 'CREATEROLE', 'NOCREATEROLE'],
  inherit: ['rolinherit', 'INHERIT', 'NOINHERIT'],
  login: ['rolcanlogin', 'LOGIN', 'NOLOGIN'],
  replication: ['rolreplication', 'REPLICATION', 'NOREPLICATION'],
  bypassrls: ['rolbypassrls', 'BYPASSRLS', 'NOBYPASSRLS'],
} as const;
type Flag = keyof typeof FLAGS;

function flagProperty(flag: Flag) {
  const [, yes, no] = FLAGS[flag];
  return { type: 'boolean', description: `${yes} (true) or ${no} (false); unset leaves it as it is` } as const;
}

type RoleArgs = ArgsOf<typeof schema>;

interface RoleRow {
  rolname: string;
  rolsuper: boolean;
  rolcreatedb: boolean;
  rolcreaterole: boolean;
  rolinherit: boolean;
  rolcanlogin: boolean;
  rolreplication: boolean;
  rolbypassrls: boolean;
  rolconnlimit: number;
  rolpassword: string | null;
}

type Observed = { role: RoleRow | null } | { unavailable: string };

interface RoleAction {
  op: 'create' | 'alter' | 'drop';
  options: string[];
  setPassword: boolean;
}

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['name'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 63, description: 'role name (any characters; quoted as an identifier)' },
    state: { enum: ['present', 'absent'], default: 'present', description: 'present creates or alters the role, absent drops it' },
    password: { type: 'string', minLength: 1, 'x-secret': true, description: 'the role’s password; only changed when the stored verifier does not match it' },
    password_encryption: {
      enum: ['scram-sha-256', 'md5'],
      default: 'scram-sha-256',
      description: 'how the password is stored; a password stored the other way is re-set',
    },
    superuser: flagProperty('superuser'),
    createdb: flagProperty('createdb'),
    createrole: flagProperty('createrole'),
    inherit: flagProperty('inherit'),
    login: flagProperty('login'),
    replication: flagProperty('replication'),
    bypassrls: flagProperty('bypassrls'),
    connection_limit: { type: 'integer', minimum: -1, description: 'CONNECTION LIMIT; -1 means no limit' },
    db: { type: 'string', minLength: 1, default: 'postgres', description: 'database to connect to' },
    ...connectionProperties,
  },
} as const;

export const postgres_role: Module<typeof schema, Observed, RoleAction> = {
  name: 'postgres_role',
  description: 'Create, alter or drop a PostgreSQL role; idempotent for passwords',
  schema,

  async observe(ctx, args) {
    if (args.password !== undefined) ctx.markSecret(args.password);
    return observeSql(ctx, async () => {
      const rows = await queryRows<RoleRow>(
        ctx,
        target(args),
        `SELECT rolname, rolsuper, rolcreatedb, rolcreaterole, rolinherit, rolcanlogin, rolreplication, rolbypassrls,
                rolconnlimit, rolpassword
           FROM pg_authid WHERE rolname = :'role_name'`,
        { role_name: args.name },
      );
      return { role: rows[0] ?? null };
    });
  },

  plan(observed, args) {
    const what = `role ${args.name}`;
    if ('unavailable' in observed) return { unknown: true, summary: what, reason: observed.unavailable };
    const role = observed.role;
    const state = args.state;
    if (state === 'absent') {
      if (!role) return { changed: false, summary: `${what} absent` };
      return { changed: true, summary: `drop ${what}`, action: { op: 'drop', options: [], setPassword: false }, diffs: [{ target: what, before: describe(role, false), after: '' }] };
    }
    const options = wantedOptions(args, role);
    const setPassword = args.password !== undefined && !passwordMatches(role, args);
    if (role && options.length === 0 && !setPassword) return { changed: false, summary: `${what} up to date` };
    const op = role ? 'alter' : 'create';
    return {
      changed: true,
      summary: `${op} ${what}${options.length ? ` ${options.join(' ')}` : ''}${setPassword ? ' (password)' : ''}`,
      action: { op, options, setPassword },
      diffs: [{ target: what, before: role ? describe(role, false) : '', after: describe(projected(role, args), setPassword) }],
    };
  },

  async apply(ctx, action, args) {
    const params: SqlParams = { role_name: args.name };
    if (action.op === 'drop') {
      await runSql(ctx, target(args), `DROP ROLE :"role_name"`, params);
      return { changed: true };
    }
    let options = action.options.join(' ');
    if (action.setPassword) {
      const verifier = makeVerifier(args.password_encryption, args.password!, args.name);
      ctx.markSecret(verifier);
      params.role_password = verifier;
      options += ` PASSWORD :'role_password'`;
    }
    const verb = action.op === 'create' ? 'CREATE' : 'ALTER';
    await runSql(ctx, target(args), `${verb} ROLE :"role_name"${options.trim() ? ` WITH ${options.trim()}` : ''}`, params);
    return { changed: true };
  },
};

function target(args: RoleArgs) {
  return targetOf(resolveCluster(args), args.db);
}

/** SQL keywords for the attributes that differ; they come from a fixed table, never from input. */
function wantedOptions(args: RoleArgs, role: RoleRow | null): string[] {
  const options: string[] = [];
  for (const [flag, [column, yes, no]] of Object.entries(FLAGS) as [Flag, (typeof FLAGS)[Flag]][]) {
    const want = args[flag];
    if (want === undefined || (role && role[column] === want)) continue;
    options.push(want ? yes : no);
  }
  const limit = args.connection_limit;
  if (limit !== undefined && (!role || role.rolconnlimit !== limit)) {
    options.push(`CONNECTION LIMIT ${limit}`);
  }
  return options;
}

function passwordMatches(role: RoleRow | null, args: RoleArgs): boolean {
  if (!role || args.password === undefined) return false;
  const kind = verifierKind(role.rolpassword);
  return kind === args.password_encryption && verifyPassword(role.rolpassword, args.password, args.name);
}

function projected(role: RoleRow | null, args: RoleArgs): RoleRow {
  const base: RoleRow = role ?? {
    rolname: args.name,
    rolsuper: false,
    rolcreatedb: false,
    rolcreaterole: false,
    rolinherit: true,
    rolcanlogin: false,
    rolreplication: false,
    rolbypassrls: false,
    rolconnlimit: -1,
    rolpassword: null,
  };
  const next = { ...base };
  for (const [flag, [column]] of Object.entries(FLAGS) as [Flag, (typeof FLAGS)[Flag]][]) {
    if (args[flag] !== undefined) next[column] = args[flag]!;
  }
  if (args.connection_limit !== undefined) next.rolconnlimit = args.connection_limit;
  if (args.password !== undefined) next.rolpassword = base.rolpassword ?? 'set';
  return next;
}

/** The role as diff text; the password appears only as whether it is set or changes. */
function describe(role: RoleRow, passwordChanges: boolean): string {
  const lines = (Object.entries(FLAGS) as [Flag, (typeof FLAGS)[Flag]][]).map(([flag, [column]]) => `${flag}: ${role[column]}`);
  lines.push(`connection_limit: ${role.rolconnlimit}`);
  lines.push(`password: ${passwordChanges ? '(secret, changed)' : role.rolpassword ? '(secret)' : '(none)'}`);
  return `${lines.join('\n')}\n`;
}
