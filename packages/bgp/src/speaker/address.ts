/**
 * Small IP address helpers the speaker needs (the codec itself takes addresses and prefixes as strings).
 * @module
 */

import { isIPv4, isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';

/**
 * Converts an IPv4 or IPv6 address string to its 4 or 16 network-order bytes.
 * @throws TypeError when `address` is not an IP address
 */
export function addressToBytes(address: string): Uint8Array {
  if (isIPv4(address)) return Uint8Array.from(address.split('.').map(Number));
  if (!isIPv6(address)) throw new TypeError(`not an IP address: ${address}`);
  let text = address.replace(/%.*$/, '');
  const out = new Uint8Array(16);
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4?.[1]) {
    const b = addressToBytes(v4[1]);
    const hex = (n: number) => n.toString(16);
    text = `${text.slice(0, -v4[1].length)}${hex(((b[0] ?? 0) << 8) | (b[1] ?? 0))}:${hex(((b[2] ?? 0) << 8) | (b[3] ?? 0))}`;
  }
  const [head = '', tail] = text.split('::');
  const h = head === '' ? [] : head.split(':');
  const t = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = tail === undefined ? h : [...h, ...new Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, i) => {
    const n = Number.parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  });
  return out;
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
