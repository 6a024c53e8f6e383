// Comparing and showing Kubernetes objects: what the server manages is stripped, and the
// values of Secrets are replaced by markers that name the key and never show the value.
import { stringify } from 'yaml';
import type { KubeObject } from './client.js';

/** Fields the server sets on every write: they differ between two reads and are not the user's. */
const SERVER_METADATA = ['managedFields', 'resourceVersion', 'generation', 'uid', 'creationTimestamp', 'selfLink'];
/** kubectl's copy of the last applied manifest: for a Secret it holds the data in clear. */
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A copy without server-managed metadata and status (which moves on its own between two reads). */
export function comparable(obj: KubeObject): KubeObject {
  const copy = structuredClone(obj);
  delete copy.status;
  for (const k of SERVER_METADATA) delete copy.metadata[k];
  const annotations = copy.metadata.annotations as Record<string, string> | undefined;
  if (annotations && LAST_APPLIED in annotations) {
    delete annotations[LAST_APPLIED];
    if (!Object.keys(annotations).length) delete copy.metadata.annotations;
  }
  return copy;
}

/** Deep equality with key order ignored. */
export function sameObject(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    return `{${entries
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function isSecret(obj: { apiVersion?: string; kind?: string }): boolean {
  return obj.kind === 'Secret' && obj.apiVersion === 'v1';
}

/** Every value of a Secret, base64 and decoded, for the redactor. */
export function secretValues(obj: KubeObject): string[] {
  const out: string[] = [];
  for (const [, v] of Object.entries((obj.data ?? {}) as Record<string, string>)) {
    if (typeof v !== 'string') continue;
    out.push(v, Buffer.from(v, 'base64').toString('utf8'));
  }
  for (const [, v] of Object.entries((obj.stringData ?? {}) as Record<string, string>)) if (typeof v === 'string') out.push(v);
  return out;
}

/**
 * The before/after pair shown for a Secret: every key keeps its name; a value becomes
 * "(hidden)" when unchanged, "(changed)" or "(added)" after, and removed keys disappear.
 */
export function maskSecretPair(before: KubeObject | null, after: KubeObject | null): [KubeObject | null, KubeObject | null] {
  const b = before ? structuredClone(before) : null;
  const a = after ? structuredClone(after) : null;
  for (const field of ['data', 'stringData'] as const) {
    const bd = (before?.[field] ?? {}) as Record<string, string>;
    const ad = (after?.[field] ?? {}) as Record<string, string>;
    if (b?.[field]) b[field] = Object.fromEntries(Object.keys(bd).map((k) => [k, '(hidden)']));
    if (a?.[field]) {
      a[field] = Object.fromEntries(Object.keys(ad).map((k) => [k, !(k in bd) ? '(added)' : bd[k] === ad[k] ? '(hidden)' : '(changed)']));
    }
  }
  return [b, a];
}

/** YAML text for a diff ("" for a missing object). */
export function toYaml(obj: KubeObject | null): string {
  return obj ? stringify(obj, { sortMapEntries: false, lineWidth: 0 }) : '';
}

/** "Deployment backend/api" or "Namespace backend". */
export function describeObject(obj: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${obj.kind} ${obj.metadata.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata.name}`;
}
