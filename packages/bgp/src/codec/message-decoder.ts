import type { BgpMessage, CodecOptions } from './types.js';

/**
 * Splits a TCP byte stream into BGP messages. Push chunks of any size, then pull whole frames or decoded messages.
 * Checks the marker and the length as soon as they arrive, so it never waits for (or buffers) more than one maximum
 * message. After a {@link BgpError} the stream is unusable and every later call throws the same error.
 */
export class MessageDecoder {
  /** Options used by {@link MessageDecoder.next}; update them once the OPEN exchange has negotiated capabilities. */
  options: CodecOptions;

  /** @param options - negotiated options for the receive direction (defaults until the OPEN exchange). */
  constructor(options: CodecOptions = {}) {
    this.options = options;
  }

  /** Octets received but not yet returned as a frame. */
  get bufferedBytes(): number {
    return 0;
  }

  /** Appends a chunk of the stream (kept by reference until consumed: do not reuse it). */
  push(chunk: Uint8Array): void {
    void chunk;
  }

  /** The next whole message as raw bytes (header included), or null when more bytes are needed. */
  nextFrame(): Uint8Array | null {
    return null;
  }

  /** The next whole message decoded with {@link MessageDecoder.options}, or null when more bytes are needed. */
  next(): BgpMessage | null {
    return null;
  }

  /** Pushes `chunk` and returns every whole message now available (decoded with the current options). */
  feed(chunk: Uint8Array): BgpMessage[] {
    this.push(chunk);
    const out: BgpMessage[] = [];
    for (let m = this.next(); m !== null; m = this.next()) out.push(m);
    return out;
  }
}
