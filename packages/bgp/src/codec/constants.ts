/**
 * Numeric constants of the BGP-4 wire format: message types, NOTIFICATION codes and subcodes, AFI/SAFI, path attribute
 * type codes and flags, capability codes. Each table is a frozen `as const` object so values are literal types.
 */

/** Length of the all-ones marker that starts every message (RFC 4271 §4.1). */
export const MARKER_LENGTH = 16;
/** Length of the fixed message header: marker, 2-octet length, 1-octet type (RFC 4271 §4.1). */
export const HEADER_LENGTH = 19;
/** Maximum message length without the extended message capability (RFC 4271 §4.1). */
export const MAX_MESSAGE_LENGTH = 4096;
/** Maximum message length once extended messages are negotiated (RFC 8654 §4); OPEN and KEEPALIVE stay at 4096. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;
/** The BGP version this codec speaks (RFC 4271 §4.2). */
export const BGP_VERSION = 4;
/** AS_TRANS, the 2-octet stand-in for a 4-octet AS number (RFC 6793 §9). */
export const AS_TRANS = 23456;
/** Minimum length of an OPEN message: header plus 10 fixed octets (RFC 4271 §4.2). */
export const MIN_OPEN_LENGTH = 29;
/** Minimum length of an UPDATE message: header plus two 2-octet length fields (RFC 4271 §4.3). */
export const MIN_UPDATE_LENGTH = 23;
/** Minimum length of a NOTIFICATION message: header plus code and subcode (RFC 4271 §4.5). */
export const MIN_NOTIFICATION_LENGTH = 21;
/** Length of a KEEPALIVE message: the header only (RFC 4271 §4.4). */
export const KEEPALIVE_LENGTH = 19;
/** Length of a ROUTE-REFRESH message: header plus AFI, subtype, SAFI (RFC 2918 §3, RFC 7313 §3.2). */
export const ROUTE_REFRESH_LENGTH = 23;

/** Message type codes of the header's Type field (RFC 4271 §4.1, RFC 2918 §3). */
export const MessageType = Object.freeze({
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const);

/** NOTIFICATION error codes (RFC 4271 §4.5, RFC 7313 §5 for ROUTE-REFRESH). */
export const ErrorCode = Object.freeze({
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH_MESSAGE: 7,
} as const);

/** Subcodes of Message Header Error (RFC 4271 §4.5). */
export const HeaderErrorSubcode = Object.freeze({
  UNSPECIFIC: 0,
  CONNECTION_NOT_SYNCHRONIZED: 1,
  BAD_MESSAGE_LENGTH: 2,
  BAD_MESSAGE_TYPE: 3,
} as const);

/** Subcodes of OPEN Message Error (RFC 4271 §4.5; 5 is deprecated; 7 from RFC 5492; 11 from RFC 9234). */
export const OpenErrorSubcode = Object.freeze({
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION_NUMBER: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
  ROLE_MISMATCH: 11,
} as const);

/** Subcodes of UPDATE Message Error (RFC 4271 §4.5; 7 is deprecated). */
export const UpdateErrorSubcode = Object.freeze({
  UNSPECIFIC: 0,
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN_ATTRIBUTE: 6,
  INVALID_NEXT_HOP_ATTRIBUTE: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const);

/** Subcodes of Finite State Machine Error (RFC 6608 §3). */
export const FsmErrorSubcode = Object.freeze({
  UNSPECIFIED: 0,
  UNEXPECTED_MESSAGE_IN_OPENSENT: 1,
  UNEXPECTED_MESSAGE_IN_OPENCONFIRM: 2,
  UNEXPECTED_MESSAGE_IN_ESTABLISHED: 3,
} as const);

/** Subcodes of Cease (RFC 4486 §4, RFC 8538 §5 hard reset, RFC 9384 BFD down). */
export const CeaseSubcode = Object.freeze({
  MAXIMUM_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
  BFD_DOWN: 10,
} as const);

/** Subcodes of ROUTE-REFRESH Message Error (RFC 7313 §5). */
export const RouteRefreshErrorSubcode = Object.freeze({
  INVALID_MESSAGE_LENGTH: 1,
} as const);

/** Address Family Identifiers (IANA). */
export const Afi = Object.freeze({ IPV4: 1, IPV6: 2 } as const);

/** Subsequent Address Family Identifiers (IANA). */
export const Safi = Object.freeze({ UNICAST: 1, MULTICAST: 2 } as const);

/** ROUTE-REFRESH message subtypes (RFC 7313 §3.2). Other values MUST be ignored by the receiver. */
export const RouteRefreshSubtype = Object.freeze({ NORMAL: 0, BEGIN: 1, END: 2 } as const);

/** Path attribute type codes (IANA "BGP Path Attributes"). */
export const AttributeType = Object.freeze({
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITIES: 32,
} as const);

/** Bits of the Attribute Flags octet (RFC 4271 §4.3). The low four bits are unused and MUST be zero when sent. */
export const AttributeFlag = Object.freeze({
  OPTIONAL: 0x80,
  TRANSITIVE: 0x40,
  PARTIAL: 0x20,
  EXTENDED_LENGTH: 0x10,
} as const);

/** ORIGIN attribute values (RFC 4271 §5.1.1). */
export const OriginCode = Object.freeze({ IGP: 0, EGP: 1, INCOMPLETE: 2 } as const);

/** AS_PATH segment types (RFC 4271 §4.3, RFC 5065 §3 for confederations). */
export const AsPathSegmentType = Object.freeze({
  AS_SET: 1,
  AS_SEQUENCE: 2,
  AS_CONFED_SEQUENCE: 3,
  AS_CONFED_SET: 4,
} as const);

/** OPEN optional parameter types (RFC 5492 §4; 1 is the deprecated authentication; 255 is RFC 9072's marker). */
export const OptionalParameterType = Object.freeze({
  AUTHENTICATION: 1,
  CAPABILITIES: 2,
  EXTENDED_LENGTH: 255,
} as const);

/** Capability codes (IANA "Capability Codes"). */
export const CapabilityCode = Object.freeze({
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  FQDN: 73,
  ROUTE_REFRESH_CISCO: 128,
} as const);

/** Well-known communities (RFC 1997, RFC 3765, RFC 7611, RFC 7999, RFC 8326, RFC 9494), by their names in this codec. */
export const WellKnownCommunity = Object.freeze({
  'graceful-shutdown': 0xffff0000,
  'accept-own': 0xffff0001,
  'llgr-stale': 0xffff0006,
  'no-llgr': 0xffff0007,
  blackhole: 0xffff029a,
  'no-export': 0xffffff01,
  'no-advertise': 0xffffff02,
  'no-export-subconfed': 0xffffff03,
  'no-peer': 0xffffff04,
} as const);
