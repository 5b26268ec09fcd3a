import { describe, expect, it } from 'vitest';
import { AllocationError, Allocator, PoolValidationError } from '../src/index.js';

describe('setPools: re-homing and eviction (TestConfigReload)', () => {
  function fresh(): Allocator {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/24', '2001:db8::/120'] }]);
    a.assign('s/low', '192.0.2.0');
    a.assign('s/mid', '192.0.2.100');
    a.assign('s/dual', ['192.0.2.200', '2001:db8::1']);
    return a;
  }

  it('keeps everything when the pool grows', () => {
    const a = fresh();
    const r = a.setPools([{ name: 'p', addresses: ['192.0.2.0/23', '2001:db8::/64'] }]);
    expect(r).toEqual({ rehomed: [], evicted: [] });
    expect(a.ipsOf('s/dual')).toEqual(['192.0.2.200', '2001:db8::1']);
    expect(a.statsOf('p')!.inUse).toEqual({ total: 4, ipv4: 3, ipv6: 1 });
  });

  it('evicts services outside a shrunk pool, and one whose family left the pool', () => {
    const a = fresh();
    const r = a.setPools([{ name: 'p', addresses: ['192.0.2.0/25'] }]);
    expect(r.evicted).toEqual([{ serviceKey: 's/dual', ips: ['192.0.2.200', '2001:db8::1'], pool: 'p' }]);
    expect(a.ipsOf('s/dual')).toEqual([]);
    expect(a.usersOf('192.0.2.200')).toEqual([]);
    expect(a.ipsOf('s/mid')).toEqual(['192.0.2.100']);
  });

  it('re-homes on rename and split, keeping the IPs', () => {
    const a = fresh();
    const r = a.setPools([
      { name: 'low', addresses: ['192.0.2.0/25'] },
      { name: 'high', addresses: ['192.0.2.128/25', '2001:db8::/120'] },
    ]);
    expect(r.evicted).toEqual([]);
    expect(r.rehomed).toEqual([
      { serviceKey: 's/dual', from: 'p', to: 'high' },
      { serviceKey: 's/low', from: 'p', to: 'low' },
      { serviceKey: 's/mid', from: 'p', to: 'low' },
    ]);
    expect(a.poolOf('s/dual')).toBe('high');
    expect(a.statsOf('low')!.inUse.ipv4).toBe(2);
    expect(a.statsOf('high')!.inUse).toEqual({ total: 2, ipv4: 1, ipv6: 1 });
    // the new structures know the held addresses
    expect(a.allocateFromPool('n', 'low')).toEqual(['192.0.2.1']);
  });

  it('evicts a dual-stack service whose two IPs end up in different pools', () => {
    const a = fresh();
    const r = a.setPools([
      { name: 'v4', addresses: ['192.0.2.0/24'] },
      { name: 'v6', addresses: ['2001:db8::/120'] },
    ]);
    expect(r.evicted.map((e) => e.serviceKey)).toEqual(['s/dual']);
  });

  it('evicts .0/.255 holders when avoidBuggyIPs is switched on', () => {
    const a = fresh();
    const r = a.setPools([{ name: 'p', addresses: ['192.0.2.0/24', '2001:db8::/120'], avoidBuggyIPs: true }]);
    expect(r.evicted.map((e) => e.serviceKey)).toEqual(['s/low']);
    expect(a.allocate('n')).toEqual(['192.0.2.1']);
  });

  it('keeps sharing state across a reload', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
    a.allocate('x/a', { sharingKey: 'k', ports: [{ port: 80 }] });
    a.allocate('x/b', { sharingKey: 'k', ports: [{ port: 81 }] });
    a.setPools([{ name: 'q', addresses: ['192.0.2.0/29'] }]);
    expect(a.usersOf('192.0.2.0')).toEqual(['x/a', 'x/b']);
    expect(a.allocate('x/c', { sharingKey: 'k', ports: [{ port: 82 }] })).toEqual(['192.0.2.0']);
    expect(() => a.assign('x/d', '192.0.2.0', { sharingKey: 'k', ports: [{ port: 80 }] })).toThrow(
      'port TCP/80 is already in use on "192.0.2.0"',
    );
    expect(a.statsOf('q')!.services).toBe(3);
  });

  it('rejects an invalid pool set and keeps the last good one', () => {
    const a = fresh();
    expect(() => a.setPools([{ name: 'p', addresses: ['192.0.2.0/24', '192.0.2.0/25'] }])).toThrow(PoolValidationError);
    expect(a.poolNames()).toEqual(['p']);
    expect(a.ipsOf('s/dual')).toEqual(['192.0.2.200', '2001:db8::1']);
    expect(a.allocate('n')).toEqual(['192.0.2.1']);
  });
});

describe('stats and metrics', () => {
  it('match MetalLB’s gauges, exactly, and follow every change', () => {
    const changed: string[] = [];
    const a = new Allocator({ onCountersChanged: (p) => changed.push(p) });
    a.setPools([
      { name: 'big', addresses: ['2001:db8::/64', '198.18.0.0/15'], avoidBuggyIPs: true },
      { name: 'small', addresses: ['192.0.2.0/30'] },
    ]);
    expect(changed).toEqual(['big', 'small']);
    a.allocate('a', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' });
    a.allocate('b', { sharingKey: 'k' });
    a.assign('c', '198.18.0.2', { sharingKey: 'k' });
    expect(changed.slice(2)).toEqual(['big', 'big', 'big']);
    const big = a.statsOf('big')!;
    expect(big.capacity).toEqual({ total: (1n << 64n) + 131072n - 1024n, ipv4: 131072n - 1024n, ipv6: 1n << 64n });
    // c shares b's address: three services, two IPv4 addresses in use
    expect(a.usersOf('198.18.0.2')).toEqual(['b', 'c']);
    expect(big.inUse).toEqual({ total: 3, ipv4: 2, ipv6: 1 });
    expect(big.services).toBe(3);
    expect(big.available).toEqual({ ipv4: 131072n - 1024n - 2n, ipv6: (1n << 64n) - 1n });
    const metrics = Object.fromEntries(
      a
        .metrics()
        .filter((m) => m.labels.pool === 'small')
        .map((m) => [m.name, m.value]),
    );
    expect(metrics).toEqual({
      metallb_allocator_addresses_total: 4,
      metallb_allocator_ipv4_addresses_total: 4,
      metallb_allocator_ipv6_addresses_total: 0,
      metallb_allocator_addresses_in_use_total: 0,
      metallb_allocator_ipv4_addresses_in_use_total: 0,
      metallb_allocator_ipv6_addresses_in_use_total: 0,
      metallb_allocator_services_allocated_total: 0,
    });
    a.unassign('b');
    expect(a.statsOf('big')!.inUse.ipv4).toBe(2);
    a.unassign('c');
    expect(a.statsOf('big')!.inUse.ipv4).toBe(1);
    expect(a.unassign('c')).toBe(false);
    expect(a.statsOf('nope')).toBeUndefined();
    a.setPools([{ name: 'small', addresses: ['192.0.2.0/30'] }]);
    expect(changed.slice(-2)).toEqual(['big', 'small']);
    expect(a.stats().map((s) => s.pool)).toEqual(['small']);
  });
});

describe('restore after a restart', () => {
  it('re-claims every existing IP before allocating, then serves services that lost theirs before pending ones', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/30', '2001:db8::/126'] }]);
    const out = a.restore([
      { serviceKey: 'pending/1', ips: [] },
      { serviceKey: 'pending/2', ips: [], pool: 'p', service: { ipFamilies: ['IPv6'] } },
      { serviceKey: 'old/1', ips: ['192.0.2.0'] },
      {
        serviceKey: 'old/dual',
        ips: ['2001:db8::', '192.0.2.1'],
        service: { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' },
      },
      { serviceKey: 'old/gone', ips: ['203.0.113.9'] },
      { serviceKey: 'old/clash', ips: ['192.0.2.0'] },
    ]);
    expect(out.map((o) => [o.serviceKey, o.status, o.ips])).toEqual([
      ['pending/1', 'failed', []],
      ['pending/2', 'allocated', ['2001:db8::1']],
      ['old/1', 'kept', ['192.0.2.0']],
      ['old/dual', 'kept', ['192.0.2.1', '2001:db8::']],
      ['old/gone', 'allocated', ['192.0.2.2']],
      ['old/clash', 'allocated', ['192.0.2.3']],
    ]);
    expect(out[4]!.claimError!.message).toBe('["203.0.113.9"] is not allowed in config');
    expect(out[5]!.claimError!.code).toBe('SHARING_CONFLICT');
    expect(out[0]!.error!.message).toBe('no available IPs');
    expect(out[0]!.error).toBeInstanceOf(AllocationError);
    expect(out[0]!.claimError).toBeUndefined();
  });

  it('restores 20,000 services quickly and exactly', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['10.0.0.0/8'] }]);
    const entries = Array.from({ length: 20_000 }, (_, i) => ({
      serviceKey: `s/${i}`,
      ips: [`10.${(i * 7) & 255}.${(i >> 8) & 255}.${i & 255}`],
    }));
    const out = a.restore(entries);
    expect(out.every((o) => o.status === 'kept')).toBe(true);
    expect(a.statsOf('p')!.inUse.ipv4).toBe(20_000);
    expect(entries[0]!.ips).toEqual(['10.0.0.0']);
    expect(a.allocate('new')).toEqual(['10.0.0.1']);
  });
});

describe('least-recently-released reuse (MetalLB #778)', () => {
  it('hands out never-used addresses first, then the oldest release', () => {
    const a = new Allocator({ reuse: 'least-recently-released' });
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
    a.allocate('a');
    a.allocate('b');
    a.unassign('a');
    expect(a.allocate('c')).toEqual(['192.0.2.2']);
    a.unassign('b');
    expect(a.allocate('d')).toEqual(['192.0.2.3']);
    expect(a.statsOf('p')!.inUse.ipv4).toBe(2);
    expect(a.allocate('e')).toEqual(['192.0.2.0']);
    expect(a.allocate('f')).toEqual(['192.0.2.1']);
    expect(() => a.allocate('g')).toThrow('no available IPs');
    a.unassign('d');
    a.unassign('c');
    // explicit assignment may take a released address; the queue keeps the rest in order
    expect(a.assign('h', '192.0.2.2')).toEqual(['192.0.2.2']);
    expect(a.allocate('i')).toEqual(['192.0.2.3']);
  });

  it('carries the queue across setPools', () => {
    const a = new Allocator({ reuse: 'least-recently-released' });
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
    a.allocate('a');
    a.unassign('a');
    a.setPools([{ name: 'q', addresses: ['192.0.2.0/29'] }]);
    expect(a.allocate('b')).toEqual(['192.0.2.1']);
  });

  it('is off by default: the released address is the next one handed out', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
    a.allocate('a');
    a.allocate('b');
    a.unassign('a');
    expect(a.allocate('c')).toEqual(['192.0.2.0']);
  });
});

describe('huge pools cost the same as small ones', () => {
  it('allocates at the far end of an IPv6 /64 and a /8 without enumerating', () => {
    const a = new Allocator();
    a.setPools([
      { name: 'v6', addresses: ['2001:db8::/64'] },
      { name: 'v4', addresses: ['10.0.0.0/8'], avoidBuggyIPs: true },
    ]);
    a.assign('first', '2001:db8::');
    a.assign('last', '2001:db8::ffff:ffff:ffff:ffff');
    expect(a.allocate('n', { ipFamilies: ['IPv6'] })).toEqual(['2001:db8::1']);
    for (let i = 0; i < 300; i++) a.allocate(`v4/${i}`);
    expect(a.ipsOf('v4/299')).toEqual(['10.0.1.46']);
    expect(a.statsOf('v4')!.available.ipv4).toBe((1n << 24n) - 2n * 65536n - 300n);
  });
});
