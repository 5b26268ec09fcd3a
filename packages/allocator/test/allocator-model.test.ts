import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AllocationError, Allocator, type ServiceInfo } from '../src/index.js';
import { type ModelPool, type ModelResult, type ModelService, ReferenceModel } from './reference-model.js';

const POOL_SETS: ModelPool[][] = [
  [
    { name: 'alpha', addresses: ['192.0.2.0/30', '2001:db8::/126'], autoAssign: true, avoidBuggyIPs: false },
    { name: 'beta', addresses: ['192.0.2.8 - 192.0.2.10', '192.0.2.4/31'], autoAssign: true, avoidBuggyIPs: false },
    { name: 'gamma', addresses: ['198.51.100.254-198.51.101.1'], autoAssign: true, avoidBuggyIPs: true },
    {
      name: 'delta',
      addresses: ['2001:db8::100/126', '192.0.2.64/31'],
      autoAssign: true,
      avoidBuggyIPs: false,
      priority: 1,
      namespaces: ['ns1'],
    },
    { name: 'eps', addresses: ['203.0.113.0/30'], autoAssign: false, avoidBuggyIPs: false },
  ],
  [
    { name: 'alpha', addresses: ['192.0.2.0/31', '2001:db8::/127'], autoAssign: true, avoidBuggyIPs: false },
    {
      name: 'zeta',
      addresses: ['192.0.2.8 - 192.0.2.10', '192.0.2.4/31', '2001:db8::2/127'],
      autoAssign: true,
      avoidBuggyIPs: false,
    },
    { name: 'gamma', addresses: ['198.51.100.254-198.51.101.1'], autoAssign: true, avoidBuggyIPs: false },
    { name: 'delta', addresses: ['2001:db8::100/126'], autoAssign: true, avoidBuggyIPs: false, priority: 2 },
    {
      name: 'eta',
      addresses: ['203.0.113.0/31', '192.0.2.64/31'],
      autoAssign: true,
      avoidBuggyIPs: false,
      priority: 1,
      namespaces: ['ns2'],
    },
  ],
];

const CANDIDATE_IPS = [
  '192.0.2.0',
  '192.0.2.1',
  '192.0.2.3',
  '192.0.2.5',
  '192.0.2.9',
  '198.51.100.255',
  '198.51.101.0',
  '198.51.101.1',
  '203.0.113.1',
  '192.0.2.64',
  '2001:db8::',
  '2001:db8::3',
  '2001:db8::101',
  '192.0.2.200',
];

const serviceArb: fc.Arbitrary<ModelService> = fc
  .record({
    namespace: fc.constantFrom('ns1', 'ns2'),
    family: fc.constantFrom('IPv4', 'IPv6', 'dual'),
    policy: fc.constantFrom('SingleStack', 'RequireDualStack', 'PreferDualStack'),
    sharingKey: fc.constantFrom('', 's1', 's1', 's2'),
    backendKey: fc.constantFrom('', '', 'app=x'),
    ports: fc.subarray(['TCP/80', 'UDP/53', 'TCP/443']),
  })
  .map((s): ModelService => {
    if (s.family !== 'dual' && s.policy === 'RequireDualStack') return { ...s, policy: 'SingleStack' };
    if (s.family === 'dual' && s.policy === 'SingleStack') return { ...s, policy: 'RequireDualStack' };
    return s;
  });

type Op =
  | { kind: 'allocate'; key: string; svc: ModelService }
  | { kind: 'fromPool'; key: string; pool: string; svc: ModelService }
  | { kind: 'assign'; key: string; ips: string[]; svc: ModelService }
  | { kind: 'unassign'; key: string }
  | { kind: 'setPools'; set: number };

const keyArb = fc.constantFrom('a/s0', 'a/s1', 'a/s2', 'b/s3', 'b/s4', 'b/s5', 'c/s6', 'c/s7');
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('allocate' as const), key: keyArb, svc: serviceArb }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fromPool' as const),
      key: keyArb,
      pool: fc.constantFrom('alpha', 'beta', 'gamma', 'delta', 'eps', 'zeta', 'eta', 'nope'),
      svc: serviceArb,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('assign' as const),
      key: keyArb,
      ips: fc.array(fc.constantFrom(...CANDIDATE_IPS), { minLength: 1, maxLength: 3 }),
      svc: serviceArb,
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('unassign' as const), key: keyArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('setPools' as const), set: fc.constantFrom(0, 1) }) },
);

function toService(m: ModelService): ServiceInfo {
  return {
    namespace: m.namespace,
    ipFamilies: m.family === 'IPv4' ? ['IPv4'] : m.family === 'IPv6' ? ['IPv6'] : ['IPv4', 'IPv6'],
    ipFamilyPolicy: m.policy,
    sharingKey: m.sharingKey,
    backendKey: m.backendKey,
    ports: m.ports.map((p) => {
      const [protocol, port] = p.split('/');
      return { protocol: protocol!, port: Number(port) };
    }),
  };
}

function toSpecs(set: ModelPool[]) {
  return set.map((p) => ({
    name: p.name,
    addresses: p.addresses,
    autoAssign: p.autoAssign,
    avoidBuggyIPs: p.avoidBuggyIPs,
    ...(p.priority !== undefined || p.namespaces !== undefined
      ? {
          serviceAllocation: {
            ...(p.priority !== undefined ? { priority: p.priority } : {}),
            ...(p.namespaces ? { namespaces: p.namespaces } : {}),
          },
        }
      : {}),
  }));
}

function run(f: () => string[]): ModelResult {
  try {
    return { ok: true, ips: f() };
  } catch (e) {
    if (!(e instanceof AllocationError)) throw e;
    return { ok: false, code: e.code };
  }
}

function checkInvariants(a: Allocator, m: ReferenceModel, set: ModelPool[]): void {
  const keys = ['a/s0', 'a/s1', 'a/s2', 'b/s3', 'b/s4', 'b/s5', 'c/s6', 'c/s7'];
  for (const k of keys) {
    expect(a.ipsOf(k)).toEqual(m.allocs.get(k)?.ips ?? []);
    expect(a.poolOf(k)).toBe(m.allocs.get(k)?.pool);
    const pool = a.poolOf(k);
    // every IP is inside its pool
    for (const ip of a.ipsOf(k)) expect(m.contains(pool!, ip)).toBe(true);
  }
  // no illegal sharing
  const byIp = new Map<string, string[]>();
  for (const k of keys) for (const ip of a.ipsOf(k)) byIp.set(ip, [...(byIp.get(ip) ?? []), k]);
  for (const [ip, users] of byIp) {
    expect(a.usersOf(ip)).toEqual([...users].sort());
    if (users.length < 2) continue;
    const allocs = users.map((u) => m.allocs.get(u)!);
    const first = allocs[0]!;
    for (const x of allocs) {
      expect(x.sharing).not.toBe('');
      expect(x.sharing).toBe(first.sharing);
      expect(x.backend).toBe(first.backend);
    }
    const ports = allocs.flatMap((x) => x.ports);
    expect(new Set(ports).size).toBe(ports.length);
  }
  // counters equal the truth
  for (const p of set) {
    const s = a.statsOf(p.name)!;
    const truth = m.inUse(p.name);
    const cap = m.capacity(p.name);
    expect(s.inUse.ipv4).toBe(truth.ipv4);
    expect(s.inUse.ipv6).toBe(truth.ipv6);
    expect(s.capacity.ipv4).toBe(BigInt(cap.ipv4));
    expect(s.capacity.ipv6).toBe(BigInt(cap.ipv6));
    expect(s.services).toBe([...m.allocs.values()].filter((x) => x.pool === p.name).length);
  }
}

describe('Allocator against a naive reference model', () => {
  it('agrees on every operation of random sequences (both reuse modes), with all invariants holding', () => {
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), fc.boolean(), (ops, lrr) => {
        const a = new Allocator(lrr ? { reuse: 'least-recently-released' } : {});
        const m = new ReferenceModel(lrr);
        let set = POOL_SETS[0]!;
        a.setPools(toSpecs(set));
        m.setPools(set);
        for (const op of ops) {
          switch (op.kind) {
            case 'allocate':
              expect(run(() => a.allocate(op.key, toService(op.svc)))).toEqual(m.allocate(op.key, op.svc));
              break;
            case 'fromPool':
              expect(run(() => a.allocateFromPool(op.key, op.pool, toService(op.svc)))).toEqual(
                m.allocateFromPool(op.key, op.pool, op.svc),
              );
              break;
            case 'assign':
              expect(run(() => a.assign(op.key, op.ips, toService(op.svc)))).toEqual(m.assign(op.key, op.ips, op.svc));
              break;
            case 'unassign':
              expect(a.unassign(op.key)).toBe(m.unassign(op.key));
              break;
            case 'setPools': {
              set = POOL_SETS[op.set]!;
              const r = a.setPools(toSpecs(set));
              const mr = m.setPools(set);
              expect(r.evicted.map((e) => e.serviceKey)).toEqual([...mr.evicted].sort());
              break;
            }
          }
          checkInvariants(a, m, set);
        }
      }),
      { numRuns: 250 },
    );
  }, 120_000);

  it('release then allocate succeeds while capacity remains (single-family, no sharing)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 40 })), { minLength: 1, maxLength: 200 }),
        fc.constantFrom('lowest', 'least-recently-released') as fc.Arbitrary<'lowest' | 'least-recently-released'>,
        (steps, reuse) => {
          const a = new Allocator({ reuse });
          a.setPools([{ name: 'p', addresses: ['192.0.2.0/27', '198.51.100.0/30'], avoidBuggyIPs: true }]);
          const capacity = Number(a.statsOf('p')!.capacity.ipv4);
          expect(capacity).toBe(31 + 3);
          const held = new Set<number>();
          for (const [release, n] of steps) {
            if (release && held.size > 0) {
              const victim = [...held][n % held.size]!;
              expect(a.unassign(`s/${victim}`)).toBe(true);
              held.delete(victim);
            } else if (!held.has(n)) {
              if (held.size < capacity) {
                const ips = a.allocate(`s/${n}`);
                expect(ips).toHaveLength(1);
                expect(a.poolForIp(ips[0]!)).toBe('p');
                held.add(n);
              } else {
                expect(() => a.allocate(`s/${n}`)).toThrow('no available IPs');
              }
            }
            expect(a.statsOf('p')!.inUse.ipv4).toBe(held.size);
          }
          const distinct = new Set([...held].map((k) => a.ipsOf(`s/${k}`)[0]));
          expect(distinct.size).toBe(held.size);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('Allocator input robustness', () => {
  it('rejects values whose conversion to text throws with AllocationError (CI counterexample)', () => {
    const a = new Allocator();
    a.setPools(toSpecs(POOL_SETS[0]!));
    const hostile = { toString: false };
    expect(() => a.assign('x/3', [hostile] as unknown as string[])).toThrow(AllocationError);
    expect(() => a.assign('x/3', [hostile] as unknown as string[])).toThrow('invalid IP "{\\"toString\\":false}"');
    const svc = { ipFamilies: [hostile], ipFamilyPolicy: Object.create(null) } as unknown as ServiceInfo;
    expect(() => a.allocate('x/1', svc)).toThrow(AllocationError);
    const policyOnly = { ipFamilyPolicy: Object.create(null) } as unknown as ServiceInfo;
    expect(() => a.allocate('x/1', policyOnly)).toThrow(AllocationError);
  });

  it('throws only AllocationError for arbitrary service descriptions and IP lists', () => {
    const a = new Allocator();
    a.setPools(toSpecs(POOL_SETS[0]!));
    fc.assert(
      fc.property(fc.anything(), fc.anything(), fc.constantFrom('alpha', 'nope'), (svc, ips, pool) => {
        for (const f of [
          () => a.allocate('x/1', svc as ServiceInfo),
          () => a.allocateFromPool('x/2', pool, svc as ServiceInfo),
          () => a.assign('x/3', ips as string[], svc as ServiceInfo),
          () => a.allocateAdditionalFamily('x/1', svc as ServiceInfo),
        ]) {
          try {
            f();
          } catch (e) {
            expect(e).toBeInstanceOf(AllocationError);
          }
        }
        a.unassign('x/1');
        a.unassign('x/2');
        a.unassign('x/3');
      }),
      { numRuns: 1000 },
    );
  });
});
