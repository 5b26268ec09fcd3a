import type {
  AddPathFamily,
  AfiSafi,
  Capability,
  CodecOptions,
  GracefulRestartCapability,
  OpenMessage,
} from './types.js';

/** What {@link createOpen} needs to build an OPEN message. */
export interface OpenInit {
  /** Our AS number (2 or 4 octets; AS_TRANS goes into the 2-octet field when needed). */
  asn: number;
  /** Our BGP Identifier (dotted quad, non-zero). */
  bgpId: string;
  /** Proposed hold time in seconds (0 or ≥ 3). @default 90 */
  holdTime?: number;
  /** Families for the multiprotocol capabilities. @default IPv4 unicast and IPv6 unicast */
  families?: AfiSafi[];
  /** Advertise route refresh (RFC 2918). @default true */
  routeRefresh?: boolean;
  /** Advertise enhanced route refresh (RFC 7313). @default false */
  enhancedRouteRefresh?: boolean;
  /** Advertise extended messages (RFC 8654). @default false */
  extendedMessages?: boolean;
  /** Graceful restart capability to advertise (RFC 4724). */
  gracefulRestart?: Omit<GracefulRestartCapability, 'type'>;
  /** Add-path families to advertise (RFC 7911). */
  addPath?: AddPathFamily[];
  /** Hostname capability to advertise. */
  fqdn?: { hostname: string; domainName?: string };
  /** More capabilities appended as given. */
  extraCapabilities?: Capability[];
}

/**
 * Builds our OPEN: version 4, the 2-octet AS field (AS_TRANS when `asn` needs 4 octets), and capabilities in the order
 * multiprotocol, route refresh, enhanced route refresh, extended message, graceful restart, 4-octet AS, add-path, FQDN.
 */
export function createOpen(init: OpenInit): OpenMessage {
  void init;
  throw new RangeError('not implemented yet');
}

/** The sender's real AS number: the 4-octet AS capability's value when present, else the 2-octet field. */
export function openAsn(open: OpenMessage): number {
  for (const c of open.capabilities) if (c.type === 'four-octet-as') return c.asn;
  return open.myAsn;
}

/** The outcome of the OPEN exchange: what both sides support, and the codec options for each direction. */
export interface Negotiated {
  /** Hold time: the smaller of both proposals (RFC 4271 §4.2). 0 means no keepalives and no hold timer. */
  holdTime: number;
  /** Suggested keepalive interval: a third of the hold time, rounded down (RFC 4271 §10). */
  keepaliveTime: number;
  /** The peer's real AS number. */
  peerAsn: number;
  /** Families both sides advertised (IPv4 unicast implied when neither side advertised multiprotocol, RFC 4760 §8). */
  families: AfiSafi[];
  /** Both sides support 4-octet AS numbers. */
  fourOctetAs: boolean;
  /** Both sides support extended messages. */
  extendedMessages: boolean;
  /** The peer supports route refresh (code 2 or 128). */
  routeRefresh: boolean;
  /** Both sides support enhanced route refresh. */
  enhancedRouteRefresh: boolean;
  /** The peer's graceful restart capability, when it sent one. */
  peerGracefulRestart?: GracefulRestartCapability;
  /** Options for encoding what we send. */
  send: CodecOptions;
  /** Options for decoding what we receive. */
  receive: CodecOptions;
}

/** Works out the session parameters from our OPEN and the peer's (RFC 4271 §4.2, RFC 5492, RFC 6793, RFC 7911, RFC 8654). */
export function negotiate(local: OpenMessage, remote: OpenMessage, internal?: boolean): Negotiated {
  void local;
  void remote;
  void internal;
  throw new RangeError('not implemented yet');
}
