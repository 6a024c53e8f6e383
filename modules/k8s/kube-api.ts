// What every Kubernetes module shares: the connection arguments, the client for them, the
// translation of API errors into messages a user can act on, and waiting.
import { ModuleError, type ArgsOf, type ModuleContext } from '../../engine/types.js';
import { KubeApiError, KubeClient } from './client.js';
import { loadKubeconfig } from './kubeconfig.js';

/** The connection arguments every Kubernetes module takes (connectionProperties). */
type ConnectionArgs = ArgsOf<{ type: 'object'; properties: typeof connectionProperties }>;

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

/** A field another manager owns with a different value: server-side apply's 409 answer. */
export interface FieldConflict {
  /** ".spec.replicas" */
  field: string;
  manager: string;
  /** "scale" when the manager wrote through a subresource (kubectl scale). */
  subresource?: string;
}

/** The conflicts of a 409 answer to an apply, or null for any other failure. */
export function conflictsOf(e: unknown): FieldConflict[] | null {
  if (!(e instanceof KubeApiError) || e.status !== 409) return null;
  const causes = e.causes.filter((c) => c.reason === 'FieldManagerConflict');
  if (!causes.length) return null;
  const conflicts = causes.map((c): FieldConflict => {
    const m = /conflict with "([^"]+)"(?: with subresource "([^"]+)")?/.exec(c.message ?? '');
    return { field: c.field ?? '?', manager: m?.[1] ?? 'another manager', ...(m?.[2] ? { subresource: m[2] } : {}) };
  });
  // The server lists them in no fixed order; plans and messages must not change between runs.
  return conflicts.sort((a, b) => (a.field < b.field ? -1 : a.field > b.field ? 1 : 0));
}

/** "kubectl (scale)" */
export function managerName(c: FieldConflict): string {
  return c.subresource ? `${c.manager} (${c.subresource})` : c.manager;
}

/**
 * The fields the server refused under fieldValidation=Strict (unknown or mistyped), from
 * server-side apply's "failed to create typed patch object" answer or the decoder's
 * "strict decoding error: unknown field". Null for any other failure.
 */
function strictValidationProblems(e: unknown): { field: string; message: string }[] | null {
  if (!(e instanceof KubeApiError)) return null;
  if (e.message.includes('failed to create typed patch object')) {
    const problems = e.message
      .split('\n')
      .map((line) => /(?:^|\s|: )(\.[^\s]+): (.+)$/.exec(line))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ field: m[1], message: m[2] }));
    return problems.length ? problems : null;
  }
  const unknown = [...e.message.matchAll(/unknown field "([^"]+)"/g)].map((m) => ({ field: `.${m[1]}`, message: 'field not declared in schema' }));
  return unknown.length ? unknown : null;
}

/** A ModuleError for an API failure, with a hint for the failures users can fix. */
export function apiFailure(e: unknown, what: string, locate?: (field: string) => string): Error {
  if (!(e instanceof KubeApiError)) return e instanceof ModuleError ? e : new ModuleError(`${what}: ${(e as Error).message}`);
  const conflicts = conflictsOf(e);
  if (conflicts) {
    const fields = conflicts.map((c) => `${c.field} (owned by ${managerName(c)})`).join(', ');
    return new ModuleError(
      `${what}: field manager conflict: ${fields}. Another field manager changed these fields; with force_conflicts: true (the default) plinth takes them back, or remove them from the manifest`,
    );
  }
  const invalid = strictValidationProblems(e);
  if (invalid) {
    const lines = invalid.map((p) => `${locate ? `${locate(p.field)}: ` : ''}${p.field}: ${p.message}`);
    return new ModuleError(`${what}: the API server refused the manifest (strict field validation):\n  ${lines.join('\n  ')}`);
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
