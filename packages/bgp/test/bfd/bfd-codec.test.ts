import { CodecError } from '@ingot/net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BFD_CONTROL_LENGTH,
  type BfdControlPacket,
  BfdDiagnostic,
  BfdError,
  BfdState,
  type BfdStateValue,
  decodeBfdControl,
  encodeBfdControl,
  isBfdError,
} from '../../src/internal.js';

const hex = (s: string) =>
  Uint8Array.from(
    s
      .replace(/\s+/g, '')
      .match(/../g)!
      .map((h) => Number.parseInt(h, 16)),
  );

// A Down packet as FRR's bfdd sends it before it knows the peer (300 ms, x3, echo 50 ms), hand-assembled from RFC 5880 §4.1.
const frrDown = hex('20 40 03 18 00000007 00000000 000493e0 000493e0 0000c350');

describe('BFD Control packet codec', () => {
  it('decodes a Down packet field by field', () => {
    expect(decodeBfdControl(frrDown)).toEqual({
      diagnostic: 0,
      state: BfdState.DOWN,
      poll: false,
      final: false,
      controlPlaneIndependent: false,
      demand: false,
      detectMultiplier: 3,
      myDiscriminator: 7,
      yourDiscriminator: 0,
      desiredMinTxInterval: 300_000,
      requiredMinRxInterval: 300_000,
      requiredMinEchoRxInterval: 50_000,
    });
  });

  it('encodes the same bytes back, and flags in their bit positions', () => {
    expect(encodeBfdControl(decodeBfdControl(frrDown))).toEqual(frrDown);
    const up: BfdControlPacket = {
      ...decodeBfdControl(frrDown),
      state: BfdState.UP,
      diagnostic: BfdDiagnostic.CONTROL_DETECTION_TIME_EXPIRED,
      poll: true,
      controlPlaneIndependent: true,
      demand: true,
      yourDiscriminator: 0x01020304,
    };
    const bytes = encodeBfdControl(up);
    expect(bytes[0]).toBe(0x21);
    expect(bytes[1]).toBe(0xc0 | 0x20 | 0x08 | 0x02);
    expect([...bytes.subarray(8, 12)]).toEqual([1, 2, 3, 4]);
    expect(encodeBfdControl({ ...up, poll: false, final: true })[1]).toBe(0xc0 | 0x10 | 0x08 | 0x02);
  });

  it('decodes from a sliced buffer (non-zero byteOffset) and ignores octets past Length', () => {
    const big = new Uint8Array(100).fill(0xee);
    big.set(frrDown, 37);
    expect(decodeBfdControl(big.subarray(37, 37 + 30))).toEqual(decodeBfdControl(frrDown));
    const out = new Uint8Array(40);
    encodeBfdControl(decodeBfdControl(frrDown), out, 9);
    expect(out.subarray(9, 33)).toEqual(frrDown);
    expect(out[8]).toBe(0);
    expect(() => encodeBfdControl(decodeBfdControl(frrDown), out, 20)).toThrow(RangeError);
  });

  const set = (b: Uint8Array, at: number, value: number) => {
    b[at] = value;
    return b;
  };
  const refused: [string, (b: Uint8Array) => Uint8Array, BfdError['reason']][] = [
    ['a truncated packet', (b) => b.subarray(0, 23), 'truncated'],
    ['version 0', (b) => set(b, 0, 0x00), 'bad-version'],
    ['Length under 24', (b) => set(b, 3, 23), 'bad-length'],
    ['Length over the payload', (b) => set(b, 3, 25), 'bad-length'],
    ['Detect Mult 0', (b) => set(b, 2, 0), 'zero-detect-multiplier'],
    ['the M bit', (b) => set(b, 1, b[1]! | 1), 'multipoint'],
    ['My Discriminator 0', (b) => set(b, 7, 0), 'zero-my-discriminator'],
    ['Your Discriminator 0 in Up', (b) => set(b, 1, 0xc0), 'zero-your-discriminator'],
    ['Your Discriminator 0 in Init', (b) => set(b, 1, 0x80), 'zero-your-discriminator'],
    ['the A bit with Length 24', (b) => set(b, 1, b[1]! | 4), 'bad-length'],
  ];
  for (const [what, mutate, reason] of refused) {
    it(`refuses ${what} (${reason})`, () => {
      let err: unknown;
      try {
        decodeBfdControl(mutate(Uint8Array.from(frrDown)));
      } catch (e) {
        err = e;
      }
      expect(isBfdError(err)).toBe(true);
      expect((err as BfdError).reason).toBe(reason);
      expect(err).toBeInstanceOf(CodecError); // @ingot/net's base of every codec error
      expect((err as BfdError).code).toBe(reason);
    });
  }

  it('accepts Your Discriminator 0 in AdminDown', () => {
    const b = Uint8Array.from(frrDown);
    b[1] = 0x00;
    expect(decodeBfdControl(b).state).toBe(BfdState.ADMIN_DOWN);
  });

  it('parses (does not verify) an authentication section, checking Auth Len per type', () => {
    const withAuth = (type: number, len: number) => {
      const b = new Uint8Array(24 + len);
      b.set(frrDown);
      b[1]! |= 4;
      b[3] = 24 + len;
      b[24] = type;
      b[25] = len;
      return b;
    };
    const md5 = decodeBfdControl(withAuth(2, 24));
    expect(md5.auth?.type).toBe(2);
    expect(md5.auth?.section.length).toBe(24);
    expect(decodeBfdControl(withAuth(1, 5)).auth?.type).toBe(1);
    expect(decodeBfdControl(withAuth(4, 28)).auth?.section.length).toBe(28);
    for (const [type, len] of [
      [2, 20],
      [4, 24],
      [1, 3],
      [1, 20],
    ] as const) {
      expect(() => decodeBfdControl(withAuth(type, len))).toThrow(BfdError);
    }
    // Auth Len disagreeing with Length
    const b = withAuth(2, 24);
    b[25] = 23;
    expect(() => decodeBfdControl(b)).toThrow(/Auth Len/);
    expect(() => encodeBfdControl(md5)).toThrow(/authentication is not supported/);
  });

  it('refuses to encode out-of-range fields and Poll with Final', () => {
    const p = decodeBfdControl(frrDown);
    expect(() => encodeBfdControl({ ...p, detectMultiplier: 0 })).toThrow(RangeError);
    expect(() => encodeBfdControl({ ...p, detectMultiplier: 256 })).toThrow(RangeError);
    expect(() => encodeBfdControl({ ...p, myDiscriminator: 0 })).toThrow(RangeError);
    expect(() => encodeBfdControl({ ...p, diagnostic: 32 })).toThrow(RangeError);
    expect(() => encodeBfdControl({ ...p, desiredMinTxInterval: 2 ** 32 })).toThrow(RangeError);
    expect(() => encodeBfdControl({ ...p, requiredMinRxInterval: -1 })).toThrow(RangeError);
    expect(() => encodeBfdControl({ ...p, poll: true, final: true })).toThrow(/Poll and Final/);
  });
});

const u32 = fc.nat({ max: 0xffffffff });
const packet: fc.Arbitrary<BfdControlPacket> = fc
  .record({
    diagnostic: fc.integer({ min: 0, max: 31 }),
    state: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<BfdStateValue>,
    poll: fc.boolean(),
    final: fc.boolean(),
    controlPlaneIndependent: fc.boolean(),
    demand: fc.boolean(),
    detectMultiplier: fc.integer({ min: 1, max: 255 }),
    myDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
    yourDiscriminator: fc.integer({ min: 1, max: 0xffffffff }),
    desiredMinTxInterval: u32,
    requiredMinRxInterval: u32,
    requiredMinEchoRxInterval: u32,
  })
  .map((p) => (p.poll && p.final ? { ...p, final: false } : p));

describe('BFD codec properties', () => {
  it('decode(encode(p)) equals p, also from a sliced buffer', () => {
    fc.assert(
      fc.property(packet, fc.nat(16), (p, pad) => {
        const bytes = encodeBfdControl(p);
        expect(bytes.length).toBe(BFD_CONTROL_LENGTH);
        const big = new Uint8Array(pad + 24 + pad);
        big.set(bytes, pad);
        expect(decodeBfdControl(big.subarray(pad))).toEqual(p);
      }),
    );
  });

  it('fuzz: random and mutated input only ever throws BfdError, and what decodes re-encodes to its first 24 octets', () => {
    const input = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc
        .tuple(packet, fc.array(fc.tuple(fc.nat(63), fc.nat(255)), { maxLength: 6 }), fc.nat(70))
        .map(([p, edits, cut]) => {
          const b = new Uint8Array(64);
          b.set(encodeBfdControl(p));
          for (const [at, value] of edits) b[at] = value;
          return b.subarray(0, cut);
        }),
    );
    fc.assert(
      fc.property(input, (bytes) => {
        let decoded: BfdControlPacket;
        try {
          decoded = decodeBfdControl(bytes);
        } catch (err) {
          expect(isBfdError(err)).toBe(true);
          return;
        }
        expect(decoded.detectMultiplier).toBeGreaterThan(0);
        expect(decoded.myDiscriminator).toBeGreaterThan(0);
        if (decoded.auth === undefined && !(decoded.poll && decoded.final)) {
          expect(encodeBfdControl(decoded)).toEqual(Uint8Array.from(bytes.subarray(0, 24)).fill(24, 3, 4));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
