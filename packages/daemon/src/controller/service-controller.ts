import { isIP } from 'node:net';
import {
  AllocationError,
  Allocator,
  goQuote,
  goQuoteList,
  type IpFamilyName,
  type ServiceInfo,
  type SetPoolsResult,
} from '@ingot/allocator';
import type { IPAddressPool, ServiceResource } from '../config/resources.js';
import {
  ADDRESS_POOL_ANNOTATION,
  ALLOW_SHARED_IP_ANNOTATION,
  LOAD_BALANCER_IPS_ANNOTATION,
  readAnnotation,
} from './annotations.js';

/** A Kubernetes event the controller would emit (MetalLB's reasons and texts). */
export interface ServiceEvent {
  /** `Normal` or `Warning`. */
  type: 'Normal' | 'Warning';
  /** MetalLB's reason, e.g. `IPAllocated`, `AllocationFailed`, `ClearAssignment`. */
  reason: string;
  /** The message. */
  message: string;
}

/** What the controller decided for one service: the `status.loadBalancer.ingress` IPs and the pool annotation. */
export interface ConvergeResult {
  /** IPs in `[v4, v6]` order; empty when the service has none. */
  ips: string[];
  /** Value for `metallb.io/ip-allocated-from-pool`, when it holds IPs. */
  pool?: string;
  /** Events, in order. */
  events: ServiceEvent[];
  /** True when other pending services deserve another try (an IP was released or keys changed). */
  reprocessAll: boolean;
}

/**
 * MetalLB's controller logic (`convergeBalancer`) over an {@link Allocator}: re-claims a service's current IPs when
 * the configuration still allows them, honours requested IPs and the pool annotation, and otherwise allocates.
 */
export class ServiceController {
  /** The allocator; exposed for stats and lookups. */
  readonly allocator: Allocator;

  constructor(allocator: Allocator = new Allocator()) {
    this.allocator = allocator;
  }

  /** Replaces the pool set; allocations are re-homed or evicted (the caller then reprocesses every service). */
  setPools(pools: readonly IPAddressPool[]): SetPoolsResult {
    return this.allocator.setPools(pools);
  }

  /** The service was deleted: releases its IPs. Returns true when it held some (MetalLB then reprocesses all). */
  delete(serviceKey: string): boolean {
    return this.allocator.unassign(serviceKey);
  }

  /**
   * Converges one service given the IPs in its status, following MetalLB's `convergeBalancer` step by step.
   * @param svc - the service
   * @param statusIps - the IPs currently in `status.loadBalancer.ingress`
   */
  converge(input: ServiceResource, statusIps: readonly string[]): ConvergeResult {
    const svc = withClusterFamilies(input);
    const events: ServiceEvent[] = [];
    const clear = (reprocessAll = false): ConvergeResult => ({
      ips: [],
      events,
      reprocessAll: this.allocator.unassign(svc.key) || reprocessAll,
    });
    if (svc.type !== 'LoadBalancer') return clear();
    if (this.allocator.poolNames().length === 0) return clear();
    if (svc.clusterIPs.length === 0) return clear();
    const info = serviceInfo(svc);
    if (svc.ipFamilyPolicy === 'RequireDualStack' && svc.clusterIPs.length < 2) {
      events.push({
        type: 'Warning',
        reason: 'not enough clusterips',
        message: 'RequireDualStack needs two ClusterIPs',
      });
      return clear();
    }
    const requested = requestedIps(svc);
    if ('error' in requested) {
      events.push({ type: 'Warning', reason: 'LoadBalancerFailed', message: requested.error });
      return { ips: this.allocator.ipsOf(svc.key), events, reprocessAll: false };
    }
    const poolAnnotation = readAnnotation(svc.annotations, ADDRESS_POOL_ANNOTATION);
    let ips = [...statusIps];
    if (ips.length > 0) {
      const lbFamily = familyOf(ips);
      const clusterFamily = familyOf(svc.clusterIPs);
      const dualPrefer = clusterFamily === 'dual' && svc.ipFamilyPolicy === 'PreferDualStack';
      if (lbFamily === undefined) {
        events.push({ type: 'Warning', reason: 'nolbIPsIPFamily', message: `invalid IP family of ${ips.join(',')}` });
        ips = [];
      } else if (lbFamily !== clusterFamily && !dualPrefer) ips = [];
    }
    if (ips.length > 0) {
      try {
        ips = this.allocator.assign(svc.key, ips, info);
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        events.push({
          type: 'Normal',
          reason: 'ClearAssignment',
          message: `current IP for ${goQuote(svc.key)} not allowed by config, will attempt for new IP assignment: ${err.message}`,
        });
        this.allocator.unassign(svc.key);
        ips = [];
      }
      const pool = this.allocator.poolOf(svc.key);
      const wrongPool = poolAnnotation !== undefined && pool !== undefined && pool !== poolAnnotation;
      const otherRequest = requested.ips.length > 0 && !sameSet(requested.ips, ips);
      if (ips.length > 0 && (wrongPool || otherRequest)) {
        this.allocator.unassign(svc.key);
        ips = [];
      }
    }
    if (ips.length === 1 && svc.ipFamilyPolicy === 'PreferDualStack' && svc.clusterIPs.length === 2) {
      try {
        ips = this.allocator.allocateAdditionalFamily(svc.key, info);
        events.push({
          type: 'Normal',
          reason: 'IPAllocated',
          message: `Assigned additional IP ${goQuoteList(ips)}`,
        });
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        events.push({ type: 'Normal', reason: 'AdditionalAssignFailed', message: err.message });
      }
    }
    if (ips.length === 0) {
      try {
        if (requested.ips.length > 0) {
          ips = this.allocator.assign(svc.key, requested.ips, info);
          const pool = this.allocator.poolOf(svc.key);
          if (poolAnnotation !== undefined && pool !== poolAnnotation) {
            this.allocator.unassign(svc.key);
            throw new AllocationError(
              'POOL_INCOMPATIBLE',
              `requested IPs ${goQuote(requested.ips.join(','))} are not in pool ${goQuote(poolAnnotation)}`,
            );
          }
        } else if (poolAnnotation !== undefined) ips = this.allocator.allocateFromPool(svc.key, poolAnnotation, info);
        else ips = this.allocator.allocate(svc.key, info);
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        events.push({
          type: 'Warning',
          reason: 'AllocationFailed',
          message: `Failed to allocate IP for ${goQuote(svc.key)}: ${err.message}`,
        });
        return { ips: [], events, reprocessAll: false };
      }
      events.push({ type: 'Normal', reason: 'IPAllocated', message: `Assigned IP ${goQuoteList(ips)}` });
    }
    const pool = this.allocator.poolOf(svc.key);
    return { ips, ...(pool !== undefined ? { pool } : {}), events, reprocessAll: false };
  }
}

/** The allocator's view of a service. */
export function serviceInfo(svc: ServiceResource): ServiceInfo {
  const families: IpFamilyName[] = svc.clusterIPs.map((ip) => (isIP(ip) === 6 ? 'IPv6' : 'IPv4'));
  const sharingKey = readAnnotation(svc.annotations, ALLOW_SHARED_IP_ANNOTATION);
  return {
    namespace: svc.namespace,
    labels: svc.labels,
    ipFamilies: families.length > 0 ? families : ['IPv4'],
    ipFamilyPolicy: svc.ipFamilyPolicy,
    ports: svc.ports.map((p) => ({ protocol: p.protocol as 'TCP' | 'UDP' | 'SCTP', port: p.port })),
    ...(sharingKey ? { sharingKey } : {}),
    externalTrafficPolicy: svc.externalTrafficPolicy,
    selector: svc.selector,
  };
}

/** Requested IPs from `metallb.io/loadBalancerIPs` or `spec.loadBalancerIP` (setting both is an error, as in MetalLB). */
function requestedIps(svc: ServiceResource): { ips: string[] } | { error: string } {
  const annotation = readAnnotation(svc.annotations, LOAD_BALANCER_IPS_ANNOTATION);
  if (annotation !== undefined && svc.loadBalancerIP) {
    return { error: 'service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP' };
  }
  const list =
    annotation !== undefined
      ? annotation.split(',').map((s) => s.trim())
      : svc.loadBalancerIP
        ? [svc.loadBalancerIP]
        : [];
  const bad = list.find((ip) => isIP(ip) === 0);
  if (bad !== undefined) return { error: `invalid spec.loadBalancerIP ${goQuote(bad)}` };
  return { ips: list };
}

/** The family of a service's IPs: one IP, or one of each family (`dual`); undefined for anything else. */
export function familyOf(ips: readonly string[]): 'IPv4' | 'IPv6' | 'dual' | undefined {
  if (ips.length === 1) return isIP(ips[0] as string) === 6 ? 'IPv6' : 'IPv4';
  if (ips.length === 2 && isIP(ips[0] as string) !== isIP(ips[1] as string)) return 'dual';
  return undefined;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * A standalone Service document may omit clusterIPs (there is no cluster): its families then come from
 * `spec.ipFamilies`, by default IPv4, or IPv4 and IPv6 with PreferDualStack / RequireDualStack. The families stand in
 * as unspecified addresses, which only their family is read from. Kubernetes Services always carry clusterIPs.
 */
export function withClusterFamilies(svc: ServiceResource): ServiceResource {
  if (svc.clusterIPs.length > 0) return svc;
  const families =
    svc.ipFamilies.length > 0
      ? svc.ipFamilies
      : svc.ipFamilyPolicy === 'SingleStack'
        ? (['IPv4'] as const)
        : (['IPv4', 'IPv6'] as const);
  return { ...svc, clusterIPs: families.map((f) => (f === 'IPv6' ? '::' : '0.0.0.0')) };
}
