// A small Kubernetes API client over node:https/http: discovery of resource paths, GET,
// server-side apply (PATCH application/apply-patch+yaml) with plinth's field manager, DELETE.
import * as http from 'node:http';
import * as https from 'node:https';
import type { ClusterConnection } from './kubeconfig.js';

const FIELD_MANAGER = 'plinth';
const REQUEST_TIMEOUT_MS = 30_000;

export type KubeObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: unknown };
  [k: string]: unknown;
};

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
}

interface ResourceInfo {
  /** Plural resource name: "deployments". */
  name: string;
  namespaced: boolean;
}

interface StatusCause {
  /** The API's CauseType ("FieldManagerConflict", "FieldValueInvalid", ...). */
  reason?: string;
  message?: string;
  field?: string;
}

/** A non-2xx answer of the API server, with its Status object's reason and message. */
export class KubeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    readonly causes: StatusCause[] = [],
  ) {
    super(message);
    this.name = 'KubeApiError';
  }
}

interface ApplyOptions {
  force?: boolean;
  dryRun?: boolean;
}

export class KubeClient {
  private readonly discovery = new Map<string, Promise<Map<string, ResourceInfo>>>();

  constructor(readonly conn: ClusterConnection) {}

  /** Sends one request; JSON in, JSON out. Rejects with KubeApiError on a non-2xx status. */
  async request(method: string, path: string, opts: { body?: string; contentType?: string } = {}): Promise<unknown> {
    const url = new URL(this.conn.server + path);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.body !== undefined) {
      headers['Content-Type'] = opts.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(opts.body));
    }
    if (this.conn.token) headers.Authorization = `Bearer ${this.conn.token}`;
    else if (this.conn.username !== undefined) {
      headers.Authorization = `Basic ${Buffer.from(`${this.conn.username}:${this.conn.password ?? ''}`).toString('base64')}`;
    }
    const { status, text } = await this.send(url, method, headers, opts.body);
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (status >= 200 && status < 300) return parsed;
    const s = (parsed ?? {}) as { reason?: string; message?: string; details?: { causes?: StatusCause[] } };
    throw new KubeApiError(status, s.reason ?? http.STATUS_CODES[status] ?? String(status), s.message ?? `${method} ${url.pathname}: the answer holds no Kubernetes Status`, s.details?.causes ?? []);
  }

  private send(url: URL, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
    const isHttps = url.protocol === 'https:';
    const options: https.RequestOptions = { method, headers, timeout: REQUEST_TIMEOUT_MS };
    if (isHttps) {
      Object.assign(options, {
        ca: this.conn.ca,
        cert: this.conn.cert,
        key: this.conn.key,
        rejectUnauthorized: !this.conn.insecureSkipTlsVerify,
        servername: this.conn.tlsServerName,
      });
    }
    return new Promise((resolve, reject) => {
      const req = (isHttps ? https : http).request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', (e: NodeJS.ErrnoException) => reject(new KubeApiError(0, 'ConnectionError', `cannot reach the API server ${url.origin} (context ${this.conn.context}): ${e.code ?? e.message}`)));
      req.end(body);
    });
  }

  /** The resource of apiVersion/kind, from the server's discovery documents (cached per group version). */
  async resourceFor(apiVersion: string, kind: string): Promise<ResourceInfo> {
    let list = this.discovery.get(apiVersion);
    if (!list) {
      list = this.discover(apiVersion);
      this.discovery.set(apiVersion, list);
      list.catch(() => this.discovery.delete(apiVersion));
    }
    const info = (await list).get(kind);
    if (!info) throw new KubeApiError(404, 'NotFound', `the server has no resource for kind ${kind} in ${apiVersion}`);
    return info;
  }

  private async discover(apiVersion: string): Promise<Map<string, ResourceInfo>> {
    const path = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    let doc: { resources?: { name: string; kind: string; namespaced: boolean }[] };
    try {
      doc = (await this.request('GET', path)) as typeof doc;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) throw new KubeApiError(404, 'NotFound', `the server does not serve ${apiVersion}`);
      throw e;
    }
    const map = new Map<string, ResourceInfo>();
    // Subresources ("deployments/status") share the kind of their parent: skip them.
    for (const r of doc.resources ?? []) if (!r.name.includes('/')) map.set(r.kind, { name: r.name, namespaced: r.namespaced });
    return map;
  }

  /** The URL path of one object; namespaced objects use `namespace` (required). */
  async objectPath(ref: ObjectRef): Promise<string> {
    const info = await this.resourceFor(ref.apiVersion, ref.kind);
    const base = ref.apiVersion.includes('/') ? `/apis/${ref.apiVersion}` : `/api/${ref.apiVersion}`;
    const ns = info.namespaced ? `/namespaces/${encodeURIComponent(ref.namespace ?? 'default')}` : '';
    return `${base}${ns}/${info.name}/${encodeURIComponent(ref.name)}`;
  }

  async isNamespaced(apiVersion: string, kind: string): Promise<boolean> {
    return (await this.resourceFor(apiVersion, kind)).namespaced;
  }

  /** The live object, or null when it does not exist. */
  async get(ref: ObjectRef): Promise<KubeObject | null> {
    try {
      return (await this.request('GET', await this.objectPath(ref))) as KubeObject;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404 && e.reason === 'NotFound') return null;
      throw e;
    }
  }

  /** Server-side apply; with dryRun the server answers with the object it would store. */
  async apply(obj: KubeObject, opts: ApplyOptions = {}): Promise<KubeObject> {
    const ref = { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: obj.metadata.namespace };
    const query = new URLSearchParams({ fieldManager: FIELD_MANAGER, fieldValidation: 'Strict' });
    if (opts.force) query.set('force', 'true');
    if (opts.dryRun) query.set('dryRun', 'All');
    // JSON is YAML: the apply-patch content type accepts it as it is.
    return (await this.request('PATCH', `${await this.objectPath(ref)}?${query}`, {
      body: JSON.stringify(obj),
      contentType: 'application/apply-patch+yaml',
    })) as KubeObject;
  }

  /** Deletes the object; false when it did not exist. */
  async delete(ref: ObjectRef, opts: { dryRun?: boolean } = {}): Promise<boolean> {
    const query = opts.dryRun ? '?dryRun=All' : '';
    try {
      await this.request('DELETE', `${await this.objectPath(ref)}${query}`, {
        body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' }),
      });
      return true;
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) return false;
      throw e;
    }
  }
}
