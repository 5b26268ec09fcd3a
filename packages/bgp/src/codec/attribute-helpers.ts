/**
 * Helpers over decoded path attributes: re-advertisement (RFC 4271 §5, §9.1.3) and 4-octet AS path reconstruction
 * (RFC 6793 §4.2.3).
 */
import { AS_TRANS, AttributeFlag } from './constants.js';
import type { Aggregator, AsPathSegment, PathAttributes } from './types.js';

/**
 * The attributes of a received route as they may be passed on to another peer (RFC 4271 §5 / §9.1.3): unrecognized
 * optional non-transitive attributes are dropped, unrecognized optional transitive ones are kept with the Partial bit
 * set, and the received wire layout (`encoding`) is forgotten. Policy (AS_PATH prepending, NEXT_HOP, LOCAL_PREF, MED)
 * is the caller's.
 */
export function propagatedAttributes(attributes: PathAttributes): PathAttributes {
  const { encoding: _e, unknown, ...rest } = attributes;
  const out: PathAttributes = { ...rest };
  const kept = (unknown ?? [])
    .filter((u) => (u.flags & AttributeFlag.OPTIONAL) !== 0 && (u.flags & AttributeFlag.TRANSITIVE) !== 0)
    .map((u) => ({ ...u, flags: u.flags | AttributeFlag.PARTIAL }));
  if (kept.length > 0) out.unknown = kept;
  return out;
}

/** Number of ASes a path counts for in path length (RFC 4271 §9.1.2.2, RFC 5065 §5.3: sets 1, confederations 0). */
function pathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) n += s.type === 'sequence' ? s.asns.length : s.type === 'set' ? 1 : 0;
  return n;
}

/**
 * The real AS path of a route received from a 2-octet AS speaker (RFC 6793 §4.2.3): the leading part of AS_PATH that
 * AS4_PATH does not cover, followed by AS4_PATH. AS4_PATH is ignored when AGGREGATOR holds an AS other than AS_TRANS or
 * when it is longer than AS_PATH. Returns AS_PATH unchanged when there is no AS4_PATH.
 */
export function reconstructAsPath(attributes: PathAttributes): AsPathSegment[] | undefined {
  const asPath = attributes.asPath;
  const as4 = attributes.as4Path;
  if (!asPath || !as4) return asPath;
  if (attributes.aggregator && attributes.aggregator.asn !== AS_TRANS) return asPath;
  const keep = pathLength(asPath) - pathLength(as4);
  if (keep < 0) return asPath;
  const head: AsPathSegment[] = [];
  let left = keep;
  for (const s of asPath) {
    if (s.type === 'confed-sequence' || s.type === 'confed-set') {
      head.push({ type: s.type, asns: [...s.asns] });
      continue;
    }
    if (left === 0) break;
    if (s.type === 'set') {
      head.push({ type: 'set', asns: [...s.asns] });
      left--;
    } else {
      const take = Math.min(left, s.asns.length);
      head.push({ type: 'sequence', asns: s.asns.slice(0, take) });
      left -= take;
    }
  }
  const tail = as4.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const last = head.at(-1);
  const first = tail[0];
  if (
    last &&
    first &&
    last.type === 'sequence' &&
    first.type === 'sequence' &&
    last.asns.length + first.asns.length <= 255
  ) {
    last.asns.push(...first.asns);
    tail.shift();
  }
  return [...head, ...tail];
}

/** The real aggregator of a route from a 2-octet AS speaker (RFC 6793 §4.2.3): AS4_AGGREGATOR when AGGREGATOR says AS_TRANS. */
export function reconstructAggregator(attributes: PathAttributes): Aggregator | undefined {
  const a = attributes.aggregator;
  if (a && a.asn === AS_TRANS && attributes.as4Aggregator) return attributes.as4Aggregator;
  return a;
}
