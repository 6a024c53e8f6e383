// The blog's last section, automated (issue 17): on a lab converged by site.yml, the k8s-app
// role writes the backend's .env from the inventory (the app database of the PostgreSQL roles,
// through pgpool), the Secret from it, the Deployment, the ClusterIP Service and the CoreDNS
// names, on a real kube-apiserver + controller-manager on this machine (a stand-in kubelet makes
// the pods ready). Then a stand-in for the Go backend runs on the controller with the Secret's
// environment, connects with both URLs through the lab's pgpool (names resolved by the Corefile's
// hosts block, as CoreDNS would), and runs its migration; its row is read on every replica.
// Needs root; runs when PLINTH_LAB=1.
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { KubeObject } from '../../modules/k8s/client.js';
import { parseCorefile, type CorefileNode } from '../../modules/k8s/corefile.js';
import { blogCorefile } from '../fixtures/k8s/blog-corefile.js';
import { repoRoot } from '../helpers/cli.js';
import { startKubeApiServer, type KubeTestServer } from '../helpers/kube-apiserver.js';
import { standInForKubelet, type KubeletStandIn } from '../helpers/kube-node.js';
import { HOOK_TIMEOUT_MS, LabSession, PGPOOL, REPLICAS, changedCount, eventually, expectSuccess, hostSql, labAddress, log, newSecrets, type Secrets } from '../helpers/lab-cluster.js';

const NAMESPACE = 'backend-paragon';

/** name → address of every `hosts` block of the Corefile: what CoreDNS answers for those names. */
function corednsHosts(corefile: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (nodes: CorefileNode[]) => {
    for (const n of nodes) {
      if (n.kind !== 'block') continue;
      if (n.header.trim().startsWith('hosts')) {
        for (const c of n.children) {
          const [ip, ...names] = c.kind === 'line' ? c.text.trim().split(/\s+/) : [];
          if (ip && ip !== 'fallthrough') for (const name of names) out[name] = ip;
        }
      } else {
        walk(n.children);
      }
    }
  };
  walk(parseCorefile(corefile));
  return out;
}

async function secretEnv(api: KubeTestServer, name: string): Promise<Record<string, string>> {
  const secret = (await api.client.request('GET', `/api/v1/namespaces/${NAMESPACE}/secrets/${name}`)) as KubeObject;
  return Object.fromEntries(Object.entries(secret.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

async function corednsHostsOf(api: KubeTestServer): Promise<Record<string, string>> {
  const configmap = (await api.client.request('GET', '/api/v1/namespaces/kube-system/configmaps/coredns')) as KubeObject;
  return corednsHosts((configmap.data as Record<string, string>).Corefile);
}

function runStandIn(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // Only the pod's environment (and PATH for node): nothing of this machine's PG* variables.
    const child = spawn(process.execPath, [path.join(repoRoot, 'test', 'fixtures', 'k8s', 'standin-backend.mjs')], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the blog's backend on Kubernetes, against the converged lab", { timeout: 15 * 60_000 }, () => {
  let lab: LabSession;
  let secrets: Secrets;
  let secretsFile: string;
  let api: KubeTestServer;
  let kubelet: KubeletStandIn;
  const t0 = Date.now();

  const k8sApp = (label: string, ...extra: string[]) =>
    lab.plinth(label, ['run', '-i', lab.inventory, 'playbooks/k8s-app.yml', '-e', `@${secretsFile}`, '-e', `k8s_kubeconfig=${api.kubeconfig}`, ...extra]);

  beforeAll(async () => {
    lab = await LabSession.open('k8s-backend');
    secrets = newSecrets();
    secretsFile = await lab.writeSecrets('secrets.yml', secrets);
    expectSuccess(await lab.run('converge', [secretsFile]));
    api = await startKubeApiServer({ controllerManager: true });
    // CoreDNS's ConfigMap as kubeadm creates it.
    const configmap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: blogCorefile } };
    await api.client.request('POST', '/api/v1/namespaces/kube-system/configmaps?fieldManager=kubeadm', { body: JSON.stringify(configmap) });
    kubelet = await standInForKubelet(api, NAMESPACE);
  }, HOOK_TIMEOUT_MS);

  afterAll(async () => {
    log(`k8s backend suite: ${Math.round((Date.now() - t0) / 1000)} s`);
    await kubelet?.stop();
    await api?.stop();
    await lab?.close();
  }, 5 * 60_000);

  test('k8s-app: .env from the inventory, Secret, Deployment (rolled out), Service and CoreDNS names; a second run changes nothing', async () => {
    const first = await k8sApp('k8s-app');
    expectSuccess(first);
    expect(changedCount(first)).toBe(5);
    const again = await k8sApp('k8s-app again');
    expectSuccess(again);
    expect(changedCount(again)).toBe(0);

    const pgpool = await labAddress(PGPOOL);
    expect(await corednsHostsOf(api)).toEqual({ 'pgpool.write.db.internal': pgpool, 'pgpool.read.db.internal': pgpool });

    const env = await secretEnv(api, 'backend-paragon-secret');
    expect(Object.keys(env).sort()).toEqual(['READ_DATABASE_URL', 'WRITE_DATABASE_URL']);
    // The URLs as the backend reads them: no quotes, the password percent-encoded, the app database.
    for (const [key, name] of [
      ['WRITE_DATABASE_URL', 'pgpool.write.db.internal'],
      ['READ_DATABASE_URL', 'pgpool.read.db.internal'],
    ]) {
      const url = new URL(env[key]);
      expect({ protocol: url.protocol, host: url.hostname, port: url.port, user: url.username, database: url.pathname, query: url.search }).toEqual({
        protocol: 'postgres:',
        host: name,
        port: '5432',
        user: 'app',
        database: '/app',
        query: '?sslmode=disable',
      });
      expect(decodeURIComponent(url.password)).toBe(secrets.app_password);
    }

    const deployment = (await api.client.request('GET', `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/backend-paragon`)) as KubeObject;
    expect(deployment.status).toMatchObject({ availableReplicas: 3, updatedReplicas: 3 });
    const service = (await api.client.request('GET', `/api/v1/namespaces/${NAMESPACE}/services/backend-paragon`)) as KubeObject;
    expect(service.spec).toMatchObject({ type: 'ClusterIP', ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] });
  });

  test("the stand-in backend, with the Secret's environment, connects with both URLs through pgpool and runs its migration; the row is on every replica", async () => {
    const env = await secretEnv(api, 'backend-paragon-secret');
    const hosts = await corednsHostsOf(api);

    const backend = await runStandIn({ ...env, STANDIN_COREDNS_HOSTS: JSON.stringify(hosts) });
    lab.keep('stand-in backend stdout', backend.stdout);
    lab.keep('stand-in backend stderr', backend.stderr);
    expect(backend.code, backend.stderr).toBe(0);
    const lines = backend.stdout.trim().split('\n');
    expect(lines.slice(0, 4)).toEqual(['✅ Connected to WRITE DB', '✅ Connected to READ DB', 'Running schema migration...', 'DB Initialized']);
    expect(JSON.parse(lines[4])).toEqual({ migrations: ['0001_create_posts'], user: 'app', database: 'app' });

    for (const replica of REPLICAS) {
      await eventually(async () => {
        expect(await hostSql(replica, 'SELECT version, pg_is_in_recovery() FROM schema_migrations', 'app')).toEqual([['0001_create_posts', 't']]);
      }, 120_000);
      expect(await hostSql(replica, "SELECT tableowner FROM pg_tables WHERE tablename = 'posts'", 'app')).toEqual([['app']]);
    }
  });

  test("the blog's own .env, its values quoted: the Secret gets the URLs without the quotes, and the backend connects with it", async () => {
    const urls = await secretEnv(api, 'backend-paragon-secret');
    const dir = path.join(lab.tmp, 'quoted-env');
    await fs.mkdir(path.join(dir, 'files'), { recursive: true });
    // What the blog first wrote, and what made the Go server fail to parse its URL.
    await fs.writeFile(path.join(dir, 'files', 'backend.env'), `WRITE_DATABASE_URL="${urls.WRITE_DATABASE_URL}"\nREAD_DATABASE_URL='${urls.READ_DATABASE_URL}'\n`, { mode: 0o600 });
    await fs.writeFile(
      path.join(dir, 'quoted.yml'),
      [
        '- hosts: localhost',
        '  gather_facts: false',
        '  tasks:',
        '    - name: Secret from the hand-written .env',
        '      k8s:',
        '        kubeconfig: "{{ k8s_kubeconfig }}"',
        `        secret_from_env: {name: backend-paragon-quoted, namespace: ${NAMESPACE}, env_file: backend.env}`,
        '',
      ].join('\n'),
    );
    const r = await lab.plinth('quoted .env', ['run', '-i', lab.inventory, path.join(dir, 'quoted.yml'), '-e', `k8s_kubeconfig=${api.kubeconfig}`]);
    expectSuccess(r);
    expect(changedCount(r)).toBe(1);
    expect(await secretEnv(api, 'backend-paragon-quoted')).toEqual(urls);

    const backend = await runStandIn({ ...(await secretEnv(api, 'backend-paragon-quoted')), STANDIN_COREDNS_HOSTS: JSON.stringify(await corednsHostsOf(api)) });
    lab.keep('stand-in backend (quoted .env) stdout', backend.stdout);
    lab.keep('stand-in backend (quoted .env) stderr', backend.stderr);
    expect(backend.code, backend.stderr).toBe(0);
    expect(backend.stdout).toContain('✅ Connected to WRITE DB\n✅ Connected to READ DB\n');
  });
});
