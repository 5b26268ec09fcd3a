import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BgpMessage,
  type CodecOptions,
  decodeMessage,
  encodeMessage,
  isBgpError,
  MessageDecoder,
} from '../../src/internal.js';
import { messageWithOptions } from './arbitraries.js';
import { hex } from './helpers.js';

const dir = new URL('../fixtures/captured/', import.meta.url);
const captured: Uint8Array[] = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .flatMap((f) => (JSON.parse(readFileSync(new URL(f, dir), 'utf8')) as { messages: { hex: string }[] }).messages)
  .map((m) => hex(m.hex));

type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; value: number }
  | { kind: 'truncate'; keep: number }
  | { kind: 'lie16'; at: number; value: number }
  | { kind: 'lie8'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'delete'; at: number; count: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), keep: fc.nat() }),
  // length lies: overwrite any 1- or 2-octet field with a boundary-ish value
  fc.record({
    kind: fc.constant('lie16' as const),
    at: fc.nat(),
    value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 18, 19, 23, 255, 256, 4095, 4096, 4097, 65535), fc.nat(65535)),
  }),
  fc.record({
    kind: fc.constant('lie8' as const),
    at: fc.nat(),
    value: fc.constantFrom(0, 1, 4, 16, 32, 33, 128, 129, 255),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
  }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 8 }) }),
);

function mutate(input: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = Uint8Array.from(input);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = 'at' in m ? m.at % b.length : 0;
    switch (m.kind) {
      case 'flip':
        b[at]! ^= 1 << m.bit;
        break;
      case 'set':
        b[at] = m.value;
        break;
      case 'truncate':
        b = b.slice(0, m.keep % (b.length + 1));
        break;
      case 'lie16':
        if (at + 1 < b.length) {
          b[at] = m.value >>> 8;
          b[at + 1] = m.value & 0xff;
        }
        break;
      case 'lie8':
        b[at] = m.value;
        break;
      case 'insert': {
        const n = new Uint8Array(b.length + m.bytes.length);
        n.set(b.subarray(0, at));
        n.set(m.bytes, at);
        n.set(b.subarray(at), at + m.bytes.length);
        b = n;
        break;
      }
      case 'delete':
        b = Uint8Array.from([...b.subarray(0, at), ...b.subarray(at + m.count)]);
        break;
    }
  }
  // keep the header length consistent half of the time, so mutations reach the body parsers
  if (mutations.length % 2 === 0 && b.length >= 18) {
    b[16] = b.length >>> 8;
    b[17] = b.length & 0xff;
  }
  return b;
}

const options: fc.Arbitrary<CodecOptions> = fc.record(
  {
    fourOctetAs: fc.boolean(),
    extendedMessages: fc.boolean(),
    addPath: fc.record({ ipv4Unicast: fc.boolean(), ipv6Unicast: fc.boolean() }, { requiredKeys: [] }),
    internal: fc.boolean(),
  },
  { requiredKeys: [] },
);

const seed: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.constantFrom(...captured),
  messageWithOptions.map(([m, o]) => encodeMessage(m, o)),
  fc.uint8Array({ maxLength: 64 }),
);

/** Decodes; any exception must be a BgpError that is not the defensive "internal decoder error" wrapper. */
function decodeOnlyBgpError(bytes: Uint8Array, o: CodecOptions): BgpMessage | undefined {
  try {
    return decodeMessage(bytes, o);
  } catch (err) {
    expect(isBgpError(err), `non-BgpError thrown: ${String(err)}`).toBe(true);
    expect((err as Error).message).not.toMatch(/internal decoder error/);
    return undefined;
  }
}

describe('fuzz: mutated, truncated and length-lying messages only ever throw BgpError (fast-check)', () => {
  it('decodeMessage', () => {
    fc.assert(
      fc.property(seed, fc.array(mutation, { maxLength: 6 }), options, (input, muts, o) => {
        const bytes = mutate(input, muts);
        const m = decodeOnlyBgpError(bytes, o);
        if (m === undefined) return;
        // whatever decodes re-encodes, and that decodes again
        const again = encodeMessage(m, o);
        decodeOnlyBgpError(again, o);
      }),
      { numRuns: 3000 },
    );
  });

  it('MessageDecoder over random chunking, with sticky errors', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(seed, fc.array(mutation, { maxLength: 3 })), { minLength: 1, maxLength: 5 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 }),
        options,
        (parts, cuts, o) => {
          const chunks = parts.map(([b, m]) => mutate(b, m));
          const all = Uint8Array.from(chunks.flatMap((c) => [...c]));
          const dec = new MessageDecoder(o);
          let failed: unknown;
          let i = 0;
          let c = 0;
          while (i < all.length) {
            const n = cuts[c++ % cuts.length]!;
            try {
              dec.feed(all.subarray(i, i + n));
            } catch (err) {
              expect(isBgpError(err), String(err)).toBe(true);
              failed = err;
              break;
            }
            i += n;
          }
          // the decoder never holds more than one maximum message plus one chunk
          expect(dec.bufferedBytes).toBeLessThanOrEqual(65535 + 200);
          if (failed) expect(() => dec.next()).toThrow(failed as Error);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('random bytes behind a valid marker and header', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.uint8Array({ maxLength: 200 }), options, (type, body, o) => {
        const b = new Uint8Array(19 + body.length);
        b.fill(0xff, 0, 16);
        b[16] = b.length >>> 8;
        b[17] = b.length & 0xff;
        b[18] = type;
        b.set(body, 19);
        decodeOnlyBgpError(b, o);
      }),
      { numRuns: 3000 },
    );
  });
});
