// k8s: ensures one Kubernetes object is present (server-side apply, field manager "plinth")
// or absent, through the API server named by a kubeconfig — no kubectl needed.
//
// observe reads the live object and asks the server for a dry-run apply, so the plan compares
// two answers of the server (defaults and all) and an unchanged manifest is "ok". Secrets
// show key names only. Tested against test/helpers/fake-kube-apiserver.ts, a test double:
// this module has not been run against a real cluster on the machines where it was written.
import { ModuleError, type Diff, type Module, type ModuleContext, type Plan } from '../engine/types.js';
import type { KubeClient, KubeObject, ObjectRef } from './k8s/client.js';
import { apiFailure, connect, connectionProperties, isMissingNamespace, waitFor, type ConnectionArgs } from './k8s/connect.js';
import { loadManifest } from './k8s/manifest.js';
import { secretFromEnv, secretFromEnvSchema, type SecretFromEnv } from './k8s/env-secret.js';
import { comparable, describeObject, isSecret, maskSecretPair, sameObject, secretValues, toYaml } from './k8s/objects.js';

export interface K8sArgs extends ConnectionArgs {
  state: 'present' | 'absent';
  definition?: Record<string, unknown>;
  src?: string;
  template?: string;
  secret_from_env?: SecretFromEnv;
  namespace?: string;
  wait: boolean;
  wait_timeout: number;
  force_conflicts: boolean;
}

interface Observed {
  client: KubeClient;
  ref: ObjectRef;
  desired: KubeObject;
  live: KubeObject | null;
  /** What the server would store (present only). */
  dryRun?: KubeObject;
  /** Check mode only: the object's namespace does not exist yet. */
  missingNamespace?: string;
}

type Action = { op: 'apply'; object: KubeObject } | { op: 'delete'; ref: ObjectRef };

export const schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    state: { enum: ['present', 'absent'], default: 'present', description: 'present: create or update by server-side apply; absent: delete.' },
    definition: { type: 'object', description: 'The object, inline (apiVersion, kind, metadata, ...).' },
    src: { type: 'string', description: 'A YAML file with one object, on the controller (looked up in files/ of the role, then the role or playbook directory).' },
    template: { type: 'string', description: 'An EJS template of a YAML object (looked up in templates/), rendered with the task variables.' },
    secret_from_env: secretFromEnvSchema,
    namespace: { type: 'string', description: "Namespace for namespaced objects; overrides the manifest's. Default: the manifest's, else the context's, else 'default'." },
    wait: { type: 'boolean', default: false, description: 'After a change, wait for a Deployment rollout (all replicas updated and available) or for a deletion to finish.' },
    wait_timeout: { type: 'integer', minimum: 1, default: 120, description: 'Seconds to wait before failing.' },
    force_conflicts: { type: 'boolean', default: false, description: 'Take over fields that another field manager owns (server-side apply force).' },
    ...connectionProperties,
  },
  oneOf: [{ required: ['definition'] }, { required: ['src'] }, { required: ['template'] }, { required: ['secret_from_env'] }],
} as const;

async function desiredObject(ctx: ModuleContext, args: K8sArgs): Promise<KubeObject> {
  if (args.secret_from_env) {
    if (args.definition || args.src || args.template) throw new ModuleError('k8s: secret_from_env cannot be combined with definition, src or template');
    return secretFromEnv(ctx, args.secret_from_env);
  }
  return withoutNulls(structuredClone((await loadManifest(ctx, args)).object));
}

/** `creationTimestamp: null` and `status: {}` (from `kubectl create --dry-run -o yaml`) are not the user's intent. */
function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (value && typeof value === 'object') {
    const out = Object.fromEntries(Object.entries(value).filter(([, v]) => v !== null).map(([k, v]) => [k, withoutNulls(v)]));
    return out as T;
  }
  return value;
}

async function placeInNamespace(client: KubeClient, obj: KubeObject, override?: string): Promise<void> {
  const namespaced = await client.isNamespaced(obj.apiVersion, obj.kind);
  if (namespaced) obj.metadata.namespace = override ?? obj.metadata.namespace ?? client.conn.namespace;
  else delete obj.metadata.namespace;
  delete obj.status;
}

function refOf(obj: KubeObject): ObjectRef {
  return { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
}

function markObjectSecrets(ctx: ModuleContext, obj: KubeObject | null | undefined): void {
  if (obj && isSecret(obj)) for (const v of secretValues(obj)) ctx.markSecret(v);
}

function objectDiff(target: string, before: KubeObject | null, after: KubeObject | null): Diff {
  const b = before && comparable(before);
  const a = after && comparable(after);
  const secret = (before && isSecret(before)) || (after && isSecret(after));
  const [mb, ma] = secret ? maskSecretPair(b, a) : [b, a];
  return { target, before: toYaml(mb), after: toYaml(ma) };
}

/** The keys of a Secret whose values differ (names only). */
function changedKeys(before: KubeObject | null, after: KubeObject): string[] {
  const b = (before?.data ?? {}) as Record<string, string>;
  const a = (after.data ?? {}) as Record<string, string>;
  return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]).sort();
}

function summarize(object: KubeObject, live: KubeObject | null, after: KubeObject): string {
  const what = describeObject(object);
  if (!live) return `create ${what}`;
  if (isSecret(object)) {
    const keys = changedKeys(live, after);
    return `update ${what}${keys.length ? ` (keys changed: ${keys.join(', ')})` : ''}`;
  }
  return `update ${what}`;
}

function resultOf(obj: KubeObject | null): Record<string, unknown> {
  if (!obj) return {};
  const summary = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion };
  // A Secret's data never goes to `register`: only its key names.
  if (isSecret(obj)) return { ...summary, keys: Object.keys((obj.data ?? {}) as object).sort() };
  return { ...summary, object: comparable(obj) };
}

/** kubectl's rollout status rules, as a reason to keep waiting (null when complete). */
export function rolloutPending(d: KubeObject): string | null {
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

async function waitForRollout(client: KubeClient, ref: ObjectRef, timeout: number): Promise<void> {
  const reason = await waitFor(async () => {
    const d = await client.get(ref);
    return d ? rolloutPending(d) : 'the Deployment does not exist';
  }, timeout);
  if (reason) throw new ModuleError(`Deployment ${ref.namespace}/${ref.name} did not finish its rollout within ${timeout} s: ${reason}`);
}

async function waitForDeletion(client: KubeClient, ref: ObjectRef, timeout: number): Promise<void> {
  const reason = await waitFor(async () => ((await client.get(ref)) ? 'still present' : null), timeout);
  if (reason) throw new ModuleError(`${ref.kind} ${ref.name} was not deleted within ${timeout} s`);
}

export const k8s: Module<K8sArgs, Observed, Action> = {
  name: 'k8s',
  description: 'Ensures a Kubernetes object is present (server-side apply, field manager "plinth") or absent, from an inline definition, a YAML file, an EJS template or a .env file (Secret).',
  schema,
  controllerOnly: true,

  async observe(ctx, args) {
    const desired = await desiredObject(ctx, args);
    markObjectSecrets(ctx, desired);
    const client = connect(ctx, args);
    const what = describeObject(desired);
    try {
      await placeInNamespace(client, desired, args.namespace);
      const ref = refOf(desired);
      const live = await client.get(ref);
      markObjectSecrets(ctx, live);
      if (args.state === 'absent') return { client, ref, desired, live };
      try {
        const dryRun = await client.apply(desired, { dryRun: true, force: args.force_conflicts });
        markObjectSecrets(ctx, dryRun);
        return { client, ref, desired, live, dryRun };
      } catch (e) {
        // In check mode an earlier task may be about to create the namespace.
        if (ctx.check && isMissingNamespace(e)) return { client, ref, desired, live, missingNamespace: ref.namespace };
        throw e;
      }
    } catch (e) {
      throw apiFailure(e, what);
    }
  },

  plan(o, args): Plan<Action> {
    const what = describeObject(o.desired);
    if (args.state === 'absent') {
      if (!o.live) return { changed: false, summary: `${what} is absent` };
      return { changed: true, summary: `delete ${what}`, diffs: [objectDiff(what, o.live, null)], action: { op: 'delete', ref: o.ref }, result: resultOf(o.live) };
    }
    if (o.missingNamespace !== undefined) {
      return { unknown: true, summary: `apply ${what}`, reason: `namespace ${o.missingNamespace} does not exist yet; the server cannot dry-run the object before it is created` };
    }
    const after = o.dryRun as KubeObject;
    if (o.live && sameObject(comparable(o.live), comparable(after))) return { changed: false, summary: `${what} is up to date`, result: resultOf(o.live) };
    return {
      changed: true,
      summary: summarize(o.desired, o.live, after),
      diffs: [objectDiff(what, o.live, after)],
      action: { op: 'apply', object: o.desired },
      result: resultOf(after),
    };
  },

  async apply(ctx, action, args) {
    const client = connect(ctx, args);
    const ref = action.op === 'apply' ? refOf(action.object) : action.ref;
    const what = `${ref.kind} ${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
    try {
      if (action.op === 'delete') {
        await client.delete(ref);
        if (args.wait) await waitForDeletion(client, ref, args.wait_timeout);
        return { changed: true };
      }
      const stored = await client.apply(action.object, { force: args.force_conflicts });
      markObjectSecrets(ctx, stored);
      if (args.wait && ref.kind === 'Deployment' && ref.apiVersion === 'apps/v1') await waitForRollout(client, ref, args.wait_timeout);
      return { changed: true, result: resultOf(stored) };
    } catch (e) {
      throw apiFailure(e, what);
    }
  },
};
