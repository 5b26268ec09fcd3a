/**
 * NLRI prefix lists on the wire (RFC 4271 §4.3, RFC 4760 §5, RFC 7911 §3) (internal).
 */
import {
  formatIPv4Prefix,
  formatIPv6Prefix,
  maskLastOctet,
  parsedPrefixLength,
  parseIPv4Prefix,
  parseIPv6Prefix,
} from './ip.js';
import { checkUint, type Writer } from './writer.js';

/**
 * Decodes the prefixes in `[p, end)` into `out` (and their path identifiers into `ids` when add-path is on).
 * Returns false when the field is syntactically incorrect (RFC 7606 §5.3: a length over the maximum, or a prefix
 * overrunning the field).
 */
export function decodePrefixes(
  b: Uint8Array,
  v: DataView,
  p: number,
  end: number,
  v6: boolean,
  out: string[],
  ids: number[] | undefined,
): boolean {
  const max = v6 ? 128 : 32;
  while (p < end) {
    if (ids !== undefined) {
      if (p + 5 > end) return false;
      ids.push(v.getUint32(p));
      p += 4;
    }
    const len = b[p++]!;
    if (len > max) return false;
    const nb = (len + 7) >>> 3;
    if (p + nb > end) return false;
    out.push(v6 ? formatIPv6Prefix(b, p, len) : formatIPv4Prefix(b, p, len));
    p += nb;
  }
  return true;
}

/** Writes one IPv4 prefix (with its path identifier first when `pathId` is defined); RangeError when invalid. */
export function writeIPv4Prefix(w: Writer, prefix: string, pathId: number | undefined): void {
  const ip = typeof prefix === 'string' ? parseIPv4Prefix(prefix) : -1;
  if (ip < 0) throw new RangeError(`not an IPv4 prefix: ${JSON.stringify(prefix)}`);
  const len = parsedPrefixLength;
  const nb = (len + 7) >>> 3;
  const extra = pathId === undefined ? 0 : 4;
  w.ensure(1 + nb + extra);
  const buf = w.buf;
  let pos = w.pos;
  if (extra) {
    w.view.setUint32(pos, checkUint('path identifier', pathId, 0xffffffff));
    pos += 4;
  }
  buf[pos++] = len;
  if (nb > 0) buf[pos] = ip / 16777216;
  if (nb > 1) buf[pos + 1] = ip >>> 16;
  if (nb > 2) buf[pos + 2] = ip >>> 8;
  if (nb > 3) buf[pos + 3] = ip;
  maskLastOctet(buf, pos, len);
  w.pos = pos + nb;
}

const addr6 = new Uint8Array(16);

/** Writes one IPv6 prefix (with its path identifier first when `pathId` is defined); RangeError when invalid. */
export function writeIPv6Prefix(w: Writer, prefix: string, pathId: number | undefined): void {
  const len = typeof prefix === 'string' ? parseIPv6Prefix(prefix, addr6, 0) : -1;
  if (len < 0) throw new RangeError(`not an IPv6 prefix: ${JSON.stringify(prefix)}`);
  const nb = (len + 7) >>> 3;
  const extra = pathId === undefined ? 0 : 4;
  w.ensure(1 + nb + extra);
  if (extra) {
    w.view.setUint32(w.pos, checkUint('path identifier', pathId, 0xffffffff));
    w.pos += 4;
  }
  w.buf[w.pos++] = len;
  for (let i = 0; i < nb; i++) w.buf[w.pos + i] = addr6[i]!;
  maskLastOctet(w.buf, w.pos, len);
  w.pos += nb;
}

/** Encoded size of a prefix (length octet plus address octets), or -1 when it is not a prefix of that family. */
export function prefixSize(prefix: string, v6: boolean): number {
  if (v6) {
    const len = parseIPv6Prefix(prefix, addr6, 0);
    return len < 0 ? -1 : 1 + ((len + 7) >>> 3);
  }
  const ip = parseIPv4Prefix(prefix);
  return ip < 0 ? -1 : 1 + ((parsedPrefixLength + 7) >>> 3);
}

/** True when the text looks like an IPv6 prefix (contains ':'), false for IPv4. */
export function isIPv6Text(prefix: string): boolean {
  return prefix.indexOf(':') >= 0;
}

/** Writes an already parsed IPv4 prefix (`ip` as uint32, `len`) at `pos`; returns the next position. No bounds check. */
export function putIPv4Prefix(buf: Uint8Array, pos: number, ip: number, len: number): number {
  const nb = (len + 7) >>> 3;
  buf[pos++] = len;
  if (nb > 0) buf[pos] = ip / 16777216;
  if (nb > 1) buf[pos + 1] = ip >>> 16;
  if (nb > 2) buf[pos + 2] = ip >>> 8;
  if (nb > 3) buf[pos + 3] = ip;
  maskLastOctet(buf, pos, len);
  return pos + nb;
}

/** Parses an IPv6 prefix into the shared 16-octet scratch; returns its length or -1. Read it with {@link putIPv6Prefix}. */
export function parseIPv6PrefixScratch(prefix: string): number {
  return typeof prefix === 'string' ? parseIPv6Prefix(prefix, addr6, 0) : -1;
}

/** Writes the prefix last parsed by {@link parseIPv6PrefixScratch} at `pos`; returns the next position. No bounds check. */
export function putIPv6Prefix(buf: Uint8Array, pos: number, len: number): number {
  const nb = (len + 7) >>> 3;
  buf[pos++] = len;
  for (let i = 0; i < nb; i++) buf[pos + i] = addr6[i]!;
  maskLastOctet(buf, pos, len);
  return pos + nb;
}
