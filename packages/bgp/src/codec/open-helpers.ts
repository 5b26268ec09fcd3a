import { Afi, AS_TRANS, BGP_VERSION, Safi } from './constants.js';
import type {
  AddPathFamilies,
  AddPathFamily,
  AfiSafi,
  Capability,
  CodecOptions,
  ExtendedNextHopFamily,
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
  /** Extended next hop families to advertise (RFC 8950), e.g. `[{ afi: 1, safi: 1, nextHopAfi: 2 }]`. */
  extendedNextHop?: ExtendedNextHopFamily[];
  /** Hostname capability to advertise. */
  fqdn?: { hostname: string; domainName?: string };
  /** More capabilities appended as given. */
  extraCapabilities?: Capability[];
}

/**
 * Builds our OPEN: version 4, the 2-octet AS field (AS_TRANS when `asn` needs 4 octets), and capabilities in the order
 * multiprotocol, route refresh, enhanced route refresh, extended message, graceful restart, 4-octet AS, add-path,
 * extended next hop, FQDN.
 */
export function createOpen(init: OpenInit): OpenMessage {
  const asn = init.asn;
  if (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff)
    throw new RangeError(`asn must be 1..4294967295, got ${asn}`);
  const holdTime = init.holdTime ?? 90;
  if (!Number.isInteger(holdTime) || holdTime < 0 || holdTime > 0xffff || holdTime === 1 || holdTime === 2)
    throw new RangeError(`holdTime must be 0 or 3..65535, got ${holdTime}`);
  const families = init.families ?? [
    { afi: Afi.IPV4, safi: Safi.UNICAST },
    { afi: Afi.IPV6, safi: Safi.UNICAST },
  ];
  const capabilities: Capability[] = families.map((f) => ({ type: 'multiprotocol', afi: f.afi, safi: f.safi }));
  if (init.routeRefresh !== false) capabilities.push({ type: 'route-refresh' });
  if (init.enhancedRouteRefresh) capabilities.push({ type: 'enhanced-route-refresh' });
  if (init.extendedMessages) capabilities.push({ type: 'extended-message' });
  if (init.gracefulRestart) capabilities.push({ type: 'graceful-restart', ...init.gracefulRestart });
  capabilities.push({ type: 'four-octet-as', asn });
  if (init.addPath && init.addPath.length > 0) capabilities.push({ type: 'add-path', families: [...init.addPath] });
  if (init.extendedNextHop && init.extendedNextHop.length > 0)
    capabilities.push({ type: 'extended-next-hop', families: [...init.extendedNextHop] });
  if (init.fqdn)
    capabilities.push({ type: 'fqdn', hostname: init.fqdn.hostname, domainName: init.fqdn.domainName ?? '' });
  if (init.extraCapabilities) capabilities.push(...init.extraCapabilities);
  return {
    type: 'open',
    version: BGP_VERSION,
    myAsn: asn > 0xffff ? AS_TRANS : asn,
    holdTime,
    bgpId: init.bgpId,
    capabilities,
  };
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
  /**
   * Extended next hop entries both sides advertised (RFC 8950 §4): for these NLRI families either side may send next
   * hops of `nextHopAfi` (IPv4 unicast with IPv6 next hops in MP_REACH_NLRI).
   */
  extendedNextHop: ExtendedNextHopFamily[];
  /** Options for encoding what we send. */
  send: CodecOptions;
  /** Options for decoding what we receive. */
  receive: CodecOptions;
}

/** Works out the session parameters from our OPEN and the peer's (RFC 4271 §4.2, RFC 5492, RFC 6793, RFC 7911, RFC 8654). */
export function negotiate(local: OpenMessage, remote: OpenMessage, internal?: boolean): Negotiated {
  const lc = local.capabilities;
  const rc = remote.capabilities;
  const hasL = (t: Capability['type']) => lc.some((c) => c.type === t);
  const hasR = (t: Capability['type']) => rc.some((c) => c.type === t);
  const mp = (caps: readonly Capability[]) => {
    const list = caps.filter((c) => c.type === 'multiprotocol').map((c) => ({ afi: c.afi, safi: c.safi }));
    // RFC 4760 §8 / RFC 4271: without any multiprotocol capability, IPv4 unicast is implied
    return list.length > 0 ? list : [{ afi: Afi.IPV4, safi: Safi.UNICAST }];
  };
  const lf = mp(lc);
  const rf = mp(rc);
  const families = lf.filter((f) => rf.some((g) => g.afi === f.afi && g.safi === f.safi));
  const fourOctetAs = hasL('four-octet-as') && hasR('four-octet-as');
  const extendedMessages = hasL('extended-message') && hasR('extended-message');
  const holdTime = Math.min(local.holdTime, remote.holdTime);
  // RFC 7911 §4: add-path is on in a direction when the sender advertised send and the receiver receive
  const modes = (caps: readonly Capability[], afi: number) => {
    let mode = 0;
    for (const c of caps)
      if (c.type === 'add-path')
        for (const f of c.families)
          if (f.afi === afi && f.safi === Safi.UNICAST)
            mode |= f.sendReceive === 'receive' ? 1 : f.sendReceive === 'send' ? 2 : 3;
    return mode;
  };
  const addPath = (sender: readonly Capability[], receiver: readonly Capability[]): AddPathFamilies => {
    const out: AddPathFamilies = {};
    if ((modes(sender, Afi.IPV4) & 2) !== 0 && (modes(receiver, Afi.IPV4) & 1) !== 0) out.ipv4Unicast = true;
    if ((modes(sender, Afi.IPV6) & 2) !== 0 && (modes(receiver, Afi.IPV6) & 1) !== 0) out.ipv6Unicast = true;
    return out;
  };
  const base = (ap: AddPathFamilies): CodecOptions => {
    const o: CodecOptions = { fourOctetAs, extendedMessages };
    if (ap.ipv4Unicast || ap.ipv6Unicast) o.addPath = ap;
    if (internal !== undefined) o.internal = internal;
    return o;
  };
  const enhe = (caps: readonly Capability[]) => caps.flatMap((c) => (c.type === 'extended-next-hop' ? c.families : []));
  const gr = rc.find((c): c is GracefulRestartCapability => c.type === 'graceful-restart');
  const result: Negotiated = {
    holdTime,
    keepaliveTime: Math.floor(holdTime / 3),
    peerAsn: openAsn(remote),
    families,
    fourOctetAs,
    extendedMessages,
    routeRefresh: hasR('route-refresh'),
    enhancedRouteRefresh: hasL('enhanced-route-refresh') && hasR('enhanced-route-refresh'),
    extendedNextHop: enhe(lc).filter((f) =>
      enhe(rc).some((g) => g.afi === f.afi && g.safi === f.safi && g.nextHopAfi === f.nextHopAfi),
    ),
    send: base(addPath(lc, rc)),
    receive: base(addPath(rc, lc)),
  };
  if (gr) result.peerGracefulRestart = gr;
  return result;
}
