import { formatIPv6, parseIPv6 } from './address.js';
import { CodecError, need } from './errors.js';

/** IPv6 next-header value of ICMPv6. */
export const NEXT_HEADER_ICMPV6 = 58;
/** Length of the fixed IPv6 header. */
export const IPV6_HEADER_LENGTH = 40;

/** An IPv6 packet: the fixed header (RFC 8200 §3) and its payload. Extension headers stay in the payload. */
export interface IPv6Packet {
  /** Traffic class, 0-255 (default 0). */
  trafficClass?: number;
  /** Flow label, 0-0xfffff (default 0). */
  flowLabel?: number;
  /** Next header (58 for ICMPv6). */
  nextHeader: number;
  /** Hop limit. */
  hopLimit: number;
  /** Source address, canonical text. */
  source: string;
  /** Destination address, canonical text. */
  destination: string;
  /** Payload; on decode, a view of exactly `payload length` bytes of the input. */
  payload: Uint8Array;
}

/**
 * Number of bytes {@link encodeIPv6} writes: 40 + payload.
 * @example `ipv6EncodingLength({ nextHeader: 58, hopLimit: 255, source: '::', destination: 'ff02::1', payload: new Uint8Array(24) }) // 64`
 */
export function ipv6EncodingLength(packet: IPv6Packet): number {
  return IPV6_HEADER_LENGTH + packet.payload.length;
}

/**
 * Writes an IPv6 header and payload into `buf` at `offset` (allocated when omitted); returns the written view.
 * @throws {@link CodecError} (`ipv6`/`address`) for out-of-range fields, bad addresses, a payload over 65535 bytes or a
 * too small buffer.
 */
export function encodeIPv6(packet: IPv6Packet, buf?: Uint8Array, offset = 0): Uint8Array {
  const len = ipv6EncodingLength(packet);
  const out = buf ?? new Uint8Array(len);
  need('ipv6', offset, len, out.length, 'packet');
  const tc = packet.trafficClass ?? 0;
  const fl = packet.flowLabel ?? 0;
  const bad = (what: string) => new CodecError('ipv6', 'invalid-field', what);
  if (!(tc >= 0 && tc <= 255 && Number.isInteger(tc))) throw bad(`traffic class ${tc}`);
  if (!(fl >= 0 && fl <= 0xfffff && Number.isInteger(fl))) throw bad(`flow label ${fl}`);
  if (!(packet.hopLimit >= 0 && packet.hopLimit <= 255 && Number.isInteger(packet.hopLimit))) {
    throw bad(`hop limit ${packet.hopLimit}`);
  }
  if (!(packet.nextHeader >= 0 && packet.nextHeader <= 255 && Number.isInteger(packet.nextHeader))) {
    throw bad(`next header ${packet.nextHeader}`);
  }
  if (packet.payload.length > 0xffff) throw bad(`payload of ${packet.payload.length} bytes (jumbograms unsupported)`);
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint32(offset, ((6 << 28) | (tc << 20) | fl) >>> 0);
  dv.setUint16(offset + 4, packet.payload.length);
  out[offset + 6] = packet.nextHeader;
  out[offset + 7] = packet.hopLimit;
  out.set(parseIPv6(packet.source), offset + 8);
  out.set(parseIPv6(packet.destination), offset + 24);
  out.set(packet.payload, offset + 40);
  return out.subarray(offset, offset + len);
}

/**
 * Decodes an IPv6 fixed header from `buf` at `offset`; the payload is the `payload length` bytes that follow (a view).
 * Bytes beyond the payload length (Ethernet padding) are ignored.
 * @throws {@link CodecError} (`ipv6`: `truncated`, `bad-version`, `bad-payload-length`).
 * @example `decodeIPv6(decodeEthernet(frame).payload).nextHeader // 58`
 */
export function decodeIPv6(buf: Uint8Array, offset = 0): IPv6Packet {
  need('ipv6', offset, IPV6_HEADER_LENGTH, buf.length, 'header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const first = dv.getUint32(offset);
  if (first >>> 28 !== 6) throw new CodecError('ipv6', 'bad-version', `version ${first >>> 28}, want 6`, offset);
  const plen = dv.getUint16(offset + 4);
  if (offset + IPV6_HEADER_LENGTH + plen > buf.length) {
    throw new CodecError(
      'ipv6',
      'bad-payload-length',
      `payload length ${plen} exceeds the ${buf.length - offset - IPV6_HEADER_LENGTH} bytes present`,
      offset + 4,
    );
  }
  return {
    trafficClass: (first >>> 20) & 0xff,
    flowLabel: first & 0xfffff,
    nextHeader: buf[offset + 6]!,
    hopLimit: buf[offset + 7]!,
    source: formatIPv6(buf, offset + 8),
    destination: formatIPv6(buf, offset + 24),
    payload: buf.subarray(offset + IPV6_HEADER_LENGTH, offset + IPV6_HEADER_LENGTH + plen),
  };
}

/**
 * The ICMPv6 checksum (RFC 4443 §2.3) of `icmp` (with its checksum field as it is) over the IPv6 pseudo-header.
 * A message with a correct checksum field yields 0 when passed whole; to compute a checksum, zero the field first.
 * @example `icmpv6Checksum('fe80::1', 'ff02::1', icmpBytes)`
 */
export function icmpv6Checksum(
  source: string | Uint8Array,
  destination: string | Uint8Array,
  icmp: Uint8Array,
): number {
  const s = typeof source === 'string' ? parseIPv6(source) : source;
  const d = typeof destination === 'string' ? parseIPv6(destination) : destination;
  let sum = 0;
  for (let i = 0; i < 16; i += 2) sum += ((s[i]! << 8) | s[i + 1]!) + ((d[i]! << 8) | d[i + 1]!);
  sum += (icmp.length >>> 16) + (icmp.length & 0xffff) + NEXT_HEADER_ICMPV6;
  const n = icmp.length & ~1;
  for (let i = 0; i < n; i += 2) sum += (icmp[i]! << 8) | icmp[i + 1]!;
  if (icmp.length & 1) sum += icmp[icmp.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}
