/**
 * The base of every codec's error: a stable machine-readable `code` and the byte `offset` of the problem. Each package
 * keeps its own subclass with its protocol's codes (`@ingot/arp`'s adds the protocol layer, `@ingot/election`'s the
 * memberlist reasons), so `catch (e) { if (e instanceof CodecError) … }` works for all of them.
 * @module
 */

/**
 * Thrown by a decoder for input it rejects, and by an encoder for a value it cannot encode.
 * @typeParam Code - the package's union of reason codes
 * @example
 * ```ts
 * class DnsError extends CodecError<'truncated' | 'bad-label'> {}
 * throw new DnsError('truncated', 'header needs 12 bytes, 3 left', 0); // message: "header needs 12 bytes, 3 left (at byte 0)"
 * ```
 */
export class CodecError<Code extends string = string> extends Error {
  override name = 'CodecError';
  /** Stable, machine-readable reason. */
  readonly code: Code;
  /** Byte offset of the problem from the start of the buffer handed to the decoder, or -1 (encoder input). */
  readonly offset: number;

  /**
   * @param code - machine-readable reason
   * @param message - human-readable detail; ` (at byte N)` is appended when `offset` is 0 or more
   * @param offset - byte offset of the problem, or -1
   */
  constructor(code: Code, message: string, offset = -1) {
    super(offset >= 0 ? `${message} (at byte ${offset})` : message);
    this.code = code;
    this.offset = offset;
  }
}
