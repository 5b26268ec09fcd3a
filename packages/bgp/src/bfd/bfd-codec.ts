/**
 * The BFD Control packet (RFC 5880 §4.1, §4.2): pure encode/decode over `Uint8Array`, with the reception checks of
 * RFC 5880 §6.8.6 that do not need session state.
 *
 * Authentication (§4.2–4.4) is parsed (type, length and the raw section, its length checked per type) but not verified:
 * this implementation does not do BFD authentication, and a session refuses packets whose A bit is set (§6.8.6: "If the
 * A bit is set and no authentication is in use ... the packet MUST be discarded").
 * @module
 */

import { CodecError } from '@ingot/net';

/** BFD protocol version (RFC 5880 §4.1). */
export const BFD_VERSION = 1;
/** Length of a Control packet without an authentication section. */
export const BFD_CONTROL_LENGTH = 24;
/** UDP destination port of single-hop BFD Control packets (RFC 5881 §4). */
export const BFD_SINGLE_HOP_PORT = 3784;
/** UDP destination port of single-hop BFD Echo packets (RFC 5881 §4). */
export const BFD_ECHO_PORT = 3785;
/** UDP destination port of multihop BFD Control packets (RFC 5883 §5). */
export const BFD_MULTIHOP_PORT = 4784;

/** Session states (RFC 5880 §4.1 "State (Sta)"). */
export const BfdState = Object.freeze({ ADMIN_DOWN: 0, DOWN: 1, INIT: 2, UP: 3 } as const);
/** A session state value. */
export type BfdStateValue = (typeof BfdState)[keyof typeof BfdState];
/** The state names, indexed by value. */
export const BFD_STATE_NAMES = Object.freeze(['AdminDown', 'Down', 'Init', 'Up'] as const);
/** A state name. */
export type BfdStateName = (typeof BFD_STATE_NAMES)[number];

/** Diagnostic codes (RFC 5880 §4.1 "Diagnostic (Diag)"). */
export const BfdDiagnostic = Object.freeze({
  NONE: 0,
  CONTROL_DETECTION_TIME_EXPIRED: 1,
  ECHO_FUNCTION_FAILED: 2,
  NEIGHBOR_SIGNALED_SESSION_DOWN: 3,
  FORWARDING_PLANE_RESET: 4,
  PATH_DOWN: 5,
  CONCATENATED_PATH_DOWN: 6,
  ADMINISTRATIVELY_DOWN: 7,
  REVERSE_CONCATENATED_PATH_DOWN: 8,
} as const);

/** Authentication types (RFC 5880 §4.1 "Auth Type") and the Auth Len each requires (0 = range, checked apart). */
export const BfdAuthType = Object.freeze({
  SIMPLE_PASSWORD: 1,
  KEYED_MD5: 2,
  METICULOUS_KEYED_MD5: 3,
  KEYED_SHA1: 4,
  METICULOUS_KEYED_SHA1: 5,
} as const);

/** The authentication section of a received packet, parsed but not verified. */
export interface BfdAuth {
  /** Auth Type (see {@link BfdAuthType}). */
  type: number;
  /** The whole section (Auth Type, Auth Len and the type-specific data), a view into the decoded buffer. */
  section: Uint8Array;
}

/** A BFD Control packet. Intervals are in microseconds, as on the wire. */
export interface BfdControlPacket {
  /** Diagnostic code, 0..31 (see {@link BfdDiagnostic}). */
  diagnostic: number;
  /** The sender's session state. */
  state: BfdStateValue;
  /** Poll (P) bit. */
  poll: boolean;
  /** Final (F) bit. */
  final: boolean;
  /** Control Plane Independent (C) bit. */
  controlPlaneIndependent: boolean;
  /** Demand (D) bit. */
  demand: boolean;
  /** Detect Mult, 1..255. */
  detectMultiplier: number;
  /** My Discriminator, nonzero. */
  myDiscriminator: number;
  /** Your Discriminator (0 until the sender knows ours). */
  yourDiscriminator: number;
  /** Desired Min TX Interval, µs. */
  desiredMinTxInterval: number;
  /** Required Min RX Interval, µs (0: the sender does not want packets). */
  requiredMinRxInterval: number;
  /** Required Min Echo RX Interval, µs (0: the sender does not loop Echo packets). */
  requiredMinEchoRxInterval: number;
  /** Authentication section when the A bit is set (decoded packets only; {@link encodeBfdControl} refuses it). */
  auth?: BfdAuth;
}

/** Why a packet was refused: the RFC 5880 §6.8.6 check (or structural bound) that failed. */
export type BfdErrorReason =
  | 'truncated'
  | 'bad-version'
  | 'bad-length'
  | 'zero-detect-multiplier'
  | 'multipoint'
  | 'zero-my-discriminator'
  | 'zero-your-discriminator'
  | 'bad-auth-length';

/**
 * The error {@link decodeBfdControl} throws: `reason` (also `code`) names the failed check; the packet must be discarded.
 * A subclass of `@ingot/net`'s `CodecError`, the base of every @ingot codec's error.
 */
export class BfdError extends CodecError<BfdErrorReason> {
  /** Always 'BfdError'. */
  override readonly name = 'BfdError';
  /**
   * @param reason the failed check
   * @param message human-readable detail
   */
  constructor(
    readonly reason: BfdErrorReason,
    message: string,
  ) {
    super(reason, message);
  }
}

/** True when `err` is a {@link BfdError} (by name, so it also matches another copy of this package). */
export function isBfdError(err: unknown): err is BfdError {
  return typeof err === 'object' && err !== null && (err as { name?: unknown }).name === 'BfdError';
}

const P_BIT = 0x20;
const F_BIT = 0x10;
const C_BIT = 0x08;
const A_BIT = 0x04;
const D_BIT = 0x02;
const M_BIT = 0x01;

function authLengthOk(type: number, len: number): boolean {
  switch (type) {
    case BfdAuthType.SIMPLE_PASSWORD:
      return len >= 4 && len <= 19; // 3 + 1..16 octets of password
    case BfdAuthType.KEYED_MD5:
    case BfdAuthType.METICULOUS_KEYED_MD5:
      return len === 24;
    case BfdAuthType.KEYED_SHA1:
    case BfdAuthType.METICULOUS_KEYED_SHA1:
      return len === 28;
    default:
      return len >= 2; // reserved types: at least the type and length octets
  }
}

/**
 * Decodes the BFD Control packet at the start of `bytes` (a UDP payload; bytes past the packet's Length are ignored,
 * RFC 5880 §6.8.6 only requires Length not to exceed the payload).
 * @throws BfdError when the packet fails a check of RFC 5880 §6.8.6 that needs no session state
 */
export function decodeBfdControl(bytes: Uint8Array): BfdControlPacket {
  if (bytes.length < BFD_CONTROL_LENGTH) {
    throw new BfdError('truncated', `BFD packet of ${bytes.length} octets; a Control packet has at least 24`);
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const b0 = bytes[0]!;
  const b1 = bytes[1]!;
  const version = b0 >>> 5;
  if (version !== BFD_VERSION) throw new BfdError('bad-version', `BFD version ${version}; only 1 is known`);
  const length = bytes[3]!;
  const authenticated = (b1 & A_BIT) !== 0;
  const min = authenticated ? BFD_CONTROL_LENGTH + 2 : BFD_CONTROL_LENGTH;
  if (length < min) throw new BfdError('bad-length', `BFD Length ${length} is under the minimum ${min}`);
  if (length > bytes.length) {
    throw new BfdError('bad-length', `BFD Length ${length} exceeds the ${bytes.length}-octet payload`);
  }
  const detectMultiplier = bytes[2]!;
  if (detectMultiplier === 0) throw new BfdError('zero-detect-multiplier', 'BFD Detect Mult is zero');
  if ((b1 & M_BIT) !== 0) throw new BfdError('multipoint', 'BFD Multipoint (M) bit is set');
  const myDiscriminator = v.getUint32(4);
  if (myDiscriminator === 0) throw new BfdError('zero-my-discriminator', 'BFD My Discriminator is zero');
  const state = (b1 >>> 6) as BfdStateValue;
  const yourDiscriminator = v.getUint32(8);
  if (yourDiscriminator === 0 && state !== BfdState.DOWN && state !== BfdState.ADMIN_DOWN) {
    throw new BfdError(
      'zero-your-discriminator',
      `BFD Your Discriminator is zero in state ${BFD_STATE_NAMES[state]} (allowed only in Down/AdminDown)`,
    );
  }
  const packet: BfdControlPacket = {
    diagnostic: b0 & 0x1f,
    state,
    poll: (b1 & P_BIT) !== 0,
    final: (b1 & F_BIT) !== 0,
    controlPlaneIndependent: (b1 & C_BIT) !== 0,
    demand: (b1 & D_BIT) !== 0,
    detectMultiplier,
    myDiscriminator,
    yourDiscriminator,
    desiredMinTxInterval: v.getUint32(12),
    requiredMinRxInterval: v.getUint32(16),
    requiredMinEchoRxInterval: v.getUint32(20),
  };
  if (authenticated) {
    const type = bytes[24]!;
    const authLen = bytes[25]!;
    if (BFD_CONTROL_LENGTH + authLen !== length || !authLengthOk(type, authLen)) {
      throw new BfdError(
        'bad-auth-length',
        `BFD Auth Len ${authLen} (type ${type}) does not fit the type or the packet Length ${length}`,
      );
    }
    packet.auth = { type, section: bytes.subarray(BFD_CONTROL_LENGTH, length) };
  }
  return packet;
}

function u32(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`BFD ${name} must be an integer 0..4294967295, got ${value}`);
  }
  return value;
}

/**
 * Encodes a Control packet without authentication (24 octets), into `buffer` at `offset` when given.
 * @throws RangeError when a field is out of range, or `auth` is set (this implementation does not authenticate)
 */
export function encodeBfdControl(packet: BfdControlPacket, buffer?: Uint8Array, offset = 0): Uint8Array {
  if (packet.auth !== undefined) throw new RangeError('BFD authentication is not supported: cannot encode auth');
  if (!Number.isInteger(packet.diagnostic) || packet.diagnostic < 0 || packet.diagnostic > 31) {
    throw new RangeError(`BFD diagnostic must be 0..31, got ${packet.diagnostic}`);
  }
  if (!Number.isInteger(packet.state) || packet.state < 0 || packet.state > 3) {
    throw new RangeError(`BFD state must be 0..3, got ${packet.state}`);
  }
  if (!Number.isInteger(packet.detectMultiplier) || packet.detectMultiplier < 1 || packet.detectMultiplier > 255) {
    throw new RangeError(`BFD detect multiplier must be 1..255, got ${packet.detectMultiplier}`);
  }
  if (u32('My Discriminator', packet.myDiscriminator) === 0)
    throw new RangeError('BFD My Discriminator must be nonzero');
  if (packet.poll && packet.final) throw new RangeError('BFD Poll and Final must not both be set (RFC 5880 §6.5)');
  const out = buffer ? buffer.subarray(offset, offset + BFD_CONTROL_LENGTH) : new Uint8Array(BFD_CONTROL_LENGTH);
  if (out.length < BFD_CONTROL_LENGTH) throw new RangeError('buffer too small for a 24-octet BFD Control packet');
  const v = new DataView(out.buffer, out.byteOffset, BFD_CONTROL_LENGTH);
  out[0] = (BFD_VERSION << 5) | packet.diagnostic;
  out[1] =
    (packet.state << 6) |
    (packet.poll ? P_BIT : 0) |
    (packet.final ? F_BIT : 0) |
    (packet.controlPlaneIndependent ? C_BIT : 0) |
    (packet.demand ? D_BIT : 0);
  out[2] = packet.detectMultiplier;
  out[3] = BFD_CONTROL_LENGTH;
  v.setUint32(4, packet.myDiscriminator);
  v.setUint32(8, u32('Your Discriminator', packet.yourDiscriminator));
  v.setUint32(12, u32('Desired Min TX Interval', packet.desiredMinTxInterval));
  v.setUint32(16, u32('Required Min RX Interval', packet.requiredMinRxInterval));
  v.setUint32(20, u32('Required Min Echo RX Interval', packet.requiredMinEchoRxInterval));
  return out;
}
