/**
 * Byte-level IP text fast paths for codecs: no regular expressions, no exceptions, no allocation on the formatting
 * side beyond the result string. Parsers return -1 / false on bad input so the caller chooses its error type.
 *
 * Acceptance follows Go's `net/netip.ParseAddr` (what `net.ParseIP` applies since Go 1.17, and so what MetalLB
 * accepts): a dotted quad of four decimal fields 0-255 without leading zeros; RFC 4291 §2.2 IPv6 text with at most one
 * `::`, groups of 1-4 hex digits in either case, and an optional dotted quad as the last 32 bits; no zone (`%eth0`), no
 * brackets, no surrounding spaces.
 *
 * Formatting follows Go's `netip.Addr.String` (RFC 5952): lower-case hex, the longest run of two or more zero groups
 * (the leftmost on a tie) as `::`, and an IPv4-mapped address (`::ffff:0:0/96`) in mixed notation `::ffff:192.0.2.1`
 * (RFC 5952 §5). The family the bytes were written in is kept: 16 bytes always print as IPv6.
 * @module
 */

const HEX = '0123456789abcdef';

/**
 * Parses a dotted-quad IPv4 address in `s` from index `from` to `to` (exclusive) into an unsigned 32-bit number.
 * @param s - the text, e.g. `192.0.2.1`
 * @param from - index of the first character (default 0)
 * @param to - index one past the last character (default `s.length`)
 * @returns the address as a number in 0..2^32-1, or -1 when the text is not an IPv4 address
 * @example `parseIPv4('192.0.2.1') // 3221225985`
 */
export function parseIPv4(s: string, from = 0, to = s.length): number {
  let fields = 0;
  let val = 0;
  let digits = 0;
  let out = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && val === 0) return -1; // leading zero
      val = val * 10 + (c - 48);
      digits++;
      if (val > 255) return -1;
    } else if (c === 46) {
      if (digits === 0 || fields === 3) return -1;
      out = out * 256 + val;
      fields++;
      val = 0;
      digits = 0;
    } else {
      return -1;
    }
  }
  if (digits === 0 || fields !== 3) return -1;
  return out * 256 + val;
}

/**
 * Parses IPv6 text in `s` from index `from` to `to` (exclusive) into 16 bytes at `out[off]`.
 * @param s - the text, e.g. `2001:db8::1` or `::ffff:192.0.2.1`
 * @param out - receives the 16 address bytes (untouched when the text is not an address)
 * @param off - where in `out` (default 0); `out` must hold `off + 16` bytes
 * @param from - index of the first character (default 0)
 * @param to - index one past the last character (default `s.length`)
 * @returns false when the text is not an IPv6 address
 * @example `parseIPv6Into('2001:db8::1', bytes) // true; bytes[15] === 1`
 */
export function parseIPv6Into(s: string, out: Uint8Array, off = 0, from = 0, to = s.length): boolean {
  // groups before and after '::'
  const head: number[] = [];
  const tail: number[] = [];
  let cur = head;
  let seenDouble = false;
  let i = from;
  if (to - from < 2) return false;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    seenDouble = true;
    cur = tail;
    i += 2;
  }
  while (i < to) {
    let v = 0;
    let digits = 0;
    const start = i;
    for (; i < to; i++) {
      const c = s.charCodeAt(i);
      let h: number;
      if (c >= 48 && c <= 57) h = c - 48;
      else if (c >= 97 && c <= 102) h = c - 87;
      else if (c >= 65 && c <= 70) h = c - 55;
      else break;
      v = v * 16 + h;
      if (++digits > 4) return false;
    }
    if (i < to && s.charCodeAt(i) === 46) {
      // an embedded dotted quad: the last 32 bits
      const ip = parseIPv4(s, start, to);
      if (ip < 0) return false;
      cur.push(Math.floor(ip / 65536), ip % 65536);
      i = to;
      break;
    }
    if (digits === 0) return false;
    cur.push(v);
    if (i === to) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i === to) return false; // a trailing single colon
    if (s.charCodeAt(i) === 58) {
      if (seenDouble) return false; // a second ::
      seenDouble = true;
      cur = tail;
      i++;
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

/**
 * Parses the decimal prefix length after a CIDR's `/` in `s` from index `from` to `to` (exclusive), as Go's
 * `net.ParseCIDR` (what MetalLB applies): one or more digits, leading zeros allowed, at most `max`.
 * @param max - 32 for IPv4, 128 for IPv6
 * @returns the length, or -1 when the text is not one
 * @example `parsePrefixLength('192.0.2.0/24', 10, 12, 32) // 24`
 */
export function parsePrefixLength(s: string, from: number, to: number, max: number): number {
  if (from >= to) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
    if (n > max) return -1;
  }
  return n;
}

/**
 * Formats 4 bytes at `off` of `b` as a dotted quad.
 * @example `formatIPv4(Uint8Array.of(192, 0, 2, 1)) // '192.0.2.1'`
 */
export function formatIPv4(b: Uint8Array, off = 0): string {
  return `${b[off]}.${b[off + 1]}.${b[off + 2]}.${b[off + 3]}`;
}

/**
 * Formats an unsigned 32-bit number as a dotted quad.
 * @example `formatIPv4Number(0xc0000201) // '192.0.2.1'`
 */
export function formatIPv4Number(ip: number): string {
  return `${(ip >>> 24) & 255}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}`;
}

/**
 * True when the 16 bytes at `off` of `b` are an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2).
 * @example `isIPv4Mapped(bytesOf('::ffff:192.0.2.1')) // true`
 */
export function isIPv4Mapped(b: Uint8Array, off = 0): boolean {
  if (b[off + 10] !== 0xff || b[off + 11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return false;
  return true;
}

/**
 * Formats 16 bytes at `off` of `b` as Go's `netip.Addr.String` does: RFC 5952 text, and `::ffff:a.b.c.d` for an
 * IPv4-mapped address.
 * @example `formatIPv6(bytesOf('2001:0db8:0:0:0:0:0:1')) // '2001:db8::1'`
 */
export function formatIPv6(b: Uint8Array, off = 0): string {
  if (isIPv4Mapped(b, off)) return `::ffff:${formatIPv4(b, off + 12)}`;
  // the longest run (length >= 2) of zero groups, leftmost on ties
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let g = 0; g <= 8; g++) {
    const zero = g < 8 && b[off + 2 * g] === 0 && b[off + 2 * g + 1] === 0;
    if (zero) {
      if (runStart < 0) runStart = g;
    } else if (runStart >= 0) {
      if (g - runStart > bestLen) {
        bestLen = g - runStart;
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
