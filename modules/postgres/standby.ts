// What a standby is doing, as the standby itself sees it. pg_stat_replication on the primary
// says "streaming" also for a standby whose replay is paused (a hot-standby parameter lower than
// the primary's pauses it), so health is read here: in recovery, not paused, its WAL receiver
// streaming, and replay at or past a target position: the primary's, as given or as its WAL
// sender last reported it to this standby.
import type { ModuleContext } from '../../engine/types.js';
import { queryRows, type PgTarget } from './sql.js';

export interface StandbyState {
  in_recovery: boolean;
  /** pg_get_wal_replay_pause_state(): 'not paused', 'pause requested' or 'paused'; null on a primary. */
  pause_state: string | null;
  /** pg_stat_wal_receiver.status ('streaming', 'startup', ...); null without a WAL receiver. */
  receiver: string | null;
  receive_lsn: string | null;
  replay_lsn: string | null;
  /**
   * What replay must reach: the primary's position when given, else the primary's end of WAL
   * as its WAL sender last reported it (pg_stat_wal_receiver.latest_end_lsn), or what was received.
   */
  target_lsn: string | null;
  /** Bytes of WAL between replay and the target; 0 when replay is at or past it. */
  lag_bytes: number | null;
}

export async function readStandbyState(ctx: ModuleContext, target: PgTarget, primaryLsn?: string): Promise<StandbyState> {
  const [row] = await queryRows<StandbyState>(
    ctx,
    target,
    `SELECT in_recovery, pause_state, receiver, receive_lsn::text, replay_lsn::text, target_lsn::text,
            greatest(pg_wal_lsn_diff(target_lsn, replay_lsn), 0)::bigint AS lag_bytes
       FROM (SELECT pg_is_in_recovery() AS in_recovery,
                    CASE WHEN pg_is_in_recovery() THEN pg_get_wal_replay_pause_state() END AS pause_state,
                    (SELECT status FROM pg_stat_wal_receiver) AS receiver,
                    pg_last_wal_receive_lsn() AS receive_lsn,
                    pg_last_wal_replay_lsn() AS replay_lsn,
                    coalesce(nullif(:'primary_lsn', '')::pg_lsn,
                             greatest(pg_last_wal_receive_lsn(), (SELECT latest_end_lsn FROM pg_stat_wal_receiver))) AS target_lsn) s`,
    { primary_lsn: primaryLsn ?? '' },
  );
  return { ...row, lag_bytes: row.lag_bytes === null ? null : Number(row.lag_bytes) };
}

/** Why this standby is not healthy, in words for the user; null when it is. */
export function standbyProblem(s: StandbyState, maxLagBytes: number): string | null {
  if (!s.in_recovery) return 'not a standby: it is not in recovery (promoted, or never cloned)';
  if (s.pause_state !== 'not paused') {
    return (
      `WAL replay is paused (pg_get_wal_replay_pause_state: ${s.pause_state}) at ${s.replay_lsn}: it replays nothing. ` +
      'A hot-standby parameter lower than the primary’s (max_connections, max_worker_processes, max_wal_senders, ' +
      'max_prepared_transactions, max_locks_per_transaction) pauses replay: raise it and restart the standby, ' +
      'or resume with SELECT pg_wal_replay_resume() if it was paused by hand'
    );
  }
  if (s.receiver !== 'streaming') return `not streaming from the primary (WAL receiver: ${s.receiver ?? 'none'})`;
  if (s.lag_bytes === null) return 'nothing replayed yet';
  if (s.lag_bytes > maxLagBytes) {
    return `replay is ${s.lag_bytes} bytes behind (replayed up to ${s.replay_lsn}, target ${s.target_lsn}; allowed ${maxLagBytes})`;
  }
  return null;
}

/** A pause or a promotion does not end by waiting. */
function waitingHelps(s: StandbyState): boolean {
  return s.in_recovery && s.pause_state === 'not paused';
}

/**
 * Reads the standby until it is healthy or the deadline passes (replay catching up, the WAL
 * receiver connecting after a restart). Errors of the reads (server still starting) are retried.
 */
export async function waitForStandby(
  ctx: ModuleContext,
  target: PgTarget,
  opts: { primaryLsn?: string; maxLagBytes: number; timeoutMs: number; pollMs?: number },
): Promise<{ state: StandbyState | null; problem: string | null }> {
  const deadline = Date.now() + opts.timeoutMs;
  for (;;) {
    let state: StandbyState | null = null;
    let problem: string;
    try {
      state = await readStandbyState(ctx, target, opts.primaryLsn);
      const found = standbyProblem(state, opts.maxLagBytes);
      if (found === null || !waitingHelps(state)) return { state, problem: found };
      problem = found;
    } catch (e) {
      problem = `cannot be read: ${(e as Error).message}`;
    }
    if (Date.now() >= deadline) return { state, problem };
    await new Promise((resolve) => setTimeout(resolve, opts.pollMs ?? 500));
  }
}
