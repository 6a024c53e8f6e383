// The k8s module against a real kube-apiserver + etcd (test/helpers/kube-apiserver.ts); each
// test works in a namespace of its own. "Nothing written" is proven by resourceVersions that
// do not move; "before any API call" by a kubeconfig that points at a port nobody listens on.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { k8s } from '../../../modules/k8s.js';
import { fingerprintOf } from '../../../engine/plan/fingerprint.js';
import { makeModuleContext } from '../../../engine/run/context.js';
import { validateAgainst } from '../../../engine/schema-validation.js';
import type { KubeObject } from '../../../modules/k8s/client.js';
import { startKubeApiServer, type KubeTestServer } from '../../helpers/kube-apiserver.js';
import { localHost, run, schemaProblems } from '../../helpers/modules.js';

let api: KubeTestServer;
let dir: string;
let kubeconfig: string;
/** A kubeconfig whose server is a port where nothing listens: any API call fails. */
let deadKubeconfig: string;

// The blog's Deployment, as `kubectl create deployment --dry-run -o yaml` printed it.
const blogDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: backend-paragon
  name: backend-paragon
spec:
  replicas: 3
  selector:
    matchLabels:
      app: backend-paragon
  strategy: {}
  template:
    metadata:
      creationTimestamp: null
      labels:
        app: backend-paragon
    spec:
      containers:
        - name: backend
          image: ghcr.io/lgkentang/backend-paragon:0.1.0-dev
          ports:
            - containerPort: 8080
          envFrom:
            - secretRef:
                name: backend-paragon-secret
status: {}
`;

const namespaceObject = (name: string) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
const service = (namespace: string) => ({
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'backend-paragon', namespace },
  spec: { selector: { app: 'backend-paragon' }, ports: [{ name: 'http', port: 8080 }] },
});

const opts = () => ({ baseDirs: [dir] });

async function get(p: string): Promise<KubeObject> {
  return (await api.client.request('GET', p)) as KubeObject;
}
const deploymentPath = (ns: string, name = 'backend-paragon') => `/apis/apps/v1/namespaces/${ns}/deployments/${name}`;

/** `kubectl scale deploy NAME --replicas=N`: a patch of the scale subresource, field manager kubectl. */
async function kubectlScale(ns: string, replicas: number, name = 'backend-paragon'): Promise<void> {
  await api.client.request('PATCH', `${deploymentPath(ns, name)}/scale?fieldManager=kubectl`, {
    body: JSON.stringify({ spec: { replicas } }),
    contentType: 'application/merge-patch+json',
  });
}

/** What the module observes, as a saved plan fingerprints it. */
async function observedFingerprint(args: Record<string, unknown>): Promise<string> {
  const copy = structuredClone(args);
  expect(validateAgainst(k8s.schema, copy)).toEqual([]);
  const ctx = makeModuleContext({ host: localHost, check: true, baseDirs: [dir] });
  return fingerprintOf(await k8s.observe(ctx, copy as never));
}

beforeAll(async () => {
  api = await startKubeApiServer();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k8s-module-'));
  kubeconfig = api.kubeconfig;
  deadKubeconfig = path.join(dir, 'dead-kubeconfig');
  await fs.writeFile(
    deadKubeconfig,
    'apiVersion: v1\nkind: Config\ncurrent-context: dead\nclusters: [{name: dead, cluster: {server: "http://127.0.0.1:9"}}]\nusers: [{name: u, user: {}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\n',
  );
  await fs.mkdir(path.join(dir, 'files'));
  await fs.mkdir(path.join(dir, 'templates'));
  await fs.writeFile(path.join(dir, 'files', 'deployment.yaml'), blogDeployment);
});

afterAll(async () => {
  await api?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('k8s module against a real API server', () => {
  test('schema: exactly one source; force_conflicts defaults to true', () => {
    expect(schemaProblems(k8s, { kubeconfig: 'x' }).length).toBeGreaterThan(0);
    expect(schemaProblems(k8s, { definition: namespaceObject('a'), src: 'a.yaml' }).length).toBeGreaterThan(0);
    const args: Record<string, unknown> = { definition: namespaceObject('a') };
    expect(schemaProblems(k8s, args)).toEqual([]);
    expect(validateAgainst(k8s.schema, args)).toEqual([]);
    expect(args.force_conflicts).toBe(true);
  });

  test('check mode before the namespace exists: create for the Namespace, unknown for objects inside it, nothing written', async () => {
    const ns = 'not-created-yet';
    const nsOut = await run(k8s, { definition: namespaceObject(ns), kubeconfig }, { ...opts(), check: true });
    expect(nsOut.status).toBe('changed');
    expect(nsOut.summary).toBe(`create Namespace ${ns}`);
    expect(nsOut.diffs[0].after).toContain(`name: ${ns}`);
    const dep = await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, { ...opts(), check: true });
    expect(dep.status).toBe('unknown');
    expect(dep.message).toMatch(/namespace not-created-yet does not exist yet/);
    await expect(get(`/api/v1/namespaces/${ns}`)).rejects.toThrow(/not found/);
  });

  test('first apply creates (field manager plinth); the second run and check mode change nothing', async () => {
    const ns = 'blog';
    expect((await run(k8s, { definition: namespaceObject(ns), kubeconfig }, opts())).status).toBe('changed');
    const first = await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, opts());
    expect(first.status).toBe('changed');
    expect(first.summary).toBe(`create Deployment ${ns}/backend-paragon`);
    expect((await run(k8s, { definition: service(ns), kubeconfig }, opts())).status).toBe('changed');
    const stored = await get(deploymentPath(ns));
    expect((stored.spec as { replicas: number }).replicas).toBe(3);
    expect((stored.metadata.managedFields as { manager: string }[]).map((m) => m.manager)).toEqual(['plinth']);

    const versions = async () =>
      [await get(`/api/v1/namespaces/${ns}`), await get(deploymentPath(ns)), await get(`/api/v1/namespaces/${ns}/services/backend-paragon`)].map((o) => o.metadata.resourceVersion);
    const before = await versions();
    for (const args of [{ definition: namespaceObject(ns) }, { src: 'deployment.yaml', namespace: ns }, { definition: service(ns) }]) {
      // The server defaulted fields (clusterIP, strategy, imagePullPolicy, protocol, ...): still no change.
      expect((await run(k8s, { ...args, kubeconfig }, opts())).status).toBe('ok');
      expect((await run(k8s, { ...args, kubeconfig }, { ...opts(), check: true })).status).toBe('ok');
    }
    expect(await versions()).toEqual(before);
  });

  test('check mode shows the change from the server dry run and writes nothing', async () => {
    const ns = await api.namespace('dry-run');
    await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, opts());
    const before = await get(deploymentPath(ns));
    await fs.writeFile(path.join(dir, 'files', 'deployment-5.yaml'), blogDeployment.replace('replicas: 3', 'replicas: 5'));
    const out = await run(k8s, { src: 'deployment-5.yaml', namespace: ns, kubeconfig }, { ...opts(), check: true });
    expect(out.status).toBe('changed');
    expect(out.summary).toBe(`update Deployment ${ns}/backend-paragon`);
    const [diff] = out.diffs;
    expect(diff.before).toContain('replicas: 3');
    expect(diff.after).toContain('replicas: 5');
    // The server's defaults are on both sides, so they are no change.
    expect(diff.after).toContain('imagePullPolicy: IfNotPresent');
    for (const hidden of ['managedFields', 'resourceVersion', 'uid:', 'creationTimestamp', 'generation']) expect(diff.before + diff.after).not.toContain(hidden);
    const after = await get(deploymentPath(ns));
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });

  test('a field removed from the manifest is removed from the object (server-side apply ownership)', async () => {
    const ns = await api.namespace('prune');
    const labelled = { ...service(ns), metadata: { ...service(ns).metadata, labels: { tier: 'api' } } };
    expect((await run(k8s, { definition: labelled, kubeconfig }, opts())).status).toBe('changed');
    const out = await run(k8s, { definition: service(ns), kubeconfig }, opts());
    expect(out.status).toBe('changed');
    expect(out.diffs[0].before).toContain('tier: api');
    expect(out.diffs[0].after).not.toContain('tier');
    expect((await get(`/api/v1/namespaces/${ns}/services/backend-paragon`)).metadata.labels).toBeUndefined();
  });

  test('kubectl scale during an incident: the plan names the field and its manager, the run takes it back, the next run is ok', async () => {
    const ns = await api.namespace('scaled');
    expect((await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, opts())).status).toBe('changed');
    await kubectlScale(ns, 1);
    const scaled = await get(deploymentPath(ns));
    expect((scaled.spec as { replicas: number }).replicas).toBe(1);

    const check = await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, { ...opts(), check: true });
    expect(check.status).toBe('changed');
    expect(check.summary).toBe(`update Deployment ${ns}/backend-paragon taking back from other field managers: .spec.replicas: kubectl (scale) 1 → 3`);
    expect(check.diffs[0].before).toContain('replicas: 1');
    expect(check.diffs[0].after).toContain('replicas: 3');
    expect((await get(deploymentPath(ns))).metadata.resourceVersion).toBe(scaled.metadata.resourceVersion);

    const applied = await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, opts());
    expect(applied.status).toBe('changed');
    expect(applied.summary).toContain('.spec.replicas: kubectl (scale) 1 → 3');
    const taken = await get(deploymentPath(ns));
    expect((taken.spec as { replicas: number }).replicas).toBe(3);
    const owners = (taken.metadata.managedFields as { manager: string; fieldsV1: { 'f:spec'?: Record<string, unknown> } }[]).filter((m) => m.fieldsV1['f:spec']?.['f:replicas']).map((m) => m.manager);
    expect(owners).toEqual(['plinth']);
    expect((await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, opts())).status).toBe('ok');
  });

  test('force_conflicts: false keeps the 409, naming the field and the other manager, in check mode and in a run', async () => {
    const ns = await api.namespace('no-force');
    await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, opts());
    await kubectlScale(ns, 1);
    // `kubectl edit` of the image: a strategic merge patch with its own field manager.
    await api.client.request('PATCH', `${deploymentPath(ns)}?fieldManager=kubectl-edit`, {
      body: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'backend', image: 'ghcr.io/lgkentang/backend-paragon:hotfix' }] } } } }),
      contentType: 'application/strategic-merge-patch+json',
    });
    for (const check of [true, false]) {
      const err = (await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig, force_conflicts: false }, { ...opts(), check }).catch((e: Error) => e)) as Error;
      expect(err).toBeInstanceOf(Error);
      expect(err.message).toContain(
        `Deployment ${ns}/backend-paragon: field manager conflict: .spec.replicas (owned by kubectl (scale)), .spec.template.spec.containers[name="backend"].image (owned by kubectl-edit)`,
      );
    }
    expect(((await get(deploymentPath(ns))) as unknown as { spec: { replicas: number } }).spec.replicas).toBe(1);
    // The default takes both back and says so.
    const check = await run(k8s, { src: 'deployment.yaml', namespace: ns, kubeconfig }, { ...opts(), check: true });
    expect(check.summary).toContain('.spec.replicas: kubectl (scale) 1 → 3');
    expect(check.summary).toContain('.spec.template.spec.containers[name="backend"].image: kubectl-edit "ghcr.io/lgkentang/backend-paragon:hotfix" → "ghcr.io/lgkentang/backend-paragon:0.1.0-dev"');
  });

  test('a Secret value change names the key, never the value; a Secret key taken back shows no value either', async () => {
    const ns = await api.namespace('secret');
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const secret = (password: string) => ({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: ns }, data: { user: b64('app'), password: b64(password) } });
    expect((await run(k8s, { definition: secret('first-Secret-value'), kubeconfig }, opts())).status).toBe('changed');
    for (const check of [true, false]) {
      const out = await run(k8s, { definition: secret('second-Secret-value'), kubeconfig }, { ...opts(), check });
      expect(out.status).toBe('changed');
      expect(out.summary).toBe(`update Secret ${ns}/db (keys changed: password)`);
      expect(out.diffs[0].before).toContain('password: (hidden)');
      expect(out.diffs[0].after).toContain('password: (changed)');
      expect(out.diffs[0].after).toContain('user: (hidden)');
      const json = JSON.stringify(out);
      for (const v of ['first-Secret-value', 'second-Secret-value']) {
        expect(json).not.toContain(v);
        expect(json).not.toContain(b64(v));
      }
    }
    expect((await run(k8s, { definition: secret('second-Secret-value'), kubeconfig }, opts())).status).toBe('ok');

    // Someone rotates the password by hand with another field manager.
    await api.client.request('PATCH', `/api/v1/namespaces/${ns}/secrets/db?fieldManager=kubectl-edit`, {
      body: JSON.stringify({ data: { password: b64('hand-made-Secret') } }),
      contentType: 'application/merge-patch+json',
    });
    const back = await run(k8s, { definition: secret('second-Secret-value'), kubeconfig }, opts());
    expect(back.summary).toBe(`update Secret ${ns}/db (keys changed: password) taking back from other field managers: .data.password: kubectl-edit (value hidden)`);
    const json = JSON.stringify(back);
    for (const v of ['hand-made-Secret', 'second-Secret-value']) {
      expect(json).not.toContain(v);
      expect(json).not.toContain(b64(v));
    }
    const stored = await get(`/api/v1/namespaces/${ns}/secrets/db`);
    expect(Buffer.from((stored.data as Record<string, string>).password, 'base64').toString()).toBe('second-Secret-value');
  });

  test("Secret from a quoted .env (the blog's failure): clean values reach the Secret", async () => {
    const ns = await api.namespace('dotenv');
    await fs.writeFile(
      path.join(dir, 'files', 'backend.env'),
      '# database URLs\nREAD_DATABASE_URL="postgres://app:Read-pw-1@pgpool.read.db.internal:5432/app"\nexport WRITE_DATABASE_URL=\'postgres://app:Write-pw-1@pgpool.write.db.internal:5432/app\'\n',
    );
    const args = { secret_from_env: { name: 'backend-paragon-secret', namespace: ns, env_file: 'backend.env' }, kubeconfig };
    const out = await run(k8s, args, opts());
    expect(out.status).toBe('changed');
    expect(JSON.stringify(out)).not.toContain('Write-pw-1');
    const stored = await get(`/api/v1/namespaces/${ns}/secrets/backend-paragon-secret`);
    const decoded = Object.fromEntries(Object.entries(stored.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(decoded).toEqual({
      READ_DATABASE_URL: 'postgres://app:Read-pw-1@pgpool.read.db.internal:5432/app',
      WRITE_DATABASE_URL: 'postgres://app:Write-pw-1@pgpool.write.db.internal:5432/app',
    });
    expect((await run(k8s, args, opts())).status).toBe('ok');
  });

  test('a bad DSN in a rendered .env fails with the line, without the value, before any API call', async () => {
    await fs.writeFile(path.join(dir, 'templates', 'backend.env.ejs'), 'READ_DATABASE_URL=<%= read_url %>\nWRITE_DATABASE_URL=<%= write_url %>\n');
    const args = { secret_from_env: { name: 'tmpl-secret', namespace: 'x', env_template: 'backend.env.ejs' }, kubeconfig: deadKubeconfig };
    const vars = { read_url: 'postgres://app:Tmpl-pw@10.0.0.2/app', write_url: 'host=10.0.0.1 password=Bad-dsn-pw' };
    const err = (await run(k8s, args, { ...opts(), vars }).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/backend\.env\.ejs \(rendered\):2: WRITE_DATABASE_URL: is not a PostgreSQL URL/);
    expect(err.message).not.toContain('Bad-dsn-pw');
  });

  test('an invalid manifest the offline schemas know is an error with file:line, before any API call', async () => {
    await fs.writeFile(
      path.join(dir, 'files', 'bad.yaml'),
      blogDeployment.replace('        - name: backend\n', '        - name: backend\n          portz: []\n').replace('replicas: 3', 'replicas: "3"'),
    );
    const err = (await run(k8s, { src: 'bad.yaml', kubeconfig: deadKubeconfig }, opts()).catch((e: Error) => e)) as Error;
    expect(err.message).toContain(`${path.join(dir, 'files', 'bad.yaml')}:9: spec.replicas: must be integer`);
    expect(err.message).toContain('bad.yaml:22: spec.template.spec.containers.0.portz: unknown field');
    await expect(run(k8s, { definition: { ...namespaceObject('x'), spec: { finalisers: [] } }, kubeconfig: deadKubeconfig }, opts())).rejects.toThrow(/definition\.spec\.finalisers: unknown field/);
  });

  test("a misspelt field only the server knows (fieldValidation=Strict) is an error with the manifest's file:line, nothing stored", async () => {
    const ns = await api.namespace('strict');
    // The offline schema checks probes only as mappings: the server's schema finds httpGett.
    const probe = '          readinessProbe:\n            httpGett:\n              path: /healthz\n              port: 8080\n';
    await fs.writeFile(path.join(dir, 'files', 'strict.yaml'), blogDeployment.replace('          envFrom:\n', `${probe}          envFrom:\n`));
    for (const check of [true, false]) {
      const err = (await run(k8s, { src: 'strict.yaml', namespace: ns, kubeconfig }, { ...opts(), check }).catch((e: Error) => e)) as Error;
      expect(err.message).toContain(`Deployment ${ns}/backend-paragon: the API server refused the manifest (strict field validation):`);
      expect(err.message).toContain(`${path.join(dir, 'files', 'strict.yaml')}:26: .spec.template.spec.containers[name="backend"].readinessProbe.httpGett: field not declared in schema`);
    }
    // A kind without an offline schema: the server is the only check.
    const sa = { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'backend', namespace: ns }, automountServiceAccountTokens: false };
    await expect(run(k8s, { definition: sa, kubeconfig }, opts())).rejects.toThrow(/definition\.automountServiceAccountTokens: \.automountServiceAccountTokens: field not declared in schema/);
    await expect(get(deploymentPath(ns))).rejects.toThrow(/not found/);
  });

  test('state absent deletes; check mode predicts without deleting; again is ok', async () => {
    const ns = await api.namespace('absent');
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'to-delete', namespace: ns }, data: { a: '1' } };
    await run(k8s, { definition: cm, kubeconfig }, opts());
    const check = await run(k8s, { definition: cm, state: 'absent', kubeconfig }, { ...opts(), check: true });
    expect(check.status).toBe('changed');
    expect(check.summary).toBe(`delete ConfigMap ${ns}/to-delete`);
    expect(await get(`/api/v1/namespaces/${ns}/configmaps/to-delete`)).toBeDefined();
    expect((await run(k8s, { definition: cm, state: 'absent', kubeconfig, wait: true }, opts())).status).toBe('changed');
    await expect(get(`/api/v1/namespaces/${ns}/configmaps/to-delete`)).rejects.toThrow(/not found/);
    expect((await run(k8s, { definition: cm, state: 'absent', kubeconfig }, opts())).status).toBe('ok');
  });

  test('what a saved plan fingerprints: stable across status writes, different after a kubectl edit', async () => {
    const ns = await api.namespace('fingerprint');
    const args = { src: 'deployment.yaml', namespace: ns, kubeconfig };
    await run(k8s, args, opts());
    const planned = await observedFingerprint(args);
    // A controller reports status: resourceVersion moves, the object the plan was made from does not.
    await api.client.request('PATCH', `${deploymentPath(ns)}/status`, {
      body: JSON.stringify({ status: { observedGeneration: 1, replicas: 3, updatedReplicas: 3 } }),
      contentType: 'application/merge-patch+json',
    });
    expect(await observedFingerprint(args)).toBe(planned);
    await api.client.request('PATCH', `${deploymentPath(ns)}?fieldManager=kubectl-edit`, {
      body: JSON.stringify({ metadata: { labels: { edited: 'by-hand' } } }),
      contentType: 'application/merge-patch+json',
    });
    expect(await observedFingerprint(args)).not.toBe(planned);
    // A create's dry-run answer is stable too (nothing random in it, no clusterIP handed out twice).
    const svc = { definition: service(ns), kubeconfig };
    expect(await observedFingerprint(svc)).toBe(await observedFingerprint(svc));
  });

  test('wrong credentials are a clear error, and the token never shows', async () => {
    const cfg = path.join(dir, 'bad-kubeconfig');
    await fs.writeFile(cfg, (await fs.readFile(kubeconfig, 'utf8')).replace(api.token, 'wrong-token-456'));
    const err = (await run(k8s, { definition: namespaceObject('x'), kubeconfig: cfg }, opts()).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/401 Unauthorized/);
    expect(err.message).not.toContain('wrong-token-456');
  });
});
