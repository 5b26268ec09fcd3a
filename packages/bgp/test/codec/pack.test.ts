import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeMessage,
  endOfRib,
  isEndOfRib,
  type PathAttributes,
  packUpdates,
  packWithdrawals,
  type UpdateMessage,
  updateRoutes,
} from '../../src/internal.js';
import { hex, toHex } from './helpers.js';

const attributes: PathAttributes = {
  origin: 'igp',
  asPath: [{ type: 'sequence', asns: [64512] }],
  nextHop: '192.0.2.1',
  communities: ['64512:100', '65535:65281'],
};

function table(n: number): string[] {
  const out: string[] = [];
  const base = ((198 << 24) | (18 << 16)) >>> 0;
  for (let i = 0; i < n; i++) {
    const ip = base + i;
    out.push(`${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/32`);
  }
  return out;
}

function decodeAll(messages: Uint8Array[], options = {}): UpdateMessage[] {
  return messages.map((m) => {
    const d = decodeMessage(m, options);
    if (d.type !== 'update') throw new Error('not an update');
    expect(d.malformed).toBeUndefined();
    return d;
  });
}

describe('packUpdates', () => {
  it('packs 10,000 IPv4 /32s into the fewest 4096-octet UPDATEs, in order, with the shared attributes', () => {
    const prefixes = table(10_000);
    const messages = packUpdates(attributes, prefixes);
    const fixed = encodeMessage({ type: 'update', withdrawn: [], attributes, nlri: [] }).length;
    const perMessage = Math.floor((4096 - fixed) / 5);
    expect(messages.length).toBe(Math.ceil(prefixes.length / perMessage));
    for (const m of messages.slice(0, -1)) expect(m.length).toBeGreaterThan(4096 - 5);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    const decoded = decodeAll(messages);
    expect(decoded.flatMap((d) => d.nlri)).toEqual(prefixes);
    for (const d of decoded) expect(d.attributes).toEqual(attributes);
  });

  it('gives the same bytes as encodeMessage for the equivalent UPDATE', () => {
    const prefixes = ['198.51.100.0/24', '203.0.113.7/32', '0.0.0.0/0', '192.0.2.128/25'];
    const [one] = packUpdates(attributes, prefixes);
    expect(toHex(one!)).toBe(toHex(encodeMessage({ type: 'update', withdrawn: [], attributes, nlri: prefixes })));
  });

  it('puts IPv6 prefixes in MP_REACH_NLRI first, with global and link-local next hops and without NEXT_HOP', () => {
    const v6 = Array.from({ length: 1000 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::/48`);
    const messages = packUpdates(attributes, ['198.51.100.1/32', ...v6], {
      ipv6NextHop: '2001:db8:0:1::1',
      ipv6LinkLocalNextHop: 'fe80::1',
    });
    const decoded = decodeAll(messages);
    expect(decoded[0]!.nlri).toEqual(['198.51.100.1/32']);
    const rest = decoded.slice(1);
    expect(rest.flatMap((d) => d.attributes.mpReach!.nlri)).toEqual(v6);
    for (const d of rest) {
      expect(d.nlri).toEqual([]);
      expect(d.attributes.nextHop).toBeUndefined();
      expect(d.attributes.mpReach).toMatchObject({
        afi: 2,
        safi: 1,
        nextHop: '2001:db8:0:1::1',
        linkLocalNextHop: 'fe80::1',
      });
      expect(d.attributes.communities).toEqual(attributes.communities);
    }
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    // MP_REACH_NLRI is the first attribute (RFC 7606 §5.1)
    expect(messages[1]![23]! & 0x80).toBe(0x80);
    expect(messages[1]![24]).toBe(14);
    // re-encoding the decoded message reproduces the packed bytes
    for (const [i, d] of decoded.entries()) expect(toHex(encodeMessage(d))).toBe(toHex(messages[i]!));
  });

  it('uses up to 65535 octets with extended messages', () => {
    const messages = packUpdates(attributes, table(20_000), { extendedMessages: true });
    expect(messages.length).toBe(2);
    expect(messages[0]!.length).toBeLessThanOrEqual(65535);
    expect(messages[0]!.length).toBeGreaterThan(65535 - 5);
    expect(decodeAll(messages, { extendedMessages: true }).flatMap((d) => d.nlri)).toHaveLength(20_000);
  });

  it('adds the path identifier when add-path is negotiated for the family', () => {
    const options = { addPath: { ipv4Unicast: true, ipv6Unicast: true }, pathId: 7, ipv6NextHop: '2001:db8::1' };
    const messages = packUpdates(attributes, ['198.51.100.1/32', '2001:db8:1::/64'], options);
    const [a, b] = decodeAll(messages, options);
    expect(a!.nlriPathIds).toEqual([7]);
    expect(b!.attributes.mpReach!.pathIds).toEqual([7]);
  });

  it('rejects what it cannot encode with a RangeError', () => {
    expect(() => packUpdates(attributes, ['198.51.100.300/32'])).toThrow(RangeError);
    expect(() => packUpdates({ origin: 'igp', asPath: [] }, ['198.51.100.1/32'])).toThrow(/nextHop/);
    expect(() => packUpdates(attributes, ['2001:db8::/32'])).toThrow(/ipv6NextHop/);
    expect(packUpdates(attributes, [])).toEqual([]);
  });
});

describe('packWithdrawals', () => {
  it('packs IPv4 withdrawals into Withdrawn Routes, never over 4096 octets (MetalLB sends one unbounded UPDATE)', () => {
    const prefixes = table(5000);
    const messages = packWithdrawals(prefixes);
    expect(messages.length).toBe(Math.ceil(5000 / Math.floor((4096 - 23) / 5)));
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    const decoded = decodeAll(messages);
    expect(decoded.flatMap((d) => d.withdrawn)).toEqual(prefixes);
    for (const d of decoded) expect(d.attributes).toEqual({});
  });

  it('matches MetalLB withdraw bytes for two /32s', () => {
    const [m] = packWithdrawals(['192.168.10.5/32', '192.168.10.6/32']);
    expect(toHex(m!)).toBe(toHex(hex('ff×16 0021 02 000a 20c0a80a05 20c0a80a06 0000')));
  });

  it('packs IPv6 withdrawals into MP_UNREACH_NLRI', () => {
    const v6 = Array.from({ length: 500 }, (_, i) => `2001:db8:${(i + 1).toString(16)}::1/128`);
    const messages = packWithdrawals(['198.51.100.1/32', ...v6]);
    const decoded = decodeAll(messages);
    expect(decoded[0]!.withdrawn).toEqual(['198.51.100.1/32']);
    expect(decoded.slice(1).flatMap((d) => d.attributes.mpUnreach!.withdrawn)).toEqual(v6);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
  });
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  it('IPv4 unicast: an empty UPDATE', () => {
    expect(toHex(encodeMessage(endOfRib()))).toBe(toHex(hex('ff×16 0017 02 0000 0000')));
    expect(isEndOfRib(decodeMessage(hex('ff×16 0017 02 0000 0000')) as UpdateMessage)).toEqual({ afi: 1, safi: 1 });
  });

  it('IPv6 unicast: an UPDATE with only an empty MP_UNREACH_NLRI', () => {
    const bytes = encodeMessage(endOfRib({ afi: 2, safi: 1 }));
    expect(toHex(bytes)).toBe(toHex(hex('ff×16 001d 02 0000 0006 800f03 0002 01')));
    expect(isEndOfRib(decodeMessage(bytes) as UpdateMessage)).toEqual({ afi: 2, safi: 1 });
  });

  it('an UPDATE with routes is not End-of-RIB', () => {
    const [m] = packUpdates(attributes, ['198.51.100.1/32']);
    expect(isEndOfRib(decodeMessage(m!) as UpdateMessage)).toBeUndefined();
    expect(isEndOfRib({ type: 'update', withdrawn: [], attributes: { origin: 'igp' }, nlri: [] })).toBeUndefined();
  });
});

describe('updateRoutes', () => {
  it('lists announced and withdrawn routes of both families, with path identifiers', () => {
    const m: UpdateMessage = {
      type: 'update',
      withdrawn: ['192.0.2.0/25'],
      withdrawnPathIds: [4],
      attributes: {
        ...attributes,
        mpReach: { afi: 2, safi: 1, nextHop: '2001:db8::1', nlri: ['2001:db8:1::/48'] },
        mpUnreach: { afi: 2, safi: 1, withdrawn: ['2001:db8:2::/48'] },
      },
      nlri: ['198.51.100.0/24'],
      nlriPathIds: [5],
    };
    expect(updateRoutes(m)).toEqual({
      announced: [
        { afi: 2, safi: 1, prefix: '2001:db8:1::/48' },
        { afi: 1, safi: 1, prefix: '198.51.100.0/24', pathId: 5 },
      ],
      withdrawn: [
        { afi: 1, safi: 1, prefix: '192.0.2.0/25', pathId: 4 },
        { afi: 2, safi: 1, prefix: '2001:db8:2::/48' },
      ],
    });
  });

  it('turns every announcement of a treat-as-withdraw UPDATE into a withdrawal (RFC 7606 §2)', () => {
    // ORIGIN value 3: treat-as-withdraw
    const m = decodeMessage(
      hex('ff×16 002f 02 0000 0014 40010103 400206020100 00fde9 400304c0000201 18c63364'),
    ) as UpdateMessage;
    expect(m.malformed?.action).toBe('treat-as-withdraw');
    expect(updateRoutes(m)).toEqual({ announced: [], withdrawn: [{ afi: 1, safi: 1, prefix: '198.51.100.0/24' }] });
  });
});
