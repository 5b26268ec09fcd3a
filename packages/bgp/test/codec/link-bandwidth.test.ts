import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AdjRibOut,
  type Announcement,
  announcementKey,
  decodeMessage,
  linkBandwidthCommunity,
  parseLinkBandwidth,
  type UpdateMessage,
} from '../../src/internal.js';

describe('link bandwidth extended community', () => {
  it('encodes type 0x00 / sub-type 0x04, the AS and a float32 of bytes per second', () => {
    // 3 Mbit/s = 375,000 bytes/s = 0x48b71b00 as float32
    expect(linkBandwidthCommunity(64513, 375_000)).toBe('0004fc0148b71b00');
    expect(linkBandwidthCommunity(64513, 375_000, false)).toBe('4004fc0148b71b00');
    expect(linkBandwidthCommunity(4_200_000_000, 0).slice(0, 8)).toBe('00045ba0'); // AS_TRANS
    expect(parseLinkBandwidth('0004fc0148b71b00')).toEqual({ asn: 64513, bytesPerSecond: 375_000, transitive: true });
    expect(parseLinkBandwidth('0002fc0148b71b00')).toBeUndefined();
    expect(parseLinkBandwidth('zz')).toBeUndefined();
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY])
      expect(() => linkBandwidthCommunity(1, bad)).toThrow(RangeError);
  });

  it('round-trips any float32 bandwidth', () => {
    fc.assert(
      fc.property(
        fc.float({ min: 0, max: Math.fround(3e38), noNaN: true }),
        fc.integer({ min: 0, max: 65535 }),
        (bw, asn) => {
          expect(parseLinkBandwidth(linkBandwidthCommunity(asn, bw))).toEqual({
            asn,
            bytesPerSecond: Math.fround(bw),
            transitive: true,
          });
        },
      ),
    );
  });

  it('the Adj-RIB-Out attaches it to the route when the announcement asks, and not otherwise', () => {
    const rib = new AdjRibOut();
    rib.reset({
      localAsn: 64513,
      internal: false,
      families: ['ipv4'],
      codec: { fourOctetAs: true },
      peerAddress: '192.0.2.254',
      localAddress: '192.0.2.1',
    });
    const options = { linkBandwidth: 375_000 };
    const plain = {};
    const res = rib.flush(
      new Map<string, Announcement>([
        ['198.51.100.10/32', { key: announcementKey(options), options }],
        ['198.51.100.11/32', { key: announcementKey(plain), options: plain }],
      ]),
    );
    const updates = res.messages.map((m) => decodeMessage(m, { fourOctetAs: true }) as UpdateMessage);
    const withBw = updates.find((u) => u.nlri.includes('198.51.100.10/32'));
    const without = updates.find((u) => u.nlri.includes('198.51.100.11/32'));
    expect(withBw?.attributes.extendedCommunities).toEqual(['0004fc0148b71b00']);
    expect(without?.attributes.extendedCommunities).toBeUndefined();
  });
});
