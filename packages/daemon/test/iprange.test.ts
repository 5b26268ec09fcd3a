import { describe, expect, it } from 'vitest';
import { validateCommand } from '../src/commands/validate.js';
import { iprangeResources, parseIprange } from '../src/config/iprange.js';
import { parseConfig } from '../src/config/parse-config.js';

const bad = (item: string) => `Invalid iprange: ${item} is not a valid CIDR or ip range`;
const EMPTY = 'Invalid iprange: iprange must not be empty';

describe('parseIprange: the charm rules', () => {
  it("accepts the charm's documented example, keeping entries verbatim and in order", () => {
    expect(parseIprange('192.168.10.0/24,192.168.9.1-192.168.9.5,fc00:f853:0ccd:e799::/124')).toEqual({
      ok: true,
      items: ['192.168.10.0/24', '192.168.9.1-192.168.9.5', 'fc00:f853:0ccd:e799::/124'],
    });
  });

  it("accepts the charm's default", () => {
    expect(parseIprange('192.168.1.240-192.168.1.247')).toEqual({ ok: true, items: ['192.168.1.240-192.168.1.247'] });
  });

  it('removes all whitespace, even inside addresses', () => {
    expect(parseIprange(' 192. 168.1.240 - 192.168.1.247 ,\n\t10.0.0.0/ 8 ')).toEqual({
      ok: true,
      items: ['192.168.1.240-192.168.1.247', '10.0.0.0/8'],
    });
  });

  it.each([
    ['10.0.0.1-10.0.0.1', 'single-address range'],
    ['192.168.1.2/32', 'host CIDR'],
    ['0.0.0.0/0', 'everything'],
    ['2001:db8::/64', 'IPv6 CIDR'],
    ['2001:db8::1-2001:db8::ff', 'IPv6 range'],
    ['::ffff:192.0.2.1-::ffff:192.0.2.9', 'IPv4-mapped IPv6 range'],
    ['2001:db8::/128', 'IPv6 host CIDR'],
    ['10.0.0.0/8,10.0.0.0/8', 'duplicates are kept (no overlap check)'],
  ])('accepts %s (%s)', (value) => {
    expect(parseIprange(value)).toEqual({ ok: true, items: value.split(',') });
  });

  it('rejects an empty value, also when it is only whitespace', () => {
    expect(parseIprange('')).toEqual({ ok: false, errors: [EMPTY] });
    expect(parseIprange(' \n\t ')).toEqual({ ok: false, errors: [EMPTY] });
  });

  it.each([
    ['192.168.1.5/24', 'host bits set'],
    ['192.168.1.2', 'bare address without /len'],
    ['2001:db8::1', 'bare IPv6 address'],
    ['a', 'not an address'],
    ['192.168.1.1-', 'range without an end'],
    ['-192.168.1.1', 'range without a start'],
    ['10.0.0.0/33', 'prefix too long'],
    ['2001:db8::/129', 'IPv6 prefix too long'],
    ['10.0.0.0/', 'empty prefix length'],
    ['10.0.0.0/8/8', 'two slashes'],
    ['10.0.0.0/255.0.0.0', 'netmask instead of a length'],
    ['256.256.256.256-256.256.256.257', "the charm's unit test"],
    ['256.256.256.256/24', "the charm's unit test"],
    ['10.1.240.240+10.1.240.241', "the charm's unit test"],
    ['10.0.0.1-10.0.0.2-10.0.0.3', 'more than one -'],
    ['10.0.0.0/8-10.0.0.9', 'CIDR as a range end'],
  ])('rejects %s (%s)', (item) => {
    expect(parseIprange(item)).toEqual({ ok: false, errors: [bad(item)] });
  });

  it('rejects a trailing comma with the empty entry in the message (two spaces)', () => {
    expect(parseIprange('10.0.0.0/8,')).toEqual({
      ok: false,
      errors: ['Invalid iprange:  is not a valid CIDR or ip range'],
    });
  });

  it.each([
    ['10.0.0.5-10.0.0.1', 'start after end'],
    ['2001:db8::9-2001:db8::1', 'IPv6 start after end'],
    ['10.0.0.1-fc00::1', 'mixed families'],
    ['fc00::1-10.0.0.1', 'mixed families, reversed'],
    ['fe80::1%eth0-fe80::2%eth0', 'IPv6 zones (MetalLB cannot parse them)'],
    ['010.0.0.1-010.0.0.2', 'IPv4 with leading zeros'],
  ])('goes beyond the charm: rejects %s (%s) with the same message form', (item) => {
    expect(parseIprange(item)).toEqual({ ok: false, errors: [bad(item)] });
  });

  it('reports every bad entry, in order, with whitespace already removed', () => {
    expect(parseIprange('10.0.0.0/8, 1.2.3.4 ,192.0.2.9-192.0.2.1')).toEqual({
      ok: false,
      errors: [bad('1.2.3.4'), bad('192.0.2.9-192.0.2.1')],
    });
  });
});

describe('iprangeResources', () => {
  it('is one pool and one L2 advertisement of the same name, at MetalLB defaults', () => {
    expect(iprangeResources('m', ['192.0.2.0/28'])).toEqual({
      pool: { name: 'm', labels: {}, addresses: ['192.0.2.0/28'], autoAssign: true, avoidBuggyIPs: false },
      advertisement: {
        name: 'm',
        ipAddressPools: ['m'],
        ipAddressPoolSelectors: [],
        nodeSelectors: [],
        serviceSelectors: [],
        interfaces: [],
        preferredNodeSelectors: [],
      },
    });
  });
});

describe('kind: IPRange documents', () => {
  const doc = (body: string) => `apiVersion: ingot.dev/v1alpha1
kind: IPRange
${body}`;

  it('expands to an IPAddressPool and an L2Advertisement named metadata.name', () => {
    const r = parseConfig(
      doc(`metadata: { name: lb }
spec:
  iprange: "192.0.2.240-192.0.2.247, 2001:db8::/124"
`),
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.pools).toEqual([
      {
        name: 'lb',
        labels: {},
        addresses: ['192.0.2.240-192.0.2.247', '2001:db8::/124'],
        autoAssign: true,
        avoidBuggyIPs: false,
      },
    ]);
    expect(r.config.l2Advertisements).toEqual([
      {
        name: 'lb',
        ipAddressPools: ['lb'],
        ipAddressPoolSelectors: [],
        nodeSelectors: [],
        serviceSelectors: [],
        interfaces: [],
        preferredNodeSelectors: [],
      },
    ]);
  });

  it('names them metallb without metadata.name', () => {
    const r = parseConfig(doc('spec: { iprange: 192.168.1.240-192.168.1.247 }'));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.pools.map((p) => [p.name, p.addresses])).toEqual([['metallb', ['192.168.1.240-192.168.1.247']]]);
    expect(r.config.l2Advertisements.map((a) => [a.name, a.ipAddressPools])).toEqual([['metallb', ['metallb']]]);
  });

  it('requires spec.iprange (the charm default is not assumed)', () => {
    for (const body of ['', 'spec: {}', 'spec: { iprange: null }']) {
      expect(parseConfig(doc(body))).toMatchObject({
        ok: false,
        issues: [{ resource: 'IPRange/metallb', field: 'spec.iprange', reason: 'is required', document: 1 }],
      });
    }
  });

  it('works beside MetalLB resources that select its pool', () => {
    const r = parseConfig(`${doc('spec: { iprange: 192.0.2.0/28 }')}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: also-bgp }
spec: { ipAddressPools: [metallb] }
`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.config.bgpAdvertisements[0]?.ipAddressPools).toEqual(['metallb']);
  });

  it("rejects bad values with the charm's messages at spec.iprange", () => {
    const text = doc(`metadata: { name: lb }
spec:
  iprange: "192.0.2.5/24,10.0.0.9-10.0.0.1"
`);
    const r = parseConfig(text);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      { resource: 'IPRange/lb', field: 'spec.iprange', reason: bad('192.0.2.5/24'), line: 5, document: 1 },
      { resource: 'IPRange/lb', field: 'spec.iprange', reason: bad('10.0.0.9-10.0.0.1'), line: 5, document: 1 },
    ]);
    expect(parseConfig(doc('spec: { iprange: "" }'))).toMatchObject({
      ok: false,
      issues: [{ field: 'spec.iprange', reason: EMPTY }],
    });
    expect(parseConfig(doc('spec: { iprange: [192.0.2.0/28] }'))).toMatchObject({
      ok: false,
      issues: [{ field: 'spec.iprange', reason: 'must be a string, got a list' }],
    });
  });

  it('rejects a name clash with another pool or advertisement', () => {
    const r = parseConfig(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: metallb }
spec: { addresses: [198.51.100.0/28] }
---
${doc('spec: { iprange: 192.0.2.0/28 }')}
`);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.issues).toEqual([
      expect.objectContaining({
        resource: 'IPRange/metallb',
        field: 'metadata.name',
        reason: expect.stringMatching(/^duplicate IPAddressPool name/),
        document: 2,
      }),
    ]);
  });

  it('rejects an apiVersion other than ingot.dev/v1alpha1', () => {
    const r = parseConfig(`apiVersion: metallb.io/v1beta1
kind: IPRange
spec: { iprange: 192.0.2.0/28 }
`);
    expect(r).toMatchObject({ ok: false, issues: [{ resource: 'IPRange/metallb', field: 'apiVersion' }] });
  });

  it('puts pool-level problems of its pool (overlaps) on the spec.iprange line', () => {
    const text = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: other }
spec: { addresses: [192.0.2.0/24] }
---
apiVersion: ingot.dev/v1alpha1
kind: IPRange
metadata: { name: lb }
spec:
  iprange: 192.0.2.0/28
`;
    const out: string[] = [];
    expect(validateCommand('c.yaml', text, (s) => out.push(s))).toBe(1);
    expect(out).toEqual([expect.stringMatching(/^c\.yaml:10: IPAddressPool\/lb spec\.addresses: .*overlaps/)]);
  });
});
