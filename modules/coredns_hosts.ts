// coredns_hosts: ensures a `hosts { IP name... fallthrough }` block in a server block of the
// CoreDNS Corefile (ConfigMap kube-system/coredns), keeping every other line as it is. The
// `reload` plugin of CoreDNS picks the change up; nothing is restarted.
import { ModuleError, type Module, type Plan } from '../engine/types.js';
import type { KubeObject } from './k8s/client.js';
import { apiFailure, connect, connectionProperties } from './k8s/kube-api.js';
import { ensureHostsBlock } from './k8s/corefile.js';

/** The Corefile, and the ConfigMap's resourceVersion: the apply's precondition (a saved plan fingerprints both). */
interface Observed {
  corefile: string;
  resourceVersion: string;
}

interface Action {
  corefile: string;
  resourceVersion: string;
}

export const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['entries'],
  properties: {
    entries: {
      type: 'array',
      description: 'The hosts block entries, in order: an IP and its names (e.g. {ip: 192.168.1.37, names: [pgpool.write.db.internal]}).',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['ip', 'names'],
        properties: {
          ip: { type: 'string', anyOf: [{ format: 'ipv4' }, { format: 'ipv6' }], 'x-message': 'must be an IPv4 or IPv6 address', description: 'IPv4 or IPv6 address.' },
          names: { type: 'array', minItems: 1, items: { type: 'string', format: 'hostname' }, description: 'Host names resolving to ip.' },
        },
      },
    },
    server_block: { type: 'string', default: '.:53', description: 'The server block to edit, by its key.' },
    namespace: { type: 'string', default: 'kube-system', description: 'Namespace of the CoreDNS ConfigMap.' },
    configmap: { type: 'string', default: 'coredns', description: 'Name of the CoreDNS ConfigMap.' },
    key: { type: 'string', default: 'Corefile', description: 'The ConfigMap key holding the Corefile.' },
    ...connectionProperties,
  },
} as const;

export const corednsHosts: Module<typeof schema, Observed, Action> = {
  name: 'coredns_hosts',
  description: 'Ensures a hosts { ... fallthrough } block with the given names in the CoreDNS Corefile, keeping every other line.',
  schema,
  controllerOnly: true,

  async observe(ctx, args) {
    const client = connect(ctx, args);
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: args.configmap, namespace: args.namespace };
    let configmap: KubeObject | null;
    try {
      configmap = await client.get(ref);
    } catch (e) {
      throw apiFailure(e, `ConfigMap ${args.namespace}/${args.configmap}`);
    }
    if (!configmap) throw new ModuleError(`ConfigMap ${args.namespace}/${args.configmap} does not exist: is CoreDNS installed?`);
    const corefile = ((configmap.data ?? {}) as Record<string, string>)[args.key];
    if (typeof corefile !== 'string') throw new ModuleError(`ConfigMap ${args.namespace}/${args.configmap} has no ${args.key} key`);
    return { corefile, resourceVersion: configmap.metadata.resourceVersion as string };
  },

  plan(o, args): Plan<Action> {
    const merged = ensureHostsBlock(o.corefile, args.server_block, args.entries);
    const target = `ConfigMap ${args.namespace}/${args.configmap} ${args.key}`;
    if (merged === o.corefile) return { changed: false, summary: `${target}: hosts block up to date` };
    return {
      changed: true,
      summary: `${target}: set hosts ${args.entries.map((e) => e.names.join(' ')).join(', ')}`,
      diffs: [{ target, before: o.corefile, after: merged }],
      action: { corefile: merged, resourceVersion: o.resourceVersion },
    };
  },

  async apply(ctx, action, args) {
    const client = connect(ctx, args);
    // The resourceVersion makes the apply fail if someone changed the Corefile since it was read;
    // force takes the field over from kubeadm or whoever created the ConfigMap.
    const object: KubeObject = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: args.configmap, namespace: args.namespace, resourceVersion: action.resourceVersion },
      data: { [args.key]: action.corefile },
    };
    try {
      await client.apply(object, { force: true });
    } catch (e) {
      throw apiFailure(e, `ConfigMap ${args.namespace}/${args.configmap}`);
    }
    return { changed: true };
  },
};
