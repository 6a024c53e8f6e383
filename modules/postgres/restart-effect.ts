// A restart check mode planned but did not apply: the server it leaves runs with the postmaster
// settings its configuration files held at that point, none pending. postgres_restart records it
// (a plan's effect); postgres_restart and postgres_conf, observing later in the same check run,
// see those values instead of the ones the server still runs with.
import type { ModuleContext } from '../../engine/types.js';
import type { Cluster } from './cluster.js';

interface RestartEffect {
  /** Lower-case parameter name → its value in the configuration files at the restart. */
  running: Record<string, string>;
}

export function restartEffectKey(cluster: Cluster): string {
  return `postgresql:${cluster.dataDir}`;
}

export function predictedRestart(ctx: Pick<ModuleContext, 'host'>, cluster: Cluster): RestartEffect | undefined {
  return ctx.host.predictedEffect?.(restartEffectKey(cluster)) as RestartEffect | undefined;
}

/** Server settings as the planned restart leaves them: the configured value running, nothing pending. */
export function afterRestart<T extends { name: string; setting: string; pending_restart: boolean }>(rows: T[], effect: RestartEffect | undefined): T[] {
  if (!effect) return rows;
  return rows.map((r) => {
    const value = effect.running[r.name.toLowerCase()];
    return value === undefined ? { ...r, pending_restart: false } : { ...r, setting: value, pending_restart: false };
  });
}
