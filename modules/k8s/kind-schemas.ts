// Offline schemas for the kinds plinth's roles write: Namespace, Secret, ConfigMap,
// Deployment (apps/v1) and Service. Written by hand from the Kubernetes API reference (1.30)
// because the OpenAPI-derived packages (kubernetes-models) accept unknown fields: a typo such
// as `containerPorts` would pass them silently. These schemas set additionalProperties:false
// on every level they describe; deeper structures they do not describe (affinity, probes,
// volumes, securityContext, ...) are only checked to be mappings or lists, and the API server
// checks the rest (plinth applies with fieldValidation=Strict). Other kinds get the common
// envelope check only.

type Schema = Record<string, unknown>;

const str = { type: 'string' };
const int = { type: 'integer' };
const bool = { type: 'boolean' };
const obj = { type: 'object' };
const list = { type: 'array' };
const strMap = { type: 'object', additionalProperties: { type: 'string' } };
const strList = { type: 'array', items: { type: 'string' } };
const quantity = { type: ['string', 'number'] };
const intOrString = { type: ['integer', 'string'] };

function strict(properties: Record<string, unknown>, required: string[] = []): Schema {
  return { type: 'object', additionalProperties: false, properties, ...(required.length ? { required } : {}) };
}

const dnsSubdomain = { type: 'string', maxLength: 253, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$', description: 'must be a lowercase DNS-1123 subdomain' };
const dnsLabel = { type: 'string', maxLength: 63, pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', description: 'must be a lowercase DNS-1123 label (letters, digits, -)' };
const port = { type: 'integer', minimum: 1, maximum: 65535 };
const protocol = { enum: ['TCP', 'UDP', 'SCTP'] };

function metadata(name: Schema): Schema {
  return strict(
    {
      name,
      generateName: str,
      namespace: dnsLabel,
      labels: strMap,
      annotations: strMap,
      finalizers: strList,
      ownerReferences: list,
      // Present in manifests exported with `kubectl get -o yaml` or `create --dry-run`: accepted, not applied.
      creationTimestamp: { type: ['string', 'null'] },
      uid: str,
      resourceVersion: str,
      generation: int,
      managedFields: list,
      selfLink: str,
      deletionTimestamp: { type: ['string', 'null'] },
      deletionGracePeriodSeconds: int,
    },
    ['name'],
  );
}

const labelSelector = strict({
  matchLabels: strMap,
  matchExpressions: {
    type: 'array',
    items: strict({ key: str, operator: { enum: ['In', 'NotIn', 'Exists', 'DoesNotExist'] }, values: strList }, ['key', 'operator']),
  },
});

const envVar = strict({ name: str, value: str, valueFrom: obj }, ['name']);
const envFromSource = strict({
  prefix: str,
  configMapRef: strict({ name: str, optional: bool }, ['name']),
  secretRef: strict({ name: str, optional: bool }, ['name']),
});
const containerPort = strict({ containerPort: port, hostIP: str, hostPort: port, name: { type: 'string', maxLength: 15 }, protocol }, ['containerPort']);
const resources = strict({ limits: { type: 'object', additionalProperties: quantity }, requests: { type: 'object', additionalProperties: quantity }, claims: list });

const container = strict(
  {
    name: dnsLabel,
    image: str,
    imagePullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] },
    command: strList,
    args: strList,
    workingDir: str,
    env: { type: 'array', items: envVar },
    envFrom: { type: 'array', items: envFromSource },
    ports: { type: 'array', items: containerPort },
    resources,
    resizePolicy: list,
    restartPolicy: str,
    volumeMounts: list,
    volumeDevices: list,
    livenessProbe: obj,
    readinessProbe: obj,
    startupProbe: obj,
    lifecycle: obj,
    securityContext: obj,
    terminationMessagePath: str,
    terminationMessagePolicy: { enum: ['File', 'FallbackToLogsOnError'] },
    stdin: bool,
    stdinOnce: bool,
    tty: bool,
  },
  ['name'],
);

const podSpec = strict(
  {
    containers: { type: 'array', minItems: 1, items: container },
    initContainers: { type: 'array', items: container },
    ephemeralContainers: list,
    activeDeadlineSeconds: int,
    affinity: obj,
    automountServiceAccountToken: bool,
    dnsConfig: obj,
    dnsPolicy: { enum: ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'] },
    enableServiceLinks: bool,
    hostAliases: list,
    hostIPC: bool,
    hostNetwork: bool,
    hostPID: bool,
    hostUsers: bool,
    hostname: str,
    imagePullSecrets: { type: 'array', items: strict({ name: str }) },
    nodeName: str,
    nodeSelector: strMap,
    os: obj,
    overhead: obj,
    preemptionPolicy: str,
    priority: int,
    priorityClassName: str,
    readinessGates: list,
    resourceClaims: list,
    resources: obj,
    restartPolicy: { enum: ['Always', 'OnFailure', 'Never'] },
    runtimeClassName: str,
    schedulerName: str,
    schedulingGates: list,
    securityContext: obj,
    serviceAccount: str,
    serviceAccountName: str,
    setHostnameAsFQDN: bool,
    shareProcessNamespace: bool,
    subdomain: str,
    terminationGracePeriodSeconds: int,
    tolerations: list,
    topologySpreadConstraints: list,
    volumes: list,
  },
  ['containers'],
);

function envelope(apiVersion: string, kind: string, name: Schema, rest: Record<string, unknown>, required: string[] = []): Schema {
  return strict({ apiVersion: { const: apiVersion }, kind: { const: kind }, metadata: metadata(name), status: obj, ...rest }, ['apiVersion', 'kind', 'metadata', ...required]);
}

const dataKeys = { type: 'string', pattern: '^[-._a-zA-Z0-9]+$', maxLength: 253 };

export const kindSchemas: Record<string, Schema> = {
  'v1/Namespace': envelope('v1', 'Namespace', dnsLabel, { spec: strict({ finalizers: strList }) }),
  'v1/Secret': envelope('v1', 'Secret', dnsSubdomain, {
    type: str,
    immutable: bool,
    data: {
      type: 'object',
      propertyNames: dataKeys,
      additionalProperties: { type: 'string', pattern: '^[A-Za-z0-9+/]*={0,2}$', description: 'must be base64 (use stringData for clear text)' },
    },
    stringData: { type: 'object', propertyNames: dataKeys, additionalProperties: str },
  }),
  'v1/ConfigMap': envelope('v1', 'ConfigMap', dnsSubdomain, {
    immutable: bool,
    data: { type: 'object', propertyNames: dataKeys, additionalProperties: str },
    binaryData: { type: 'object', propertyNames: dataKeys, additionalProperties: str },
  }),
  'apps/v1/Deployment': envelope(
    'apps/v1',
    'Deployment',
    dnsSubdomain,
    {
      spec: strict(
        {
          replicas: { type: 'integer', minimum: 0 },
          selector: labelSelector,
          template: strict({ metadata: obj, spec: podSpec }, ['spec']),
          strategy: strict({
            type: { enum: ['RollingUpdate', 'Recreate'] },
            rollingUpdate: strict({ maxSurge: intOrString, maxUnavailable: intOrString }),
          }),
          minReadySeconds: int,
          revisionHistoryLimit: int,
          paused: bool,
          progressDeadlineSeconds: int,
        },
        ['selector', 'template'],
      ),
    },
    ['spec'],
  ),
  'v1/Service': envelope('v1', 'Service', dnsLabel, {
    spec: strict({
      type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'] },
      selector: strMap,
      ports: {
        type: 'array',
        items: strict({ name: str, port, targetPort: intOrString, nodePort: port, protocol, appProtocol: str }, ['port']),
      },
      clusterIP: str,
      clusterIPs: strList,
      externalIPs: strList,
      externalName: str,
      externalTrafficPolicy: { enum: ['Cluster', 'Local'] },
      internalTrafficPolicy: { enum: ['Cluster', 'Local'] },
      healthCheckNodePort: int,
      ipFamilies: strList,
      ipFamilyPolicy: { enum: ['SingleStack', 'PreferDualStack', 'RequireDualStack'] },
      loadBalancerClass: str,
      loadBalancerIP: str,
      loadBalancerSourceRanges: strList,
      allocateLoadBalancerNodePorts: bool,
      publishNotReadyAddresses: bool,
      sessionAffinity: { enum: ['ClientIP', 'None'] },
      sessionAffinityConfig: obj,
      trafficDistribution: str,
    }),
  }),
};

/** The envelope every object needs, whatever its kind. */
export const anyObjectSchema: Schema = {
  type: 'object',
  required: ['apiVersion', 'kind', 'metadata'],
  properties: {
    apiVersion: { type: 'string', minLength: 1 },
    kind: { type: 'string', minLength: 1 },
    metadata: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1 }, namespace: str } },
  },
};

export function schemaFor(apiVersion: unknown, kind: unknown): Schema {
  return kindSchemas[`${String(apiVersion)}/${String(kind)}`] ?? anyObjectSchema;
}
