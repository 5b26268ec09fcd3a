/**
 * The BGP-4 message model: a discriminated union on `type`, with addresses and prefixes as strings
 * ('192.0.2.0/24', '2001:db8::/64'), communities as 'A:B' and large communities as 'A:B:C'.
 */

/**
 * What the session negotiated, for one direction of the session. Encoding uses what we may send, decoding what the
 * peer may send; a session usually keeps one object for each.
 */
export interface CodecOptions {
  /**
   * Both sides advertised the 4-octet AS capability (RFC 6793): AS_PATH and AGGREGATOR carry 4-octet AS numbers.
   * @default true
   */
  fourOctetAs?: boolean;
  /**
   * Both sides advertised the extended message capability (RFC 8654): messages other than OPEN and KEEPALIVE may be up
   * to 65535 octets instead of 4096.
   * @default false
   */
  extendedMessages?: boolean;
  /**
   * Families whose NLRI carry a 4-octet Path Identifier in this direction (RFC 7911): for encoding, we advertised
   * send and the peer receive; for decoding, the peer advertised send and we receive.
   * @default {}
   */
  addPath?: AddPathFamilies;
  /**
   * The peer is internal (iBGP). When set, RFC 7606 rules that depend on it apply to decoded UPDATEs: from an
   * external peer, LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are discarded. Leave unset to skip those rules.
   */
  internal?: boolean;
}

/** Add-path negotiated per family: `true` when NLRI of that family carry Path Identifiers. */
export interface AddPathFamilies {
  /** AFI 1 / SAFI 1. */
  ipv4Unicast?: boolean;
  /** AFI 2 / SAFI 1. */
  ipv6Unicast?: boolean;
}

/** An address family as its AFI and SAFI numbers (see {@link Afi} and {@link Safi}). */
export interface AfiSafi {
  /** Address Family Identifier (1 IPv4, 2 IPv6). */
  afi: number;
  /** Subsequent Address Family Identifier (1 unicast, 2 multicast). */
  safi: number;
}

// ---------------------------------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------------------------------

/** Any BGP message, discriminated on `type`. */
export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;

/** The `type` strings of {@link BgpMessage}. */
export type BgpMessageType = BgpMessage['type'];

/** OPEN (RFC 4271 §4.2), with capabilities (RFC 5492) and, when needed, extended parameters length (RFC 9072). */
export interface OpenMessage {
  type: 'open';
  /** Protocol version; 4. */
  version: number;
  /** The 2-octet "My Autonomous System" field: the AS, or AS_TRANS (23456) when the AS needs 4 octets. */
  myAsn: number;
  /** Proposed hold time in seconds: 0 or at least 3. */
  holdTime: number;
  /** BGP Identifier as a dotted quad. */
  bgpId: string;
  /** Capabilities from every Capabilities optional parameter, in wire order. */
  capabilities: Capability[];
  /** Optional parameters other than Capabilities (type 2), kept raw. A decoded OPEN never has them (they are errors). */
  parameters?: OptionalParameter[];
  /**
   * Wire layout, present on a decoded OPEN only when it differs from the canonical layout (all capabilities in one
   * optional parameter, RFC 9072 only when needed), so that re-encoding reproduces the bytes.
   */
  encoding?: OpenEncoding;
}

/** How an OPEN's capabilities were laid out in optional parameters. */
export interface OpenEncoding {
  /** Number of capabilities in each Capabilities optional parameter, in order (e.g. `[1, 1, 1]`: one per parameter). */
  capabilityGroups?: number[];
  /** The RFC 9072 extended optional parameters length format was used. */
  extendedParameters?: boolean;
}

/** An OPEN optional parameter other than Capabilities. */
export interface OptionalParameter {
  /** Parameter type. */
  type: number;
  /** Parameter value. */
  value: Uint8Array;
}

/** A capability of an OPEN message (RFC 5492), discriminated on `type`. Unknown codes are kept raw. */
export type Capability =
  | MultiprotocolCapability
  | RouteRefreshCapability
  | ExtendedNextHopCapability
  | ExtendedMessageCapability
  | GracefulRestartCapability
  | FourOctetAsCapability
  | AddPathCapability
  | EnhancedRouteRefreshCapability
  | FqdnCapability
  | UnknownCapability;

/** Multiprotocol extensions, code 1 (RFC 4760 §8). */
export interface MultiprotocolCapability extends AfiSafi {
  type: 'multiprotocol';
}

/** Route refresh, code 2 (RFC 2918), or Cisco's pre-standard code 128 when `cisco` is true. */
export interface RouteRefreshCapability {
  type: 'route-refresh';
  /** Encoded with the pre-standard code 128 instead of 2. */
  cisco?: boolean;
}

/**
 * Extended next hop encoding, code 5 (RFC 8950 §4): the NLRI families the sender can receive with a next hop of another
 * address family (IPv4 unicast routes with an IPv6 next hop: `{ afi: 1, safi: 1, nextHopAfi: 2 }`).
 */
export interface ExtendedNextHopCapability {
  type: 'extended-next-hop';
  /** One entry per NLRI family and next hop AFI (at most 42: the capability value holds 255 octets). */
  families: ExtendedNextHopFamily[];
}

/** One entry of the extended next hop capability. `safi` is a 2-octet field here (RFC 8950 §4). */
export interface ExtendedNextHopFamily extends AfiSafi {
  /** AFI of the next hops the sender accepts for this NLRI family (2: IPv6). */
  nextHopAfi: number;
}

/** Extended message, code 6 (RFC 8654). */
export interface ExtendedMessageCapability {
  type: 'extended-message';
}

/** Graceful restart, code 64 (RFC 4724 §3, N bit from RFC 8538). */
export interface GracefulRestartCapability {
  type: 'graceful-restart';
  /** Restart State (R) bit: the sender has restarted. */
  restarting: boolean;
  /** Graceful Notification (N) bit (RFC 8538). */
  notification: boolean;
  /** Restart Time in seconds (12 bits). */
  restartTime: number;
  /** Per-family entries with the Forwarding State (F) bit. */
  families: GracefulRestartFamily[];
}

/** One AFI/SAFI entry of the graceful restart capability. */
export interface GracefulRestartFamily extends AfiSafi {
  /** Forwarding State (F) bit: forwarding state was preserved for this family. */
  forwardingPreserved: boolean;
}

/** Support for 4-octet AS numbers, code 65 (RFC 6793 §3). */
export interface FourOctetAsCapability {
  type: 'four-octet-as';
  /** The sender's AS number (4 octets). */
  asn: number;
}

/** Add-path, code 69 (RFC 7911 §4). */
export interface AddPathCapability {
  type: 'add-path';
  /** Per-family send/receive modes. */
  families: AddPathFamily[];
}

/** One AFI/SAFI entry of the add-path capability. */
export interface AddPathFamily extends AfiSafi {
  /** 1 receive, 2 send, 3 both. */
  sendReceive: 'receive' | 'send' | 'both';
}

/** Enhanced route refresh, code 70 (RFC 7313 §3.1). */
export interface EnhancedRouteRefreshCapability {
  type: 'enhanced-route-refresh';
}

/** Hostname (FQDN), code 73 (draft-walton-bgp-hostname-capability). */
export interface FqdnCapability {
  type: 'fqdn';
  /** Host name (UTF-8, at most 255 octets). */
  hostname: string;
  /** Domain name (UTF-8, at most 255 octets). */
  domainName: string;
}

/** A capability this codec does not interpret, or a known one with a malformed value: kept and re-encoded as is. */
export interface UnknownCapability {
  type: 'unknown';
  /** Capability code. */
  code: number;
  /** Capability value. */
  value: Uint8Array;
}

/** UPDATE (RFC 4271 §4.3). */
export interface UpdateMessage {
  type: 'update';
  /** IPv4 prefixes of the Withdrawn Routes field. */
  withdrawn: string[];
  /** Path Identifiers of `withdrawn`, index for index, when add-path is on for IPv4 unicast (RFC 7911). */
  withdrawnPathIds?: number[];
  /** Path attributes. */
  attributes: PathAttributes;
  /** IPv4 prefixes of the NLRI field. */
  nlri: string[];
  /** Path Identifiers of `nlri`, index for index, when add-path is on for IPv4 unicast (RFC 7911). */
  nlriPathIds?: number[];
  /**
   * Present on a decoded UPDATE when RFC 7606 found malformed attributes that do not reset the session. (Errors that
   * reset the session are thrown as {@link BgpError} instead.)
   */
  malformed?: UpdateMalformation;
}

/** The RFC 7606 outcome of a decoded UPDATE that had malformed attributes. */
export interface UpdateMalformation {
  /**
   * `'treat-as-withdraw'`: every route in the UPDATE (NLRI and MP_REACH_NLRI) MUST be handled as withdrawn (RFC 7606
   * §2). `'attribute-discard'`: the listed attributes were removed from `attributes`; the UPDATE is otherwise valid.
   */
  action: 'treat-as-withdraw' | 'attribute-discard';
  /** Every malformed attribute found, in wire order. */
  errors: AttributeError[];
}

/** One malformed attribute in an UPDATE, with the NOTIFICATION that RFC 4271 would have sent (for logging). */
export interface AttributeError {
  /** Attribute type code (0 when the error concerns the attribute list rather than one attribute). */
  attributeType: number;
  /** What RFC 7606 says to do about this attribute alone. */
  action: 'treat-as-withdraw' | 'attribute-discard';
  /** NOTIFICATION Error Code RFC 4271 would use. */
  code: number;
  /** NOTIFICATION Error Subcode RFC 4271 would use. */
  subcode: number;
  /** NOTIFICATION Data RFC 4271 would use. */
  data: Uint8Array;
  /** Human-readable reason. */
  reason: string;
}

/** ORIGIN values as strings. */
export type Origin = 'igp' | 'egp' | 'incomplete';

/** One AS_PATH (or AS4_PATH) segment. */
export interface AsPathSegment {
  /** Segment type (RFC 4271 §4.3, RFC 5065 §3). */
  type: 'sequence' | 'set' | 'confed-sequence' | 'confed-set';
  /** AS numbers of the segment, at most 255. */
  asns: number[];
}

/** AGGREGATOR / AS4_AGGREGATOR value. */
export interface Aggregator {
  /** AS number of the aggregating speaker. */
  asn: number;
  /** IPv4 address (BGP identifier) of the aggregating speaker. */
  address: string;
}

/** MP_REACH_NLRI (RFC 4760 §3). */
export interface MpReachNlri extends AfiSafi {
  /** Next hop: IPv4 for AFI 1, global IPv6 for AFI 2; `''` for families kept raw. */
  nextHop: string;
  /** IPv6 link-local next hop when the next hop field is 32 octets (RFC 2545 §3). */
  linkLocalNextHop?: string;
  /** Prefixes (IPv4 or IPv6 by AFI) for unicast and multicast; empty for families kept raw. */
  nlri: string[];
  /** Path Identifiers of `nlri`, index for index, when add-path is on for the family. */
  pathIds?: number[];
  /** Families other than IPv4/IPv6 unicast/multicast: the next hop and NLRI bytes, uninterpreted. */
  raw?: { nextHop: Uint8Array; nlri: Uint8Array };
}

/** MP_UNREACH_NLRI (RFC 4760 §4). An empty `withdrawn` with no raw bytes is the End-of-RIB marker (RFC 4724 §2). */
export interface MpUnreachNlri extends AfiSafi {
  /** Withdrawn prefixes (IPv4 or IPv6 by AFI); empty for families kept raw. */
  withdrawn: string[];
  /** Path Identifiers of `withdrawn`, index for index, when add-path is on for the family. */
  pathIds?: number[];
  /** Families other than IPv4/IPv6 unicast/multicast: the withdrawn routes bytes, uninterpreted. */
  raw?: Uint8Array;
}

/** A path attribute this codec does not interpret (or a known one carried raw), kept for re-sending. */
export interface RawAttribute {
  /** Attribute Flags octet as received (the extended length bit is recomputed when encoding). */
  flags: number;
  /** Attribute type code. */
  type: number;
  /** Attribute value. */
  value: Uint8Array;
}

/**
 * Path attributes of an UPDATE, by name. Encoding writes MP_REACH_NLRI and MP_UNREACH_NLRI first (RFC 7606 §5.1),
 * then the others in ascending type code order (RFC 4271 §5), unless `encoding` says otherwise.
 */
export interface PathAttributes {
  /** ORIGIN, type 1, well-known mandatory. */
  origin?: Origin;
  /** AS_PATH, type 2, well-known mandatory; AS numbers are 2 or 4 octets per {@link CodecOptions.fourOctetAs}. */
  asPath?: AsPathSegment[];
  /** NEXT_HOP, type 3, IPv4 dotted quad. */
  nextHop?: string;
  /** MULTI_EXIT_DISC, type 4. */
  med?: number;
  /** LOCAL_PREF, type 5. */
  localPref?: number;
  /** ATOMIC_AGGREGATE, type 6 (present = true). */
  atomicAggregate?: boolean;
  /** AGGREGATOR, type 7. */
  aggregator?: Aggregator;
  /** COMMUNITIES, type 8, as 'A:B' strings (16-bit halves). Encoding also accepts the well-known names. */
  communities?: string[];
  /** ORIGINATOR_ID, type 9 (RFC 4456). */
  originatorId?: string;
  /** CLUSTER_LIST, type 10 (RFC 4456). */
  clusterList?: string[];
  /** MP_REACH_NLRI, type 14 (RFC 4760). */
  mpReach?: MpReachNlri;
  /** MP_UNREACH_NLRI, type 15 (RFC 4760). */
  mpUnreach?: MpUnreachNlri;
  /** EXTENDED_COMMUNITIES, type 16 (RFC 4360), each as 16 lowercase hex digits (8 octets). */
  extendedCommunities?: string[];
  /** AS4_PATH, type 17 (RFC 6793), always 4-octet AS numbers. */
  as4Path?: AsPathSegment[];
  /** AS4_AGGREGATOR, type 18 (RFC 6793). */
  as4Aggregator?: Aggregator;
  /** LARGE_COMMUNITIES, type 32 (RFC 8092), as 'A:B:C' strings (32-bit parts). */
  largeCommunities?: string[];
  /** Attributes this codec does not interpret, in wire order. */
  unknown?: RawAttribute[];
  /** Wire details of a decoded UPDATE that differ from the canonical encoding, so re-encoding reproduces the bytes. */
  encoding?: AttributeEncoding;
}

/** Non-canonical wire details of a decoded attribute list. */
export interface AttributeEncoding {
  /** Type codes in wire order, when not the canonical order (MP_REACH_NLRI, MP_UNREACH_NLRI, then ascending). */
  order?: number[];
  /** Type codes of known attributes sent with the extended length flag although their value fit in 255 octets. */
  extendedLength?: number[];
  /** Type codes of known attributes received with the Partial bit set. */
  partial?: number[];
}

/** NOTIFICATION (RFC 4271 §4.5). */
export interface NotificationMessage {
  type: 'notification';
  /** Error Code (see {@link ErrorCode}). */
  code: number;
  /** Error Subcode. */
  subcode: number;
  /** Data. */
  data: Uint8Array;
}

/** KEEPALIVE (RFC 4271 §4.4). */
export interface KeepaliveMessage {
  type: 'keepalive';
}

/** ROUTE-REFRESH (RFC 2918 §3; subtypes from RFC 7313 §3.2). */
export interface RouteRefreshMessage extends AfiSafi {
  type: 'route-refresh';
  /**
   * 0 normal route refresh, 1 Beginning of Route Refresh, 2 End of Route Refresh (see {@link RouteRefreshSubtype}).
   * A received message with another subtype MUST be ignored (RFC 7313 §5).
   */
  subtype: number;
}
