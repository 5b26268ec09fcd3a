import { formatIp, parseIPv4 as netParseIPv4, parseIp } from '@ingot/net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseIPv4Prefix } from '../../src/codec/ip.js';
import { decodeMessage, encodeMessage } from '../../src/internal.js';

/** IPv6 addresses random bytes seldom give: zero runs and IPv4-mapped ones. */
const v6 = fc.oneof(
  fc.uint8Array({ minLength: 16, maxLength: 16 }),
  fc
    .array(fc.constantFrom(0, 0, 1, 0xffff, 0xdb8), { minLength: 8, maxLength: 8 })
    .map((g) => Uint8Array.from(g.flatMap((w) => [w >> 8, w & 255]))),
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((b) => Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, ...b)),
);

describe('the codec prints addresses as @ingot/net does (one IP text for every package)', () => {
  it('an MP_REACH next hop and /128 prefix decode to formatIp of their bytes, whatever text they were given in', () => {
    fc.assert(
      fc.property(v6, fc.boolean(), (bytes, upper) => {
        const text = formatIp(bytes);
        const given = upper ? text.toUpperCase() : text;
        const wire = encodeMessage({
          type: 'update',
          withdrawn: [],
          attributes: {
            origin: 'igp',
            asPath: [],
            mpReach: { afi: 2, safi: 1, nextHop: given, nlri: [`${given}/128`] },
          },
          nlri: [],
        });
        const m = decodeMessage(wire);
        if (m.type !== 'update') throw new Error('not an UPDATE');
        expect(m.attributes.mpReach?.nextHop).toBe(text);
        expect(m.attributes.mpReach?.nlri).toEqual([`${text}/128`]);
        expect(parseIp(text)).toEqual(bytes);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseIPv4Prefix, the codec one-pass fast path, accepts the addresses @ingot/net accepts', () => {
  it('agrees with net parseIPv4 on the address part (random octets, leading zeros, bad lengths)', () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '007', '0', ''));
    const len = fc.oneof(
      fc.constant(''),
      fc.integer({ min: 0, max: 40 }).map((n) => `/${n}`),
      fc.constantFrom('/', '/x'),
    );
    fc.assert(
      fc.property(fc.array(octet, { minLength: 3, maxLength: 5 }), len, (octets, suffix) => {
        const address = octets.join('.');
        const text = address + suffix;
        const expected = netParseIPv4(address);
        const length = suffix === '' ? 32 : /^\/\d{1,2}$/.test(suffix) ? Number(suffix.slice(1)) : -1;
        const valid = expected >= 0 && length >= 0 && length <= 32;
        expect(parseIPv4Prefix(text)).toBe(valid ? expected : -1);
      }),
      { numRuns: 5000 },
    );
  });
});
