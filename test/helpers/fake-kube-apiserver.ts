// A TEST DOUBLE of the Kubernetes API server — not a real cluster, and nothing here has been
// checked against one on this machine. It speaks the part of the API that plinth's k8s
// modules use, following the API's documented behaviour:
// - discovery: /api, /apis, /api/v1, /apis/apps/v1 (resource lists with subresources);
// - GET, DELETE of objects; 404 Status objects for missing objects and namespaces;
// - PATCH with application/apply-patch+yaml (server-side apply): fieldManager required,
//   force, dryRun=All (the answer is the would-be object, nothing is stored), per-manager
//   field ownership with 409 Conflict when another manager owns a field with a different
//   value, removal of fields the manager no longer applies, managedFields in FieldsV1 form;
// - resourceVersion increments on every stored change and stays the same on a no-op apply;
//   generation increments on Deployment spec changes;
// - defaulting of a few fields (Service clusterIP/type, Deployment strategy, Secret type...)
//   so that tests prove the module compares server answers, not manifests;
// - Deployment rollout: status.availableReplicas reaches spec.replicas after a delay.
// Simplifications: lists are atomic (no strategic merge by key), fieldValidation is ignored,
// no watch, no admission, namespaces are deleted at once (no Terminating phase).
import * as http from 'node:http';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';

type Obj = Record<string, any>;
type Path = (string | number)[];

interface ResourceDef {
  group: string;
  version: string;
  name: string;
  kind: string;
  namespaced: boolean;
  subresources?: string[];
}

const RESOURCES: ResourceDef[] = [
  { group: '', version: 'v1', name: 'namespaces', kind: 'Namespace', namespaced: false, subresources: ['status', 'finalize'] },
  { group: '', version: 'v1', name: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', name: 'configmaps', kind: 'ConfigMap', namespaced: true },
  { group: '', version: 'v1', name: 'services', kind: 'Service', namespaced: true, subresources: ['status', 'proxy'] },
  { group: 'apps', version: 'v1', name: 'deployments', kind: 'Deployment', namespaced: true, subresources: ['status', 'scale'] },
];

interface Stored {
  object: Obj;
  /** manager → owned leaf paths (JSON-encoded Path). */
  managers: Map<string, { paths: Set<string>; operation: 'Apply' | 'Update'; apiVersion: string; time: string }>;
}

export interface RequestRecord {
  method: string;
  path: string;
  query: Record<string, string>;
}

export interface FakeKubeApiServerOptions {
  /** Milliseconds until a Deployment reports all replicas available (default 300). */
  rolloutDelayMs?: number;
  /** When set, every request needs `Authorization: Bearer <token>`. */
  token?: string;
  /** Serve HTTPS with these PEMs; requestCert makes client certificates mandatory. */
  tls?: { key: string | Buffer; cert: string | Buffer; ca?: string | Buffer; requestCert?: boolean };
}

class StatusError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details: Obj = {},
  ) {
    super(message);
  }
}

export class FakeKubeApiServer {
  readonly requests: RequestRecord[] = [];
  private readonly store = new Map<string, Stored>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private resourceVersion = 1000;
  private nextClusterIp = 10;
  private server!: http.Server;
  url = '';

  constructor(private readonly opts: FakeKubeApiServerOptions = {}) {}

  async start(): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    this.server = this.opts.tls
      ? https.createServer({ ...this.opts.tls, requestCert: !!this.opts.tls.requestCert, rejectUnauthorized: !!this.opts.tls.requestCert }, handler)
      : http.createServer(handler);
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as AddressInfo;
    this.url = `${this.opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
    return this;
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.server.closeAllConnections?.();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The stored object (a copy), or undefined. */
  object(apiVersion: string, kind: string, name: string, namespace?: string): Obj | undefined {
    const def = this.defFor(apiVersion, kind);
    const s = this.store.get(key(def, def.namespaced ? namespace ?? 'default' : '', name));
    return s ? structuredClone(s.object) : undefined;
  }

  /** Stores an object as if a controller or `kubectl edit` (an Update manager) had written it. */
  seed(obj: Obj, manager = 'kubectl-edit'): void {
    const def = this.defFor(obj.apiVersion, obj.kind);
    const ns = def.namespaced ? obj.metadata.namespace ?? 'default' : '';
    const object = structuredClone(obj);
    if (def.namespaced) object.metadata.namespace = ns;
    const paths = new Set(leaves(configOf(object)).map((p) => JSON.stringify(p)));
    const stored: Stored = { object, managers: new Map([[manager, { paths, operation: 'Update', apiVersion: obj.apiVersion, time: now() }]]) };
    this.finish(def, stored, undefined, false);
    this.store.set(key(def, ns, object.metadata.name), stored);
  }

  /** How many stored changes there were: every one bumps resourceVersion. */
  get writes(): number {
    return this.resourceVersion - 1000;
  }

  private defFor(apiVersion: string, kind: string): ResourceDef {
    const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
    const def = RESOURCES.find((r) => r.group === group && r.version === version && r.kind === kind);
    if (!def) throw new Error(`fake apiserver: unknown kind ${apiVersion}/${kind}`);
    return def;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    this.requests.push({ method: req.method ?? '', path: url.pathname, query });
    const body = await new Promise<string>((resolve) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    });
    try {
      if (this.opts.token && req.headers.authorization !== `Bearer ${this.opts.token}`) throw new StatusError(401, 'Unauthorized', 'Unauthorized');
      const { code, payload } = this.route(req.method ?? 'GET', url.pathname, query, body, String(req.headers['content-type'] ?? ''));
      send(res, code, payload);
    } catch (e) {
      if (!(e instanceof StatusError)) {
        send(res, 500, status(500, 'InternalError', String((e as Error).stack ?? e)));
        return;
      }
      send(res, e.code, status(e.code, e.reason, e.message, e.details));
    }
  }

  private route(method: string, path: string, query: Record<string, string>, body: string, contentType: string): { code: number; payload: unknown } {
    const discovery = this.discovery(path);
    if (discovery) {
      if (method !== 'GET') throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
      return { code: 200, payload: discovery };
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))(?:\/namespaces\/([^/]+))?\/([^/]+)\/([^/]+)$/.exec(path);
    if (!m) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const [, coreVersion, group = '', groupVersion, nsPart, resource, rawName] = m;
    const version = coreVersion ?? groupVersion;
    // /api/v1/namespaces/NAME is the namespace object itself.
    const isNamespaceObject = coreVersion && nsPart === undefined && resource === 'namespaces';
    const def = RESOURCES.find((r) => r.group === group && r.version === version && r.name === resource);
    if (!def || (def.namespaced && nsPart === undefined && !isNamespaceObject) || (!def.namespaced && nsPart !== undefined)) {
      throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    }
    const ns = def.namespaced ? decodeURIComponent(nsPart!) : '';
    const name = decodeURIComponent(rawName);
    switch (method) {
      case 'GET':
        return { code: 200, payload: this.get(def, ns, name) };
      case 'PATCH':
        if (!contentType.startsWith('application/apply-patch+yaml')) {
          throw new StatusError(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/apply-patch+yaml`);
        }
        return this.apply(def, ns, name, body, query);
      case 'DELETE':
        return { code: 200, payload: this.delete(def, ns, name, query.dryRun === 'All') };
      default:
        throw new StatusError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource');
    }
  }

  private discovery(path: string): unknown {
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [] };
    if (path === '/apis') {
      const groups = [...new Set(RESOURCES.filter((r) => r.group).map((r) => `${r.group}/${r.version}`))].map((gv) => {
        const [name, version] = gv.split('/');
        const v = { groupVersion: gv, version };
        return { name, versions: [v], preferredVersion: v };
      });
      return { kind: 'APIGroupList', apiVersion: 'v1', groups };
    }
    const m = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
    if (!m) return undefined;
    const group = m[2] ?? '';
    const version = m[1] ?? m[3];
    const defs = RESOURCES.filter((r) => r.group === group && r.version === version);
    if (!defs.length) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const resources = defs.flatMap((r) => [
      { name: r.name, singularName: r.kind.toLowerCase(), namespaced: r.namespaced, kind: r.kind, verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'] },
      ...(r.subresources ?? []).map((s) => ({ name: `${r.name}/${s}`, singularName: '', namespaced: r.namespaced, kind: s === 'scale' ? 'Scale' : r.kind, verbs: ['get', 'patch', 'update'] })),
    ]);
    return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: group ? `${group}/${version}` : version, resources };
  }

  private notFound(def: ResourceDef, name: string): StatusError {
    const qualified = def.group ? `${def.name}.${def.group}` : def.name;
    return new StatusError(404, 'NotFound', `${qualified} "${name}" not found`, { name, group: def.group || undefined, kind: def.name });
  }

  private get(def: ResourceDef, ns: string, name: string): Obj {
    const s = this.store.get(key(def, ns, name));
    if (!s) throw this.notFound(def, name);
    return structuredClone(s.object);
  }

  private delete(def: ResourceDef, ns: string, name: string, dryRun: boolean): Obj {
    const k = key(def, ns, name);
    const s = this.store.get(k);
    if (!s) throw this.notFound(def, name);
    if (!dryRun) {
      this.store.delete(k);
      if (def.kind === 'Namespace') for (const other of [...this.store.keys()]) if (other.split('|')[2] === name) this.store.delete(other);
      this.resourceVersion++;
    }
    return structuredClone(s.object);
  }

  private apply(def: ResourceDef, ns: string, name: string, body: string, query: Record<string, string>): { code: number; payload: unknown } {
    const manager = query.fieldManager;
    if (!manager) throw new StatusError(400, 'BadRequest', 'PATCH, application/apply-patch+yaml requires fieldManager to be set');
    if (query.dryRun !== undefined && query.dryRun !== 'All') throw new StatusError(400, 'BadRequest', `Invalid dry run value: ${query.dryRun}`);
    const dryRun = query.dryRun === 'All';
    const force = query.force === 'true';

    let config: Obj;
    try {
      config = parseYaml(body);
    } catch (e) {
      throw new StatusError(400, 'BadRequest', `error decoding YAML: ${(e as Error).message}`);
    }
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    if (!config || config.apiVersion !== apiVersion || config.kind !== def.kind) {
      throw new StatusError(400, 'BadRequest', `the apply patch must be a ${def.kind} of ${apiVersion}`);
    }
    if (config.metadata?.name !== name) throw new StatusError(400, 'BadRequest', 'the name of the object does not match the name on the URL');
    if (def.namespaced && config.metadata.namespace !== undefined && config.metadata.namespace !== ns) {
      throw new StatusError(400, 'BadRequest', 'the namespace of the provided object does not match the namespace sent on the request');
    }
    if (def.namespaced && !this.store.has(key(this.defFor('v1', 'Namespace'), '', ns))) {
      throw new StatusError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    }

    const k = key(def, ns, name);
    const live = this.store.get(k);
    const applied = configOf(config);
    if (def.kind === 'Secret' && applied.stringData) {
      applied.data = { ...(applied.data ?? {}) };
      for (const [sk, sv] of Object.entries(applied.stringData as Obj)) applied.data[sk] = Buffer.from(String(sv)).toString('base64');
      delete applied.stringData;
    }
    const rv = config.metadata.resourceVersion;
    if (rv !== undefined && live && rv !== live.object.metadata.resourceVersion) {
      throw new StatusError(409, 'Conflict', `Operation cannot be fulfilled on ${def.name} "${name}": the object has been modified; please apply your changes to the latest version and try again`);
    }

    const next: Stored = live
      ? { object: structuredClone(live.object), managers: cloneManagers(live.managers) }
      : { object: { apiVersion, kind: def.kind, metadata: { name, ...(def.namespaced ? { namespace: ns } : {}) } }, managers: new Map() };
    const newPaths = leaves(applied);
    // A conflict is an apply that would change the value of a field someone else owns; the
    // value compared is the one the server would store (with its defaults), as in the real merge.
    const candidate = structuredClone(next.object);
    deepMerge(candidate, applied);
    applyDefaults(def.kind, candidate, () => 'pending');
    this.resolveConflicts(next, manager, newPaths, candidate, force, apiVersion);

    // Fields this manager applied before and no longer applies are removed, unless someone else owns them.
    const previous = next.managers.get(manager)?.paths ?? new Set<string>();
    const now = new Set(newPaths.map((p) => JSON.stringify(p)));
    for (const p of previous) {
      if (now.has(p)) continue;
      const ownedElsewhere = [...next.managers].some(([m, e]) => m !== manager && e.paths.has(p));
      if (!ownedElsewhere) removePath(next.object, JSON.parse(p));
    }
    deepMerge(next.object, applied);
    next.managers.set(manager, { paths: now, operation: 'Apply', apiVersion, time: nowOr(live?.managers.get(manager), now) });
    applyDefaults(def.kind, next.object, () => `10.96.0.${this.nextClusterIp++}`);

    const unchanged = live && sameJson(stripVolatile(live.object), stripVolatile(withManaged(next))) && sameOwnership(live.managers, next.managers);
    if (unchanged) return { code: 200, payload: structuredClone(live.object) };
    this.finish(def, next, live, dryRun);
    if (!dryRun) {
      this.store.set(k, next);
      if (def.kind === 'Deployment') this.scheduleRollout(k);
    }
    return { code: live ? 200 : 201, payload: structuredClone(next.object) };
  }

  private resolveConflicts(next: Stored, manager: string, paths: Path[], candidate: Obj, force: boolean, apiVersion: string): void {
    const conflicts: { manager: string; field: string; path: string }[] = [];
    for (const p of paths) {
      for (const [other, entry] of next.managers) {
        if (other === manager) continue;
        const owned = [...entry.paths].filter((q) => overlaps(JSON.parse(q), p));
        if (!owned.length) continue;
        if (sameJson(valueAt(next.object, p), valueAt(candidate, p))) continue;
        for (const q of owned) conflicts.push({ manager: other, field: fieldPath(JSON.parse(q)), path: q });
      }
    }
    if (!conflicts.length) return;
    if (force) {
      for (const c of conflicts) {
        const entry = next.managers.get(c.manager)!;
        entry.paths.delete(c.path);
        if (!entry.paths.size) next.managers.delete(c.manager);
      }
      return;
    }
    const causes = conflicts.map((c) => ({ type: 'FieldManagerConflict', message: `conflict with "${c.manager}" using ${apiVersion}`, field: c.field }));
    const lines = conflicts.map((c) => `conflict with "${c.manager}" using ${apiVersion}: ${c.field}`);
    const n = conflicts.length;
    throw new StatusError(409, 'Conflict', `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${lines.join('\n')}`, { causes });
  }

  /** Server-side fields: identity, versions, defaults, managedFields. */
  private finish(def: ResourceDef, next: Stored, live: Stored | undefined, dryRun: boolean): void {
    const o = next.object;
    applyDefaults(def.kind, o, () => `10.96.0.${this.nextClusterIp++}`);
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= now();
    if (def.kind === 'Deployment') {
      const specChanged = !live || !sameJson(live.object.spec, o.spec);
      o.metadata.generation = (live?.object.metadata.generation ?? 0) + (specChanged ? 1 : 0);
      o.status ??= { observedGeneration: o.metadata.generation - 1, replicas: 0, availableReplicas: 0 };
    }
    o.metadata.managedFields = managedFields(next.managers);
    if (dryRun) {
      if (!live) delete o.metadata.resourceVersion;
      return;
    }
    o.metadata.resourceVersion = String(++this.resourceVersion);
  }

  private scheduleRollout(k: string): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      const s = this.store.get(k);
      if (!s) return;
      const replicas = s.object.spec?.replicas ?? 1;
      const generation = s.object.metadata.generation;
      s.object.status = {
        observedGeneration: generation,
        replicas,
        updatedReplicas: replicas,
        readyReplicas: replicas,
        availableReplicas: replicas,
        conditions: [{ type: 'Available', status: 'True', reason: 'MinimumReplicasAvailable' }],
      };
      s.object.metadata.resourceVersion = String(++this.resourceVersion);
    }, this.opts.rolloutDelayMs ?? 300);
    this.timers.add(timer);
  }
}

export async function startFakeKubeApiServer(opts: FakeKubeApiServerOptions = {}): Promise<FakeKubeApiServer> {
  return new FakeKubeApiServer(opts).start();
}

function key(def: ResourceDef, ns: string, name: string): string {
  return `${def.group}/${def.version}/${def.name}|${def.namespaced ? 'ns' : 'cluster'}|${ns}|${name}`;
}

function send(res: http.ServerResponse, code: number, payload: unknown): void {
  const text = JSON.stringify(payload);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function status(code: number, reason: string, message: string, details: Obj = {}): Obj {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, details, code };
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** The parts of an applied object that a manager owns: not identity, not server metadata, not status. */
function configOf(config: Obj): Obj {
  const c = withoutNulls(structuredClone(config));
  delete c.apiVersion;
  delete c.kind;
  delete c.status;
  for (const k of ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'selfLink']) delete c.metadata?.[k];
  if (c.metadata && !Object.keys(c.metadata).length) delete c.metadata;
  return c;
}

/** A null in an applied manifest (`creationTimestamp: null`) sets nothing. */
function withoutNulls(o: Obj): Obj {
  for (const [k, v] of Object.entries(o)) {
    if (v === null) delete o[k];
    else if (v && typeof v === 'object' && !Array.isArray(v)) withoutNulls(v);
  }
  return o;
}

/** Leaf paths: non-empty maps are descended into; lists, scalars and empty maps are leaves. */
function leaves(o: Obj, prefix: Path = []): Path[] {
  const out: Path[] = [];
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length) out.push(...leaves(v, [...prefix, k]));
    else out.push([...prefix, k]);
  }
  return out;
}

function overlaps(a: Path, b: Path): boolean {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function valueAt(o: unknown, p: Path): unknown {
  let v: any = o;
  for (const k of p) v = v && typeof v === 'object' ? v[k] : undefined;
  return v;
}

function removePath(o: Obj, p: Path): void {
  const parents: Obj[] = [];
  let cur: any = o;
  for (const k of p.slice(0, -1)) {
    if (!cur || typeof cur !== 'object') return;
    parents.push(cur);
    cur = cur[k];
  }
  if (!cur || typeof cur !== 'object') return;
  delete cur[p[p.length - 1]];
  // Prune maps left empty by the removal.
  for (let i = p.length - 2; i >= 0; i--) {
    const child = parents[i][p[i]];
    if (child && typeof child === 'object' && !Array.isArray(child) && !Object.keys(child).length) delete parents[i][p[i]];
    else break;
  }
}

function deepMerge(target: Obj, source: Obj): void {
  for (const [k, v] of Object.entries(source)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && target[k] && typeof target[k] === 'object' && !Array.isArray(target[k])) deepMerge(target[k], v);
    else target[k] = structuredClone(v);
  }
}

function fieldPath(p: Path): string {
  return p.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('');
}

function cloneManagers(m: Stored['managers']): Stored['managers'] {
  return new Map([...m].map(([k, v]) => [k, { ...v, paths: new Set(v.paths) }]));
}

function nowOr(previous: { paths: Set<string>; time: string } | undefined, paths: Set<string>): string {
  if (previous && previous.paths.size === paths.size && [...paths].every((p) => previous.paths.has(p))) return previous.time;
  return now();
}

function sameOwnership(a: Stored['managers'], b: Stored['managers']): boolean {
  if (a.size !== b.size) return false;
  for (const [m, e] of a) {
    const f = b.get(m);
    if (!f || f.paths.size !== e.paths.size || [...e.paths].some((p) => !f.paths.has(p))) return false;
  }
  return true;
}

function withManaged(s: Stored): Obj {
  const o = structuredClone(s.object);
  o.metadata.managedFields = managedFields(s.managers);
  return o;
}

function stripVolatile(o: Obj): Obj {
  const c = structuredClone(o);
  delete c.metadata.managedFields;
  delete c.metadata.resourceVersion;
  delete c.metadata.generation;
  delete c.status;
  return c;
}

function managedFields(managers: Stored['managers']): Obj[] {
  return [...managers].map(([manager, e]) => {
    const fields: Obj = {};
    for (const p of e.paths) {
      let cur = fields;
      for (const k of JSON.parse(p) as Path) cur = cur[`f:${k}`] ??= {};
    }
    return { manager, operation: e.operation, apiVersion: e.apiVersion, time: e.time, fieldsType: 'FieldsV1', fieldsV1: fields };
  });
}

function sameJson(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as Obj).sort().filter((k) => (v as Obj)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Obj)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** A few of the API server's defaults, filled in only where the object has no value. */
function applyDefaults(kind: string, o: Obj, allocateIp: () => string): void {
  const fill = (target: Obj, defaults: Obj) => {
    for (const [k, v] of Object.entries(defaults)) if (target[k] === undefined) target[k] = structuredClone(v);
  };
  if (kind === 'Namespace') {
    fill(o, { spec: { finalizers: ['kubernetes'] }, status: { phase: 'Active' } });
    o.metadata.labels = { ...o.metadata.labels, 'kubernetes.io/metadata.name': o.metadata.name };
  }
  if (kind === 'Secret') fill(o, { type: 'Opaque' });
  if (kind === 'Service' && o.spec) {
    fill(o.spec, { type: 'ClusterIP', sessionAffinity: 'None', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack', internalTrafficPolicy: 'Cluster' });
    if (o.spec.type !== 'ExternalName' && o.spec.clusterIP === undefined) {
      o.spec.clusterIP = allocateIp();
      o.spec.clusterIPs = [o.spec.clusterIP];
    }
    for (const p of o.spec.ports ?? []) fill(p, { protocol: 'TCP', targetPort: p.port });
  }
  if (kind === 'Deployment' && o.spec) {
    fill(o.spec, { replicas: 1, revisionHistoryLimit: 10, progressDeadlineSeconds: 600, strategy: {} });
    fill(o.spec.strategy, { type: 'RollingUpdate' });
    if (o.spec.strategy.type === 'RollingUpdate') fill(o.spec.strategy, { rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } });
    const pod = o.spec.template?.spec;
    if (pod) {
      fill(pod, { restartPolicy: 'Always', dnsPolicy: 'ClusterFirst', terminationGracePeriodSeconds: 30, schedulerName: 'default-scheduler', securityContext: {} });
      for (const c of pod.containers ?? []) {
        fill(c, { terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', imagePullPolicy: /:latest$|^[^:]*$/.test(c.image ?? '') ? 'Always' : 'IfNotPresent', resources: {} });
        for (const p of c.ports ?? []) fill(p, { protocol: 'TCP' });
      }
    }
  }
}
