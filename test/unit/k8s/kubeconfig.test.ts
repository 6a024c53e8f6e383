import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { execFileSync } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kubeconfigFiles, loadKubeconfig } from '../../../modules/k8s/kubeconfig.js';
import { KubeClient } from '../../../modules/k8s/client.js';
import { startFakeKubeApiServer } from '../../helpers/fake-kube-apiserver.js';

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
    const a = await write('a', 'clusters:\n- name: c1\n  cluster: {server: "https://one:6443/"}\ncontexts:\n- name: ctx1\n  context: {cluster: c1, user: u1, namespace: apps}\nusers:\n- name: u1\n  user: {token: first-token}\n');
    const b = await write('b', 'current-context: ctx1\nclusters:\n- name: c1\n  cluster: {server: "https://ignored:6443"}\n- name: c2\n  cluster: {server: "http://two:8080", insecure-skip-tls-verify: true}\ncontexts:\n- name: ctx2\n  context: {cluster: c2, user: u2}\nusers:\n- name: u2\n  user: {username: admin, password: pw}\n');
    const env = { KUBECONFIG: `${a}${path.delimiter}${path.join(dir, 'missing')}${path.delimiter}${b}`, HOME: dir };
    expect(kubeconfigFiles(undefined, env)).toEqual([a, path.join(dir, 'missing'), b]);
    const one = loadKubeconfig({ env });
    expect(one).toMatchObject({ context: 'ctx1', server: 'https://one:6443', namespace: 'apps', token: 'first-token' });
    const two = loadKubeconfig({ env, context: 'ctx2' });
    expect(two).toMatchObject({ context: 'ctx2', server: 'http://two:8080', namespace: 'default', username: 'admin', password: 'pw', insecureSkipTlsVerify: true });
  });

  test('~/.kube/config when KUBECONFIG is not set; clear errors', async () => {
    await fs.mkdir(path.join(dir, 'home', '.kube'), { recursive: true });
    await fs.writeFile(path.join(dir, 'home', '.kube', 'config'), 'current-context: x\ncontexts: [{name: x, context: {cluster: y, user: z}}]\nclusters: [{name: y, cluster: {server: "https://h"}}]\nusers: [{name: z, user: {exec: {command: aws}}}]\n');
    const env = { HOME: path.join(dir, 'home') };
    expect(kubeconfigFiles(undefined, env)).toEqual([path.join(dir, 'home', '.kube', 'config')]);
    expect(() => loadKubeconfig({ env })).toThrow(/exec\/auth-provider plugin, which plinth does not run/);
    expect(() => loadKubeconfig({ env, context: 'nope' })).toThrow(/context "nope" not found/);
    expect(() => loadKubeconfig({ env: { HOME: path.join(dir, 'nohome') } })).toThrow(/no kubeconfig found/);
    expect(() => loadKubeconfig({ kubeconfig: path.join(dir, 'absent') })).toThrow(/does not exist/);
  });
});

describe('TLS with a CA file and a client certificate (the fake requires one)', () => {
  test('discovery and GET over https with mutual TLS; a wrong CA is refused', async () => {
    const tls = path.join(dir, 'tls');
    await fs.mkdir(tls);
    const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: tls, stdio: 'pipe' });
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=fake-ca');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
    await fs.writeFile(path.join(tls, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
    ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '1', '-extfile', 'san.ext');
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'client.key', '-out', 'client.csr', '-subj', '/CN=plinth');
    ssl('x509', '-req', '-in', 'client.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'client.crt', '-days', '1');
    const read = (f: string) => fs.readFile(path.join(tls, f));
    const api = await startFakeKubeApiServer({ tls: { key: await read('server.key'), cert: await read('server.crt'), ca: await read('ca.crt'), requestCert: true } });
    try {
      const clientCert = (await read('client.crt')).toString('base64');
      const cfg = await write(
        'tls-config',
        `current-context: t\nclusters: [{name: t, cluster: {server: "${api.url}", certificate-authority: tls/ca.crt}}]\nusers: [{name: u, user: {client-certificate-data: ${clientCert}, client-key: tls/client.key}}]\ncontexts: [{name: t, context: {cluster: t, user: u}}]\n`,
      );
      const client = new KubeClient(loadKubeconfig({ kubeconfig: cfg }));
      expect(await client.resourceFor('apps/v1', 'Deployment')).toEqual({ name: 'deployments', namespaced: true });
      expect(await client.resourceFor('v1', 'Namespace')).toEqual({ name: 'namespaces', namespaced: false });
      expect(await client.get({ apiVersion: 'v1', kind: 'Namespace', name: 'absent' })).toBeNull();

      const noCert = new KubeClient({ ...loadKubeconfig({ kubeconfig: cfg }), cert: undefined, key: undefined });
      await expect(noCert.get({ apiVersion: 'v1', kind: 'Namespace', name: 'x' })).rejects.toThrow(/cannot reach the API server/);
      const wrongCa = new KubeClient({ ...loadKubeconfig({ kubeconfig: cfg }), ca: await read('client.crt') });
      await expect(wrongCa.get({ apiVersion: 'v1', kind: 'Namespace', name: 'x' })).rejects.toThrow(/cannot reach the API server/);
    } finally {
      await api.close();
    }
  });
});
