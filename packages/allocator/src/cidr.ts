/**
 * Pool address entries: CIDRs (`192.0.2.0/24`, host bits ignored), ranges (`A-B`, spaces allowed, summarized into
 * the minimal CIDR list) and their arithmetic, with the error texts of MetalLB's `config.ParseCIDR`.
 */
import { parsePrefixLength } from '@ingot/net';
import { type Family, familyBits, formatIp, isBuggyIp, parseIp, parseIpRange } from './address.js';
import { goQuote } from './errors.js';

/** A CIDR prefix: family, network address (host bits cleared) and prefix length. */
export interface Prefix {
  /** 4 or 6. */
  readonly family: Family;
  /** First address of the prefix. */
  readonly first: bigint;
  /** Last address of the prefix. */
  readonly last: bigint;
  /** Prefix length, 0 to 32 or 128. */
  readonly length: number;
}

/** Renders a prefix as Go's `net.IPNet.String` does, e.g. `192.0.2.0/24`. */
export function formatPrefix(p: Prefix): string {
  return `${formatIp(p.family, p.first)}/${p.length}`;
}

/** Builds the prefix of the given length that contains `value`. */
export function prefixOf(family: Family, value: bigint, length: number): Prefix {
  const hostBits = BigInt(familyBits(family) - length);
  const first = (value >> hostBits) << hostBits;
  return { family, first, last: first + (1n << hostBits) - 1n, length };
}

/** Go's `unicode.IsSpace` set, which `strings.TrimSpace` removes. */
function isGoSpace(c: number): boolean {
  return (
    (c >= 9 && c <= 13) ||
    c === 32 ||
    c === 0x85 ||
    c === 0xa0 ||
    c === 0x1680 ||
    (c >= 0x2000 && c <= 0x200a) ||
    c === 0x2028 ||
    c === 0x2029 ||
    c === 0x202f ||
    c === 0x205f ||
    c === 0x3000
  );
}

/** Go's `strings.TrimSpace`. */
export function goTrimSpace(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && isGoSpace(s.charCodeAt(a))) a++;
  while (b > a && isGoSpace(s.charCodeAt(b - 1))) b--;
  return s.slice(a, b);
}

/** Go's `net.ParseCIDR`: `addr/len`, decimal length (leading zeros allowed), host bits cleared. */
export function parseCidr(s: string): Prefix | undefined {
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIpRange(s, 0, slash);
  if (ip === undefined) return undefined;
  const n = parsePrefixLength(s, slash + 1, s.length, familyBits(ip.family));
  return n < 0 ? undefined : prefixOf(ip.family, ip.value, n);
}

function trailingZeros(v: bigint, max: number): number {
  if (v === 0n) return max;
  let n = 0;
  while (n < max && ((v >> BigInt(n)) & 1n) === 0n) n++;
  return n;
}

/** The minimal list of CIDRs covering exactly `[first, last]`, ascending (`ipaddr.Summarize`). */
export function summarize(family: Family, first: bigint, last: bigint): Prefix[] {
  const bits = familyBits(family);
  const out: Prefix[] = [];
  let cur = first;
  while (cur <= last) {
    let host = trailingZeros(cur, bits);
    while (host > 0 && cur + (1n << BigInt(host)) - 1n > last) host--;
    const p: Prefix = { family, first: cur, last: cur + (1n << BigInt(host)) - 1n, length: bits - host };
    out.push(p);
    cur = p.last + 1n;
  }
  return out;
}

/** Result of {@link parseAddressEntry}: the prefixes, or MetalLB's error text. */
export type AddressEntryResult = { ok: true; prefixes: Prefix[] } | { ok: false; error: string };

/**
 * Parses one `spec.addresses` entry the way MetalLB's `config.ParseCIDR` does: a CIDR when it has no `-`, otherwise
 * a range `A-B` whose ends are trimmed of spaces and must satisfy A ≤ B.
 *
 * Divergence: a range whose ends are of different families is rejected (MetalLB accepts it silently and gets no
 * addresses from it).
 */
export function parseAddressEntry(entry: string): AddressEntryResult {
  const dash = entry.indexOf('-');
  if (dash < 0) {
    const p = parseCidr(entry);
    return p === undefined ? { ok: false, error: `invalid CIDR ${goQuote(entry)}` } : { ok: true, prefixes: [p] };
  }
  const rawStart = entry.slice(0, dash);
  const rawEnd = entry.slice(dash + 1);
  const start = parseIp(goTrimSpace(rawStart));
  if (start === undefined) {
    return { ok: false, error: `invalid IP range ${goQuote(entry)}: invalid start IP ${goQuote(rawStart)}` };
  }
  const end = parseIp(goTrimSpace(rawEnd));
  if (end === undefined) {
    return { ok: false, error: `invalid IP range ${goQuote(entry)}: invalid end IP ${goQuote(rawEnd)}` };
  }
  const startText = formatIp(start.family, start.value);
  const endText = formatIp(end.family, end.value);
  if (start.family !== end.family) {
    return {
      ok: false,
      error: `invalid IP range ${goQuote(entry)}: start IP ${goQuote(startText)} and end IP ${goQuote(endText)} are of different families`,
    };
  }
  if (start.value > end.value) {
    return {
      ok: false,
      error: `invalid IP range ${goQuote(entry)}: start IP ${goQuote(startText)} is after the end IP ${goQuote(endText)}`,
    };
  }
  return { ok: true, prefixes: summarize(start.family, start.value, end.value) };
}

/** Number of addresses of a prefix, less the .0/.255 addresses when `avoidBuggyIPs` is set (exact, unclamped). */
export function prefixCapacity(p: Prefix, avoidBuggyIPs: boolean): bigint {
  const size = p.last - p.first + 1n;
  if (!avoidBuggyIPs || p.family !== 4) return size;
  if (p.length <= 24) return size - (1n << BigInt(24 - p.length)) * 2n;
  let buggy = 0n;
  if (isBuggyIp(4, p.first)) buggy++;
  if (p.last !== p.first && isBuggyIp(4, p.last)) buggy++;
  return size - buggy;
}
