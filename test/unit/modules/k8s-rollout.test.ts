// `wait: true` against a real API server and kube-controller-manager: Deployments become
// ReplicaSets and Pods; test/helpers/kube-node.ts stands in for the scheduler and kubelet.
import { afterAll, beforeAll, expect, test } from 'vitest';
import { k8s } from '../../../modules/k8s.js';
import type { KubeObject } from '../../../modules/k8s/client.js';
import { startKubeApiServer, type KubeTestServer } from '../../helpers/kube-apiserver.js';
import { standInForKubelet } from '../../helpers/kube-node.js';
import { run } from '../../helpers/modules.js';

let api: KubeTestServer;

beforeAll(async () => {
  api = await startKubeApiServer({ controllerManager: true });
});

afterAll(async () => {
  await api?.stop();
});

function deployment(namespace: string, image: string, extra: Record<string, unknown> = {}) {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'backend-paragon', namespace },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'backend-paragon' } },
      template: { metadata: { labels: { app: 'backend-paragon' } }, spec: { containers: [{ name: 'backend', image, ports: [{ containerPort: 8080 }] }] } },
      ...extra,
    },
  };
}

async function status(namespace: string) {
  const d = (await api.client.request('GET', `/apis/apps/v1/namespaces/${namespace}/deployments/backend-paragon`)) as KubeObject;
  return d.status as { availableReplicas?: number; updatedReplicas?: number; replicas?: number; observedGeneration?: number };
}

test('wait returns once every replica is updated and available; a rolling update waits for the new pods', async () => {
  const ns = await api.namespace('rollout');
  const kubelet = await standInForKubelet(api, ns);
  try {
    const first = await run(k8s, { definition: deployment(ns, 'backend:1'), kubeconfig: api.kubeconfig, wait: true, wait_timeout: 600 });
    expect(first.status).toBe('changed');
    expect(await status(ns)).toMatchObject({ availableReplicas: 3, updatedReplicas: 3, replicas: 3, observedGeneration: 1 });

    const update = await run(k8s, { definition: deployment(ns, 'backend:2'), kubeconfig: api.kubeconfig, wait: true, wait_timeout: 600 });
    expect(update.status).toBe('changed');
    expect(await status(ns)).toMatchObject({ availableReplicas: 3, updatedReplicas: 3, replicas: 3, observedGeneration: 2 });
    const pods = (await api.client.request('GET', `/api/v1/namespaces/${ns}/pods`)) as { items: { spec: { containers: { image: string }[] }; metadata: { deletionTimestamp?: string } }[] };
    const live = pods.items.filter((p) => !p.metadata.deletionTimestamp);
    expect(live.map((p) => p.spec.containers[0].image)).toEqual(['backend:2', 'backend:2', 'backend:2']);
    expect((await run(k8s, { definition: deployment(ns, 'backend:2'), kubeconfig: api.kubeconfig, wait: true })).status).toBe('ok');
  } finally {
    await kubelet.stop();
  }
});

test('pods that never become ready: the controller gives up at the progress deadline and the error names the Deployment and its conditions', async () => {
  const ns = await api.namespace('never-ready');
  const kubelet = await standInForKubelet(api, ns, { ready: false });
  try {
    const err = (await run(k8s, { definition: deployment(ns, 'backend:broken', { progressDeadlineSeconds: 2 }), kubeconfig: api.kubeconfig, wait: true, wait_timeout: 600 }).catch(
      (e: Error) => e,
    )) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(new RegExp(`^Deployment ${ns}/backend-paragon failed its rollout \\(progress deadline exceeded\\): 0 of 3 replicas available; conditions: `));
    expect(err.message).toContain('Available=False (MinimumReplicasUnavailable: Deployment does not have minimum availability.)');
    expect(err.message).toMatch(/Progressing=False \(ProgressDeadlineExceeded: ReplicaSet "backend-paragon-[a-z0-9]+" has timed out progressing\.\)/);
  } finally {
    await kubelet.stop();
  }
});

test('pods that are not ready within wait_timeout: the error names the Deployment, what is missing and its conditions', async () => {
  const ns = await api.namespace('slow');
  const kubelet = await standInForKubelet(api, ns, { ready: false });
  try {
    const err = (await run(k8s, { definition: deployment(ns, 'backend:slow'), kubeconfig: api.kubeconfig, wait: true, wait_timeout: 2 }).catch((e: Error) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`^Deployment ${ns}/backend-paragon did not finish its rollout within 2 s: .+; conditions: .+`));
  } finally {
    await kubelet.stop();
  }
});
