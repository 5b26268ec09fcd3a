/**
 * What a BGP peer is given and what it reports: its options, counters, received routes and events (the peer itself is
 * in `peer.ts`).
 * @module
 */

import type { BfdStateName } from '../bfd/bfd-codec.js';
import type { PathAttributes, RouteRefreshMessage, UpdateMessage } from '../codec/types.js';
import type { BackoffOptions } from './backoff.js';
import type { FsmStateName, IdleReason, NotificationInfo } from './fsm.js';
import type { Family, GracefulRestartOptions, SessionInfo } from './session.js';

/** Configuration of one peer, given to `BgpSpeaker.addPeer`. */
export interface PeerOptions {
  /** The peer's address (IPv4 or IPv6). */
  address: string;
  /**
   * The peer's AS number, or `'internal'` (any OPEN carrying our AS: iBGP) / `'external'` (any other AS: eBGP), as FRR's
   * `neighbor … remote-as internal|external` and MetalLB's `dynamicASN`.
   */
  asn: number | 'internal' | 'external';
  /** TCP port to connect to. Default 179. */
  port?: number;
  /** Hold time we propose, seconds: 0 or 3..65535. Default 90. */
  holdTime?: number;
  /** Keepalive interval, seconds. Default holdTime / 3. */
  keepaliveTime?: number;
  /** ConnectRetryTime, seconds. Default 5. */
  connectRetryTime?: number;
  /** DelayOpenTime, seconds (RFC 4271 optional DelayOpen); 0 disables. Default 0. */
  delayOpenTime?: number;
  /** Never connect out; wait for the peer to connect to our listener. Default false. */
  passive?: boolean;
  /** TCP MD5 signature key (RFC 2385). Linux only; needs koffi. */
  password?: string;
  /** GTSM (RFC 5082) for single-hop eBGP: send TTL 255 and accept only TTL >= 255 - hops + 1. `true` means 1 hop. */
  ttlSecurity?: boolean | number;
  /** eBGP multihop: the TTL of our packets. */
  multihop?: number;
  /** Source address to bind outgoing connections to. */
  localAddress?: string;
  /**
   * Linux VRF device (or any interface) the session's sockets are bound to (SO_BINDTODEVICE; needs CAP_NET_RAW), so the
   * connection is routed in that VRF's table. Outgoing connections only (with `passive` it is refused); BFD to the peer
   * is bound to it too.
   */
  vrf?: string;
  /**
   * BGP unnumbered (FRR `neighbor IFNAME interface`): the interface the peer is on, whose IPv6 link-local address is
   * `address` (found with `LinkLocalDiscovery`; the speaker adds `%IFNAME` to it as scope when it has none). The
   * extended next hop capability is advertised (unless `extendedNextHop` is false) and, when the peer negotiates it,
   * IPv4 routes go with our IPv6 next hop in MP_REACH_NLRI (RFC 8950): no IPv4 address is needed on the link.
   */
  interface?: string;
  /** Advertise extended next hop for IPv4 unicast with IPv6 next hops (RFC 8950). Default: true with `interface`. */
  extendedNextHop?: boolean;
  /** Families to offer. Default both IPv4 and IPv6 unicast. */
  families?: Family[];
  /** Graceful restart (RFC 4724): `true` for the defaults, or settings; false/undefined to not advertise it. */
  gracefulRestart?: boolean | GracefulRestartOptions;
  /** Tear the session down (Cease / Maximum Number of Prefixes Reached) when the peer sends more. Default 100000. */
  maxPrefix?: number;
  /** Keep received routes with their attributes, readable with `BgpPeer.receivedRoutes()`. Default false. */
  exposeRoutes?: boolean;
  /** Advertise extended messages (RFC 8654). Default true. */
  extendedMessages?: boolean;
  /**
   * ADD-PATH send (RFC 7911): advertise the capability (code 69, send) for the peer's families. Where the peer
   * answers with receive, every route carries a path identifier and a route announced with several next hops
   * (`AnnounceOptions.nextHops`) goes out as one path per next hop, so a route reflector learns, and can reflect,
   * every one of them; without it the peer gets only the first. Default false.
   */
  addPath?: boolean;
  /** IPv4 next hop for this peer, overriding the session's local address. */
  nextHop4?: string;
  /** IPv6 next hop for this peer, overriding the session's local address. */
  nextHop6?: string;
  /** Reconnect backoff. Default 1 s doubling to 60 s, with jitter. */
  backoff?: BackoffOptions;
  /** Milliseconds to wait for an outgoing TCP connection. Default 10000. */
  connectTimeoutMs?: number;
  /**
   * Run BFD (RFC 5880) to this peer: single hop (UDP 3784, TTL 255) unless `multihop` is over 1, then RFC 5883 (UDP
   * 4784). When the BFD session leaves Up (not because the peer set it AdminDown, RFC 5882 §3.2), the BGP session is
   * torn down at once with Cease / BFD Down (RFC 9384) and reconnects with the backoff.
   */
  bfd?: PeerBfdOptions;
}

/** BFD timers of a peer (MetalLB's BFDProfile, milliseconds). */
export interface PeerBfdOptions {
  /** Required Min RX Interval, ms. Default 300. */
  receiveInterval?: number;
  /** Desired Min TX Interval, ms. Default 300. */
  transmitInterval?: number;
  /** Detect Mult. Default 3. */
  detectMultiplier?: number;
  /** Passive role: wait for the peer's first packet. Default false. */
  passive?: boolean;
  /** Multihop only: lowest TTL accepted (1..254). Default 254. */
  minimumTtl?: number;
  /**
   * Run the Echo function at this interval, ms (10..60000; MetalLB's echoMode with echoInterval): IPv4 single hop
   * only, not in a VRF; needs CAP_NET_RAW, net.ipv4.ip_forward=1 and accept_local=1 on the interface (a `warning` says what is
   * missing, and the session runs without Echo).
   */
  echoInterval?: number;
}

/** A route received from a peer (only kept with {@link PeerOptions.exposeRoutes}). */
export interface ReceivedRoute {
  /** The prefix. */
  prefix: string;
  /** Its path attributes (never trusted: the speaker does not act on them). */
  attributes: PathAttributes;
  /** Kept from before the peer restarted (graceful restart helper), not yet refreshed. */
  stale: boolean;
}

/** Counters of one peer (cumulative unless noted). */
export interface PeerCounters {
  /** Transitions into Established. */
  established: number;
  /** Outgoing connection attempts. */
  connectAttempts: number;
  /** UPDATE messages sent (End-of-RIB included). */
  updatesSent: number;
  /** UPDATE messages received. */
  updatesReceived: number;
  /** Prefixes announced by the last flushes (cumulative). */
  prefixesAnnounced: number;
  /** Prefixes withdrawn (cumulative). */
  prefixesWithdrawn: number;
  /** Prefixes currently advertised to the peer (gauge). */
  prefixesAdvertised: number;
  /** Prefixes currently received from the peer (gauge). */
  prefixesReceived: number;
  /** NOTIFICATIONs sent. */
  notificationsSent: number;
  /** NOTIFICATIONs received. */
  notificationsReceived: number;
  /** UPDATEs handled as treat-as-withdraw (RFC 7606). */
  updatesTreatedAsWithdraw: number;
  /** Malformed attributes discarded (RFC 7606 attribute-discard). */
  attributesDiscarded: number;
  /** ROUTE-REFRESH requests answered. */
  routeRefreshes: number;
}

/** A NOTIFICATION with its direction, as reported by the `notification` event. */
export interface NotificationEvent extends NotificationInfo {
  /** Whether we sent or received it. */
  direction: 'sent' | 'received';
}

/** Events of `BgpPeer`. */
export interface BgpPeerEvents {
  /** The peer's (aggregate) FSM state changed. */
  state: [to: FsmStateName, from: FsmStateName];
  /** A session reached Established. */
  established: [info: SessionInfo];
  /** The Established session ended. */
  down: [reason: IdleReason];
  /** A NOTIFICATION was sent or received. */
  notification: [n: NotificationEvent];
  /** An UPDATE was received (after RFC 7606 handling). */
  update: [update: UpdateMessage];
  /** A ROUTE-REFRESH was received and answered. */
  routeRefresh: [message: RouteRefreshMessage];
  /** UPDATEs were written to the session (after a flush). */
  sent: [result: { updates: number; announced: number; withdrawn: number; endOfRib: boolean }];
  /** A non-fatal problem (socket options, unexportable routes). */
  warning: [message: string, error?: Error];
  /** The BFD session to this peer changed state (with `bfd` configured); `diagnostic` is RFC 5880 bfd.LocalDiag. */
  bfd: [state: BfdStateName, diagnostic: number];
}
