import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CodecError,
  decodeMessage,
  decodePacket,
  encodeMessage,
  encodePacket,
  type Message,
  messageEncodingLength,
  type Packet,
  packetEncodingLength,
} from '../src/index.js';

const name = fc.string({ maxLength: 40 }).filter((s) => new TextEncoder().encode(s).length <= 255);
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const address = fc.record({
  host: fc.oneof(
    fc.ipV4(),
    fc.constantFrom('2001:db8::1', '2001:db8:0:1::fe', 'fe80::1', '::1', '2001:db8:1:2:3:4:5:6'),
  ),
  port: fc.integer({ min: 0, max: 65535 }),
});
const labels = fc
  .dictionary(fc.string({ minLength: 1, maxLength: 12 }), fc.string({ maxLength: 20 }), { maxKeys: 6 })
  .filter((l) => !Object.hasOwn(l, '__proto__'));
const status = fc.constantFrom('alive' as const, 'suspect' as const, 'dead' as const, 'left' as const);

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ type: fc.constant('ping' as const), seq: u32, target: name, source: name }),
  fc.record({
    type: fc.constant('ping-req' as const),
    seq: u32,
    target: name,
    targetAddress: address,
    source: name,
    nack: fc.boolean(),
  }),
  fc.record({ type: fc.constant('ack' as const), seq: u32 }),
  fc.record({ type: fc.constant('nack' as const), seq: u32 }),
  fc.record({ type: fc.constant('suspect' as const), incarnation: u32, node: name, from: name }),
  fc.record({ type: fc.constant('dead' as const), incarnation: u32, node: name, from: name }),
  fc.record({ type: fc.constant('alive' as const), incarnation: u32, node: name, address, labels }),
  fc.record({
    type: fc.constant('push-pull' as const),
    join: fc.boolean(),
    source: name,
    members: fc.array(fc.record({ name, address, incarnation: u32, status, labels }), { maxLength: 5 }),
  }),
);
const packet: fc.Arbitrary<Packet> = fc.record({ messages: fc.array(message, { maxLength: 6 }) });

/** Copies `bytes` into a larger buffer at a nonzero offset (decoders must honour byteOffset). */
function sliced(bytes: Uint8Array, pad = 7): Uint8Array {
  const big = new Uint8Array(bytes.length + 2 * pad).fill(0xee);
  big.set(bytes, pad);
  return big.subarray(pad, pad + bytes.length);
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof CodecError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('codec: examples', () => {
  it('encodes a ping compactly and decodes it from a sliced buffer', () => {
    const p: Packet = { messages: [{ type: 'ping', seq: 0x01020304, target: 'b', source: 'a' }] };
    const bytes = encodePacket(p);
    expect([...bytes]).toEqual([0x49, 1, 1, 1, 8, 1, 2, 3, 4, 1, 0x62, 1, 0x61]);
    expect(bytes.length).toBe(packetEncodingLength(p));
    expect(decodePacket(sliced(bytes))).toEqual(p);
  });
  it('carries IPv4 and IPv6 addresses in 4 and 16 bytes, canonicalised', () => {
    const m: Message = {
      type: 'alive',
      incarnation: 3,
      node: 'n',
      address: { host: '2001:DB8:0:0::1', port: 7946 },
      labels: { zone: 'a' },
    };
    const back = decodeMessage(encodeMessage(m)) as Extract<Message, { type: 'alive' }>;
    expect(back.address).toEqual({ host: '2001:db8::1', port: 7946 });
    const v4 = encodeMessage({ ...m, address: { host: '192.0.2.1', port: 1 } });
    expect(v4.length).toBe(encodeMessage(m).length - 12);
  });
  it('throws typed errors with codes and offsets', () => {
    expect(codeOf(() => decodePacket(new Uint8Array([])))).toBe('truncated');
    expect(codeOf(() => decodePacket(Uint8Array.of(0x48, 1, 0)))).toBe('bad-magic');
    expect(codeOf(() => decodePacket(Uint8Array.of(0x49, 2, 0)))).toBe('bad-version');
    expect(codeOf(() => decodePacket(Uint8Array.of(0x49, 1, 1, 99, 0)))).toBe('unknown-type');
    expect(codeOf(() => decodePacket(Uint8Array.of(0x49, 1, 1, 3, 5, 0, 0, 0, 1, 9)))).toBe('trailing-bytes');
    expect(codeOf(() => decodePacket(Uint8Array.of(0x49, 1, 1, 3, 3, 0, 0, 0)))).toBe('truncated');
    expect(codeOf(() => decodePacket(Uint8Array.of(0x49, 1, 0, 0)))).toBe('trailing-bytes');
    expect(codeOf(() => decodePacket(Uint8Array.of(0x49, 1, 1, 3, 0xff, 0xff, 0xff, 0xff, 0x7f)))).toBe('bad-length');
    // ping with a target whose bytes are not UTF-8
    expect(codeOf(() => decodeMessage(Uint8Array.of(1, 8, 0, 0, 0, 1, 1, 0xff, 1, 0x61)))).toBe('bad-utf8');
    // alive with address family 5
    expect(codeOf(() => decodeMessage(Uint8Array.of(6, 9, 0, 0, 0, 1, 1, 0x61, 5, 0, 0)))).toBe('bad-address');
    // push-pull with status 9
    const pp = encodeMessage({
      type: 'push-pull',
      join: false,
      source: 's',
      members: [{ name: 'n', address: { host: '192.0.2.1', port: 1 }, incarnation: 0, status: 'alive', labels: {} }],
    });
    const bad = pp.slice();
    bad[bad.length - 2] = 9;
    expect(codeOf(() => decodeMessage(bad))).toBe('bad-state');
    // member count larger than the body can hold
    expect(codeOf(() => decodeMessage(Uint8Array.of(8, 5, 0, 1, 0x73, 0xff, 0x7f)))).toBe('bad-length');
    const e = (() => {
      try {
        decodePacket(Uint8Array.of(0x49, 2, 0));
      } catch (x) {
        return x as CodecError;
      }
    })();
    expect(e?.offset).toBe(1);
  });
  it('refuses to encode out-of-range values with typed errors', () => {
    expect(codeOf(() => encodeMessage({ type: 'ack', seq: -1 }))).toBe('bad-value');
    expect(codeOf(() => encodeMessage({ type: 'ping', seq: 1, target: 'x'.repeat(256), source: 'a' }))).toBe(
      'too-large',
    );
    expect(
      codeOf(() =>
        encodeMessage({ type: 'alive', incarnation: 1, node: 'n', address: { host: 'nope', port: 1 }, labels: {} }),
      ),
    ).toBe('bad-address');
    expect(
      codeOf(() =>
        encodeMessage({
          type: 'alive',
          incarnation: 1,
          node: 'n',
          address: { host: '192.0.2.1', port: 70000 },
          labels: {},
        }),
      ),
    ).toBe('bad-value');
    const many = Array.from({ length: 256 }, () => ({ type: 'ack' as const, seq: 1 }));
    expect(codeOf(() => encodePacket({ messages: many }))).toBe('too-large');
  });
});

describe('codec: properties', () => {
  it('round-trips every message and packet, also from sliced buffers, with exact encodingLength', () => {
    fc.assert(
      fc.property(packet, (p) => {
        const bytes = encodePacket(p);
        expect(bytes.length).toBe(packetEncodingLength(p));
        const back = decodePacket(sliced(bytes));
        expect(encodePacket(back)).toEqual(bytes);
        for (const m of p.messages) {
          const mb = encodeMessage(m);
          expect(mb.length).toBe(messageEncodingLength(m));
          expect(encodeMessage(decodeMessage(sliced(mb)))).toEqual(mb);
        }
      }),
      { numRuns: 300 },
    );
  });
  it('decodes arbitrary bytes to a packet or a CodecError, nothing else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
        for (const input of [bytes, Uint8Array.of(0x49, 1, ...bytes.subarray(0, 199))]) {
          try {
            decodePacket(sliced(input));
          } catch (e) {
            expect(e).toBeInstanceOf(CodecError);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
  it('decodes mutated and truncated valid packets to a packet or a CodecError, nothing else', () => {
    fc.assert(
      fc.property(
        packet,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
        fc.nat(),
        (p, flips, cut) => {
          const bytes = encodePacket(p);
          for (const [at, v] of flips) if (bytes.length > 0) bytes[at % bytes.length] = v;
          for (const input of [bytes, bytes.subarray(0, cut % (bytes.length + 1))]) {
            try {
              const back = decodePacket(sliced(input));
              // whatever decodes must re-encode
              encodePacket(back);
            } catch (e) {
              expect(e).toBeInstanceOf(CodecError);
            }
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
