// The one way plinth's PostgreSQL modules talk SQL: psql on the host, run as the database
// superuser over the unix socket (peer authentication), the script on stdin. Values never
// enter the SQL text: they are psql variables set at the top of the script and referenced
// as :'name' (psql quotes a literal) or :"name" (psql quotes an identifier). Rows come back
// as JSON, so they are typed. The same argv works over the local and the ssh connection,
// and nothing secret is on a command line (stdin is not visible in ps).
import { ModuleError, type ModuleContext } from '../../engine/types.js';

export interface PgTarget {
  /** Directory of the server's unix socket (Debian: /var/run/postgresql). */
  socketDir: string;
  port: number;
  db: string;
  /** OS user psql runs as; peer authentication maps it to the database role of the same name. */
  user: string;
  /** Directory of psql; PATH is used when absent. */
  binDir?: string;
}

type SqlValue = string | number | boolean | null;
export type SqlParams = Record<string, SqlValue>;

const NOT_RUNNING_EXIT = 2;

/** psql exits with 2 when it cannot connect: the server does not run (or the socket is elsewhere). */
export class ServerUnavailableError extends ModuleError {}

/** The server runs but the database to connect to does not exist (yet: check mode may be ahead of its creation). */
class DatabaseMissingError extends ServerUnavailableError {}

const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A psql `\set` line whose value psql reads back exactly. Inside single quotes psql's
 * meta-command lexer turns '' into ' and a backslash escapes the next character; a newline
 * would end the line, so it is written as \n, which psql decodes.
 */
export function setVariableLine(name: string, value: string): string {
  if (!VARIABLE_NAME.test(name)) throw new ModuleError(`internal error: bad psql variable name ${name}`);
  if (value.includes('\0')) throw new ModuleError(`a SQL parameter cannot contain a NUL byte`);
  const escaped = value.replace(/\\/g, '\\\\').replace(/'/g, "''").replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `\\set ${name} '${escaped}'`;
}

/** The stdin script: variables first, then the SQL. */
function buildScript(sql: string, params: SqlParams = {}): string {
  const lines = Object.entries(params).map(([name, value]) => {
    if (value === null) throw new ModuleError(`internal error: psql variable ${name} cannot be NULL; write NULL in the SQL`);
    return setVariableLine(name, typeof value === 'string' ? value : String(value));
  });
  return `${lines.join('\n')}\n${sql.trim().replace(/;?\s*$/, ';')}\n`;
}

function psqlArgv(target: PgTarget, extra: string[] = []): string[] {
  const psql = target.binDir ? `${target.binDir}/psql` : 'psql';
  return [psql, '-X', '-q', '-A', '-t', '--no-psqlrc', '-v', 'ON_ERROR_STOP=1', '-h', target.socketDir, '-p', String(target.port), '-d', target.db, ...extra];
}

/** Runs a script; returns psql's stdout. Connection failures throw ServerUnavailableError. */
export async function runSql(ctx: ModuleContext, target: PgTarget, sql: string, params: SqlParams = {}, opts: { quiet?: boolean } = {}): Promise<string> {
  const argv = psqlArgv(target);
  if (opts.quiet === false) argv.splice(argv.indexOf('-q'), 1);
  const r = await ctx.host.exec(argv, {
    stdin: buildScript(sql, params),
    become: true,
    becomeUser: target.user,
  });
  if (r.exitCode === 0) return r.stdout;
  const reason = cleanError(r.stderr) || r.stdout.trim() || `psql exit code ${r.exitCode}`;
  if (r.exitCode === 127) throw new ModuleError(`psql is not installed on ${ctx.host.name}: ${reason}`);
  const missing = /FATAL:\s+database "(.*)" does not exist/.exec(r.stderr);
  if (r.exitCode === NOT_RUNNING_EXIT && missing) throw new DatabaseMissingError(`database ${missing[1]} does not exist`);
  if (r.exitCode === NOT_RUNNING_EXIT && /connection to server|could not connect|No such file or directory|Connection refused/i.test(r.stderr)) {
    throw new ServerUnavailableError(`PostgreSQL is not running on ${target.socketDir} port ${target.port}: ${reason}`);
  }
  throw new ModuleError(`SQL failed: ${reason}`);
}

/** Runs one row-returning statement (SELECT, VALUES, ...) and returns its rows as typed JSON. */
export async function queryRows<T = Record<string, unknown>>(ctx: ModuleContext, target: PgTarget, select: string, params: SqlParams = {}): Promise<T[]> {
  return parseJsonRows<T>(await runSql(ctx, target, asJsonRows(select), params));
}

/**
 * A SELECT that returns the rows of `select` as one JSON array, base64-encoded: psql's
 * printer drops some characters (e.g. Unicode noncharacters), base64 passes through intact.
 */
export function asJsonRows(select: string): string {
  return `SELECT encode(convert_to(coalesce(json_agg(plinth_row), '[]'::json)::text, 'UTF8'), 'base64') FROM (${select.trim().replace(/;\s*$/, '')}\n) plinth_row`;
}

/**
 * What a module observes through SQL. In check mode a server that does not run yet (or a
 * database not created yet) makes the outcome unknown, with the reason; applied, it is an error.
 */
export async function observeSql<T>(ctx: ModuleContext, read: () => Promise<T>): Promise<T | { unavailable: string }> {
  try {
    return await read();
  } catch (e) {
    if (e instanceof ServerUnavailableError && ctx.check) return { unavailable: e.message };
    throw e;
  }
}

/** Like queryRows, but returns null when the server does not run. */
export async function queryRowsIfRunning<T = Record<string, unknown>>(ctx: ModuleContext, target: PgTarget, select: string, params: SqlParams = {}): Promise<T[] | null> {
  try {
    return await queryRows<T>(ctx, target, select, params);
  } catch (e) {
    if (e instanceof ServerUnavailableError) return null;
    throw e;
  }
}

export function parseJsonRows<T>(out: string): T[] {
  const text = Buffer.from(out.replace(/\s+/g, ''), 'base64').toString('utf8');
  try {
    const rows = JSON.parse(text);
    if (!Array.isArray(rows)) throw new Error('not an array');
    return rows as T[];
  } catch {
    throw new ModuleError(`unexpected psql output (expected JSON rows): ${out.slice(0, 200)}`);
  }
}

function cleanError(stderr: string): string {
  return stderr
    .split('\n')
    .map((l) =>
      l
        .replace(/^psql:<stdin>:\d+: /, '')
        .replace(/^psql: error: /, '')
        .trim(),
    )
    .filter(Boolean)
    .join('; ');
}
