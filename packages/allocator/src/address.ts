/**
 * IP address parsing and formatting over bigint, with Go's `net/netip` acceptance rules (the rules MetalLB's
 * `net.ParseIP`/`net.ParseCIDR` apply): dotted-quad IPv4 without leading zeros, RFC 4291 IPv6 text with an optional
 * embedded dotted quad, no zones, no brackets, no surrounding spaces. Formatting follows RFC 5952 as Go does.
 *
 * These are hand-written rather than delegated to `ip-address` because they sit on the hot path (every requested or
 * restored IP is parsed, every result formatted): `ip-address` takes about 3 µs to parse an IPv4 address, 5 µs for
 * IPv6, and 9 µs to format IPv6, which alone would spend the whole 1 s budget of 100,000 allocations. The test suite
 * checks these functions against `ip-address` on random inputs.
 */

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

/**
 * Parses an IPv4 dotted quad with Go's rules into a number, or returns -1.
 * @param s - the text, e.g. `192.0.2.1`
 * @param from - index of the first character
 * @param to - index one past the last character
 */
function parseV4Number(s: string, from: number, to: number): number {
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

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 text (Go rules, no zone) into 8 groups, or returns undefined. */
function parseV6Groups(s: string, from: number, to: number): number[] | undefined {
  const groups: number[] = [];
  let ellipsis = -1;
  let i = from;
  if (to - i >= 2 && s.charCodeAt(i) === 58 && s.charCodeAt(i + 1) === 58) {
    ellipsis = 0;
    i += 2;
    if (i === to) return [0, 0, 0, 0, 0, 0, 0, 0];
  }
  while (i < to) {
    let val = 0;
    let digits = 0;
    let j = i;
    for (; j < to; j++) {
      const h = hexValue(s.charCodeAt(j));
      if (h < 0) break;
      val = val * 16 + h;
      digits++;
      if (digits > 4) return undefined;
    }
    if (digits === 0) return undefined;
    if (j < to && s.charCodeAt(j) === 46) {
      // Embedded IPv4 in the last 32 bits.
      if (ellipsis < 0 && groups.length !== 6) return undefined;
      if (groups.length > 6) return undefined;
      const v4 = parseV4Number(s, i, to);
      if (v4 < 0) return undefined;
      groups.push(Math.floor(v4 / 65536), v4 % 65536);
      i = to;
      break;
    }
    groups.push(val);
    i = j;
    if (i === to) break;
    if (s.charCodeAt(i) !== 58) return undefined;
    i++;
    if (i === to) return undefined; // trailing single colon
    if (s.charCodeAt(i) === 58) {
      if (ellipsis >= 0) return undefined; // second ::
      ellipsis = groups.length;
      i++;
      if (i === to) break;
    }
    if (groups.length >= 8) return undefined;
  }
  if (groups.length > 8) return undefined;
  if (groups.length < 8) {
    if (ellipsis < 0) return undefined;
    const zeros = new Array<number>(8 - groups.length).fill(0);
    groups.splice(ellipsis, 0, ...zeros);
  } else if (ellipsis >= 0) {
    return undefined; // :: must stand for at least one group
  }
  return groups;
}

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
  let colon = false;
  for (let i = from; i < to; i++) {
    if (s.charCodeAt(i) === 58) {
      colon = true;
      break;
    }
  }
  if (!colon) {
    const n = parseV4Number(s, from, to);
    return n < 0 ? undefined : { family: 4, value: BigInt(n) };
  }
  const g = parseV6Groups(s, from, to);
  if (g === undefined) return undefined;
  const value =
    (BigInt(g[0]! * 65536 + g[1]!) << 96n) |
    (BigInt(g[2]! * 65536 + g[3]!) << 64n) |
    (BigInt(g[4]! * 65536 + g[5]!) << 32n) |
    BigInt(g[6]! * 65536 + g[7]!);
  return { family: 6, value };
}

/** Formats an IPv4 value as a dotted quad. */
function formatV4(v: bigint): string {
  const n = Number(v);
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const groups = new Array<number>(8).fill(0);

/** Formats an IPv6 value per RFC 5952 (as Go's `netip.Addr.String`, including `::ffff:a.b.c.d`). */
function formatV6(v: bigint): string {
  const w0 = Number(v >> 96n);
  const w1 = Number((v >> 64n) & 0xffffffffn);
  const w2 = Number((v >> 32n) & 0xffffffffn);
  const w3 = Number(v & 0xffffffffn);
  if (w0 === 0 && w1 === 0 && w2 === 0xffff) return `::ffff:${formatV4(BigInt(w3))}`;
  groups[0] = w0 >>> 16;
  groups[1] = w0 & 0xffff;
  groups[2] = w1 >>> 16;
  groups[3] = w1 & 0xffff;
  groups[4] = w2 >>> 16;
  groups[5] = w2 & 0xffff;
  groups[6] = w3 >>> 16;
  groups[7] = w3 & 0xffff;
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += '::';
      i += bestLen - 1;
      continue;
    }
    if (out !== '' && !out.endsWith(':')) out += ':';
    out += groups[i]!.toString(16);
  }
  return out;
}

/**
 * Formats an address as Go does (`net.IP.String`): dotted quad for IPv4, RFC 5952 for IPv6.
 * @param family - 4 or 6
 * @param value - the address as an unsigned integer
 */
export function formatIp(family: Family, value: bigint): string {
  return family === 4 ? formatV4(value) : formatV6(value);
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
