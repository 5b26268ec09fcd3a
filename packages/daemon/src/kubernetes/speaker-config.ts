import { isIP } from 'node:net';
import { Allocator, compileLabelSelector, type Labels } from '@ingot/allocator';
import { type ParseServiceResult, parseServiceObject } from '../config/parse-config.js';
import type { IngotConfig, IPAddressPool, ServiceResource } from '../config/resources.js';
import {
  ADDRESS_POOL_ANNOTATION,
  ANNOTATION_PREFIX,
  LEGACY_ANNOTATION_PREFIX,
  LOAD_BALANCER_IPS_ANNOTATION,
} from '../controller/annotations.js';
import type { Logger } from '../logger.js';
import { handlesClass, ingressIps, type KubeObject, objectKey } from './kube-objects.js';

/**
 * The configuration a speaker's {@link Daemon} runs on: the cluster's configuration with, as its Services, the live
 * Services of our class that hold IPs in `status.loadBalancer.ingress`. The speaker never allocates: each Service
 * requests exactly its status IPs (as `metallb.io/loadBalancerIPs`, replacing any request or pool annotation of its
 * own), so the Daemon re-claims those IPs and plans their announcements; Services without IPs are left out. Pools lose
 * their `serviceAllocation` (the controller already applied it; namespace labels are not needed here), so an IP is
 * announced when it lies in a pool, as MetalLB's speaker does (a Service with an IP outside every pool is left out,
 * and so is one without a serving endpoint when `serving` is given). BGPPeers whose `nodeSelectors` do not match this node's
 * labels are left out: their sessions exist only on the selected nodes.
 * @param config - the configuration in force
 * @param services - the cached Services
 * @param options - the class handled (default: Services without a class), this node's labels, and where unreadable
 *   Services are reported
 */
export function speakerConfig(
  config: IngotConfig,
  services: readonly KubeObject[],
  options: {
    loadBalancerClass?: string | undefined;
    nodeLabels?: Labels;
    log?: Logger;
    /**
     * Services with a serving endpoint; when given, the others are not announced (MetalLB), and Services with
     * `externalTrafficPolicy: Local` carry the nodes of their serving endpoints (`endpointNodes`).
     */
    serving?: {
      has(service: string): boolean;
      nodesOf?(service: string): string[];
      countsOf?(service: string): Record<string, number>;
    };
  } = {},
): IngotConfig {
  const { loadBalancerClass, log } = options;
  const pools = config.pools.map(({ serviceAllocation: _dropped, ...pool }): IPAddressPool => pool);
  const owners = new Allocator();
  owners.setPools(pools);
  const out: ServiceResource[] = [];
  for (const obj of services) {
    if (!handlesClass(obj, loadBalancerClass)) continue;
    const ips = ingressIps(obj);
    if (ips.length === 0) continue;
    if (options.serving && !options.serving.has(objectKey(obj))) continue;
    const stray = ips.find((ip) => owners.poolForIp(ip) === undefined);
    if (stray !== undefined) {
      log?.debug('service not announced: its IP is in no pool', { service: objectKey(obj), ip: stray });
      continue;
    }
    const parsed = parseCached(obj);
    if (!parsed.ok) {
      log?.warn('service not announced: unreadable fields', { service: objectKey(obj), issues: parsed.issues });
      continue;
    }
    const { loadBalancerIP: _ignored, ...svc } = parsed.service;
    const annotations: Record<string, string> = {};
    for (const [k, v] of Object.entries(svc.annotations)) {
      const short = k.startsWith(ANNOTATION_PREFIX)
        ? k.slice(ANNOTATION_PREFIX.length)
        : k.startsWith(LEGACY_ANNOTATION_PREFIX)
          ? k.slice(LEGACY_ANNOTATION_PREFIX.length)
          : undefined;
      if (short === ADDRESS_POOL_ANNOTATION || short === LOAD_BALANCER_IPS_ANNOTATION) continue;
      annotations[k] = v;
    }
    annotations[ANNOTATION_PREFIX + LOAD_BALANCER_IPS_ANNOTATION] = ips.join(',');
    // ClusterIPs narrowed to the families held, so a PreferDualStack Service holding one IP gets no second one here.
    const families = new Set(ips.map((ip) => isIP(ip)));
    const clusterIPs = svc.clusterIPs.filter((ip) => families.has(isIP(ip)));
    const narrowed = clusterIPs.length > 0 && clusterIPs.length < svc.clusterIPs.length;
    const endpointNodes =
      svc.externalTrafficPolicy === 'Local' && options.serving?.nodesOf ? options.serving.nodesOf(svc.key) : undefined;
    const endpointCounts =
      svc.externalTrafficPolicy === 'Local' && options.serving?.countsOf
        ? options.serving.countsOf(svc.key)
        : undefined;
    out.push({
      ...svc,
      annotations,
      ...(endpointNodes ? { endpointNodes } : {}),
      ...(endpointCounts ? { endpointCounts } : {}),
      ...(narrowed ? { clusterIPs, ipFamilyPolicy: 'SingleStack' as const } : {}),
    });
  }
  const labels = options.nodeLabels ?? {};
  const bgpPeers = config.bgpPeers.filter(
    (p) =>
      p.nodeSelectors.length === 0 ||
      p.nodeSelectors.some((sel) => {
        const compiled = compileLabelSelector(sel);
        return compiled.ok && compiled.matches(labels);
      }),
  );
  return { ...config, pools, bgpPeers, services: out };
}

/** Informers replace an object when it changes, so its identity is a sound cache key for its parsed form. */
const parsedServices = new WeakMap<KubeObject, ParseServiceResult>();

function parseCached(obj: KubeObject): ParseServiceResult {
  let parsed = parsedServices.get(obj);
  if (!parsed) {
    parsed = parseServiceObject({ ...obj, apiVersion: 'v1', kind: 'Service' });
    parsedServices.set(obj, parsed);
  }
  return parsed;
}
