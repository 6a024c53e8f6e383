// k8s: ensures one Kubernetes object is present (server-side apply, field manager "plinth")
// or absent, through the API server named by a kubeconfig — no kubectl needed.
//
// observe reads the live object and asks the server for a dry-run apply, so the plan compares
// two answers of the server (defaults and all) and an unchanged manifest is "ok". Fields that
// another manager changed (kubectl scale, kubectl edit) are taken back, as GitOps controllers
// do, and the plan names each with its manager. Secrets show key names only.
import { ModuleError, type ArgsOf, type Diff, type Module, type ModuleContext, type Plan } from '../engine/types.js';
import type { KubeClient, KubeObject, ObjectRef } from './k8s/client.js';
import { apiFailure, conflictsOf, connect, connectionProperties, isMissingNamespace, managerName, waitFor, type FieldConflict } from './k8s/kube-api.js';
import { concretePath, parseFieldPath, valueAt } from './k8s/field-path.js';
import { loadManifest } from './k8s/manifest.js';
import { secretFromEnv, secretFromEnvSchema } from './k8s/env-secret.js';
import { comparable, describeObject, isSecret, maskSecretPair, sameObject, secretValues, toYaml } from './k8s/objects.js';
import { waitForRollout } from './k8s/rollout.js';

type K8sArgs = ArgsOf<typeof schema>;

/** A field the apply takes back from another manager, with its value before and after (none for a Secret). */
interface TakenBack extends FieldConflict {
  before?: unknown;
  after?: unknown;
}

/**
 * What the plan is made from, and what a saved plan fingerprints: the live object and the
 * server's dry-run answer without what moves on its own (status, resourceVersion, managedFields).
 */
interface Observed {
  ref: ObjectRef;
  desired: KubeObject;
  live: KubeObject | null;
  /** What the server would store (present only). */
  dryRun?: KubeObject;
  takenBack: TakenBack[];
  /** Check mode only: the object's namespace does not exist yet. */
  missingNamespace?: string;
}

/**
 * uid and resourceVersion of the live object, for `register`. Kept beside the observation, not
 * in it: a controller's status write moves resourceVersion without changing what was planned.
 */
type Identity = { uid?: unknown; resourceVersion?: unknown };
const identities = new WeakMap<Observed, Identity>();

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
    force_conflicts: {
      type: 'boolean',
      default: true,
      description:
        'Take back the fields of the manifest that another field manager changed (kubectl scale, kubectl edit), as GitOps controllers do; the plan names them. false: such a conflict is an error.',
    },
    ...connectionProperties,
  },
  oneOf: [{ required: ['definition'] }, { required: ['src'] }, { required: ['template'] }, { required: ['secret_from_env'] }],
  'x-message': 'give exactly one of definition, src, template or secret_from_env',
} as const;

interface Desired {
  object: KubeObject;
  /** Where a field of the manifest is written (file:line), for the server's validation errors. */
  locate: (field: string) => string;
}

async function desiredObject(ctx: ModuleContext, args: K8sArgs): Promise<Desired> {
  if (args.secret_from_env) {
    const spec = args.secret_from_env;
    return { object: await secretFromEnv(ctx, spec), locate: () => `secret_from_env ${spec.env_file ?? spec.env_template}` };
  }
  const manifest = await loadManifest(ctx, args);
  return {
    object: withoutNulls(structuredClone(manifest.object)),
    locate: (field) => manifest.locate(concretePath(manifest.object, parseFieldPath(field) ?? []).path),
  };
}

/** `creationTimestamp: null` and `status: {}` (from `kubectl create --dry-run -o yaml`) are not the user's intent. */
function withoutNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map(withoutNulls) as T;
  if (value && typeof value === 'object') {
    const out = Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== null)
        .map(([k, v]) => [k, withoutNulls(v)]),
    );
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

/** "1", "\"a\"", "{...}": a value in one short line. */
function shortValue(v: unknown): string {
  if (v === undefined) return '(unset)';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** ".spec.replicas: kubectl (scale) 1 → 3" */
function describeTakenBack(t: TakenBack, secret: boolean): string {
  const values = secret ? '(value hidden)' : `${shortValue(t.before)} → ${shortValue(t.after)}`;
  return `${t.field}: ${managerName(t)} ${values}`;
}

function summarize(o: Observed, after: KubeObject): string {
  const what = describeObject(o.desired);
  if (!o.live) return `create ${what}`;
  const secret = isSecret(o.desired);
  const keys = secret ? changedKeys(o.live, after) : [];
  const parts = [`update ${what}`];
  if (keys.length) parts.push(`(keys changed: ${keys.join(', ')})`);
  if (o.takenBack.length) parts.push(`taking back from other field managers: ${o.takenBack.map((t) => describeTakenBack(t, secret)).join(', ')}`);
  return parts.join(' ');
}

function resultOf(obj: KubeObject | null | undefined, identity: Identity = {}): Record<string, unknown> {
  if (!obj) return {};
  const summary = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace, uid: identity.uid, resourceVersion: identity.resourceVersion };
  // A Secret's data never goes to `register`: only its key names.
  if (isSecret(obj)) return { ...summary, keys: Object.keys((obj.data ?? {}) as object).sort() };
  return { ...summary, object: comparable(obj) };
}

function identityOf(obj: KubeObject | null | undefined): Identity {
  return obj ? { uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion } : {};
}

async function waitForDeletion(client: KubeClient, ref: ObjectRef, timeout: number): Promise<void> {
  const reason = await waitFor(async () => ((await client.get(ref)) ? 'still present' : null), timeout);
  if (reason) throw new ModuleError(`${ref.kind} ${ref.name} was not deleted within ${timeout} s`);
}

/**
 * The server's dry-run answer. A conflict with another manager is taken back with force when
 * force_conflicts is on; the fields and their owners come from the server's 409 answer.
 */
async function dryRunApply(client: KubeClient, desired: KubeObject, live: KubeObject | null, force: boolean): Promise<{ dryRun: KubeObject; takenBack: TakenBack[] }> {
  try {
    return { dryRun: await client.apply(desired, { dryRun: true }), takenBack: [] };
  } catch (e) {
    const conflicts = conflictsOf(e);
    if (!conflicts || !force) throw e;
    const dryRun = await client.apply(desired, { dryRun: true, force: true });
    const secret = isSecret(desired);
    const takenBack = conflicts.map((c) => (secret ? c : { ...c, before: valueAt(live, c.field), after: valueAt(dryRun, c.field) }));
    return { dryRun, takenBack };
  }
}

export const k8s: Module<typeof schema, Observed, Action> = {
  name: 'k8s',
  description: 'Ensures a Kubernetes object is present (server-side apply, field manager "plinth") or absent, from an inline definition, a YAML file, an EJS template or a .env file (Secret).',
  schema,
  controllerOnly: true,

  async observe(ctx, args) {
    const { object: desired, locate } = await desiredObject(ctx, args);
    markObjectSecrets(ctx, desired);
    const client = connect(ctx, args);
    let what = describeObject(desired);
    try {
      await placeInNamespace(client, desired, args.namespace);
      what = describeObject(desired);
      const ref = refOf(desired);
      const live = await client.get(ref);
      markObjectSecrets(ctx, live);
      const observed: Observed = { ref, desired, live: live && comparable(live), takenBack: [] };
      identities.set(observed, identityOf(live));
      if (args.state === 'absent') return observed;
      try {
        const { dryRun, takenBack } = await dryRunApply(client, desired, live, args.force_conflicts);
        markObjectSecrets(ctx, dryRun);
        return Object.assign(observed, { dryRun: comparable(dryRun), takenBack });
      } catch (e) {
        // In check mode an earlier task may be about to create the namespace.
        if (ctx.check && isMissingNamespace(e)) return Object.assign(observed, { missingNamespace: ref.namespace });
        throw e;
      }
    } catch (e) {
      throw apiFailure(e, what, locate);
    }
  },

  plan(o, args): Plan<Action> {
    const what = describeObject(o.desired);
    const identity = identities.get(o);
    if (args.state === 'absent') {
      if (!o.live) return { changed: false, summary: `${what} is absent` };
      return { changed: true, summary: `delete ${what}`, diffs: [objectDiff(what, o.live, null)], action: { op: 'delete', ref: o.ref }, result: resultOf(o.live, identity) };
    }
    if (o.missingNamespace !== undefined) {
      return { unknown: true, summary: `apply ${what}`, reason: `namespace ${o.missingNamespace} does not exist yet; the server cannot dry-run the object before it is created` };
    }
    const after = o.dryRun as KubeObject;
    if (o.live && sameObject(o.live, after)) return { changed: false, summary: `${what} is up to date`, result: resultOf(o.live, identity) };
    return {
      changed: true,
      summary: summarize(o, after),
      diffs: [objectDiff(what, o.live, after)],
      action: { op: 'apply', object: o.desired },
      result: resultOf(after, identity),
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
      return { changed: true, result: resultOf(stored, identityOf(stored)) };
    } catch (e) {
      throw apiFailure(e, what);
    }
  },
};
