// coredns_hosts against test/helpers/fake-kube-apiserver.ts (a test double, not a cluster).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { corednsHosts } from '../../../modules/coredns_hosts.js';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../../helpers/fake-kube-apiserver.js';
import { run, schemaProblems } from '../../helpers/modules.js';
import { blogCorefile, blogHosts } from '../../fixtures/k8s/blog-corefile.js';

const corefile = blogCorefile;
const entries = blogHosts;

let api: FakeKubeApiServer;
let dir: string;
let kubeconfig: string;

beforeAll(async () => {
  api = await startFakeKubeApiServer();
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'coredns-'));
  kubeconfig = path.join(dir, 'config');
  await fs.writeFile(
    kubeconfig,
    `apiVersion: v1\nkind: Config\ncurrent-context: lab\nclusters:\n- name: lab\n  cluster:\n    server: ${api.url}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: lab\n  context: {cluster: lab, user: u}\n`,
  );
  api.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } }, 'kube-apiserver');
  api.seed(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: corefile, other: 'kept' } },
    'kubeadm',
  );
});

afterAll(async () => {
  await api.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const stored = () => api.object('v1', 'ConfigMap', 'coredns', 'kube-system')!;

test('schema checks the IPs', () => {
  expect(schemaProblems(corednsHosts, { entries: [{ ip: '192.168.1.300', names: ['a.b'] }] }).length).toBeGreaterThan(0);
  expect(schemaProblems(corednsHosts, { entries })).toEqual([]);
});

test('check mode shows the Corefile change and writes nothing; apply merges; second run is ok', async () => {
  const rv = stored().metadata.resourceVersion;
  const check = await run(corednsHosts, { entries, kubeconfig }, { check: true });
  expect(check.status).toBe('changed');
  expect(check.diffs[0].before).toBe(corefile);
  expect(check.diffs[0].after).toContain('    hosts {\n      192.168.1.37 pgpool.write.db.internal\n      192.168.1.31 pgpool.read.db.internal\n      fallthrough\n    }\n');
  expect(check.diffs[0].secret).toBeFalsy();
  expect(stored().metadata.resourceVersion).toBe(rv);

  const first = await run(corednsHosts, { entries, kubeconfig });
  expect(first.status).toBe('changed');
  const after = stored();
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
  expect(stored().metadata.resourceVersion).toBe(after.metadata.resourceVersion);
});

test('changing the entries replaces them in the same block', async () => {
  await run(corednsHosts, { entries, kubeconfig });
  const moved = [{ ip: '192.168.1.40', names: ['pgpool.write.db.internal'] }, entries[1]];
  const out = await run(corednsHosts, { entries: moved, kubeconfig });
  expect(out.status).toBe('changed');
  const text: string = stored().data.Corefile;
  expect(text).toContain('      192.168.1.40 pgpool.write.db.internal\n      192.168.1.31 pgpool.read.db.internal\n      fallthrough\n');
  expect(text).not.toContain('192.168.1.37');
  expect(text.match(/hosts \{/g)).toHaveLength(1);
});

test('a missing ConfigMap is a clear error', async () => {
  await expect(run(corednsHosts, { entries, kubeconfig, configmap: 'nope' })).rejects.toThrow(/ConfigMap kube-system\/nope does not exist/);
});
