import { describe, expect, it } from 'vitest';
import { AllocationError, Allocator, type ServiceInfo } from '../src/index.js';

function fails(f: () => unknown): AllocationError {
  try {
    f();
  } catch (e) {
    if (e instanceof AllocationError) return e;
    throw e;
  }
  throw new Error('expected an AllocationError');
}

const V6: ServiceInfo = { ipFamilies: ['IPv6'] };
const REQUIRE: ServiceInfo = { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' };
const PREFER: ServiceInfo = { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack' };
const PREFER6: ServiceInfo = { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'PreferDualStack' };

describe('allocateFromPool', () => {
  it('walks the pool upward from its first address, network and broadcast included', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
    expect(['a', 'b', 'c', 'd'].map((k) => a.allocateFromPool(k, 'p')[0])).toEqual([
      '192.0.2.0',
      '192.0.2.1',
      '192.0.2.2',
      '192.0.2.3',
    ]);
    const e = fails(() => a.allocateFromPool('e', 'p'));
    expect(e.code).toBe('POOL_EXHAUSTED');
    expect(e.message).toBe('no available IPs in pool p for ipv4 IPFamily');
    a.unassign('b');
    expect(a.allocateFromPool('e', 'p')).toEqual(['192.0.2.1']);
  });

  it('follows the order of the addresses list, not numeric order', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.8/31', '192.0.2.0/31', '192.0.2.4 - 192.0.2.5'] }]);
    const got = ['a', 'b', 'c', 'd', 'e', 'f'].map((k) => a.allocateFromPool(k, 'p')[0]);
    expect(got).toEqual(['192.0.2.8', '192.0.2.9', '192.0.2.0', '192.0.2.1', '192.0.2.4', '192.0.2.5']);
    a.unassign('d');
    expect(a.allocateFromPool('g', 'p')).toEqual(['192.0.2.1']);
  });

  it('skips .0 and .255 with avoidBuggyIPs, across /24 boundaries', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.254-192.0.3.2'], avoidBuggyIPs: true }]);
    const got = ['a', 'b', 'c'].map((k) => a.allocateFromPool(k, 'p')[0]);
    expect(got).toEqual(['192.0.2.254', '192.0.3.1', '192.0.3.2']);
    expect(fails(() => a.allocateFromPool('d', 'p')).code).toBe('POOL_EXHAUSTED');
    expect(a.statsOf('p')!.available.ipv4).toBe(0n);
  });

  it('fills an avoidBuggyIPs /22 in order without ever handing out .0/.255', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['10.0.0.0/22'], avoidBuggyIPs: true }]);
    const got: string[] = [];
    for (let i = 0; i < 1016; i++) got.push(a.allocateFromPool(`s/${i}`, 'p')[0]!);
    expect(new Set(got).size).toBe(1016);
    expect(got.some((ip) => ip.endsWith('.0') || ip.endsWith('.255'))).toBe(false);
    expect(got[253]).toBe('10.0.0.254');
    expect(got[254]).toBe('10.0.1.1');
    expect(fails(() => a.allocateFromPool('x', 'p')).code).toBe('POOL_EXHAUSTED');
    a.unassign('s/300');
    expect(a.allocateFromPool('x', 'p')).toEqual([got[300]!]);
  });

  it('packs a service onto the lowest IP it may share, before any fresh IP', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/29'] }]);
    a.allocateFromPool('a', 'p', { sharingKey: 'k', ports: [{ port: 80 }] });
    a.allocateFromPool('b', 'p');
    a.allocateFromPool('c', 'p', { sharingKey: 'k', ports: [{ port: 80 }] });
    expect(a.ipsOf('c')).toEqual(['192.0.2.2']);
    expect(a.allocateFromPool('d', 'p', { sharingKey: 'k', ports: [{ port: 443 }] })).toEqual(['192.0.2.0']);
    expect(a.allocateFromPool('e', 'p', { sharingKey: 'k', ports: [{ port: 80 }, { port: 443 }] })).toEqual([
      '192.0.2.3',
    ]);
    expect(a.allocateFromPool('f', 'p', { sharingKey: 'k', ports: [{ port: 8080 }] })).toEqual(['192.0.2.0']);
    expect(a.allocateFromPool('g', 'p', { sharingKey: 'other' })).toEqual(['192.0.2.4']);
  });

  it('ignores autoAssign but not serviceAllocation', () => {
    const a = new Allocator();
    a.setPools([
      { name: 'manual', addresses: ['192.0.2.0/30'], autoAssign: false },
      { name: 'team', addresses: ['198.51.100.0/30'], serviceAllocation: { namespaces: ['a'] } },
    ]);
    expect(a.allocateFromPool('x/1', 'manual')).toEqual(['192.0.2.0']);
    expect(a.allocateFromPool('a/1', 'team', { namespace: 'a' })).toEqual(['198.51.100.0']);
    const e = fails(() => a.allocateFromPool('b/1', 'team', { namespace: 'b' }));
    expect(e.code).toBe('POOL_INCOMPATIBLE');
    expect(e.message).toBe('pool team not compatible for ip assignment');
    const u = fails(() => a.allocateFromPool('b/1', 'nope'));
    expect(u.code).toBe('UNKNOWN_POOL');
    expect(u.message).toBe('unknown pool "nope"');
  });

  it('handles dual stack: Require needs both, Prefer takes what there is', () => {
    const a = new Allocator();
    a.setPools([
      { name: 'dual', addresses: ['192.0.2.0/31', '2001:db8::/127'] },
      { name: 'v4', addresses: ['198.51.100.0/31'] },
      { name: 'v6', addresses: ['2001:db8:1::/127'] },
    ]);
    expect(a.allocateFromPool('r', 'dual', REQUIRE)).toEqual(['192.0.2.0', '2001:db8::']);
    const e = fails(() => a.allocateFromPool('r2', 'v4', REQUIRE));
    expect(e.message).toBe('no available IPs in pool v4 for dual IPFamily');
    expect(a.allocateFromPool('p4', 'v4', PREFER6)).toEqual(['198.51.100.0']);
    expect(a.allocateFromPool('p6', 'v6', PREFER)).toEqual(['2001:db8:1::']);
    expect(a.allocateFromPool('v6only', 'dual', V6)).toEqual(['2001:db8::1']);
    expect(fails(() => a.allocateFromPool('v6b', 'v4', V6)).message).toBe(
      'no available IPs in pool v4 for ipv6 IPFamily',
    );
  });

  it('returns a held allocation (whatever its pool) and checks its family', () => {
    const a = new Allocator();
    a.setPools([
      { name: 'p', addresses: ['192.0.2.0/30', '2001:db8::/126'] },
      { name: 'q', addresses: ['198.51.100.0/30'] },
    ]);
    a.allocateFromPool('s', 'p');
    expect(a.allocateFromPool('s', 'q')).toEqual(['192.0.2.0']);
    const e = fails(() => a.allocateFromPool('s', 'p', V6));
    expect(e.code).toBe('WRONG_FAMILY');
    expect(e.message).toBe('IP for wrong family assigned alloc ipv4 service family ipv6');
    expect(a.allocateFromPool('s', 'p', PREFER)).toEqual(['192.0.2.0']);
  });
});

describe('allocate: pool selection order', () => {
  const pools = [
    { name: 'zz-open', addresses: ['192.0.2.0/31'] },
    { name: 'aa-open', addresses: ['192.0.2.2/31'] },
    { name: 'manual', addresses: ['192.0.2.4/31'], autoAssign: false },
    { name: 'prio2-ns', addresses: ['198.51.100.0/31'], serviceAllocation: { priority: 2, namespaces: ['a'] } },
    {
      name: 'prio1-sel',
      addresses: ['198.51.100.2/31'],
      serviceAllocation: { priority: 1, serviceSelectors: [{ matchLabels: { app: 'x' } }] },
    },
    { name: 'prio0-ns', addresses: ['198.51.100.4/31'], serviceAllocation: { namespaces: ['a'] } },
    { name: 'prio1-only', addresses: ['198.51.100.6/31'], serviceAllocation: { priority: 1 } },
    { name: 'pinned-off', addresses: ['203.0.113.0/31'], autoAssign: false, serviceAllocation: { priority: 1 } },
  ];

  it('takes pinned pools by priority (ties by name), then unrestricted pools by name', () => {
    const a = new Allocator();
    a.setPools(pools);
    const svc: ServiceInfo = { namespace: 'a', labels: { app: 'x' } };
    const order: (string | undefined)[] = [];
    for (let i = 0; i < 12; i++) {
      try {
        a.allocate(`a/${i}`, svc);
        order.push(a.poolOf(`a/${i}`));
      } catch (e) {
        expect((e as AllocationError).message).toBe('no available IPs');
        order.push(undefined);
      }
    }
    expect(order).toEqual([
      'prio1-only',
      'prio1-only',
      'prio1-sel',
      'prio1-sel',
      'prio2-ns',
      'prio2-ns',
      'prio0-ns',
      'prio0-ns',
      'aa-open',
      'aa-open',
      'zz-open',
      'zz-open',
    ]);
    expect(fails(() => a.allocate('a/x', svc)).code).toBe('NO_AVAILABLE_IPS');
  });

  it('treats a negative priority as no priority (MetalLB’s comparator leaves it undefined)', () => {
    const a = new Allocator();
    a.setPools([
      { name: 'b-neg', addresses: ['192.0.2.0/32'], serviceAllocation: { priority: -5 } },
      { name: 'a-zero', addresses: ['192.0.2.1/32'], serviceAllocation: { priority: 0 } },
      { name: 'c-one', addresses: ['192.0.2.2/32'], serviceAllocation: { priority: 1 } },
    ]);
    expect(['x', 'y', 'z'].map((k) => a.allocate(k)[0])).toEqual(['192.0.2.2', '192.0.2.1', '192.0.2.0']);
  });

  it('never uses a restricted pool for a service it does not admit', () => {
    const a = new Allocator();
    a.setPools(pools);
    const svc: ServiceInfo = { namespace: 'b' };
    const got = [0, 1, 2, 3, 4, 5].map((i) => {
      a.allocate(`b/${i}`, svc);
      return a.poolOf(`b/${i}`);
    });
    // prio1-only (priority-only allocation) admits everyone; prio2-ns, prio1-sel, prio0-ns do not admit b/*.
    expect(got).toEqual(['prio1-only', 'prio1-only', 'aa-open', 'aa-open', 'zz-open', 'zz-open']);
    expect(fails(() => a.allocate('b/x', svc)).message).toBe('no available IPs');
  });

  it('returns and re-validates a held allocation', () => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
    expect(a.allocate('s/a', { sharingKey: 'k', ports: [{ port: 80 }] })).toEqual(['192.0.2.0']);
    expect(a.allocate('s/b', { sharingKey: 'k', ports: [{ port: 81 }] })).toEqual(['192.0.2.0']);
    expect(a.allocate('s/a', { sharingKey: 'k', ports: [{ port: 82 }] })).toEqual(['192.0.2.0']);
    expect(fails(() => a.allocate('s/a', { sharingKey: 'k', ports: [{ port: 81 }] })).code).toBe('PORT_CONFLICT');
    expect(a.ipsOf('s/a')).toEqual(['192.0.2.0']);
  });
});

describe('allocate: dual stack', () => {
  const a = new Allocator();
  a.setPools([
    { name: 'a-v4', addresses: ['192.0.2.0/31'] },
    { name: 'b-v6', addresses: ['2001:db8:1::/127'] },
    { name: 'c-dual', addresses: ['198.51.100.0/31', '2001:db8:2::/127'] },
  ]);

  it('RequireDualStack takes the first pool with both families', () => {
    expect(a.allocate('r/1', REQUIRE)).toEqual(['198.51.100.0', '2001:db8:2::']);
    expect(a.poolOf('r/1')).toBe('c-dual');
  });

  it('PreferDualStack takes a dual pool first, else the primary family, else the secondary', () => {
    expect(a.allocate('p/1', PREFER6)).toEqual(['198.51.100.1', '2001:db8:2::1']);
    expect(a.allocate('p/2', PREFER6)).toEqual(['2001:db8:1::']);
    expect(a.allocate('p/3', PREFER)).toEqual(['192.0.2.0']);
    expect(a.allocate('p/4', PREFER)).toEqual(['192.0.2.1']);
    expect(a.allocate('p/5', PREFER)).toEqual(['2001:db8:1::1']);
    expect(fails(() => a.allocate('p/6', PREFER)).code).toBe('NO_AVAILABLE_IPS');
    expect(fails(() => a.allocate('r/2', REQUIRE)).code).toBe('NO_AVAILABLE_IPS');
  });

  it('gives a single-family service one IP whatever its policy', () => {
    const b = new Allocator();
    b.setPools([{ name: 'dual', addresses: ['192.0.2.0/31', '2001:db8::/127'] }]);
    expect(b.allocate('s', { ipFamilies: ['IPv6'], ipFamilyPolicy: 'PreferDualStack' })).toEqual(['2001:db8::']);
    expect(fails(() => b.allocate('t', { ipFamilies: ['IPv4'], ipFamilyPolicy: 'RequireDualStack' })).code).toBe(
      'INVALID_SERVICE',
    );
  });

  it('adds the missing family from the same pool (AllocateFromPoolForAdditionalFamily)', () => {
    const b = new Allocator();
    b.setPools([{ name: 'p', addresses: ['192.0.2.0/31'] }]);
    expect(b.allocate('s', PREFER)).toEqual(['192.0.2.0']);
    expect(fails(() => b.allocateAdditionalFamily('s', PREFER)).message).toBe(
      'no available IPs in pool p for ipv6 IPFamily',
    );
    b.setPools([{ name: 'p', addresses: ['192.0.2.0/31', '2001:db8::/127'] }]);
    expect(b.allocateAdditionalFamily('s', PREFER)).toEqual(['192.0.2.0', '2001:db8::']);
    expect(fails(() => b.allocateAdditionalFamily('s', PREFER)).code).toBe('NOT_ALLOCATED');
    expect(fails(() => b.allocateAdditionalFamily('none', PREFER)).code).toBe('NOT_ALLOCATED');
  });
});

describe('service description validation', () => {
  const a = new Allocator();
  a.setPools([{ name: 'p', addresses: ['192.0.2.0/30'] }]);
  it.each<[string, unknown]>([
    ['three families', { ipFamilies: ['IPv4', 'IPv6', 'IPv4'] }],
    ['same family twice', { ipFamilies: ['IPv4', 'IPv4'] }],
    ['two families, SingleStack', { ipFamilies: ['IPv4', 'IPv6'] }],
    ['unknown family', { ipFamilies: ['IPv5'] }],
    ['unknown policy', { ipFamilyPolicy: 'Maybe' }],
    ['bad port', { ports: [{ port: 70000 }] }],
    ['bad sharing key', { sharingKey: 5 }],
    ['labels not a map', { labels: null }],
    ['label value not a string', { labels: { a: 1 } }],
    ['selector not a map', { externalTrafficPolicy: 'Local', selector: 'app=x' }],
    ['ports not a list', { ports: 80 }],
  ])('%s', (_, svc) => {
    const e = fails(() => a.allocate('x', svc as ServiceInfo));
    expect(e.code).toBe('INVALID_SERVICE');
    expect(a.size).toBe(0);
  });
});
