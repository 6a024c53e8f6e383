// A real Kubernetes API server for tests: etcd + kube-apiserver (and kube-controller-manager
// when a test needs Deployments to become ReplicaSets and Pods) on 127.0.0.1, on free ports,
// with certificates, a token and a kubeconfig in a temp dir. The binaries are found the way
// controller-runtime's envtest finds them: KUBEBUILDER_ASSETS names a directory holding
// `kube-apiserver` and `etcd` (and optionally `kube-controller-manager`).
// Everything started here is stopped by PID in stop().
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { KubeApiError, KubeClient } from '../../modules/k8s/client.js';
import { freePort } from './sshd.js';

/** Long enough for a loaded 2-core machine; only a hang takes this long. */
const START_TIMEOUT_MS = 180_000;
const STOP_GRACE_MS = 15_000;

export interface KubeAssets {
  dir: string;
  apiserver: string;
  etcd: string;
  controllerManager?: string;
}

const HOW_TO_PROVIDE = [
  'The Kubernetes tests need a real kube-apiserver and etcd: set KUBEBUILDER_ASSETS to a directory holding',
  '`kube-apiserver` and `etcd` (and `kube-controller-manager` for rollout tests), as envtest does',
  '(`setup-envtest use -p path` prints one). In this project: `export KUBEBUILDER_ASSETS=$(bash scripts/k8s-test-assets.sh)`',
  "unpacks the binaries of ../shared/k8s (etcd comes from Debian's etcd-server package).",
].join('\n');

/** The binaries named by KUBEBUILDER_ASSETS; throws, saying how to provide them, when they are missing. */
export function kubeAssets(env: NodeJS.ProcessEnv = process.env): KubeAssets {
  const dir = env.KUBEBUILDER_ASSETS;
  if (!dir) throw new Error(`KUBEBUILDER_ASSETS is not set.\n${HOW_TO_PROVIDE}`);
  const missing = ['kube-apiserver', 'etcd'].filter((b) => !existsSync(path.join(dir, b)));
  if (missing.length) throw new Error(`KUBEBUILDER_ASSETS=${dir} has no ${missing.join(' and no ')}.\n${HOW_TO_PROVIDE}`);
  const controllerManager = path.join(dir, 'kube-controller-manager');
  return {
    dir,
    apiserver: path.join(dir, 'kube-apiserver'),
    etcd: path.join(dir, 'etcd'),
    controllerManager: existsSync(controllerManager) ? controllerManager : undefined,
  };
}

export interface KubeTestServer {
  /** https://127.0.0.1:PORT */
  url: string;
  /** A kubeconfig (context `test`) for a system:masters user with a bearer token. */
  kubeconfig: string;
  token: string;
  /** The temp dir: certificates, data, logs (etcd.log, kube-apiserver.log, kube-controller-manager.log). */
  dir: string;
  /** A client with the admin token, for the test's own requests (the module under test makes its own). */
  client: KubeClient;
  /** PIDs of the processes started for this server. */
  pids(): number[];
  /** Creates a fresh namespace `<prefix>-<n>` and returns its name. */
  namespace(prefix: string): Promise<string>;
  /** Writes a kubeconfig for another user of the server (a client certificate signed by its CA). */
  clientCertificate(user: string, groups: string[]): { cert: string; key: string; ca: string };
  /** Starts kube-controller-manager (Deployments → ReplicaSets → Pods, namespace deletion). */
  startControllerManager(): Promise<void>;
  stop(): Promise<void>;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCertificates(dir: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '2', '-subj', '/CN=plinth-test-ca']);
  openssl(dir, ['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver']);
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-days', '2', '-extfile', 'server.ext']);
  openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'sa.key']);
  openssl(dir, ['pkey', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

function kubeconfigText(url: string, ca: string, user: Record<string, string>): string {
  const userLines = Object.entries(user).map(([k, v]) => `    ${k}: ${v}`);
  return [
    'apiVersion: v1',
    'kind: Config',
    'current-context: test',
    'clusters:',
    '- name: test',
    '  cluster:',
    `    server: ${url}`,
    `    certificate-authority-data: ${Buffer.from(ca).toString('base64')}`,
    'users:',
    '- name: test',
    '  user:',
    ...userLines,
    'contexts:',
    '- name: test',
    '  context: {cluster: test, user: test}',
    '',
  ].join('\n');
}

interface Started {
  name: string;
  child: ChildProcess;
  log: string;
  exited: Promise<void>;
}

function startProcess(dir: string, name: string, bin: string, args: string[]): Started {
  const log = path.join(dir, `${name}.log`);
  const fd = openSync(log, 'a');
  // setpriv --pdeathsig: if the test process dies without stop(), the kernel ends this one too.
  const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', bin, ...args], { cwd: dir, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { name, child, log, exited };
}

function logTail(p: Started, lines = 25): string {
  try {
    return readFileSync(p.log, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopProcess(p: Started): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const graceful = await Promise.race([p.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), STOP_GRACE_MS))]);
  if (!graceful) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/** Another process took a port between freePort() and the bind: worth another try with new ports. */
class PortTakenError extends Error {}

/** Polls until `ready` resolves true; fails with the log of a process that exited, or on the hang timeout. */
async function waitUntil(what: string, ready: () => Promise<boolean>, watched: Started[]): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const dead = watched.find((p) => p.child.exitCode !== null || p.child.signalCode !== null);
    if (dead) {
      const tail = logTail(dead);
      const message = `${dead.name} exited while waiting for ${what}; its log ends with:\n${tail}`;
      throw /address already in use/.test(tail) ? new PortTakenError(message) : new Error(message);
    }
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not ready after ${START_TIMEOUT_MS / 1000} s; logs:\n${watched.map((p) => `--- ${p.name}\n${logTail(p)}`).join('\n')}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

export async function startKubeApiServer(opts: { controllerManager?: boolean } = {}): Promise<KubeTestServer> {
  const assets = kubeAssets();
  if (opts.controllerManager && !assets.controllerManager) {
    throw new Error(`KUBEBUILDER_ASSETS=${assets.dir} has no kube-controller-manager, which this test needs.\n${HOW_TO_PROVIDE}`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(assets, opts);
    } catch (e) {
      if (!(e instanceof PortTakenError) || attempt >= 3) throw e;
    }
  }
}

async function startOnce(assets: KubeAssets, opts: { controllerManager?: boolean }): Promise<KubeTestServer> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'plinth-kube-'));
  const processes: Started[] = [];
  try {
    makeCertificates(dir);
    const token = `plinth-test-${Math.random().toString(36).slice(2)}`;
    writeFileSync(path.join(dir, 'tokens.csv'), `${token},plinth-test-admin,1,"system:masters"\n`);
    const [etcdPort, peerPort, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdPort}`;
    const peerUrl = `http://127.0.0.1:${peerPort}`;
    processes.push(
      startProcess(dir, 'etcd', assets.etcd, [
        '--name=test',
        `--data-dir=${path.join(dir, 'etcd-data')}`,
        `--listen-client-urls=${etcdUrl}`,
        `--advertise-client-urls=${etcdUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=test=${peerUrl}`,
      ]),
    );
    // The API server retries etcd until it answers: both start at once.
    processes.push(
      startProcess(dir, 'kube-apiserver', assets.apiserver, [
        `--etcd-servers=${etcdUrl}`,
        '--bind-address=127.0.0.1',
        '--advertise-address=127.0.0.1',
        `--secure-port=${securePort}`,
        `--cert-dir=${dir}`,
        '--tls-cert-file=server.crt',
        '--tls-private-key-file=server.key',
        '--client-ca-file=ca.crt',
        '--token-auth-file=tokens.csv',
        '--authorization-mode=RBAC',
        '--service-account-issuer=https://kubernetes.default.svc',
        '--service-account-key-file=sa.pub',
        '--service-account-signing-key-file=sa.key',
        '--service-cluster-ip-range=10.0.0.0/24',
        '--endpoint-reconciler-type=none',
        // No kubelet mounts tokens here; without this, pods wait for the "default" ServiceAccount.
        '--disable-admission-plugins=ServiceAccount',
      ]),
    );
    const url = `https://127.0.0.1:${securePort}`;
    const ca = readFileSync(path.join(dir, 'ca.crt'), 'utf8');
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, kubeconfigText(url, ca, { token }), { mode: 0o600 });
    const client = new KubeClient({ context: 'test', server: url, namespace: 'default', ca: Buffer.from(ca), token });
    await waitUntil(
      'kube-apiserver /readyz',
      async () => {
        await client.request('GET', '/readyz');
        return true;
      },
      processes,
    );

    let namespaces = 0;
    const server: KubeTestServer = {
      url,
      kubeconfig,
      token,
      dir,
      client,
      pids: () => processes.map((p) => p.child.pid!).filter(Boolean),
      async namespace(prefix) {
        const name = `${prefix}-${++namespaces}`;
        await client.request('POST', '/api/v1/namespaces', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }) });
        return name;
      },
      clientCertificate(user, groups) {
        const base = `client-${user.replace(/[^a-z0-9]/gi, '_')}`;
        const subject = `/CN=${user}${groups.map((g) => `/O=${g}`).join('')}`;
        const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
        openssl(dir, ['req', ...ec, '-keyout', `${base}.key`, '-out', `${base}.csr`, '-subj', subject]);
        openssl(dir, ['x509', '-req', '-in', `${base}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${base}.crt`, '-days', '2']);
        return { cert: path.join(dir, `${base}.crt`), key: path.join(dir, `${base}.key`), ca: path.join(dir, 'ca.crt') };
      },
      async startControllerManager() {
        if (processes.some((p) => p.name === 'kube-controller-manager')) return;
        const started = startProcess(dir, 'kube-controller-manager', assets.controllerManager!, [
          `--kubeconfig=${kubeconfig}`,
          // No kubelets report here: the node lifecycle controller would taint and evict everything.
          '--controllers=*,-node-lifecycle-controller',
          '--leader-elect=false',
          '--secure-port=0',
        ]);
        processes.push(started);
        // Ready when its informers run: the namespace controller has then finalized nothing yet, but
        // the service account controller creates "default" in every namespace.
        await waitUntil(
          'kube-controller-manager',
          async () => {
            try {
              return (await client.request('GET', '/api/v1/namespaces/default/serviceaccounts/default')) !== undefined;
            } catch (e) {
              if (e instanceof KubeApiError && e.status === 404) return false;
              throw e;
            }
          },
          processes,
        );
      },
      async stop() {
        // Reverse order: the controller-manager and the API server before etcd.
        for (const p of [...processes].reverse()) await stopProcess(p);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    if (opts.controllerManager) await server.startControllerManager();
    return server;
  } catch (e) {
    for (const p of [...processes].reverse()) await stopProcess(p);
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
