import { WellKnownCommunity } from './constants.js';

/** Name of a well-known community (see {@link WellKnownCommunity}). */
export type WellKnownCommunityName = keyof typeof WellKnownCommunity;

const NAME_BY_VALUE = new Map<number, WellKnownCommunityName>(
  Object.entries(WellKnownCommunity).map(([k, v]) => [v, k as WellKnownCommunityName]),
);

function parseUint(text: string, max: number): number {
  if (text.length === 0 || text.length > 10) return -1;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n > max ? -1 : n;
}

/**
 * A community as a 32-bit number from 'A:B' (two 16-bit decimals), a well-known name ('no-export', …) or a plain
 * decimal 32-bit number.
 * @throws RangeError when the text is none of those.
 */
export function communityToNumber(community: string): number {
  const colon = community.indexOf(':');
  if (colon < 0) {
    const named = (WellKnownCommunity as Record<string, number>)[community];
    if (named !== undefined) return named;
    const n = parseUint(community, 0xffffffff);
    if (n >= 0) return n;
  } else {
    const hi = parseUint(community.slice(0, colon), 0xffff);
    const lo = parseUint(community.slice(colon + 1), 0xffff);
    if (hi >= 0 && lo >= 0) return hi * 0x10000 + lo;
  }
  throw new RangeError(`invalid community ${JSON.stringify(community)}: expected 'A:B' with 16-bit A and B or a name`);
}

/** A 32-bit community number as 'A:B'. */
export function communityFromNumber(value: number): string {
  const v = value >>> 0;
  return `${v >>> 16}:${v & 0xffff}`;
}

/** The well-known name of a community ('A:B', name or number), or undefined when it has none. */
export function communityName(community: string | number): WellKnownCommunityName | undefined {
  const v = typeof community === 'number' ? community >>> 0 : communityToNumber(community);
  return NAME_BY_VALUE.get(v);
}

/**
 * A large community (RFC 8092) as its three 32-bit parts from 'A:B:C'.
 * @throws RangeError when the text is not three 32-bit decimals separated by colons.
 */
export function largeCommunityToNumbers(community: string): [number, number, number] {
  const a = community.indexOf(':');
  const b = a < 0 ? -1 : community.indexOf(':', a + 1);
  if (a >= 0 && b >= 0) {
    const x = parseUint(community.slice(0, a), 0xffffffff);
    const y = parseUint(community.slice(a + 1, b), 0xffffffff);
    const z = parseUint(community.slice(b + 1), 0xffffffff);
    if (x >= 0 && y >= 0 && z >= 0) return [x, y, z];
  }
  throw new RangeError(`invalid large community ${JSON.stringify(community)}: expected 'A:B:C' with 32-bit parts`);
}

/** Three 32-bit numbers as a large community 'A:B:C'. */
export function largeCommunityFromNumbers(globalAdmin: number, local1: number, local2: number): string {
  return `${globalAdmin >>> 0}:${local1 >>> 0}:${local2 >>> 0}`;
}
