/**
 * Small IP address helpers the speaker needs (the codec itself takes addresses and prefixes as strings).
 * @module
 */

import { isIPv4 } from 'node:net';
import { networkInterfaces } from 'node:os';
import { parseIp } from '@ingot/net';

/**
 * Converts an IPv4 or IPv6 address string (an IPv6 zone such as `%eth0` is ignored) to its 4 or 16 network-order bytes,
 * with `@ingot/net`'s rules.
 * @throws TypeError when `address` is not an IP address
 */
export function addressToBytes(address: string): Uint8Array {
  const zone = address.indexOf('%');
  const bytes = parseIp(zone < 0 || !address.includes(':') ? address : address.slice(0, zone));
  if (!bytes) throw new TypeError(`not an IP address: ${address}`);
  return bytes;
}

/** Unsigned 32-bit value of a dotted-quad BGP identifier (for collision resolution, RFC 4271 §6.8). */
export function bgpIdToNumber(id: string): number {
  const b = addressToBytes(id);
  return (((b[0] ?? 0) << 24) | ((b[1] ?? 0) << 16) | ((b[2] ?? 0) << 8) | (b[3] ?? 0)) >>> 0;
}

/** The address family (4 or 6) of a prefix ('192.0.2.1/32') or address string. */
export function prefixFamily(prefix: string): 4 | 6 {
  return prefix.includes(':') ? 6 : 4;
}

/** Strips an IPv4-mapped IPv6 form ('::ffff:192.0.2.1' → '192.0.2.1') as Node reports it on dual-stack sockets. */
export function unmapAddress(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/**
 * Finds the IPv6 link-local address of the interface that holds `address` (RFC 2545 next hop), if it has one.
 * @param address a local address of this host (in the current network namespace)
 */
export function linkLocalFor(address: string): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    if (!list?.some((a) => a.address === address)) continue;
    return list.find((a) => a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80:'))?.address;
  }
  return undefined;
}
