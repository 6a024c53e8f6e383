// Waiting for a Deployment's rollout by kubectl's `rollout status` rules: done when the new
// generation is observed and every replica is updated and available; failed at once when the
// controller reports that the rollout exceeded its progress deadline.
import { ModuleError } from '../../engine/types.js';
import type { KubeClient, KubeObject, ObjectRef } from './client.js';
import { waitFor } from './kube-api.js';

interface DeploymentCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** Why the rollout is not complete yet (null when complete). */
function rolloutPending(d: KubeObject): string | null {
  const spec = (d.spec ?? {}) as { replicas?: number };
  const status = (d.status ?? {}) as { observedGeneration?: number; updatedReplicas?: number; replicas?: number; availableReplicas?: number };
  const want = spec.replicas ?? 1;
  const generation = (d.metadata.generation as number | undefined) ?? 0;
  if ((status.observedGeneration ?? 0) < generation) return 'the new generation is not observed yet';
  if ((status.updatedReplicas ?? 0) < want) return `${status.updatedReplicas ?? 0} of ${want} replicas updated`;
  if ((status.replicas ?? 0) > (status.updatedReplicas ?? 0)) return `${(status.replicas ?? 0) - (status.updatedReplicas ?? 0)} old replicas are pending termination`;
  if ((status.availableReplicas ?? 0) < want) return `${status.availableReplicas ?? 0} of ${want} replicas available`;
  return null;
}

function conditionsOf(d: KubeObject): DeploymentCondition[] {
  return ((d.status ?? {}) as { conditions?: DeploymentCondition[] }).conditions ?? [];
}

/** True when the controller gave up on the rollout (kubectl rollout status fails the same way). */
function deadlineExceeded(d: KubeObject): boolean {
  return conditionsOf(d).some((c) => c.type === 'Progressing' && c.status === 'False' && c.reason === 'ProgressDeadlineExceeded');
}

/** "Available=False (MinimumReplicasUnavailable: Deployment does not have minimum availability.)" */
function describeConditions(d: KubeObject): string {
  const conditions = conditionsOf(d);
  if (!conditions.length) return 'no conditions reported';
  return conditions.map((c) => `${c.type}=${c.status}${c.reason || c.message ? ` (${[c.reason, c.message].filter(Boolean).join(': ')})` : ''}`).join('; ');
}

export async function waitForRollout(client: KubeClient, ref: ObjectRef, timeoutSeconds: number): Promise<void> {
  let last: KubeObject | null = null;
  const what = `Deployment ${ref.namespace}/${ref.name}`;
  const reason = await waitFor(async () => {
    last = await client.get(ref);
    if (!last) return 'the Deployment does not exist';
    const pending = rolloutPending(last);
    if (pending && deadlineExceeded(last)) {
      throw new ModuleError(`${what} failed its rollout (progress deadline exceeded): ${pending}; conditions: ${describeConditions(last)}`);
    }
    return pending;
  }, timeoutSeconds);
  if (reason) {
    const conditions = last ? `; conditions: ${describeConditions(last)}` : '';
    throw new ModuleError(`${what} did not finish its rollout within ${timeoutSeconds} s: ${reason}${conditions}`);
  }
}
