import { isIPv4, isIPv6 } from 'node:net';
import fc from 'fast-check';
import { Address4, Address6 } from 'ip-address';
import { describe, expect, it } from 'vitest';
import {
  canonicalIp,
  formatIPv4,
  formatIPv4Number,
  formatIPv6,
  formatIp,
  ipFamily,
  isIPv4Mapped,
  isIp,
  parseIPv4,
  parseIPv6Into,
  parseIp,
  parsePrefixLength,
  unmapIp,
} from '../src/index.js';

/**
 * [input, Go's netip.ParseAddr(input).String(), Go's net.ParseIP(input).String()], 'invalid' where Go rejects the input.
 * Printed by Go 1.26 with the program in test/fixtures/go-ip-text.go: `cd test/fixtures && go run go-ip-text.go`.
 */
const GO: readonly [string, string, string][] = [
  ['192.0.2.1', '192.0.2.1', '192.0.2.1'],
  ['0.0.0.0', '0.0.0.0', '0.0.0.0'],
  ['255.255.255.255', '255.255.255.255', '255.255.255.255'],
  ['192.0.2.01', 'invalid', 'invalid'],
  ['192.0.2', 'invalid', 'invalid'],
  ['192.0.2.256', 'invalid', 'invalid'],
  ['1.2.3.4.5', 'invalid', 'invalid'],
  [' 192.0.2.1', 'invalid', 'invalid'],
  ['2001:db8::1', '2001:db8::1', '2001:db8::1'],
  ['2001:DB8:0:0:0:0:0:1', '2001:db8::1', '2001:db8::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1', '2001:0:0:1::1'],
  ['::', '::', '::'],
  ['::1', '::1', '::1'],
  ['1::', '1::', '1::'],
  ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7'],
  ['::ffff:192.0.2.1', '::ffff:192.0.2.1', '192.0.2.1'],
  ['::ffff:c000:201', '::ffff:192.0.2.1', '192.0.2.1'],
  ['::FFFF:C000:0201', '::ffff:192.0.2.1', '192.0.2.1'],
  ['::192.0.2.1', '::c000:201', '::c000:201'],
  ['64:ff9b::192.0.2.1', '64:ff9b::c000:201', '64:ff9b::c000:201'],
  ['fe80::1%eth0', 'invalid', 'invalid'],
  ['[2001:db8::1]', 'invalid', 'invalid'],
  ['2001:db8::1/128', 'invalid', 'invalid'],
  ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0', '1:2:3:4:5:6:7:0'],
  ['1:2:3:4:5:6:7:8:9', 'invalid', 'invalid'],
  ['::1:2:3:4:5:6:7:8', 'invalid', 'invalid'],
  ['12345::', 'invalid', 'invalid'],
  [':1::', 'invalid', 'invalid'],
  ['1:::2', 'invalid', 'invalid'],
  ['1::2::3', 'invalid', 'invalid'],
  ['', 'invalid', 'invalid'],
  ['::ffff:0:0', '::ffff:0.0.0.0', '0.0.0.0'],
  ['::ffff:1.2.3.04', 'invalid', 'invalid'],
  ['2001:db8::ffff:192.0.2.1', '2001:db8::ffff:c000:201', '2001:db8::ffff:c000:201'],
  ['0:0:0:0:0:ffff:192.0.2.1', '::ffff:192.0.2.1', '192.0.2.1'],
  ['::fffe:192.0.2.1', '::fffe:c000:201', '::fffe:c000:201'],
];

describe('the canonical IP text (Go as the reference)', () => {
  it.each(GO)(
    '%j: formatIp keeps the family as netip does (%j), canonicalIp prints as net.IP does (%j)',
    (input, netip, net) => {
      const bytes = parseIp(input);
      expect(bytes === undefined ? 'invalid' : formatIp(bytes)).toBe(netip);
      expect(canonicalIp(input) ?? 'invalid').toBe(net);
      expect(isIp(input)).toBe(netip !== 'invalid');
    },
  );

  it('names the family as written', () => {
    expect(ipFamily('192.0.2.1')).toBe(4);
    expect(ipFamily('::ffff:192.0.2.1')).toBe(6);
    expect(ipFamily('2001:db8::1')).toBe(6);
    expect(ipFamily('x')).toBeUndefined();
  });

  it('unmaps only an IPv4-mapped address', () => {
    expect([...unmapIp(parseIp('::ffff:192.0.2.1')!)]).toEqual([192, 0, 2, 1]);
    expect(unmapIp(parseIp('::fffe:c000:201')!).length).toBe(16);
    expect(unmapIp(parseIp('192.0.2.1')!).length).toBe(4);
  });

  it('rejects a byte length that is not an address', () => {
    expect(() => formatIp(new Uint8Array(5))).toThrow(RangeError);
  });
});

describe('fast paths over a range of a string and an offset of a buffer', () => {
  it('parses a prefix length as Go net.ParseCIDR does', () => {
    const len = (t: string, max: number) => parsePrefixLength(t, t.indexOf('/') + 1, t.length, max);
    expect(len('192.0.2.0/24', 32)).toBe(24);
    expect(len('192.0.2.0/024', 32)).toBe(24); // leading zeros: Go's dtoi takes them
    expect(len('192.0.2.0/0', 32)).toBe(0);
    expect(len('192.0.2.0/33', 32)).toBe(-1);
    expect(len('2001:db8::/128', 128)).toBe(128);
    expect(len('2001:db8::/129', 128)).toBe(-1);
    for (const bad of [
      '192.0.2.0/',
      '192.0.2.0/x',
      '192.0.2.0/2 4',
      '192.0.2.0/-1',
      '192.0.2.0/99999999999999999999',
    ]) {
      expect(len(bad, 32), bad).toBe(-1);
    }
  });

  it('parses inside a longer string', () => {
    expect(parseIPv4('x192.0.2.1/24', 1, 10)).toBe(0xc0000201);
    const out = new Uint8Array(20).fill(7);
    expect(parseIPv6Into('[2001:db8::1]', out, 2, 1, 12)).toBe(true);
    expect(formatIPv6(out, 2)).toBe('2001:db8::1');
    expect(out[0]).toBe(7);
    expect(out[18]).toBe(7);
  });

  it('leaves the output untouched on bad input', () => {
    const out = new Uint8Array(16).fill(9);
    expect(parseIPv6Into('2001:db8::1::', out)).toBe(false);
    expect([...out]).toEqual(new Array(16).fill(9));
  });

  it('formats at an offset of a sliced buffer', () => {
    const backing = Uint8Array.of(1, 2, 3, 192, 0, 2, 1, 9);
    const sliced = backing.subarray(2, 8);
    expect(formatIPv4(sliced, 1)).toBe('192.0.2.1');
    expect(formatIPv4Number(0xc0000201)).toBe('192.0.2.1');
    expect(isIPv4Mapped(parseIp('::ffff:0.0.0.0')!)).toBe(true);
  });
});

const v4Bytes = fc.uint8Array({ minLength: 4, maxLength: 4 });
const v6Bytes = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  // runs of zero groups and IPv4-mapped addresses, which random bytes almost never hit
  fc
    .tuple(fc.array(fc.constantFrom(0, 0, 0, 1, 0xffff, 0xdb8), { minLength: 8, maxLength: 8 }))
    .map(([g]) => Uint8Array.from(g.flatMap((w) => [w >> 8, w & 255]))),
  v4Bytes.map((b) => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...b)),
);

describe('properties', () => {
  it('formatIp and parseIp round-trip every address', () => {
    fc.assert(
      fc.property(fc.oneof(v4Bytes, v6Bytes), (b) => {
        expect(parseIp(formatIp(b))).toEqual(b);
      }),
      { numRuns: 5000 },
    );
  });

  it('agrees with ip-address on every IPv4 address and every IPv6 address that is not IPv4-mapped', () => {
    fc.assert(
      fc.property(v4Bytes, (b) => {
        const text = formatIp(b);
        expect(Address4.fromBigInt(BigInt(`0x${Buffer.from(b).toString('hex')}`)).correctForm()).toBe(text);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(v6Bytes, (b) => {
        const text = formatIp(b);
        const expected = Address6.fromBigInt(BigInt(`0x${Buffer.from(b).toString('hex')}`)).correctForm();
        // ip-address prints a mapped address in hex (::ffff:c000:201); RFC 5952 §5 and Go print the dotted quad
        if (isIPv4Mapped(b)) expect(`::ffff:${formatIp(b.subarray(12))}`).toBe(text);
        else expect(text).toBe(expected);
      }),
      { numRuns: 5000 },
    );
  });

  it('accepts what node:net accepts, but for zones and leading zeros', () => {
    const piece = fc.constantFrom(
      '0',
      '1',
      '01',
      '00',
      '255',
      '256',
      'ff',
      'FFFF',
      'fffff',
      'db8',
      ':',
      '::',
      '.',
      '%',
      'x',
      '192.0.2.1',
      '/',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }), (parts) => {
        const text = parts.join('');
        const ours = isIp(text);
        if (text.includes('%')) expect(ours).toBe(false);
        else if (ours) expect(isIPv4(text) || isIPv6(text)).toBe(true);
        else if (isIPv4(text) || isIPv6(text)) expect(/(^|[.:])0\d/.test(text)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('never throws on any string, and canonicalIp is idempotent', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 48 }), (s) => {
        const c = canonicalIp(s);
        if (c !== undefined) expect(canonicalIp(c)).toBe(c);
      }),
      { numRuns: 5000 },
    );
  });
});
