// Where a PostgreSQL cluster lives on a host, from the task's arguments. Defaults are the
// Debian layout (version 15, cluster main); tests and other layouts set the paths directly.
import { ModuleError, type ArgsOf, type ModuleContext } from '../../engine/types.js';
import { quoteArg } from '../../engine/connection/shell-quote.js';
import type { PgTarget } from './sql.js';

export interface Cluster {
  version: string;
  name: string;
  dataDir: string;
  configDir: string;
  binDir: string;
  port: number;
  socketDir: string;
  /** OS user that owns the cluster and runs psql (peer authentication). */
  osUser: string;
  /** Debian's pg_ctlcluster manages it (config under /etc/postgresql); otherwise pg_ctl -D. */
  debian: boolean;
}

/** Schema properties shared by the PostgreSQL modules; spread them into `properties`. */
export const clusterProperties = {
  version: { type: 'string', pattern: '^[0-9]+$', default: '15', description: 'PostgreSQL major version (Debian layout)' },
  cluster: { type: 'string', pattern: '^[A-Za-z0-9_.-]+$', default: 'main', description: 'Debian cluster name' },
  data_dir: { type: 'string', minLength: 1, description: 'data directory (default /var/lib/postgresql/VERSION/CLUSTER)' },
  config_dir: {
    type: 'string',
    minLength: 1,
    description: 'directory of postgresql.conf and pg_hba.conf (default /etc/postgresql/VERSION/CLUSTER; set it to data_dir for a non-Debian cluster)',
  },
  bin_dir: { type: 'string', minLength: 1, description: 'directory of the server binaries (default /usr/lib/postgresql/VERSION/bin)' },
  port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432, description: 'port of the local server' },
  socket_dir: { type: 'string', minLength: 1, default: '/var/run/postgresql', description: 'directory of the local server’s unix socket' },
  become_user: { type: 'string', minLength: 1, default: 'postgres', description: 'OS user that owns the cluster; psql runs as this user (peer authentication)' },
} as const;

/** The schema properties of the modules that only connect to the server (roles, databases, queries). */
export const connectionProperties = {
  version: clusterProperties.version,
  bin_dir: clusterProperties.bin_dir,
  port: clusterProperties.port,
  socket_dir: clusterProperties.socket_dir,
  become_user: clusterProperties.become_user,
} as const;

/**
 * The cluster fields of a module's arguments, defaults filled in. The modules that only connect
 * (connectionProperties) have no cluster name or paths: those take the Debian layout's.
 */
type ClusterArgs = ArgsOf<{ type: 'object'; additionalProperties: false; properties: typeof connectionProperties }> &
  Partial<ArgsOf<{ type: 'object'; additionalProperties: false; properties: typeof clusterProperties }>>;

export function resolveCluster(args: ClusterArgs): Cluster {
  const version = args.version;
  const name = args.cluster ?? clusterProperties.cluster.default;
  const debianConfig = `/etc/postgresql/${version}/${name}`;
  const debianData = `/var/lib/postgresql/${version}/${name}`;
  const dataDir = args.data_dir ?? debianData;
  const configDir = args.config_dir ?? (args.data_dir ? args.data_dir : debianConfig);
  return {
    version,
    name,
    dataDir,
    configDir,
    binDir: args.bin_dir ?? `/usr/lib/postgresql/${version}/bin`,
    port: args.port,
    socketDir: args.socket_dir,
    osUser: args.become_user,
    debian: configDir === debianConfig && dataDir === debianData,
  };
}

export function targetOf(cluster: Cluster, db = 'postgres'): PgTarget {
  return { socketDir: cluster.socketDir, port: cluster.port, db, user: cluster.osUser, binDir: cluster.binDir };
}

export function asOwner(cluster: Cluster) {
  return { become: true, becomeUser: cluster.osUser };
}

export type RunState = 'running' | 'stopped' | 'no-data-dir' | 'not-installed';

/** pg_ctl status: 0 running, 3 stopped, 4 not a data directory. */
export async function clusterState(ctx: ModuleContext, cluster: Cluster): Promise<RunState> {
  const r = await ctx.host.exec([`${cluster.binDir}/pg_ctl`, 'status', '-D', cluster.dataDir], asOwner(cluster));
  if (r.exitCode === 0) return 'running';
  if (r.exitCode === 3) return 'stopped';
  if (r.exitCode === 4) return 'no-data-dir';
  if (r.exitCode === 127 || /No such file|not found/.test(r.stderr)) return 'not-installed';
  throw new ModuleError(`pg_ctl status -D ${cluster.dataDir} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
}

const CONTROL_TIMEOUT_S = 300;

/** Starts, stops or restarts the cluster the way its layout expects (systemd through pg_ctlcluster on Debian). */
export async function controlCluster(ctx: ModuleContext, cluster: Cluster, action: 'start' | 'stop' | 'restart'): Promise<void> {
  // systemd can keep a unit "activating" for good after the server failed to start (seen in the
  // lab with a standby refused for a too low max_connections): the host's own timeout bounds it.
  const argv = cluster.debian
    ? ['timeout', String(CONTROL_TIMEOUT_S), 'pg_ctlcluster', cluster.version, cluster.name, action, ...(action !== 'start' ? ['-m', 'fast'] : [])]
    : pgCtlArgv(cluster, action);
  const r = await ctx.host.exec(argv, cluster.debian ? { ...ctx.become } : { ...asOwner(cluster), timeout: 180_000 });
  if (r.exitCode !== 0) {
    const why = r.exitCode === 124 && cluster.debian ? `no result after ${CONTROL_TIMEOUT_S} s` : (r.stderr || r.stdout).trim() || `exit code ${r.exitCode}`;
    const log = cluster.debian ? ` (see journalctl -u postgresql@${cluster.version}-${cluster.name} and /var/log/postgresql/postgresql-${cluster.version}-${cluster.name}.log)` : '';
    throw new ModuleError(`cannot ${action} PostgreSQL ${cluster.dataDir}: ${why}${log}`);
  }
}

function pgCtlArgv(cluster: Cluster, action: 'start' | 'stop' | 'restart'): string[] {
  const base = [`${cluster.binDir}/pg_ctl`, action, '-D', cluster.dataDir, '-w', ...(action !== 'start' ? ['-m', 'fast'] : [])];
  if (action === 'stop') return base;
  // pg_ctl hands -o to a shell, hence the quoting; the options win over a copied postgresql.conf.
  const options = `-c port=${cluster.port} -c unix_socket_directories=${quoteArg(cluster.socketDir)}`;
  return [...base, '-l', `${cluster.dataDir}.log`, '-o', options];
}
