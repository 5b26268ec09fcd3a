import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CodecError } from '../src/errors.js';
import { metallbSecretKey } from '../src/keyring.js';
import { lzwCompress, lzwDecompress } from '../src/memberlist/lzw.js';
import { decodeMlMessage, encodeMlMessage, type MlMessage } from '../src/memberlist/messages.js';
import {
  ByteWriter,
  decodeMsgpack,
  MAX_MSGPACK_DEPTH,
  writeInt,
  writeRaw,
  writeUint,
} from '../src/memberlist/msgpack.js';
import { openMlPacket, sealMlPacket, splitMlCompound } from '../src/memberlist/packet.js';
import { mlDecrypt, mlEncrypt, mlEncryptedLength } from '../src/memberlist/security.js';
import { encodeMlStreamMessage, type MlStreamMessage, readMlStream, sealMlStream } from '../src/memberlist/stream.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const bytesOf = (f: (w: ByteWriter) => void) => {
  const w = new ByteWriter();
  f(w);
  return hex(w.finish());
};

/** Throws only CodecError (or nothing). */
function onlyCodecErrors(f: () => unknown): void {
  try {
    f();
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
  }
}

describe('msgpack as go-msgpack writes it', () => {
  it('signed Go ints take signed forms, unsigned ones unsigned forms', () => {
    expect(bytesOf((w) => writeInt(w, 127))).toBe('7f');
    expect(bytesOf((w) => writeInt(w, 128))).toBe('d10080');
    expect(bytesOf((w) => writeInt(w, 40000))).toBe('d200009c40');
    expect(bytesOf((w) => writeInt(w, -1))).toBe('ff');
    expect(bytesOf((w) => writeInt(w, -33))).toBe('d0df');
    expect(bytesOf((w) => writeUint(w, 128))).toBe('cc80');
    expect(bytesOf((w) => writeUint(w, 65535))).toBe('cdffff');
    expect(bytesOf((w) => writeUint(w, 65536))).toBe('ce00010000');
    expect(() => writeUint(new ByteWriter(), -1)).toThrow(CodecError);
  });

  it('raw is fixstr, str16 or str32 (never str8 or bin); nil slices are nil', () => {
    expect(bytesOf((w) => writeRaw(w, new Uint8Array(31)))).toMatch(/^bf/);
    expect(bytesOf((w) => writeRaw(w, new Uint8Array(32)))).toMatch(/^da0020/);
    expect(bytesOf((w) => writeRaw(w, null))).toBe('c0');
    expect(bytesOf((w) => writeRaw(w, new Uint8Array(0)))).toBe('a0');
  });

  it('decodes every form a peer may send: str8, bin, floats, ext, 64-bit ints', () => {
    expect(decodeMsgpack(Uint8Array.from([0xd9, 2, 0x61, 0x62]))).toEqual(Uint8Array.from([0x61, 0x62]));
    expect(decodeMsgpack(Uint8Array.from([0xc4, 1, 7]))).toEqual(Uint8Array.from([7]));
    expect(decodeMsgpack(Uint8Array.from([0xcb, 0x3f, 0xf0, 0, 0, 0, 0, 0, 0]))).toBe(1);
    expect(decodeMsgpack(Uint8Array.from([0xd4, 1, 9]))).toEqual(Uint8Array.from([9]));
    expect(decodeMsgpack(Uint8Array.from([0xcf, 0, 0, 0, 1, 0, 0, 0, 0]))).toBe(2 ** 32);
    expect(decodeMsgpack(Uint8Array.from([0xd3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe]))).toBe(-2);
  });

  it('refuses deep nesting, huge declared containers, reserved bytes and trailing bytes', () => {
    const deep = new Uint8Array(MAX_MSGPACK_DEPTH + 3).fill(0x91);
    expect(() => decodeMsgpack(deep)).toThrow(expect.objectContaining({ code: 'too-large' }));
    expect(() => decodeMsgpack(Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]))).toThrow(
      expect.objectContaining({ code: 'truncated' }),
    );
    expect(() => decodeMsgpack(Uint8Array.from([0xc1]))).toThrow(expect.objectContaining({ code: 'unknown-type' }));
    expect(() => decodeMsgpack(Uint8Array.from([1, 2]))).toThrow(expect.objectContaining({ code: 'trailing-bytes' }));
  });

  it('fuzz: random bytes decode or throw CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => onlyCodecErrors(() => decodeMsgpack(b))),
      { numRuns: 2000 },
    );
  });
});

describe('LZW as Go compress/lzw (LSB, 8-bit literals)', () => {
  it('empty input is clear + end code, as Go writes it', () => {
    expect(hex(lzwCompress(new Uint8Array(0)))).toBe('000302');
    expect(lzwDecompress(lzwCompress(new Uint8Array(0)), 10)).toEqual(new Uint8Array(0));
  });

  it('round-trips any input, including ones that fill the 4096-code table', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), (b) => {
        expect(lzwDecompress(lzwCompress(b), b.length)).toEqual(b);
      }),
      { numRuns: 200 },
    );
    const big = new Uint8Array(40_000);
    for (let i = 0; i < big.length; i++) big[i] = ((i * 7919) % 251) ^ (i >> 5);
    expect(lzwDecompress(lzwCompress(big), big.length)).toEqual(big);
  });

  it('stops at the output bound and refuses data without an end code', () => {
    const c = lzwCompress(new Uint8Array(5000));
    expect(() => lzwDecompress(c, 4999)).toThrow(expect.objectContaining({ code: 'too-large' }));
    expect(() => lzwDecompress(c.subarray(0, c.length - 2), 5000)).toThrow(
      expect.objectContaining({ code: 'truncated' }),
    );
  });

  it('fuzz: random bytes decompress or throw CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => onlyCodecErrors(() => lzwDecompress(b, 1 << 16))),
      { numRuns: 2000 },
    );
  });
});

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const name = fc.string({ maxLength: 40 });
const raw = fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null });
const addr = fc.constantFrom(
  Uint8Array.from([192, 0, 2, 1]),
  Uint8Array.from([32, 1, 13, 184, ...new Array(12).fill(0)]),
);

const message: fc.Arbitrary<MlMessage> = fc.oneof(
  fc.record(
    {
      type: fc.constant('ping' as const),
      seqNo: u32,
      node: name,
      sourceAddr: addr,
      sourcePort: fc.integer({ min: 1, max: 0xffff }),
      sourceNode: name.filter((s) => s !== ''),
    },
    { requiredKeys: ['type', 'seqNo', 'node'] },
  ),
  fc.record({
    type: fc.constant('indirect-ping' as const),
    seqNo: u32,
    target: raw,
    port: u16,
    node: name,
    nack: fc.boolean(),
  }),
  fc.record({ type: fc.constant('ack' as const), seqNo: u32, payload: raw }),
  fc.record({ type: fc.constant('nack' as const), seqNo: u32 }),
  fc.record({ type: fc.constant('suspect' as const), incarnation: u32, node: name, from: name }),
  fc.record({ type: fc.constant('dead' as const), incarnation: u32, node: name, from: name }),
  fc.record({
    type: fc.constant('alive' as const),
    incarnation: u32,
    node: name,
    addr: raw,
    port: u16,
    meta: raw,
    vsn: fc.option(fc.uint8Array({ minLength: 6, maxLength: 6 }), { nil: null }),
  }),
  fc.record({ type: fc.constant('user' as const), payload: fc.uint8Array({ maxLength: 60 }) }),
  fc.record({ type: fc.constant('err' as const), error: name }),
);

describe('memberlist messages', () => {
  it('every message round-trips', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(decodeMlMessage(encodeMlMessage(m))).toEqual(m);
      }),
      { numRuns: 1000 },
    );
  });

  it('decodes fields in any order and skips unknown ones, as go-msgpack does', () => {
    // {"Zzz": 1, "SeqNo": 9} as a nack
    const b = Uint8Array.from([11, 0x82, 0xa3, 0x5a, 0x7a, 0x7a, 1, 0xa5, ...Buffer.from('SeqNo'), 9]);
    expect(decodeMlMessage(b)).toEqual({ type: 'nack', seqNo: 9 });
    expect(() => decodeMlMessage(Uint8Array.from([11, 0x81, 0xa5, ...Buffer.from('SeqNo'), 0xff]))).toThrow(
      expect.objectContaining({ code: 'bad-value' }),
    );
    expect(() => decodeMlMessage(Uint8Array.from([42]))).toThrow(expect.objectContaining({ code: 'unknown-type' }));
  });
});

const key = metallbSecretKey('c2VjcmV0LXNlY3JldC0xMg');
const security = fc.record({
  label: fc.constantFrom('', 'ingot', 'x'.repeat(255)),
  keys: fc.constantFrom([] as Uint8Array[], [key], [key, metallbSecretKey('other')]),
});

describe('memberlist packets', () => {
  it('seal then open gives the messages back, whatever the options', () => {
    fc.assert(
      fc.property(
        fc.array(message, { minLength: 1, maxLength: 8 }),
        security,
        fc.boolean(),
        fc.boolean(),
        fc.constantFrom(0 as const, 1 as const),
        (msgs, sec, compress, crc, encryptionVersion) => {
          const p = sealMlPacket(msgs.map(encodeMlMessage), { ...sec, compress, crc, encryptionVersion });
          const opened = openMlPacket(p, sec);
          expect(opened.messages).toEqual(msgs);
          expect(opened.checksummed).toBe(crc);
          expect(opened.encrypted).toBe(sec.keys.length > 0);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('a rotated keyring opens what the old primary sealed', () => {
    const old = metallbSecretKey('old-secret');
    const p = sealMlPacket([encodeMlMessage({ type: 'nack', seqNo: 1 })], {
      label: '',
      keys: [old],
      compress: false,
      crc: true,
    });
    expect(openMlPacket(p, { label: '', keys: [key, old] }).messages).toEqual([{ type: 'nack', seqNo: 1 }]);
    expect(() => openMlPacket(p, { label: '', keys: [key] })).toThrow(
      expect.objectContaining({ code: 'unauthenticated' }),
    );
  });

  it('a bad CRC is refused; plaintext is accepted with keys only when verifyIncoming is off', () => {
    const p = sealMlPacket([encodeMlMessage({ type: 'nack', seqNo: 1 })], {
      label: '',
      keys: [],
      compress: false,
      crc: true,
    });
    const bad = Uint8Array.from(p);
    bad[4] = (bad[4] as number) ^ 0xff;
    expect(() => openMlPacket(bad, { label: '', keys: [] })).toThrow(expect.objectContaining({ code: 'bad-checksum' }));
    expect(() => openMlPacket(p, { label: '', keys: [key] })).toThrow(
      expect.objectContaining({ code: 'unauthenticated' }),
    );
    expect(openMlPacket(p, { label: '', keys: [key], verifyIncoming: false }).messages).toHaveLength(1);
  });

  it('a compound whose lengths run past the end reports the truncated parts, as memberlist does', () => {
    expect(splitMlCompound(Uint8Array.from([2, 0, 1, 0, 5, 11, 1]))).toEqual({
      parts: [Uint8Array.from([11])],
      truncated: 1,
    });
    expect(() => splitMlCompound(Uint8Array.from([3, 0]))).toThrow(expect.objectContaining({ code: 'truncated' }));
  });

  it('version 0 (PKCS#7 padded) and version 1 seal to memberlist lengths and open', () => {
    for (const v of [0, 1] as const) {
      for (const n of [0, 1, 15, 16, 17, 100]) {
        const sealed = mlEncrypt(v, key, new Uint8Array(n).fill(7), Uint8Array.of(1));
        expect(sealed.length).toBe(mlEncryptedLength(v, n));
        expect(mlDecrypt([key], sealed, Uint8Array.of(1))).toEqual(new Uint8Array(n).fill(7));
        expect(() => mlDecrypt([key], sealed, Uint8Array.of(2))).toThrow(
          expect.objectContaining({ code: 'unauthenticated' }),
        );
      }
    }
    expect(() => mlDecrypt([key], Uint8Array.of(2, ...new Uint8Array(40)), new Uint8Array(0))).toThrow(
      expect.objectContaining({ code: 'bad-version' }),
    );
  });

  it('fuzz: random and mutated packets open or throw CodecError', () => {
    const valid = sealMlPacket(
      [
        encodeMlMessage({
          type: 'alive',
          incarnation: 3,
          node: 'n1',
          addr: Uint8Array.of(192, 0, 2, 1),
          port: 7946,
          meta: null,
          vsn: Uint8Array.of(1, 5, 2, 0, 0, 0),
        }),
        encodeMlMessage({ type: 'nack', seqNo: 4 }),
      ],
      { label: '', keys: [], compress: true, crc: true },
    );
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), security, (b, sec) => onlyCodecErrors(() => openMlPacket(b, sec))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.integer({ min: 0, max: 255 }), (i, v) => {
        const m = Uint8Array.from(valid);
        m[i] = v;
        onlyCodecErrors(() => openMlPacket(m, { label: '', keys: [], verifyIncoming: true }));
      }),
      { numRuns: 2000 },
    );
  });
});

const nodeState = fc.record({
  name,
  addr: raw,
  port: u16,
  meta: raw,
  incarnation: u32,
  state: fc.integer({ min: 0, max: 3 }),
  vsn: raw,
});
const streamMessage: fc.Arbitrary<MlStreamMessage> = fc.oneof(
  fc.record({
    type: fc.constant('push-pull' as const),
    join: fc.boolean(),
    nodes: fc.array(nodeState, { maxLength: 20 }),
    userState: fc.option(fc.uint8Array({ minLength: 1, maxLength: 50 }), { nil: null }),
  }),
  fc.record({ type: fc.constant('user' as const), payload: fc.uint8Array({ maxLength: 60 }) }),
  fc.record({ type: fc.constant('ack' as const), seqNo: u32, payload: raw }),
  fc.record({ type: fc.constant('err' as const), error: name }),
);

describe('memberlist streams', () => {
  it('seal then read gives the message back and consumes exactly its bytes; any prefix is truncated', () => {
    fc.assert(
      fc.property(streamMessage, security, fc.boolean(), fc.boolean(), (m, sec, compress, labelHeader) => {
        const s = sealMlStream(encodeMlStreamMessage(m), { ...sec, compress, labelHeader });
        const withTail = new Uint8Array(s.length + 3);
        withTail.set(s);
        const read = readMlStream(withTail, { ...sec, labelHeader: labelHeader || sec.label === '' });
        expect(read.message).toEqual(m);
        expect(read.consumed).toBe(s.length);
        const cut = Math.floor(s.length / 2);
        expect(() => readMlStream(s.subarray(0, cut), { ...sec, labelHeader })).toThrow(
          expect.objectContaining({ code: 'truncated' }),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an encrypted length over 20 MiB before reading it', () => {
    const b = Uint8Array.of(10, 0x02, 0, 0, 0);
    expect(() => readMlStream(b, { label: '', keys: [key], labelHeader: false })).toThrow(
      expect.objectContaining({ code: 'too-large' }),
    );
  });

  it('fuzz: random streams read or throw CodecError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), security, fc.boolean(), (b, sec, labelHeader) =>
        onlyCodecErrors(() => readMlStream(b, { ...sec, labelHeader })),
      ),
      { numRuns: 2000 },
    );
  });
});
