// What every Kubernetes module shares: the connection arguments, the client for them, the
// translation of API errors into messages a user can act on, and waiting.
import { ModuleError, type ModuleContext } from '../../engine/types.js';
import { KubeApiError, KubeClient } from './client.js';
import { loadKubeconfig } from './kubeconfig.js';

export interface ConnectionArgs {
  kubeconfig?: string;
  context?: string;
}

export const connectionProperties = {
  kubeconfig: {
    type: 'string',
    description: 'Kubeconfig file on the controller. Default as kubectl: $KUBECONFIG (a list), else ~/.kube/config.',
  },
  context: { type: 'string', description: 'Kubeconfig context. Default: the current-context.' },
} as const;

/** A client for the task's kubeconfig and context; credentials are registered as secrets. */
export function connect(ctx: ModuleContext, args: ConnectionArgs): KubeClient {
  const conn = loadKubeconfig({ kubeconfig: args.kubeconfig, context: args.context });
  for (const s of [conn.token, conn.password, conn.key?.toString('utf8')]) if (s) ctx.markSecret(s);
  return new KubeClient(conn);
}

/** A ModuleError for an API failure, with a hint for the failures users can fix. */
export function apiFailure(e: unknown, what: string): Error {
  if (!(e instanceof KubeApiError)) return e instanceof ModuleError ? e : new ModuleError(`${what}: ${(e as Error).message}`);
  if (e.status === 409 && e.causes.some((c) => c.type === 'FieldManagerConflict')) {
    const fields = e.causes.map((c) => `${c.field ?? '?'} (${c.message ?? 'another manager'})`).join(', ');
    return new ModuleError(
      `${what}: field manager conflict: ${fields}. Another tool manages these fields; set force_conflicts: true to take them over, or remove them from the manifest`,
    );
  }
  if (e.status === 401) return new ModuleError(`${what}: the API server refused the kubeconfig user's credentials (401 Unauthorized)`);
  if (e.status === 403) return new ModuleError(`${what}: forbidden: ${e.message}`);
  return new ModuleError(`${what}: ${e.message}${e.status ? ` (HTTP ${e.status} ${e.reason})` : ''}`);
}

/** True when the error says that a namespace does not exist. */
export function isMissingNamespace(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 404 && /^namespaces ".*" not found$/.test(e.message);
}

/** Polls `ready` every `intervalMs` until it returns null (done) or the timeout; returns the last reason. */
export async function waitFor(ready: () => Promise<string | null>, timeoutSeconds: number, intervalMs = 500): Promise<string | null> {
  const deadline = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const reason = await ready();
    if (reason === null) return null;
    if (Date.now() >= deadline) return reason;
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, Math.max(0, deadline - Date.now()))));
  }
}
