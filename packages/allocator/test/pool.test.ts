import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatPrefix, type PoolSpec, PoolValidationError, parseAddressEntry, parsePools } from '../src/index.js';

function prefixes(entry: string): string[] {
  const r = parseAddressEntry(entry);
  if (!r.ok) throw new Error(r.error);
  return r.prefixes.map(formatPrefix);
}

function errorOf(
  pools: PoolSpec[],
  namespaces = [] as { name: string; labels?: Record<string, string> }[],
): PoolValidationError {
  try {
    parsePools(pools, namespaces);
  } catch (e) {
    if (e instanceof PoolValidationError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('address entries (config.ParseCIDR)', () => {
  it.each([
    ['192.0.2.0/24', ['192.0.2.0/24']],
    ['192.0.2.77/24', ['192.0.2.0/24']],
    ['1000::1/127', ['1000::/127']],
    ['0.0.0.0/0', ['0.0.0.0/0']],
    ['192.0.2.5/32', ['192.0.2.5/32']],
    ['192.0.2.0/024', ['192.0.2.0/24']],
    ['1.2.3.10-1.2.3.20', ['1.2.3.10/31', '1.2.3.12/30', '1.2.3.16/30', '1.2.3.20/32']],
    ['1.2.3.10 - 1.2.3.20', ['1.2.3.10/31', '1.2.3.12/30', '1.2.3.16/30', '1.2.3.20/32']],
    ['\t192.0.2.0 -192.0.2.255 ', ['192.0.2.0/24']],
    ['192.0.2.7-192.0.2.7', ['192.0.2.7/32']],
    ['2001:db8::-2001:db8::ff', ['2001:db8::/120']],
    ['2001:db8::1 - 2001:db8::2', ['2001:db8::1/128', '2001:db8::2/128']],
  ])('%j → %j', (entry, out) => {
    expect(prefixes(entry)).toEqual(out);
  });

  it.each([
    ['192.0.2.0/33', 'invalid CIDR "192.0.2.0/33"'],
    ['192.0.2.0', 'invalid CIDR "192.0.2.0"'],
    ['192.0.2.0 /24', 'invalid CIDR "192.0.2.0 /24"'],
    ['192.0.2.0/-1', 'invalid IP range "192.0.2.0/-1": invalid start IP "192.0.2.0/"'],
    ['2001:db8::/129', 'invalid CIDR "2001:db8::/129"'],
    ['fe80::/64%eth0', 'invalid CIDR "fe80::/64%eth0"'],
    ['1.2.3.x - 1.2.3.5', 'invalid IP range "1.2.3.x - 1.2.3.5": invalid start IP "1.2.3.x "'],
    ['1.2.3.4 - nope', 'invalid IP range "1.2.3.4 - nope": invalid end IP " nope"'],
    ['1.2.3.4-1.2.3.5-1.2.3.6', 'invalid IP range "1.2.3.4-1.2.3.5-1.2.3.6": invalid end IP "1.2.3.5-1.2.3.6"'],
    ['1.2.3.9-1.2.3.5', 'invalid IP range "1.2.3.9-1.2.3.5": start IP "1.2.3.9" is after the end IP "1.2.3.5"'],
    [
      '1.2.3.4-2001:db8::1',
      'invalid IP range "1.2.3.4-2001:db8::1": start IP "1.2.3.4" and end IP "2001:db8::1" are of different families',
    ],
    ['a\u0000b', 'invalid CIDR "a\\x00b"'],
  ])('%j → %s', (entry, message) => {
    const r = parseAddressEntry(entry);
    expect(r).toEqual({ ok: false, error: message });
  });
});

describe('parsePools validation (MetalLB texts)', () => {
  it.each<[string, PoolSpec[], string, string]>([
    [
      'missing name',
      [{ name: '', addresses: ['192.0.2.0/24'] }],
      'MISSING_NAME',
      'parsing address pool : missing pool name',
    ],
    [
      'no addresses',
      [{ name: 'p', addresses: [] }],
      'NO_ADDRESSES',
      'parsing address pool p: pool has no prefixes defined',
    ],
    [
      'bad CIDR',
      [{ name: 'p', addresses: ['192.0.2.0/33'] }],
      'INVALID_CIDR',
      'parsing address pool p: invalid CIDR "192.0.2.0/33" in pool "p": invalid CIDR "192.0.2.0/33"',
    ],
    [
      'bad range',
      [{ name: 'p', addresses: ['192.0.2.10-192.0.2.1'] }],
      'INVALID_CIDR',
      'parsing address pool p: invalid CIDR "192.0.2.10-192.0.2.1" in pool "p": invalid IP range "192.0.2.10-192.0.2.1": start IP "192.0.2.10" is after the end IP "192.0.2.1"',
    ],
    [
      'duplicate pool',
      [
        { name: 'p', addresses: ['192.0.2.0/25'] },
        { name: 'p', addresses: ['192.0.2.128/25'] },
      ],
      'DUPLICATE_POOL',
      'duplicate definition of pool "p"',
    ],
    [
      'overlap within a pool',
      [{ name: 'p', addresses: ['192.0.2.0/24', '192.0.2.128/25'] }],
      'OVERLAP',
      'CIDR "192.0.2.128/25" in pool "p" overlaps with already defined CIDR "192.0.2.0/24"',
    ],
    [
      'overlap across pools (the range of MetalLB’s own error report)',
      [
        { name: 'lab-pool', addresses: ['172.19.255.200-172.19.255.250'] },
        { name: 'lab-pool-reserved', addresses: ['172.19.255.230-172.19.255.239'] },
      ],
      'OVERLAP',
      'CIDR "172.19.255.230/31" in pool "lab-pool-reserved" overlaps with already defined CIDR "172.19.255.224/28"',
    ],
    [
      'identical IPv6 CIDRs',
      [
        { name: 'a', addresses: ['2001:db8::/64'] },
        { name: 'b', addresses: ['2001:db8::1/64'] },
      ],
      'OVERLAP',
      'CIDR "2001:db8::/64" in pool "b" overlaps with already defined CIDR "2001:db8::/64"',
    ],
    [
      'a big CIDR over several earlier ones names the earliest',
      [
        { name: 'a', addresses: ['10.0.2.0/24', '10.0.1.0/24'] },
        { name: 'b', addresses: ['10.0.0.0/16'] },
      ],
      'OVERLAP',
      'CIDR "10.0.0.0/16" in pool "b" overlaps with already defined CIDR "10.0.2.0/24"',
    ],
    [
      'duplicate namespaces',
      [{ name: 'p', addresses: ['192.0.2.0/24'], serviceAllocation: { namespaces: ['a', 'a'] } }],
      'DUPLICATE',
      'parsing address pool p: duplicate definition in namespaces field',
    ],
    [
      'duplicate service selectors',
      [
        {
          name: 'p',
          addresses: ['192.0.2.0/24'],
          serviceAllocation: { serviceSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] },
        },
      ],
      'DUPLICATE',
      'parsing address pool p: duplicate definition of serviceSelectors "&LabelSelector{MatchLabels:map[string]string{a: b,},MatchExpressions:[]LabelSelectorRequirement{},}"',
    ],
    [
      'duplicate expression values',
      [
        {
          name: 'p',
          addresses: ['192.0.2.0/24'],
          serviceAllocation: {
            serviceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['x', 'x'] }] }],
          },
        },
      ],
      'DUPLICATE',
      'parsing address pool p: duplicate definition of match expression value in label selector "x"',
    ],
  ])('%s', (_, pools, code, message) => {
    const e = errorOf(pools);
    expect(e.name).toBe('PoolValidationError');
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
  });

  it('reports an earlier overlap before a later pool’s invalid CIDR (MetalLB checks pool by pool)', () => {
    const e = errorOf([
      { name: 'a', addresses: ['192.0.2.0/24'] },
      { name: 'b', addresses: ['192.0.2.0/25'] },
      { name: 'c', addresses: ['nope'] },
    ]);
    expect(e.code).toBe('OVERLAP');
  });

  it('rejects malformed selectors with the Kubernetes reason and the pool', () => {
    const e = errorOf([
      {
        name: 'p',
        addresses: ['192.0.2.0/24'],
        serviceAllocation: { serviceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }] },
      },
    ]);
    expect(e.code).toBe('INVALID_SELECTOR');
    expect(e.message).toContain("for 'in', 'notin' operators, values set can't be empty");
    expect(e.message).toContain('in ip pool p');
    const e2 = errorOf([
      {
        name: 'p',
        addresses: ['192.0.2.0/24'],
        serviceAllocation: {
          serviceSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Gt' as 'In', values: ['1'] }] }],
        },
      },
    ]);
    expect(e2.message).toContain('"Gt" is not a valid label selector operator');
  });

  it('compiles defaults and serviceAllocation', () => {
    const [p, q, r] = parsePools(
      [
        { name: 'p', addresses: ['192.0.2.0/24'] },
        { name: 'q', addresses: ['198.51.100.0/24'], serviceAllocation: { priority: 5 } },
        {
          name: 'r',
          addresses: ['203.0.113.0/24'],
          autoAssign: false,
          serviceAllocation: { namespaces: ['a'], namespaceSelectors: [{ matchLabels: { team: 'x' } }] },
        },
      ],
      [
        { name: 'b', labels: { team: 'x' } },
        { name: 'c', labels: { team: 'y' } },
      ],
    );
    expect(p!.autoAssign).toBe(true);
    expect(p!.avoidBuggyIPs).toBe(false);
    expect(p!.serviceAllocation).toBeUndefined();
    expect(q!.serviceAllocation!.priority).toBe(5);
    expect(q!.serviceAllocation!.serviceSelectors).toHaveLength(1);
    expect(q!.serviceAllocation!.serviceSelectors[0]!({})).toBe(true);
    expect([...r!.serviceAllocation!.namespaces].sort()).toEqual(['a', 'b']);
    expect(r!.autoAssign).toBe(false);
  });
});

describe('capacity (poolCount, exact)', () => {
  it.each<[string, PoolSpec, bigint, bigint]>([
    ['/24', { name: 'p', addresses: ['192.0.2.0/24'] }, 256n, 0n],
    ['/24 avoidBuggyIPs', { name: 'p', addresses: ['192.0.2.0/24'], avoidBuggyIPs: true }, 254n, 0n],
    ['/23 avoidBuggyIPs', { name: 'p', addresses: ['192.0.2.0/23'], avoidBuggyIPs: true }, 508n, 0n],
    ['/25 low avoidBuggyIPs', { name: 'p', addresses: ['192.0.2.0/25'], avoidBuggyIPs: true }, 127n, 0n],
    ['/25 high avoidBuggyIPs', { name: 'p', addresses: ['192.0.2.128/25'], avoidBuggyIPs: true }, 127n, 0n],
    ['/26 middle avoidBuggyIPs', { name: 'p', addresses: ['192.0.2.64/26'], avoidBuggyIPs: true }, 64n, 0n],
    // MetalLB counts −1 for a /32 .0 with avoidBuggyIPs (subtracts both "first" and "last"); the truth is 0.
    ['/32 .0 avoidBuggyIPs', { name: 'p', addresses: ['192.0.2.0/32'], avoidBuggyIPs: true }, 0n, 0n],
    [
      'range across /24 avoidBuggyIPs',
      { name: 'p', addresses: ['192.0.2.250-192.0.3.5'], avoidBuggyIPs: true },
      10n,
      0n,
    ],
    // MetalLB reports MaxInt64 for ≥ 62 host bits (and overflows when more CIDRs follow); exact here.
    ['IPv6 /64 + IPv4', { name: 'p', addresses: ['2001:db8::/64', '192.0.2.0/30'] }, 4n, 1n << 64n],
    ['IPv6 /0', { name: 'p', addresses: ['::/0'] }, 0n, 1n << 128n],
    ['IPv6 not affected by avoidBuggyIPs', { name: 'p', addresses: ['2001:db8::/120'], avoidBuggyIPs: true }, 0n, 256n],
  ])('%s', (_, spec, ipv4, ipv6) => {
    expect(parsePools([spec])[0]!.capacity).toEqual({ ipv4, ipv6 });
  });
});

describe('parser robustness', () => {
  const entry = fc.oneof(
    fc.string({ unit: fc.constantFrom(...'0123456789abcdef:./- \t%'.split('')), maxLength: 40 }),
    fc.string({ maxLength: 20 }),
    fc.constantFrom('192.0.2.0/24', '2001:db8::/120', '192.0.2.1-192.0.2.9', ' 10.0.0.1 - 10.0.0.3 '),
  );
  it('parsePools only ever throws PoolValidationError, and accepted pools never overlap', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.string({ maxLength: 4 }), addresses: fc.array(entry, { maxLength: 4 }) }), {
          maxLength: 4,
        }),
        (specs) => {
          try {
            const pools = parsePools(specs);
            const all = pools.flatMap((p) => p.prefixes);
            for (let i = 0; i < all.length; i++) {
              for (let j = 0; j < i; j++) {
                const a = all[i]!;
                const b = all[j]!;
                expect(a.family === b.family && a.first <= b.last && b.first <= a.last).toBe(false);
              }
            }
          } catch (e) {
            expect(e).toBeInstanceOf(PoolValidationError);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('survives values of the wrong type', () => {
    const bad: unknown[] = [
      null,
      [null],
      [{ name: 1, addresses: [] }],
      [{ name: 'p', addresses: 'x' }],
      [{ name: 'p', addresses: [1] }],
      [{ name: 'p', addresses: ['192.0.2.0/24'], autoAssign: 'yes' }],
      [{ name: 'p', addresses: ['192.0.2.0/24'], serviceAllocation: { priority: 'high' } }],
      [{ name: 'p', addresses: ['192.0.2.0/24'], serviceAllocation: { namespaces: [1] } }],
      [{ name: 'p', addresses: ['192.0.2.0/24'], serviceAllocation: { serviceSelectors: [null] } }],
      [
        {
          name: 'p',
          addresses: ['192.0.2.0/24'],
          serviceAllocation: { serviceSelectors: [{ matchLabels: { a: 1 } }] },
        },
      ],
    ];
    for (const b of bad) expect(() => parsePools(b as PoolSpec[])).toThrow(PoolValidationError);
  });
});
