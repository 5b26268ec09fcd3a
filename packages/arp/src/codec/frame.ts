import { parseMac } from './address.js';
import { ARP_LENGTH, type ArpPacket, decodeArp, encodeArp } from './arp.js';
import { writeArpReply } from './arp-reply.js';
import { CodecError } from './errors.js';
import { decodeEthernet, ETHERTYPE_ARP, ETHERTYPE_IPV6, type EthernetFrame } from './ethernet.js';
import { decodeNdp, encodeNdp, type NdpPacket, ndpEncodingLength } from './ndp.js';

/** A decoded frame this package understands: ARP, or an IPv6 NS/NA. */
export type DecodedFrame =
  | { kind: 'arp'; ethernet: EthernetFrame; arp: ArpPacket }
  | { kind: 'ndp'; ethernet: EthernetFrame; ndp: NdpPacket };

/**
 * Decodes an Ethernet frame carrying ARP or an ICMPv6 NS/NA (802.1Q tags allowed).
 * @throws {@link CodecError}: `ethernet`/`unsupported-ethertype` for other EtherTypes, or the inner decoder's error.
 * @example `const f = decodeFrame(bytes); if (f.kind === 'arp') console.log(f.arp.targetIp);`
 */
export function decodeFrame(buf: Uint8Array, offset = 0): DecodedFrame {
  const ethernet = decodeEthernet(buf, offset);
  if (ethernet.etherType === ETHERTYPE_ARP) return { kind: 'arp', ethernet, arp: decodeArp(ethernet.payload) };
  if (ethernet.etherType === ETHERTYPE_IPV6) return { kind: 'ndp', ethernet, ndp: decodeNdp(ethernet.payload) };
  throw new CodecError(
    'ethernet',
    'unsupported-ethertype',
    `EtherType 0x${ethernet.etherType.toString(16).padStart(4, '0')} is neither ARP nor IPv6`,
    offset + 12,
  );
}

/** Addresses of an untagged Ethernet frame built by {@link encodeArpFrame} / {@link encodeNdpFrame}. */
export interface FrameAddresses {
  /** Destination MAC. */
  destination: string;
  /** Source MAC. */
  source: string;
}

function header(addr: FrameAddresses, type: number, out: Uint8Array, offset: number): void {
  out.set(parseMac(addr.destination), offset);
  out.set(parseMac(addr.source), offset + 6);
  out[offset + 12] = type >> 8;
  out[offset + 13] = type & 0xff;
}

/**
 * Encodes an untagged Ethernet frame carrying `arp` (42 bytes, unpadded: the kernel pads on the wire).
 * @example
 * ```ts
 * encodeArpFrame({ destination: BROADCAST_MAC, source: '02:00:00:00:00:01' },
 *   { operation: 1, senderMac: '02:00:00:00:00:01', senderIp: '192.0.2.1', targetMac: ZERO_MAC, targetIp: '192.0.2.2' });
 * ```
 */
export function encodeArpFrame(addr: FrameAddresses, arp: ArpPacket, buf?: Uint8Array, offset = 0): Uint8Array {
  const out = buf ?? new Uint8Array(14 + ARP_LENGTH);
  if (offset + 14 + ARP_LENGTH > out.length) throw new CodecError('ethernet', 'truncated', 'buffer too small', offset);
  header(addr, ETHERTYPE_ARP, out, offset);
  encodeArp(arp, out, offset + 14);
  return out.subarray(offset, offset + 14 + ARP_LENGTH);
}

/**
 * Encodes an untagged Ethernet frame carrying an IPv6 NS/NA (checksum computed).
 * @example `encodeNdpFrame({ destination: '33:33:00:00:00:01', source: mac }, { source: 'fe80::1', destination: 'ff02::1', message })`
 */
export function encodeNdpFrame(addr: FrameAddresses, ndp: NdpPacket, buf?: Uint8Array, offset = 0): Uint8Array {
  const len = 14 + ndpEncodingLength(ndp);
  const out = buf ?? new Uint8Array(len);
  if (offset + len > out.length) throw new CodecError('ethernet', 'truncated', 'buffer too small', offset);
  header(addr, ETHERTYPE_IPV6, out, offset);
  encodeNdp(ndp, out, offset + 14);
  return out.subarray(offset, offset + len);
}

/**
 * Builds, without string conversions, the ARP reply to the untagged Ethernet/IPv4 ARP request frame `request`, as
 * answered by the station with MAC `mac`: Ethernet to the requester's source MAC, SHA = `mac`, SPA = the request's
 * TPA, THA/TPA = the request's SHA/SPA (MetalLB's `arp.Client.Reply`). Equivalent to {@link encodeArpFrame} with
 * those fields; the responder's hot path. The request must be a valid ARP request (e.g. checked by
 * {@link isArpIPv4Request}).
 * @returns the 42-byte reply, written to `out` when given (at offset 0).
 * @example `transport.send(encodeArpReplyFrame(requestFrame, parseMac(transport.mac)))`
 */
export function encodeArpReplyFrame(request: Uint8Array, mac: Uint8Array, out?: Uint8Array): Uint8Array {
  const o = out ?? new Uint8Array(14 + ARP_LENGTH);
  if (o.length < 14 + ARP_LENGTH || request.length < 14 + ARP_LENGTH || mac.length !== 6) {
    throw new CodecError('arp', 'truncated', 'request, reply buffer or MAC too short', 0);
  }
  writeArpReply(request, mac, o);
  return o.length === 14 + ARP_LENGTH ? o : o.subarray(0, 14 + ARP_LENGTH);
}

/**
 * Fast check that `frame` is an untagged Ethernet frame carrying an Ethernet/IPv4 ARP request with a complete body
 * (no allocation). Use {@link decodeFrame} to learn why a frame is not.
 * @example `if (isArpIPv4Request(frame)) transport.send(encodeArpReplyFrame(frame, myMac))`
 */
export function isArpIPv4Request(frame: Uint8Array): boolean {
  return (
    frame.length >= 14 + ARP_LENGTH &&
    frame[12] === 0x08 &&
    frame[13] === 0x06 &&
    frame[14] === 0 &&
    frame[15] === 1 &&
    frame[16] === 0x08 &&
    frame[17] === 0 &&
    frame[18] === 6 &&
    frame[19] === 4 &&
    frame[20] === 0 &&
    frame[21] === 1
  );
}
