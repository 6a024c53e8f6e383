// roles/k8s-app through the real CLI (`plinth run playbooks/k8s-app.yml`) against
// test/helpers/fake-kube-apiserver.ts — a test double of the API server, not a cluster.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startFakeKubeApiServer, type FakeKubeApiServer } from '../../helpers/fake-kube-apiserver.js';
import { plinth, plinthJson, recapOf, statuses, type CliResult } from '../../helpers/cli.js';
import { blogCorefile as kubeadmCorefile } from '../../fixtures/k8s/blog-corefile.js';

const playbook = 'playbooks/k8s-app.yml';
const ns = 'backend-paragon';

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

function kubeconfigFor(contexts: Record<string, string>, current: string): string {
  const names = Object.keys(contexts);
  return [
    'apiVersion: v1',
    'kind: Config',
    `current-context: ${current}`,
    'clusters:',
    ...names.map((n) => `- name: ${n}\n  cluster:\n    server: ${contexts[n]}`),
    'users:',
    '- name: u\n  user: {}',
    'contexts:',
    ...names.map((n) => `- name: ${n}\n  context: {cluster: ${n}, user: u}`),
    '',
  ].join('\n');
}

function seedKubeSystem(api: FakeKubeApiServer): void {
  api.seed({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } }, 'kube-apiserver');
  api.seed(
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: 'kube-system' }, data: { Corefile: kubeadmCorefile } },
    'kubeadm',
  );
}

function urlFor(password: string, host: string): string {
  return `postgres://app:${encodeURIComponent(password)}@${host}:5432/postgres?sslmode=disable`;
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

function secretData(api: FakeKubeApiServer, namespace = ns): Record<string, string> {
  const secret = api.object('v1', 'Secret', 'backend-paragon-secret', namespace);
  expect(secret, 'the Secret exists').toBeDefined();
  return Object.fromEntries(Object.entries(secret!.data as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
}

/** Requests that change the server: PATCH without dryRun=All, DELETE without dryRun, anything but GET. */
function writeRequests(api: FakeKubeApiServer, from = 0): string[] {
  return api.requests
    .slice(from)
    .filter((q) => q.method !== 'GET' && q.query.dryRun !== 'All')
    .map((q) => `${q.method} ${q.path}`);
}

let dir: string;
let inventoryFile: string;

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'k8s-app-role-'));
  inventoryFile = path.join(dir, 'inventory.yml');
  await fs.writeFile(inventoryFile, inventory);
});

afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('the blog backend on a cluster, from the cluster inventory', () => {
  let api: FakeKubeApiServer;
  let kubeconfig: string;
  // No ~/.kube/config or $KUBECONFIG of the machine: only the kubeconfig given as a variable.
  const env = () => ({ HOME: dir, KUBECONFIG: undefined });
  const args = (...extra: string[]) => [
    '-i', inventoryFile, playbook,
    '-e', `k8s_kubeconfig=${kubeconfig}`,
    '-e', 'k8s_read_db_host=pg-primary',
    '-e', JSON.stringify({ app_password: password1 }),
    ...extra,
  ];

  beforeAll(async () => {
    api = await startFakeKubeApiServer({ rolloutDelayMs: 200 });
    seedKubeSystem(api);
    kubeconfig = path.join(dir, 'kubeconfig');
    await fs.writeFile(kubeconfig, kubeconfigFor({ lab: api.url }, 'lab'));
  });

  afterAll(async () => {
    await api.close();
  });

  test('--check on a fresh cluster changes nothing and says what it cannot know yet', async () => {
    const writes = api.writes;
    const r = await plinthJson([...args('--check', '--diff')], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expectNoLeak(r, password1);
    expect(writeRequests(api)).toEqual([]);
    expect(api.writes).toBe(writes);
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
    expect(api.object('v1', 'Namespace', ns)).toBeUndefined();
    expect(api.object('v1', 'ConfigMap', 'coredns', 'kube-system')!.data.Corefile).toBe(kubeadmCorefile);
  });

  test('the first run creates the namespace, Secret, Deployment, Service and CoreDNS names', async () => {
    const before = api.requests.length;
    const r = await plinthJson(args(), { env: env() });
    expectNoLeak(r, password1);
    expect(r.code, r.stderr).toBe(0);
    expect(recapOf(r.events).localhost).toMatchObject({ changed: 5, failed: 0 });

    expect(api.object('v1', 'Namespace', ns)).toBeDefined();

    // The values are the URLs themselves: no quotes, the password percent-encoded, parseable.
    const data = secretData(api);
    expect(data).toEqual({
      READ_DATABASE_URL: urlFor(password1, 'pgpool.read.db.internal'),
      WRITE_DATABASE_URL: urlFor(password1, 'pgpool.write.db.internal'),
    });
    for (const url of Object.values(data)) {
      expect(url).toMatch(/^postgres:\/\/app:[^\s"`]+@pgpool\.(read|write)\.db\.internal:5432\/postgres\?sslmode=disable$/);
      expect(decodeURIComponent(new URL(url).password)).toBe(password1);
    }

    const d = api.object('apps/v1', 'Deployment', 'backend-paragon', ns)!;
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
    const secret = api.object('v1', 'Secret', 'backend-paragon-secret', ns)!;
    expect(d.spec.template.metadata.annotations).toEqual({ 'plinth/secret-resource-version': secret.metadata.resourceVersion });

    // k8s_wait: the run polled the Deployment after applying it, until all 3 replicas were available.
    const deploymentPath = `/apis/apps/v1/namespaces/${ns}/deployments/backend-paragon`;
    const applyAt = api.requests.findIndex((q, i) => i >= before && q.method === 'PATCH' && q.path === deploymentPath && q.query.dryRun === undefined);
    expect(applyAt).toBeGreaterThan(0);
    expect(api.requests.slice(applyAt + 1).some((q) => q.method === 'GET' && q.path === deploymentPath)).toBe(true);
    expect(d.status.availableReplicas).toBe(3);

    const svc = api.object('v1', 'Service', 'backend-paragon', ns)!;
    expect(svc.spec).toMatchObject({ type: 'ClusterIP', selector: { app: 'backend-paragon' }, ports: [{ port: 8080, targetPort: 8080, protocol: 'TCP' }] });

    // The blog's Corefile, to the byte: every other line kept, the hosts block after kubernetes.
    expect(api.object('v1', 'ConfigMap', 'coredns', 'kube-system')!.data.Corefile).toBe(blogCorefile);
  });

  test('the second run changes nothing', async () => {
    const writes = api.writes;
    const from = api.requests.length;
    const r = await plinthJson(args(), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expectNoLeak(r, password1);
    expect(recapOf(r.events).localhost).toMatchObject({ ok: 7, changed: 0, failed: 0, unknown: 0 });
    expect(r.events.filter((e) => e.type === 'result' && e.status === 'changed')).toEqual([]);
    expect(writeRequests(api, from)).toEqual([]);
    expect(api.writes).toBe(writes);
  });

  test('--check after the first run: nothing to change, nothing changed', async () => {
    const writes = api.writes;
    const r = await plinthJson(args('--check', '--diff'), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    expect(recapOf(r.events).localhost).toMatchObject({ changed: 0, failed: 0, unknown: 0 });
    expect(api.writes).toBe(writes);
  });

  test('a new app_password: --check and --diff name the Secret keys only, and the pods restart', async () => {
    const newArgs = (...extra: string[]) => args('-e', JSON.stringify({ app_password: password2 }), ...extra);
    const writes = api.writes;
    const check = await plinth(['run', ...newArgs('--check', '--diff', '-vv')], { env: env() });
    expect(check.code, check.stderr).toBe(0);
    expect(api.writes).toBe(writes);
    for (const p of [password1, password2]) expectNoLeak(check, p);
    expect(check.stdout).toMatch(/READ_DATABASE_URL: \(changed\)/);
    expect(check.stdout).toMatch(/WRITE_DATABASE_URL: \(changed\)/);
    // In check mode the Deployment shows that its pods would restart.
    expect(check.stdout).toMatch(/\+ +plinth\/secret-resource-version: "?pending"?$/m);

    const oldVersion = api.object('v1', 'Secret', 'backend-paragon-secret', ns)!.metadata.resourceVersion;
    const r = await plinthJson(newArgs('--diff', '-v'), { env: env() });
    expect(r.code, r.stderr).toBe(0);
    for (const p of [password1, password2]) expectNoLeak(r, p);
    expect(statuses(r.events).filter((s) => s.endsWith('=changed'))).toEqual([
      'Secret with the database URLs (from a .env)=changed',
      'Deployment=changed',
    ]);
    const secretResult = r.events.find((e) => e.type === 'result' && e.task === 'Secret with the database URLs (from a .env)')!;
    const [diff, ...moreDiffs] = secretResult.diff as { before: string; after: string }[];
    expect(moreDiffs).toEqual([]);
    expect(diff.before).toMatch(/^  READ_DATABASE_URL: \(hidden\)$/m);
    expect(diff.after).toMatch(/^  READ_DATABASE_URL: \(changed\)$/m);
    expect(diff.after).toMatch(/^  WRITE_DATABASE_URL: \(changed\)$/m);

    expect(secretData(api)).toEqual({
      READ_DATABASE_URL: urlFor(password2, 'pgpool.read.db.internal'),
      WRITE_DATABASE_URL: urlFor(password2, 'pgpool.write.db.internal'),
    });
    const secret = api.object('v1', 'Secret', 'backend-paragon-secret', ns)!;
    expect(secret.metadata.resourceVersion).not.toBe(oldVersion);
    const d = api.object('apps/v1', 'Deployment', 'backend-paragon', ns)!;
    expect(d.spec.template.metadata.annotations['plinth/secret-resource-version']).toBe(secret.metadata.resourceVersion);
  });

  test('a database URL that is not a PostgreSQL URL fails at its .env line, before the API is called', async () => {
    const bad = 'mysql://app:hunter22@db.example:3306/app';
    const writes = api.writes;
    const from = api.requests.length;
    const r = await plinth(['run', ...args('-e', `k8s_write_database_url=${bad}`)], { env: env() });
    expect(r.code).toBe(2);
    const all = r.stdout + r.stderr;
    expect(all).toMatch(/templates\/k8s\/backend\.env\.ejs \(rendered\):5: WRITE_DATABASE_URL: is not a PostgreSQL URL/);
    expect(all).not.toContain('hunter22');
    expect(all).not.toContain(bad);
    expect(api.writes).toBe(writes);
    expect(api.requests.slice(from).some((q) => q.path.includes('/secrets/'))).toBe(false);
  });

  test('a value that breaks the .env line structure fails with the file and line', async () => {
    const r = await plinth(['run', ...args('-e', JSON.stringify({ k8s_read_database_url: 'postgres://app:pw@db:5432/x\nnot an assignment' }))], { env: env() });
    expect(r.code).toBe(2);
    expect(r.stdout + r.stderr).toMatch(/backend\.env\.ejs \(rendered\):5: not a KEY=value line/);
  });
});

describe('other inventories and kubeconfigs', () => {
  test('without a pgpool group in the inventory the role fails with a message that says what to set', async () => {
    const api = await startFakeKubeApiServer();
    try {
      const kubeconfig = path.join(dir, 'kubeconfig-nopgpool');
      await fs.writeFile(kubeconfig, kubeconfigFor({ lab: api.url }, 'lab'));
      // No -i: only the implicit localhost.
      const r = await plinth(['run', playbook, '-e', `k8s_kubeconfig=${kubeconfig}`, '-e', JSON.stringify({ app_password: password1 })], {
        env: { HOME: dir, KUBECONFIG: undefined },
      });
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toMatch(/no host in group 'pgpool'.*set\s+k8s_write_db_host/s);
      expect(api.requests).toEqual([]);
      expectNoLeak(r, password1);
    } finally {
      await api.close();
    }
  });

  test('a database host that is a name, not an address, is refused for CoreDNS before any API call', async () => {
    const api = await startFakeKubeApiServer();
    try {
      const kubeconfig = path.join(dir, 'kubeconfig-names');
      await fs.writeFile(kubeconfig, kubeconfigFor({ lab: api.url }, 'lab'));
      const r = await plinth(
        ['run', '-i', inventoryFile, playbook, '-e', `k8s_kubeconfig=${kubeconfig}`, '-e', 'k8s_read_db_host=replica.example.org', '-e', JSON.stringify({ app_password: password1 })],
        { env: { HOME: dir, KUBECONFIG: undefined } },
      );
      expect(r.code).toBe(2);
      expect(r.stdout + r.stderr).toMatch(/CoreDNS hosts plugin needs IP addresses, got '192\.168\.1\.37'\s+\(write\) and 'replica\.example\.org' \(read\)/);
      expect(api.requests).toEqual([]);
    } finally {
      await api.close();
    }
  });

  test('kubeconfig found like kubectl (~/.kube/config), context chosen by k8s_context, addresses given explicitly', async () => {
    const api = await startFakeKubeApiServer({ rolloutDelayMs: 50 });
    const home = await fs.mkdtemp(path.join(dir, 'home-'));
    try {
      await fs.mkdir(path.join(home, '.kube'));
      // current-context points at a port where nothing listens: only the `lab` context can work.
      await fs.writeFile(path.join(home, '.kube', 'config'), kubeconfigFor({ dead: 'http://127.0.0.1:9', lab: api.url }, 'dead'));
      const r = await plinthJson(
        [playbook, '-e', 'k8s_context=lab', '-e', 'k8s_write_db_host=10.1.2.3', '-e', 'k8s_read_db_host=10.1.2.4', '-e', 'k8s_coredns=false', '-e', JSON.stringify({ app_password: password1 })],
        { env: { HOME: home, KUBECONFIG: undefined } },
      );
      expect(r.code, r.stderr).toBe(0);
      expectNoLeak(r, password1);
      // Without CoreDNS names the URLs hold the addresses; the CoreDNS task is skipped.
      expect(secretData(api)).toEqual({ READ_DATABASE_URL: urlFor(password1, '10.1.2.4'), WRITE_DATABASE_URL: urlFor(password1, '10.1.2.3') });
      expect(statuses(r.events)).toContain('CoreDNS names for the databases=skipped');
      expect(api.requests.some((q) => q.path.includes('configmaps'))).toBe(false);
    } finally {
      await api.close();
    }
  });

  test('a rollout that does not finish within k8s_wait_timeout fails; with k8s_wait false the run does not wait', async () => {
    const api = await startFakeKubeApiServer({ rolloutDelayMs: 600_000 });
    try {
      seedKubeSystem(api);
      const kubeconfig = path.join(dir, 'kubeconfig-slow');
      await fs.writeFile(kubeconfig, kubeconfigFor({ lab: api.url }, 'lab'));
      const base = ['-i', inventoryFile, playbook, '-e', `k8s_kubeconfig=${kubeconfig}`, '-e', JSON.stringify({ app_password: password1 })];
      const slow = await plinth(['run', ...base, '-e', 'k8s_wait_timeout=1'], { env: { HOME: dir, KUBECONFIG: undefined } });
      expect(slow.code).toBe(2);
      expect(slow.stdout + slow.stderr).toMatch(/Deployment backend-paragon\/backend-paragon did not finish its rollout within 1 s/);

      const noWait = await plinthJson([...base, '-e', 'k8s_wait=false', '-e', 'k8s_replicas=2'], { env: { HOME: dir, KUBECONFIG: undefined } });
      expect(noWait.code, noWait.stderr).toBe(0);
      expect(statuses(noWait.events)).toContain('Deployment=changed');
      const d = api.object('apps/v1', 'Deployment', 'backend-paragon', ns)!;
      expect(d.spec.replicas).toBe(2);
      expect(d.status.availableReplicas).toBe(0);
    } finally {
      await api.close();
    }
  });
});
