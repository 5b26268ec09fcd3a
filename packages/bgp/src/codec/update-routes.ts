/**
 * What an UPDATE does to the routes of the peer that sent it, with RFC 7606 treat-as-withdraw already applied.
 */
import type { UpdateMessage } from './types.js';

/** One route named by an UPDATE. */
export interface RouteChange {
  /** Address Family Identifier (1 IPv4, 2 IPv6). */
  afi: number;
  /** Subsequent Address Family Identifier (1 unicast, 2 multicast). */
  safi: number;
  /** The prefix, e.g. '198.51.100.0/24' or '2001:db8::/48'. */
  prefix: string;
  /** Path Identifier when add-path is on for the family (RFC 7911). */
  pathId?: number;
}

/** The routes an UPDATE announces and withdraws. */
export interface UpdateRoutes {
  /** Routes announced (IPv4 NLRI field and MP_REACH_NLRI), with the UPDATE's path attributes. */
  announced: RouteChange[];
  /** Routes withdrawn (Withdrawn Routes, MP_UNREACH_NLRI, and, for treat-as-withdraw, everything announced). */
  withdrawn: RouteChange[];
}

function push(out: RouteChange[], afi: number, safi: number, prefixes: readonly string[], ids?: readonly number[]) {
  for (let i = 0; i < prefixes.length; i++) {
    const r: RouteChange = { afi, safi, prefix: prefixes[i]! };
    const id = ids?.[i];
    if (id !== undefined) r.pathId = id;
    out.push(r);
  }
}

/**
 * The routes `update` announces and withdraws, in wire order. When RFC 7606 classified the UPDATE as treat-as-withdraw
 * (`update.malformed.action === 'treat-as-withdraw'`), every announced route is returned as withdrawn instead
 * (RFC 7606 §2). Families kept raw (other than IPv4/IPv6 unicast/multicast) are not listed.
 */
export function updateRoutes(update: UpdateMessage): UpdateRoutes {
  const announced: RouteChange[] = [];
  const withdrawn: RouteChange[] = [];
  const a = update.attributes;
  push(withdrawn, 1, 1, update.withdrawn, update.withdrawnPathIds);
  if (a.mpUnreach && !a.mpUnreach.raw)
    push(withdrawn, a.mpUnreach.afi, a.mpUnreach.safi, a.mpUnreach.withdrawn, a.mpUnreach.pathIds);
  if (a.mpReach && !a.mpReach.raw) push(announced, a.mpReach.afi, a.mpReach.safi, a.mpReach.nlri, a.mpReach.pathIds);
  push(announced, 1, 1, update.nlri, update.nlriPathIds);
  if (update.malformed?.action === 'treat-as-withdraw')
    return { announced: [], withdrawn: [...withdrawn, ...announced] };
  return { announced, withdrawn };
}
