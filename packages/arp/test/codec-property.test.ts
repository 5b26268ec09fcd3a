import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ArpPacket,
  BROADCAST_MAC,
  CodecError,
  canonicalIp,
  decodeArp,
  decodeEthernet,
  decodeFrame,
  decodeIPv6,
  decodeNdp,
  type EthernetFrame,
  encodeArp,
  encodeArpFrame,
  encodeArpReplyFrame,
  encodeEthernet,
  encodeIPv6,
  encodeNdp,
  formatIPv4,
  formatIPv6,
  formatMac,
  type IPv6Packet,
  isArpIPv4Request,
  type NdpOption,
  type NdpPacket,
  parseIPv4,
  parseIPv6,
  parseMac,
} from '../src/index.js';
import { sliced } from './helpers/fixtures.js';

const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => formatMac(b));
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => formatIPv4(b));
const ipv6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIPv6(b));
const unicast6 = fc
  .uint8Array({ minLength: 16, maxLength: 16 })
  .filter((b) => b[0] !== 0xff && b.some((x) => x !== 0))
  .map((b) => formatIPv6(b));

const arpPacket: fc.Arbitrary<ArpPacket> = fc.record({
  operation: fc.integer({ min: 0, max: 0xffff }),
  senderMac: mac,
  senderIp: ipv4,
  targetMac: mac,
  targetIp: ipv4,
});

const vlan = fc.record({
  tpid: fc.constantFrom(0x8100, 0x88a8),
  pcp: fc.integer({ min: 0, max: 7 }),
  dei: fc.boolean(),
  id: fc.integer({ min: 0, max: 4095 }),
});

const ethernetFrame: fc.Arbitrary<EthernetFrame> = fc
  .record({
    destination: mac,
    source: mac,
    vlans: fc.array(vlan, { maxLength: 2 }),
    etherType: fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8),
    payload: fc.uint8Array({ maxLength: 64 }),
  })
  .map((f) =>
    f.vlans.length ? f : { destination: f.destination, source: f.source, etherType: f.etherType, payload: f.payload },
  );

const option: fc.Arbitrary<NdpOption> = fc.oneof(
  mac.map((m) => ({ type: 'source-lla' as const, mac: m })),
  mac.map((m) => ({ type: 'target-lla' as const, mac: m })),
  fc
    .integer({ min: 0, max: 3 })
    .chain((k) =>
      fc.uint8Array({ minLength: 6 + 8 * k, maxLength: 6 + 8 * k }).map((n) => ({ type: 'nonce' as const, nonce: n })),
    ),
  fc
    .record({ code: fc.integer({ min: 3, max: 255 }).filter((c) => c !== 14), k: fc.integer({ min: 0, max: 2 }) })
    .chain(({ code, k }) =>
      fc
        .uint8Array({ minLength: 6 + 8 * k, maxLength: 6 + 8 * k })
        .map((d) => ({ type: 'unknown' as const, code, data: d })),
    ),
);

const ndpPacket: fc.Arbitrary<NdpPacket> = fc
  .record({
    source: unicast6,
    destination: ipv6,
    trafficClass: fc.integer({ min: 0, max: 255 }),
    flowLabel: fc.integer({ min: 0, max: 0xfffff }),
    ns: fc.boolean(),
    router: fc.boolean(),
    solicited: fc.boolean(),
    override: fc.boolean(),
    target: unicast6,
    options: fc.array(option, { maxLength: 4 }),
  })
  .map((r) => ({
    source: r.source,
    // A solicited NA to a multicast destination is invalid (RFC 4861 §7.1.2); keep generated packets valid.
    destination: !r.ns && r.solicited && r.destination.startsWith('ff') ? r.source : r.destination,
    hopLimit: 255,
    trafficClass: r.trafficClass,
    flowLabel: r.flowLabel,
    message: r.ns
      ? { type: 'neighbor-solicitation' as const, target: r.target, options: r.options }
      : {
          type: 'neighbor-advertisement' as const,
          router: r.router,
          solicited: r.solicited,
          override: r.override,
          target: r.target,
          options: r.options,
        },
  }));

const ipv6Packet: fc.Arbitrary<IPv6Packet> = fc.record({
  trafficClass: fc.integer({ min: 0, max: 255 }),
  flowLabel: fc.integer({ min: 0, max: 0xfffff }),
  nextHeader: fc.integer({ min: 0, max: 255 }),
  hopLimit: fc.integer({ min: 0, max: 255 }),
  source: ipv6,
  destination: ipv6,
  payload: fc.uint8Array({ maxLength: 80 }),
});

/** Encode into the middle of a larger buffer, decode from a sliced copy. */
function placed(bytes: Uint8Array): Uint8Array {
  return sliced(bytes, 5);
}

describe('round trips (fast-check)', () => {
  it('addresses', () => {
    fc.assert(fc.property(mac, (m) => formatMac(parseMac(m)) === m));
    fc.assert(fc.property(ipv4, (ip) => formatIPv4(parseIPv4(ip)) === ip));
    fc.assert(fc.property(ipv6, (ip) => formatIPv6(parseIPv6(ip)) === ip && canonicalIp(ip) === ip));
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        // Uncompressed, uppercase text parses to the same bytes.
        const words = Array.from({ length: 8 }, (_, i) =>
          ((b[2 * i]! << 8) | b[2 * i + 1]!).toString(16).toUpperCase(),
        );
        return formatIPv6(parseIPv6(words.join(':'))) === formatIPv6(b);
      }),
    );
  });

  it('ethernet (with 802.1Q/802.1ad tags), at a nonzero offset in a larger buffer', () => {
    fc.assert(
      fc.property(ethernetFrame, fc.integer({ min: 0, max: 9 }), (f, off) => {
        const buf = new Uint8Array(off + 200).fill(0xaa);
        const out = encodeEthernet(f, buf, off);
        const d = decodeEthernet(placed(out));
        expect(d).toEqual(f);
      }),
    );
  });

  it('arp', () => {
    fc.assert(
      fc.property(arpPacket, fc.integer({ min: 0, max: 9 }), (p, off) => {
        const buf = new Uint8Array(off + 28);
        encodeArp(p, buf, off);
        expect(decodeArp(placed(buf.subarray(off)))).toEqual(p);
        expect(decodeArp(buf, off)).toEqual(p);
      }),
    );
  });

  it('ipv6 header', () => {
    fc.assert(
      fc.property(ipv6Packet, (p) => {
        expect(decodeIPv6(placed(encodeIPv6(p)))).toEqual(p);
      }),
    );
  });

  it('ndp (NS/NA with SLLA/TLLA/nonce/unknown options), checksum verified on decode', () => {
    fc.assert(
      fc.property(ndpPacket, fc.integer({ min: 0, max: 9 }), (p, off) => {
        const buf = new Uint8Array(off + 400);
        const out = encodeNdp(p, buf, off);
        expect(decodeNdp(placed(out))).toEqual(p);
        expect(decodeNdp(buf.subarray(0, off + out.length), off)).toEqual(p);
      }),
    );
  });
});

describe('the responder fast path matches the general codec', () => {
  it('encodeArpReplyFrame equals encodeArpFrame of the MetalLB reply; isArpIPv4Request agrees with decodeFrame', () => {
    fc.assert(
      fc.property(arpPacket, mac, mac, fc.integer({ min: 0, max: 18 }), (req, ethSrc, ours, pad) => {
        const frame = encodeArpFrame({ destination: BROADCAST_MAC, source: ethSrc }, req);
        const padded = new Uint8Array(frame.length + pad);
        padded.set(frame);
        const d = decodeFrame(sliced(padded));
        expect(isArpIPv4Request(sliced(padded))).toBe(d.kind === 'arp' && d.arp.operation === 1);
        const fast = encodeArpReplyFrame(sliced(padded), parseMac(ours));
        const slow = encodeArpFrame(
          { destination: ethSrc, source: ours },
          { operation: 2, senderMac: ours, senderIp: req.targetIp, targetMac: req.senderMac, targetIp: req.senderIp },
        );
        expect(Array.from(fast)).toEqual(Array.from(slow));
      }),
    );
  });
});

describe('fuzz: decoders only ever throw CodecError', () => {
  const onlyCodecErrors = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof CodecError)) throw e;
    }
  };

  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.integer({ min: 0, max: 8 }), (b, pad) => {
        const v = sliced(b, pad);
        onlyCodecErrors(() => decodeFrame(v));
        onlyCodecErrors(() => decodeEthernet(v));
        onlyCodecErrors(() => decodeArp(v));
        onlyCodecErrors(() => decodeIPv6(v));
        onlyCodecErrors(() => decodeNdp(v));
      }),
      { numRuns: 3000 },
    );
  });

  it('mutated and truncated valid frames', () => {
    fc.assert(
      fc.property(
        ndpPacket,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (p, flips, cut) => {
          const b = encodeNdp(p).slice();
          for (const [i, v] of flips) b[i % b.length] = v;
          const v = sliced(b.subarray(0, b.length - (cut % (b.length + 1))));
          onlyCodecErrors(() => decodeNdp(v));
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(arpPacket, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat(), (p, i, v, cut) => {
        const b = encodeArp(p).slice();
        b[i % 28] = v;
        onlyCodecErrors(() => decodeArp(sliced(b.subarray(0, 28 - (cut % 29)))));
      }),
      { numRuns: 2000 },
    );
  });
});
