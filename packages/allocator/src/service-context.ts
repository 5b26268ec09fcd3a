/**
 * What the allocator knows about a Service ({@link ServiceInfo}), validated and normalized once into a
 * {@link ServiceContext}: families and policy, port keys, sharing and backend keys, namespace and labels.
 */
import type { Family } from './address.js';
import { AllocationError, describeValue, goQuote } from './errors.js';
import { backendKeyFor, type Labels } from './label-selector.js';

/** Kubernetes IP family name. */
export type IpFamilyName = 'IPv4' | 'IPv6';

/** Kubernetes `spec.ipFamilyPolicy`. */
export type IpFamilyPolicy = 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';

/** One `spec.ports` entry; only protocol and port matter for sharing. */
export interface ServicePort {
  /** `TCP` (default), `UDP` or `SCTP`. */
  readonly protocol?: string;
  /** Port number, 0 to 65535. */
  readonly port: number;
}

/** What the allocator needs to know about a Service. Every field is optional. */
export interface ServiceInfo {
  /** Namespace, for pools restricted by namespace. */
  readonly namespace?: string;
  /** Service labels, for pools with service selectors. */
  readonly labels?: Labels;
  /**
   * The families of the service's ClusterIPs, primary first: `['IPv4']` (default), `['IPv6']`, or two for dual
   * stack (the first is the preferred family under PreferDualStack).
   */
  readonly ipFamilies?: readonly IpFamilyName[];
  /** Default `SingleStack`. */
  readonly ipFamilyPolicy?: IpFamilyPolicy;
  /** Ports, for sharing conflicts. */
  readonly ports?: readonly ServicePort[];
  /** The `metallb.io/allow-shared-ip` value; empty or absent means no sharing. */
  readonly sharingKey?: string;
  /** Backend key; when absent it is derived from `externalTrafficPolicy` and `selector` as MetalLB does. */
  readonly backendKey?: string;
  /** `Cluster` (default) or `Local`. */
  readonly externalTrafficPolicy?: 'Cluster' | 'Local';
  /** The service's pod selector (backend key for `Local`). */
  readonly selector?: Labels;
}

/** A service family: one address family, or dual stack. */
export type ServiceFamily = 4 | 6 | 'dual';

/** A validated, normalized {@link ServiceInfo}: what the allocation rules read. */
export interface ServiceContext {
  readonly family: ServiceFamily;
  readonly primary: Family;
  readonly policy: IpFamilyPolicy;
  /** `PROTO/port` keys. */
  readonly ports: readonly string[];
  readonly sharing: string;
  readonly backend: string;
  readonly namespace: string;
  readonly labels: Labels;
}

/** `ipv4`, `ipv6` or `dual`, as MetalLB's messages spell a family. */
export const familyName = (f: ServiceFamily): string => (f === 4 ? 'ipv4' : f === 6 ? 'ipv6' : 'dual');

const EMPTY_LABELS: Labels = Object.freeze({});
/** The context of an absent service description: IPv4, single stack, no ports, no sharing. */
export const DEFAULT_CTX: ServiceContext = Object.freeze({
  family: 4,
  primary: 4,
  policy: 'SingleStack',
  ports: [],
  sharing: '',
  backend: '',
  namespace: '',
  labels: EMPTY_LABELS,
}) as ServiceContext;

const NO_PORTS: readonly string[] = Object.freeze([]);
const TCP_PORT_KEYS = new Map<number, string>();

/** `PROTO/port` (Go's `Port.String`), TCP keys interned since every service repeats them. */
function portKey(p: ServicePort): string {
  if (p === null || typeof p !== 'object' || !Number.isInteger(p.port) || p.port < 0 || p.port > 65535) {
    invalid('ports must be objects with an integer port 0..65535');
  }
  const proto = p.protocol ?? 'TCP';
  if (typeof proto !== 'string') invalid('port protocol must be a string');
  if (proto !== 'TCP') return `${proto}/${p.port}`;
  let k = TCP_PORT_KEYS.get(p.port);
  if (k === undefined) {
    k = `TCP/${p.port}`;
    TCP_PORT_KEYS.set(p.port, k);
  }
  return k;
}

function isLabelMap(x: unknown): x is Labels {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return false;
  for (const v of Object.values(x)) if (typeof v !== 'string') return false;
  return true;
}

function invalid(message: string): never {
  throw new AllocationError('INVALID_SERVICE', message);
}

/** Validates and normalizes a service description. */
export function contextOf(svc: ServiceInfo | undefined): ServiceContext {
  if (svc === undefined) return DEFAULT_CTX;
  if (svc === null || typeof svc !== 'object') invalid('service must be an object');
  const fams = svc.ipFamilies ?? ['IPv4'];
  if (!Array.isArray(fams) || fams.length < 1 || fams.length > 2) invalid('ipFamilies must list one or two families');
  for (const f of fams) if (f !== 'IPv4' && f !== 'IPv6') invalid(`unknown IP family ${goQuote(describeValue(f))}`);
  if (fams.length === 2 && fams[0] === fams[1]) invalid('ipFamilies lists the same family twice');
  const policy = svc.ipFamilyPolicy ?? 'SingleStack';
  if (policy !== 'SingleStack' && policy !== 'PreferDualStack' && policy !== 'RequireDualStack') {
    invalid(`unknown ipFamilyPolicy ${goQuote(describeValue(policy))}`);
  }
  const primary: Family = fams[0] === 'IPv6' ? 6 : 4;
  const family: ServiceFamily = fams.length === 2 ? 'dual' : primary;
  if (family !== 'dual' && policy === 'RequireDualStack') {
    invalid('not enough clusterips: RequireDualStack needs two ipFamilies');
  }
  if (family === 'dual' && policy === 'SingleStack') invalid('SingleStack allows one ipFamily');
  const list = svc.ports ?? [];
  if (!Array.isArray(list)) invalid('ports must be a list');
  const ports = list.length === 0 ? NO_PORTS : list.map(portKey);
  const sharing = svc.sharingKey ?? '';
  if (typeof sharing !== 'string') invalid('sharingKey must be a string');
  if (svc.selector !== undefined && !isLabelMap(svc.selector)) invalid('selector must map strings to strings');
  if (svc.labels !== undefined && !isLabelMap(svc.labels)) invalid('labels must map strings to strings');
  const backend = svc.backendKey ?? backendKeyFor(svc.externalTrafficPolicy, svc.selector);
  if (typeof backend !== 'string') invalid('backendKey must be a string');
  const namespace = svc.namespace ?? '';
  if (typeof namespace !== 'string') invalid('namespace must be a string');
  return {
    family,
    primary,
    // A single-family service gets one IP whatever its policy (MetalLB would hand a PreferDualStack service with one
    // ClusterIP two IPs from a dual-stack pool, which its controller then rejects as a family change).
    policy: family === 'dual' ? policy : 'SingleStack',
    ports,
    sharing,
    backend,
    namespace,
    labels: svc.labels ?? EMPTY_LABELS,
  };
}
