// community.postgresql's connection arguments (login_user, login_unix_socket, port, db) as
// plinth's PostgreSQL modules take them: plinth connects through the local unix socket as the
// OS user that owns the cluster (peer authentication), so a remote login_host or a
// login_password has no place and is refused rather than ignored.
import { ModuleError, type ArgsOf } from '../../engine/types.js';

export const communityConnectionProperties = {
  db: { type: 'string', minLength: 1, 'x-aliases': ['login_db'], description: 'database to connect to (alias login_db)' },
  login_user: { type: 'string', minLength: 1, default: 'postgres', description: 'the role to connect as: plinth runs psql as the OS user of this name (peer authentication)' },
  login_host: { type: 'string', description: "'' or localhost: plinth connects through the unix socket (other hosts are refused)" },
  login_unix_socket: { type: 'string', minLength: 1, description: 'directory of the server’s unix socket (default /var/run/postgresql)' },
  login_password: { type: 'string', 'x-secret': true, description: 'refused: plinth logs in with peer authentication' },
  port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432, description: 'port of the local server' },
} as const;

/** The connection fields of a community.postgresql module's arguments, defaults filled in. */
type CommunityConnection = ArgsOf<{ type: 'object'; additionalProperties: false; properties: typeof communityConnectionProperties }>;

/** The connection arguments of plinth's postgres_* modules. */
export function plinthConnection(module: string, args: Omit<CommunityConnection, 'db'> & { db?: string }): { db: string; become_user: string; socket_dir?: string; port: number } {
  if (args.login_host && args.login_host !== 'localhost' && !args.login_host.startsWith('/')) {
    throw new ModuleError(`${module}: login_host ${args.login_host}: plinth connects to the server on the host itself, through its unix socket (run the task on that host instead)`);
  }
  if (args.login_password !== undefined && args.login_password !== '') {
    throw new ModuleError(`${module}: login_password is not used: plinth runs psql as the OS user login_user with peer authentication`);
  }
  const socket = args.login_unix_socket ?? (args.login_host?.startsWith('/') ? args.login_host : undefined);
  return {
    db: args.db ?? 'postgres',
    become_user: args.login_user,
    ...(socket ? { socket_dir: socket } : {}),
    port: args.port,
  };
}
