/**
 * IP addresses as bigint values, parsed and formatted by `@ingot/net` (the one IP text of the @ingot packages): Go's
 * `net/netip` acceptance rules (the rules MetalLB's `net.ParseIP`/`net.ParseCIDR` apply): dotted-quad IPv4 without
 * leading zeros, RFC 4291 IPv6 text with an optional embedded dotted quad, no zones, no brackets, no surrounding
 * spaces. Formatting is Go's `netip.Addr.String` (RFC 5952); an IPv4-mapped value keeps its family (`::ffff:a.b.c.d`).
 *
 * Not `ip-address`, because this is the hot path (every requested or restored IP is parsed, every result formatted):
 * `ip-address` takes about 3 µs to parse an IPv4 address, 5 µs for IPv6, and 9 µs to format IPv6, which alone would
 * spend the whole 1 s budget of 100,000 allocations. The test suite checks these functions against `ip-address` on
 * random inputs.
 */

import { formatIPv4Number, formatIPv6, parseIPv4, parseIPv6Into } from '@ingot/net';

/** Address family: 4 for IPv4, 6 for IPv6. */
export type Family = 4 | 6;

/** A parsed IP address: its family and its value as an unsigned integer (32 or 128 bits). */
export interface Ip {
  /** 4 or 6. */
  readonly family: Family;
  /** The address as an unsigned integer. */
  readonly value: bigint;
}

/** Number of bits of an address of the family. */
export function familyBits(family: Family): 32 | 128 {
  return family === 4 ? 32 : 128;
}

/** Scratch for the 16 bytes of an IPv6 address being parsed or formatted (single-threaded). */
const scratch = new Uint8Array(16);
const scratchView = new DataView(scratch.buffer);

/**
 * Parses an IP address with Go's `net.ParseIP` rules (no zone, no prefix, no spaces).
 * @param s - the text, e.g. `192.0.2.1` or `2001:db8::1`
 * @returns the address, or `undefined` when `s` is not an IP address
 */
export function parseIp(s: string): Ip | undefined {
  return parseIpRange(s, 0, s.length);
}

/** {@link parseIp} over `s.slice(from, to)` without slicing. */
export function parseIpRange(s: string, from: number, to: number): Ip | undefined {
  const colon = s.indexOf(':', from);
  if (colon < 0 || colon >= to) {
    const n = parseIPv4(s, from, to);
    return n < 0 ? undefined : { family: 4, value: BigInt(n) };
  }
  if (!parseIPv6Into(s, scratch, 0, from, to)) return undefined;
  const value =
    (BigInt(scratchView.getUint32(0)) << 96n) |
    (BigInt(scratchView.getUint32(4)) << 64n) |
    (BigInt(scratchView.getUint32(8)) << 32n) |
    BigInt(scratchView.getUint32(12));
  return { family: 6, value };
}

/** Formats an IPv6 value with `@ingot/net`'s `formatIPv6` (Go's `netip.Addr.String`, including `::ffff:a.b.c.d`). */
function formatV6(v: bigint): string {
  scratchView.setUint32(0, Number(v >> 96n));
  scratchView.setUint32(4, Number((v >> 64n) & 0xffffffffn));
  scratchView.setUint32(8, Number((v >> 32n) & 0xffffffffn));
  scratchView.setUint32(12, Number(v & 0xffffffffn));
  return formatIPv6(scratch);
}

/**
 * Formats an address as Go does (`net.IP.String`): dotted quad for IPv4, RFC 5952 for IPv6.
 * @param family - 4 or 6
 * @param value - the address as an unsigned integer
 */
export function formatIp(family: Family, value: bigint): string {
  return family === 4 ? formatIPv4Number(Number(value)) : formatV6(value);
}

/**
 * True for an IPv4 address ending in .0 or .255, the addresses `avoidBuggyIPs` keeps out of a pool (MetalLB's
 * `ipConfusesBuggyFirmwares`). Always false for IPv6.
 */
export function isBuggyIp(family: Family, value: bigint): boolean {
  if (family !== 4) return false;
  const low = Number(value & 255n);
  return low === 0 || low === 255;
}
