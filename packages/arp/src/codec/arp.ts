import { formatIPv4, formatMac, parseIPv4, parseMac } from './address.js';
import { CodecError, need } from './errors.js';

/** ARP operation codes (RFC 826 / IANA). */
export const ArpOperation = { Request: 1, Reply: 2 } as const;

/** An ARP packet for Ethernet hardware and IPv4 protocol addresses. */
export interface ArpPacket {
  /** Operation: 1 request, 2 reply (other values decode but responders ignore them). */
  operation: number;
  /** Sender hardware address (SHA). */
  senderMac: string;
  /** Sender protocol address (SPA); `0.0.0.0` in an ARP probe (RFC 5227). */
  senderIp: string;
  /** Target hardware address (THA). */
  targetMac: string;
  /** Target protocol address (TPA). */
  targetIp: string;
}

/** Length of an Ethernet/IPv4 ARP packet. */
export const ARP_LENGTH = 28;

/**
 * Number of bytes {@link encodeArp} writes: always {@link ARP_LENGTH}.
 * @example `arpEncodingLength() // 28`
 */
export function arpEncodingLength(_packet?: ArpPacket): number {
  return ARP_LENGTH;
}

/**
 * Writes an Ethernet/IPv4 ARP packet into `buf` at `offset` (allocated when omitted); returns the written view.
 * @throws {@link CodecError} (`arp`/`address`) for an out-of-range operation, a bad address or a too small buffer.
 * @example `encodeArp({ operation: 1, senderMac: '02:00:00:00:00:01', senderIp: '192.0.2.1', targetMac: ZERO_MAC, targetIp: '192.0.2.2' })`
 */
export function encodeArp(packet: ArpPacket, buf?: Uint8Array, offset = 0): Uint8Array {
  const out = buf ?? new Uint8Array(ARP_LENGTH);
  need('arp', offset, ARP_LENGTH, out.length, 'packet');
  if (!Number.isInteger(packet.operation) || packet.operation < 0 || packet.operation > 0xffff) {
    throw new CodecError('arp', 'invalid-field', `operation out of range: ${packet.operation}`);
  }
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  dv.setUint16(offset, 1);
  dv.setUint16(offset + 2, 0x0800);
  out[offset + 4] = 6;
  out[offset + 5] = 4;
  dv.setUint16(offset + 6, packet.operation);
  out.set(parseMac(packet.senderMac), offset + 8);
  out.set(parseIPv4(packet.senderIp), offset + 14);
  out.set(parseMac(packet.targetMac), offset + 18);
  out.set(parseIPv4(packet.targetIp), offset + 24);
  return out.subarray(offset, offset + ARP_LENGTH);
}

/**
 * Decodes an Ethernet/IPv4 ARP packet from `buf` at `offset`. Trailing bytes (Ethernet padding) are ignored.
 * @throws {@link CodecError} (`arp`: `truncated`, `unsupported-hardware-type`, `unsupported-protocol-type`,
 * `bad-address-length`).
 * @example `decodeArp(decodeEthernet(frame).payload).targetIp // '192.0.2.2'`
 */
export function decodeArp(buf: Uint8Array, offset = 0): ArpPacket {
  need('arp', offset, 8, buf.length, 'fixed header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const htype = dv.getUint16(offset);
  if (htype !== 1) throw new CodecError('arp', 'unsupported-hardware-type', `hardware type ${htype}, want 1`, offset);
  const ptype = dv.getUint16(offset + 2);
  if (ptype !== 0x0800) {
    throw new CodecError('arp', 'unsupported-protocol-type', `protocol type 0x${ptype.toString(16)}`, offset + 2);
  }
  if (buf[offset + 4] !== 6 || buf[offset + 5] !== 4) {
    throw new CodecError(
      'arp',
      'bad-address-length',
      `hlen ${buf[offset + 4]} plen ${buf[offset + 5]}, want 6/4`,
      offset + 4,
    );
  }
  need('arp', offset, ARP_LENGTH, buf.length, 'packet');
  return {
    operation: dv.getUint16(offset + 6),
    senderMac: formatMac(buf, offset + 8),
    senderIp: formatIPv4(buf, offset + 14),
    targetMac: formatMac(buf, offset + 18),
    targetIp: formatIPv4(buf, offset + 24),
  };
}
