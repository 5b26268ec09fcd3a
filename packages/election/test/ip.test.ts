import * as net from '@ingot/net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError, canonicalIp, formatIp, parseIp } from '../src/index.js';

describe('ip helpers', () => {
  it('canonicalises like Go net.IP.String()', () => {
    expect(canonicalIp('192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalIp('2001:DB8:0:0:0:0:0:1')).toBe('2001:db8::1');
    expect(canonicalIp('2001:db8:0:0:1:0:0:1')).toBe('2001:db8::1:0:0:1');
    expect(canonicalIp('2001:db8:0:1:1:1:1:1')).toBe('2001:db8:0:1:1:1:1:1');
    expect(canonicalIp('::')).toBe('::');
    expect(canonicalIp('::ffff:192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalIp('::192.0.2.1')).toBe('::c000:201');
  });
  it('rejects non-addresses with bad-address', () => {
    for (const bad of ['', '1.2.3', '1.2.3.256', '01234::', 'a::b::c', '1:2:3:4:5:6:7:8:9', 'fe80::1%eth0', 'x']) {
      expect(() => parseIp(bad)).toThrow(CodecError);
    }
    expect(() => formatIp(new Uint8Array(5))).toThrow(CodecError);
  });
  it('round-trips any 16 bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
        const text = formatIp(b);
        expect(formatIp(parseIp(text))).toBe(text);
      }),
    );
    fc.assert(
      fc.property(fc.ipV6(), (t) => {
        expect(canonicalIp(canonicalIp(t))).toBe(canonicalIp(t));
      }),
    );
  });
  it("is @ingot/net's canonical text (the one policy of every package), and rejects what it rejects", () => {
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended(), fc.string({ maxLength: 20 })), (t) => {
        const expected = net.canonicalIp(t);
        if (expected === undefined) expect(() => canonicalIp(t)).toThrow(CodecError);
        else expect(canonicalIp(t)).toBe(expected);
      }),
      { numRuns: 3000 },
    );
    expect(() => parseIp('192.0.2.01')).toThrow(CodecError); // Go rejects leading zeros
    expect(new CodecError('truncated', 'x')).toBeInstanceOf(net.CodecError);
  });
});
