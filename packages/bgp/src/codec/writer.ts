/**
 * A bounds-checked byte writer over a reusable scratch buffer (internal). Encoders write a whole message here, then
 * copy it out once at its exact length; encoding is synchronous, so one scratch buffer per module is safe.
 */

/** Room for the largest message plus one maximal unchecked write. */
const SCRATCH_SIZE = 65535 + 4096;

/** The writer state: `buf`/`view` over the scratch, `pos` the next free octet, `limit` the message's maximum end. */
export class Writer {
  readonly buf: Uint8Array;
  readonly view: DataView;
  pos = 0;
  limit = 0;

  constructor(size = SCRATCH_SIZE) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Starts a message that may be at most `limit` octets long. */
  reset(limit: number): void {
    this.pos = 0;
    this.limit = limit;
  }

  /** Throws RangeError unless `n` more octets fit within the message limit. */
  ensure(n: number): void {
    if (this.pos + n > this.limit)
      throw new RangeError(`message too long: more than ${this.limit} octets (the negotiated maximum)`);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.pos, v);
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, v);
    this.pos += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}

/** The shared writer used by every encoder of this codec. */
export const writer = new Writer();

/** Copies the written message out: into `target` at `offset` when given (returning that view), else a new array. */
export function takeMessage(w: Writer, target: Uint8Array | undefined, offset: number): Uint8Array {
  const n = w.pos;
  if (target === undefined) return w.buf.slice(0, n);
  if (!Number.isInteger(offset) || offset < 0 || offset + n > target.length)
    throw new RangeError(`buffer too small: need ${n} octets at offset ${offset}, have ${target.length - offset}`);
  target.set(w.buf.subarray(0, n), offset);
  return target.subarray(offset, offset + n);
}

/** Checks an unsigned integer field before writing it. */
export function checkUint(name: string, v: unknown, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max)
    throw new RangeError(`${name} must be an integer from 0 to ${max}, got ${String(v)}`);
  return v;
}

/**
 * A copy of `b[start, end)` as a plain Uint8Array. (`Buffer#slice` returns a view, not a copy, so decoders never call
 * `.slice` on their input: a decoded message must not alias a socket's buffer.)
 */
export function copyBytes(b: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(b.subarray(start, end));
  return out;
}
