/** The allocator's public option, result and counter types. */
import type { AllocationError } from './errors.js';
import type { NamespaceInfo } from './pool.js';
import type { ServiceInfo } from './service-context.js';

/** Options of {@link Allocator}. */
export interface AllocatorOptions {
  /**
   * `'lowest'` (default, MetalLB): the lowest free address is handed out, so a released address is the next one
   * reused. `'least-recently-released'`: released addresses queue up and are reused only when a pool family has no
   * never-used address left, oldest release first (MetalLB issue #778).
   */
  readonly reuse?: 'lowest' | 'least-recently-released';
  /** Called with a pool name whenever that pool's counters may have changed (MetalLB's `countersChangedCallback`). */
  readonly onCountersChanged?: (pool: string) => void;
}

/** Options of {@link Allocator.setPools}. */
export interface SetPoolsOptions {
  /** Namespaces with labels, to resolve `serviceAllocation.namespaceSelectors`. */
  readonly namespaces?: readonly NamespaceInfo[];
}

/** Result of {@link Allocator.setPools}. */
export interface SetPoolsResult {
  /** Services whose IPs now belong to a pool of another name; they keep their IPs. Sorted by service key. */
  readonly rehomed: readonly { readonly serviceKey: string; readonly from: string; readonly to: string }[];
  /** Services whose IPs are in no pool any more (or now split across pools); they were released. Sorted by service key. */
  readonly evicted: readonly { readonly serviceKey: string; readonly ips: readonly string[]; readonly pool: string }[];
}

/** Per-pool counters (MetalLB's `PoolCounters` plus exact capacity). */
export interface PoolStats {
  /** Pool name. */
  readonly pool: string;
  /** Usable addresses, exact. */
  readonly capacity: { readonly total: bigint; readonly ipv4: bigint; readonly ipv6: bigint };
  /** Distinct addresses in use (a shared address counts once). */
  readonly inUse: { readonly total: number; readonly ipv4: number; readonly ipv6: number };
  /** capacity − inUse, per family. */
  readonly available: { readonly ipv4: bigint; readonly ipv6: bigint };
  /** Services holding addresses from the pool. */
  readonly services: number;
}

/** One Prometheus sample with MetalLB's metric name and `pool` label. */
export interface MetricSample {
  /** e.g. `metallb_allocator_addresses_in_use_total`. */
  readonly name: string;
  /** `{ pool }`. */
  readonly labels: { readonly pool: string };
  /** Gauge value. */
  readonly value: number;
}

/** One service to restore with {@link Allocator.restore}. */
export interface RestoreEntry {
  /** Service key, e.g. `namespace/name`. */
  readonly serviceKey: string;
  /** The IPs in the service's `status.loadBalancer.ingress` (may be empty for a pending service). */
  readonly ips: readonly string[];
  /** Pool requested by annotation, used when the service must be (re)allocated. */
  readonly pool?: string;
  /** The service. */
  readonly service?: ServiceInfo;
}

/** Outcome of one {@link RestoreEntry}. */
export interface RestoreOutcome {
  /** Service key. */
  readonly serviceKey: string;
  /** `kept`: its IPs were re-claimed; `allocated`: it got new IPs; `failed`: it has none. */
  readonly status: 'kept' | 'allocated' | 'failed';
  /** IPs it now holds, `[v4, v6]` order. */
  readonly ips: readonly string[];
  /** Why its previous IPs could not be kept (when they could not). */
  readonly claimError?: AllocationError;
  /** Why it could not be allocated (status `failed`). */
  readonly error?: AllocationError;
}
