import {
  BGP_VERSION,
  CeaseSubcode,
  ErrorCode,
  FsmErrorSubcode,
  HeaderErrorSubcode,
  OpenErrorSubcode,
  RouteRefreshErrorSubcode,
  UpdateErrorSubcode,
} from './constants.js';
import type { NotificationMessage } from './types.js';

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function note(code: number, subcode: number, data: Uint8Array = EMPTY): NotificationMessage {
  return { type: 'notification', code, subcode, data };
}

function u16(value: number): Uint8Array {
  return Uint8Array.of((value >>> 8) & 0xff, value & 0xff);
}

/** Maximum length in octets of an RFC 9003 shutdown communication. */
export const MAX_SHUTDOWN_COMMUNICATION_LENGTH = 255;

/**
 * The Data of an Administrative Shutdown / Reset Cease carrying a shutdown communication (RFC 9003 §2): one length
 * octet, then the UTF-8 text. Text longer than 255 octets is cut at a character boundary.
 */
export function encodeShutdownCommunication(text: string): Uint8Array {
  let bytes = encoder.encode(text);
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION_LENGTH) {
    let end = MAX_SHUTDOWN_COMMUNICATION_LENGTH;
    // back off to the start of a UTF-8 character (continuation octets are 0b10xxxxxx)
    while (end > 0 && ((bytes[end] ?? 0) & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const out = new Uint8Array(bytes.length + 1);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/**
 * The shutdown communication of a Cease / Administrative Shutdown (2) or Administrative Reset (4) NOTIFICATION
 * (RFC 9003 §2), or undefined when there is none or it is malformed (bad length or invalid UTF-8: RFC 9003 §4 says to
 * ignore it then).
 */
export function decodeShutdownCommunication(message: NotificationMessage): string | undefined {
  if (message.code !== ErrorCode.CEASE) return undefined;
  if (message.subcode !== CeaseSubcode.ADMINISTRATIVE_SHUTDOWN && message.subcode !== CeaseSubcode.ADMINISTRATIVE_RESET)
    return undefined;
  const data = message.data;
  if (data.length < 1) return undefined;
  const length = data[0]!;
  if (length === 0 || data.length < 1 + length) return undefined;
  try {
    return decoder.decode(data.subarray(1, 1 + length));
  } catch {
    return undefined;
  }
}

/**
 * Builders for every NOTIFICATION of RFC 4271 §4.5 / §6, RFC 4486 (Cease, with RFC 9003 shutdown communications),
 * RFC 5492, RFC 6608, RFC 7313, RFC 8538 and RFC 9384, with the Data field each RFC prescribes.
 * `attribute` arguments are the whole erroneous attribute (flags, type, length, value) as received.
 */
export const notifications = Object.freeze({
  /** Message Header Error / Connection Not Synchronized: the marker is not all ones (RFC 4271 §6.1). */
  connectionNotSynchronized: (): NotificationMessage =>
    note(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.CONNECTION_NOT_SYNCHRONIZED),
  /** Message Header Error / Bad Message Length; data = the erroneous Length field (RFC 4271 §6.1). */
  badMessageLength: (length: number): NotificationMessage =>
    note(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_LENGTH, u16(length)),
  /** Message Header Error / Bad Message Type; data = the erroneous Type field (RFC 4271 §6.1). */
  badMessageType: (type: number): NotificationMessage =>
    note(ErrorCode.MESSAGE_HEADER, HeaderErrorSubcode.BAD_MESSAGE_TYPE, Uint8Array.of(type & 0xff)),
  /**
   * OPEN Message Error / Unsupported Version Number; data = 2-octet largest supported version below the bid, else the
   * smallest supported (RFC 4271 §6.2). This codec supports version 4 only, so the data is 4.
   */
  unsupportedVersionNumber: (supported: number = BGP_VERSION): NotificationMessage =>
    note(ErrorCode.OPEN_MESSAGE, OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER, u16(supported)),
  /** OPEN Message Error / Bad Peer AS (RFC 4271 §6.2). */
  badPeerAs: (): NotificationMessage => note(ErrorCode.OPEN_MESSAGE, OpenErrorSubcode.BAD_PEER_AS),
  /** OPEN Message Error / Bad BGP Identifier (RFC 4271 §6.2, RFC 6286). */
  badBgpIdentifier: (): NotificationMessage => note(ErrorCode.OPEN_MESSAGE, OpenErrorSubcode.BAD_BGP_IDENTIFIER),
  /** OPEN Message Error / Unsupported Optional Parameter (RFC 4271 §6.2). */
  unsupportedOptionalParameter: (): NotificationMessage =>
    note(ErrorCode.OPEN_MESSAGE, OpenErrorSubcode.UNSUPPORTED_OPTIONAL_PARAMETER),
  /** OPEN Message Error / Unacceptable Hold Time (RFC 4271 §6.2). */
  unacceptableHoldTime: (): NotificationMessage =>
    note(ErrorCode.OPEN_MESSAGE, OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME),
  /**
   * OPEN Message Error / Unsupported Capability; data = the unsupported capabilities as (code, length, value) triples
   * (RFC 5492 §5). Pass them already encoded.
   */
  unsupportedCapability: (capabilities: Uint8Array = EMPTY): NotificationMessage =>
    note(ErrorCode.OPEN_MESSAGE, OpenErrorSubcode.UNSUPPORTED_CAPABILITY, capabilities),
  /** OPEN Message Error / Role Mismatch (RFC 9234 §4.2). */
  roleMismatch: (): NotificationMessage => note(ErrorCode.OPEN_MESSAGE, OpenErrorSubcode.ROLE_MISMATCH),
  /** OPEN Message Error / unspecific (subcode 0), e.g. a malformed recognized optional parameter (RFC 4271 §6.2). */
  openUnspecific: (): NotificationMessage => note(ErrorCode.OPEN_MESSAGE, OpenErrorSubcode.UNSPECIFIC),
  /** UPDATE Message Error / Malformed Attribute List (RFC 4271 §6.3). */
  malformedAttributeList: (): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST),
  /** UPDATE Message Error / Unrecognized Well-known Attribute; data = the attribute (RFC 4271 §6.3). */
  unrecognizedWellKnownAttribute: (attribute: Uint8Array): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE, attribute),
  /** UPDATE Message Error / Missing Well-known Attribute; data = the missing attribute's type code (RFC 4271 §6.3). */
  missingWellKnownAttribute: (type: number): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.MISSING_WELL_KNOWN_ATTRIBUTE, Uint8Array.of(type & 0xff)),
  /** UPDATE Message Error / Attribute Flags Error; data = the attribute (RFC 4271 §6.3). */
  attributeFlagsError: (attribute: Uint8Array): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.ATTRIBUTE_FLAGS_ERROR, attribute),
  /** UPDATE Message Error / Attribute Length Error; data = the attribute (RFC 4271 §6.3). */
  attributeLengthError: (attribute: Uint8Array): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR, attribute),
  /** UPDATE Message Error / Invalid ORIGIN Attribute; data = the attribute (RFC 4271 §6.3). */
  invalidOriginAttribute: (attribute: Uint8Array): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.INVALID_ORIGIN_ATTRIBUTE, attribute),
  /** UPDATE Message Error / Invalid NEXT_HOP Attribute; data = the attribute (RFC 4271 §6.3). */
  invalidNextHopAttribute: (attribute: Uint8Array): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.INVALID_NEXT_HOP_ATTRIBUTE, attribute),
  /** UPDATE Message Error / Optional Attribute Error; data = the attribute (RFC 4271 §6.3). */
  optionalAttributeError: (attribute: Uint8Array): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR, attribute),
  /** UPDATE Message Error / Invalid Network Field (RFC 4271 §6.3). */
  invalidNetworkField: (): NotificationMessage =>
    note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.INVALID_NETWORK_FIELD),
  /** UPDATE Message Error / Malformed AS_PATH (RFC 4271 §6.3). */
  malformedAsPath: (): NotificationMessage => note(ErrorCode.UPDATE_MESSAGE, UpdateErrorSubcode.MALFORMED_AS_PATH),
  /** Hold Timer Expired (RFC 4271 §6.5). */
  holdTimerExpired: (): NotificationMessage => note(ErrorCode.HOLD_TIMER_EXPIRED, 0),
  /**
   * Finite State Machine Error (RFC 4271 §6.6) with the RFC 6608 subcode for the state the unexpected message arrived
   * in; data = the type of the unexpected message (RFC 6608 §4) when given.
   */
  fsmError: (state?: 'OpenSent' | 'OpenConfirm' | 'Established', unexpectedMessageType?: number): NotificationMessage =>
    note(
      ErrorCode.FSM,
      state === 'OpenSent'
        ? FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT
        : state === 'OpenConfirm'
          ? FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM
          : state === 'Established'
            ? FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED
            : FsmErrorSubcode.UNSPECIFIED,
      unexpectedMessageType === undefined ? EMPTY : Uint8Array.of(unexpectedMessageType & 0xff),
    ),
  /**
   * Cease / Maximum Number of Prefixes Reached; data = AFI (2), SAFI (1), upper bound (4) when `family` is given
   * (RFC 4486 §4).
   */
  maximumPrefixesReached: (family?: { afi: number; safi: number; limit: number }): NotificationMessage => {
    if (!family) return note(ErrorCode.CEASE, CeaseSubcode.MAXIMUM_PREFIXES_REACHED);
    const d = new Uint8Array(7);
    const v = new DataView(d.buffer);
    v.setUint16(0, family.afi);
    v.setUint8(2, family.safi);
    v.setUint32(3, family.limit >>> 0);
    return note(ErrorCode.CEASE, CeaseSubcode.MAXIMUM_PREFIXES_REACHED, d);
  },
  /** Cease / Administrative Shutdown, with an optional RFC 9003 shutdown communication. */
  administrativeShutdown: (communication?: string): NotificationMessage =>
    note(
      ErrorCode.CEASE,
      CeaseSubcode.ADMINISTRATIVE_SHUTDOWN,
      communication ? encodeShutdownCommunication(communication) : EMPTY,
    ),
  /** Cease / Peer De-configured (RFC 4486 §4). */
  peerDeconfigured: (): NotificationMessage => note(ErrorCode.CEASE, CeaseSubcode.PEER_DECONFIGURED),
  /** Cease / Administrative Reset, with an optional RFC 9003 shutdown communication. */
  administrativeReset: (communication?: string): NotificationMessage =>
    note(
      ErrorCode.CEASE,
      CeaseSubcode.ADMINISTRATIVE_RESET,
      communication ? encodeShutdownCommunication(communication) : EMPTY,
    ),
  /** Cease / Connection Rejected (RFC 4486 §4). */
  connectionRejected: (): NotificationMessage => note(ErrorCode.CEASE, CeaseSubcode.CONNECTION_REJECTED),
  /** Cease / Other Configuration Change (RFC 4486 §4). */
  otherConfigurationChange: (): NotificationMessage => note(ErrorCode.CEASE, CeaseSubcode.OTHER_CONFIGURATION_CHANGE),
  /** Cease / Connection Collision Resolution (RFC 4486 §4, RFC 4271 §6.8). */
  connectionCollisionResolution: (): NotificationMessage =>
    note(ErrorCode.CEASE, CeaseSubcode.CONNECTION_COLLISION_RESOLUTION),
  /** Cease / Out of Resources (RFC 4486 §4). */
  outOfResources: (): NotificationMessage => note(ErrorCode.CEASE, CeaseSubcode.OUT_OF_RESOURCES),
  /**
   * Cease / Hard Reset (RFC 8538 §5); data = the code, subcode and data of the NOTIFICATION that caused it, when given.
   */
  hardReset: (cause?: NotificationMessage): NotificationMessage => {
    if (!cause) return note(ErrorCode.CEASE, CeaseSubcode.HARD_RESET);
    const d = new Uint8Array(2 + cause.data.length);
    d[0] = cause.code;
    d[1] = cause.subcode;
    d.set(cause.data, 2);
    return note(ErrorCode.CEASE, CeaseSubcode.HARD_RESET, d);
  },
  /** Cease / BFD Down (RFC 9384). */
  bfdDown: (): NotificationMessage => note(ErrorCode.CEASE, CeaseSubcode.BFD_DOWN),
  /** ROUTE-REFRESH Message Error / Invalid Message Length; data = the whole ROUTE-REFRESH message (RFC 7313 §5). */
  routeRefreshInvalidLength: (message: Uint8Array): NotificationMessage =>
    note(ErrorCode.ROUTE_REFRESH_MESSAGE, RouteRefreshErrorSubcode.INVALID_MESSAGE_LENGTH, message),
});
