// roles/k8s-app through the real CLI (`plinth run playbooks/k8s-app.yml`) against a real
// kube-apiserver and kube-controller-manager (test/helpers/kube-apiserver.ts), with a stand-in
// kubelet so that the Deployment's rollout completes. "Nothing written" is proven by
// resourceVersions that do not move; "no API call" by a kubeconfig whose server is a dead port.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { KubeObject } from '../../../modules/k8s/client.js';
import { startKubeApiServer, type KubeTestServer } from '../../helpers/kube-apiserver.js';
import { standInForKubelet, type KubeletStandIn } from '../../helpers/kube-node.js';
import { plinth, plinthJson, recapOf, statuses, type CliResult } from '../../helpers/cli.js';
import { blogCorefile as kubeadmCorefile } from '../../fixtures/k8s/blog-corefile.js';

const playbook = 'playbooks/k8s-app.yml';
const ns = 'backend-paragon';
const deadServer = 'http://127.0.0.1:9';

// The blog's Corefile as kubeadm leaves it (no hosts block), and as the blog ends up with it.
const blogCorefile = kubeadmCorefile.replace(
  '    prometheus :9153\n',
  '    hosts {\n      192.168.1.37 pgpool.write.db.internal\n      192.168.1.31 pgpool.read.db.internal\n      fallthrough\n    }\n    prometheus :9153\n',
);

// The blog's addresses: pgpool 192.168.1.37, and reads through the master, 192.168.1.31.
const inventory = `all:
  hosts:
    localhost: {ansible_connection: local}
  children:
    pgpool:
      hosts:
        pgpool: {ansible_host: 192.168.1.37}
    primary:
      hosts:
        pg-primary: {ansible_host: 192.168.1.31}
`;

// Characters that URL-encoding and base64 change, and a '#' that would cut an unquoted .env value.
const password1 = "Pa55:w/rd#1@x'y";
const password2 = 'N3w&p%ss?w0rd';

let api: KubeTestServer;

/** A kubeconfig with one context per server URL; the test server's CA and token for all of them. */
async function kubeconfigFor(contexts: Record<string, string>, current: string): Promise<string> {
  const ca = (await fs.readFile(path.join(api.dir, 'ca.crt'))).toString('base64');
  const names = Object.keys(contexts);
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${current}`,
    'clusters:',
    ...names.map((n) => `- name: ${n}\n  cluster:\n    server: ${contexts[n]}\n    certificate-authority-data: ${ca}`),
    'users:',
    `- name: u\n  user: {token: ${api.token}}`,
    'contexts:',
    ...names.map((n) => `- name: ${n}\n  context: {cluster: ${n}, user: u}`),
    '',
  ].join('\n');
}

async function getObject(p: string): Promise<KubeObject | undefined> {
  try {
    return (await api.client.request('GET', p)) as KubeObject;
  } catch (e) {
    if ((e as { status?: number }).status === 404) return undefined;
    throw e;
  }
}
const paths = (namespace: string) => ({
  namespace: `/api/v1/namespaces/${namespace}`,
  secret: `/api/v1/namespaces/${namespace}/secrets/backend-paragon-secret`,
  deployment: `/apis/apps/v1/namespaces/${namespace}/deployments/backend-paragon`,
  service: `/api/v1/namespaces/${namespace}/services/backend-paragon`,
  coredns: '/api/v1/namespaces/kube-system/configmaps/coredns',
});
const deployment = async (namespace = ns) => (await getObject(paths(namespace).deployment)) as KubeObject & { spec: any; status?: any };
const corefile = async () => ((await getObject(paths(ns).coredns))!.data as Record<string, string>).Corefile;

/** The resourceVersion of every object the role writes (undefined: absent). */
async function versions(namespace = ns): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [k, p] of Object.entries(paths(namespace))) out[k] = (await getObject(p))?.metadata.resourceVersion;
  return out;
}

function urlFor(password: string, host: string): string {
  return `postgres://app:${encodeURIComponent(password)}@${host}:5432/app?sslmode=disable`;
}

/** Every form in which a password could leak: as is, base64 (unpadded), URL-encoded, and the Secret values. */
function leakForms(password: string): string[] {
  const b64 = (s: string) => Buffer.from(s).toString('base64').replace(/=+$/, '');
  const urls = [urlFor(password, 'pgpool.write.db.internal'), urlFor(password, 'pgpool.read.db.internal')];
  return [password, b64(password), encodeURIComponent(password), ...urls, ...urls.map(b64)];
}

function expectNoLeak(r: CliResult, password: string): void {
  const all = r.stdout + r.stderr;
  for (const form of leakForms(password)) expect(all, `output holds a form of the password: ${form}`).not.toContain(form);
}

async function secretData(namespace = ns): Promise<Record<string, string>> {
  const secret = await getObject(paths(namespace).secret);
  expect(secret, 'the Secret exists').toBeDefined();
  return Object.fromEntries(Object.entries(secret!.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

let dir: string;
let inventoryFile: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k8s-app-role-'));
  inventoryFile = path.join(dir, 'inventory.yml');
  await fs.writeFile(inventoryFile, inventory);
  api = await startKubeApiServer({ controllerManager: true });
  // CoreDNS's ConfigMap as kubeadm creates it.
  const configmap = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: kubeadmCorefile } };
  await api.client.request('POST', '/api/v1/namespaces/kube-system/configmaps?fieldManager=kubeadm', { body: JSON.stringify(configmap) });
});

afterAll(async () => {
  await api?.stop();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('the blog backend on a cluster, from the cluster inventory', () => {
  let kubeconfig: string;
  let kubelet: KubeletStandIn;
  // No ~/.kube/config or $KUBECONFIG of the machine: only the kubeconfig given as a variable.
  const env = () => ({ HOME: dir, KUBECONFIG: undefined });
  const args = (...extra: string[]) => [
    '-i',
    inventoryFile,
    playbook,
    '-e',
    `k8s_kubeconfig=${kubeconfig}`,
    '-e',
    'k8s_read_db_host=pg-primary',
    '-e',
    JSON.stringify({ app_password: password1 }),
    ...extra,
  ];

  beforeAll(async () => {
    kubeconfig = path.join(dir, 'kubeconfig');
    await fs.writeFile(kubeconfig, await kubeconfigFor({ lab: api.url }, 'lab'));
    kubelet = await standInForKubelet(api, ns);
  });

  afterAll(async () => {
    await kubelet?.stop();
  });

  test('--check on a fresh cluster changes nothing and says what it cannot know yet', async () => {
    const before = await versions();
    const r = await plinthJson([...args('--check', '--diff')], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expectNoLeak(r, password1);
    expect(statuses(r.events)).toEqual([
      'The database hosts are known=ok',
      'The CoreDNS hosts entries are IP addresses=ok',
      'Namespace=changed',
      // The namespace does not exist yet: the server cannot dry-run what goes into it.
      'Secret with the database URLs (from a .env)=unknown',
      'Deployment=unknown',
      'ClusterIP Service=unknown',
      'CoreDNS names for the databases=changed',
    ]);
    expect(await versions()).toEqual(before);
    expect(before.namespace).toBeUndefined();
    expect(await corefile()).toBe(kubeadmCorefile);
  });

  test('the first run creates the namespace, Secret, Deployment, Service and CoreDNS names, and waits for the rollout', async () => {
    const r = await plinthJson(args(), { env: env() });
    expectNoLeak(r, password1);
    expect(r.code, r.stderr).toBe(0);
    expect(recapOf(r.events).localhost).toMatchObject({ changed: 5, failed: 0 });
    // k8s_wait: the run returned once all 3 replicas were available (the stand-in kubelet made them ready).
    const d = await deployment();
    expect(d.status).toMatchObject({ availableReplicas: 3, updatedReplicas: 3, observedGeneration: d.metadata.generation });

    expect(await getObject(paths(ns).namespace)).toBeDefined();

    // The values are the URLs themselves: no quotes, the password percent-encoded, parseable.
    const data = await secretData();
    expect(data).toEqual({
      READ_DATABASE_URL: urlFor(password1, 'pgpool.read.db.internal'),
      WRITE_DATABASE_URL: urlFor(password1, 'pgpool.write.db.internal'),
    });
    for (const url of Object.values(data)) {
      expect(url).toMatch(/^postgres:\/\/app:[^\s"`]+@pgpool\.(read|write)\.db\.internal:5432\/app\?sslmode=disable$/);
      expect(decodeURIComponent(new URL(url).password)).toBe(password1);
    }

    expect(d.metadata.labels).toEqual({ app: 'backend-paragon' });
    expect(d.spec.replicas).toBe(3);
    expect(d.spec.selector).toEqual({ matchLabels: { app: 'backend-paragon' } });
    expect(d.spec.template.metadata.labels).toEqual({ app: 'backend-paragon' });
    const [container, ...others] = d.spec.template.spec.containers;
    expect(others).toEqual([]);
    expect(container).toMatchObject({
      name: 'backend',
      image: 'ghcr.io/lgkentang/backend-paragon:0.1.0-dev',
      ports: [{ containerPort: 8080, protocol: 'TCP' }],
      envFrom: [{ secretRef: { name: 'backend-paragon-secret' } }],
    });
    // The pods follow the Secret: its resourceVersion is in the pod template.
    const secret = (await getObject(paths(ns).secret))!;
    expect(d.spec.template.metadata.annotations).toEqual({ 'plinth/secret-resource-version': secret.metadata.resourceVersion });

    const svc = (await getObject(paths(ns).service))! as KubeObject & { spec: any };
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', selector: { app: 'backend-paragon' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] });
    expect(svc.spec.clusterIP).toMatch(/^10\.0\.0\.\d+$/);

    // The blog's Corefile, to the byte: every other line kept, the hosts block after kubernetes.
    expect(await corefile()).toBe(blogCorefile);
  });

  test('the second run changes nothing', async () => {
    const before = await versions();
    const r = await plinthJson(args(), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expectNoLeak(r, password1);
    expect(recapOf(r.events).localhost).toMatchObject({ ok: 7, changed: 0, failed: 0, unknown: 0 });
    expect(r.events.filter((e) => e.type === 'result' && e.status === 'changed')).toEqual([]);
    const after = await versions();
    // The Deployment's status may still move (the controller); its spec and every other object do not.
    expect({ ...after, deployment: undefined }).toEqual({ ...before, deployment: undefined });
    expect((await deployment()).metadata.generation).toBe(1);
  });

  test('--check after the first run: nothing to change, nothing changed', async () => {
    const before = await versions();
    const r = await plinthJson(args('--check', '--diff'), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(recapOf(r.events).localhost).toMatchObject({ changed: 0, failed: 0, unknown: 0 });
    expect({ ...(await versions()), deployment: undefined }).toEqual({ ...before, deployment: undefined });
  });

  test('kubectl scale during an incident: --check names the field and its manager, the run scales back to 3, the next run is ok', async () => {
    // `kubectl scale deploy backend-paragon --replicas=1`: the scale subresource, field manager kubectl.
    await api.client.request('PATCH', `${paths(ns).deployment}/scale?fieldManager=kubectl`, {
      body: JSON.stringify({ spec: { replicas: 1 } }),
      contentType: 'application/merge-patch+json',
    });
    const check = await plinth(['run', ...args('--check')], { env: env() });
    expect(check.code, check.stderr).toBe(0);
    expect(check.stdout).toContain('taking back from other field managers: .spec.replicas: kubectl (scale) 1 → 3');
    // The pull-request report says it too.
    const report = path.join(dir, 'scale-report.md');
    const plan = await plinth(['plan', ...args('--report', report, '-o', path.join(dir, 'scale-plan.json'), '--detailed-exitcode')], { env: env() });
    expect(plan.code, plan.stderr).toBe(2);
    const markdown = await fs.readFile(report, 'utf8');
    expect(markdown).toContain('taking back from other field managers: .spec.replicas: kubectl (scale) 1 → 3');
    for (const form of leakForms(password1)) expect(markdown).not.toContain(form);
    expect((await deployment()).spec.replicas).toBe(1);

    const r = await plinthJson(args(), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(statuses(r.events).filter((s) => s.endsWith('=changed'))).toEqual(['Deployment=changed']);
    const d = await deployment();
    expect(d.spec.replicas).toBe(3);
    expect(d.status).toMatchObject({ availableReplicas: 3 });
    const again = await plinthJson(args(), { env: env() });
    expect(recapOf(again.events).localhost).toMatchObject({ changed: 0, failed: 0 });
  });

  test('a new app_password: --check and --diff name the Secret keys only, and the pods restart', async () => {
    const newArgs = (...extra: string[]) => args('-e', JSON.stringify({ app_password: password2 }), ...extra);
    const before = await versions();
    const check = await plinth(['run', ...newArgs('--check', '--diff', '-vv')], { env: env() });
    expect(check.code, check.stderr).toBe(0);
    expect({ ...(await versions()), deployment: undefined }).toEqual({ ...before, deployment: undefined });
    for (const p of [password1, password2]) expectNoLeak(check, p);
    expect(check.stdout).toMatch(/READ_DATABASE_URL: \(changed\)/);
    expect(check.stdout).toMatch(/WRITE_DATABASE_URL: \(changed\)/);
    // In check mode the Deployment shows that its pods would restart.
    expect(check.stdout).toMatch(/\+ +plinth\/secret-resource-version: "?pending"?$/m);

    const r = await plinthJson(newArgs('--diff', '-v'), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    for (const p of [password1, password2]) expectNoLeak(r, p);
    expect(statuses(r.events).filter((s) => s.endsWith('=changed'))).toEqual(['Secret with the database URLs (from a .env)=changed', 'Deployment=changed']);
    const secretResult = r.events.find((e) => e.type === 'result' && e.task === 'Secret with the database URLs (from a .env)')!;
    const [diff, ...moreDiffs] = secretResult.diff as { before: string; after: string }[];
    expect(moreDiffs).toEqual([]);
    expect(diff.before).toMatch(/^  READ_DATABASE_URL: \(hidden\)$/m);
    expect(diff.after).toMatch(/^  READ_DATABASE_URL: \(changed\)$/m);
    expect(diff.after).toMatch(/^  WRITE_DATABASE_URL: \(changed\)$/m);

    expect(await secretData()).toEqual({
      READ_DATABASE_URL: urlFor(password2, 'pgpool.read.db.internal'),
      WRITE_DATABASE_URL: urlFor(password2, 'pgpool.write.db.internal'),
    });
    const secret = (await getObject(paths(ns).secret))!;
    expect(secret.metadata.resourceVersion).not.toBe(before.secret);
    const d = await deployment();
    expect(d.spec.template.metadata.annotations['plinth/secret-resource-version']).toBe(secret.metadata.resourceVersion);
    // The restart is a real rollout: new pods, all available, old ones gone.
    expect(d.status).toMatchObject({ availableReplicas: 3, updatedReplicas: 3, replicas: 3 });
  });

  test('a database URL that is not a PostgreSQL URL fails at its .env line, before the Secret is written', async () => {
    const bad = 'mysql://app:hunter22@db.example:3306/app';
    const before = await versions();
    const r = await plinth(['run', ...args('-e', `k8s_write_database_url=${bad}`)], { env: env() });
    expect(r.code).toBe(2);
    const all = r.stdout + r.stderr;
    expect(all).toMatch(/templates\/k8s\/backend\.env\.ejs \(rendered\):5: WRITE_DATABASE_URL: is not a PostgreSQL URL/);
    expect(all).not.toContain('hunter22');
    expect(all).not.toContain(bad);
    expect((await versions()).secret).toBe(before.secret);
  });

  test('a value that breaks the .env line structure fails with the file and line', async () => {
    const r = await plinth(['run', ...args('-e', JSON.stringify({ k8s_read_database_url: 'postgres://app:pw@db:5432/x\nnot an assignment' }))], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/backend\.env\.ejs \(rendered\):5: not a KEY=value line/);
  });
});

describe('other inventories and kubeconfigs', () => {
  test('without a pgpool group in the inventory the role fails with a message that says what to set, before any API call', async () => {
    const kubeconfig = path.join(dir, 'kubeconfig-nopgpool');
    await fs.writeFile(kubeconfig, await kubeconfigFor({ dead: deadServer }, 'dead'));
    // No -i: only the implicit localhost.
    const r = await plinth(['run', playbook, '-e', `k8s_kubeconfig=${kubeconfig}`, '-e', JSON.stringify({ app_password: password1 })], {
      env: { HOME: dir, KUBECONFIG: undefined },
    });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/no host in group 'pgpool' or 'primary'.*set\s+k8s_write_db_host/s);
    expect(r.stdout + r.stderr).not.toMatch(/cannot reach/);
    expectNoLeak(r, password1);
  });

  test('a database host that is a name, not an address, is refused for CoreDNS before any API call', async () => {
    const kubeconfig = path.join(dir, 'kubeconfig-names');
    await fs.writeFile(kubeconfig, await kubeconfigFor({ dead: deadServer }, 'dead'));
    const r = await plinth(
      ['run', '-i', inventoryFile, playbook, '-e', `k8s_kubeconfig=${kubeconfig}`, '-e', 'k8s_read_db_host=replica.example.org', '-e', JSON.stringify({ app_password: password1 })],
      { env: { HOME: dir, KUBECONFIG: undefined } },
    );
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/CoreDNS hosts plugin needs IP addresses, got '192\.168\.1\.37'\s+\(write\) and 'replica\.example\.org' \(read\)/);
    expect(r.stdout + r.stderr).not.toMatch(/cannot reach/);
  });

  test('kubeconfig found like kubectl (~/.kube/config), context chosen by k8s_context, addresses given explicitly', async () => {
    const namespace = 'explicit-addresses';
    const kubelet = await standInForKubelet(api, namespace);
    const home = await fs.mkdtemp(path.join(dir, 'home-'));
    try {
      const corednsBefore = (await getObject(paths(namespace).coredns))!.metadata.resourceVersion;
      await fs.mkdir(path.join(home, '.kube'));
      // current-context points at a port where nothing listens: only the `lab` context can work.
      await fs.writeFile(path.join(home, '.kube', 'config'), await kubeconfigFor({ dead: deadServer, lab: api.url }, 'dead'));
      const r = await plinthJson(
        [
          playbook,
          '-e',
          'k8s_context=lab',
          '-e',
          `k8s_namespace=${namespace}`,
          '-e',
          'k8s_write_db_host=10.1.2.3',
          '-e',
          'k8s_read_db_host=10.1.2.4',
          '-e',
          'k8s_coredns=false',
          '-e',
          JSON.stringify({ app_password: password1 }),
        ],
        { env: { HOME: home, KUBECONFIG: undefined } },
      );
      expect(r.code, r.stderr + r.stdout).toBe(0);
      expectNoLeak(r, password1);
      // Without CoreDNS names the URLs hold the addresses; the CoreDNS task is skipped.
      expect(await secretData(namespace)).toEqual({ READ_DATABASE_URL: urlFor(password1, '10.1.2.4'), WRITE_DATABASE_URL: urlFor(password1, '10.1.2.3') });
      expect(statuses(r.events)).toContain('CoreDNS names for the databases=skipped');
      expect((await getObject(paths(namespace).coredns))!.metadata.resourceVersion).toBe(corednsBefore);
    } finally {
      await kubelet.stop();
    }
  });

  test('a rollout that does not finish within k8s_wait_timeout fails (no kubelet here); with k8s_wait false the run does not wait', async () => {
    const namespace = 'no-kubelet';
    const kubeconfig = path.join(dir, 'kubeconfig-slow');
    await fs.writeFile(kubeconfig, await kubeconfigFor({ lab: api.url }, 'lab'));
    const base = ['-i', inventoryFile, playbook, '-e', `k8s_kubeconfig=${kubeconfig}`, '-e', `k8s_namespace=${namespace}`, '-e', JSON.stringify({ app_password: password1 })];
    const slow = await plinth(['run', ...base, '-e', 'k8s_wait_timeout=1'], { env: { HOME: dir, KUBECONFIG: undefined } });
    expect(slow.code).toBe(2);
    expect(slow.stdout + slow.stderr).toMatch(new RegExp(`Deployment ${namespace}/backend-paragon did not finish its rollout within 1 s: .+; conditions: `));

    const noWait = await plinthJson([...base, '-e', 'k8s_wait=false', '-e', 'k8s_replicas=2'], { env: { HOME: dir, KUBECONFIG: undefined } });
    expect(noWait.code, noWait.stderr).toBe(0);
    expect(statuses(noWait.events)).toContain('Deployment=changed');
    const d = await deployment(namespace);
    expect(d.spec.replicas).toBe(2);
    expect(d.status?.availableReplicas ?? 0).toBe(0);
  });
});
