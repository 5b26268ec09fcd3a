/**
 * A minimal pcap writer for tests: each payload becomes one Ethernet/IPv4/TCP packet from 192.0.2.1:50179 to
 * 192.0.2.2:179 (documentation addresses), with contiguous sequence numbers so dissectors see one TCP stream.
 */

function ipChecksum(b: Uint8Array, off: number, len: number): number {
  let sum = 0;
  for (let i = 0; i < len; i += 2) sum += (b[off + i]! << 8) | b[off + i + 1]!;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Returns the bytes of a pcap file (link type Ethernet) holding one TCP segment per payload. */
export function writePcap(payloads: readonly Uint8Array[]): Uint8Array {
  const size = 24 + payloads.reduce((s, p) => s + 16 + 14 + 20 + 20 + p.length, 0);
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  // global header, little-endian
  v.setUint32(0, 0xa1b2c3d4, true);
  v.setUint16(4, 2, true);
  v.setUint16(6, 4, true);
  v.setUint32(16, 262144, true);
  v.setUint32(20, 1, true); // LINKTYPE_ETHERNET
  let pos = 24;
  let seq = 1000;
  let t = 1_700_000_000;
  for (const p of payloads) {
    const frame = 14 + 20 + 20 + p.length;
    v.setUint32(pos, t++, true);
    v.setUint32(pos + 4, 0, true);
    v.setUint32(pos + 8, frame, true);
    v.setUint32(pos + 12, frame, true);
    pos += 16;
    // Ethernet
    out.set([0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x08, 0x00], pos);
    const ip = pos + 14;
    // IPv4
    out[ip] = 0x45;
    v.setUint16(ip + 2, 20 + 20 + p.length);
    v.setUint16(ip + 6, 0x4000); // DF
    out[ip + 8] = 64;
    out[ip + 9] = 6;
    out.set([192, 0, 2, 1, 192, 0, 2, 2], ip + 12);
    v.setUint16(ip + 10, ipChecksum(out, ip, 20));
    // TCP
    const tcp = ip + 20;
    v.setUint16(tcp, 50179);
    v.setUint16(tcp + 2, 179);
    v.setUint32(tcp + 4, seq);
    v.setUint32(tcp + 8, 1);
    out[tcp + 12] = 5 << 4;
    out[tcp + 13] = 0x18; // PSH, ACK
    v.setUint16(tcp + 14, 65535);
    out.set(p, tcp + 20);
    seq += p.length;
    pos += frame;
  }
  return out;
}
