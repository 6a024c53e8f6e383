// Stands in for the scheduler and a kubelet on a test API server, which has neither: a Node
// marked Ready, every Pending pod of one namespace bound to it and (unless told otherwise) its
// status patched to Running/Ready through the status subresource; pods left Terminating by a
// rolling update are deleted, as a kubelet would once their containers stopped.
import type { KubeObject } from '../../modules/k8s/client.js';
import type { KubeTestServer } from './kube-apiserver.js';

export interface KubeletStandIn {
  node: string;
  stop(): Promise<void>;
}

interface Pod extends KubeObject {
  spec: { nodeName?: string; containers: { name: string; image: string }[] };
  status?: { phase?: string; conditions?: { type: string; status: string }[] };
}

const NODE = 'test-node';

async function ensureNode(api: KubeTestServer): Promise<void> {
  const node = { apiVersion: 'v1', kind: 'Node', metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } } };
  await api.client.request('PATCH', `/api/v1/nodes/${NODE}?fieldManager=test-kubelet`, { body: JSON.stringify(node), contentType: 'application/apply-patch+yaml' });
  const now = new Date().toISOString();
  const status = {
    conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'stand-in kubelet', lastHeartbeatTime: now, lastTransitionTime: now }],
    capacity: { cpu: '8', memory: '32Gi', pods: '110' },
    allocatable: { cpu: '8', memory: '32Gi', pods: '110' },
  };
  await api.client.request('PATCH', `/api/v1/nodes/${NODE}/status`, { body: JSON.stringify({ status }), contentType: 'application/merge-patch+json' });
}

function isReady(pod: Pod): boolean {
  return pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;
}

async function tend(api: KubeTestServer, namespace: string, ready: boolean): Promise<void> {
  const base = `/api/v1/namespaces/${namespace}/pods`;
  const list = (await api.client.request('GET', base)) as { items: Pod[] };
  for (const pod of list.items) {
    const name = pod.metadata.name;
    if (pod.metadata.deletionTimestamp) {
      await api.client.request('DELETE', `${base}/${name}`, { body: JSON.stringify({ kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 0 }) }).catch(() => undefined);
    } else if (!pod.spec.nodeName) {
      const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name }, target: { apiVersion: 'v1', kind: 'Node', name: NODE } };
      await api.client.request('POST', `${base}/${name}/binding`, { body: JSON.stringify(binding) }).catch(() => undefined);
    } else if (ready && !isReady(pod)) {
      const now = new Date().toISOString();
      const conditions = ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready'].map((type) => ({ type, status: 'True', lastTransitionTime: now }));
      const containerStatuses = pod.spec.containers.map((c) => ({ name: c.name, image: c.image, imageID: '', ready: true, started: true, restartCount: 0, state: { running: { startedAt: now } } }));
      const status = { phase: 'Running', startTime: now, hostIP: '127.0.0.1', podIP: '10.244.0.10', conditions, containerStatuses };
      await api.client.request('PATCH', `${base}/${name}/status`, { body: JSON.stringify({ status }), contentType: 'application/merge-patch+json' }).catch(() => undefined);
    }
  }
}

/** Starts tending the pods of `namespace`; ready: false binds them but never makes them ready. */
export async function standInForKubelet(api: KubeTestServer, namespace: string, opts: { ready?: boolean } = {}): Promise<KubeletStandIn> {
  await ensureNode(api);
  let running = true;
  const loop = (async () => {
    while (running) {
      await tend(api, namespace, opts.ready ?? true).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
  })();
  return {
    node: NODE,
    async stop() {
      running = false;
      await loop;
    },
  };
}
