/**
 * @internal Writes the 42-byte ARP reply to the Ethernet/IPv4 ARP request `request` into `out`, as answered by the
 * station with MAC `mac`: Ethernet to the requester's source MAC, SHA = `mac`, SPA = the request's TPA, THA/TPA = the
 * request's SHA/SPA (MetalLB's `arp.Client.Reply`). No checks, no allocation, and no reference to anything outside
 * itself: `encodeArpReplyFrame` calls it after its checks, and the answer thread runs its source as it is.
 */
export function writeArpReply(request: Uint8Array, mac: Uint8Array, out: Uint8Array): void {
  // Byte loops rather than set(subarray(…)): no typed-array allocation on the responders' hot paths.
  for (let i = 0; i < 6; i++) {
    out[i] = request[6 + i]!; // Ethernet destination: the requester
    out[6 + i] = mac[i]!;
    out[22 + i] = mac[i]!; // SHA
  }
  out[12] = 0x08;
  out[13] = 0x06;
  out[14] = 0;
  out[15] = 1; // htype Ethernet
  out[16] = 0x08;
  out[17] = 0x00; // ptype IPv4
  out[18] = 6;
  out[19] = 4;
  out[20] = 0;
  out[21] = 2; // reply
  for (let i = 0; i < 4; i++) out[28 + i] = request[38 + i]!; // SPA = requested TPA
  for (let i = 0; i < 10; i++) out[32 + i] = request[22 + i]!; // THA, TPA = requester's SHA, SPA
}
