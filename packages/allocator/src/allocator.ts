/**
 * The allocator: MetalLB's `internal/allocator` rules (assign, allocate from a pool, automatic allocation over pinned
 * then unrestricted pools, sharing, dual stack, pool replacement, counters) over logarithmic free-space structures.
 * The rules live beside it: service descriptions in `service-context.ts`, sharing in `sharing.ts`, address selection
 * in `selection.ts`; this file keeps the state and the operations that change it. It is longer than ~600 lines on
 * purpose: every operation updates the same indexes (pools and their order, address segments, IP holders, services)
 * together, and one class over them is what lets one file show that they never disagree.
 */
import { formatIp, type Ip, isBuggyIp, parseIp } from './address.js';
import {
  comparePools,
  type FamilyIndex,
  familyOfIndex,
  fiOf,
  type Held,
  type IpHolder,
  type PoolState,
  type SegmentOwner,
  textOf,
} from './allocation-state.js';
import type {
  AllocatorOptions,
  MetricSample,
  PoolStats,
  RestoreEntry,
  RestoreOutcome,
  SetPoolsOptions,
  SetPoolsResult,
} from './allocator-types.js';
import { ChurnSafeMap } from './churn-safe-map.js';
import { metricSamples, poolStats } from './counters.js';
import { AllocationError, describeValue, goQuote, goQuoteList } from './errors.js';
import { Occupancy } from './occupancy.js';
import { type PoolSpec, parsePools } from './pool.js';
import { choosePool, compatible, findInPool, selectFromPool } from './selection.js';
import {
  contextOf,
  DEFAULT_CTX,
  familyName,
  type ServiceContext,
  type ServiceFamily,
  type ServiceInfo,
} from './service-context.js';
import { checkSharing, indexSharing, unindexSharing } from './sharing.js';

/**
 * Allocates load-balancer IPs to services from address pools with MetalLB's rules. All state is in memory; rebuild
 * it after a restart with {@link Allocator.restore}. Every failing operation throws {@link AllocationError} and
 * leaves the state unchanged.
 *
 * @example
 * ```ts
 * const a = new Allocator();
 * a.setPools([{ name: 'default', addresses: ['192.0.2.0/28', '2001:db8::/120'] }]);
 * a.allocate('web/frontend', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
 * // ['192.0.2.0', '2001:db8::']
 * ```
 */
export class Allocator {
  private pools = new Map<string, PoolState>();
  private segments: [SegmentOwner[], SegmentOwner[]] = [[], []];
  private pinnedOrder: PoolState[] = [];
  private fallbackOrder: PoolState[] = [];
  private ips: [ChurnSafeMap<bigint, IpHolder>, ChurnSafeMap<bigint, IpHolder>] = [
    new ChurnSafeMap(),
    new ChurnSafeMap(),
  ];
  private readonly services = new ChurnSafeMap<string, Held>();
  private readonly lrr: boolean;
  private readonly onCountersChanged: ((pool: string) => void) | undefined;

  /** @param options - reuse policy and counters callback */
  constructor(options: AllocatorOptions = {}) {
    this.lrr = options.reuse === 'least-recently-released';
    this.onCountersChanged = options.onCountersChanged;
  }

  /** Number of services holding IPs. */
  get size(): number {
    return this.services.size;
  }

  // ---------------------------------------------------------------- pools

  /**
   * Replaces the pool set. The new set is validated first (MetalLB's rules and texts); if it is invalid a
   * `PoolValidationError` is thrown and the current pools stay in force. Existing allocations are then re-homed: a
   * service whose IPs now lie in a pool of another name keeps them (reported in `rehomed`); one whose IPs lie in no
   * pool any more, or in two different pools, is released (reported in `evicted`). Like MetalLB, the sharing and
   * `serviceAllocation` rules are not re-checked here; the next `allocate`/`assign` for the service does that.
   * @param specs - the pools
   * @param options - namespaces to resolve namespace selectors
   */
  setPools(specs: readonly PoolSpec[], options: SetPoolsOptions = {}): SetPoolsResult {
    const parsed = parsePools(specs, options.namespaces ?? []);
    const oldPools = this.pools;
    const pools = new Map<string, PoolState>();
    const segments: [SegmentOwner[], SegmentOwner[]] = [[], []];
    for (const spec of parsed) {
      const state: PoolState = { spec, fams: [undefined, undefined], inUse: [0, 0], services: 0 };
      for (const fi of [0, 1] as const) {
        const prefixes = spec.prefixes.filter((p) => p.family === familyOfIndex(fi));
        if (prefixes.length === 0) continue;
        state.fams[fi] = {
          occ: new Occupancy(prefixes, spec.avoidBuggyIPs && fi === 0),
          sharing: new ChurnSafeMap(),
          released: new Map(),
        };
        for (const p of prefixes) segments[fi].push({ first: p.first, last: p.last, pool: state });
      }
      pools.set(spec.name, state);
    }
    for (const list of segments) list.sort((a, b) => (a.first < b.first ? -1 : 1));

    // Re-home every allocation into fresh structures.
    const newIps: [ChurnSafeMap<bigint, IpHolder>, ChurnSafeMap<bigint, IpHolder>] = [
      new ChurnSafeMap(),
      new ChurnSafeMap(),
    ];
    const rehomed: { serviceKey: string; from: string; to: string }[] = [];
    const evicted: { serviceKey: string; ips: string[]; pool: string }[] = [];
    for (const held of [...this.services.values()]) {
      const target = this.poolForValues(
        held.ips.map((h) => ({ family: familyOfIndex(h.fi), value: h.value })),
        segments,
      );
      const from = held.pool.spec.name;
      if (target === undefined) {
        evicted.push({ serviceKey: held.key, ips: this.textsOf(held), pool: from });
        this.services.delete(held.key);
        continue;
      }
      if (target.spec.name !== from) rehomed.push({ serviceKey: held.key, from, to: target.spec.name });
      held.pool = target;
      target.services++;
      held.ips = held.ips.map((old) => {
        let h = newIps[old.fi].get(old.value);
        if (h === undefined) {
          h = this.newHolder(target, old.fi, old.value, held.sharing, held.backend, held);
          newIps[old.fi].add(old.value, h);
        } else h.users.push(held);
        return h;
      });
    }
    // Carry the release queue over, oldest first, for addresses that are still free and in a pool.
    if (this.lrr) {
      for (const state of oldPools.values()) {
        for (const fi of [0, 1] as const) {
          const fam = state.fams[fi];
          if (fam === undefined) continue;
          for (const value of fam.released.keys()) {
            const owner = this.locate(fi, value, segments);
            if (owner === undefined || newIps[fi].has(value)) continue;
            const nf = owner.fams[fi]!;
            nf.occ.occupy(value);
            nf.released.set(value, true);
          }
        }
      }
    }
    this.pools = pools;
    this.segments = segments;
    this.ips = newIps;
    const all = [...pools.values()].sort(comparePools);
    this.pinnedOrder = all
      .filter((p) => p.spec.serviceAllocation !== undefined)
      .sort((a, b) => {
        const pa = a.spec.serviceAllocation!.priority;
        const pb = b.spec.serviceAllocation!.priority;
        if (pa !== pb) return pa === 0 ? 1 : pb === 0 ? -1 : pa - pb;
        return comparePools(a, b);
      });
    this.fallbackOrder = all.filter((p) => p.spec.autoAssign && p.spec.serviceAllocation === undefined);
    if (this.onCountersChanged) {
      for (const name of oldPools.keys()) if (!pools.has(name)) this.onCountersChanged(name);
      for (const name of pools.keys()) this.onCountersChanged(name);
    }
    const byKey = (a: { serviceKey: string }, b: { serviceKey: string }) =>
      a.serviceKey < b.serviceKey ? -1 : a.serviceKey > b.serviceKey ? 1 : 0;
    return { rehomed: rehomed.sort(byKey), evicted: evicted.sort(byKey) };
  }

  /** Names of the configured pools, in configuration order. */
  poolNames(): string[] {
    return [...this.pools.keys()];
  }

  // ---------------------------------------------------------------- operations

  /**
   * Assigns the given IPs (one, or one per family) to a service, or re-validates the IPs it already has (MetalLB's
   * `Assign`). The IPs must lie in one pool whose `serviceAllocation` admits the service, and sharing rules must
   * allow them. Idempotent; an existing allocation of the service is replaced.
   * @param serviceKey - e.g. `namespace/name`
   * @param ips - requested IP text(s)
   * @param service - the service
   * @returns the IPs, ordered `[v4, v6]`
   * @throws AllocationError `INVALID_IP`, `NOT_IN_CONFIG`, `POOL_INCOMPATIBLE`, `TOO_MANY_ADDRESSES`, `SAME_FAMILY`,
   * `SHARING_CONFLICT`, `PORT_CONFLICT`
   */
  assign(serviceKey: string, ips: string | readonly string[], service?: ServiceInfo): string[] {
    return this.assignTexts(serviceKey, ips, contextOf(service));
  }

  private assignTexts(serviceKey: string, ips: string | readonly string[], ctx: ServiceContext): string[] {
    const list = typeof ips === 'string' ? [ips] : ips;
    if (!Array.isArray(list)) throw new AllocationError('INVALID_IP', 'ips must be a string or a list of strings');
    const parsed = list.map((s: unknown) => {
      const ip = typeof s === 'string' ? parseIp(s) : undefined;
      if (ip === undefined) throw new AllocationError('INVALID_IP', `invalid IP ${goQuote(describeValue(s))}`);
      return ip;
    });
    return this.assignIps(serviceKey, parsed, ctx);
  }

  /**
   * Allocates from the named pool (MetalLB's `AllocateFromPool`, used for the `metallb.io/address-pool` annotation):
   * ignores `autoAssign` but enforces `serviceAllocation`. If the service already holds IPs they are re-validated and
   * returned, whatever pool they are from (as MetalLB; the caller unassigns first when the pool changed).
   * @param serviceKey - e.g. `namespace/name`
   * @param poolName - the pool
   * @param service - the service
   * @returns the IPs, ordered `[v4, v6]`
   * @throws AllocationError `UNKNOWN_POOL`, `POOL_EXHAUSTED`, `POOL_INCOMPATIBLE`, `WRONG_FAMILY`, and re-validation errors
   */
  allocateFromPool(serviceKey: string, poolName: string, service?: ServiceInfo): string[] {
    const ctx = contextOf(service);
    const held = this.services.get(serviceKey);
    if (held !== undefined) {
      const allocFamily: ServiceFamily = held.ips.length === 2 ? 'dual' : familyOfIndex(held.ips[0]!.fi);
      if (service?.ipFamilyPolicy !== 'PreferDualStack' && allocFamily !== ctx.family) {
        throw new AllocationError(
          'WRONG_FAMILY',
          `IP for wrong family assigned alloc ${familyName(allocFamily)} service family ${familyName(ctx.family)}`,
        );
      }
      return this.reassignHeld(held, ctx);
    }
    const pool = this.pools.get(poolName);
    if (pool === undefined) throw new AllocationError('UNKNOWN_POOL', `unknown pool ${goQuote(poolName)}`);
    const chosen = selectFromPool(pool, ctx, this.lrr);
    if (chosen === undefined) {
      throw new AllocationError(
        'POOL_EXHAUSTED',
        `no available IPs in pool ${poolName} for ${familyName(ctx.family)} IPFamily`,
      );
    }
    if (!compatible(pool, ctx)) {
      throw new AllocationError('POOL_INCOMPATIBLE', `pool ${pool.spec.name} not compatible for ip assignment`);
    }
    return this.commit(serviceKey, pool, chosen, ctx);
  }

  /**
   * Allocates automatically (MetalLB's `Allocate`): first the pools pinned to the service (its namespace or a
   * matching service selector, `autoAssign` on) by priority, then every `autoAssign` pool without
   * `serviceAllocation`. Among pools of equal priority, and among unrestricted pools, the order is by pool name (MetalLB
   * leaves it random). Inside a pool: the lowest free address, or the lowest address the service may share, walking the
   * pool's addresses in configuration order. If the service already holds IPs they are re-validated and returned.
   * @param serviceKey - e.g. `namespace/name`
   * @param service - the service
   * @returns the IPs, ordered `[v4, v6]`
   * @throws AllocationError `NO_AVAILABLE_IPS`, and re-validation errors
   */
  allocate(serviceKey: string, service?: ServiceInfo): string[] {
    const ctx = contextOf(service);
    const held = this.services.get(serviceKey);
    if (held !== undefined) return this.reassignHeld(held, ctx);
    const pinned: PoolState[] = [];
    for (const pool of this.pinnedOrder) {
      const sa = pool.spec.serviceAllocation!;
      if (!(sa.namespaces.has(ctx.namespace) || sa.serviceSelectors.length > 0)) continue;
      if (pool.spec.autoAssign && compatible(pool, ctx)) pinned.push(pool);
    }
    const got =
      this.allocateFromPools(pinned, ctx, serviceKey) ?? this.allocateFromPools(this.fallbackOrder, ctx, serviceKey);
    if (got === undefined) throw new AllocationError('NO_AVAILABLE_IPS', 'no available IPs');
    return got;
  }

  /**
   * For a PreferDualStack service that holds one IP: adds an IP of the other family from the same pool (MetalLB's
   * `AllocateFromPoolForAdditionalFamily`, used when a pool gains the missing family).
   * @param serviceKey - e.g. `namespace/name`
   * @param service - the service
   * @returns the service's IPs, ordered `[v4, v6]`
   * @throws AllocationError `NOT_ALLOCATED`, `POOL_EXHAUSTED`, and assignment errors
   */
  allocateAdditionalFamily(serviceKey: string, service?: ServiceInfo): string[] {
    const ctx = contextOf(service);
    const held = this.services.get(serviceKey);
    if (held === undefined || held.ips.length !== 1) {
      throw new AllocationError('NOT_ALLOCATED', `service ${goQuote(serviceKey)} does not hold exactly one IP`);
    }
    const existing = held.ips[0]!;
    const addFi: FamilyIndex = existing.fi === 0 ? 1 : 0;
    const pool = held.pool;
    const value = findInPool(pool, addFi, ctx, this.lrr);
    if (value === undefined) {
      throw new AllocationError(
        'POOL_EXHAUSTED',
        `no available IPs in pool ${pool.spec.name} for ${familyName(familyOfIndex(addFi))} IPFamily`,
      );
    }
    return this.assignIps(
      serviceKey,
      [
        { family: familyOfIndex(existing.fi), value: existing.value },
        { family: familyOfIndex(addFi), value },
      ],
      ctx,
    );
  }

  /**
   * Releases the service's IPs. A shared IP stays in use while another service holds it.
   * @param serviceKey - e.g. `namespace/name`
   * @returns whether the service held IPs
   */
  unassign(serviceKey: string): boolean {
    const held = this.services.get(serviceKey);
    if (held === undefined) return false;
    this.release(held);
    this.changed(held.pool);
    return true;
  }

  /**
   * Rebuilds state after a restart, as MetalLB's first `reprocessAll` does but strictly in two phases: first every
   * service that has IPs re-claims them (services with more IPs first), then services without IPs, and those whose
   * claim failed, are allocated (from `entry.pool` if set, else automatically). So a pending service can never take an
   * IP that an existing service holds.
   * @param entries - services with their current `status.loadBalancer.ingress` IPs
   * @returns one outcome per entry, in the entries' order
   */
  restore(entries: readonly RestoreEntry[]): RestoreOutcome[] {
    const outcomes = new Array<RestoreOutcome | undefined>(entries.length);
    const claimErrors = new Array<AllocationError | undefined>(entries.length);
    // Stable order by number of IPs, most first (a bucket pass: no comparison sort over 100,000s of entries).
    const buckets: number[][] = [[], [], [], []];
    entries.forEach((e, i) => {
      const n = Array.isArray(e.ips) ? e.ips.length : 0;
      buckets[n > 2 ? 0 : 3 - n]!.push(i);
    });
    const order = buckets.flat();
    const contexts = new Map<ServiceInfo, ServiceContext>();
    for (const i of order) {
      const e = entries[i]!;
      if (e.ips.length === 0) continue;
      try {
        // Services commonly share one description object in bulk restores: normalize each object once.
        let ctx = e.service === undefined ? DEFAULT_CTX : contexts.get(e.service);
        if (ctx === undefined) {
          ctx = contextOf(e.service);
          contexts.set(e.service!, ctx);
        }
        const ips = this.assignTexts(e.serviceKey, e.ips, ctx);
        outcomes[i] = { serviceKey: e.serviceKey, status: 'kept', ips };
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        claimErrors[i] = err;
      }
    }
    for (const i of order) {
      if (outcomes[i] !== undefined) continue;
      const e = entries[i]!;
      const claimError = claimErrors[i];
      try {
        const ips =
          e.pool !== undefined
            ? this.allocateFromPool(e.serviceKey, e.pool, e.service)
            : this.allocate(e.serviceKey, e.service);
        outcomes[i] = { serviceKey: e.serviceKey, status: 'allocated', ips, ...(claimError ? { claimError } : {}) };
      } catch (err) {
        if (!(err instanceof AllocationError)) throw err;
        outcomes[i] = {
          serviceKey: e.serviceKey,
          status: 'failed',
          ips: [],
          error: err,
          ...(claimError ? { claimError } : {}),
        };
      }
    }
    return outcomes as RestoreOutcome[];
  }

  // ---------------------------------------------------------------- lookups

  /** The service's IPs, ordered `[v4, v6]`; empty when it holds none. */
  ipsOf(serviceKey: string): string[] {
    const held = this.services.get(serviceKey);
    return held === undefined ? [] : this.textsOf(held);
  }

  /** The pool the service's IPs come from, or undefined. */
  poolOf(serviceKey: string): string | undefined {
    return this.services.get(serviceKey)?.pool.spec.name;
  }

  /** Service keys holding the IP, sorted; empty when it is free or not an IP. */
  usersOf(ip: string): string[] {
    const parsed = parseIp(ip);
    if (parsed === undefined) return [];
    const h = this.ips[fiOf(parsed.family)].get(parsed.value);
    return h === undefined ? [] : h.users.map((u) => u.key).sort();
  }

  /** The pool that owns the IP (MetalLB's `PoolForIP`; .0/.255 of an `avoidBuggyIPs` pool belong to none). */
  poolForIp(ip: string): string | undefined {
    const parsed = parseIp(ip);
    if (parsed === undefined) return undefined;
    return this.locate(fiOf(parsed.family), parsed.value, this.segments)?.spec.name;
  }

  /** Keys of all services holding IPs, sorted. */
  serviceKeys(): string[] {
    return [...this.services.keys()].sort();
  }

  /** Counters of one pool, or undefined for an unknown pool. */
  statsOf(pool: string): PoolStats | undefined {
    const p = this.pools.get(pool);
    return p === undefined ? undefined : poolStats(p);
  }

  /** Counters of every pool, in configuration order. */
  stats(): PoolStats[] {
    return [...this.pools.keys()].map((n) => this.statsOf(n)!);
  }

  /**
   * The allocator gauges under MetalLB's names (`metallb_allocator_addresses_total`,
   * `metallb_allocator_ipv4_addresses_total`, `metallb_allocator_ipv6_addresses_total`,
   * `metallb_allocator_addresses_in_use_total`, `metallb_allocator_ipv4_addresses_in_use_total`,
   * `metallb_allocator_ipv6_addresses_in_use_total`, `metallb_allocator_services_allocated_total`), one sample per pool.
   * Capacities are exact (MetalLB clamps to MaxInt64 and can overflow); `services_allocated_total` is set (MetalLB
   * registers it and never sets it).
   */
  metrics(): MetricSample[] {
    return metricSamples(this.stats());
  }

  // ---------------------------------------------------------------- internals

  private textsOf(held: Held): string[] {
    return held.ips.map(textOf);
  }

  private changed(pool: PoolState): void {
    this.onCountersChanged?.(pool.spec.name);
  }

  /** The pool owning an address (respecting avoidBuggyIPs). */
  private locate(fi: FamilyIndex, value: bigint, segments: [SegmentOwner[], SegmentOwner[]]): PoolState | undefined {
    const list = segments[fi];
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]!.last < value) lo = mid + 1;
      else hi = mid;
    }
    const seg = list[lo];
    if (seg === undefined || seg.first > value) return undefined;
    if (seg.pool.spec.avoidBuggyIPs && isBuggyIp(familyOfIndex(fi), value)) return undefined;
    return seg.pool;
  }

  /** MetalLB's `poolFor`: the one pool containing every IP, or undefined (also for an empty list). */
  private poolForValues(ips: readonly Ip[], segments: [SegmentOwner[], SegmentOwner[]]): PoolState | undefined {
    let pool: PoolState | undefined;
    for (const ip of ips) {
      const p = this.locate(fiOf(ip.family), ip.value, segments);
      if (p === undefined || (pool !== undefined && p !== pool)) return undefined;
      pool = p;
    }
    return pool;
  }

  /** MetalLB's `allocateFromPools` (`findBestPoolForService`, then assign); undefined when no pool fits. */
  private allocateFromPools(
    pools: readonly PoolState[],
    ctx: ServiceContext,
    serviceKey: string,
  ): string[] | undefined {
    const chosen = choosePool(pools, ctx, this.lrr);
    if (chosen === undefined) return undefined;
    // The pools given here admit the service and the addresses were found free or shareable for it, so MetalLB's
    // re-`Assign` of them cannot fail: commit directly.
    return this.commit(serviceKey, chosen.pool, chosen.ips, ctx);
  }

  /** Re-validates a service's current IPs with new ports/keys (MetalLB's re-`Assign` of `alloc.ips`). */
  private reassignHeld(held: Held, ctx: ServiceContext): string[] {
    return this.assignIps(
      held.key,
      held.ips.map((h) => ({ family: familyOfIndex(h.fi), value: h.value })),
      ctx,
    );
  }

  /** MetalLB's `Assign` on parsed IPs. */
  private assignIps(serviceKey: string, ips: readonly Ip[], ctx: ServiceContext): string[] {
    const pool = ips.length === 0 ? undefined : this.poolForValues(ips, this.segments);
    if (pool === undefined) {
      throw new AllocationError(
        'NOT_IN_CONFIG',
        `${goQuoteList(ips.map((ip) => formatIp(ip.family, ip.value)))} is not allowed in config`,
      );
    }
    if (!compatible(pool, ctx)) {
      throw new AllocationError('POOL_INCOMPATIBLE', `pool ${pool.spec.name} not compatible for ip assignment`);
    }
    if (ips.length > 2) {
      throw new AllocationError(
        'TOO_MANY_ADDRESSES',
        `more than two addresses ${goQuoteList(ips.map((ip) => formatIp(ip.family, ip.value)))}`,
      );
    }
    if (ips.length === 2 && ips[0]!.family === ips[1]!.family) {
      throw new AllocationError(
        'SAME_FAMILY',
        `${goQuote(formatIp(ips[0]!.family, ips[0]!.value))} ${goQuote(formatIp(ips[1]!.family, ips[1]!.value))} has the same family`,
      );
    }
    const existing = ips.map((ip) => this.ips[fiOf(ip.family)].get(ip.value));
    for (const h of existing) checkSharing(serviceKey, h, ctx);

    const old = this.services.get(serviceKey);
    if (old !== undefined) {
      this.release(old);
      if (old.pool !== pool) this.changed(old.pool);
    }
    return this.commit(serviceKey, pool, ips, ctx, existing);
  }

  /** Records an allocation the caller has validated (the service holds nothing now). */
  private commit(
    serviceKey: string,
    pool: PoolState,
    ips: readonly Ip[],
    ctx: ServiceContext,
    existing?: readonly (IpHolder | undefined)[],
  ): string[] {
    const swap = ips.length === 2 && ips[0]!.family === 6;
    const sorted = swap ? [ips[1]!, ips[0]!] : ips;
    const known = existing === undefined ? undefined : swap ? [existing[1], existing[0]] : existing;
    const held: Held = { key: serviceKey, pool, ips: [], ports: ctx.ports, sharing: ctx.sharing, backend: ctx.backend };
    held.ips = sorted.map((ip, i) =>
      this.acquire(pool, fiOf(ip.family), ip.value, held, ctx, known === undefined ? null : known[i]),
    );
    this.services.add(serviceKey, held);
    pool.services++;
    this.changed(pool);
    return held.ips.map(textOf);
  }

  private newHolder(
    pool: PoolState,
    fi: FamilyIndex,
    value: bigint,
    sharing: string,
    backend: string,
    first: Held,
  ): IpHolder {
    const fam = pool.fams[fi]!;
    if (this.lrr && fam.released.delete(value)) {
      // still occupied in the runs: it was queued as released
    } else {
      fam.occ.occupy(value);
    }
    pool.inUse[fi]++;
    const h: IpHolder = { fi, value, pool, sharing, backend, users: [first] };
    indexSharing(fam, h);
    return h;
  }

  /** Adds a user to an IP (creating its record), taking its sharing key as the IP's key (as MetalLB). */
  private acquire(
    pool: PoolState,
    fi: FamilyIndex,
    value: bigint,
    held: Held,
    ctx: ServiceContext,
    known: IpHolder | undefined | null,
  ): IpHolder {
    // `known`: the record looked up before the service's old allocation was released (null: not looked up). A record
    // left without users by that release was removed; no record can have appeared since.
    let h =
      known === null ? this.ips[fi].get(value) : known !== undefined && known.users.length > 0 ? known : undefined;
    if (h === undefined) {
      h = this.newHolder(pool, fi, value, ctx.sharing, ctx.backend, held);
      this.ips[fi].add(value, h);
      return h;
    }
    if (h.sharing !== ctx.sharing || h.backend !== ctx.backend) {
      const fam = pool.fams[fi]!;
      unindexSharing(fam, h);
      h.sharing = ctx.sharing;
      h.backend = ctx.backend;
      indexSharing(fam, h);
    }
    h.users.push(held);
    return h;
  }

  /**
   * Removes a service's allocation. An IP is freed only when its last user leaves (MetalLB frees it when no *port*
   * remains in use, so a port-less service sharing an IP could lose it to a non-sharing service; fixed here).
   */
  private release(held: Held): void {
    this.services.delete(held.key);
    held.pool.services--;
    for (const h of held.ips) {
      const at = h.users.indexOf(held);
      if (at >= 0) h.users.splice(at, 1);
      if (h.users.length > 0) continue;
      const pool = h.pool;
      const fam = pool.fams[h.fi]!;
      this.ips[h.fi].delete(h.value);
      unindexSharing(fam, h);
      pool.inUse[h.fi]--;
      if (this.lrr) fam.released.set(h.value, true);
      else fam.occ.vacate(h.value);
    }
  }
}
