/**
 * The one canonical IP text of the @ingot packages.
 *
 * Two texts exist because Go has two, and MetalLB relies on the difference:
 *
 * - {@link formatIp} keeps the family the bytes were written in, as Go's `netip.Addr.String` does: 16 bytes always print
 *   as IPv6, an IPv4-mapped address as `::ffff:192.0.2.1` (RFC 5952 §5 mixed notation). Codecs use it, because a wire
 *   field's family is fixed by the protocol (a BGP MP_REACH next hop of an IPv6 route over an IPv4 session is
 *   `::ffff:192.0.2.1`, 16 bytes, and must encode back to 16 bytes).
 * - {@link canonicalIp} is the identity of a service IP, the text the leader hash, Service status, metrics and ARP key
 *   on. MetalLB parses with `net.ParseIP` and prints with `net.IP.String()`, which prints an IPv4-mapped address as the
 *   IPv4 address it maps (`::ffff:192.0.2.1` → `192.0.2.1`): `sha256(node + "#" + firstLBIP.String())` hashes that
 *   text, so hashing anything else would elect another leader than a MetalLB speaker does. Every other address comes
 *   out as {@link formatIp} prints it.
 *
 * Acceptance is Go's (`netip.ParseAddr`, what `net.ParseIP` applies since Go 1.17): no leading zeros in a dotted quad, no
 * zone, no brackets, no spaces. The parser is hand-written (see ip-text.ts) rather than `ip-address`'s, which takes
 * microseconds per address on paths that parse or print one per frame or per allocation; the tests check it against
 * `ip-address` and `node:net` on random input.
 * @module
 */

import { formatIPv4, formatIPv6, isIPv4Mapped, parseIPv4, parseIPv6Into } from './ip-text.js';

/** An address family: 4 for IPv4, 6 for IPv6. */
export type IpFamily = 4 | 6;

/**
 * Parses an IPv4 or IPv6 address into its bytes, keeping the family it is written in (`::ffff:192.0.2.1` gives 16 bytes).
 * @param text - e.g. `192.0.2.1`, `2001:DB8::1` or `::ffff:192.0.2.1`
 * @returns 4 or 16 new bytes, or `undefined` when `text` is not an address
 * @example `parseIp('192.0.2.1') // Uint8Array [192, 0, 2, 1]`
 */
export function parseIp(text: string): Uint8Array | undefined {
  if (text.indexOf(':') < 0) {
    const n = parseIPv4(text);
    return n < 0 ? undefined : Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  }
  const out = new Uint8Array(16);
  return parseIPv6Into(text, out) ? out : undefined;
}

/**
 * The family of an address text, or `undefined` when it is not an address.
 * @example `ipFamily('2001:db8::1') // 6`
 */
export function ipFamily(text: string): IpFamily | undefined {
  const b = parseIp(text);
  return b === undefined ? undefined : b.length === 4 ? 4 : 6;
}

/**
 * Formats 4 or 16 address bytes as Go's `netip.Addr.String` does: a dotted quad, or RFC 5952 IPv6 text with an
 * IPv4-mapped address as `::ffff:a.b.c.d`. The family is kept.
 * @param bytes - 4 or 16 bytes
 * @throws RangeError for any other length
 * @example `formatIp(parseIp('2001:0DB8:0:0::1')!) // '2001:db8::1'`
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIPv4(bytes);
  if (bytes.length === 16) return formatIPv6(bytes);
  throw new RangeError(`an IP address is 4 or 16 bytes, not ${bytes.length}`);
}

/**
 * The address an IPv4-mapped IPv6 address maps (its last 4 bytes), as Go's `net.IP.To4`; any other address unchanged.
 * @example `unmapIp(parseIp('::ffff:192.0.2.1')!) // Uint8Array [192, 0, 2, 1]`
 */
export function unmapIp(bytes: Uint8Array): Uint8Array {
  return bytes.length === 16 && isIPv4Mapped(bytes) ? bytes.subarray(12) : bytes;
}

/**
 * The canonical text of a service IP: what MetalLB prints and hashes (`net.ParseIP(text).String()`). An IPv4-mapped
 * address prints as the IPv4 address it maps; every other address as {@link formatIp} prints it.
 * @param text - any accepted IPv4 or IPv6 text
 * @returns the canonical text, or `undefined` when `text` is not an address
 * @example `canonicalIp('::ffff:192.0.2.1') // '192.0.2.1'`, `canonicalIp('2001:DB8:0::01') // '2001:db8::1'`
 */
export function canonicalIp(text: string): string | undefined {
  const b = parseIp(text);
  return b === undefined ? undefined : formatIp(unmapIp(b));
}

/**
 * True when `text` is an IPv4 or IPv6 address by Go's rules.
 * @example `isIp('192.0.2.01') // false (a leading zero)`
 */
export function isIp(text: string): boolean {
  return parseIp(text) !== undefined;
}
