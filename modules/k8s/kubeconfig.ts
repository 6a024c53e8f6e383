// Kubeconfig loading the way kubectl does it: the KUBECONFIG list (first file that names
// something wins) or ~/.kube/config, the current or the chosen context, and the cluster's
// server, CA, client certificate/key or bearer token. exec/auth-provider plugins are not
// supported: they would run arbitrary programs on the controller.
import { readFileSync, existsSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ModuleError } from '../../engine/types.js';

export interface ClusterConnection {
  /** The context used, for messages. */
  context: string;
  server: string;
  /** The context's namespace, or "default". */
  namespace: string;
  ca?: Buffer;
  insecureSkipTlsVerify?: boolean;
  tlsServerName?: string;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  username?: string;
  password?: string;
}

type Named = { name: string; [k: string]: unknown };
interface KubeconfigFile {
  file: string;
  dir: string;
  doc: Record<string, unknown>;
}

/** The kubeconfig files kubectl would read, in order. */
export function kubeconfigFiles(explicit?: string, env: NodeJS.ProcessEnv = process.env): string[] {
  if (explicit) return [expandHome(explicit)];
  if (env.KUBECONFIG)
    return env.KUBECONFIG.split(path.delimiter)
      .filter((p) => p !== '')
      .map(expandHome);
  return [path.join(env.HOME ?? os.homedir(), '.kube', 'config')];
}

function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

function readKubeconfig(file: string, required: boolean): KubeconfigFile | null {
  if (!existsSync(file)) {
    if (required) throw new ModuleError(`kubeconfig ${file} does not exist`);
    return null;
  }
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new ModuleError(`kubeconfig ${file} is not valid YAML: ${(e as Error).message}`);
  }
  if (doc === null || doc === undefined) return null;
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new ModuleError(`kubeconfig ${file} is not a mapping`);
  return { file, dir: path.dirname(path.resolve(file)), doc: doc as Record<string, unknown> };
}

/** Finds `name` in the `section` list of the files; the first file that has it wins, as in kubectl. */
function findNamed(files: KubeconfigFile[], section: string, name: string): { entry: Record<string, unknown>; dir: string } | null {
  for (const f of files) {
    const list = f.doc[section];
    if (!Array.isArray(list)) continue;
    const hit = (list as Named[]).find((e) => e && e.name === name);
    if (hit) return { entry: (hit[section.slice(0, -1)] ?? {}) as Record<string, unknown>, dir: f.dir };
  }
  return null;
}

function fileOrData(entry: Record<string, unknown>, fileKey: string, dataKey: string, dir: string): Buffer | undefined {
  const data = entry[dataKey];
  if (typeof data === 'string' && data !== '') return Buffer.from(data, 'base64');
  const file = entry[fileKey];
  if (typeof file === 'string' && file !== '') {
    const full = path.resolve(dir, expandHome(file));
    try {
      return readFileSync(full);
    } catch (e) {
      throw new ModuleError(`kubeconfig: cannot read ${fileKey} ${full}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return undefined;
}

/** Resolves the connection for `context` (or the current context) from the kubeconfig files. */
export function loadKubeconfig(opts: { kubeconfig?: string; context?: string; env?: NodeJS.ProcessEnv } = {}): ClusterConnection {
  const names = kubeconfigFiles(opts.kubeconfig, opts.env);
  const files = names.map((f) => readKubeconfig(f, !!opts.kubeconfig)).filter((f): f is KubeconfigFile => f !== null);
  if (!files.length) throw new ModuleError(`no kubeconfig found (looked at ${names.join(', ')}); set kubeconfig or KUBECONFIG`);

  const contextName = opts.context ?? files.map((f) => f.doc['current-context']).find((c): c is string => typeof c === 'string' && c !== '');
  if (!contextName) throw new ModuleError(`kubeconfig ${names.join(', ')} has no current-context; set context`);
  const context = findNamed(files, 'contexts', contextName);
  if (!context) throw new ModuleError(`context "${contextName}" not found in ${names.join(', ')}`);

  const clusterName = context.entry.cluster as string | undefined;
  const cluster = clusterName ? findNamed(files, 'clusters', clusterName) : null;
  if (!cluster) throw new ModuleError(`cluster "${clusterName ?? ''}" of context "${contextName}" not found in the kubeconfig`);
  const server = cluster.entry.server;
  if (typeof server !== 'string' || !/^https?:\/\//.test(server)) {
    throw new ModuleError(`cluster "${clusterName}" has no valid server URL in the kubeconfig`);
  }

  const userName = context.entry.user as string | undefined;
  const user = userName ? findNamed(files, 'users', userName) : null;
  if (userName && !user) throw new ModuleError(`user "${userName}" of context "${contextName}" not found in the kubeconfig`);
  const u = user?.entry ?? {};
  if (u.exec || u['auth-provider']) {
    throw new ModuleError(`user "${userName}" authenticates with an exec/auth-provider plugin, which plinth does not run; use a token or a client certificate`);
  }

  const token = typeof u.token === 'string' && u.token ? u.token : typeof u.tokenFile === 'string' ? readFileSync(path.resolve(user!.dir, u.tokenFile), 'utf8').trim() : undefined;
  return {
    context: contextName,
    server: server.replace(/\/+$/, ''),
    namespace: typeof context.entry.namespace === 'string' && context.entry.namespace ? context.entry.namespace : 'default',
    ca: fileOrData(cluster.entry, 'certificate-authority', 'certificate-authority-data', cluster.dir),
    insecureSkipTlsVerify: cluster.entry['insecure-skip-tls-verify'] === true,
    tlsServerName: typeof cluster.entry['tls-server-name'] === 'string' ? cluster.entry['tls-server-name'] : undefined,
    cert: user ? fileOrData(u, 'client-certificate', 'client-certificate-data', user.dir) : undefined,
    key: user ? fileOrData(u, 'client-key', 'client-key-data', user.dir) : undefined,
    token,
    username: typeof u.username === 'string' ? u.username : undefined,
    password: typeof u.password === 'string' ? u.password : undefined,
  };
}
