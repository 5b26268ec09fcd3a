import { isIPv6 } from 'node:net';
import type { PeerFamily, PeerRoute } from './types.js';

/** Well-known community names as daemons print them, mapped to their numeric 'A:B' form (RFC 1997, 7999, 8326). */
const WELL_KNOWN: Readonly<Record<string, string>> = {
  'no-export': '65535:65281',
  noexport: '65535:65281',
  'no-advertise': '65535:65282',
  noadvertise: '65535:65282',
  'local-as': '65535:65283',
  localas: '65535:65283',
  'no-export-subconfed': '65535:65283',
  'no-peer': '65535:65284',
  nopeer: '65535:65284',
  blackhole: '65535:666',
  'graceful-shutdown': '65535:0',
  gshut: '65535:0',
  'accept-own': '65535:1',
  acceptown: '65535:1',
  'llgr-stale': '65535:6',
  llgrstale: '65535:6',
  'no-llgr': '65535:7',
  nollgr: '65535:7',
};

/** A community as 'A:B' from a uint32, an [A, B] pair, 'A:B' or a well-known name. */
export function communityString(c: number | [number, number] | string): string {
  if (typeof c === 'number') return `${Math.floor(c / 65536)}:${c % 65536}`;
  if (Array.isArray(c)) return `${c[0]}:${c[1]}`;
  const known = WELL_KNOWN[c.toLowerCase()];
  if (known) return known;
  if (/^\d+:\d+$/.test(c)) return c;
  throw new Error(`lab: unknown community ${c}`);
}

/** Split 'A:B' into numbers, validating each half is 0..65535. */
export function parseCommunity(c: string): [number, number] {
  const m = /^(\d+):(\d+)$/.exec(communityString(c));
  const a = Number(m?.[1]);
  const b = Number(m?.[2]);
  if (!m || a > 65535 || b > 65535) throw new Error(`lab: bad community ${c} (want A:B with 16-bit halves)`);
  return [a, b];
}

/** Split 'A:B:C' into numbers, validating each is a uint32. */
export function parseLargeCommunity(c: string): [number, number, number] {
  const m = /^(\d+):(\d+):(\d+)$/.exec(c);
  const parts = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [];
  if (!m || parts.some((x) => x > 0xffffffff)) throw new Error(`lab: bad large community ${c} (want A:B:C)`);
  return parts as [number, number, number];
}

/** Expand an IPv6 address to its 8 groups (an embedded dotted IPv4 tail becomes two groups). */
function ipv6Groups(addr: string): number[] {
  const s = addr
    .toLowerCase()
    .replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a, b, c, d) =>
      [(Number(a) << 8) | Number(b), (Number(c) << 8) | Number(d)].map((x) => x.toString(16)).join(':'),
    );
  const parse = (part: string | undefined) =>
    part ? part.split(':').map((x) => Number.parseInt(x, 16)) : ([] as number[]);
  if (!s.includes('::')) return parse(s);
  const [head, tail] = s.split('::');
  const h = parse(head);
  const t = parse(tail);
  return [...h, ...Array(Math.max(0, 8 - h.length - t.length)).fill(0), ...t];
}

/** Canonical RFC 5952 text of an IPv6 address (lower case, longest zero run compressed). */
export function canonicalIpv6(addr: string): string {
  const g = ipv6Groups(addr);
  if (g.length !== 8) return addr.toLowerCase();
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** Canonical 'ADDR/LEN' (IPv6 compressed lower case; IPv4 unchanged). */
export function canonicalPrefix(prefix: string): string {
  const [addr = '', len] = prefix.split('/');
  const a = addr.includes(':') ? canonicalIpv6(addr) : addr;
  return len === undefined ? a : `${a}/${len}`;
}

/** Canonical address text (IPv6 compressed lower case). */
export function canonicalAddress(addr: string): string {
  return addr.includes(':') ? canonicalIpv6(addr) : addr;
}

/** True for an IPv6 link-local address (fe80::/10). */
export function isLinkLocal(addr: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(addr);
}

/** Pick the next hop to report from several: the first global one, else the first. */
export function pickNextHop(hops: readonly (string | undefined)[]): string {
  const present = hops.filter((h): h is string => !!h && h !== '::' && h !== '0.0.0.0');
  return canonicalAddress(present.find((h) => !isLinkLocal(h)) ?? present[0] ?? '');
}

/** 'ipv4' or 'ipv6' for an address or prefix. */
export function familyOf(addrOrPrefix: string): PeerFamily {
  const addr = addrOrPrefix.split('/')[0] ?? '';
  return isIPv6(addr) || addr.includes(':') ? 'ipv6' : 'ipv4';
}

/** Origin text as the lab reports it. */
export function normalizeOrigin(o: unknown): PeerRoute['origin'] {
  if (o === 0 || o === '0') return 'igp';
  if (o === 1 || o === '1') return 'egp';
  if (o === 2 || o === '2') return 'incomplete';
  if (typeof o !== 'string') return undefined;
  const s = o.toLowerCase();
  if (s === 'igp' || s === 'i') return 'igp';
  if (s === 'egp' || s === 'e') return 'egp';
  if (s === 'incomplete' || s === '?') return 'incomplete';
  return undefined;
}

/** Sort routes by prefix, then peer, for stable comparisons. */
export function sortRoutes(routes: PeerRoute[]): PeerRoute[] {
  return routes.sort((x, y) =>
    x.prefix === y.prefix ? (x.peer ?? '').localeCompare(y.peer ?? '') : x.prefix.localeCompare(y.prefix),
  );
}

/** Keepalive for a hold time, as the lab configures it: a third, rounded down, at least 1 (0 when hold is 0). */
export function keepaliveFor(holdTime: number): number {
  if (holdTime === 0) return 0;
  if (!Number.isInteger(holdTime) || holdTime < 3) throw new Error(`lab: holdTime must be 0 or >= 3, got ${holdTime}`);
  return Math.max(1, Math.floor(holdTime / 3));
}

/** The network prefix containing `addr/len`, e.g. ('192.0.2.1', 24) -> '192.0.2.0/24'. */
export function networkPrefix(addr: string, len: number): string {
  if (familyOf(addr) === 'ipv4') {
    const n = addr.split('.').reduce((acc, x) => acc * 256 + Number(x), 0);
    const mask = len === 0 ? 0 : 2 ** 32 - 2 ** (32 - len);
    const net = Number(BigInt(n) & BigInt(mask));
    return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${len}`;
  }
  const groups = ipv6Groups(addr).map((g, i) => {
    const bits = Math.min(16, Math.max(0, len - i * 16));
    return bits === 0 ? 0 : g & (0xffff << (16 - bits)) & 0xffff;
  });
  return `${canonicalIpv6(groups.map((g) => g.toString(16)).join(':'))}/${len}`;
}
