import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeNdMessage,
  encodeIcmp6Filter,
  encodeRouterAdvertisement,
  encodeRouterSolicitation,
  NdError,
} from '../../src/internal.js';
import { hex, toHex } from '../codec/helpers.js';

/** Copies `bytes` into a larger buffer at `offset` and returns the view (a sliced buffer, nonzero byteOffset). */
function sliced(bytes: Uint8Array, offset = 5): Uint8Array {
  const backing = new Uint8Array(bytes.length + offset + 3).fill(0xee);
  backing.set(bytes, offset);
  return backing.subarray(offset, offset + bytes.length);
}

describe('Router Solicitation and Advertisement codec (RFC 4861 §4.1, §4.2)', () => {
  it('encodes a Router Advertisement: type 134, lifetime 0, Source Link-Layer Address option', () => {
    const ra = encodeRouterAdvertisement({ sourceLinkLayerAddress: '02:00:5e:10:00:01' });
    expect(toHex(ra)).toBe('86000000' + '00000000' + '00000000' + '00000000' + '0101' + '02005e100001');
  });

  it('encodes a Router Solicitation with and without the option', () => {
    expect(toHex(encodeRouterSolicitation())).toBe('8500000000000000');
    expect(toHex(encodeRouterSolicitation('02:00:5e:10:00:01'))).toBe('8500000000000000' + '010102005e100001');
  });

  it('decodes what FRR sends (hop limit 64, lifetime 0, MTU and link-layer options) from a sliced buffer', () => {
    // RA: cur hop limit 64, flags 0, lifetime 0, reachable 0, retrans 0; options: SLLA (1), MTU (5)
    const bytes = hex('8600 0000 4000 0000 0000 0000 0000 0000  0101 9a68b85bc8cb  0501 0000 000005dc');
    expect(decodeNdMessage(sliced(bytes))).toEqual({
      type: 'router-advertisement',
      curHopLimit: 64,
      managed: false,
      other: false,
      routerLifetime: 0,
      reachableTime: 0,
      retransTimer: 0,
      sourceLinkLayerAddress: '9a:68:b8:5b:c8:cb',
    });
  });

  it('round-trips our own messages', () => {
    const ra = decodeNdMessage(sliced(encodeRouterAdvertisement({ curHopLimit: 64, routerLifetime: 1800 })));
    expect(ra).toMatchObject({ type: 'router-advertisement', curHopLimit: 64, routerLifetime: 1800 });
    expect(decodeNdMessage(sliced(encodeRouterSolicitation('02:00:5e:10:00:01')))).toEqual({
      type: 'router-solicitation',
      sourceLinkLayerAddress: '02:00:5e:10:00:01',
    });
  });

  it('ignores other ICMPv6 types and rejects what RFC 4861 §6.1 says to discard', () => {
    expect(decodeNdMessage(hex('8000 0000 0001 0001'))).toBeUndefined(); // echo request
    const bad = [
      ['short', hex('86')],
      ['code not 0', hex('8601 0000 0000 0000 0000 0000 0000 0000')],
      ['RA shorter than 16 octets', hex('8600 0000 0000 0000')],
      ['option of length 0', hex('8500 0000 0000 0000 0100 0000 0000 0000')],
      ['option overrunning', hex('8500 0000 0000 0000 0102 0000 0000 0000')],
      ['truncated option header', hex('8500 0000 0000 0000 01')],
    ] as const;
    for (const [name, bytes] of bad) expect(() => decodeNdMessage(bytes), name).toThrow(NdError);
  });

  it('refuses to encode out-of-range fields and malformed MAC addresses', () => {
    expect(() => encodeRouterAdvertisement({ routerLifetime: 65536 })).toThrow(RangeError);
    expect(() => encodeRouterAdvertisement({ curHopLimit: -1 })).toThrow(RangeError);
    expect(() => encodeRouterSolicitation('02:00:5e:10:00')).toThrow(RangeError);
  });

  it('decodes any bytes to a message, undefined, or an NdError, never another error (fast-check)', () => {
    const nd = fc.tuple(fc.constantFrom(133, 134), fc.uint8Array({ maxLength: 40 })).map(([t, rest]) => {
      const b = new Uint8Array(1 + rest.length);
      b[0] = t;
      b.set(rest, 1);
      return b;
    });
    fc.assert(
      fc.property(fc.oneof(nd, fc.uint8Array({ maxLength: 40 })), fc.nat({ max: 7 }), (bytes, offset) => {
        try {
          const m = decodeNdMessage(sliced(bytes, offset));
          if (m) expect(m.type).toBe(bytes[0] === 133 ? 'router-solicitation' : 'router-advertisement');
        } catch (err) {
          expect(err).toBeInstanceOf(NdError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('builds an ICMP6_FILTER that passes only the given types (a set bit blocks)', () => {
    const words = new Uint32Array(encodeIcmp6Filter([133, 134]).buffer);
    const passes = (t: number) => (words[t >> 5]! & (1 << (t & 31))) === 0;
    expect(passes(133)).toBe(true);
    expect(passes(134)).toBe(true);
    expect([0, 1, 128, 129, 135, 136, 137, 255].filter(passes)).toEqual([]);
  });
});
