// Kubernetes objects for the Kubernetes-mode lab tests (kube-harness.ts): the shipped manifests of
// packages/daemon/deploy (CRDs, RBAC, webhooks, workloads) as a user installs them, and builders for the objects a
// test creates in place of kubelet and the EndpointSlice controller (Nodes, Services, EndpointSlices) and the
// configuration CRs.
import type { KubeObject } from '@ingot/lab';
import { readManifests } from '../deploy/manifests.js';

/** MetalLB's namespace. */
export const METALLB_NAMESPACE = 'metallb-system';
/** The namespace of the tests' Services. */
export const APP_NAMESPACE = 'demo';
/** ServiceAccount the controller runs as (deploy/rbac.yaml). */
export const CONTROLLER_SA = 'ingot-controller';
/** ServiceAccount the speakers run as (deploy/rbac.yaml). */
export const SPEAKER_SA = 'ingot-speaker';
/** Where the controller serves its webhooks in the lab: the API server's own namespace (no kube-proxy for the Service). */
export const WEBHOOK_URL = 'https://127.0.0.1:9443';

/** MetalLB's configuration kinds: plural, version served. */
const CR_TYPES = [
  { kind: 'IPAddressPool', plural: 'ipaddresspools', version: 'v1beta1' },
  { kind: 'L2Advertisement', plural: 'l2advertisements', version: 'v1beta1' },
  { kind: 'BGPAdvertisement', plural: 'bgpadvertisements', version: 'v1beta1' },
  { kind: 'Community', plural: 'communities', version: 'v1beta1' },
  { kind: 'BGPPeer', plural: 'bgppeers', version: 'v1beta2' },
] as const;

/**
 * deploy/kustomization.yaml's resources in order, as shipped, except that the webhooks (validating, and the BGPPeer
 * CRD's conversion) dial {@link WEBHOOK_URL} instead of the Service.
 */
export function shippedObjects(): KubeObject[] {
  const k = readManifests('kustomization.yaml')[0] as unknown as { resources: string[] };
  return k.resources.flatMap((file) => readManifests(file)).map((o) => webhooksToLoopback(o as unknown as KubeObject));
}

function webhooksToLoopback(obj: KubeObject): KubeObject {
  const o = structuredClone(obj) as KubeObject & Record<string, unknown>;
  if (o.kind === 'ValidatingWebhookConfiguration') {
    for (const w of o.webhooks as { clientConfig: { service?: { path: string }; url?: string } }[])
      w.clientConfig = { url: `${WEBHOOK_URL}${w.clientConfig.service?.path ?? ''}` };
  }
  const conversion = (o.spec as { conversion?: { webhook?: { clientConfig: Record<string, unknown> } } } | undefined)
    ?.conversion;
  if (o.kind === 'CustomResourceDefinition' && conversion?.webhook) {
    const path = (conversion.webhook.clientConfig.service as { path: string }).path;
    conversion.webhook.clientConfig = { url: `${WEBHOOK_URL}${path}` };
  }
  return o;
}

/** A Namespace. */
export function namespaceObject(name: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels } };
}

/**
 * A Node's status with its Ready condition set to `status` ('Unknown' is what the node lifecycle controller writes
 * when a node stops reporting), for the status subresource.
 */
export function nodeReadyStatus(name: string, ipv4: string, status: 'True' | 'False' | 'Unknown'): KubeObject {
  const obj = nodeObjects(name, ipv4).status;
  const conditions = (obj.status as { conditions: Record<string, string>[] }).conditions;
  for (const c of conditions) {
    c.status = status;
    if (status !== 'True') {
      c.reason = 'NodeStatusUnknown';
      c.message = 'the lab test plays the node lifecycle controller: kubelet stopped posting node status';
    }
  }
  return obj;
}

/** A Node as kubelet would register it (labels), and its status (Ready, InternalIP) for the status subresource. */
export function nodeObjects(
  name: string,
  ipv4: string,
  labels: Record<string, string> = {},
): { node: KubeObject; status: KubeObject } {
  const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  return {
    node: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', ...labels } },
      spec: {},
    },
    status: {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name },
      status: {
        conditions: [
          {
            type: 'Ready',
            status: 'True',
            reason: 'KubeletReady',
            message: 'the lab test plays kubelet',
            lastHeartbeatTime: now,
            lastTransitionTime: now,
          },
        ],
        addresses: [
          { type: 'InternalIP', address: ipv4 },
          { type: 'Hostname', address: name },
        ],
      },
    },
  };
}

/** Options of {@link serviceObject}. */
export interface ServiceSpec {
  /** Annotations, e.g. `metallb.io/loadBalancerIPs`. */
  annotations?: Record<string, string>;
  /** Default Cluster. */
  externalTrafficPolicy?: 'Cluster' | 'Local';
  /** TCP ports (default [80]). */
  ports?: number[];
  /** `spec.loadBalancerClass`. */
  loadBalancerClass?: string;
}

/** A `type: LoadBalancer` Service in {@link APP_NAMESPACE} without a selector (the test writes its EndpointSlices). */
export function serviceObject(name: string, spec: ServiceSpec = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: APP_NAMESPACE, ...(spec.annotations ? { annotations: spec.annotations } : {}) },
    spec: {
      type: 'LoadBalancer',
      ports: (spec.ports ?? [80]).map((port) => ({ name: `tcp-${port}`, port, targetPort: port, protocol: 'TCP' })),
      externalTrafficPolicy: spec.externalTrafficPolicy ?? 'Cluster',
      allocateLoadBalancerNodePorts: false,
      ...(spec.loadBalancerClass ? { loadBalancerClass: spec.loadBalancerClass } : {}),
    },
  };
}

/**
 * The EndpointSlice the EndpointSlice controller would write for `service` with one ready endpoint (the node's own
 * address: its HTTP server) on each of `nodes`; `nodes` maps node name to IPv4 address.
 */
export function endpointSliceObject(service: string, nodes: Record<string, string>, ports = [80]): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${service}-lab`,
      namespace: APP_NAMESPACE,
      labels: { 'kubernetes.io/service-name': service, 'endpointslice.kubernetes.io/managed-by': 'ingot-lab' },
    },
    addressType: 'IPv4',
    endpoints: Object.entries(nodes).map(([nodeName, address]) => ({
      addresses: [address],
      nodeName,
      conditions: { ready: true, serving: true, terminating: false },
    })),
    ports: ports.map((port) => ({ name: `tcp-${port}`, port, protocol: 'TCP' })),
  };
}

/** A MetalLB configuration CR in {@link METALLB_NAMESPACE}. */
export function metallbObject(kind: (typeof CR_TYPES)[number]['kind'], name: string, spec: unknown): KubeObject {
  const type = CR_TYPES.find((t) => t.kind === kind);
  if (!type) throw new Error(`unknown MetalLB kind ${kind}`);
  return { apiVersion: `metallb.io/${type.version}`, kind, metadata: { name, namespace: METALLB_NAMESPACE }, spec };
}
