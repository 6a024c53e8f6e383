// coredns_hosts against a real kube-apiserver (test/helpers/kube-apiserver.ts), with the
// ConfigMap kube-system/coredns created as kubeadm creates it (an update by manager kubeadm).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { corednsHosts } from '../../../modules/coredns_hosts.js';
import type { KubeObject } from '../../../modules/k8s/client.js';
import { startKubeApiServer, type KubeTestServer } from '../../helpers/kube-apiserver.js';
import { localHost, run, schemaProblems } from '../../helpers/modules.js';
import { makeModuleContext } from '../../../engine/run/context.js';
import { validateAgainst } from '../../../engine/schema-validation.js';
import { blogCorefile, blogHosts } from '../../fixtures/k8s/blog-corefile.js';

const corefile = blogCorefile;
const entries = blogHosts;

let api: KubeTestServer;
let kubeconfig: string;

beforeAll(async () => {
  api = await startKubeApiServer();
  kubeconfig = api.kubeconfig;
  const configmap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: corefile, other: 'kept' } };
  await api.client.request('POST', '/api/v1/namespaces/kube-system/configmaps?fieldManager=kubeadm', { body: JSON.stringify(configmap) });
});

afterAll(async () => {
  await api?.stop();
});

const stored = async () => (await api.client.request('GET', '/api/v1/namespaces/kube-system/configmaps/coredns')) as KubeObject & { data: Record<string, string> };

test('schema checks the IPs', () => {
  expect(schemaProblems(corednsHosts, { entries: [{ ip: '192.168.1.300', names: ['a.b'] }] }).length).toBeGreaterThan(0);
  expect(schemaProblems(corednsHosts, { entries })).toEqual([]);
});

test('check mode shows the Corefile change and writes nothing; apply merges; second run is ok', async () => {
  const rv = (await stored()).metadata.resourceVersion;
  const check = await run(corednsHosts, { entries, kubeconfig }, { check: true });
  expect(check.status).toBe('changed');
  expect(check.diffs[0].before).toBe(corefile);
  expect(check.diffs[0].after).toContain('    hosts {\n      192.168.1.37 pgpool.write.db.internal\n      192.168.1.31 pgpool.read.db.internal\n      fallthrough\n    }\n');
  expect(check.diffs[0].secret).toBeFalsy();
  expect((await stored()).metadata.resourceVersion).toBe(rv);

  const first = await run(corednsHosts, { entries, kubeconfig });
  expect(first.status).toBe('changed');
  const after = await stored();
  // Every line of the original Corefile is still there, in order.
  const lines = after.data.Corefile.split('\n');
  let at = 0;
  for (const line of corefile.split('\n')) {
    at = lines.indexOf(line, at);
    expect(at).toBeGreaterThanOrEqual(0);
  }
  expect(lines.length).toBe(corefile.split('\n').length + 5);
  expect(after.data.other).toBe('kept');

  const again = await run(corednsHosts, { entries, kubeconfig });
  expect(again.status).toBe('ok');
  expect((await stored()).metadata.resourceVersion).toBe(after.metadata.resourceVersion);
});

test('changing the entries replaces them in the same block', async () => {
  await run(corednsHosts, { entries, kubeconfig });
  const moved = [{ ip: '192.168.1.40', names: ['pgpool.write.db.internal'] }, entries[1]];
  const out = await run(corednsHosts, { entries: moved, kubeconfig });
  expect(out.status).toBe('changed');
  const text: string = (await stored()).data.Corefile;
  expect(text).toContain('      192.168.1.40 pgpool.write.db.internal\n      192.168.1.31 pgpool.read.db.internal\n      fallthrough\n');
  expect(text).not.toContain('192.168.1.37');
  expect(text.match(/hosts \{/g)).toHaveLength(1);
});

test('a missing ConfigMap is a clear error', async () => {
  await expect(run(corednsHosts, { entries, kubeconfig, configmap: 'nope' })).rejects.toThrow(/ConfigMap kube-system\/nope does not exist/);
});

test('the write takes the Corefile key from kubeadm and leaves it its other keys; a Corefile edited between read and write is refused', async () => {
  await run(corednsHosts, { entries, kubeconfig });
  const fields = (await stored()).metadata.managedFields as { manager: string; fieldsV1: { 'f:data'?: Record<string, unknown> } }[];
  const ownerOf = (key: string) => fields.filter((m) => m.fieldsV1['f:data']?.[`f:${key}`]).map((m) => m.manager);
  expect(ownerOf('Corefile')).toEqual(['plinth']);
  expect(ownerOf('other')).toEqual(['kubeadm']);

  const args: Record<string, unknown> = { entries: [{ ip: '192.168.1.41', names: ['pgpool.write.db.internal'] }], kubeconfig };
  expect(validateAgainst(corednsHosts.schema, args)).toEqual([]);
  const ctx = makeModuleContext({ host: localHost, check: false });
  const observed = await corednsHosts.observe(ctx, args as never);
  const plan = await corednsHosts.plan(observed, args as never, ctx);
  expect(plan).toMatchObject({ changed: true });
  const edited = `${(await stored()).data.Corefile}# edited by hand\n`;
  await api.client.request('PATCH', '/api/v1/namespaces/kube-system/configmaps/coredns?fieldManager=kubectl-edit', {
    body: JSON.stringify({ data: { Corefile: edited } }),
    contentType: 'application/merge-patch+json',
  });
  await expect(corednsHosts.apply(ctx, (plan as unknown as { action: never }).action, args as never)).rejects.toThrow(
    /ConfigMap kube-system\/coredns: .*the object has been modified.*\(HTTP 409 Conflict\)/,
  );
  expect((await stored()).data.Corefile).toBe(edited);
});
