// What a real API server does not do on demand: answer 500, or drop the connection mid-request.
// A few lines of HTTP stand in for it here (discovery of v1, then the fault); everything else
// about the k8s module is tested against a real kube-apiserver (test/unit/modules/k8s.test.ts).
import { afterAll, beforeAll, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { k8s } from '../../modules/k8s.js';
import { run } from '../helpers/modules.js';

type Fault = 'status-500' | 'drop' | 'garbage';
let fault: Fault = 'status-500';
let server: http.Server;
let dir: string;
let kubeconfig: string;

const discovery = { kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'configmaps', kind: 'ConfigMap', namespaced: true, verbs: ['get', 'patch'] }] };

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/api/v1') {
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify(discovery));
    } else if (fault === 'drop') {
      req.socket.destroy();
    } else if (fault === 'garbage') {
      res.writeHead(502, { 'Content-Type': 'text/html' }).end('<html>Bad Gateway</html>');
    } else {
      const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'InternalError', code: 500, message: 'Internal error occurred: etcdserver: request timed out' };
      res.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify(status));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k8s-faults-'));
  kubeconfig = path.join(dir, 'kubeconfig');
  await fs.writeFile(
    kubeconfig,
    `current-context: f\nclusters: [{name: f, cluster: {server: "${url}"}}]\nusers: [{name: u, user: {token: faults-token}}]\ncontexts: [{name: f, context: {cluster: f, user: u}}]\n`,
  );
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

const configmap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app', namespace: 'apps' }, data: { a: '1' } };

test("a 500 from the server fails the task with the server's message and status", async () => {
  fault = 'status-500';
  await expect(run(k8s, { definition: configmap, kubeconfig })).rejects.toThrow('ConfigMap apps/app: Internal error occurred: etcdserver: request timed out (HTTP 500 InternalError)');
});

test('a dropped connection fails the task saying the server could not be reached, in check mode too', async () => {
  fault = 'drop';
  for (const check of [true, false]) {
    await expect(run(k8s, { definition: configmap, kubeconfig }, { check })).rejects.toThrow(/^ConfigMap apps\/app: cannot reach the API server http:\/\/127\.0\.0\.1:\d+ \(context f\): ECONNRESET$/);
  }
});

test('an answer that is not a Status object (a proxy in between) still names the request and the HTTP status', async () => {
  fault = 'garbage';
  await expect(run(k8s, { definition: configmap, kubeconfig })).rejects.toThrow(
    'ConfigMap apps/app: GET /api/v1/namespaces/apps/configmaps/app: the answer holds no Kubernetes Status (HTTP 502 Bad Gateway)',
  );
});
