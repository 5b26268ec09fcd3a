import { describe, expect, it } from 'vitest';
import { BROADCAST_MAC, encodeArpFrame, MemorySegment, TransportError, ZERO_MAC } from '../src/index.js';

const A = '02:00:00:00:00:0a';
const B = '02:00:00:00:00:0b';
const C = '02:00:00:00:00:0c';

function frameTo(dst: string, src = A): Uint8Array {
  return encodeArpFrame(
    { destination: dst, source: src },
    { operation: 1, senderMac: src, senderIp: '192.0.2.1', targetMac: ZERO_MAC, targetIp: '192.0.2.2' },
  );
}

describe('MemorySegment', () => {
  it('delivers broadcast to every other port, unicast to the owner, multicast to members, and taps see all', () => {
    const seg = new MemorySegment();
    const a = seg.attach({ mac: A });
    const b = seg.attach({ name: 'eth-b', mac: B });
    const c = seg.attach({ mac: C, promiscuous: true });
    const got = { a: 0, b: 0, c: 0 };
    a.receive(() => got.a++);
    b.receive(() => got.b++);
    c.receive(() => got.c++);
    const tapped: Uint8Array[] = [];
    const untap = seg.tap((f) => tapped.push(f));
    a.send(frameTo(BROADCAST_MAC));
    expect(got).toEqual({ a: 0, b: 1, c: 1 });
    a.send(frameTo(B));
    expect(got).toEqual({ a: 0, b: 2, c: 2 });
    a.send(frameTo('33:33:ff:00:00:01'));
    expect(got.b).toBe(2); // not a member
    b.addMembership('33:33:FF:00:00:01');
    b.addMembership('33:33:ff:00:00:01');
    b.dropMembership('33:33:ff:00:00:01');
    a.send(frameTo('33:33:ff:00:00:01'));
    expect(got.b).toBe(3); // still a member: reference counted
    b.dropMembership('33:33:ff:00:00:01');
    a.send(frameTo('33:33:ff:00:00:01'));
    expect(got.b).toBe(3);
    a.send(frameTo('33:33:00:00:00:01')); // all-nodes: always joined
    expect(got.b).toBe(4);
    expect(tapped).toHaveLength(6);
    untap();
    a.send(frameTo(BROADCAST_MAC));
    expect(tapped).toHaveLength(6);
    expect(b.name).toBe('eth-b');
    expect(a.stats()).toMatchObject({ framesSent: 7, framesReceived: 0 });
    expect(b.stats().framesReceived).toBe(5);
  });

  it('hands each receiver its own copy', () => {
    const seg = new MemorySegment();
    const a = seg.attach({ mac: A });
    const b = seg.attach({ mac: B });
    let seen: Uint8Array | undefined;
    b.receive((f) => {
      seen = f;
    });
    const f = frameTo(BROADCAST_MAC).slice();
    a.send(f);
    f[0] = 0;
    expect(seen?.[0]).toBe(0xff);
  });

  it('rejects sends after close and runt frames with TransportError; closed ports receive nothing', async () => {
    const seg = new MemorySegment();
    const a = seg.attach({ mac: A });
    const b = seg.attach({ mac: B });
    let n = 0;
    b.receive(() => n++);
    expect(() => a.send(new Uint8Array(10))).toThrow(TransportError);
    await b.close();
    expect(b.closed).toBe(true);
    a.send(frameTo(BROADCAST_MAC));
    expect(n).toBe(0);
    await a.close();
    expect(() => a.send(frameTo(BROADCAST_MAC))).toThrow(expect.objectContaining({ code: 'ECLOSED' }));
    expect(a.stats().sendErrors).toBe(2);
  });
});

describe('addresses', () => {
  it('parses and formats edge cases', async () => {
    const { parseIPv6, formatIPv6, parseIPv4, canonicalIp, solicitedNodeAddress, ipv6MulticastMac, CodecError } =
      await import('../src/index.js');
    expect(formatIPv6(parseIPv6('::ffff:192.0.2.1'))).toBe('::ffff:192.0.2.1'); // Go's netip text, RFC 5952 §5 (@ingot/net)
    expect(formatIPv6(parseIPv6('::'))).toBe('::');
    expect(formatIPv6(parseIPv6('1:0:0:2:0:0:0:3'))).toBe('1:0:0:2::3');
    expect(formatIPv6(parseIPv6('1:0:2:3:4:5:6:7'))).toBe('1:0:2:3:4:5:6:7'); // a single zero word is not compressed
    for (const bad of ['', ':::', '1::2::3', '1:2:3:4:5:6:7:8:9', '12345::', 'g::', '1:2:3:4:5:6:7::8']) {
      expect(() => parseIPv6(bad), bad).toThrow(CodecError);
    }
    for (const bad of ['1.2.3', '1.2.3.4.5', '01.2.3.4', '256.1.1.1', '1.2.3.-1']) {
      expect(() => parseIPv4(bad), bad).toThrow(CodecError);
    }
    expect(canonicalIp('192.0.2.300')).toBeUndefined();
    // the one service-IP text of every package (@ingot/net, Go's net.IP.String): a mapped address is its IPv4 address
    expect(canonicalIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalIp('2001:DB8:0:0::1')).toBe('2001:db8::1');
    expect(solicitedNodeAddress('2001:db8::abcd:1234')).toBe('ff02::1:ffcd:1234');
    expect(ipv6MulticastMac('ff02::1')).toBe('33:33:00:00:00:01');
  });
});
