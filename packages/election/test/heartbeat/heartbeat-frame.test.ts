import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeHeartbeatFrame,
  encodeHeartbeatFrame,
  HEARTBEAT_MAGIC,
  HEARTBEAT_PLAIN_LENGTH,
  HEARTBEAT_SEALED_LENGTH,
  HEARTBEAT_VERSION,
  type HeartbeatFrame,
  heartbeatSenderId,
} from '../../src/heartbeat/frame.js';
import { CodecError, Keyring } from '../../src/index.js';

const ring = new Keyring([new Uint8Array(32).fill(3)]);
const other = new Keyring([new Uint8Array(32).fill(9)]);
const frame: HeartbeatFrame = {
  type: 'heartbeat',
  sender: heartbeatSenderId('node-a'),
  boot: 1_765_000_000_123,
  seq: 42,
};

/** A copy of `bytes` at an odd offset inside a larger buffer (decoders must honour byteOffset). */
function sliced(bytes: Uint8Array): Uint8Array {
  const big = new Uint8Array(bytes.length + 7).fill(0xee);
  big.set(bytes, 3);
  return big.subarray(3, 3 + bytes.length);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(CodecError);
    return (err as CodecError).code;
  }
}

const frames = fc.record({
  type: fc.constantFrom('heartbeat', 'probe', 'ack', 'takeover', 'released', 'leaving') as fc.Arbitrary<
    HeartbeatFrame['type']
  >,
  sender: fc.uint8Array({ minLength: 8, maxLength: 8 }).map((b) => Buffer.from(b).toString('hex')),
  boot: fc.maxSafeNat(),
  seq: fc.maxSafeNat(),
});

describe('heartbeat frame', () => {
  it('plaintext: 28 bytes, header then sender, boot, seq (big-endian)', () => {
    const b = encodeHeartbeatFrame(frame);
    expect(b.length).toBe(HEARTBEAT_PLAIN_LENGTH);
    expect([...b.subarray(0, 4)]).toEqual([HEARTBEAT_MAGIC, HEARTBEAT_VERSION, 1, 0]);
    expect(Buffer.from(b.subarray(4, 12)).toString('hex')).toBe(frame.sender);
    expect(Buffer.from(b).readBigUInt64BE(12)).toBe(BigInt(frame.boot));
    expect(Buffer.from(b).readBigUInt64BE(20)).toBe(42n);
    expect(decodeHeartbeatFrame(sliced(b))).toEqual(frame);
  });

  it('sealed: 56 bytes, opened by any key of the ring, refused by another ring and as plaintext', () => {
    const b = encodeHeartbeatFrame(frame, ring);
    expect(b.length).toBe(HEARTBEAT_SEALED_LENGTH);
    expect(b[3]).toBe(1);
    expect(decodeHeartbeatFrame(sliced(b), ring)).toEqual(frame);
    const rotated = new Keyring([new Uint8Array(32).fill(1), new Uint8Array(32).fill(3)]);
    expect(decodeHeartbeatFrame(b, rotated)).toEqual(frame);
    expect(codeOf(() => decodeHeartbeatFrame(b, other))).toBe('unauthenticated');
    expect(codeOf(() => decodeHeartbeatFrame(b))).toBe('unauthenticated');
    expect(codeOf(() => decodeHeartbeatFrame(encodeHeartbeatFrame(frame), ring))).toBe('unauthenticated');
    // the header is authenticated: a heartbeat cannot be turned into a takeover notice
    const retyped = b.slice();
    retyped[2] = 4;
    expect(codeOf(() => decodeHeartbeatFrame(retyped, ring))).toBe('unauthenticated');
  });

  it('type codes 1-6 in order, the length fixed: a leaving notice is a 28/56-byte frame like the others', () => {
    const types = ['heartbeat', 'probe', 'ack', 'takeover', 'released', 'leaving'] as const;
    types.forEach((type, i) => {
      const plain = encodeHeartbeatFrame({ ...frame, type });
      expect(plain.length).toBe(HEARTBEAT_PLAIN_LENGTH);
      expect(plain[2]).toBe(i + 1);
      expect(decodeHeartbeatFrame(sliced(plain))).toEqual({ ...frame, type });
      const sealed = encodeHeartbeatFrame({ ...frame, type }, ring);
      expect(sealed.length).toBe(HEARTBEAT_SEALED_LENGTH);
      expect(sealed[2]).toBe(i + 1);
      expect(decodeHeartbeatFrame(sliced(sealed), ring)).toEqual({ ...frame, type });
    });
    // golden bytes of a plaintext leaving notice
    expect(
      Buffer.from(
        encodeHeartbeatFrame({ type: 'leaving', sender: '0011223344556677', boot: 2 ** 32 + 5, seq: 7 }),
      ).toString('hex'),
    ).toBe('48010600' + '0011223344556677' + '0000000100000005' + '0000000000000007');
    // a sealed heartbeat cannot be turned into a leaving notice (the header is authenticated)
    const retyped = encodeHeartbeatFrame(frame, ring).slice();
    retyped[2] = 6;
    expect(codeOf(() => decodeHeartbeatFrame(retyped, ring))).toBe('unauthenticated');
  });

  it('every bad header, length and number is a typed error at its offset', () => {
    const b = encodeHeartbeatFrame(frame);
    const at = (i: number, v: number) => {
      const c = b.slice();
      c[i] = v;
      return c;
    };
    expect(codeOf(() => decodeHeartbeatFrame(b.subarray(0, 3)))).toBe('truncated');
    expect(codeOf(() => decodeHeartbeatFrame(b.subarray(0, 27)))).toBe('truncated');
    expect(codeOf(() => decodeHeartbeatFrame(Uint8Array.of(...b, 0)))).toBe('trailing-bytes');
    expect(codeOf(() => decodeHeartbeatFrame(at(0, 0x45)))).toBe('bad-magic');
    expect(codeOf(() => decodeHeartbeatFrame(at(1, 2)))).toBe('bad-version');
    expect(codeOf(() => decodeHeartbeatFrame(at(2, 0)))).toBe('unknown-type');
    expect(codeOf(() => decodeHeartbeatFrame(at(2, 7)))).toBe('unknown-type');
    expect(codeOf(() => decodeHeartbeatFrame(at(2, 255)))).toBe('unknown-type');
    expect(codeOf(() => decodeHeartbeatFrame(at(3, 2)))).toBe('bad-value');
    expect(codeOf(() => decodeHeartbeatFrame(at(12, 0x00).map((x, i) => (i === 12 ? 0xff : x))))).toBe('bad-value');
    expect(codeOf(() => decodeHeartbeatFrame(at(20, 0xff)))).toBe('bad-value');
    expect(codeOf(() => encodeHeartbeatFrame({ ...frame, seq: -1 }))).toBe('bad-value');
    expect(codeOf(() => encodeHeartbeatFrame({ ...frame, sender: 'node-a' }))).toBe('bad-value');
    expect(codeOf(() => encodeHeartbeatFrame({ ...frame, type: 'hello' as never }))).toBe('bad-value');
  });

  it('property: encode/decode round-trips every frame, plaintext and sealed, from sliced buffers', () => {
    fc.assert(
      fc.property(frames, fc.boolean(), (f, sealed) => {
        const k = sealed ? ring : undefined;
        expect(decodeHeartbeatFrame(sliced(encodeHeartbeatFrame(f, k)), k)).toEqual(f);
      }),
      { numRuns: 500 },
    );
  });

  it('fuzz: arbitrary bytes and mutated frames decode or throw CodecError, nothing else', () => {
    const valid = [encodeHeartbeatFrame(frame), encodeHeartbeatFrame(frame, ring)];
    const inputs = fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 1, max: 255 })).map(([b, i, x]) => {
        const c = b.slice();
        c[i % c.length]! ^= x;
        return c;
      }),
      fc.tuple(fc.constantFrom(...valid), fc.nat()).map(([b, n]) => b.subarray(0, n % (b.length + 1))),
    );
    fc.assert(
      fc.property(inputs, fc.boolean(), (bytes, withRing) => {
        try {
          const f = decodeHeartbeatFrame(sliced(bytes), withRing ? ring : undefined);
          expect(Number.isSafeInteger(f.seq) && Number.isSafeInteger(f.boot)).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(CodecError);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
