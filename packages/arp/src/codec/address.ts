import {
  canonicalIp as netCanonicalIp,
  formatIPv4 as netFormatIPv4,
  formatIPv6 as netFormatIPv6,
  parseIPv4 as netParseIPv4,
  parseIPv6Into,
} from '@ingot/net';
import { CodecError } from './errors.js';

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The Ethernet broadcast address. */
export const BROADCAST_MAC = 'ff:ff:ff:ff:ff:ff';
/** The all-zero MAC, used as the target hardware address of ARP requests. */
export const ZERO_MAC = '00:00:00:00:00:00';
/** The IPv6 all-nodes link-local multicast group, destination of unsolicited Neighbor Advertisements. */
export const ALL_NODES_IPV6 = 'ff02::1';

/**
 * Parses a MAC written as six hex octets separated by `:` or `-` into 6 bytes.
 * @throws {@link CodecError} (`address`, `invalid-field`) for anything else.
 * @example `parseMac('02:aa:00:00:00:01') // Uint8Array [2, 170, 0, 0, 0, 1]`
 */
export function parseMac(mac: string): Uint8Array {
  const parts = mac.split(/[:-]/);
  if (parts.length !== 6) throw new CodecError('address', 'invalid-field', `not a MAC address: ${JSON.stringify(mac)}`);
  const out = new Uint8Array(6);
  for (let i = 0; i < 6; i++) {
    const p = parts[i]!;
    if (!/^[0-9a-fA-F]{1,2}$/.test(p)) {
      throw new CodecError('address', 'invalid-field', `not a MAC address: ${JSON.stringify(mac)}`);
    }
    out[i] = Number.parseInt(p, 16);
  }
  return out;
}

/**
 * Formats 6 bytes at `offset` of `b` as a lowercase colon-separated MAC.
 * @example `formatMac(new Uint8Array([2, 170, 0, 0, 0, 1])) // '02:aa:00:00:00:01'`
 */
export function formatMac(b: Uint8Array, offset = 0): string {
  return `${HEX[b[offset]!]}:${HEX[b[offset + 1]!]}:${HEX[b[offset + 2]!]}:${HEX[b[offset + 3]!]}:${HEX[b[offset + 4]!]}:${HEX[b[offset + 5]!]}`;
}

/**
 * Parses a dotted-quad IPv4 address into 4 bytes (`@ingot/net`'s rules, Go's: no leading zeros).
 * @throws {@link CodecError} (`address`, `invalid-field`).
 * @example `parseIPv4('192.0.2.1') // Uint8Array [192, 0, 2, 1]`
 */
export function parseIPv4(ip: string): Uint8Array {
  const n = netParseIPv4(ip);
  if (n < 0) throw new CodecError('address', 'invalid-field', `not an IPv4 address: ${JSON.stringify(ip)}`);
  return Uint8Array.of(n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
}

/**
 * Formats 4 bytes at `offset` of `b` as a dotted quad (`@ingot/net`'s `formatIPv4`).
 * @example `formatIPv4(new Uint8Array([192, 0, 2, 1])) // '192.0.2.1'`
 */
export const formatIPv4: (b: Uint8Array, offset?: number) => string = netFormatIPv4;

/**
 * Parses an IPv6 address (RFC 4291 text forms, including `::` and a trailing dotted quad; no zone) into 16 bytes
 * (`@ingot/net`'s rules).
 * @throws {@link CodecError} (`address`, `invalid-field`).
 * @example `parseIPv6('2001:db8::1')[15] // 1`
 */
export function parseIPv6(ip: string): Uint8Array {
  const out = new Uint8Array(16);
  if (!parseIPv6Into(ip, out)) {
    throw new CodecError('address', 'invalid-field', `not an IPv6 address: ${JSON.stringify(ip)}`);
  }
  return out;
}

/**
 * Formats 16 bytes at `offset` of `b` as RFC 5952 canonical IPv6 text (lowercase, longest zero run compressed, an
 * IPv4-mapped address as `::ffff:192.0.2.1`): `@ingot/net`'s `formatIPv6`, Go's `netip.Addr.String`.
 * @example `formatIPv6(parseIPv6('2001:0db8:0:0:0:0:0:1')) // '2001:db8::1'`
 */
export const formatIPv6: (b: Uint8Array, offset?: number) => string = netFormatIPv6;

/**
 * Returns the canonical text of an IPv4 or IPv6 address, or `undefined` when `ip` is neither: `@ingot/net`'s
 * `canonicalIp` (Go's `net.IP.String`, what MetalLB keys on), so an IPv4-mapped address is the IPv4 address it maps and
 * is answered by ARP, as MetalLB announces it.
 * @example `canonicalIp('2001:DB8:0::01') // '2001:db8::1'`
 */
export const canonicalIp: (ip: string) => string | undefined = netCanonicalIp;

/**
 * The solicited-node multicast address (RFC 4291 §2.7.1, `ff02::1:ffXX:XXXX`) of an IPv6 address.
 * @example `solicitedNodeAddress('2001:db8::1:2:3') // 'ff02::1:ff02:3'`
 */
export function solicitedNodeAddress(ip: string): string {
  const b = parseIPv6(ip);
  const s = parseIPv6('ff02::1:ff00:0');
  s[13] = b[13]!;
  s[14] = b[14]!;
  s[15] = b[15]!;
  return formatIPv6(s);
}

/**
 * The Ethernet multicast MAC (RFC 2464 §7, `33:33:` + last 32 bits) of an IPv6 multicast address; for a unicast
 * address, the MAC of its solicited-node group (`33:33:ff:XX:XX:XX`).
 * @example `ipv6MulticastMac('2001:db8::1') // '33:33:ff:00:00:01'`
 */
export function ipv6MulticastMac(ip: string): string {
  const b = parseIPv6(ip);
  if (b[0] !== 0xff) return ipv6MulticastMac(solicitedNodeAddress(ip));
  return `33:33:${HEX[b[12]!]}:${HEX[b[13]!]}:${HEX[b[14]!]}:${HEX[b[15]!]}`;
}
