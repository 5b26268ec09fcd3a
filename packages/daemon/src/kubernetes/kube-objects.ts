import { EXCLUDE_LB_LABEL, type NodeInfo } from '../speaker/announcement-plan.js';

/**
 * The part of a Kubernetes object the daemon reads. Objects arrive either as plain JSON (watch events, custom
 * resources) or as `@kubernetes/client-node` model instances (core lists); both have these fields.
 */
export interface KubeObject {
  /** `v1`, `metallb.io/v1beta1`, ...; absent on items of core lists. */
  apiVersion?: string;
  /** `Service`, `IPAddressPool`, ...; absent on items of core lists. */
  kind?: string;
  /** Object metadata. */
  metadata?: {
    /** metadata.name */
    name?: string;
    /** metadata.namespace */
    namespace?: string;
    /** metadata.uid */
    uid?: string;
    /** metadata.resourceVersion */
    resourceVersion?: string;
    /** metadata.labels */
    labels?: Record<string, string>;
    /** metadata.annotations */
    annotations?: Record<string, string>;
  };
  /** spec, as sent by the API server. */
  spec?: unknown;
  /** status, as sent by the API server. */
  status?: unknown;
}

/** A MetalLB configuration resource type the daemon watches. */
export interface MetalLbResourceType {
  /** Kind, e.g. `IPAddressPool`. */
  kind: string;
  /** API group: `metallb.io`. */
  group: string;
  /** API version served and read (BGPPeer: `v1beta2`). */
  version: string;
  /** Plural resource name, e.g. `ipaddresspools`. */
  plural: string;
}

/** MetalLB's configuration CRs, in the order their objects are validated. */
export const METALLB_RESOURCE_TYPES: readonly MetalLbResourceType[] = [
  { kind: 'IPAddressPool', group: 'metallb.io', version: 'v1beta1', plural: 'ipaddresspools' },
  { kind: 'Community', group: 'metallb.io', version: 'v1beta1', plural: 'communities' },
  { kind: 'BFDProfile', group: 'metallb.io', version: 'v1beta1', plural: 'bfdprofiles' },
  { kind: 'BGPPeer', group: 'metallb.io', version: 'v1beta2', plural: 'bgppeers' },
  { kind: 'L2Advertisement', group: 'metallb.io', version: 'v1beta1', plural: 'l2advertisements' },
  { kind: 'BGPAdvertisement', group: 'metallb.io', version: 'v1beta1', plural: 'bgpadvertisements' },
];

/** MetalLB's default namespace for its CRs. */
export const DEFAULT_METALLB_NAMESPACE = 'metallb-system';

/** `namespace/name` of an object (`name` alone for cluster-scoped objects). */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name ?? ''}` : (obj.metadata?.name ?? '');
}

/** A deep copy as plain JSON (model instances become plain objects; Dates become strings). */
export function toPlain<T>(obj: T): T {
  return JSON.parse(JSON.stringify(obj)) as T;
}

/** The IPs in `status.loadBalancer.ingress[].ip` (`hostname` entries are ignored, as in MetalLB). */
export function ingressIps(svc: KubeObject): string[] {
  return ingressEntries(svc)
    .map((e) => e.ip)
    .filter((ip): ip is string => typeof ip === 'string' && ip !== '');
}

/** The raw `status.loadBalancer.ingress` entries. */
export function ingressEntries(svc: KubeObject): { ip?: string; [k: string]: unknown }[] {
  const status = svc.status as { loadBalancer?: { ingress?: unknown } } | undefined;
  const ingress = status?.loadBalancer?.ingress;
  return Array.isArray(ingress) ? (ingress as { ip?: string }[]) : [];
}

/** `spec.loadBalancerClass`, or undefined. */
export function loadBalancerClassOf(svc: KubeObject): string | undefined {
  const cls = (svc.spec as { loadBalancerClass?: unknown } | undefined)?.loadBalancerClass;
  return typeof cls === 'string' && cls !== '' ? cls : undefined;
}

/**
 * True when this daemon handles the service: its `spec.loadBalancerClass` equals the configured class, and with no
 * class configured only services without a class are handled (MetalLB's `filterByLoadBalancerClass`).
 */
export function handlesClass(svc: KubeObject, loadBalancerClass: string | undefined): boolean {
  return loadBalancerClassOf(svc) === (loadBalancerClass || undefined);
}

/** The taint that marks a node as shut down (Kubernetes non-graceful node shutdown). */
export const OUT_OF_SERVICE_TAINT = 'node.kubernetes.io/out-of-service';

/** Options of {@link nodeCandidate}. */
export interface NodeCandidateOptions {
  /** Keep nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers` eligible (`--ignore-exclude-lb`). */
  ignoreExcludeLabel?: boolean;
  /**
   * Drop nodes whose `Ready` condition is present and not `True`. Meant for running without memberlist, where
   * nothing else notices a dead node (MetalLB #3116). @default false
   */
  requireReady?: boolean;
}

/**
 * A Node as a layer-2/BGP candidate: its name and labels, or undefined when the node must not announce: its condition
 * `NetworkUnavailable` is `True` (MetalLB), it carries the `node.kubernetes.io/out-of-service` taint (MetalLB #3116),
 * or, with `requireReady`, it is not Ready. Nodes with the exclude label are kept here (the plan drops them), unless
 * `ignoreExcludeLabel` strips the label so they stay eligible.
 */
export function nodeCandidate(node: KubeObject, options: NodeCandidateOptions = {}): NodeInfo | undefined {
  const name = node.metadata?.name;
  if (!name) return undefined;
  const status = node.status as { conditions?: { type?: string; status?: string }[] } | undefined;
  const conditions = status?.conditions ?? [];
  if (conditions.some((c) => c.type === 'NetworkUnavailable' && c.status === 'True')) return undefined;
  if (options.requireReady && conditions.some((c) => c.type === 'Ready' && c.status !== 'True')) return undefined;
  const taints = (node.spec as { taints?: { key?: string }[] } | undefined)?.taints ?? [];
  if (taints.some((t) => t.key === OUT_OF_SERVICE_TAINT)) return undefined;
  const labels = { ...(node.metadata?.labels ?? {}) };
  if (options.ignoreExcludeLabel) delete labels[EXCLUDE_LB_LABEL];
  return { name, labels };
}

/** The label an EndpointSlice carries with its Service's name. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/**
 * The Service an EndpointSlice belongs to (`namespace/name`, from its `kubernetes.io/service-name` label), whether it
 * holds an endpoint that can serve, and the nodes of those endpoints. "Can serve" is MetalLB's rule: `ready` unset or
 * true, or `serving` true (terminating but still serving counts).
 */
export function sliceServing(
  slice: KubeObject,
): { service: string; serving: boolean; nodes: string[]; counts: Record<string, number> } | undefined {
  const name = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (!name) return undefined;
  type Endpoint = { nodeName?: string | null; conditions?: { ready?: boolean | null; serving?: boolean | null } };
  const endpoints = (slice as { endpoints?: Endpoint[] }).endpoints ?? [];
  const servingEndpoints = endpoints.filter((e) => {
    const c = e.conditions ?? {};
    return c.ready === undefined || c.ready === null || c.ready === true || c.serving === true;
  });
  const counts: Record<string, number> = {};
  for (const e of servingEndpoints) if (e.nodeName) counts[e.nodeName] = (counts[e.nodeName] ?? 0) + 1;
  const nodes = Object.keys(counts).sort();
  return { service: `${slice.metadata?.namespace ?? ''}/${name}`, serving: servingEndpoints.length > 0, nodes, counts };
}

/**
 * Which Services have a serving endpoint, and on which nodes (for `externalTrafficPolicy: Local`), kept up to date
 * one EndpointSlice change at a time.
 */
export class ServingEndpoints {
  /** Serving slices only: slice key → its Service and the nodes of its serving endpoints. */
  private readonly slices = new Map<string, { service: string; nodes: string[]; counts: Record<string, number> }>();
  private readonly byService = new Map<string, Set<string>>();

  /**
   * Records a slice (added, updated, or deleted when `deleted`); returns the Services whose answer changed: they
   * gained their first serving endpoint, lost their last, or the nodes with serving endpoints or their counts changed
   * (the counts weight ECMP).
   */
  update(slice: KubeObject, deleted = false): string[] {
    const key = objectKey(slice);
    const before = this.slices.get(key);
    const info = deleted ? undefined : sliceServing(slice);
    const after = info?.serving ? { service: info.service, nodes: info.nodes, counts: info.counts } : undefined;
    const touched = [...new Set([before?.service, after?.service].filter((x): x is string => x !== undefined))];
    const signatures = touched.map((svc) => this.signature(svc));
    if (before) {
      this.byService.get(before.service)?.delete(key);
      if (this.byService.get(before.service)?.size === 0) this.byService.delete(before.service);
      this.slices.delete(key);
    }
    if (after) {
      this.slices.set(key, after);
      const keys = this.byService.get(after.service) ?? new Set<string>();
      keys.add(key);
      this.byService.set(after.service, keys);
    }
    return touched.filter((svc, i) => this.signature(svc) !== signatures[i]);
  }

  /** Nodes with a serving endpoint of the Service (sorted; empty when none is known). */
  nodesOf(service: string): string[] {
    const nodes = new Set<string>();
    for (const key of this.byService.get(service) ?? [])
      for (const n of this.slices.get(key)?.nodes ?? []) nodes.add(n);
    return [...nodes].sort();
  }

  /** Serving endpoints per node of the Service (for weighted ECMP), summed over its slices. */
  countsOf(service: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const key of this.byService.get(service) ?? [])
      for (const [node, n] of Object.entries(this.slices.get(key)?.counts ?? {})) out[node] = (out[node] ?? 0) + n;
    return out;
  }

  private signature(service: string): string {
    if (!this.has(service)) return 'none';
    const counts = this.countsOf(service);
    return `serving:${Object.keys(counts)
      .sort()
      .map((n) => `${n}=${counts[n]}`)
      .join(',')}`;
  }

  /** True when the Service (`namespace/name`) has a serving endpoint. */
  has(service: string): boolean {
    return this.byService.has(service);
  }
}
