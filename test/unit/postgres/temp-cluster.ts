// A throwaway PostgreSQL 15 cluster for tests: initdb as the postgres user in a temp dir,
// its socket in that dir, a free port on 127.0.0.1. Stopped and removed by stop().
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, appendFileSync, chownSync } from 'node:fs';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const BIN = '/usr/lib/postgresql/15/bin';

export interface TempCluster {
  dir: string;
  dataDir: string;
  port: number;
  /** Module arguments that point at this cluster. */
  args: { data_dir: string; port: number; socket_dir: string };
  /** Connection arguments only (for postgres_query and postgres_role). */
  conn: { port: number; socket_dir: string };
  psql(sql: string, db?: string): string;
  pgCtl(...argv: string[]): string;
  stop(): void;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

function postgresIds(): { uid: number; gid: number } {
  return { uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()) };
}

export function asPostgres(argv: string[], input?: string): string {
  const r = spawnSync('runuser', ['-u', 'postgres', '--', ...argv], { input, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** A temp dir owned by postgres (the data dir's parent must be writable by it). */
export function postgresTempDir(prefix = 'plinth-pg-'): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const { uid, gid } = postgresIds();
  chownSync(dir, uid, gid);
  return dir;
}

export async function startTempCluster(opts: { extraConf?: string; hba?: string } = {}): Promise<TempCluster> {
  const dir = postgresTempDir();
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  asPostgres([`${BIN}/initdb`, '-D', dataDir, '-U', 'postgres', '-A', 'peer', '--auth-host=scram-sha-256', '--no-sync']);
  appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# test cluster\nport = ${port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${dir}'\nfsync = off\n${opts.extraConf ?? ''}`);
  if (opts.hba) appendFileSync(path.join(dataDir, 'pg_hba.conf'), opts.hba);
  const cluster = clusterAt(dir, dataDir, port);
  cluster.pgCtl('start', '-D', dataDir, '-l', path.join(dir, 'server.log'), '-w');
  return cluster;
}

/**
 * A streaming standby of a temp cluster, cloned with pg_basebackup -R over the primary's unix
 * socket (peer authentication as postgres), with its own port and socket directory.
 */
export async function startTempStandby(primary: TempCluster, applicationName = 'standby1'): Promise<TempCluster> {
  const dir = postgresTempDir('plinth-pg-standby-');
  const dataDir = path.join(dir, 'data');
  const port = await freePort();
  asPostgres(['pg_basebackup', '-D', dataDir, '-X', 'stream', '-R', '-c', 'fast', '-d', `host=${primary.dir} port=${primary.port} user=postgres application_name=${applicationName}`]);
  appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n# standby\nport = ${port}\nunix_socket_directories = '${dir}'\nlisten_addresses = ''\n`);
  const standby = clusterAt(dir, dataDir, port);
  standby.pgCtl('start', '-D', dataDir, '-l', path.join(dir, 'server.log'), '-w');
  return standby;
}

/** The handle of a cluster in a temp dir (its socket there too); stop() also removes the dir. */
function clusterAt(dir: string, dataDir: string, port: number): TempCluster {
  return {
    dir,
    dataDir,
    port,
    args: { data_dir: dataDir, port, socket_dir: dir },
    conn: { port, socket_dir: dir },
    psql: (sql, db = 'postgres') => asPostgres(['psql', '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-h', dir, '-p', String(port), '-d', db], sql).trim(),
    pgCtl: (...argv) => asPostgres([`${BIN}/pg_ctl`, ...argv]),
    stop: () => {
      spawnSync('runuser', ['-u', 'postgres', '--', `${BIN}/pg_ctl`, 'stop', '-D', dataDir, '-m', 'immediate', '-w'], { encoding: 'utf8' });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A primary (max_connections 100) and its streaming standby, for the suite of one test file. */
export function useTempPrimaryAndStandby(hooks: { beforeAll: (fn: () => Promise<void>, timeout: number) => void; afterAll: (fn: () => void) => void }) {
  const pair = {} as { primary: TempCluster; standby: TempCluster };
  hooks.beforeAll(async () => {
    pair.primary = await startTempCluster({ extraConf: 'max_connections = 100\n' });
    pair.standby = await startTempStandby(pair.primary);
  }, 120_000);
  hooks.afterAll(() => {
    pair.standby?.stop();
    pair.primary?.stop();
  });
  return pair;
}
