/**
 * Fast IPv4/IPv6 address and prefix parsing and formatting, without regular expressions (internal).
 * Parsers return -1 / false on bad input instead of throwing, so callers choose the error type.
 */

/** Decimal strings of 0..255, so formatting an IPv4 address is four lookups. */
const OCTET: string[] = Array.from({ length: 256 }, (_, i) => String(i));
/** '/0' .. '/128'. */
const SLASH: string[] = Array.from({ length: 129 }, (_, i) => `/${i}`);
/** Mask of the first `n` bits of an octet, n = 0..8. */
const HIGH_BITS = Uint8Array.of(0x00, 0x80, 0xc0, 0xe0, 0xf0, 0xf8, 0xfc, 0xfe, 0xff);
const HEX = '0123456789abcdef';

/** Prefix length of the last successful {@link parseIPv4Prefix} call. */
export let parsedPrefixLength = 0;

/**
 * Parses 'a.b.c.d/len' (or a bare address, as /32) into a uint32 with host bits kept; sets {@link parsedPrefixLength}.
 * Returns -1 when the text is not an IPv4 prefix.
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
      if (digits === 0 || dots === 3) return -1;
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
  if (digits === 0 || dots !== 3) return -1;
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
  const ip = parseIPv4Prefix(s);
  return ip >= 0 && s.indexOf('/') < 0 ? ip : -1;
}

/** Formats four octets at `off` as a dotted quad. */
export function formatIPv4(b: Uint8Array, off: number): string {
  return `${OCTET[b[off]!]}.${OCTET[b[off + 1]!]}.${OCTET[b[off + 2]!]}.${OCTET[b[off + 3]!]}`;
}

/** Formats a uint32 as a dotted quad. */
export function formatIPv4Number(ip: number): string {
  return `${OCTET[(ip >>> 24) & 255]}.${OCTET[(ip >>> 16) & 255]}.${OCTET[(ip >>> 8) & 255]}.${OCTET[ip & 255]}`;
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
  // groups before and after '::'
  const head: number[] = [];
  const tail: number[] = [];
  let cur = head;
  let seenDouble = false;
  let i = 0;
  if (end === 0) return false;
  if (s.charCodeAt(0) === 58) {
    if (end < 2 || s.charCodeAt(1) !== 58) return false;
    seenDouble = true;
    cur = tail;
    i = 2;
    if (i === end) {
      out.fill(0, off, off + 16);
      return true;
    }
  }
  while (i < end) {
    // read a group (hex) or a dotted quad
    let v = 0;
    let digits = 0;
    const start = i;
    while (i < end) {
      const c = s.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else if (c >= 65 && c <= 70) d = c - 55;
      else break;
      v = v * 16 + d;
      if (++digits > 4) return false;
      i++;
    }
    if (i < end && s.charCodeAt(i) === 46) {
      // embedded IPv4: must be the last part
      const ip = parseIPv4(s.slice(start, end));
      if (ip < 0) return false;
      cur.push((ip >>> 16) & 0xffff, ip & 0xffff);
      i = end;
      break;
    }
    if (digits === 0) return false;
    cur.push(v);
    if (i === end) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < end && s.charCodeAt(i) === 58) {
      if (seenDouble) return false;
      seenDouble = true;
      cur = tail;
      i++;
      if (i === end) break;
    } else if (i === end) {
      return false;
    }
  }
  const total = head.length + tail.length;
  if (seenDouble ? total > 7 : total !== 8) return false;
  out.fill(0, off, off + 16);
  for (let g = 0; g < head.length; g++) {
    out[off + 2 * g] = head[g]! >>> 8;
    out[off + 2 * g + 1] = head[g]! & 0xff;
  }
  const t0 = 8 - tail.length;
  for (let g = 0; g < tail.length; g++) {
    out[off + 2 * (t0 + g)] = tail[g]! >>> 8;
    out[off + 2 * (t0 + g) + 1] = tail[g]! & 0xff;
  }
  return true;
}

/** Formats 16 octets at `off` as an IPv6 address in RFC 5952 canonical form. */
export function formatIPv6(b: Uint8Array, off: number): string {
  // find the longest run (length >= 2) of zero groups, leftmost on ties
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && b[off + 2 * g] === 0 && b[off + 2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      const len = g - runStart;
      if (len > bestLen) {
        bestLen = len;
        bestStart = runStart;
      }
      runStart = -1;
    }
  }
  let out = '';
  for (let g = 0; g < 8; g++) {
    if (g === bestStart) {
      out += g === 0 ? '::' : ':';
      g += bestLen - 1;
      continue;
    }
    const v = (b[off + 2 * g]! << 8) | b[off + 2 * g + 1]!;
    let h: string;
    if (v >= 0x1000) h = HEX[v >>> 12]! + HEX[(v >>> 8) & 15]! + HEX[(v >>> 4) & 15]! + HEX[v & 15]!;
    else if (v >= 0x100) h = HEX[v >>> 8]! + HEX[(v >>> 4) & 15]! + HEX[v & 15]!;
    else if (v >= 0x10) h = HEX[v >>> 4]! + HEX[v & 15]!;
    else h = HEX[v]!;
    out += g === 7 ? h : `${h}:`;
  }
  return out;
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
  const n = s.length;
  if (n - slash - 1 < 1 || n - slash - 1 > 3) return -1;
  let len = 0;
  for (let i = slash + 1; i < n; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    len = len * 10 + c;
  }
  return len > 128 ? -1 : len;
}

/** Masks the last octet of a prefix's wire form in place: keeps the first `len & 7` bits of `b[off + nb - 1]`. */
export function maskLastOctet(b: Uint8Array, off: number, len: number): void {
  const rem = len & 7;
  if (rem !== 0) {
    const i = off + ((len + 7) >>> 3) - 1;
    b[i]! &= HIGH_BITS[rem]!;
  }
}
