import type { AfiSafi, CodecOptions, PathAttributes, UpdateMessage } from './types.js';

/** Options of {@link packUpdates} and {@link packWithdrawals}: the negotiated options plus next hops and path id. */
export interface PackOptions extends CodecOptions {
  /** Global IPv6 next hop for the MP_REACH_NLRI of IPv6 prefixes; required when `prefixes` holds IPv6 prefixes. */
  ipv6NextHop?: string;
  /** Link-local IPv6 next hop sent after the global one (RFC 2545 §3). */
  ipv6LinkLocalNextHop?: string;
  /** Path Identifier of every prefix when add-path is negotiated for its family. @default 0 */
  pathId?: number;
}

/**
 * Encodes the announcement of `prefixes` (IPv4 and IPv6 may be mixed) with the shared `attributes` into as few UPDATE
 * messages as the maximum message size allows: IPv4 prefixes in the NLRI field (with `attributes.nextHop`), IPv6
 * prefixes in MP_REACH_NLRI (with `options.ipv6NextHop`). `attributes.mpReach`/`mpUnreach` are ignored.
 * @throws RangeError when a prefix or attribute is invalid or the attributes alone do not fit in one message.
 */
export function packUpdates(
  attributes: PathAttributes,
  prefixes: readonly string[],
  options: PackOptions = {},
): Uint8Array[] {
  void attributes;
  void prefixes;
  void options;
  throw new RangeError('not implemented yet');
}

/**
 * Encodes the withdrawal of `prefixes` into as few UPDATE messages as the maximum message size allows: IPv4 in the
 * Withdrawn Routes field, IPv6 in MP_UNREACH_NLRI.
 * @throws RangeError when a prefix is invalid.
 */
export function packWithdrawals(prefixes: readonly string[], options: PackOptions = {}): Uint8Array[] {
  void prefixes;
  void options;
  throw new RangeError('not implemented yet');
}

/**
 * The End-of-RIB marker of a family (RFC 4724 §2): an empty UPDATE for IPv4 unicast, an UPDATE with only an empty
 * MP_UNREACH_NLRI for any other family.
 */
export function endOfRib(family: AfiSafi = { afi: 1, safi: 1 }): UpdateMessage {
  if (family.afi === 1 && family.safi === 1) return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return {
    type: 'update',
    withdrawn: [],
    attributes: { mpUnreach: { afi: family.afi, safi: family.safi, withdrawn: [] } },
    nlri: [],
  };
}

/** The family whose End-of-RIB marker `message` is (RFC 4724 §2), or undefined when it is not one. */
export function isEndOfRib(message: UpdateMessage): AfiSafi | undefined {
  if (message.withdrawn.length !== 0 || message.nlri.length !== 0) return undefined;
  const a = message.attributes;
  const keys = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined && k !== 'encoding');
  if (keys.length === 0) return { afi: 1, safi: 1 };
  const u = a.mpUnreach;
  if (keys.length === 1 && u && u.withdrawn.length === 0 && (u.raw === undefined || u.raw.length === 0))
    return { afi: u.afi, safi: u.safi };
  return undefined;
}
