/**
 * Fast IPv4/IPv6 prefix parsing and formatting for the codec's wire forms, without regular expressions (internal).
 * Addresses are `@ingot/net`'s (the one IP text of the @ingot packages: Go's `netip` acceptance and text, so an
 * IPv4-mapped IPv6 next hop prints `::ffff:192.0.2.1`); this module adds the BGP prefix forms (a length and
 * ceil(length/8) octets). Parsers return -1 / false on bad input instead of throwing, so callers choose the error type.
 */

import {
  formatIPv4,
  formatIPv4Number,
  formatIPv6,
  parseIPv4 as netParseIPv4,
  parseIPv6Into as netParseIPv6Into,
  parsePrefixLength,
} from '@ingot/net';

export { formatIPv4, formatIPv4Number, formatIPv6 };

/** Decimal strings of 0..255, so formatting an IPv4 address is four lookups. */
const OCTET: string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** '/0' .. '/128'. */
const SLASH: string[] = Array.from({ length: 129 }, (_, i) => `/${i}`);
/** Mask of the first `n` bits of an octet, n = 0..8. */
const HIGH_BITS = Uint8Array.of(0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe, 0xff);

/** Prefix length of the last successful {@link parseIPv4Prefix} call. */
export let parsedPrefixLength = 0;

/**
 * Parses 'a.b.c.d/len' (or a bare address, as /32) into a uint32 with host bits kept; sets {@link parsedPrefixLength}.
 * Returns -1 when the text is not an IPv4 prefix. Accepts what `@ingot/net`'s `parseIPv4` accepts (Go's rules: no
 * leading zero in an octet) but in one pass over address and length: it runs once per prefix of an UPDATE, and
 * `parseIPv4` plus `parsePrefixLength` cost the codec benchmark's IPv4 encode ~20 % (A/B runs, same machine).
 */
export function parseIPv4Prefix(s: string): number {
  const n = s.length;
  let ip = 0;
  let oct = 0;
  let digits = 0;
  let dots = 0;
  let i = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      oct = oct * 10 + (c - 48);
      if (++digits > 3 || oct > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || dots === 3 || (digits > 1 && oct < (digits === 2 ? 10 : 100))) return -1; // a leading zero
      ip = ip * 256 + oct;
      oct = 0;
      digits = 0;
      dots++;
    } else if (c === 47) {
      break;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3 || (digits > 1 && oct < (digits === 2 ? 10 : 100))) return -1; // a leading zero
  ip = ip * 256 + oct;
  if (i === n) {
    parsedPrefixLength = 32;
    return ip;
  }
  // after '/'
  i++;
  if (i === n || n - i > 2) return -1;
  let len = 0;
  for (; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    len = len * 10 + c;
  }
  if (len > 32) return -1;
  parsedPrefixLength = len;
  return ip;
}

/** Parses a dotted-quad IPv4 address into a uint32, or -1. */
export function parseIPv4(s: string): number {
  return netParseIPv4(s);
}

/**
 * Formats the wire form of an IPv4 prefix: `len` and ceil(len/8) octets at `off` (trailing bits are masked, so the
 * result is canonical).
 */
export function formatIPv4Prefix(b: Uint8Array, off: number, len: number): string {
  const nb = (len + 7) >>> 3;
  let a = nb > 0 ? b[off]! : 0;
  let c1 = nb > 1 ? b[off + 1]! : 0;
  let c2 = nb > 2 ? b[off + 2]! : 0;
  let c3 = nb > 3 ? b[off + 3]! : 0;
  const rem = len & 7;
  if (rem !== 0) {
    const m = HIGH_BITS[rem]!;
    if (nb === 1) a &= m;
    else if (nb === 2) c1 &= m;
    else if (nb === 3) c2 &= m;
    else c3 &= m;
  }
  // consecutive prefixes in a table usually share their first three octets: reuse that part of the text
  const key = (a << 16) | (c1 << 8) | c2;
  if (key !== lastBaseKey) {
    lastBaseKey = key;
    lastBase = `${OCTET[a]}.${OCTET[c1]}.${OCTET[c2]}.`;
  }
  return lastBase + OCTET[c3]! + SLASH[len]!;
}

/** Cache of {@link formatIPv4Prefix}: the text of the last first-three-octets seen. */
let lastBaseKey = -1;
let lastBase = '';

/**
 * Parses an IPv6 address (RFC 4291 §2.2 text forms, including '::' and an embedded dotted quad) into 16 octets at
 * `out[off]`. Returns false when the text is not an IPv6 address. `end` bounds the text (exclusive).
 */
export function parseIPv6Into(s: string, end: number, out: Uint8Array, off: number): boolean {
  return netParseIPv6Into(s, out, off, 0, end);
}

const scratch6 = new Uint8Array(16);

/** Formats the wire form of an IPv6 prefix (`len`, ceil(len/8) octets at `off`), canonical (trailing bits masked). */
export function formatIPv6Prefix(b: Uint8Array, off: number, len: number): string {
  const nb = (len + 7) >>> 3;
  scratch6.fill(0);
  for (let i = 0; i < nb; i++) scratch6[i] = b[off + i]!;
  const rem = len & 7;
  if (rem !== 0) scratch6[nb - 1]! &= HIGH_BITS[rem]!;
  return formatIPv6(scratch6, 0) + SLASH[len]!;
}

/**
 * Parses 'addr/len' (or a bare address, as /128) as IPv6 into 16 octets at `out[off]`; returns the prefix length, or
 * -1 when the text is not an IPv6 prefix.
 */
export function parseIPv6Prefix(s: string, out: Uint8Array, off: number): number {
  const slash = s.indexOf('/');
  const end = slash < 0 ? s.length : slash;
  if (!parseIPv6Into(s, end, out, off)) return -1;
  if (slash < 0) return 128;
  return parsePrefixLength(s, slash + 1, s.length, 128);
}

/** Masks the last octet of a prefix's wire form in place: keeps the first `len & 7` bits of `b[off + nb - 1]`. */
export function maskLastOctet(b: Uint8Array, off: number, len: number): void {
  const rem = len & 7;
  if (rem !== 0) {
    const i = off + ((len + 7) >>> 3) - 1;
    b[i]! &= HIGH_BITS[rem]!;
  }
}
