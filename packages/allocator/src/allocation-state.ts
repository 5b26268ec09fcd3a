/**
 * The allocator's internal records: per pool and family the free-space structure and sharing index, per IP its
 * holders, per service what it holds. Shared by the allocator and the sharing rules; not exported from the package.
 */
import { type Family, formatIp } from './address.js';
import type { ChurnSafeMap } from './churn-safe-map.js';
import type { Occupancy } from './occupancy.js';
import type { OrderedMap } from './ordered-map.js';
import type { ParsedPool } from './pool.js';

/** 0 for IPv4, 1 for IPv6: the index into per-family pairs. */
export type FamilyIndex = 0 | 1;

/** One IP in use: its pool, the sharing and backend keys it was taken with, and the services on it. */
export interface IpHolder {
  readonly fi: FamilyIndex;
  readonly value: bigint;
  pool: PoolState;
  sharing: string;
  backend: string;
  /** The services on this IP (usually one; a few when shared). */
  readonly users: Held[];
}

/** One family of one pool: occupancy, the shareable IPs per sharing/backend key, the release queue. */
export interface FamilyState {
  readonly occ: Occupancy;
  readonly sharing: ChurnSafeMap<string, OrderedMap<IpHolder>>;
  readonly released: Map<bigint, true>;
}

/** One configured pool with its counters. */
export interface PoolState {
  readonly spec: ParsedPool;
  readonly fams: [FamilyState | undefined, FamilyState | undefined];
  readonly inUse: [number, number];
  services: number;
}

/** One service's allocation. */
export interface Held {
  readonly key: string;
  pool: PoolState;
  ips: IpHolder[];
  readonly ports: readonly string[];
  readonly sharing: string;
  readonly backend: string;
}

/** One prefix of a pool, for locating the pool owning an address. */
export interface SegmentOwner {
  readonly first: bigint;
  readonly last: bigint;
  readonly pool: PoolState;
}

/** Family to index. */
export const fiOf = (f: Family): FamilyIndex => (f === 4 ? 0 : 1);
/** Index to family. */
export const familyOfIndex = (fi: FamilyIndex): Family => (fi === 0 ? 4 : 6);
/** An address's text (formatted on demand: results are the caller's to keep, we do not hold a copy). */
export const textOf = (h: { readonly fi: FamilyIndex; readonly value: bigint }): string =>
  formatIp(h.fi === 0 ? 4 : 6, h.value);

/** Orders pools by name. */
export function comparePools(a: PoolState, b: PoolState): number {
  return a.spec.name < b.spec.name ? -1 : a.spec.name > b.spec.name ? 1 : 0;
}
