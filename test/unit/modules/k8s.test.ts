// The k8s module against test/helpers/fake-kube-apiserver.ts (a test double, not a cluster).
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { k8s } from '../../../modules/k8s.js';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../../helpers/fake-kube-apiserver.js';
import { run, schemaProblems } from '../../helpers/modules.js';

let api: FakeKubeApiServer;
let dir: string;
let kubeconfig: string;

async function writeKubeconfig(file: string, server: string, token: string) {
  await fs.writeFile(
    file,
    [
      'apiVersion: v1',
      'kind: Config',
      'current-context: lab',
      'clusters: [{name: lab, cluster: {server: "' + server + '"}}]',
      'users: [{name: admin, user: {token: ' + token + '}}]',
      'contexts: [{name: lab, context: {cluster: lab, user: admin, namespace: backend-paragon}}]',
      '',
    ].join('\n'),
  );
}

// The blog's Deployment, as `kubectl create deployment --dry-run -o yaml` printed it.
const blogDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  creationTimestamp: null
  labels:
    app: backend-paragon
  name: backend-paragon
  namespace: backend-paragon
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

const namespace = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'backend-paragon' } };
const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'backend-paragon', namespace: 'backend-paragon' },
  spec: { selector: { app: 'backend-paragon' }, ports: [{ name: 'http', port: 8080 }] },
};

const opts = () => ({ baseDirs: [dir] });
/** Tests after the first ones need the namespace; creating it here keeps them runnable alone (-t). */
const ensureNamespace = () => run(k8s, { definition: namespace, kubeconfig }, opts());
const mutatingRequests = () => api.requests.filter((r) => r.method !== 'GET' && r.query.dryRun !== 'All');

beforeAll(async () => {
  api = await startFakeKubeApiServer({ token: 'fake-token-123', rolloutDelayMs: 300 });
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k8s-module-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  await writeKubeconfig(kubeconfig, api.url, 'fake-token-123');
  await fs.mkdir(path.join(dir, 'files'));
  await fs.mkdir(path.join(dir, 'templates'));
  await fs.writeFile(path.join(dir, 'files', 'deployment.yaml'), blogDeployment);
});

afterAll(async () => {
  await api.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('k8s module', () => {
  test('schema: exactly one source', () => {
    expect(schemaProblems(k8s, { kubeconfig: 'x' }).length).toBeGreaterThan(0);
    expect(schemaProblems(k8s, { definition: namespace, src: 'a.yaml' }).length).toBeGreaterThan(0);
    expect(schemaProblems(k8s, { definition: namespace })).toEqual([]);
  });

  test('check mode before the namespace exists: predicted create for the Namespace, unknown for objects inside it, nothing written', async () => {
    const ns = await run(k8s, { definition: namespace, kubeconfig }, { ...opts(), check: true });
    expect(ns.status).toBe('changed');
    expect(ns.summary).toBe('create Namespace backend-paragon');
    expect(ns.diffs[0].after).toContain('name: backend-paragon');
    const dep = await run(k8s, { src: 'deployment.yaml', kubeconfig }, { ...opts(), check: true });
    expect(dep.status).toBe('unknown');
    expect(dep.message).toMatch(/namespace backend-paragon does not exist yet/);
    expect(mutatingRequests()).toEqual([]);
    expect(api.object('v1', 'Namespace', 'backend-paragon')).toBeUndefined();
  });

  test('first apply creates; second run changes nothing; check mode then reports ok', async () => {
    expect((await run(k8s, { definition: namespace, kubeconfig }, opts())).status).toBe('changed');
    const first = await run(k8s, { src: 'deployment.yaml', kubeconfig }, opts());
    expect(first.status).toBe('changed');
    expect(first.summary).toBe('create Deployment backend-paragon/backend-paragon');
    const svc = await run(k8s, { definition: service, kubeconfig }, opts());
    expect(svc.status).toBe('changed');
    const stored = api.object('apps/v1', 'Deployment', 'backend-paragon', 'backend-paragon')!;
    expect(stored.spec.replicas).toBe(3);
    expect(stored.metadata.managedFields.map((m: { manager: string }) => m.manager)).toEqual(['plinth']);
    expect(stored.metadata).not.toHaveProperty('creationTimestamp', null);

    const writes = api.writes;
    for (const args of [{ definition: namespace }, { src: 'deployment.yaml' }, { definition: service }]) {
      // The server defaulted fields (clusterIP, strategy, imagePullPolicy, ...): still no change.
      expect((await run(k8s, { ...args, kubeconfig }, opts())).status).toBe('ok');
      expect((await run(k8s, { ...args, kubeconfig }, { ...opts(), check: true })).status).toBe('ok');
    }
    expect(api.writes).toBe(writes);
  });

  test('check mode shows the change from the server dry run and changes nothing', async () => {
    const before = api.object('apps/v1', 'Deployment', 'backend-paragon', 'backend-paragon')!;
    await fs.writeFile(path.join(dir, 'files', 'deployment-5.yaml'), blogDeployment.replace('replicas: 3', 'replicas: 5'));
    const out = await run(k8s, { src: 'deployment-5.yaml', kubeconfig }, { ...opts(), check: true });
    expect(out.status).toBe('changed');
    expect(out.summary).toBe('update Deployment backend-paragon/backend-paragon');
    const [diff] = out.diffs;
    expect(diff.before).toContain('replicas: 3');
    expect(diff.after).toContain('replicas: 5');
    for (const hidden of ['managedFields', 'resourceVersion', 'uid:', 'creationTimestamp', 'generation']) {
      expect(diff.before + diff.after).not.toContain(hidden);
    }
    const after = api.object('apps/v1', 'Deployment', 'backend-paragon', 'backend-paragon')!;
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.spec.replicas).toBe(3);
  });

  test('a field removed from the manifest is removed from the object (server-side apply ownership)', async () => {
    await ensureNamespace();
    const labelled = { ...service, metadata: { ...service.metadata, labels: { tier: 'api' } } };
    expect((await run(k8s, { definition: labelled, kubeconfig }, opts())).status).toBe('changed');
    const out = await run(k8s, { definition: service, kubeconfig }, opts());
    expect(out.status).toBe('changed');
    expect(out.diffs[0].before).toContain('tier: api');
    expect(out.diffs[0].after).not.toContain('tier');
    expect(api.object('v1', 'Service', 'backend-paragon', 'backend-paragon')!.metadata.labels).toBeUndefined();
  });

  test('a Secret value change names the key, never the value', async () => {
    await ensureNamespace();
    const secret = (password: string) => ({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'db', namespace: 'backend-paragon' },
      stringData: undefined,
      data: { user: Buffer.from('app').toString('base64'), password: Buffer.from(password).toString('base64') },
    });
    const { stringData: _, ...first } = secret('first-Secret-value');
    const created = await run(k8s, { definition: first, kubeconfig }, opts());
    expect(created.status).toBe('changed');
    const { stringData: __, ...second } = secret('second-Secret-value');
    for (const check of [true, false]) {
      const out = await run(k8s, { definition: second, kubeconfig }, { ...opts(), check });
      expect(out.status).toBe('changed');
      expect(out.summary).toBe('update Secret backend-paragon/db (keys changed: password)');
      expect(out.diffs[0].before).toContain('password: (hidden)');
      expect(out.diffs[0].after).toContain('password: (changed)');
      expect(out.diffs[0].after).toContain('user: (hidden)');
      const json = JSON.stringify(out);
      for (const v of ['first-Secret-value', 'second-Secret-value']) {
        expect(json).not.toContain(v);
        expect(json).not.toContain(Buffer.from(v).toString('base64'));
      }
    }
    expect((await run(k8s, { definition: second, kubeconfig }, opts())).status).toBe('ok');
  });

  test("Secret from a quoted .env (the blog's failure): clean values reach the Secret", async () => {
    await ensureNamespace();
    await fs.writeFile(
      path.join(dir, 'files', 'backend.env'),
      '# database URLs\nREAD_DATABASE_URL="postgres://app:Read-pw-1@pgpool.read.db.internal:5432/app"\nexport WRITE_DATABASE_URL=\'postgres://app:Write-pw-1@pgpool.write.db.internal:5432/app\'\n',
    );
    const args = { secret_from_env: { name: 'backend-paragon-secret', env_file: 'backend.env' }, kubeconfig };
    const out = await run(k8s, args, opts());
    expect(out.status).toBe('changed');
    expect(JSON.stringify(out)).not.toContain('Write-pw-1');
    const stored = api.object('v1', 'Secret', 'backend-paragon-secret', 'backend-paragon')!;
    const decoded = Object.fromEntries(Object.entries(stored.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString()]));
    expect(decoded).toEqual({
      READ_DATABASE_URL: 'postgres://app:Read-pw-1@pgpool.read.db.internal:5432/app',
      WRITE_DATABASE_URL: 'postgres://app:Write-pw-1@pgpool.write.db.internal:5432/app',
    });
    expect((await run(k8s, args, opts())).status).toBe('ok');
  });

  test('a .env rendered from a template, and a bad DSN fails with the line, without the value, before any API call', async () => {
    await fs.writeFile(path.join(dir, 'templates', 'backend.env.ejs'), 'READ_DATABASE_URL=<%= read_url %>\nWRITE_DATABASE_URL=<%= write_url %>\n');
    const args = { secret_from_env: { name: 'tmpl-secret', namespace: 'backend-paragon', env_template: 'backend.env.ejs' }, kubeconfig };
    const vars = { read_url: 'postgres://app:Tmpl-pw@10.0.0.2/app', write_url: 'host=10.0.0.1 password=Bad-dsn-pw' };
    const before = api.requests.length;
    await expect(run(k8s, args, { ...opts(), vars })).rejects.toThrow(/backend\.env\.ejs \(rendered\):2: WRITE_DATABASE_URL: is not a PostgreSQL URL/);
    await run(k8s, args, { ...opts(), vars }).catch((e: Error) => expect(e.message).not.toContain('Bad-dsn-pw'));
    expect(api.requests.length).toBe(before);
    const good = await run(k8s, args, { ...opts(), vars: { ...vars, write_url: 'postgres://app:Tmpl-pw@10.0.0.1/app' } });
    expect(good.status).toBe('changed');
  });

  test('an invalid manifest field is an error with file:line, before any API call', async () => {
    await fs.writeFile(path.join(dir, 'files', 'bad.yaml'), blogDeployment.replace('        - name: backend\n', '        - name: backend\n          portz: []\n').replace('replicas: 3', 'replicas: "3"'));
    const before = api.requests.length;
    const err = await run(k8s, { src: 'bad.yaml', kubeconfig }, opts()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    const message = (err as Error).message;
    expect(message).toContain(`${path.join(dir, 'files', 'bad.yaml')}:10: spec.replicas: must be integer`);
    expect(message).toContain('bad.yaml:23: spec.template.spec.containers.0.portz: unknown field');
    await expect(run(k8s, { definition: { ...namespace, spec: { finalisers: [] } }, kubeconfig }, opts())).rejects.toThrow(/definition\.spec\.finalisers: unknown field/);
    expect(api.requests.length).toBe(before);
  });

  test('a field owned by another manager is a clear 409 conflict; force_conflicts takes it over', async () => {
    await ensureNamespace();
    const other = { ...structuredClone(service), metadata: { name: 'contested', namespace: 'backend-paragon' } };
    const res = await fetch(`${api.url}/api/v1/namespaces/backend-paragon/services/contested?fieldManager=other-tool`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/apply-patch+yaml', Authorization: 'Bearer fake-token-123' },
      body: JSON.stringify({ ...other, spec: { ...other.spec, sessionAffinity: 'ClientIP' } }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const mine = { ...other, spec: { ...other.spec, sessionAffinity: 'None' } };
    await expect(run(k8s, { definition: mine, kubeconfig }, opts())).rejects.toThrow(
      /field manager conflict: \.spec\.sessionAffinity \(conflict with "other-tool" using v1\).*force_conflicts: true/,
    );
    expect(api.object('v1', 'Service', 'contested', 'backend-paragon')!.spec.sessionAffinity).toBe('ClientIP');
    const forced = await run(k8s, { definition: mine, kubeconfig, force_conflicts: true }, opts());
    expect(forced.status).toBe('changed');
    const stored = api.object('v1', 'Service', 'contested', 'backend-paragon')!;
    expect(stored.spec.sessionAffinity).toBe('None');
    const owners = stored.metadata.managedFields.filter((m: { fieldsV1: { 'f:spec'?: Record<string, unknown> } }) => m.fieldsV1['f:spec']?.['f:sessionAffinity']);
    expect(owners.map((m: { manager: string }) => m.manager)).toEqual(['plinth']);
  });

  test('state absent deletes; check mode predicts without deleting; again is ok', async () => {
    await ensureNamespace();
    const cm = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'to-delete' }, data: { a: '1' } };
    await run(k8s, { definition: cm, kubeconfig }, opts());
    expect(api.object('v1', 'ConfigMap', 'to-delete', 'backend-paragon')).toBeDefined();
    const check = await run(k8s, { definition: cm, state: 'absent', kubeconfig }, { ...opts(), check: true });
    expect(check.status).toBe('changed');
    expect(check.summary).toBe('delete ConfigMap backend-paragon/to-delete');
    expect(api.object('v1', 'ConfigMap', 'to-delete', 'backend-paragon')).toBeDefined();
    expect((await run(k8s, { definition: cm, state: 'absent', kubeconfig, wait: true }, opts())).status).toBe('changed');
    expect(api.object('v1', 'ConfigMap', 'to-delete', 'backend-paragon')).toBeUndefined();
    expect((await run(k8s, { definition: cm, state: 'absent', kubeconfig }, opts())).status).toBe('ok');
  });

  test('wait: returns once the rollout is complete (the fake makes replicas available after a delay)', async () => {
    await ensureNamespace();
    await fs.writeFile(path.join(dir, 'templates', 'deploy.yaml.ejs'), blogDeployment.replace('replicas: 3', 'replicas: <%= replicas %>').replace('name: backend-paragon\n  namespace', 'name: waited\n  namespace'));
    const out = await run(k8s, { template: 'deploy.yaml.ejs', kubeconfig, wait: true, wait_timeout: 30 }, { ...opts(), vars: { replicas: 2 } });
    expect(out.status).toBe('changed');
    const d = api.object('apps/v1', 'Deployment', 'waited', 'backend-paragon')!;
    expect(d.spec.replicas).toBe(2);
    expect(d.status.availableReplicas).toBe(2);
    expect(d.status.observedGeneration).toBe(d.metadata.generation);
  });

  test('wait: a rollout that does not finish in time is an error naming what is missing', async () => {
    const slow = await startFakeKubeApiServer({ rolloutDelayMs: 60_000 });
    try {
      const cfg = path.join(dir, 'slow-kubeconfig');
      await writeKubeconfig(cfg, slow.url, 'unused');
      await run(k8s, { definition: namespace, kubeconfig: cfg }, opts());
      await expect(run(k8s, { src: 'deployment.yaml', kubeconfig: cfg, wait: true, wait_timeout: 1 }, opts())).rejects.toThrow(
        /Deployment backend-paragon\/backend-paragon did not finish its rollout within 1 s: the new generation is not observed yet/,
      );
    } finally {
      await slow.close();
    }
  });

  test('wrong credentials are a clear error, and the token never shows', async () => {
    const cfg = path.join(dir, 'bad-kubeconfig');
    await writeKubeconfig(cfg, api.url, 'wrong-token-456');
    const err = (await run(k8s, { definition: namespace, kubeconfig: cfg }, opts()).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(/401 Unauthorized/);
    expect(err.message).not.toContain('wrong-token-456');
  });
});
