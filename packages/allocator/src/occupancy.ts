/**
 * Occupancy of one address family of one pool, kept as maximal runs of blocked addresses so that the lowest free
 * address is found in O(log n) whatever the pool size: a /8 or an IPv6 /64 costs the same as a /28, and memory is
 * proportional to the number of held addresses (in fact to the number of holes between them).
 *
 * An address is *allowed* when it lies in one of the pool's prefixes and, with `avoidBuggyIPs`, does not end in .0 or
 * .255. A run `[start, end]` starts and ends on occupied addresses and every allowed address inside it is occupied;
 * runs are merged across gaps made only of disallowed addresses, so after a run the next allowed address is free.
 */
import type { Prefix } from './cidr.js';
import { OrderedMap } from './ordered-map.js';

/** A contiguous stretch of pool addresses. */
export interface Segment {
  /** First address. */
  readonly first: bigint;
  /** Last address. */
  readonly last: bigint;
}

/** Merges consecutive prefixes that touch into segments, keeping their order. */
function mergeTouching(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.last + 1n === s.first) out[out.length - 1] = { first: prev.first, last: s.last };
    else out.push({ first: s.first, last: s.last });
  }
  return out;
}

/** Occupied addresses of one family of one pool. */
export class Occupancy {
  /** Segments in the pool's search order (its `addresses` order), touching neighbours merged. */
  readonly order: readonly Segment[];
  /** True when {@link order} is ascending, so one search from the first address finds the pool's lowest. */
  readonly ascending: boolean;
  private readonly sorted: readonly Segment[];
  private readonly avoidBuggy: boolean;
  private readonly runs = new OrderedMap<bigint>();

  /**
   * @param prefixes - the pool's prefixes of this family, in configuration order
   * @param avoidBuggy - skip .0 and .255 (IPv4 only)
   */
  constructor(prefixes: readonly Prefix[], avoidBuggy: boolean) {
    this.order = mergeTouching(prefixes);
    let asc = true;
    for (let i = 1; i < this.order.length; i++) if (this.order[i]!.first <= this.order[i - 1]!.last) asc = false;
    this.ascending = asc;
    this.sorted = asc ? this.order : mergeTouching([...prefixes].sort((a, b) => (a.first < b.first ? -1 : 1)));
    this.avoidBuggy = avoidBuggy;
  }

  /** Index of the first sorted segment whose last address is ≥ x, or the count when none. */
  private segmentAtOrAfter(x: bigint): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]!.last < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Index of the last sorted segment whose first address is ≤ x, or -1. */
  private segmentAtOrBefore(x: bigint): number {
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sorted[mid]!.first <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo - 1;
  }

  /** The lowest allowed address ≥ x. */
  nextAllowed(x: bigint): bigint | undefined {
    for (;;) {
      const i = this.segmentAtOrAfter(x);
      const seg = this.sorted[i];
      if (seg === undefined) return undefined;
      let c = x < seg.first ? seg.first : x;
      if (this.avoidBuggy) {
        const low = c & 255n;
        if (low === 0n) c += 1n;
        else if (low === 255n) c += 2n;
      }
      if (c <= seg.last) return c;
      x = c;
    }
  }

  /** The highest allowed address ≤ x. */
  prevAllowed(x: bigint): bigint | undefined {
    for (;;) {
      const i = this.segmentAtOrBefore(x);
      const seg = this.sorted[i];
      if (seg === undefined) return undefined;
      let c = x > seg.last ? seg.last : x;
      if (this.avoidBuggy) {
        const low = c & 255n;
        if (low === 255n) c -= 1n;
        else if (low === 0n) c -= 2n;
      }
      if (c >= seg.first) return c;
      x = c;
    }
  }

  /** True when x is allowed in this pool family. */
  allows(x: bigint): boolean {
    return this.nextAllowed(x) === x;
  }

  /** True when x (an allowed address) is occupied. */
  isOccupied(x: bigint): boolean {
    const r = this.runs.floor(x);
    return r !== undefined && r.value >= x;
  }

  /** The lowest allowed, unoccupied address ≥ x. */
  nextFree(x: bigint): bigint | undefined {
    const a = this.nextAllowed(x);
    if (a === undefined) return undefined;
    const r = this.runs.floor(a);
    if (r !== undefined && r.value >= a) return this.nextAllowed(r.value + 1n);
    return a;
  }

  /** Marks an allowed, unoccupied address as occupied. */
  occupy(x: bigint): void {
    const p = this.runs.floor(x);
    const s = this.runs.higher(x);
    const joinLeft = p !== undefined && this.nextAllowed(p.value + 1n) === x;
    const joinRight = s !== undefined && this.nextAllowed(x + 1n) === s.key;
    if (joinLeft && joinRight) {
      p.value = s.value;
      this.runs.delete(s.key);
    } else if (joinLeft) {
      p.value = x;
    } else if (joinRight) {
      const end = s.value;
      this.runs.delete(s.key);
      this.runs.set(x, end);
    } else {
      this.runs.set(x, x);
    }
  }

  /** Marks an occupied address as unoccupied. */
  vacate(x: bigint): void {
    const r = this.runs.floor(x);
    if (r === undefined || r.value < x) return;
    const start = r.key;
    const end = r.value;
    const leftEnd = x === start ? undefined : this.prevAllowed(x - 1n);
    const rightStart = x === end ? undefined : this.nextAllowed(x + 1n);
    if (leftEnd === undefined) this.runs.delete(start);
    else r.value = leftEnd;
    if (rightStart !== undefined) this.runs.set(rightStart, end);
  }

  /** Number of runs (memory grows with these, never with the pool size). */
  get runCount(): number {
    return this.runs.size;
  }
}
