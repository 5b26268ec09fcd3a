/**
 * The BFD Echo packet (RFC 5880 §6.4, RFC 5881 §4): a UDP datagram to port 3785 that we address to ourselves and hand
 * to the neighbour's MAC, so its forwarding plane sends it back. Its contents are a local matter; ours are 16 bytes:
 * the magic `IGEC`, a version byte (1), three zero bytes, our session's discriminator and a sequence number.
 * {@link encodeBfdEchoDatagram} wraps the payload in the IPv4 and UDP headers for an AF_PACKET (cooked) socket.
 * Decoding checks every bound and throws {@link BfdError}-like typed errors.
 * @module
 */

import { CodecError } from '@ingot/net';
import { BFD_ECHO_PORT } from './bfd-codec.js';

/** Length of our Echo payload, bytes. */
export const BFD_ECHO_LENGTH = 16;
/** The payload's first four bytes, `IGEC`. */
export const BFD_ECHO_MAGIC = 0x49474543;
const VERSION = 1;

/** Our Echo payload: who sent it and its sequence number. */
export interface BfdEchoPacket {
  /** The sending session's bfd.LocalDiscr (nonzero). */
  discriminator: number;
  /** A sequence number, 0..2^32-1 (wraps). */
  sequence: number;
}

/** Why an Echo payload was refused. */
export type BfdEchoErrorReason = 'truncated' | 'bad-magic' | 'bad-version' | 'zero-discriminator';

/** The error {@link decodeBfdEcho} throws; `reason` (also `code`) names the failed check. */
export class BfdEchoError extends CodecError<BfdEchoErrorReason> {
  /** Always 'BfdEchoError'. */
  override readonly name = 'BfdEchoError';
  /**
   * @param reason the failed check
   * @param message human-readable detail
   */
  constructor(
    readonly reason: BfdEchoErrorReason,
    message: string,
  ) {
    super(reason, message);
  }
}

/** Encodes an Echo payload (16 bytes). */
export function encodeBfdEcho(packet: BfdEchoPacket): Uint8Array {
  if (!Number.isInteger(packet.discriminator) || packet.discriminator < 1 || packet.discriminator > 0xffffffff) {
    throw new RangeError(`BFD echo discriminator must be 1..2^32-1, got ${packet.discriminator}`);
  }
  const out = new Uint8Array(BFD_ECHO_LENGTH);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, BFD_ECHO_MAGIC);
  out[4] = VERSION;
  dv.setUint32(8, packet.discriminator >>> 0);
  dv.setUint32(12, packet.sequence >>> 0);
  return out;
}

/**
 * Decodes an Echo payload (the UDP payload of a datagram to port 3785); extra bytes after the 16 are ignored.
 * @throws {@link BfdEchoError} when it is short, not ours, or names discriminator 0
 */
export function decodeBfdEcho(bytes: Uint8Array): BfdEchoPacket {
  if (bytes.length < BFD_ECHO_LENGTH) {
    throw new BfdEchoError('truncated', `BFD echo payload is ${bytes.length} bytes, need ${BFD_ECHO_LENGTH}`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0) !== BFD_ECHO_MAGIC) throw new BfdEchoError('bad-magic', 'not an Ingot BFD echo payload');
  if (bytes[4] !== VERSION) throw new BfdEchoError('bad-version', `BFD echo payload version ${bytes[4]}`);
  const discriminator = dv.getUint32(8);
  if (discriminator === 0) throw new BfdEchoError('zero-discriminator', 'BFD echo payload names discriminator 0');
  return { discriminator, sequence: dv.getUint32(12) };
}

function checksum(bytes: Uint8Array): number {
  let sum = 0;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The IPv4 datagram of an Echo packet from `address` to itself (RFC 5881 §4: destination port 3785, TTL 255), its
 * UDP source port `sourcePort`; the UDP checksum is computed, the IP identification is `id`.
 * @param address our IPv4 address as 4 bytes
 */
export function encodeBfdEchoDatagram(
  address: Uint8Array,
  sourcePort: number,
  payload: Uint8Array,
  id = 0,
): Uint8Array {
  if (address.length !== 4) throw new RangeError('BFD echo datagrams are IPv4: the address must be 4 bytes');
  const udpLength = 8 + payload.length;
  const out = new Uint8Array(20 + udpLength);
  const dv = new DataView(out.buffer);
  out[0] = 0x45;
  dv.setUint16(2, out.length);
  dv.setUint16(4, id & 0xffff);
  dv.setUint16(6, 0x4000); // don't fragment
  out[8] = 255;
  out[9] = 17;
  out.set(address, 12);
  out.set(address, 16);
  dv.setUint16(10, checksum(out.subarray(0, 20)));
  dv.setUint16(20, sourcePort);
  dv.setUint16(22, BFD_ECHO_PORT);
  dv.setUint16(24, udpLength);
  out.set(payload, 28);
  const pseudo = new Uint8Array(12 + udpLength);
  pseudo.set(address, 0);
  pseudo.set(address, 4);
  pseudo[9] = 17;
  new DataView(pseudo.buffer).setUint16(10, udpLength);
  pseudo.set(out.subarray(20), 12);
  const sum = checksum(pseudo);
  dv.setUint16(26, sum === 0 ? 0xffff : sum);
  return out;
}
