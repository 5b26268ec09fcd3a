import { formatMac, parseMac } from './address.js';
import { CodecError, need } from './errors.js';

/** EtherType of ARP. */
export const ETHERTYPE_ARP = 0x0806;
/** EtherType of IPv6. */
export const ETHERTYPE_IPV6 = 0x86dd;
/** EtherType (TPID) of an IEEE 802.1Q VLAN tag. */
export const ETHERTYPE_VLAN = 0x8100;
/** EtherType (TPID) of an IEEE 802.1ad service tag (QinQ outer tag). */
export const ETHERTYPE_QINQ = 0x88a8;

/** An IEEE 802.1Q tag. */
export interface VlanTag {
  /** Tag protocol identifier: 0x8100 (802.1Q) or 0x88a8 (802.1ad). */
  tpid: number;
  /** Priority code point, 0-7. */
  pcp: number;
  /** Drop eligible indicator. */
  dei: boolean;
  /** VLAN identifier, 0-4095. */
  id: number;
}

/** An Ethernet II frame header plus its payload. */
export interface EthernetFrame {
  /** Destination MAC, lowercase `aa:bb:cc:dd:ee:ff`. */
  destination: string;
  /** Source MAC. */
  source: string;
  /** VLAN tags, outermost first (empty or absent when untagged). */
  vlans?: VlanTag[];
  /** EtherType of the payload (after any VLAN tags). */
  etherType: number;
  /** The payload. On decode, a view into the input (no copy), including any trailing padding. */
  payload: Uint8Array;
}

/** Length of an untagged Ethernet II header. */
export const ETHERNET_HEADER_LENGTH = 14;

/**
 * Number of bytes {@link encodeEthernet} writes for `frame` (header, tags and payload; no padding, no FCS).
 * @example `ethernetEncodingLength({ destination: BROADCAST_MAC, source: '02:00:00:00:00:01', etherType: 0x0806, payload: new Uint8Array(28) }) // 42`
 */
export function ethernetEncodingLength(frame: EthernetFrame): number {
  return ETHERNET_HEADER_LENGTH + 4 * (frame.vlans?.length ?? 0) + frame.payload.length;
}

/**
 * Writes an Ethernet II frame into `buf` at `offset` (allocated when omitted) and returns the written bytes as a view.
 * The kernel pads short frames on the wire; this function does not.
 * @throws {@link CodecError} (`ethernet`, `invalid-field`/`truncated`) for a bad MAC, field range or a too small buffer.
 */
export function encodeEthernet(frame: EthernetFrame, buf?: Uint8Array, offset = 0): Uint8Array {
  const len = ethernetEncodingLength(frame);
  const out = buf ?? new Uint8Array(len);
  need('ethernet', offset, len, out.length, 'frame');
  if (frame.etherType < 0 || frame.etherType > 0xffff || !Number.isInteger(frame.etherType)) {
    throw new CodecError('ethernet', 'invalid-field', `etherType out of range: ${frame.etherType}`);
  }
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out.set(parseMac(frame.destination), offset);
  out.set(parseMac(frame.source), offset + 6);
  let p = offset + 12;
  for (const tag of frame.vlans ?? []) {
    if (
      tag.id < 0 ||
      tag.id > 4095 ||
      tag.pcp < 0 ||
      tag.pcp > 7 ||
      (tag.tpid !== ETHERTYPE_VLAN && tag.tpid !== ETHERTYPE_QINQ)
    ) {
      throw new CodecError('ethernet', 'invalid-field', `bad VLAN tag ${JSON.stringify(tag)}`);
    }
    dv.setUint16(p, tag.tpid);
    dv.setUint16(p + 2, (tag.pcp << 13) | (tag.dei ? 0x1000 : 0) | tag.id);
    p += 4;
  }
  dv.setUint16(p, frame.etherType);
  out.set(frame.payload, p + 2);
  return out.subarray(offset, offset + len);
}

/**
 * Decodes an Ethernet II frame (with any number of 802.1Q / 802.1ad tags) from `buf` starting at `offset`.
 * The payload is a view into `buf`. IEEE 802.3 length frames (EtherType < 0x0600) are rejected.
 * @throws {@link CodecError} (`ethernet`, `truncated` / `unsupported-ethertype`).
 * @example `decodeEthernet(frameBytes).etherType // 0x0806`
 */
export function decodeEthernet(buf: Uint8Array, offset = 0): EthernetFrame {
  const end = buf.length;
  need('ethernet', offset, ETHERNET_HEADER_LENGTH, end, 'header');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let p = offset + 12;
  let type = dv.getUint16(p);
  let vlans: VlanTag[] | undefined;
  while (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) {
    need('ethernet', p, 6, end, 'VLAN tag');
    const tci = dv.getUint16(p + 2);
    if (!vlans) vlans = [];
    vlans.push({ tpid: type, pcp: tci >> 13, dei: (tci & 0x1000) !== 0, id: tci & 0xfff });
    p += 4;
    type = dv.getUint16(p);
  }
  if (type < 0x0600) {
    throw new CodecError('ethernet', 'unsupported-ethertype', `802.3 length field ${type}, not an EtherType`, p);
  }
  const frame: EthernetFrame = {
    destination: formatMac(buf, offset),
    source: formatMac(buf, offset + 6),
    etherType: type,
    payload: buf.subarray(p + 2, end),
  };
  if (vlans) frame.vlans = vlans;
  return frame;
}
