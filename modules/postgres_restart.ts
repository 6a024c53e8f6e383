// postgres_restart: restarts the local PostgreSQL server when its configuration needs it, and
// waits until it serves again; a standby until it streams and has replayed what it received
// (a restarted synchronous standby that is not back yet would hold every commit).
//
// "Needs it" is read, not remembered: a parameter that only takes effect at a restart whose
// value in postgresql.conf (or postgresql.auto.conf) differs from the running one, or that the
// server marks pending_restart. So a restart that an interrupted run never did is still done
// by the next run, and in check mode the plan sees the configuration earlier tasks would write.
import { ModuleError, type Module, type ModuleContext } from '../engine/types.js';
import { asOwner, clusterProperties, controlCluster, resolveCluster, targetOf, type Cluster } from './postgres/cluster.js';
import { parseConf } from './postgres/conf.js';
import { observeSql, queryRows } from './postgres/sql.js';
import { waitForStandby } from './postgres/standby.js';
import { normalizeValue, parseVarType, type ParamInfo } from './postgres/values.js';
import { afterRestart, predictedRestart, restartEffectKey } from './postgres/restart-effect.js';

interface RunningSetting {
  name: string;
  setting: string;
  unit: string | null;
  vartype: string;
  context: string;
  source: string;
  pending_restart: boolean;
  /** current_setting(name): the value as a person writes it (128MB, not 16384 × 8kB). */
  shown: string;
}

export type Observed =
  | { unavailable: string }
  | {
      /** "max_connections 100 → 150", "shared_buffers (pending_restart)". */
      pending: string[];
      standby: boolean;
      /** Standbys streaming from this server (application names). */
      standbys: string[];
      /** The postmaster settings the configuration files set (lower-case name → value): what a restart starts with. */
      configured: Record<string, string>;
    };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    force: { type: 'boolean', default: false, description: 'restart even when no setting needs it' },
    defer_when_replicating: {
      type: 'boolean',
      default: false,
      description: 'leave a needed restart for later (report ok) when this server is a standby or has standbys: a rolling restart does it in the order hot standby needs',
    },
    wait: { type: 'number', minimum: 1, default: 300, description: 'seconds to wait after the restart: for connections, and for a standby to stream and catch up' },
    ...clusterProperties,
  },
} as const;

export const postgres_restart: Module<typeof schema, Observed, { pending: string[] }> = {
  name: 'postgres_restart',
  description: 'Restart PostgreSQL when a setting needs it; wait until it serves (a standby: streams and replays)',
  schema,

  async observe(ctx, args) {
    const cluster = resolveCluster(args);
    return observeSql(ctx, async () => {
      const rows = await queryRows<RunningSetting & { config_file: string; data_directory: string; standby: boolean; standbys: string[] }>(
        ctx,
        targetOf(cluster),
        `SELECT name, setting, unit, vartype, context, source, pending_restart, current_setting(name) AS shown,
                current_setting('config_file') AS config_file, current_setting('data_directory') AS data_directory,
                pg_is_in_recovery() AS standby,
                ARRAY(SELECT application_name FROM pg_stat_replication WHERE state = 'streaming' ORDER BY 1) AS standbys
           FROM pg_settings WHERE context = 'postmaster'`,
      );
      const first = rows[0];
      const files = [first.config_file, `${first.data_directory}/postgresql.auto.conf`];
      const contents = await Promise.all(files.map(async (f) => (await ctx.host.read(f, asOwner(cluster)))?.toString('utf8') ?? ''));
      // In check mode, after a restart planned earlier in this run, the server runs what was configured then.
      const running = afterRestart(rows, predictedRestart(ctx, cluster));
      return { pending: pendingSettings(running, contents), standby: first.standby, standbys: first.standbys, configured: configuredSettings(rows, contents) };
    });
  },

  plan(observed, args) {
    if ('unavailable' in observed) return { unknown: true, summary: 'restart PostgreSQL if a setting needs it', reason: observed.unavailable };
    const { pending } = observed;
    if (pending.length === 0 && !args.force) return { changed: false, summary: 'no setting waits for a restart', result: { pending } };
    const replicating = observed.standby || observed.standbys.length > 0;
    if (args.defer_when_replicating && replicating && !args.force) {
      const role = observed.standby ? 'a standby' : `the primary of ${observed.standbys.join(', ')}`;
      return { changed: false, summary: `restart left to the rolling restart (${role}): ${pending.join(', ')}`, result: { pending, deferred: true } };
    }
    return {
      changed: true,
      summary: `restart${observed.standby ? ' standby' : ''}${pending.length ? ` for ${pending.join(', ')}` : ''}`,
      action: { pending },
      // Once restarted (and, as apply waits for it, serving again), the server runs what is configured.
      effects: { [restartEffectKey(resolveCluster(args))]: { running: observed.configured ?? {} } },
      result: { pending },
    };
  },

  async apply(ctx, _action, args) {
    const cluster = resolveCluster(args);
    await controlCluster(ctx, cluster, 'restart');
    const waited = await waitUntilServing(ctx, cluster, args.wait * 1000);
    return { result: waited };
  },
};

/** The postmaster settings the files set: the later file (postgresql.auto.conf) wins. */
function configuredSettings(running: RunningSetting[], files: string[]): Record<string, string> {
  const postmaster = new Set(running.map((r) => r.name.toLowerCase()));
  const out: Record<string, string> = {};
  for (const text of files) for (const [name, s] of parseConf(text)) if (postmaster.has(name)) out[name] = s.value;
  return out;
}

/** The postmaster settings whose configured value differs from the running one. */
export function pendingSettings(running: RunningSetting[], files: string[]): string[] {
  const configured = new Map<string, string>();
  for (const text of files) for (const [name, s] of parseConf(text)) configured.set(name, s.value);
  const out: string[] = [];
  for (const r of running) {
    const info: ParamInfo = { name: r.name, context: r.context, vartype: parseVarType(r.vartype), unit: r.unit };
    const value = configured.get(r.name.toLowerCase());
    // Settings from the command line or the server itself (port, data_directory) are not the files' to change.
    const fromFiles = r.source === 'configuration file' || r.source === 'default';
    if (value !== undefined && fromFiles && normalizeValue(value, info) !== normalizeValue(r.setting, info)) {
      out.push(`${r.name} ${r.shown} → ${value}`);
    } else if (r.pending_restart) out.push(`${r.name} (pending_restart)`);
  }
  return out;
}

/** After the restart: connections accepted; a standby streaming with replay caught up. */
async function waitUntilServing(ctx: ModuleContext, cluster: Cluster, timeoutMs: number): Promise<Record<string, unknown>> {
  const target = targetOf(cluster);
  const deadline = Date.now() + timeoutMs;
  let standby: boolean | null = null;
  let lastError = '';
  while (standby === null) {
    try {
      [{ standby }] = await queryRows<{ standby: boolean }>(ctx, target, 'SELECT pg_is_in_recovery() AS standby');
    } catch (e) {
      lastError = (e as Error).message;
      if (Date.now() >= deadline) throw new ModuleError(`PostgreSQL on ${ctx.host.name} does not accept connections ${timeoutMs / 1000} s after the restart: ${lastError}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  if (!standby) return { standby: false };
  const { state, problem } = await waitForStandby(ctx, target, { maxLagBytes: 0, timeoutMs: Math.max(1000, deadline - Date.now()) });
  if (problem !== null || !state) throw new ModuleError(`standby ${ctx.host.name} restarted, but: ${problem}`);
  return { standby: true, replay_lsn: state.replay_lsn, receiver: state.receiver };
}
