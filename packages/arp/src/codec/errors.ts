import { CodecError as BaseCodecError } from '@ingot/net';

/** The protocol layer a {@link CodecError} was raised in. */
export type CodecProtocol = 'ethernet' | 'arp' | 'ipv6' | 'icmpv6' | 'address';

/**
 * Machine-readable reason of a {@link CodecError}.
 *
 * - `truncated`: the buffer ends before the field being read.
 * - `unsupported-*`: a well-formed value this codec does not handle (e.g. an ARP hardware type other than Ethernet,
 *   an ICMPv6 type other than Neighbor Solicitation / Advertisement).
 * - `bad-*`: a value that violates the protocol (RFC 826 / RFC 8200 / RFC 4861 validation rules).
 * - `invalid-field`: an encoder was given a value that cannot be encoded.
 */
export type CodecErrorCode =
  | 'truncated'
  | 'unsupported-ethertype'
  | 'unsupported-hardware-type'
  | 'unsupported-protocol-type'
  | 'bad-address-length'
  | 'bad-version'
  | 'bad-payload-length'
  | 'unsupported-next-header'
  | 'bad-checksum'
  | 'bad-hop-limit'
  | 'bad-code'
  | 'unsupported-type'
  | 'bad-option-length'
  | 'bad-target'
  | 'bad-source'
  | 'bad-destination'
  | 'invalid-field';

/**
 * The only error type thrown by the codec. Carries the protocol layer, a stable code, and the byte offset (relative to
 * the start of the buffer passed to the decoder) where the problem was found. A subclass of `@ingot/net`'s
 * `CodecError`, the base of every @ingot codec's error.
 *
 * @example
 * ```ts
 * import { CodecError, decodeArp } from '@ingot/arp';
 * try { decodeArp(new Uint8Array(10)); } catch (e) { if (e instanceof CodecError) console.log(e.protocol, e.code); }
 * // arp truncated
 * ```
 */
export class CodecError extends BaseCodecError<CodecErrorCode> {
  override readonly name = 'CodecError';
  /** Protocol layer that rejected the input. */
  readonly protocol: CodecProtocol;

  /**
   * @param protocol - the layer that rejected the input
   * @param code - stable reason code
   * @param message - detail
   * @param offset - byte offset of the offending field, or -1 for encoder input errors
   */
  constructor(protocol: CodecProtocol, code: CodecErrorCode, message: string, offset = -1) {
    super(code, `${protocol}: ${code}: ${message}`, offset);
    this.protocol = protocol;
  }
}

/** @internal Throws a `truncated` error unless `count` bytes are available at `offset` before `end`. */
export function need(protocol: CodecProtocol, offset: number, count: number, end: number, what: string): void {
  if (offset + count > end) {
    throw new CodecError(
      protocol,
      'truncated',
      `${what} needs ${count} bytes, ${Math.max(0, end - offset)} left`,
      offset,
    );
  }
}
