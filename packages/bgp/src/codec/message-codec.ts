import { BgpError } from './bgp-error.js';
import type { BgpMessage, CodecOptions } from './types.js';

/**
 * Number of octets {@link encodeMessage} writes for `message` (header included).
 * @throws RangeError when the message cannot be encoded (an invalid value, or longer than the negotiated maximum).
 */
export function encodingLength(message: BgpMessage, options: CodecOptions = {}): number {
  void message;
  void options;
  throw new BgpError(0, 0, undefined, 'not implemented yet');
}

/**
 * Encodes one message (header included). Writes into `buffer` at `offset` when given, else allocates exactly
 * {@link encodingLength} octets. Returns the written bytes (a view of `buffer` when given).
 * @throws RangeError when the message cannot be encoded (an invalid value, or longer than the negotiated maximum).
 */
export function encodeMessage(
  message: BgpMessage,
  options: CodecOptions = {},
  buffer?: Uint8Array,
  offset = 0,
): Uint8Array {
  void message;
  void options;
  void buffer;
  void offset;
  throw new BgpError(0, 0, undefined, 'not implemented yet');
}

/**
 * Decodes the message that starts at `offset` of `bytes` (bytes after its length are ignored).
 * @throws BgpError with the NOTIFICATION code, subcode and data that RFC 4271 §6 / RFC 7606 prescribe; never anything else.
 */
export function decodeMessage(bytes: Uint8Array, options: CodecOptions = {}, offset = 0): BgpMessage {
  void bytes;
  void options;
  void offset;
  throw new BgpError(0, 0, undefined, 'not implemented yet');
}
