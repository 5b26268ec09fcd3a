import { describe, expect, it } from 'vitest';
import {
  BROADCAST_MAC,
  CodecError,
  decodeArp,
  decodeEthernet,
  decodeFrame,
  decodeIPv6,
  decodeNdp,
  encodeArpFrame,
  encodeEthernet,
  encodeNdpFrame,
  icmpv6Checksum,
  type NdpPacket,
} from '../src/index.js';
import { fixture, hexToBytes, sliced, toHex } from './helpers/fixtures.js';

const A = '02:aa:00:00:00:01';
const B = '02:bb:00:00:00:02';

describe('golden frames captured from arping, ndisc6 and the kernel', () => {
  it('decodes arping request and re-encodes it byte for byte', () => {
    const bytes = fixture('arp-request-arping');
    const f = decodeFrame(sliced(bytes));
    expect(f.kind).toBe('arp');
    if (f.kind !== 'arp') return;
    expect(f.ethernet).toMatchObject({ destination: BROADCAST_MAC, source: A, etherType: 0x0806 });
    // iputils arping puts ff:ff:ff:ff:ff:ff in THA of a broadcast request.
    expect(f.arp).toEqual({
      operation: 1,
      senderMac: A,
      senderIp: '192.0.2.1',
      targetMac: BROADCAST_MAC,
      targetIp: '192.0.2.2',
    });
    expect(toHex(encodeArpFrame({ destination: BROADCAST_MAC, source: A }, f.arp))).toBe(toHex(bytes));
  });

  it('decodes the kernel reply', () => {
    const bytes = fixture('arp-reply-kernel');
    const f = decodeFrame(bytes);
    if (f.kind !== 'arp') throw new Error('not arp');
    expect(f.ethernet.destination).toBe(A);
    expect(f.arp).toEqual({ operation: 2, senderMac: B, senderIp: '192.0.2.2', targetMac: A, targetIp: '192.0.2.1' });
    expect(toHex(encodeArpFrame({ destination: A, source: B }, f.arp))).toBe(toHex(bytes));
  });

  it('decodes an ARP probe (arping -D: sender 0.0.0.0) and gratuitous request/reply (-U, -A)', () => {
    const probe = decodeArp(decodeEthernet(fixture('arp-probe-arping-D')).payload);
    expect(probe.senderIp).toBe('0.0.0.0');
    expect(probe.targetIp).toBe('192.0.2.77');
    const garpReq = decodeArp(decodeEthernet(fixture('arp-gratuitous-request-arping-U')).payload);
    expect(garpReq).toMatchObject({ operation: 1, senderIp: '192.0.2.1', targetIp: '192.0.2.1' });
    const garpRep = decodeArp(decodeEthernet(fixture('arp-gratuitous-reply-arping-A')).payload);
    expect(garpRep).toMatchObject({ operation: 2, senderIp: '192.0.2.1', targetIp: '192.0.2.1', targetMac: A });
  });

  it('decodes the ndisc6 NS (link-local source, SLLA, solicited-node destination) and re-encodes it', () => {
    const bytes = fixture('ns-ndisc6-with-slla');
    const f = decodeFrame(sliced(bytes, 3));
    if (f.kind !== 'ndp') throw new Error('not ndp');
    expect(f.ethernet.destination).toBe('33:33:ff:00:00:02');
    expect(f.ndp).toMatchObject({
      source: 'fe80::aa:ff:fe00:1',
      destination: 'ff02::1:ff00:2',
      hopLimit: 255,
      message: { type: 'neighbor-solicitation', target: '2001:db8:0:1::2', options: [{ type: 'source-lla', mac: A }] },
    });
    expect(toHex(encodeNdpFrame({ destination: f.ethernet.destination, source: A }, f.ndp))).toBe(toHex(bytes));
  });

  it('decodes the kernel solicited NA (S=1, O=1, TLLA) and re-encodes it', () => {
    const bytes = fixture('na-kernel-solicited');
    const f = decodeFrame(bytes);
    if (f.kind !== 'ndp') throw new Error('not ndp');
    expect(f.ndp.message).toEqual({
      type: 'neighbor-advertisement',
      router: false,
      solicited: true,
      override: true,
      target: '2001:db8:0:1::2',
      options: [{ type: 'target-lla', mac: B }],
    });
    expect(f.ndp.source).toBe('2001:db8:0:1::2');
    expect(toHex(encodeNdpFrame({ destination: A, source: B }, f.ndp))).toBe(toHex(bytes));
  });

  it('decodes the kernel DAD probe (source ::, nonce option) and re-encodes it', () => {
    const bytes = fixture('ns-dad-kernel-with-nonce');
    const f = decodeFrame(bytes);
    if (f.kind !== 'ndp') throw new Error('not ndp');
    expect(f.ndp.source).toBe('::');
    expect(f.ndp.message.options).toEqual([{ type: 'nonce', nonce: hexToBytes('7635b7b67661') }]);
    expect(toHex(encodeNdpFrame({ destination: f.ethernet.destination, source: B }, f.ndp))).toBe(toHex(bytes));
  });

  it('rejects a router solicitation with a typed ICMPv6 error but decodes its IPv6 header', () => {
    const rs = decodeEthernet(fixture('rs-kernel-a')).payload;
    expect(decodeIPv6(rs)).toMatchObject({ nextHeader: 58, hopLimit: 255, destination: 'ff02::2' });
    expect(() => decodeNdp(rs)).toThrow(expect.objectContaining({ protocol: 'icmpv6', code: 'unsupported-type' }));
  });

  it('computes the same ICMPv6 checksum as the kernel', () => {
    const ip = decodeIPv6(decodeEthernet(fixture('na-kernel-solicited')).payload);
    const icmp = ip.payload.slice();
    const want = (icmp[2]! << 8) | icmp[3]!;
    icmp[2] = 0;
    icmp[3] = 0;
    expect(icmpv6Checksum(ip.source, ip.destination, icmp)).toBe(want);
  });

  it('decodes an 802.1Q-tagged copy of a captured frame (tag inserted after the source MAC)', () => {
    const plain = fixture('arp-request-arping');
    const tagged = new Uint8Array(plain.length + 4);
    tagged.set(plain.subarray(0, 12));
    tagged.set([0x81, 0x00, 0xa0, 0x0a], 12); // PCP 5, VLAN 10
    tagged.set(plain.subarray(12), 16);
    const f = decodeFrame(sliced(tagged));
    expect(f.ethernet.vlans).toEqual([{ tpid: 0x8100, pcp: 5, dei: false, id: 10 }]);
    expect(f.kind === 'arp' && f.arp.targetIp).toBe('192.0.2.2');
    expect(toHex(encodeEthernet(f.ethernet))).toBe(toHex(tagged));
  });
});

describe('typed decode errors carry the protocol context', () => {
  const expectCodec = (fn: () => unknown, protocol: string, code: string) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(CodecError);
      expect(e).toMatchObject({ protocol, code });
      return;
    }
    throw new Error('did not throw');
  };

  it('ethernet: truncated and 802.3 length frames', () => {
    expectCodec(() => decodeEthernet(new Uint8Array(13)), 'ethernet', 'truncated');
    const f = fixture('arp-request-arping').slice();
    f[12] = 0x00;
    f[13] = 0x2e;
    expectCodec(() => decodeEthernet(f), 'ethernet', 'unsupported-ethertype');
    expectCodec(
      () => decodeFrame(hexToBytes(`${'00'.repeat(12)}0800${'00'.repeat(20)}`)),
      'ethernet',
      'unsupported-ethertype',
    );
  });

  it('arp: truncated, hardware type, protocol type, address lengths', () => {
    const p = decodeEthernet(fixture('arp-request-arping')).payload.slice();
    expectCodec(() => decodeArp(p.subarray(0, 27)), 'arp', 'truncated');
    expectCodec(() => decodeArp(Uint8Array.from([0, 6, ...p.subarray(2)])), 'arp', 'unsupported-hardware-type');
    expectCodec(
      () => decodeArp(Uint8Array.from([0, 1, 0x86, 0xdd, ...p.subarray(4)])),
      'arp',
      'unsupported-protocol-type',
    );
    expectCodec(
      () => decodeArp(Uint8Array.from([...p.subarray(0, 4), 8, 4, ...p.subarray(6)])),
      'arp',
      'bad-address-length',
    );
  });

  it('ndp: checksum, hop limit, code, payload length, next header, DAD rules', () => {
    const ns = decodeEthernet(fixture('ns-ndisc6-with-slla')).payload.slice();
    const mutate = (i: number, v: number) => {
      const c = ns.slice();
      c[i] = v;
      return c;
    };
    expectCodec(() => decodeNdp(mutate(40 + 8, 0x21)), 'icmpv6', 'bad-checksum');
    expectCodec(() => decodeNdp(mutate(7, 64)), 'icmpv6', 'bad-hop-limit');
    expectCodec(() => decodeNdp(mutate(41, 1)), 'icmpv6', 'bad-code');
    expectCodec(() => decodeNdp(mutate(0, 0x40)), 'ipv6', 'bad-version');
    expectCodec(() => decodeNdp(mutate(6, 17)), 'ipv6', 'unsupported-next-header');
    expectCodec(() => decodeNdp(ns.subarray(0, ns.length - 1)), 'ipv6', 'bad-payload-length');
    expectCodec(() => decodeNdp(ns.subarray(0, 39)), 'ipv6', 'truncated');
    const zeroLenOpt = mutate(40 + 25, 0);
    expectCodec(() => decodeNdp(zeroLenOpt), 'icmpv6', 'bad-checksum');
    // A DAD probe (source ::) may not carry a source link-layer option.
    const dad: NdpPacket = {
      source: '::',
      destination: 'ff02::1:ff00:2',
      message: { type: 'neighbor-solicitation', target: '2001:db8::2', options: [{ type: 'source-lla', mac: A }] },
    };
    const bytes = encodeNdpFrame({ destination: '33:33:ff:00:00:02', source: A }, dad).subarray(14);
    expectCodec(() => decodeNdp(bytes), 'icmpv6', 'bad-source');
    const dadToUnicast = encodeNdpFrame(
      { destination: B, source: A },
      { ...dad, destination: '2001:db8::2', message: { ...dad.message, options: [] } },
    ).subarray(14);
    expectCodec(() => decodeNdp(dadToUnicast), 'icmpv6', 'bad-destination');
    const mcastTarget = encodeNdpFrame(
      { destination: B, source: A },
      {
        source: 'fe80::1',
        destination: 'ff02::1',
        message: { type: 'neighbor-solicitation', target: 'ff02::1', options: [] },
      },
    ).subarray(14);
    expectCodec(() => decodeNdp(mcastTarget), 'icmpv6', 'bad-target');
    const solicitedToMulticast = encodeNdpFrame(
      { destination: B, source: A },
      {
        source: 'fe80::1',
        destination: 'ff02::1',
        message: {
          type: 'neighbor-advertisement',
          router: false,
          solicited: true,
          override: false,
          target: '2001:db8::1',
          options: [],
        },
      },
    ).subarray(14);
    expectCodec(() => decodeNdp(solicitedToMulticast), 'icmpv6', 'bad-destination');
  });

  it('a zero-length option with a correct checksum is bad-option-length', () => {
    const pkt: NdpPacket = {
      source: 'fe80::1',
      destination: 'ff02::1:ff00:2',
      message: { type: 'neighbor-solicitation', target: '2001:db8::2', options: [] },
    };
    const bytes = encodeNdpFrame({ destination: B, source: A }, pkt).subarray(14);
    // Append an 8-byte option whose length field is 0, then fix the lengths and the checksum.
    const withOpt = new Uint8Array(bytes.length + 8);
    withOpt.set(bytes);
    withOpt[bytes.length] = 1;
    withOpt[5] = withOpt[5]! + 8;
    withOpt[42] = 0;
    withOpt[43] = 0;
    const ck = icmpv6Checksum(pkt.source, pkt.destination, withOpt.subarray(40));
    withOpt[42] = ck >> 8;
    withOpt[43] = ck & 0xff;
    expectCodec(() => decodeNdp(withOpt), 'icmpv6', 'bad-option-length');
  });

  it('encoders reject bad input with invalid-field', () => {
    expectCodec(
      () =>
        encodeArpFrame(
          { destination: 'zz', source: A },
          { operation: 1, senderMac: A, senderIp: '1.2.3.4', targetMac: A, targetIp: '1.2.3.4' },
        ),
      'address',
      'invalid-field',
    );
    expectCodec(
      () =>
        encodeArpFrame(
          { destination: A, source: A },
          { operation: 1, senderMac: A, senderIp: '1.2.3.256', targetMac: A, targetIp: '1.2.3.4' },
        ),
      'address',
      'invalid-field',
    );
    expectCodec(
      () =>
        encodeNdpFrame(
          { destination: A, source: A },
          {
            source: '::',
            destination: 'ff02::1',
            message: {
              type: 'neighbor-solicitation',
              target: '::1',
              options: [{ type: 'nonce', nonce: new Uint8Array(5) }],
            },
          },
        ),
      'icmpv6',
      'invalid-field',
    );
  });
});
