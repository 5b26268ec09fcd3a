/**
 * IP text as memberlist and MetalLB see it: Go's `net.ParseIP` and `net.IP.String()`, from `@ingot/net` (the one
 * canonical IP text). An IPv4-mapped address prints as the IPv4 address it maps, as Go's `net.IP` prints it.
 * @module
 */

import { canonicalIp as netCanonicalIp, formatIp as netFormatIp, parseIp as netParseIp, unmapIp } from '@ingot/net';
import { CodecError } from './errors.js';

/**
 * Parses an IPv4 or IPv6 address text into its 4 or 16 bytes (Go's rules: no leading zeros, no zone).
 * @param text - e.g. `192.0.2.1` or `2001:db8::1`
 * @returns the address bytes
 * @throws {@link CodecError} with code `bad-address` when the text is not an address
 */
export function parseIp(text: string): Uint8Array {
  const bytes = netParseIp(text);
  if (!bytes) throw new CodecError('bad-address', `not an IP address: ${JSON.stringify(text)}`);
  return bytes;
}

/**
 * Formats 4 or 16 address bytes the way Go's `net.IP.String()` does: dotted quad for IPv4 and IPv4-mapped IPv6,
 * RFC 5952 lower-case compressed text for other IPv6.
 * @param bytes - 4 or 16 bytes
 * @returns canonical text
 * @throws {@link CodecError} with code `bad-address` for any other length
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length !== 4 && bytes.length !== 16) {
    throw new CodecError('bad-address', `address must be 4 or 16 bytes, got ${bytes.length}`);
  }
  return netFormatIp(unmapIp(bytes));
}

/**
 * Normalises an address text to Go's `net.IP.String()` form (what MetalLB hashes for leader choice): `@ingot/net`'s
 * `canonicalIp`.
 * @param text - any IPv4 or IPv6 text, e.g. `2001:DB8:0:0::1`
 * @returns e.g. `2001:db8::1`
 * @throws {@link CodecError} with code `bad-address` when the text is not an address
 */
export function canonicalIp(text: string): string {
  const c = netCanonicalIp(text);
  if (c === undefined) throw new CodecError('bad-address', `not an IP address: ${JSON.stringify(text)}`);
  return c;
}
