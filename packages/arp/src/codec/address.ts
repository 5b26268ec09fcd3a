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
 * Parses a dotted-quad IPv4 address into 4 bytes.
 * @throws {@link CodecError} (`address`, `invalid-field`).
 * @example `parseIPv4('192.0.2.1') // Uint8Array [192, 0, 2, 1]`
 */
export function parseIPv4(ip: string): Uint8Array {
  const parts = ip.split('.');
  if (parts.length !== 4)
    throw new CodecError('address', 'invalid-field', `not an IPv4 address: ${JSON.stringify(ip)}`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) {
      throw new CodecError('address', 'invalid-field', `not an IPv4 address: ${JSON.stringify(ip)}`);
    }
    out[i] = Number(p);
  }
  return out;
}

/**
 * Formats 4 bytes at `offset` of `b` as a dotted quad.
 * @example `formatIPv4(new Uint8Array([192, 0, 2, 1])) // '192.0.2.1'`
 */
export function formatIPv4(b: Uint8Array, offset = 0): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/**
 * Parses an IPv6 address (RFC 4291 text forms, including `::` and a trailing dotted quad; no zone) into 16 bytes.
 * @throws {@link CodecError} (`address`, `invalid-field`).
 * @example `parseIPv6('2001:db8::1')[15] // 1`
 */
export function parseIPv6(ip: string): Uint8Array {
  const bad = () => new CodecError('address', 'invalid-field', `not an IPv6 address: ${JSON.stringify(ip)}`);
  let text = ip;
  const words: number[] = [];
  const tail: number[] = [];
  const dot = text.lastIndexOf('.');
  if (dot >= 0) {
    const colon = text.lastIndexOf(':');
    if (colon < 0) throw bad();
    let v4: Uint8Array;
    try {
      v4 = parseIPv4(text.slice(colon + 1));
    } catch {
      throw bad();
    }
    tail.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    text = text.slice(0, colon + 1);
    if (text.endsWith('::')) {
      /* keep */
    } else if (text.endsWith(':')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) throw bad();
  const parse = (s: string): number[] => {
    if (s === '') return [];
    return s.split(':').map((w) => {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) throw bad();
      return Number.parseInt(w, 16);
    });
  };
  const head = parse(halves[0]!);
  if (halves.length === 2) {
    const rest = [...parse(halves[1]!), ...tail];
    const fill = 8 - head.length - rest.length;
    if (fill < 1) throw bad();
    words.push(...head, ...new Array<number>(fill).fill(0), ...rest);
  } else {
    words.push(...head, ...tail);
  }
  if (words.length !== 8) throw bad();
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  return out;
}

/**
 * Formats 16 bytes at `offset` of `b` as an RFC 5952 canonical IPv6 address (lowercase, longest zero run compressed).
 * @example `formatIPv6(parseIPv6('2001:0db8:0:0:0:0:0:1')) // '2001:db8::1'`
 */
export function formatIPv6(b: Uint8Array, offset = 0): string {
  const w: number[] = [];
  for (let i = 0; i < 8; i++) w.push((b[offset + i * 2]! << 8) | b[offset + i * 2 + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(w);
  return `${hex(w.slice(0, bestStart))}::${hex(w.slice(bestStart + bestLen))}`;
}

/**
 * Returns the canonical text of an IPv4 or IPv6 address, or `undefined` when `ip` is neither.
 * @example `canonicalIp('2001:DB8:0::01') // '2001:db8::1'`
 */
export function canonicalIp(ip: string): string | undefined {
  try {
    return ip.includes(':') ? formatIPv6(parseIPv6(ip)) : formatIPv4(parseIPv4(ip));
  } catch {
    return undefined;
  }
}

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
