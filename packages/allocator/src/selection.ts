/**
 * Where a service's addresses come from: MetalLB's pool compatibility (`serviceAllocation`), the first free or
 * shareable address of a pool family (`getIPFromCIDR`), the addresses of one pool for a service's families and policy,
 * and the best pool among several. Pure reads of the allocator's state; the allocator commits what is chosen.
 */
import type { Ip } from './address.js';
import { type FamilyIndex, familyOfIndex, fiOf, type PoolState } from './allocation-state.js';
import type { ServiceContext } from './service-context.js';
import { lowestShareable } from './sharing.js';

/** MetalLB's `isPoolCompatibleWithService`. */
export function compatible(pool: PoolState, ctx: ServiceContext): boolean {
  const sa = pool.spec.serviceAllocation;
  if (sa === undefined) return true;
  if (sa.namespaceRestricted && !sa.namespaces.has(ctx.namespace)) return false;
  if (sa.serviceSelectors.length > 0) return sa.serviceSelectors.some((m) => m(ctx.labels));
  return true;
}

/**
 * MetalLB's `getIPFromCIDR` over the pool's prefixes of one family in configuration order: the first address that is
 * free or shareable. O(log n) when the prefixes are in ascending order (the usual case).
 */
export function findInPool(pool: PoolState, fi: FamilyIndex, ctx: ServiceContext, lrr: boolean): bigint | undefined {
  const fam = pool.fams[fi];
  if (fam === undefined) return undefined;
  const occ = fam.occ;
  const segs = occ.order;
  const count = occ.ascending ? 1 : segs.length;
  for (let i = 0; i < count; i++) {
    const seg = segs[i]!;
    const hi = occ.ascending ? undefined : seg.last;
    let free = occ.nextFree(seg.first);
    if (free !== undefined && hi !== undefined && free > hi) free = undefined;
    const share = lowestShareable(fam, ctx, seg.first, free !== undefined ? free : hi);
    const best = share !== undefined && (free === undefined || share < free) ? share : free;
    if (best !== undefined) return best;
  }
  if (lrr) {
    for (const value of fam.released.keys()) return value;
  }
  return undefined;
}

/** MetalLB's `getFreeIPsFromPool` + `selectIPsForFamilyAndPolicy` for one pool. */
export function selectFromPool(pool: PoolState, ctx: ServiceContext, lrr: boolean): Ip[] | undefined {
  if (ctx.family !== 'dual') {
    const v = findInPool(pool, fiOf(ctx.family), ctx, lrr);
    return v === undefined ? undefined : [{ family: ctx.family, value: v }];
  }
  const v4 = findInPool(pool, 0, ctx, lrr);
  const v6 = findInPool(pool, 1, ctx, lrr);
  if (v4 !== undefined && v6 !== undefined) {
    return [
      { family: 4, value: v4 },
      { family: 6, value: v6 },
    ];
  }
  if (ctx.policy !== 'PreferDualStack') return undefined;
  if (v4 !== undefined) return [{ family: 4, value: v4 }];
  if (v6 !== undefined) return [{ family: 6, value: v6 }];
  return undefined;
}

/**
 * MetalLB's `findBestPoolForService`: the first pool (in the given order) with an address of every family the service
 * wants, else under PreferDualStack the first with the primary family, then the first with the other; undefined when
 * no pool fits.
 */
export function choosePool(
  pools: readonly PoolState[],
  ctx: ServiceContext,
  lrr: boolean,
): { readonly pool: PoolState; readonly ips: Ip[] } | undefined {
  let chosen: Ip[] | undefined;
  let chosenPool: PoolState | undefined;
  if (ctx.family !== 'dual') {
    const fi = fiOf(ctx.family);
    for (const pool of pools) {
      const v = findInPool(pool, fi, ctx, lrr);
      if (v !== undefined) {
        chosen = [{ family: ctx.family, value: v }];
        chosenPool = pool;
        break;
      }
    }
  } else {
    let primary: Ip[] | undefined;
    let secondary: Ip[] | undefined;
    let primaryPool: PoolState | undefined;
    let secondaryPool: PoolState | undefined;
    const pfi = fiOf(ctx.primary);
    const sfi: FamilyIndex = pfi === 0 ? 1 : 0;
    for (const pool of pools) {
      const vp = findInPool(pool, pfi, ctx, lrr);
      const vs = findInPool(pool, sfi, ctx, lrr);
      if (vp !== undefined && vs !== undefined) {
        chosen = [
          { family: familyOfIndex(pfi), value: vp },
          { family: familyOfIndex(sfi), value: vs },
        ];
        chosenPool = pool;
        break;
      }
      if (ctx.policy !== 'PreferDualStack') continue;
      if (vp !== undefined && primary === undefined) {
        primary = [{ family: familyOfIndex(pfi), value: vp }];
        primaryPool = pool;
      }
      if (vs !== undefined && secondary === undefined) {
        secondary = [{ family: familyOfIndex(sfi), value: vs }];
        secondaryPool = pool;
      }
    }
    if (chosen === undefined) {
      chosen = primary ?? secondary;
      chosenPool = primary !== undefined ? primaryPool : secondaryPool;
    }
  }
  if (chosen === undefined || chosenPool === undefined) return undefined;
  return { pool: chosenPool, ips: chosen };
}
