import { isIP } from 'node:net';
import { compileLabelSelector, formatPrefix, type LabelSelector, type Labels, parseCidr } from '@ingot/allocator';
import { type Candidate, sortCandidates } from '@ingot/election';
import type {
  AdvertisementCommon,
  BGPAdvertisement,
  IngotConfig,
  IPAddressPool,
  ServiceResource,
} from '../config/resources.js';
import { ALLOW_SHARED_IP_ANNOTATION, readAnnotation } from '../controller/annotations.js';

/** The link bandwidth one serving endpoint stands for (weighted ECMP only uses the ratios). */
const BYTES_PER_MBIT = 125_000;

/** Nodes carrying this label never announce (MetalLB honours it for L2 and BGP). */
export const EXCLUDE_LB_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';

/** A node as the speaker sees it: its name and labels; only live members are given. */
export interface NodeInfo {
  /** Node name (the memberlist member name). */
  name: string;
  /** Node labels. */
  labels: Labels;
  /** The node's address on the cluster network (its gossip address), the next hop other nodes announce for it. */
  address?: string;
}

/** A service with the IPs the controller gave it and the pool they came from. */
export interface AllocatedService {
  /** The service. */
  service: ServiceResource;
  /** Its IPs, `[v4, v6]`. */
  ips: readonly string[];
  /** The pool that served them. */
  pool: string;
}

/** One layer-2 announcement: `node` answers ARP/NDP for `ip` on `interfaces` (empty = all). */
export interface L2Announcement {
  /** Service key. */
  service: string;
  /** The IP. */
  ip: string;
  /** The elected node. */
  node: string;
  /** The next node in the IP's candidate order: the one that takes it over if `node` dies (the `fast` failover profile). */
  successor?: string;
  /** Interfaces to answer on; empty means every eligible interface. */
  interfaces: string[];
}

/** One BGP announcement from this node. */
export interface BgpAnnouncement {
  /** Service key. */
  service: string;
  /** The prefix (`ip/aggregationLength`). */
  prefix: string;
  /** BGPPeer names to send it to; empty = all peers. */
  peers: string[];
  /** Standard communities `A:B`. */
  communities: string[];
  /** Large communities `X:Y:Z`. */
  largeCommunities: string[];
  /** LOCAL_PREF for iBGP peers (0 = unset). */
  localPref: number;
  /**
   * Link bandwidth to send (bytes/s; weighted ECMP): 1 Mbit/s per serving endpoint of the Service on this node, when the
   * advertisement asks for it and the Service is `externalTrafficPolicy: Local` with known endpoint counts.
   */
  linkBandwidth?: number;
  /**
   * The other live nodes that announce this prefix under the same advertisement, as next hops of the prefix's family
   * (their `address`, in node name order): sent as further ADD-PATH paths to BGPPeers with `addPath`. Only computed
   * when some BGPPeer has `addPath`.
   */
  nextHops?: string[];
}

/** What a node should announce, and why a service is not announced. */
export interface AnnouncementPlan {
  /** Layer-2 announcements for every IP (whichever node was elected). */
  l2: L2Announcement[];
  /** BGP announcements this node makes. */
  bgp: BgpAnnouncement[];
  /** Services not announced in layer 2, with MetalLB's reason. */
  skipped: { service: string; reason: string }[];
}

/**
 * Computes, purely, what each node announces: for layer 2 the leader of each IP among the eligible live nodes
 * (MetalLB's ordering: preference weight, then sha256(node + "#" + ip)); for BGP what `self` advertises.
 * @param config - the configuration in force
 * @param services - allocated services
 * @param nodes - live nodes (including `self`)
 * @param self - this node's name
 */
export function planAnnouncements(
  config: IngotConfig,
  services: readonly AllocatedService[],
  nodes: readonly NodeInfo[],
  self: string,
): AnnouncementPlan {
  const plan: AnnouncementPlan = { l2: [], bgp: [], skipped: [] };
  const pools = new Map(config.pools.map((p) => [p.name, p]));
  const usable = nodes.filter((n) => !(EXCLUDE_LB_LABEL in n.labels));
  const selfNode = usable.find((n) => n.name === self);
  const addPath = config.bgpPeers.some((p) => p.addPath);
  for (const entry of services) {
    const pool = pools.get(entry.pool);
    if (!pool) continue;
    const key = entry.service.key;
    // externalTrafficPolicy: Local — only nodes with a serving endpoint may announce (MetalLB).
    const localNodes =
      entry.service.externalTrafficPolicy === 'Local' && entry.service.endpointNodes
        ? new Set(entry.service.endpointNodes)
        : undefined;
    const l2 = config.l2Advertisements.filter((a) => selectsPool(a, pool) && selectsService(a, entry.service));
    if (l2.length > 0) {
      const shared = readAnnotation(entry.service.annotations, ALLOW_SHARED_IP_ANNOTATION);
      if (shared && l2.some((a) => a.serviceSelectors.length > 0)) {
        plan.skipped.push({ service: key, reason: 'sharedIPWithServiceSelector' });
      } else {
        const candidates: Candidate[] = usable
          .filter((n) => !localNodes || localNodes.has(n.name))
          .filter((n) => l2.some((a) => matchesAny(a.nodeSelectors, n.labels, true)))
          .map((n) => ({ name: n.name, weight: preferenceWeight(l2, n.labels) }));
        const interfaces = l2.some((a) => a.interfaces.length === 0)
          ? []
          : [...new Set(l2.flatMap((a) => a.interfaces))];
        for (const ip of entry.ips) {
          const [node, successor] = sortCandidates(candidates, ip);
          if (node === undefined) plan.skipped.push({ service: key, reason: 'noEligibleNode' });
          else plan.l2.push({ service: key, ip, node, ...(successor !== undefined ? { successor } : {}), interfaces });
        }
      }
    }
    if (!selfNode || (localNodes && !localNodes.has(self))) continue;
    for (const adv of config.bgpAdvertisements) {
      if (!selectsPool(adv, pool) || !selectsService(adv, entry.service)) continue;
      if (!matchesAny(adv.nodeSelectors, selfNode.labels, true)) continue;
      const endpoints = adv.weightedEcmp && localNodes ? entry.service.endpointCounts?.[self] : undefined;
      // ADD-PATH: the other nodes announcing under this advertisement (the same eligibility as this node's)
      const others = addPath
        ? usable
            .filter((n) => n.name !== self && n.address !== undefined && (!localNodes || localNodes.has(n.name)))
            .filter((n) => matchesAny(adv.nodeSelectors, n.labels, true))
            .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0))
        : [];
      for (const ip of entry.ips) {
        const a = bgpAnnouncement(config, adv, key, ip);
        const family = isIP(ip);
        const nextHops = others.flatMap((n) => (n.address && isIP(n.address) === family ? [n.address] : []));
        if (nextHops.length > 0) a.nextHops = nextHops;
        plan.bgp.push(
          endpoints !== undefined && endpoints > 0 ? { ...a, linkBandwidth: endpoints * BYTES_PER_MBIT } : a,
        );
      }
    }
  }
  return plan;
}

function bgpAnnouncement(config: IngotConfig, adv: BGPAdvertisement, service: string, ip: string): BgpAnnouncement {
  const v6 = isIP(ip) === 6;
  const length = v6 ? adv.aggregationLengthV6 : adv.aggregationLength;
  const communities: string[] = [];
  const largeCommunities: string[] = [];
  for (const c of adv.communities) {
    const value = c.includes(':') ? c : (config.communities.find((a) => a.name === c)?.value ?? c);
    if (value.startsWith('large:')) largeCommunities.push(value.slice('large:'.length));
    else communities.push(value);
  }
  const network = parseCidr(`${ip}/${length}`);
  const prefix = network ? formatPrefix(network) : `${ip}/${length}`;
  return { service, prefix, peers: adv.peers, communities, largeCommunities, localPref: adv.localPref };
}

/** An advertisement applies to a pool named in its list, matched by its selectors, or to every pool when both are empty. */
function selectsPool(adv: AdvertisementCommon, pool: IPAddressPool): boolean {
  if (adv.ipAddressPools.length === 0 && adv.ipAddressPoolSelectors.length === 0) return true;
  return adv.ipAddressPools.includes(pool.name) || matchesAny(adv.ipAddressPoolSelectors, pool.labels, false);
}

function selectsService(adv: AdvertisementCommon, svc: ServiceResource): boolean {
  return matchesAny(adv.serviceSelectors, svc.labels, true);
}

/** True when any selector matches; an empty list means `emptyMeans`. */
function matchesAny(selectors: readonly LabelSelector[], labels: Labels, emptyMeans: boolean): boolean {
  if (selectors.length === 0) return emptyMeans;
  return selectors.some((s) => {
    const compiled = compileLabelSelector(s);
    return compiled.ok && compiled.matches(labels);
  });
}

/** Sum of the weights of every matching preferredNodeSelector across the advertisements (MetalLB). */
function preferenceWeight(
  advs: readonly { preferredNodeSelectors: { weight: number; preference: LabelSelector }[] }[],
  labels: Labels,
): number {
  let weight = 0;
  for (const a of advs)
    for (const p of a.preferredNodeSelectors) if (matchesAny([p.preference], labels, false)) weight += p.weight;
  return weight;
}
