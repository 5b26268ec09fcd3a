import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMessage, encodeMessage, MessageDecoder } from '../../src/internal.js';
import {
  codecOptions,
  keepalive,
  messageWithOptions,
  notification,
  open,
  routeRefresh,
  update,
} from './arbitraries.js';
import { testEncoder, toHex } from './helpers.js';

const RUNS = 300;

describe('round trip: decode(encode(m)) equals m, at offsets and in sliced buffers (fast-check)', () => {
  it('OPEN with any capabilities', () => {
    fc.assert(
      fc.property(open, (m) => {
        testEncoder(m);
      }),
      { numRuns: RUNS },
    );
  });

  it('UPDATE with any attributes, under any negotiated options', () => {
    fc.assert(
      fc.property(
        codecOptions.chain((o) =>
          fc.tuple(update({ ...o, extendedMessages: true }), fc.constant({ ...o, extendedMessages: true })),
        ),
        ([m, o]) => {
          testEncoder(m, o);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('NOTIFICATION', () => {
    fc.assert(
      fc.property(notification, (m) => void testEncoder(m)),
      { numRuns: RUNS },
    );
  });

  it('KEEPALIVE', () => {
    fc.assert(
      fc.property(keepalive, (m) => void testEncoder(m)),
      { numRuns: 5 },
    );
  });

  it('ROUTE-REFRESH with any AFI, SAFI and subtype', () => {
    fc.assert(
      fc.property(routeRefresh, (m) => void testEncoder(m)),
      { numRuns: RUNS },
    );
  });

  it('a stream of messages cut into arbitrary chunks gives back the same messages', () => {
    fc.assert(
      fc.property(
        codecOptions.chain((o) =>
          fc.tuple(
            fc.array(
              messageWithOptions.map(([m]) => m).filter((m) => m.type !== 'update'),
              { maxLength: 6 },
            ),
            fc.array(update({ ...o, extendedMessages: false }), { maxLength: 3 }),
            fc.constant({ ...o, extendedMessages: false }),
            fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 20 }),
          ),
        ),
        ([others, updates, o, cuts]) => {
          const messages = [...others, ...updates];
          const encoded = messages.map((m) => encodeMessage(m, o));
          const total = encoded.reduce((s, b) => s + b.length, 0);
          const stream = new Uint8Array(total);
          let off = 0;
          for (const b of encoded) {
            stream.set(b, off);
            off += b.length;
          }
          const dec = new MessageDecoder(o);
          const out = [];
          let i = 0;
          let c = 0;
          while (i < stream.length) {
            const n = cuts[c++ % cuts.length]!;
            out.push(...dec.feed(stream.subarray(i, i + n)));
            i += n;
          }
          expect(dec.bufferedBytes).toBe(0);
          expect(out.map((m) => toHex(encodeMessage(m, o)))).toEqual(encoded.map(toHex));
          expect(out).toEqual(messages.map((m) => decodeMessage(encodeMessage(m, o), o)));
        },
      ),
      { numRuns: 150 },
    );
  });
});
