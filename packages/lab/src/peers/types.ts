import type { LabHost } from '../host.js';

/** The real BGP daemons the lab can run. */
export type PeerKind = 'frr' | 'bird' | 'gobgp' | 'exabgp';

/** An address family the lab configures: IPv4 unicast or IPv6 unicast. */
export type PeerFamily = 'ipv4' | 'ipv6';

/** One configured BGP neighbor of a lab peer. */
export interface NeighborOptions {
  /** The neighbor's address (IPv4 or IPv6); also selects the transport. */
  address: string;
  /** The neighbor's ASN (same as the peer's for iBGP). */
  asn: number;
  /** Only listen; never connect out. */
  passive?: boolean;
  /** TCP MD5 signature password (RFC 2385). */
  password?: string;
  /** Hold time in seconds (keepalive = hold / 3, rounded down, at least 1). */
  holdTime?: number;
  /** Families to activate (default: the family of `address`). */
  families?: PeerFamily[];
  /** eBGP multihop TTL. */
  multihop?: number;
  /** GTSM (RFC 5082): only accept packets with TTL 255 (one hop). */
  ttlSecurity?: boolean;
  /** Advertise the graceful-restart capability (RFC 4724). */
  gracefulRestart?: boolean;
  /** Negotiate ADD-PATH (RFC 7911) send and receive. */
  addPath?: boolean;
  /** Run BFD with this neighbor (FRR: bfdd and `neighbor bfd profile`; BIRD: `protocol bfd` and `bfd on`). */
  bfd?: NeighborBfdOptions;
}

/** BFD timers of a lab neighbor (milliseconds). BIRD applies the first BFD neighbor's timers to every interface. */
export interface NeighborBfdOptions {
  /** Required Min RX Interval, ms. Default 300. */
  receiveInterval?: number;
  /** Desired Min TX Interval, ms. Default 300. */
  transmitInterval?: number;
  /** Detect Mult. Default 3. */
  detectMultiplier?: number;
  /** Passive role. Default false. */
  passive?: boolean;
  /** FRR only: `echo-mode` with this echo transmit and receive interval, ms. Default: no echo. */
  echoInterval?: number;
}

/** A route the lab peer originates. */
export interface AnnounceOptions {
  /** 'ADDR/LEN'. */
  prefix: string;
  /** Next hop to advertise (default: the daemon's own address on the session). */
  nextHop?: string;
  /** Communities as 'A:B' strings. */
  communities?: string[];
  /** Large communities as 'A:B:C' strings. */
  largeCommunities?: string[];
  /** MULTI_EXIT_DISC. */
  med?: number;
  /** LOCAL_PREF (only carried on iBGP sessions). */
  localPref?: number;
}

/** Options of startPeer. */
export interface PeerOptions {
  /** Host (namespace) to run the daemon in. Its topology stops the peer on destroy. */
  host: LabHost;
  /** The peer's own ASN. */
  asn: number;
  /** BGP identifier (default: host.ipv4). */
  routerId?: string;
  /** Configured neighbors. */
  neighbors: NeighborOptions[];
  /** Routes to originate. */
  announce?: AnnounceOptions[];
  /**
   * FRR only: accept a session from any address of the host's IPv4 and IPv6 subnets (192.0.2.0/24 and
   * 2001:db8:0:1::/64 by default) with any eBGP ASN (`bgp listen range` + `remote-as external`).
   */
  acceptAny?: boolean;
  /** Appended verbatim to the generated configuration (FRR bgpd.conf, bird.conf, gobgpd.toml, exabgp.conf). */
  extraConfig?: string;
  /** Milliseconds to wait for the daemon's control interface (default 15 000). */
  startTimeoutMs?: number;
}

/** A route a peer received, normalized identically for all four daemons. */
export interface PeerRoute {
  /** 'ADDR/LEN' (IPv6 in canonical compressed lower case). */
  prefix: string;
  /** Next hop; for IPv6 the global one when a link-local one came with it. */
  nextHop: string;
  /** AS_PATH flattened (AS_SET members included in order). */
  asPath: number[];
  /** Communities as 'A:B' (well-known ones numeric too, e.g. '65535:65281'). */
  communities: string[];
  /** Large communities as 'A:B:C'. */
  largeCommunities: string[];
  localPref?: number;
  med?: number;
  origin?: 'igp' | 'egp' | 'incomplete';
  /** Address of the neighbor it came from. */
  peer?: string;
}

/** State of one session as the daemon reports it (RFC 4271 names: Idle, Connect, Active, OpenSent, ...). */
export interface PeerSession {
  state: string;
  /** Time since the session became Established, when the daemon reports it. */
  uptimeMs?: number;
}

/** A running BGP daemon in a lab namespace. */
export interface BgpPeer {
  readonly kind: PeerKind;
  /** Its temp directory: config, logs, sockets, pid files. */
  readonly dir: string;
  readonly host: LabHost;
  /** Sessions keyed by neighbor address. */
  sessions(): Promise<Record<string, PeerSession>>;
  /** Routes received from neighbors (not the peer's own), optionally of one family, sorted by prefix then peer. */
  routes(family?: PeerFamily): Promise<PeerRoute[]>;
  /** Resolve when the session with `neighbor` is Established; the error on timeout shows sessions and log tail. */
  waitEstablished(neighbor: string, timeoutMs?: number): Promise<void>;
  /** Poll routes() until `pred` holds; resolves with those routes. */
  waitRoutes(pred: (routes: PeerRoute[]) => boolean, timeoutMs?: number): Promise<PeerRoute[]>;
  /**
   * Raw control command: vtysh (FRR, e.g. 'show bgp summary'), birdc (BIRD), gobgp CLI arguments split on spaces
   * (GoBGP, e.g. 'global rib -a ipv4'), or an ExaBGP API command (e.g. 'announce route 198.51.100.9/32 next-hop
   * self'), which resolves with ExaBGP's answer ('done' or 'error').
   */
  command(cli: string): Promise<string>;
  /** Tail of the daemon's logs (for error messages). */
  logs(): Promise<string>;
  /** Stop the daemon by PID (SIGTERM, then SIGKILL) and remove its directory. Idempotent. */
  stop(): Promise<void>;
}
