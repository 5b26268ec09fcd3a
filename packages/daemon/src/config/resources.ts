import type { LabelSelector } from '@ingot/allocator';
import type { BFDProfile, PeerBfd } from './bfd-profile.js';
import type { NodeConfig } from './node-config.js';

/**
 * MetalLB's configuration resources (group `metallb.io`), as the daemon reads them. Field names and defaults are MetalLB's
 * (api/v1beta1, BGPPeer api/v1beta2).
 */

export type { LabelSelector, LabelSelectorRequirement } from '@ingot/allocator';
export type { ConfigIssue } from './config-issue.js';

/** IPAddressPool: addresses the controller may hand out. */
export interface IPAddressPool {
  /** metadata.name */
  name: string;
  /** metadata.labels (used by advertisements' ipAddressPoolSelectors). */
  labels: Record<string, string>;
  /** CIDRs, ranges `A-B` and single addresses, as written. */
  addresses: string[];
  /** @default true */
  autoAssign: boolean;
  /** @default false */
  avoidBuggyIPs: boolean;
  /** Which services the pool is pinned to; undefined when absent. */
  serviceAllocation?: {
    /** Lower is preferred; 0 is lowest. @default 0 */
    priority: number;
    /** Namespaces the pool serves. */
    namespaces: string[];
    /** Namespace selectors (resolved to names by the caller). */
    namespaceSelectors: LabelSelector[];
    /** Service label selectors, ORed. */
    serviceSelectors: LabelSelector[];
  };
}

/** Fields shared by L2Advertisement and BGPAdvertisement. */
export interface AdvertisementCommon {
  /** metadata.name */
  name: string;
  /** Pools by name; with ipAddressPoolSelectors both empty, every pool. */
  ipAddressPools: string[];
  /** Pools by label. */
  ipAddressPoolSelectors: LabelSelector[];
  /** Nodes allowed to announce; empty = all nodes. */
  nodeSelectors: LabelSelector[];
  /** Services announced; empty = all services. */
  serviceSelectors: LabelSelector[];
}

/** L2Advertisement: announce pools' IPs with ARP/NDP. */
export interface L2Advertisement extends AdvertisementCommon {
  /** Interfaces to answer on; empty = all. */
  interfaces: string[];
  /** Soft node preferences, summed per node. */
  preferredNodeSelectors: { weight: number; preference: LabelSelector }[];
}

/** BGPAdvertisement: announce pools' IPs to BGP peers. */
export interface BGPAdvertisement extends AdvertisementCommon {
  /** @default 32 */
  aggregationLength: number;
  /** @default 128 */
  aggregationLengthV6: number;
  /** LOCAL_PREF toward iBGP peers. @default 0 */
  localPref: number;
  /** `A:B`, `large:X:Y:Z`, or a Community alias name. */
  communities: string[];
  /** BGPPeer names; empty = all peers. */
  peers: string[];
  /**
   * Weighted ECMP (annotation `ingot.dev/weighted-ecmp: endpoints`): for `externalTrafficPolicy: Local` Services each
   * node sends the link bandwidth extended community in proportion to its serving endpoints of the Service.
   */
  weightedEcmp?: boolean;
}

/** BGPPeer (v1beta2 fields the daemon supports). */
export interface BGPPeer {
  /** metadata.name */
  name: string;
  /** Our AS number. */
  myASN: number;
  /** The peer's AS number; 0 when `dynamicASN` is set. */
  peerASN: number;
  /** Accept the peer's AS from its OPEN: ours (`internal`, iBGP) or any other (`external`, eBGP). */
  dynamicASN?: 'internal' | 'external';
  /** Negotiate only the family of `peerAddress` (no IPv6 over an IPv4 session or the reverse). */
  disableMP?: boolean;
  /**
   * ADD-PATH send (RFC 7911; annotation `ingot.dev/add-path: send`): besides its own path, each node sends the other
   * nodes that announce the same prefix as further paths (their gossip addresses as next hops), so a route reflector
   * this BGPPeer is learns every node's next hop from any one session.
   */
  addPath?: boolean;
  /** The peer's address; `''` with `interface`, until the neighbour is found (then its scoped link-local address). */
  peerAddress: string;
  /**
   * BGP unnumbered: the interface the peer is on. Its link-local address is learnt from its IPv6 router advertisements
   * (we advertise too, as FRR's `neighbor IFNAME interface`); IPv4 routes go with an IPv6 next hop (RFC 8950).
   */
  interface?: string;
  /** Local address to bind. */
  sourceAddress?: string;
  /** @default 179 */
  peerPort: number;
  /** Hold time in seconds (0 or >= 3). @default 90 */
  holdTime: number;
  /** Keepalive in seconds. @default holdTime / 3 */
  keepaliveTime: number;
  /** BGP identifier; derived from the node when absent. */
  routerID?: string;
  /** Seconds between connection attempts (BGP ConnectRetry timer, MetalLB's `connectTime`). @default 5 */
  connectTime?: number;
  /** Nodes on which this session exists; empty = all. */
  nodeSelectors: LabelSelector[];
  /** TCP MD5 password. */
  password?: string;
  /** Graceful restart (RFC 4724). @default false */
  enableGracefulRestart: boolean;
  /** eBGP multihop. @default false */
  ebgpMultiHop: boolean;
  /** Linux VRF device the session is bound to (SO_BINDTODEVICE). */
  vrf?: string;
  /** BFDProfile name (spec.bfdProfile). */
  bfdProfile?: string;
  /** The BFD timers of `bfdProfile`, resolved by the parser. */
  bfd?: PeerBfd;
}

/** A Community alias (Community CR entry). */
export interface CommunityAlias {
  /** Alias name. */
  name: string;
  /** `A:B` or `large:X:Y:Z`. */
  value: string;
}

/** A Kubernetes Service as the standalone daemon reads it (the fields MetalLB honours). */
export interface ServiceResource {
  /** metadata.namespace/metadata.name */
  key: string;
  /** metadata.namespace */
  namespace: string;
  /** metadata.name */
  name: string;
  /** metadata.labels */
  labels: Record<string, string>;
  /** metadata.annotations */
  annotations: Record<string, string>;
  /** spec.type */
  type: string;
  /** spec.clusterIPs (or clusterIP) */
  clusterIPs: string[];
  /** spec.ipFamilyPolicy */
  ipFamilyPolicy: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
  /** spec.ipFamilies */
  ipFamilies: ('IPv4' | 'IPv6')[];
  /** spec.loadBalancerIP */
  loadBalancerIP?: string;
  /** spec.ports[].{protocol,port} */
  ports: { protocol: string; port: number }[];
  /** spec.selector */
  selector: Record<string, string>;
  /** spec.externalTrafficPolicy */
  externalTrafficPolicy: 'Cluster' | 'Local';
  /**
   * Nodes with a serving endpoint of the Service, when known (Kubernetes mode reads them from EndpointSlices). With
   * `externalTrafficPolicy: Local` only these nodes announce it, in layer 2 and BGP, as MetalLB does.
   */
  endpointNodes?: string[];
  /** Serving endpoints per node, when known (Kubernetes mode, `externalTrafficPolicy: Local`): for weighted ECMP. */
  endpointCounts?: Record<string, number>;
}

/** The whole configuration: MetalLB's resources plus, in standalone mode, Services. */
export interface IngotConfig {
  /** IPAddressPools in document order. */
  pools: IPAddressPool[];
  /** L2Advertisements. */
  l2Advertisements: L2Advertisement[];
  /** BGPAdvertisements. */
  bgpAdvertisements: BGPAdvertisement[];
  /** BGPPeers. */
  bgpPeers: BGPPeer[];
  /** Community aliases from every Community resource. */
  communities: CommunityAlias[];
  /** Services given in the configuration (standalone mode, without Kubernetes). */
  services: ServiceResource[];
  /** `kind: Node` documents (standalone mode): per-machine settings, selected by node name. */
  nodes: NodeConfig[];
  /** BFDProfiles (their timers are also resolved into each BGPPeer's `bfd`). */
  bfdProfiles?: BFDProfile[];
}
