/** A pool's counters and the allocator's Prometheus gauges under MetalLB's names. */
import type { PoolState } from './allocation-state.js';
import type { MetricSample, PoolStats } from './allocator-types.js';

/** The counters of one pool (capacity exact, in-use counting a shared address once). */
export function poolStats(p: PoolState): PoolStats {
  const { ipv4, ipv6 } = p.spec.capacity;
  return {
    pool: p.spec.name,
    capacity: { total: ipv4 + ipv6, ipv4, ipv6 },
    inUse: { total: p.inUse[0] + p.inUse[1], ipv4: p.inUse[0], ipv6: p.inUse[1] },
    available: { ipv4: ipv4 - BigInt(p.inUse[0]), ipv6: ipv6 - BigInt(p.inUse[1]) },
    services: p.services,
  };
}

/** Seven gauges per pool, in the pools' order (see `Allocator.metrics`). */
export function metricSamples(stats: readonly PoolStats[]): MetricSample[] {
  const out: MetricSample[] = [];
  for (const s of stats) {
    const labels = { pool: s.pool };
    const add = (name: string, value: number | bigint) =>
      out.push({ name: `metallb_allocator_${name}`, labels, value: Number(value) });
    add('addresses_total', s.capacity.total);
    add('ipv4_addresses_total', s.capacity.ipv4);
    add('ipv6_addresses_total', s.capacity.ipv6);
    add('addresses_in_use_total', s.inUse.total);
    add('ipv4_addresses_in_use_total', s.inUse.ipv4);
    add('ipv6_addresses_in_use_total', s.inUse.ipv6);
    add('services_allocated_total', s.services);
  }
  return out;
}
