/**
 * The subset of MessagePack that hashicorp/memberlist puts on the wire, as go-msgpack v2's `MsgpackHandle{}` writes it
 * (memberlist's util.go `encode`/`decode`, `WriteExt` false): structs are maps keyed by field name in byte order of the
 * names, strings and `[]byte` are both "raw" (fixstr / str16 / str32, never str8 or bin), nil slices are nil, unsigned
 * Go integers take the smallest unsigned form, signed ones the smallest signed form (128 is int16, not uint8).
 *
 * The decoder reads every MessagePack form (str8, bin, floats and ext are read and skipped or returned), checks bounds
 * before every read, bounds nesting and container lengths by the bytes left, and throws only {@link CodecError}.
 */
import { CodecError } from '../errors.js';

/** A decoded MessagePack value. Raw strings and binary both decode to Uint8Array (their Go type decides). */
export type MsgValue = null | boolean | number | bigint | Uint8Array | MsgValue[] | MsgMap;

/** A decoded map: entries in wire order, keys as decoded. */
export interface MsgMap {
  readonly kind: 'map';
  readonly entries: ReadonlyArray<readonly [MsgValue, MsgValue]>;
}

/** Deepest nesting the decoder accepts (memberlist's messages nest two levels). */
export const MAX_MSGPACK_DEPTH = 16;

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

/** A growable byte buffer the encoders append to. */
export class ByteWriter {
  private buf = new Uint8Array(256);
  private len = 0;

  /** Bytes written so far. */
  get length(): number {
    return this.len;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Append one byte. */
  u8(v: number): void {
    this.reserve(1);
    this.buf[this.len++] = v & 0xff;
  }

  /** Append a big-endian 16-bit value. */
  u16(v: number): void {
    this.u8(v >>> 8);
    this.u8(v);
  }

  /** Append a big-endian 32-bit value. */
  u32(v: number): void {
    this.u16(v >>> 16);
    this.u16(v & 0xffff);
  }

  /** Append bytes. */
  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** A copy of what was written. */
  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** Write nil. */
export function writeNil(w: ByteWriter): void {
  w.u8(0xc0);
}

/** Write a bool. */
export function writeBool(w: ByteWriter, v: boolean): void {
  w.u8(v ? 0xc3 : 0xc2);
}

function checkInteger(v: number, min: number, max: number): void {
  if (!Number.isSafeInteger(v) || v < min || v > max) {
    throw new CodecError('bad-value', `integer ${v} out of range ${min}..${max}`);
  }
}

/** Write an unsigned Go integer (uint8/16/32) in the smallest unsigned form, as go-msgpack's EncodeUint. */
export function writeUint(w: ByteWriter, v: number): void {
  checkInteger(v, 0, 0xffffffff);
  if (v <= 0x7f) w.u8(v);
  else if (v <= 0xff) {
    w.u8(0xcc);
    w.u8(v);
  } else if (v <= 0xffff) {
    w.u8(0xcd);
    w.u16(v);
  } else {
    w.u8(0xce);
    w.u32(v);
  }
}

/** Write a signed Go int in the smallest signed form, as go-msgpack's EncodeInt (32-bit range). */
export function writeInt(w: ByteWriter, v: number): void {
  checkInteger(v, -0x80000000, 0x7fffffff);
  if (v > 0x7f) {
    if (v <= 0x7fff) {
      w.u8(0xd1);
      w.u16(v);
    } else {
      w.u8(0xd2);
      w.u32(v >>> 0);
    }
  } else if (v >= -32) w.u8(v & 0xff);
  else if (v >= -128) {
    w.u8(0xd0);
    w.u8(v & 0xff);
  } else if (v >= -0x8000) {
    w.u8(0xd1);
    w.u16(v & 0xffff);
  } else {
    w.u8(0xd2);
    w.u32(v >>> 0);
  }
}

/** Write raw bytes as go-msgpack's legacy raw (fixstr / str16 / str32); `null` writes nil (a nil Go slice). */
export function writeRaw(w: ByteWriter, b: Uint8Array | null): void {
  if (b === null) {
    writeNil(w);
    return;
  }
  if (b.length < 32) w.u8(0xa0 | b.length);
  else if (b.length < 0x10000) {
    w.u8(0xda);
    w.u16(b.length);
  } else {
    w.u8(0xdb);
    w.u32(b.length);
  }
  w.bytes(b);
}

/** Write a Go string (UTF-8, legacy raw form). */
export function writeString(w: ByteWriter, s: string): void {
  writeRaw(w, utf8Encoder.encode(s));
}

/** Write a map header for `n` entries. */
export function writeMapHeader(w: ByteWriter, n: number): void {
  if (n < 16) w.u8(0x80 | n);
  else if (n < 0x10000) {
    w.u8(0xde);
    w.u16(n);
  } else {
    w.u8(0xdf);
    w.u32(n);
  }
}

/** Write an array header for `n` elements. */
export function writeArrayHeader(w: ByteWriter, n: number): void {
  if (n < 16) w.u8(0x90 | n);
  else if (n < 0x10000) {
    w.u8(0xdc);
    w.u16(n);
  } else {
    w.u8(0xdd);
    w.u32(n);
  }
}

/** Reads MessagePack values from `buf` starting at `offset`; {@link MsgReader.offset} advances. */
export class MsgReader {
  /**
   * @param buf - the bytes (not copied; values returned are copies)
   * @param offset - where to start
   * @param base - added to offsets in error messages (where `buf` starts in the caller's buffer)
   */
  constructor(
    readonly buf: Uint8Array,
    public offset = 0,
    private readonly base = 0,
  ) {}

  /** Bytes left. */
  get remaining(): number {
    return this.buf.length - this.offset;
  }

  private need(n: number): void {
    if (this.offset + n > this.buf.length) {
      throw new CodecError('truncated', `msgpack: need ${n} bytes, ${this.remaining} left`, this.base + this.offset);
    }
  }

  private u8(): number {
    this.need(1);
    return this.buf[this.offset++] as number;
  }

  private uN(n: 1 | 2 | 4): number {
    this.need(n);
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 256 + (this.buf[this.offset++] as number);
    return v;
  }

  private raw(n: number): Uint8Array {
    this.need(n);
    const out = this.buf.slice(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  private length(n: number, perItem: number): number {
    // Each item takes at least one byte: a longer container cannot be in the bytes left (this bounds the allocation).
    if (n * perItem > this.remaining) {
      throw new CodecError(
        'truncated',
        `msgpack: container of ${n} items, ${this.remaining} bytes left`,
        this.base + this.offset,
      );
    }
    return n;
  }

  /** Read one value. */
  value(depth = 0): MsgValue {
    if (depth > MAX_MSGPACK_DEPTH)
      throw new CodecError('too-large', 'msgpack: nested too deep', this.base + this.offset);
    const at = this.offset;
    const b = this.u8();
    if (b <= 0x7f) return b;
    if (b >= 0xe0) return b - 0x100;
    if ((b & 0xe0) === 0xa0) return this.raw(b & 0x1f);
    if ((b & 0xf0) === 0x90) return this.array(b & 0x0f, depth);
    if ((b & 0xf0) === 0x80) return this.map(b & 0x0f, depth);
    switch (b) {
      case 0xc0:
        return null;
      case 0xc2:
        return false;
      case 0xc3:
        return true;
      case 0xc4:
      case 0xd9:
        return this.raw(this.uN(1));
      case 0xc5:
      case 0xda:
        return this.raw(this.uN(2));
      case 0xc6:
      case 0xdb:
        return this.raw(this.uN(4));
      case 0xcc:
        return this.uN(1);
      case 0xcd:
        return this.uN(2);
      case 0xce:
        return this.uN(4);
      case 0xcf: {
        this.need(8);
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, 8).getBigUint64(0);
        this.offset += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
      }
      case 0xd0:
        return (this.uN(1) << 24) >> 24;
      case 0xd1:
        return (this.uN(2) << 16) >> 16;
      case 0xd2:
        return this.uN(4) | 0;
      case 0xd3: {
        this.need(8);
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, 8).getBigInt64(0);
        this.offset += 8;
        return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
      }
      case 0xca: {
        this.need(4);
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, 4).getFloat32(0);
        this.offset += 4;
        return v;
      }
      case 0xcb: {
        this.need(8);
        const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.offset, 8).getFloat64(0);
        this.offset += 8;
        return v;
      }
      case 0xdc:
        return this.array(this.uN(2), depth);
      case 0xdd:
        return this.array(this.uN(4), depth);
      case 0xde:
        return this.map(this.uN(2), depth);
      case 0xdf:
        return this.map(this.uN(4), depth);
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8: {
        // fixext 1/2/4/8/16: type byte, then data; returned as its data bytes
        const n = 1 << (b - 0xd4);
        this.u8();
        return this.raw(n);
      }
      case 0xc7:
      case 0xc8:
      case 0xc9: {
        const n = this.uN(b === 0xc7 ? 1 : b === 0xc8 ? 2 : 4);
        this.u8();
        return this.raw(n);
      }
      default:
        throw new CodecError('unknown-type', `msgpack: byte 0x${b.toString(16)} is not a value`, this.base + at);
    }
  }

  private array(n: number, depth: number): MsgValue[] {
    const count = this.length(n, 1);
    const out: MsgValue[] = [];
    for (let i = 0; i < count; i++) out.push(this.value(depth + 1));
    return out;
  }

  private map(n: number, depth: number): MsgMap {
    const count = this.length(n, 2);
    const entries: Array<readonly [MsgValue, MsgValue]> = [];
    for (let i = 0; i < count; i++) entries.push([this.value(depth + 1), this.value(depth + 1)]);
    return { kind: 'map', entries };
  }
}

/** Decode exactly one value from the whole of `buf` (trailing bytes are an error). */
export function decodeMsgpack(buf: Uint8Array): MsgValue {
  const r = new MsgReader(buf);
  const v = r.value();
  if (r.remaining !== 0)
    throw new CodecError('trailing-bytes', `msgpack: ${r.remaining} bytes after the value`, r.offset);
  return v;
}

/** Text of a raw value (UTF-8, as Go's string conversion would take it); invalid UTF-8 throws `bad-utf8`. */
export function rawText(v: Uint8Array, field: string): string {
  try {
    return utf8.decode(v);
  } catch {
    throw new CodecError('bad-utf8', `msgpack: field ${field} is not UTF-8`);
  }
}

/** True when `v` is a decoded map. */
export function isMap(v: MsgValue): v is MsgMap {
  return typeof v === 'object' && v !== null && !(v instanceof Uint8Array) && !Array.isArray(v);
}
