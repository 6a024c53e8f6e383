import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kubeconfigFiles, loadKubeconfig } from '../../../modules/k8s/kubeconfig.js';
import { KubeClient } from '../../../modules/k8s/client.js';
import { startKubeApiServer } from '../../helpers/kube-apiserver.js';

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'kubeconfig-'));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const write = async (name: string, text: string) => {
  const file = path.join(dir, name);
  await fs.writeFile(file, text);
  return file;
};

describe('kubeconfig like kubectl', () => {
  test('KUBECONFIG is a list; the first file that names a thing wins; current-context from the first that sets it', async () => {
    const a = await write(
      'a',
      'clusters:\n- name: c1\n  cluster: {server: "https://one:6443/"}\ncontexts:\n- name: ctx1\n  context: {cluster: c1, user: u1, namespace: apps}\nusers:\n- name: u1\n  user: {token: first-token}\n',
    );
    const b = await write(
      'b',
      'current-context: ctx1\nclusters:\n- name: c1\n  cluster: {server: "https://ignored:6443"}\n- name: c2\n  cluster: {server: "http://two:8080", insecure-skip-tls-verify: true}\ncontexts:\n- name: ctx2\n  context: {cluster: c2, user: u2}\nusers:\n- name: u2\n  user: {username: admin, password: pw}\n',
    );
    const env = { KUBECONFIG: `${a}${path.delimiter}${path.join(dir, 'missing')}${path.delimiter}${b}`, HOME: dir };
    expect(kubeconfigFiles(undefined, env)).toEqual([a, path.join(dir, 'missing'), b]);
    const one = loadKubeconfig({ env });
    expect(one).toMatchObject({ context: 'ctx1', server: 'https://one:6443', namespace: 'apps', token: 'first-token' });
    const two = loadKubeconfig({ env, context: 'ctx2' });
    expect(two).toMatchObject({ context: 'ctx2', server: 'http://two:8080', namespace: 'default', username: 'admin', password: 'pw', insecureSkipTlsVerify: true });
  });

  test('~/.kube/config when KUBECONFIG is not set; clear errors', async () => {
    await fs.mkdir(path.join(dir, 'home', '.kube'), { recursive: true });
    await fs.writeFile(
      path.join(dir, 'home', '.kube', 'config'),
      'current-context: x\ncontexts: [{name: x, context: {cluster: y, user: z}}]\nclusters: [{name: y, cluster: {server: "https://h"}}]\nusers: [{name: z, user: {exec: {command: aws}}}]\n',
    );
    const env = { HOME: path.join(dir, 'home') };
    expect(kubeconfigFiles(undefined, env)).toEqual([path.join(dir, 'home', '.kube', 'config')]);
    expect(() => loadKubeconfig({ env })).toThrow(/exec\/auth-provider plugin, which plinth does not run/);
    expect(() => loadKubeconfig({ env, context: 'nope' })).toThrow(/context "nope" not found/);
    expect(() => loadKubeconfig({ env: { HOME: path.join(dir, 'nohome') } })).toThrow(/no kubeconfig found/);
    expect(() => loadKubeconfig({ kubeconfig: path.join(dir, 'absent') })).toThrow(/does not exist/);
  });
});

describe('TLS with a CA file and a client certificate, against a real API server', () => {
  test('discovery and GET with a client certificate; without it the user is anonymous (403); a wrong CA is refused', async () => {
    const api = await startKubeApiServer();
    try {
      const admin = api.clientCertificate('plinth-admin', ['system:masters']);
      const clientCert = (await fs.readFile(admin.cert)).toString('base64');
      const cfg = await write(
        'tls-config',
        `current-context: t\nclusters: [{name: t, cluster: {server: "${api.url}", certificate-authority: ${path.relative(dir, admin.ca)}}}]\nusers: [{name: u, user: {client-certificate-data: ${clientCert}, client-key: ${admin.key}}}]\ncontexts: [{name: t, context: {cluster: t, user: u}}]\n`,
      );
      const client = new KubeClient(loadKubeconfig({ kubeconfig: cfg }));
      expect(await client.resourceFor('apps/v1', 'Deployment')).toEqual({ name: 'deployments', namespaced: true });
      expect(await client.resourceFor('v1', 'Namespace')).toEqual({ name: 'namespaces', namespaced: false });
      expect(await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'absent' })).toBeNull();
      expect((await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' }))?.metadata.name).toBe('kube-system');

      const noCert = new KubeClient({ ...loadKubeconfig({ kubeconfig: cfg }), cert: undefined, key: undefined });
      await expect(noCert.get({ apiVersion: 'v1', kind: 'Namespace', name: 'kube-system' })).rejects.toThrow(/forbidden: User "system:anonymous"/);
      const wrongCa = new KubeClient({ ...loadKubeconfig({ kubeconfig: cfg }), ca: await fs.readFile(admin.cert) });
      await expect(wrongCa.get({ apiVersion: 'v1', kind: 'Namespace', name: 'x' })).rejects.toThrow(/cannot reach the API server/);
    } finally {
      await api.stop();
    }
  });
});
