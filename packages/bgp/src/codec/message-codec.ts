import { BgpError } from './bgp-error.js';
import {
  ErrorCode,
  HEADER_LENGTH,
  HeaderErrorSubcode,
  KEEPALIVE_LENGTH,
  MARKER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
  MIN_NOTIFICATION_LENGTH,
  MIN_OPEN_LENGTH,
  MIN_UPDATE_LENGTH,
  ROUTE_REFRESH_LENGTH,
  RouteRefreshErrorSubcode,
  RouteRefreshSubtype,
} from './constants.js';
import { decodeOpen, encodeOpen } from './open-codec.js';
import type { BgpMessage, CodecOptions } from './types.js';
import { decodeUpdate, encodeUpdate } from './update-codec.js';
import { checkUint, copyBytes, takeMessage, type Writer, writer } from './writer.js';

const EMPTY = new Uint8Array(0);

/** The largest length a message of `type` may have under `options` (RFC 4271 §4.1, RFC 8654 §4). */
export function maxMessageLength(type: number, options: CodecOptions): number {
  if (type === MessageType.OPEN || type === MessageType.KEEPALIVE) return MAX_MESSAGE_LENGTH;
  return options.extendedMessages ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

function typeCode(message: BgpMessage): number {
  switch (message.type) {
    case 'open':
      return MessageType.OPEN;
    case 'update':
      return MessageType.UPDATE;
    case 'notification':
      return MessageType.NOTIFICATION;
    case 'keepalive':
      return MessageType.KEEPALIVE;
    case 'route-refresh':
      return MessageType.ROUTE_REFRESH;
    default:
      throw new RangeError(`unknown message type ${JSON.stringify((message as { type?: unknown })?.type)}`);
  }
}

/** Writes a whole message into `w` from position 0. */
function writeMessage(w: Writer, message: BgpMessage, options: CodecOptions): void {
  const type = typeCode(message);
  w.reset(maxMessageLength(type, options));
  w.ensure(HEADER_LENGTH);
  w.buf.fill(0xff, 0, MARKER_LENGTH);
  w.buf[18] = type;
  w.pos = HEADER_LENGTH;
  switch (message.type) {
    case 'open':
      encodeOpen(w, message);
      break;
    case 'update':
      encodeUpdate(w, message, options);
      break;
    case 'notification':
      w.u8(checkUint('code', message.code, 0xff));
      w.u8(checkUint('subcode', message.subcode, 0xff));
      w.bytes(message.data ?? EMPTY);
      break;
    case 'keepalive':
      break;
    case 'route-refresh':
      w.u16(checkUint('afi', message.afi, 0xffff));
      w.u8(checkUint('subtype', message.subtype ?? 0, 0xff));
      w.u8(checkUint('safi', message.safi, 0xff));
      break;
  }
  w.view.setUint16(MARKER_LENGTH, w.pos);
}

/**
 * Number of octets {@link encodeMessage} writes for `message` (header included).
 * @throws RangeError when the message cannot be encoded (an invalid value, or longer than the negotiated maximum).
 */
export function encodingLength(message: BgpMessage, options: CodecOptions = {}): number {
  writeMessage(writer, message, options);
  return writer.pos;
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
  writeMessage(writer, message, options);
  return takeMessage(writer, buffer, offset);
}

function u16(n: number): Uint8Array {
  return Uint8Array.of((n >>> 8) & 0xff, n & 0xff);
}

/**
 * Checks the header of the message at `offset` (RFC 4271 §6.1): marker, length within the limits for its type, known
 * type. Returns the message length, or -1 when fewer than 19 octets are available (the marker is checked on what there
 * is). Lengths beyond the available bytes are not an error here.
 * @throws BgpError Message Header Error (or ROUTE-REFRESH Message Error, RFC 7313 §5) with the RFC's data.
 */
export function checkHeader(bytes: Uint8Array, options: CodecOptions, offset = 0): number {
  const avail = bytes.length - offset;
  const m = Math.min(MARKER_LENGTH, avail);
  for (let i = 0; i < m; i++)
    if (bytes[offset + i] !== 0xff)
      throw new BgpError(
        ErrorCode.MESSAGE_HEADER,
        HeaderErrorSubcode.CONNECTION_NOT_SYNCHRONIZED,
        EMPTY,
        'marker is not all ones',
      );
  if (avail < HEADER_LENGTH) return -1;
  const length = (bytes[offset + 16]! << 8) | bytes[offset + 17]!;
  const type = bytes[offset + 18]!;
  const badLength = (why: string) =>
    new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderErrorSubcode.BAD_MESSAGE_LENGTH,
      u16(length),
      `length ${length}: ${why}`,
    );
  const absMax = options.extendedMessages ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
  if (length < HEADER_LENGTH || length > absMax) throw badLength(`outside ${HEADER_LENGTH}..${absMax}`);
  let min: number;
  switch (type) {
    case MessageType.OPEN:
      min = MIN_OPEN_LENGTH;
      break;
    case MessageType.UPDATE:
      min = MIN_UPDATE_LENGTH;
      break;
    case MessageType.NOTIFICATION:
      min = MIN_NOTIFICATION_LENGTH;
      break;
    case MessageType.KEEPALIVE:
      if (length !== KEEPALIVE_LENGTH) throw badLength('a KEEPALIVE is 19 octets');
      return length;
    case MessageType.ROUTE_REFRESH:
      if (length !== ROUTE_REFRESH_LENGTH) {
        // RFC 7313 §5: a BoRR/EoRR of the wrong length is ROUTE-REFRESH Message Error / Invalid Message Length with the
        // whole message as data; other subtypes keep RFC 4271's Bad Message Length
        if (length >= 22 && avail >= 22) {
          const subtype = bytes[offset + 21]!;
          if (subtype === RouteRefreshSubtype.BEGIN || subtype === RouteRefreshSubtype.END) {
            if (avail < length) return length; // wait for the whole message: it is the data
            throw new BgpError(
              ErrorCode.ROUTE_REFRESH_MESSAGE,
              RouteRefreshErrorSubcode.INVALID_MESSAGE_LENGTH,
              copyBytes(bytes, offset, offset + length),
              `ROUTE-REFRESH length ${length}`,
            );
          }
        } else if (length >= 22 && avail < 22) return length;
        throw badLength('a ROUTE-REFRESH is 23 octets');
      }
      return length;
    default:
      throw new BgpError(
        ErrorCode.MESSAGE_HEADER,
        HeaderErrorSubcode.BAD_MESSAGE_TYPE,
        Uint8Array.of(type),
        `unknown message type ${type}`,
      );
  }
  if (length < min) throw badLength(`too short for message type ${type}`);
  if (length > maxMessageLength(type, options)) throw badLength(`too long for message type ${type}`);
  return length;
}

/**
 * Decodes the message that starts at `offset` of `bytes` (bytes after its length are ignored).
 *
 * UPDATEs with malformed attributes that RFC 7606 handles without a session reset come back with `malformed` set.
 * @throws BgpError with the NOTIFICATION code, subcode and data that RFC 4271 §6 / RFC 7606 prescribe; never anything
 * else. A truncated input (fewer octets than the header's length) is Bad Message Length.
 */
export function decodeMessage(bytes: Uint8Array, options: CodecOptions = {}, offset = 0): BgpMessage {
  try {
    return decodeUnchecked(bytes, options, offset);
  } catch (err) {
    if (err instanceof BgpError) throw err;
    // defensive: no code path is known to get here; keep the promise that only BgpError escapes
    throw new BgpError(ErrorCode.MESSAGE_HEADER, 0, EMPTY, `internal decoder error: ${String(err)}`);
  }
}

function decodeUnchecked(bytes: Uint8Array, options: CodecOptions, offset: number): BgpMessage {
  if (!(bytes instanceof Uint8Array)) throw new BgpError(ErrorCode.MESSAGE_HEADER, 0, EMPTY, 'input is not bytes');
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length)
    throw new BgpError(ErrorCode.MESSAGE_HEADER, 0, EMPTY, `offset ${offset} out of range`);
  const length = checkHeader(bytes, options, offset);
  const avail = bytes.length - offset;
  if (length < 0 || avail < length) {
    const data = avail >= 18 ? u16((bytes[offset + 16]! << 8) | bytes[offset + 17]!) : EMPTY;
    throw new BgpError(
      ErrorCode.MESSAGE_HEADER,
      HeaderErrorSubcode.BAD_MESSAGE_LENGTH,
      data,
      `truncated message: ${avail} octets available`,
    );
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const body = offset + HEADER_LENGTH;
  const end = offset + length;
  switch (bytes[offset + 18]) {
    case MessageType.OPEN:
      return decodeOpen(bytes, v, body, end);
    case MessageType.UPDATE:
      return decodeUpdate(bytes, v, body, end, options);
    case MessageType.NOTIFICATION:
      return {
        type: 'notification',
        code: bytes[body]!,
        subcode: bytes[body + 1]!,
        data: copyBytes(bytes, body + 2, end),
      };
    case MessageType.KEEPALIVE:
      return { type: 'keepalive' };
    default:
      return { type: 'route-refresh', afi: v.getUint16(body), subtype: bytes[body + 2]!, safi: bytes[body + 3]! };
  }
}
