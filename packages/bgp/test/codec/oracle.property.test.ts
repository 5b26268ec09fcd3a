import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage } from '../../src/internal.js';
import { canonicalIpv6Text } from './arbitraries.js';

/** Naive reference: an UPDATE whose Withdrawn Routes field (IPv4) or MP_UNREACH_NLRI (IPv6) is exactly `field`. */
function updateWith(field: Uint8Array, v6: boolean): Uint8Array {
  const body = v6
    ? [
        0,
        0,
        (field.length + 7) >> 8,
        (field.length + 7) & 255,
        0x90,
        15,
        (field.length + 3) >> 8,
        (field.length + 3) & 255,
        0,
        2,
        1,
        ...field,
      ]
    : [field.length >> 8, field.length & 255, ...field, 0, 0];
  const len = 19 + body.length;
  return Uint8Array.from([...new Uint8Array(16).fill(0xff), len >> 8, len & 255, 2, ...body]);
}

/** Slow, obvious formatting of one prefix: mask, then dotted quad, or WHATWG URL canonical IPv6. */
function reference(len: number, octets: number[], v6: boolean): string {
  const full = [...octets, ...new Array((v6 ? 16 : 4) - octets.length).fill(0)];
  for (let bit = len; bit < full.length * 8; bit++) full[bit >> 3] &= ~(0x80 >> (bit & 7));
  if (!v6) return `${full.join('.')}/${len}`;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((full[i]! << 8) | full[i + 1]!).toString(16));
  return `${new URL(`http://[${groups.join(':')}]`).hostname.slice(1, -1)}/${len}`;
}

/** A syntactically valid prefix field: random lengths, random octets including non-zero trailing bits. */
const field = (v6: boolean) =>
  fc.array(
    fc
      .integer({ min: 0, max: v6 ? 128 : 32 })
      .chain((len) =>
        fc
          .array(fc.integer({ min: 0, max: 255 }), { minLength: (len + 7) >> 3, maxLength: (len + 7) >> 3 })
          .map((octets) => ({ len, octets })),
      ),
    { maxLength: 40 },
  );

describe('oracle: the fast prefix decoder agrees with a slow reference (fast-check)', () => {
  for (const v6 of [false, true]) {
    it(`${v6 ? 'IPv6' : 'IPv4'} prefixes, trailing bits masked, canonical text`, () => {
      fc.assert(
        fc.property(field(v6), (prefixes) => {
          const bytes = Uint8Array.from(prefixes.flatMap((p) => [p.len, ...p.octets]));
          const m = decodeMessage(updateWith(bytes, v6));
          if (m.type !== 'update') throw new Error('expected an update');
          const got = v6 ? m.attributes.mpUnreach!.withdrawn : m.withdrawn;
          expect(got).toEqual(prefixes.map((p) => reference(p.len, p.octets, v6)));
        }),
        { numRuns: 500 },
      );
    });
  }

  it('IPv6 text in any RFC 4291 form parses to the same address as the WHATWG URL parser', () => {
    const form = fc
      .tuple(
        fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 }),
        fc.boolean(),
        fc.boolean(),
        fc.boolean(),
        fc.nat(),
      )
      .map(([groups, upper, leadingZeros, v4Tail, cut]) => {
        let parts = groups.map((g) => {
          const h = g.toString(16);
          return leadingZeros ? h.padStart(4, '0') : h;
        });
        if (v4Tail) {
          const [a, b] = [groups[6]!, groups[7]!];
          parts = [...parts.slice(0, 6), `${a >> 8}.${a & 255}.${b >> 8}.${b & 255}`];
        }
        // compress one run of zero groups (not necessarily the longest) when there is one
        const zeros = parts.map((p, i) => (/^0+$/.test(p) && i < 6 + (v4Tail ? 0 : 2) ? i : -1)).filter((i) => i >= 0);
        let text = parts.join(':');
        if (zeros.length > 0) {
          const start = zeros[cut % zeros.length]!;
          let end = start;
          while (zeros.includes(end + 1)) end++;
          text = `${parts.slice(0, start).join(':')}::${parts.slice(end + 1).join(':')}`;
        }
        return upper ? text.toUpperCase() : text;
      });
    fc.assert(
      fc.property(form, (text) => {
        const bytes = encodeMessage({
          type: 'update',
          withdrawn: [],
          attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [`${text}/128`] } },
          nlri: [],
        });
        const m = decodeMessage(bytes);
        if (m.type !== 'update') throw new Error('expected an update');
        // the oracle: WHATWG's RFC 5952 text, IPv4-mapped addresses dotted (RFC 5952 §5, Go's netip, @ingot/net)
        const canonical = canonicalIpv6Text(text);
        expect(m.attributes.mpUnreach!.withdrawn).toEqual([`${canonical}/128`]);
      }),
      { numRuns: 500 },
    );
  });
});
