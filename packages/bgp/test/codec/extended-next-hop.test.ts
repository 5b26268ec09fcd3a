import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Capability,
  createOpen,
  decodeMessage,
  encodeMessage,
  isBgpError,
  negotiate,
  type OpenMessage,
  type PathAttributes,
  packUpdates,
  type UpdateMessage,
} from '../../src/internal.js';
import { hex, testEncoder, toHex } from './helpers.js';

/** IPv4 unicast with IPv6 next hops: the one entry BGP unnumbered needs (RFC 8950 §4). */
const V4_OVER_V6 = { afi: 1, safi: 1, nextHopAfi: 2 };

function openWith(capabilities: Capability[]): OpenMessage {
  return { type: 'open', version: 4, myAsn: 64512, holdTime: 90, bgpId: '192.0.2.1', capabilities };
}

/** An OPEN whose only capability has `code` and `value` (one optional parameter). */
function rawOpen(code: number, value: Uint8Array): Uint8Array {
  const body = [4, 0xfc, 0x00, 0, 90, 192, 0, 2, 1, 4 + value.length, 2, 2 + value.length, code, value.length];
  const length = 19 + body.length + value.length;
  return Uint8Array.from([...new Array<number>(16).fill(0xff), length >> 8, length & 0xff, 1, ...body, ...value]);
}

describe('extended next hop capability (code 5, RFC 8950 §4)', () => {
  it('encodes IPv4 unicast / next hop AFI 2 as the six octets 0001 0001 0002, and round-trips', () => {
    const bytes = testEncoder(openWith([{ type: 'extended-next-hop', families: [V4_OVER_V6] }]));
    // optional parameters length 10; parameter type 2, length 8; capability 5, length 6; AFI 1, SAFI 1 (2 octets), next
    // hop AFI 2
    expect(toHex(bytes.subarray(28))).toBe('0a0208' + '0506000100010002');
  });

  it('decodes several entries from a sliced buffer', () => {
    const value = hex('0001 0001 0002  0001 0080 0002  0002 0001 0001');
    const msg = rawOpen(5, value);
    const backing = new Uint8Array(msg.length + 11).fill(0xee);
    backing.set(msg, 11);
    const decoded = decodeMessage(backing.subarray(11)) as OpenMessage;
    expect(decoded.capabilities).toEqual([
      {
        type: 'extended-next-hop',
        families: [V4_OVER_V6, { afi: 1, safi: 128, nextHopAfi: 2 }, { afi: 2, safi: 1, nextHopAfi: 1 }],
      },
    ]);
  });

  it('keeps a value that is empty or not a multiple of six octets raw (unknown), as other malformed capabilities', () => {
    for (const value of [new Uint8Array(0), hex('0001 0001 00'), hex('0001 0001 0002 0001')]) {
      const decoded = decodeMessage(rawOpen(5, value)) as OpenMessage;
      expect(decoded.capabilities).toEqual([{ type: 'unknown', code: 5, value }]);
      expect(toHex(encodeMessage(decoded))).toBe(toHex(rawOpen(5, value)));
    }
  });

  it('refuses to encode an empty or oversized list', () => {
    expect(() => encodeMessage(openWith([{ type: 'extended-next-hop', families: [] }]))).toThrow(RangeError);
    const many = Array.from({ length: 43 }, () => V4_OVER_V6);
    expect(() => encodeMessage(openWith([{ type: 'extended-next-hop', families: many }]))).toThrow(RangeError);
  });

  it('decodes any value to the capability or to unknown, and never throws anything but a BgpError (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 60 }), fc.nat({ max: 7 }), (value, pad) => {
        const msg = rawOpen(5, value);
        const backing = new Uint8Array(msg.length + pad);
        backing.set(msg, pad);
        let decoded: OpenMessage;
        try {
          decoded = decodeMessage(backing.subarray(pad)) as OpenMessage;
        } catch (err) {
          if (!isBgpError(err)) throw err;
          return;
        }
        const [cap] = decoded.capabilities;
        if (value.length > 0 && value.length % 6 === 0) {
          expect(cap?.type).toBe('extended-next-hop');
          expect(cap?.type === 'extended-next-hop' && cap.families.length).toBe(value.length / 6);
        } else {
          expect(cap).toEqual({ type: 'unknown', code: 5, value });
        }
        expect(toHex(encodeMessage(decoded))).toBe(toHex(msg));
      }),
      { numRuns: 300 },
    );
  });

  it('is negotiated only for entries both OPENs carry', () => {
    const ours = createOpen({ asn: 64512, bgpId: '192.0.2.1', extendedNextHop: [V4_OVER_V6] });
    expect(ours.capabilities).toContainEqual({ type: 'extended-next-hop', families: [V4_OVER_V6] });
    const theirs = createOpen({
      asn: 64513,
      bgpId: '192.0.2.2',
      extendedNextHop: [V4_OVER_V6, { afi: 1, safi: 128, nextHopAfi: 2 }],
    });
    const plain = createOpen({ asn: 64513, bgpId: '192.0.2.2' });
    expect(negotiate(ours, theirs).extendedNextHop).toEqual([V4_OVER_V6]);
    expect(negotiate(ours, plain).extendedNextHop).toEqual([]);
    expect(negotiate(plain, theirs).extendedNextHop).toEqual([]);
  });
});

describe('IPv4 routes with IPv6 next hops in MP_REACH_NLRI (RFC 8950 §3)', () => {
  const attributes: PathAttributes = { origin: 'igp', asPath: [{ type: 'sequence', asns: [64512] }] };
  const routes = ['198.51.100.0/24', '203.0.113.7/32'];

  it('decodes a 16-octet next hop (link-local only, as on an unnumbered link) from a sliced buffer', () => {
    const update: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: { ...attributes, mpReach: { afi: 1, safi: 1, nextHop: 'fe80::1', nlri: routes } },
      nlri: [],
    };
    testEncoder(update);
  });

  it('decodes a 32-octet next hop (global and link-local)', () => {
    const mpReach = { afi: 1, safi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: routes };
    testEncoder({ type: 'update', withdrawn: [], attributes: { ...attributes, mpReach }, nlri: [] });
  });

  it('packUpdates with ipv4NextHopIPv6 puts IPv4 prefixes in MP_REACH_NLRI AFI 1 with no NEXT_HOP', () => {
    const messages = packUpdates({ ...attributes, nextHop: '192.0.2.1' }, [...routes, '2001:db8:1::/48'], {
      ipv4NextHopIPv6: true,
      ipv6NextHop: 'fe80::1',
    });
    const decoded = messages.map((m) => decodeMessage(m) as UpdateMessage);
    // (MP_REACH_NLRI is always sent with the extended length flag: the decoder notes it in `encoding`)
    expect(decoded.map(({ attributes: { encoding: _e, ...a }, ...m }) => ({ ...m, attributes: a }))).toEqual([
      {
        type: 'update',
        withdrawn: [],
        attributes: { ...attributes, mpReach: { afi: 1, safi: 1, nextHop: 'fe80::1', nlri: routes } },
        nlri: [],
      },
      {
        type: 'update',
        withdrawn: [],
        attributes: { ...attributes, mpReach: { afi: 2, safi: 1, nextHop: 'fe80::1', nlri: ['2001:db8:1::/48'] } },
        nlri: [],
      },
    ]);
    // the same bytes as encodeMessage for the equivalent UPDATE
    expect(toHex(messages[0]!)).toBe(
      toHex(encodeMessage({ type: 'update', withdrawn: [], attributes: decoded[0]!.attributes, nlri: [] })),
    );
  });

  it('packUpdates with ipv4NextHopIPv6 carries the link-local after the global next hop, and splits at 4096', () => {
    const prefixes = Array.from({ length: 2000 }, (_, i) => `198.18.${i >> 8}.${i & 255}/32`);
    const messages = packUpdates(attributes, prefixes, {
      ipv4NextHopIPv6: true,
      ipv6NextHop: '2001:db8::1',
      ipv6LinkLocalNextHop: 'fe80::1',
    });
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    const decoded = messages.map((m) => decodeMessage(m) as UpdateMessage);
    expect(decoded.flatMap((d) => d.attributes.mpReach?.nlri ?? [])).toEqual(prefixes);
    for (const d of decoded) {
      expect(d.attributes.mpReach).toMatchObject({ afi: 1, nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1' });
      expect(d.attributes.nextHop).toBeUndefined();
    }
  });

  it('packUpdates with ipv4NextHopIPv6 and no IPv6 next hop is a RangeError', () => {
    expect(() => packUpdates(attributes, routes, { ipv4NextHopIPv6: true })).toThrow(/ipv6NextHop is required/);
  });
});
