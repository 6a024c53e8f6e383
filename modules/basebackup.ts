// basebackup: makes this host's cluster a streaming standby of a primary, with
// pg_basebackup -Fp -Xs -R and application_name in primary_conninfo.
//
// Idempotent: a standby of the same cluster (same system identifier) that streams from, or
// is configured for, that primary is left alone; only a changed password or application
// name is rewritten (a reload restarts the WAL receiver, no re-clone).
// Safe: the old data directory is moved aside, never deleted, and it is not touched at all
// when it belongs to a primary in use (running, not in recovery, with databases, tables or
// roles of its own) or to another cluster (its system identifier differs from the
// primary's), unless force: true. The fresh cluster a package install creates is replaced.
// The replication password reaches pg_basebackup and psql through their environment, read
// from stdin by a shell; it is never on a command line.
import { ModuleError, type ArgsOf, type Module, type ModuleContext } from '../engine/types.js';
import { asOwner, clusterProperties, clusterState, controlCluster, resolveCluster, targetOf, type Cluster, type RunState } from './postgres/cluster.js';
import { parseConf, setConfValues } from './postgres/conf.js';
import { formatConninfo, parseConninfo } from './postgres/conninfo.js';
import { queryRows, queryRowsIfRunning, ServerUnavailableError } from './postgres/sql.js';

type BasebackupArgs = ArgsOf<typeof schema>;

interface Local {
  state: RunState;
  /** The data directory exists and holds files. */
  nonEmpty: boolean;
  systemId: string | null;
  inRecovery: boolean | null;
  /** Databases, relations or roles beyond what initdb creates (only known while running). */
  inUse: string[] | null;
  receiver: { status: string; sender_host: string | null; sender_port: number | null; conninfo: string | null } | null;
  /** primary_conninfo from postgresql.auto.conf. */
  conninfo: Record<string, string> | null;
  autoConf: string | null;
}

type Observed = { unknown: string } | { local: Local; primarySystemId: string | null; primaryError: string | null };

type BasebackupAction = { op: 'clone'; stop: boolean; moveAside: boolean } | { op: 'reconfigure'; content: string };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  required: ['primary_host', 'replication_user', 'replication_password', 'application_name'],
  properties: {
    primary_host: { type: 'string', minLength: 1, description: 'host name or address of the primary' },
    primary_port: { type: 'integer', minimum: 1, maximum: 65535, default: 5432, description: 'port of the primary' },
    replication_user: { type: 'string', minLength: 1, description: 'role with REPLICATION on the primary' },
    replication_password: { type: 'string', minLength: 1, pattern: '^[^\\n\\r]*$', 'x-secret': true, description: 'password of replication_user (one line)' },
    application_name: {
      type: 'string',
      minLength: 1,
      pattern: '^[A-Za-z0-9_.-]+$',
      description: 'name of this standby in primary_conninfo; what synchronous_standby_names refers to',
    },
    slot: { type: 'string', pattern: '^[a-z0-9_]+$', description: 'physical replication slot on the primary (pg_basebackup -S)' },
    create_slot: { type: 'boolean', default: false, description: 'create the slot while cloning (pg_basebackup -C)' },
    force: {
      type: 'boolean',
      default: false,
      description: 'replace a data directory even when it belongs to a primary in use or to another cluster (it is moved aside, not deleted)',
    },
    wait_timeout: { type: 'integer', minimum: 0, default: 120, description: 'seconds to wait for streaming after start' },
    ...clusterProperties,
  },
} as const;

export const basebackup: Module<typeof schema, Observed, BasebackupAction> = {
  name: 'basebackup',
  description: 'Make the local cluster a streaming standby of a primary (pg_basebackup)',
  schema,

  async observe(ctx, args) {
    ctx.markSecret(args.replication_password);
    const cluster = resolveCluster(args);
    // Every read goes out at once (one round trip instead of three): which of them count depends
    // on pg_ctl's answer and on the listing, but none of them changes anything.
    const reads = localReads(ctx, cluster);
    const primaryRead = identifyPrimary(ctx, cluster, args);
    primaryRead.catch(() => {});
    const state = await clusterState(ctx, cluster);
    if (state === 'not-installed') {
      const reason = `PostgreSQL ${cluster.version} is not installed (${cluster.binDir}/pg_ctl not found)`;
      if (ctx.check) return { unknown: reason };
      throw new ModuleError(reason);
    }
    const [local, primary] = await Promise.all([observeLocal(state, reads), primaryRead]);
    if (primary.error && ctx.check && !isStreamingFromPrimary(local, args)) {
      return { unknown: `the primary is not reachable yet: ${primary.error}` };
    }
    return { local, primarySystemId: primary.systemId, primaryError: primary.error };
  },

  plan(observed, args) {
    const cluster = resolveCluster(args);
    const what = `standby of ${args.primary_host}:${args.primary_port} as ${args.application_name}`;
    if ('unknown' in observed) return { unknown: true, summary: what, reason: observed.unknown };
    const { local, primarySystemId } = observed;
    const sameCluster = local.systemId !== null && local.systemId === primarySystemId;

    if (isStreamingFromPrimary(local, args) && (sameCluster || primarySystemId === null)) {
      return planConfigured(local, args, what, true);
    }
    if (local.state === 'running' && local.inRecovery && sameCluster && configuredFor(local.conninfo, args, false)) {
      return planConfigured(local, args, what, false);
    }
    if (observed.primaryError) throw new ModuleError(`cannot reach the primary ${args.primary_host}:${args.primary_port}: ${observed.primaryError}`);
    refuseUnsafe(local, cluster, primarySystemId!, args.force);
    const steps = [
      local.state === 'running' ? 'stop the cluster' : null,
      local.nonEmpty ? `move ${cluster.dataDir} aside` : null,
      `pg_basebackup from ${args.primary_host}:${args.primary_port}`,
      'start as standby',
    ].filter(Boolean);
    return {
      changed: true,
      summary: `${what}: ${steps.join(', ')}`,
      diffs: [
        {
          target: `cluster ${cluster.dataDir}`,
          before: describeLocal(local),
          after: `standby of ${args.primary_host}:${args.primary_port} (system identifier ${primarySystemId}), application_name ${args.application_name}\n`,
        },
      ],
      action: { op: 'clone', stop: local.state === 'running', moveAside: local.nonEmpty },
      result: { streaming: false },
    };
  },

  async apply(ctx, action, args) {
    const cluster = resolveCluster(args);
    if (action.op === 'reconfigure') {
      await writeAutoConf(ctx, cluster, action.content);
      await queryRows(ctx, targetOf(cluster), 'SELECT pg_reload_conf() AS ok');
      await waitForStreaming(ctx, cluster, args);
      return { result: { streaming: true } };
    }
    if (action.stop) await controlCluster(ctx, cluster, 'stop');
    const movedAside = action.moveAside ? await moveAside(ctx, cluster) : null;
    await runBasebackup(ctx, cluster, args);
    const auto = (await ctx.host.read(`${cluster.dataDir}/postgresql.auto.conf`, asOwner(cluster)))?.toString('utf8') ?? '';
    await writeAutoConf(ctx, cluster, setConfValues(auto, { primary_conninfo: wantedConninfo(args) }));
    await controlCluster(ctx, cluster, 'start');
    await waitForStreaming(ctx, cluster, args);
    return { result: { streaming: true, moved_aside: movedAside } };
  },
};

function planConfigured(local: Local, args: BasebackupArgs, what: string, streaming: boolean) {
  if (configuredFor(local.conninfo, args, true) || local.autoConf === null) {
    return { changed: false as const, summary: streaming ? `${what}: streaming` : `${what}: configured (not streaming right now)`, result: { streaming } };
  }
  const content = setConfValues(local.autoConf, { primary_conninfo: wantedConninfo(args) });
  return {
    changed: true as const,
    summary: `${what}: update primary_conninfo and reload`,
    diffs: [{ target: 'postgresql.auto.conf', before: local.autoConf, after: content, secret: true }],
    action: { op: 'reconfigure' as const, content },
    result: { streaming },
  };
}

function wantedConninfo(args: BasebackupArgs): string {
  return formatConninfo({
    user: args.replication_user,
    password: args.replication_password,
    host: args.primary_host,
    port: args.primary_port,
    application_name: args.application_name,
  });
}

/** The configured primary_conninfo points at this primary; `exact` also compares password and name. */
function configuredFor(conninfo: Record<string, string> | null, args: BasebackupArgs, exact: boolean): boolean {
  if (!conninfo) return false;
  const same = conninfo.host === args.primary_host && (conninfo.port ?? '5432') === String(args.primary_port) && conninfo.user === args.replication_user;
  if (!exact) return same;
  return same && conninfo.password === args.replication_password && conninfo.application_name === args.application_name;
}

function isStreamingFromPrimary(local: Local, args: BasebackupArgs): boolean {
  const r = local.receiver;
  if (r?.status !== 'streaming') return false;
  const app = r.conninfo ? parseConninfo(r.conninfo).application_name : undefined;
  return r.sender_host === args.primary_host && r.sender_port === args.primary_port && app === args.application_name;
}

function refuseUnsafe(local: Local, cluster: Cluster, primarySystemId: string, force: boolean): void {
  if (force) return;
  if (local.state === 'running' && !local.inRecovery && (local.inUse === null || local.inUse.length > 0)) {
    throw new ModuleError(`refusing to replace ${cluster.dataDir}: it belongs to a running primary in use (${(local.inUse ?? ['unknown']).join(', ')}); stop it and check, or set force: true`);
  }
  const fresh = local.state === 'running' && !local.inRecovery && local.inUse?.length === 0;
  if (local.systemId && local.systemId !== primarySystemId && !fresh) {
    throw new ModuleError(
      `refusing to replace ${cluster.dataDir}: it belongs to another cluster (system identifier ${local.systemId}, the primary's is ${primarySystemId}); set force: true to move it aside`,
    );
  }
  if (local.nonEmpty && !local.systemId) {
    throw new ModuleError(`refusing to replace ${cluster.dataDir}: it is not empty and not a PostgreSQL data directory; set force: true to move it aside`);
  }
}

function describeLocal(local: Local): string {
  if (!local.nonEmpty) return 'no data directory\n';
  const role = local.state !== 'running' ? 'stopped' : local.inRecovery ? 'running standby' : 'running primary';
  return `${role}, system identifier ${local.systemId ?? 'unknown'}${local.conninfo?.host ? `, primary_conninfo host ${local.conninfo.host}` : ''}\n`;
}

type Catalog = { in_recovery: boolean; dbs: string[] | null; relations: number; roles: string[] | null };

/** The data directory's listing, control data, auto.conf and catalog, asked all at once; awaited only where they count. */
function localReads(ctx: ModuleContext, cluster: Cluster) {
  const owner = asOwner(cluster);
  const reads = {
    listing: ctx.host.exec(['find', cluster.dataDir, '-mindepth', '1', '-maxdepth', '1', '-print', '-quit'], owner),
    control: ctx.host.exec(['env', 'LC_ALL=C', `${cluster.binDir}/pg_controldata`, '-D', cluster.dataDir], owner),
    auto: ctx.host.read(`${cluster.dataDir}/postgresql.auto.conf`, owner).catch(() => null),
    catalog: queryRowsIfRunning<Catalog>(
      ctx,
      targetOf(cluster),
      `SELECT pg_is_in_recovery() AS in_recovery,
        (SELECT array_agg(datname) FROM pg_database WHERE datname NOT IN ('postgres', 'template0', 'template1')) AS dbs,
        (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE c.oid >= 16384 AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')) AS relations,
        (SELECT array_agg(rolname) FROM pg_roles WHERE oid >= 16384) AS roles`,
    ),
    // Empty unless the server is a standby.
    receivers: queryRowsIfRunning<NonNullable<Local['receiver']>>(ctx, targetOf(cluster), 'SELECT status, sender_host, sender_port, conninfo FROM pg_stat_wal_receiver'),
  };
  // What is not awaited (a server that is not running, an empty directory) fails unheard.
  for (const read of Object.values(reads)) (read as Promise<unknown>).catch(() => {});
  return reads;
}

async function observeLocal(state: RunState, reads: ReturnType<typeof localReads>): Promise<Local> {
  const listing = await reads.listing;
  const nonEmpty = listing.exitCode === 0 && listing.stdout.trim() !== '';
  const local: Local = { state, nonEmpty, systemId: null, inRecovery: null, inUse: null, receiver: null, conninfo: null, autoConf: null };
  if (!nonEmpty || state === 'no-data-dir') return local;
  const running = state === 'running';
  const [control, auto, rows, receivers] = await Promise.all([reads.control, reads.auto, running ? reads.catalog : null, running ? reads.receivers : null]);
  local.systemId = /Database system identifier:\s*(\d+)/.exec(control.stdout)?.[1] ?? null;
  local.autoConf = auto ? auto.toString('utf8') : null;
  const configured = local.autoConf ? parseConf(local.autoConf).get('primary_conninfo') : undefined;
  local.conninfo = configured ? parseConninfo(configured.value) : null;
  if (!running) return local;
  if (!rows) return { ...local, state: 'stopped' };
  const [r] = rows;
  local.inRecovery = r.in_recovery;
  local.inUse = [...(r.dbs ?? []).map((d) => `database ${d}`), ...(r.relations > 0 ? [`${r.relations} relation(s) in database postgres`] : []), ...(r.roles ?? []).map((role) => `role ${role}`)];
  if (r.in_recovery) local.receiver = receivers?.[0] ?? null;
  return local;
}

/** Runs argv as the cluster owner with PGPASSWORD read from stdin (not visible in ps). */
function execWithPassword(ctx: ModuleContext, cluster: Cluster, argv: string[], password: string, timeout: number) {
  const script = 'IFS= read -r PGPASSWORD && export PGPASSWORD && exec "$0" "$@"';
  return ctx.host.exec(['sh', '-c', script, ...argv], { ...asOwner(cluster), stdin: `${password}\n`, timeout });
}

async function identifyPrimary(ctx: ModuleContext, cluster: Cluster, args: BasebackupArgs): Promise<{ systemId: string | null; error: string | null }> {
  const conninfo = formatConninfo({
    host: args.primary_host,
    port: args.primary_port,
    user: args.replication_user,
    dbname: 'replication',
    replication: 'true',
    application_name: `${args.application_name}-plinth-check`,
    connect_timeout: 10,
  });
  const r = await execWithPassword(ctx, cluster, [`${cluster.binDir}/psql`, '-X', '-A', '-t', '-c', 'IDENTIFY_SYSTEM', conninfo], args.replication_password, 60_000);
  if (r.exitCode !== 0) return { systemId: null, error: r.stderr.trim().replace(/^psql: error: /, '') || `psql exit code ${r.exitCode}` };
  const systemId = /^(\d+)\|/.exec(r.stdout.trim())?.[1] ?? null;
  return systemId ? { systemId, error: null } : { systemId: null, error: `unexpected IDENTIFY_SYSTEM output: ${r.stdout.trim()}` };
}

async function moveAside(ctx: ModuleContext, cluster: Cluster): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*$/, '');
  const aside = `${cluster.dataDir}.plinth-old-${stamp}`;
  const r = await ctx.host.exec(['mv', '--no-target-directory', '--', cluster.dataDir, aside], asOwner(cluster));
  if (r.exitCode !== 0) throw new ModuleError(`cannot move ${cluster.dataDir} aside: ${r.stderr.trim()}`);
  return aside;
}

async function runBasebackup(ctx: ModuleContext, cluster: Cluster, args: BasebackupArgs): Promise<void> {
  const conninfo = formatConninfo({ host: args.primary_host, port: args.primary_port, user: args.replication_user, application_name: args.application_name });
  const slot = args.slot ? ['-S', args.slot, ...(args.create_slot ? ['-C'] : [])] : [];
  const argv = [`${cluster.binDir}/pg_basebackup`, '-d', conninfo, '-D', cluster.dataDir, '-Fp', '-Xs', '-R', '-c', 'fast', ...slot];
  const r = await execWithPassword(ctx, cluster, argv, args.replication_password, 6 * 3600_000);
  if (r.exitCode !== 0) throw new ModuleError(`pg_basebackup from ${args.primary_host} failed: ${r.stderr.trim() || `exit code ${r.exitCode}`}`);
}

async function writeAutoConf(ctx: ModuleContext, cluster: Cluster, content: string): Promise<void> {
  await ctx.host.write(`${cluster.dataDir}/postgresql.auto.conf`, content, { ...asOwner(cluster), mode: '0600' });
}

async function waitForStreaming(ctx: ModuleContext, cluster: Cluster, args: BasebackupArgs): Promise<void> {
  const deadline = Date.now() + args.wait_timeout * 1000;
  let last = 'not started';
  for (;;) {
    try {
      const rows = await queryRows<{ status: string }>(ctx, targetOf(cluster), 'SELECT status FROM pg_stat_wal_receiver');
      last = rows[0]?.status ?? 'no WAL receiver';
      if (last === 'streaming') return;
    } catch (e) {
      if (!(e instanceof ServerUnavailableError) && !/starting up|shutting down/.test((e as Error).message)) throw e;
      last = (e as Error).message;
    }
    if (Date.now() > deadline) throw new ModuleError(`the standby did not start streaming within ${args.wait_timeout} s (last state: ${last})`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
