import { BgpError } from './bgp-error.js';
import { ErrorCode, HEADER_LENGTH } from './constants.js';
import { checkHeader, decodeMessage } from './message-codec.js';
import type { BgpMessage, CodecOptions } from './types.js';

/**
 * Splits a TCP byte stream into BGP messages. Push chunks of any size, then pull whole frames or decoded messages.
 *
 * The header is checked (marker, length, type: RFC 4271 §6.1) as soon as its octets arrive, so a bad stream fails
 * before its body is awaited, and a message is assembled only up to its checked length: the decoder never waits for
 * or allocates more than one maximum message. Frames that sit inside one pushed chunk are returned as views (no copy).
 * After a {@link BgpError} the stream is unusable: every later call throws the same error.
 */
export class MessageDecoder {
  /** Options used for header limits and by {@link MessageDecoder.next}; update them after the OPEN exchange. */
  options: CodecOptions;
  private chunks: Uint8Array[] = [];
  /** Read position in `chunks[0]`. */
  private head = 0;
  private buffered = 0;
  private failure: BgpError | undefined;

  /** @param options - negotiated options for the receive direction (defaults until the OPEN exchange). */
  constructor(options: CodecOptions = {}) {
    this.options = options;
  }

  /** Octets received but not yet returned as a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Appends a chunk of the stream (kept by reference until consumed: do not modify it afterwards). */
  push(chunk: Uint8Array): void {
    if (this.failure) throw this.failure;
    if (!(chunk instanceof Uint8Array))
      throw this.fail(new BgpError(ErrorCode.MESSAGE_HEADER, 0, undefined, 'chunk is not a Uint8Array'));
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
  }

  private fail(err: BgpError): BgpError {
    this.failure = err;
    this.chunks = [];
    this.buffered = 0;
    this.head = 0;
    return err;
  }

  /** Copies the first `n` buffered octets into a new array (without consuming them). */
  private peek(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let got = 0;
    let off = this.head;
    for (const c of this.chunks) {
      const take = Math.min(n - got, c.length - off);
      out.set(c.subarray(off, off + take), got);
      got += take;
      off = 0;
      if (got === n) break;
    }
    return out;
  }

  /** Consumes `n` octets. */
  private skip(n: number): void {
    this.buffered -= n;
    while (n > 0) {
      const c = this.chunks[0]!;
      const left = c.length - this.head;
      if (n < left) {
        this.head += n;
        return;
      }
      n -= left;
      this.chunks.shift();
      this.head = 0;
    }
  }

  /**
   * The next whole message as raw bytes (header included, header already checked), or null when more bytes are needed.
   * @throws BgpError Message Header Error for a bad marker, length or type.
   */
  nextFrame(): Uint8Array | null {
    if (this.failure) throw this.failure;
    if (this.buffered === 0) return null;
    const first = this.chunks[0]!;
    const inFirst = first.length - this.head;
    // fast path: the header (or what there is of it) lies in the first chunk
    const headerView =
      inFirst >= HEADER_LENGTH || inFirst === this.buffered
        ? first.subarray(this.head, this.head + Math.min(inFirst, HEADER_LENGTH + 4))
        : this.peek(Math.min(this.buffered, HEADER_LENGTH + 4));
    let length: number;
    try {
      length = checkHeader(headerView, this.options);
    } catch (err) {
      if (err instanceof BgpError && err.code !== ErrorCode.ROUTE_REFRESH_MESSAGE) throw this.fail(err);
      // ROUTE-REFRESH length errors carry the whole message: check again once it is all here
      length = ((headerView[16] ?? 0) << 8) | (headerView[17] ?? 0);
    }
    if (length < 0 || this.buffered < length) return null;
    let frame: Uint8Array;
    if (inFirst >= length) frame = first.subarray(this.head, this.head + length);
    else frame = this.peek(length);
    try {
      checkHeader(frame, this.options);
    } catch (err) {
      throw this.fail(err as BgpError);
    }
    this.skip(length);
    return frame;
  }

  /**
   * The next whole message decoded with {@link MessageDecoder.options}, or null when more bytes are needed.
   * @throws BgpError as {@link decodeMessage} does; the stream is unusable afterwards.
   */
  next(): BgpMessage | null {
    const frame = this.nextFrame();
    if (frame === null) return null;
    try {
      return decodeMessage(frame, this.options);
    } catch (err) {
      throw this.fail(err as BgpError);
    }
  }

  /** Pushes `chunk` and returns every whole message now available (decoded with the current options). */
  feed(chunk: Uint8Array): BgpMessage[] {
    this.push(chunk);
    const out: BgpMessage[] = [];
    for (let m = this.next(); m !== null; m = this.next()) out.push(m);
    return out;
  }
}
