// MetalLB's own stateful allocator tables (internal/allocator/allocator_test.go TestAssignment and TestPoolAllocation),
// re-expressed as data against our API: each row runs on the state the previous rows left.
import { describe, expect, it } from 'vitest';
import { AllocationError, Allocator, type ServiceInfo } from '../src/index.js';

type Row = {
  desc: string;
  key: string;
  ips?: string[]; // [] = unassign
  ns?: string;
  labels?: Record<string, string>;
  ports?: number[];
  udp?: number[];
  sharing?: string;
  backend?: string;
  err?: boolean;
};

function service(r: Row): ServiceInfo {
  return {
    namespace: r.ns ?? '',
    labels: r.labels ?? {},
    ports: [
      ...(r.ports ?? []).map((port) => ({ protocol: 'TCP', port })),
      ...(r.udp ?? []).map((port) => ({ protocol: 'UDP', port })),
    ],
    sharingKey: r.sharing ?? '',
    backendKey: r.backend ?? '',
  };
}

describe('MetalLB TestAssignment, row by row', () => {
  const a = new Allocator();
  a.setPools([
    { name: 'test', addresses: ['1.2.3.4/31', '1000::4/127'] },
    { name: 'test2', addresses: ['1.2.4.0/24', '1000::4:0/120'], avoidBuggyIPs: true },
    {
      name: 'test3',
      addresses: ['1.2.5.0/24', '1000::5:0/120'],
      avoidBuggyIPs: true,
      serviceAllocation: { namespaces: ['test-ns1'] },
    },
    {
      name: 'test4',
      addresses: ['1.2.6.0/24', '1000::6:0/120'],
      avoidBuggyIPs: true,
      serviceAllocation: { serviceSelectors: [{ matchLabels: { team: 'metallb' } }] },
    },
    {
      name: 'test5',
      addresses: ['1.2.7.0/24', '1000::7:0/120'],
      avoidBuggyIPs: true,
      serviceAllocation: {
        priority: 20,
        namespaces: ['test-ns1'],
        serviceSelectors: [{ matchLabels: { team: 'metallb' } }],
      },
    },
    {
      name: 'test6',
      addresses: ['1.2.8.0/24', '1000::9:0/120'],
      avoidBuggyIPs: true,
      serviceAllocation: {
        priority: 20,
        namespaces: ['test-ns2'],
        serviceSelectors: [{ matchLabels: { foo: 'bar' } }],
      },
    },
  ]);
  const share = { sharing: 'share', backend: 'backend' };
  const rows = (v4: boolean): Row[] => {
    const ip = (a4: string, a6: string) => [v4 ? a4 : a6];
    return [
      { desc: 'assign s1', key: 's1', ips: ip('1.2.3.4', '1000::4') },
      { desc: 's1 idempotent reassign', key: 's1', ips: ip('1.2.3.4', '1000::4') },
      { desc: "s2 can't grab s1's IP", key: 's2', ips: ip('1.2.3.4', '1000::4'), err: true },
      { desc: 's2 can get the other IP', key: 's2', ips: ip('1.2.3.5', '1000::4:5') },
      { desc: "s1 now can't grab s2's IP", key: 's1', ips: ip('1.2.3.5', '1000::4:5'), err: true },
      { desc: 's1 frees its IP', key: 's1', ips: [] },
      { desc: "s2 can grab s1's former IP", key: 's2', ips: ip('1.2.3.4', '1000::4') },
      { desc: "s1 can now grab s2's former IP", key: 's1', ips: ip('1.2.3.5', '1000::4:5') },
      ...(v4
        ? [
            { desc: 's3 cannot grab a 0 buggy IP', key: 's3', ips: ['1.2.4.0'], err: true },
            { desc: 's3 cannot grab a 255 buggy IP', key: 's3', ips: ['1.2.4.255'], err: true },
          ]
        : []),
      { desc: 's3 can grab another IP in that pool', key: 's3', ips: ip('1.2.4.254', '1000::4:ff') },
      {
        desc: 's4 takes an IP, with sharing',
        key: 's4',
        ips: ip('1.2.4.3', '1000::4:3'),
        ports: [80],
        sharing: 'sharing',
        backend: 'backend',
      },
      {
        desc: 's4 changes its sharing key in place',
        key: 's4',
        ips: ip('1.2.4.3', '1000::4:3'),
        ports: [80],
        ...share,
      },
      {
        desc: "s3 can't share with s4 (port conflict)",
        key: 's3',
        ips: ip('1.2.4.3', '1000::4:3'),
        ports: [80],
        ...share,
        err: true,
      },
      {
        desc: "s3 can't share with s4 (wrong sharing key)",
        key: 's3',
        ips: ip('1.2.4.3', '1000::4:3'),
        ports: [443],
        sharing: 'othershare',
        backend: 'backend',
        err: true,
      },
      {
        desc: "s3 can't share with s4 (wrong backend key)",
        key: 's3',
        ips: ip('1.2.4.3', '1000::4:3'),
        ports: [443],
        sharing: 'share',
        backend: 'otherbackend',
        err: true,
      },
      { desc: 's3 takes the same IP as s4', key: 's3', ips: ip('1.2.4.3', '1000::4:3'), ports: [443], ...share },
      {
        desc: 's3 can change its ports while keeping the same IP',
        key: 's3',
        ips: ip('1.2.4.3', '1000::4:3'),
        udp: [53],
        ...share,
      },
      {
        desc: "s3 can't change its sharing key while keeping the same IP",
        key: 's3',
        ips: ip('1.2.4.3', '1000::4:3'),
        ports: [443],
        sharing: 'othershare',
        backend: 'backend',
        err: true,
      },
      {
        desc: "s3 can't change its backend key while keeping the same IP",
        key: 's3',
        ips: ip('1.2.4.3', '1000::4:3'),
        ports: [443],
        sharing: 'share',
        backend: 'otherbackend',
        err: true,
      },
      { desc: "s4 takes s3's former IP", key: 's4', ips: ip('1.2.4.254', '1000::4:ff') },
    ];
  };
  const tail: Row[] = [
    { desc: 's2 frees its IP', key: 's2', ips: [] },
    { desc: 'ip dual-stack assign s1', key: 's1', ips: ['1.2.3.4', '1000::4'] },
    { desc: 'ip dual-stack assign s1 from different pools', key: 's1', ips: ['1.2.4.5', '1000::4'], err: true },
    { desc: 'pool pinned on same namespace', key: 's1', ns: 'test-ns1', ips: ['1.2.5.10'] },
    { desc: 'pool pinned on different namespace', key: 's1', ns: 'testns-not-exist', ips: ['1.2.5.10'], err: true },
    {
      desc: 'pool pinned with same service label',
      key: 's1',
      ns: 'testns-not-exist',
      labels: { team: 'metallb' },
      ips: ['1.2.6.10'],
    },
    {
      desc: 'pool pinned with different service label',
      key: 's1',
      ns: 'testns-not-exist',
      labels: { team: 'red' },
      ips: ['1.2.6.10'],
      err: true,
    },
    {
      desc: 'pool pinned with namespace and service label',
      key: 's1',
      ns: 'test-ns1',
      labels: { team: 'metallb' },
      ips: ['1.2.7.10'],
    },
    {
      desc: 'pool pinned with namespace and incompatible service label',
      key: 's1',
      ns: 'test-ns2',
      labels: { team: 'metallb' },
      ips: ['1.2.8.10'],
      err: true,
    },
    {
      desc: 'pool pinned with service label and incompatible namespace',
      key: 's1',
      ns: 'testns-not-exist',
      labels: { foo: 'bar' },
      ips: ['1.2.8.10'],
      err: true,
    },
  ];

  it.each([...rows(true), ...rows(false), ...tail].map((r, i) => [`${i} ${r.desc}`, r] as const))('%s', (_, r) => {
    if (r.ips!.length === 0) {
      a.unassign(r.key);
      expect(a.ipsOf(r.key)).toEqual([]);
      return;
    }
    const before = a.ipsOf(r.key);
    if (r.err) {
      expect(() => a.assign(r.key, r.ips!, service(r))).toThrow(AllocationError);
      expect(a.ipsOf(r.key)).toEqual(before);
    } else {
      expect(a.assign(r.key, r.ips!, service(r))).toEqual(r.ips);
      expect(a.ipsOf(r.key)).toEqual(r.ips);
    }
  });
});

describe('MetalLB TestPoolAllocation (pool "test": 1.2.3.4/31, 1.2.3.10/31, 1000::/127, 2000::/127)', () => {
  const a = new Allocator();
  a.setPools([
    { name: 'not_this_one', addresses: ['192.168.0.0/16', 'fc00::1:0/112'] },
    { name: 'test', addresses: ['1.2.3.4/31', '1.2.3.10/31', '1000::/127', '2000::/127'] },
    { name: 'test2', addresses: ['10.20.30.0/24', 'fc00::2:0/120'] },
  ]);
  const v4 = ['1.2.3.4', '1.2.3.5', '1.2.3.10', '1.2.3.11'];
  const v6 = ['1000::', '1000::1', '2000::', '2000::1'];
  const from = (key: string, svc: ServiceInfo = {}) => a.allocateFromPool(key, 'test', svc);

  it('fills, exhausts, reuses and shares each family, then dual stack', () => {
    for (const [fam, valid] of [
      ['IPv4', v4],
      ['IPv6', v6],
    ] as const) {
      const svc: ServiceInfo = { ipFamilies: [fam] };
      expect(['s1', 's2', 's3', 's4'].map((k) => from(k, svc)[0])).toEqual(valid);
      expect(() => from('s5', svc)).toThrow(`no available IPs in pool test for ${fam.toLowerCase()} IPFamily`);
      expect(() => from('s6', svc)).toThrow(AllocationError);
      a.unassign('s1');
      expect(from('s5', svc)).toEqual([valid[0]]);
      expect(() => from('s6', svc)).toThrow(AllocationError);
      a.unassign('s5');
      expect(from('s5', { ...svc, sharingKey: 'share', ports: [{ port: 80 }] })).toEqual([valid[0]]);
      expect(from('s6', { ...svc, sharingKey: 'share', ports: [{ port: 443 }] })).toEqual([valid[0]]);
      if (fam === 'IPv6') {
        // "should-not-happen": s1 holds an IPv4 and asks for IPv6
        a.unassign('s1');
        from('s1', { ipFamilies: ['IPv4'] });
        expect(() => from('s1', svc)).toThrow('IP for wrong family assigned alloc ipv4 service family ipv6');
      }
      for (const k of ['s1', 's2', 's3', 's4', 's5', 's6']) a.unassign(k);
    }
    const dual: ServiceInfo = { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' };
    const got = ['s1', 's2', 's3', 's4'].map((k) => from(k, dual));
    expect(got.map((g) => g[0])).toEqual(v4);
    expect(got.map((g) => g[1])).toEqual(v6);
    expect(() => from('s5', dual)).toThrow('no available IPs in pool test for dual IPFamily');
    a.unassign('s1');
    expect(from('s5', dual)).toEqual([v4[0], v6[0]]);
    expect(() => from('s5', { ...dual, ipFamilyPolicy: 'PreferDualStack' })).not.toThrow();
    expect(() => a.allocateFromPool('s9', 'nonexistentpool')).toThrow('unknown pool "nonexistentpool"');
  });
});

describe('MetalLB TestBuggyIPs and TestAutoAssign', () => {
  it('hands out exactly the non-buggy addresses, then fails', () => {
    const a = new Allocator();
    a.setPools([
      { name: 'test', addresses: ['1.2.3.0/31'] },
      { name: 'test2', addresses: ['1.2.3.254/31'] },
      { name: 'test3', addresses: ['1.2.4.0/31'], avoidBuggyIPs: true },
      { name: 'test4', addresses: ['1.2.4.254/31'], avoidBuggyIPs: true },
    ]);
    const got = ['s1', 's2', 's3', 's4', 's5', 's6'].map((k) => a.allocate(k)[0]);
    expect(got.sort()).toEqual(['1.2.3.0', '1.2.3.1', '1.2.3.254', '1.2.3.255', '1.2.4.1', '1.2.4.254']);
    expect(() => a.allocate('s7')).toThrow('no available IPs');
  });

  it('never auto-assigns from an autoAssign: false pool, in any family', () => {
    const a = new Allocator();
    a.setPools([
      { name: 'test1', addresses: ['1.2.3.4/31', '1000::4/127'], autoAssign: false },
      { name: 'test2', addresses: ['1.2.3.10/31', '1000::10/127'] },
    ]);
    for (const ipFamilies of [['IPv4'], ['IPv6'], ['IPv4', 'IPv6']] as const) {
      const svc: ServiceInfo = {
        ipFamilies: [...ipFamilies],
        ...(ipFamilies.length === 2 ? { ipFamilyPolicy: 'RequireDualStack' } : {}),
      };
      const got = ['s1', 's2'].flatMap((k) => a.allocate(k, svc));
      for (const ip of got) expect(a.poolForIp(ip)).toBe('test2');
      for (const k of ['s3', 's4', 's5']) expect(() => a.allocate(k, svc)).toThrow('no available IPs');
      a.unassign('s1');
      a.unassign('s2');
    }
  });
});

describe('MetalLB TestConfigReload', () => {
  const base = [
    { name: 'test', addresses: ['1.2.3.0/30', '1000::/126'] },
    { name: 'unused', addresses: ['1.2.4.0/30', '1001::/126'] },
  ];
  it.each<
    [string, { name: string; addresses: string[]; avoidBuggyIPs?: boolean }[], string | undefined, string | undefined]
  >([
    ['set same config is no-op', [{ name: 'test', addresses: ['1.2.3.0/30', '1000::/126'] }], 'test', 'test'],
    ['expand pool', [{ name: 'test', addresses: ['1.2.3.0/24', '1000::/120'] }], 'test', 'test'],
    ['shrink pool', [{ name: 'test', addresses: ['1.2.3.0/30', '1000::/126'] }], 'test', 'test'],
    [
      "can't shrink further, removing the service allocation",
      [{ name: 'test', addresses: ['1.2.3.2/31', '1000::0/126'] }],
      undefined,
      'test',
    ],
    ["can't shrink further ipv6", [{ name: 'test', addresses: ['1.2.3.0/30', '1000::2/127'] }], 'test', undefined],
    ['rename the pool', [{ name: 'test2', addresses: ['1.2.3.0/30', '1000::0/126'] }], 'test2', 'test2'],
    [
      'split pool',
      [
        { name: 'test', addresses: ['1.2.3.0/31', '1000::2/127'] },
        { name: 'test2', addresses: ['1.2.3.2/31', '1000::/127'] },
      ],
      'test',
      'test2',
    ],
    [
      'enable buggy IPs not allowed',
      [{ name: 'test2', addresses: ['1.2.3.0/31', '1000::/127'], avoidBuggyIPs: true }],
      undefined,
      'test2',
    ],
  ])('%s', (_, pools, poolS1, poolS2) => {
    const a = new Allocator();
    a.setPools(base);
    a.assign('s1', '1.2.3.0');
    a.assign('s2', '1000::');
    a.setPools(pools);
    expect(a.poolOf('s1')).toBe(poolS1);
    expect(a.poolOf('s2')).toBe(poolS2);
  });
});

describe('MetalLB TestPoolCount (exact where MetalLB clamps)', () => {
  it.each<[string, string[], boolean, bigint, bigint]>([
    ['/24', ['1.2.3.0/24'], false, 256n, 0n],
    ['/24 and /25', ['1.2.3.0/24', '2.3.4.128/25'], false, 384n, 0n],
    ['/24 and /25, no buggy IPs', ['1.2.3.0/24', '2.3.4.128/25'], true, 381n, 0n],
    ['a big IPv6 range (MetalLB: MaxInt64)', ['1.2.3.0/24', '2.3.4.128/25', '1000::/64'], true, 381n, 1n << 64n],
    ['IPv4 and IPv6 range', ['1.2.3.0/31', '1000::/127'], true, 1n, 2n],
  ])('%s', (_, addresses, avoidBuggyIPs, ipv4, ipv6) => {
    const a = new Allocator();
    a.setPools([{ name: 'p', addresses, avoidBuggyIPs }]);
    expect(a.statsOf('p')!.capacity).toEqual({ total: ipv4 + ipv6, ipv4, ipv6 });
  });
});
