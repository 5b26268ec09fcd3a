import { formatIPv6, formatMac, parseIPv6, parseMac } from './address.js';
import { CodecError, need } from './errors.js';
import { decodeIPv6, encodeIPv6, IPV6_HEADER_LENGTH, icmpv6Checksum, NEXT_HEADER_ICMPV6 } from './ipv6.js';

/** ICMPv6 type of a Neighbor Solicitation. */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
/** ICMPv6 type of a Neighbor Advertisement. */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;

/** A Neighbor Discovery option (RFC 4861 §4.6) found in an NS or NA. */
export type NdpOption =
  /** Source Link-Layer Address (type 1). */
  | { type: 'source-lla'; mac: string }
  /** Target Link-Layer Address (type 2). */
  | { type: 'target-lla'; mac: string }
  /** Nonce (type 14, RFC 3971 §5.3.2), sent by Linux in DAD probes: the bytes after the 2-byte header. */
  | { type: 'nonce'; nonce: Uint8Array }
  /** Any other option: its type code and the bytes after the 2-byte header (length must make the option 8k bytes). */
  | { type: 'unknown'; code: number; data: Uint8Array };

/** An ICMPv6 Neighbor Solicitation (RFC 4861 §4.3). */
export interface NeighborSolicitation {
  type: 'neighbor-solicitation';
  /** Address being resolved. */
  target: string;
  /** Options in wire order. */
  options: NdpOption[];
}

/** An ICMPv6 Neighbor Advertisement (RFC 4861 §4.4). */
export interface NeighborAdvertisement {
  type: 'neighbor-advertisement';
  /** R flag: the sender is a router. */
  router: boolean;
  /** S flag: sent in response to a solicitation. */
  solicited: boolean;
  /** O flag: override existing cache entries. */
  override: boolean;
  /** Address whose link-layer address is advertised. */
  target: string;
  /** Options in wire order. */
  options: NdpOption[];
}

/** An NS or NA message. */
export type NdpMessage = NeighborSolicitation | NeighborAdvertisement;

/** An NS or NA with the IPv6 header fields that Neighbor Discovery validates. */
export interface NdpPacket {
  /** IPv6 source; `::` in a Duplicate Address Detection probe. */
  source: string;
  /** IPv6 destination. */
  destination: string;
  /** Hop limit; RFC 4861 requires 255 (the default on encode). */
  hopLimit?: number;
  /** Traffic class (default 0). */
  trafficClass?: number;
  /** Flow label (default 0). */
  flowLabel?: number;
  /** The ICMPv6 message. */
  message: NdpMessage;
}

function optionLength(o: NdpOption): number {
  switch (o.type) {
    case 'source-lla':
    case 'target-lla':
      return 8;
    case 'nonce':
      return 2 + o.nonce.length;
    case 'unknown':
      return 2 + o.data.length;
  }
}

/**
 * Number of bytes of the ICMPv6 part (24 + options) of `message`.
 * @example `icmpv6NdpEncodingLength({ type: 'neighbor-solicitation', target: '2001:db8::1', options: [{ type: 'source-lla', mac: '02:00:00:00:00:01' }] }) // 32`
 */
export function icmpv6NdpEncodingLength(message: NdpMessage): number {
  let n = 24;
  for (const o of message.options) n += optionLength(o);
  return n;
}

/**
 * Number of bytes {@link encodeNdp} writes (IPv6 header + ICMPv6 message).
 * @example `ndpEncodingLength(packet) // 72 for an NS with a source link-layer option`
 */
export function ndpEncodingLength(packet: NdpPacket): number {
  return IPV6_HEADER_LENGTH + icmpv6NdpEncodingLength(packet.message);
}

/**
 * Writes an IPv6 packet carrying the NS or NA into `buf` at `offset` (allocated when omitted), computing the ICMPv6
 * checksum; returns the written view.
 * @throws {@link CodecError} (`icmpv6`/`ipv6`/`address`) for an option whose length is not a multiple of 8, bad
 * addresses or a too small buffer.
 * @example
 * ```ts
 * encodeNdp({ source: 'fe80::1', destination: 'ff02::1', message: { type: 'neighbor-advertisement', router: false,
 *   solicited: false, override: true, target: '2001:db8::10', options: [{ type: 'target-lla', mac: '02:00:00:00:00:01' }] } });
 * ```
 */
export function encodeNdp(packet: NdpPacket, buf?: Uint8Array, offset = 0): Uint8Array {
  const m = packet.message;
  const icmpLen = icmpv6NdpEncodingLength(m);
  const total = IPV6_HEADER_LENGTH + icmpLen;
  const out = buf ?? new Uint8Array(total);
  need('ipv6', offset, total, out.length, 'packet');
  const icmp = out.subarray(offset + IPV6_HEADER_LENGTH, offset + total);
  const dv = new DataView(icmp.buffer, icmp.byteOffset, icmp.byteLength);
  icmp.fill(0, 0, 24);
  if (m.type === 'neighbor-solicitation') {
    icmp[0] = ICMPV6_NEIGHBOR_SOLICITATION;
  } else {
    icmp[0] = ICMPV6_NEIGHBOR_ADVERTISEMENT;
    icmp[4] = (m.router ? 0x80 : 0) | (m.solicited ? 0x40 : 0) | (m.override ? 0x20 : 0);
  }
  icmp.set(parseIPv6(m.target), 8);
  let p = 24;
  for (const o of m.options) {
    const len = optionLength(o);
    if (len % 8 !== 0 || len > 255 * 8) {
      throw new CodecError('icmpv6', 'invalid-field', `option of ${len} bytes is not a multiple of 8 up to 2040`);
    }
    icmp[p + 1] = len / 8;
    switch (o.type) {
      case 'source-lla':
      case 'target-lla':
        icmp[p] = o.type === 'source-lla' ? 1 : 2;
        icmp.set(parseMac(o.mac), p + 2);
        break;
      case 'nonce':
        icmp[p] = 14;
        icmp.set(o.nonce, p + 2);
        break;
      case 'unknown':
        if (!(o.code >= 0 && o.code <= 255 && Number.isInteger(o.code))) {
          throw new CodecError('icmpv6', 'invalid-field', `option type ${o.code}`);
        }
        icmp[p] = o.code;
        icmp.set(o.data, p + 2);
        break;
    }
    p += len;
  }
  // Write the IPv6 header around the ICMPv6 bytes already in place (the payload copy is onto itself).
  encodeIPv6(
    {
      trafficClass: packet.trafficClass ?? 0,
      flowLabel: packet.flowLabel ?? 0,
      nextHeader: NEXT_HEADER_ICMPV6,
      hopLimit: packet.hopLimit ?? 255,
      source: packet.source,
      destination: packet.destination,
      payload: icmp,
    },
    out,
    offset,
  );
  dv.setUint16(2, icmpv6Checksum(packet.source, packet.destination, icmp));
  return out.subarray(offset, offset + total);
}

function isMulticast(b: Uint8Array, o: number): boolean {
  return b[o] === 0xff;
}

function isUnspecified(b: Uint8Array, o: number): boolean {
  for (let i = 0; i < 16; i++) if (b[o + i] !== 0) return false;
  return true;
}

function isSolicitedNode(b: Uint8Array, o: number): boolean {
  // ff02:0:0:0:0:1:ffXX:XXXX
  if (b[o] !== 0xff || b[o + 1] !== 0x02) return false;
  for (let i = 2; i < 11; i++) if (b[o + i] !== 0) return false;
  return b[o + 11] === 0x01 && b[o + 12] === 0xff;
}

/**
 * Decodes an IPv6 packet carrying an ICMPv6 NS or NA, applying the validity checks of RFC 4861 §7.1.1 / §7.1.2 (hop
 * limit 255, code 0, correct checksum, ICMP length ≥ 24, non-multicast target, option length > 0, no source link-layer
 * option in a DAD probe whose destination must be a solicited-node group, S=0 in an NA to a multicast destination).
 * No extension headers are accepted between IPv6 and ICMPv6.
 * @throws {@link CodecError} with protocol `ipv6` or `icmpv6`.
 * @example `decodeNdp(decodeEthernet(frame).payload).message.target // '2001:db8:0:1::2'`
 */
export function decodeNdp(buf: Uint8Array, offset = 0): NdpPacket {
  const ip = decodeIPv6(buf, offset);
  if (ip.nextHeader !== NEXT_HEADER_ICMPV6) {
    throw new CodecError('ipv6', 'unsupported-next-header', `next header ${ip.nextHeader}, want 58`, offset + 6);
  }
  const icmp = ip.payload;
  const base = offset + IPV6_HEADER_LENGTH;
  need('icmpv6', 0, 4, icmp.length, 'header');
  const type = icmp[0]!;
  if (type !== ICMPV6_NEIGHBOR_SOLICITATION && type !== ICMPV6_NEIGHBOR_ADVERTISEMENT) {
    throw new CodecError('icmpv6', 'unsupported-type', `ICMPv6 type ${type}, want 135 or 136`, base);
  }
  if (icmp[1] !== 0) throw new CodecError('icmpv6', 'bad-code', `code ${icmp[1]}, want 0`, base + 1);
  if (ip.hopLimit !== 255)
    throw new CodecError('icmpv6', 'bad-hop-limit', `hop limit ${ip.hopLimit}, want 255`, offset + 7);
  if (icmp.length < 24) {
    throw new CodecError('icmpv6', 'truncated', `ICMPv6 length ${icmp.length}, want at least 24`, base);
  }
  const src = buf.subarray(offset + 8, offset + 24);
  const dst = buf.subarray(offset + 24, offset + 40);
  if (icmpv6Checksum(src, dst, icmp) !== 0)
    throw new CodecError('icmpv6', 'bad-checksum', 'checksum mismatch', base + 2);
  if (isMulticast(icmp, 8)) throw new CodecError('icmpv6', 'bad-target', 'target is a multicast address', base + 8);
  const options: NdpOption[] = [];
  let p = 24;
  while (p < icmp.length) {
    need('icmpv6', base + p, 2, base + icmp.length, 'option header');
    const code = icmp[p]!;
    const len = icmp[p + 1]! * 8;
    if (len === 0) throw new CodecError('icmpv6', 'bad-option-length', `option ${code} has length 0`, base + p + 1);
    need('icmpv6', base + p, len, base + icmp.length, `option ${code}`);
    if ((code === 1 || code === 2) && len >= 8) {
      options.push({ type: code === 1 ? 'source-lla' : 'target-lla', mac: formatMac(icmp, p + 2) });
    } else if (code === 14) {
      options.push({ type: 'nonce', nonce: icmp.slice(p + 2, p + len) });
    } else {
      options.push({ type: 'unknown', code, data: icmp.slice(p + 2, p + len) });
    }
    p += len;
  }
  const target = formatIPv6(icmp, 8);
  let message: NdpMessage;
  if (type === ICMPV6_NEIGHBOR_SOLICITATION) {
    if (isUnspecified(src, 0)) {
      if (!isSolicitedNode(dst, 0)) {
        throw new CodecError('icmpv6', 'bad-destination', 'DAD probe not sent to a solicited-node group', offset + 24);
      }
      if (options.some((o) => o.type === 'source-lla')) {
        throw new CodecError(
          'icmpv6',
          'bad-source',
          'DAD probe (source ::) carries a source link-layer option',
          base + 24,
        );
      }
    }
    message = { type: 'neighbor-solicitation', target, options };
  } else {
    const flags = icmp[4]!;
    const solicited = (flags & 0x40) !== 0;
    if (solicited && isMulticast(dst, 0)) {
      throw new CodecError(
        'icmpv6',
        'bad-destination',
        'solicited advertisement sent to a multicast address',
        base + 4,
      );
    }
    message = {
      type: 'neighbor-advertisement',
      router: (flags & 0x80) !== 0,
      solicited,
      override: (flags & 0x20) !== 0,
      target,
      options,
    };
  }
  return {
    source: ip.source,
    destination: ip.destination,
    hopLimit: ip.hopLimit,
    trafficClass: ip.trafficClass ?? 0,
    flowLabel: ip.flowLabel ?? 0,
    message,
  };
}

/** @internal Is the 16 bytes at `o` the solicited-node group of `target` (its last 24 bits)? */
export function isSolicitedNodeOf(b: Uint8Array, o: number, target: Uint8Array): boolean {
  return isSolicitedNode(b, o) && b[o + 13] === target[13] && b[o + 14] === target[14] && b[o + 15] === target[15];
}
