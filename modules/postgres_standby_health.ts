// postgres_standby_health: fails unless this standby replays: in recovery, replay not paused,
// its WAL receiver streaming, and replay no more than max_lag_bytes behind a position (by
// default the primary's end of WAL as its WAL sender last reported it; or one given). It waits up
// to `wait` seconds for replay to catch up; a pause or a promotion fails at once. Read-only: it
// runs in check mode too.
import { ModuleError, type Module } from '../engine/types.js';
import { connectionProperties, resolveCluster, targetOf } from './postgres/cluster.js';
import { observeSql } from './postgres/sql.js';
import { readStandbyState, standbyProblem, waitForStandby, type StandbyState } from './postgres/standby.js';

export type Observed = { state: StandbyState | null; problem: string | null } | { unavailable: string };

export const schema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  type: 'object',
  additionalProperties: false,
  properties: {
    primary_lsn: {
      type: 'string',
      pattern: '^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$',
      description:
        'the primary’s WAL position (SELECT pg_current_wal_lsn()) that replay must reach; unset: the primary’s end of WAL as its WAL sender last reported it to the standby (pg_stat_wal_receiver.latest_end_lsn)',
    },
    max_lag_bytes: { type: 'integer', minimum: 0, default: 0, description: 'bytes of WAL replay may stay behind that position' },
    wait: { type: 'number', minimum: 0, default: 30, description: 'seconds to wait for the standby to stream and catch up before failing' },
    ...connectionProperties,
  },
} as const;

export const postgres_standby_health: Module<typeof schema, Observed, never> = {
  name: 'postgres_standby_health',
  description: 'Fail unless a standby streams and replays (not paused, caught up within max_lag_bytes)',
  schema,
  readOnly: true,

  async observe(ctx, args) {
    const target = targetOf(resolveCluster(args));
    const maxLagBytes = args.max_lag_bytes;
    return observeSql(ctx, async () => {
      const first = await readStandbyState(ctx, target, args.primary_lsn);
      if (standbyProblem(first, maxLagBytes) === null) return { state: first, problem: null };
      return waitForStandby(ctx, target, { primaryLsn: args.primary_lsn, maxLagBytes, timeoutMs: args.wait * 1000 });
    });
  },

  plan(observed, _args, ctx) {
    if ('unavailable' in observed) return { unknown: true, summary: 'standby health', reason: observed.unavailable };
    if (observed.problem !== null || !observed.state) throw new ModuleError(`standby ${ctx.host.name}: ${observed.problem}`, { ...observed.state });
    // The positions go to the result only: a summary that names them would differ between a
    // saved plan and its apply while nothing is wrong.
    return { changed: false, summary: 'streaming and replaying, caught up with the primary', result: { ...observed.state } };
  },

  async apply() {
    throw new ModuleError('postgres_standby_health changes nothing');
  },
};
