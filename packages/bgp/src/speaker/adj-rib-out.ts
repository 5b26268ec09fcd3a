/**
 * The per-peer Adj-RIB-Out (RFC 4271 §3.2): what we have advertised to one peer. It turns the speaker's table of local
 * announcements into the path attributes this peer must see (next hop, AS_PATH, LOCAL_PREF only on iBGP, AS_TRANS toward
 * 2-octet peers), groups prefixes with identical attributes, and sends only the difference, packed into as few UPDATEs as
 * the negotiated maximum message size allows.
 * @module
 */

import { AS_TRANS } from '../codec/constants.js';
import { linkBandwidthCommunity } from '../codec/link-bandwidth.js';
import { encodeMessage } from '../codec/message-codec.js';
import { endOfRib, type PackOptions, packUpdates, packWithdrawals } from '../codec/pack-updates.js';
import type { CodecOptions, PathAttributes } from '../codec/types.js';
import { prefixFamily } from './address.js';
import { type Family, familyAfi } from './session.js';

/** Attributes of a locally originated route, as given to `BgpSpeaker.announce`. */
export interface AnnounceOptions {
  /**
   * Next hop. Default: the session's local address (IPv4 prefixes over an IPv4 session); for IPv6 prefixes the session's
   * global IPv6 address plus its interface's link-local address.
   */
  nextHop?: string;
  /**
   * Further next hops of the same route (ADD-PATH, RFC 7911), e.g. the other nodes that serve it: toward a peer that
   * negotiated ADD-PATH send for the family, each goes out as a path of its own (path identifier 2, 3, … in this order;
   * the `nextHop` path is 1), so a route reflector keeps every one. Other peers get only the `nextHop` path. Next hops
   * of the other family than the prefix's are skipped.
   */
  nextHops?: string[];
  /** LOCAL_PREF, sent to iBGP peers only. Default 100 on iBGP. */
  localPref?: number;
  /** MULTI_EXIT_DISC. */
  med?: number;
  /** Standard communities, 'A:B' or a well-known name ('no-export'). */
  communities?: string[];
  /** Large communities, 'A:B:C'. */
  largeCommunities?: string[];
  /** Only these peers (by address) receive the route; default all. */
  peers?: string[];
  /**
   * Link bandwidth in bytes per second, sent as the link bandwidth extended community (draft-ietf-idr-link-bandwidth,
   * transitive, our AS) so a router with weighted ECMP (FRR `bgp bestpath bandwidth`) shares traffic in proportion.
   */
  linkBandwidth?: number;
}

/** A canonicalised, interned set of {@link AnnounceOptions} (the speaker shares one object per distinct set). */
export interface Announcement {
  /** Canonical key of the options. */
  readonly key: string;
  /** The options, canonicalised (communities sorted and deduplicated). */
  readonly options: Readonly<AnnounceOptions>;
}

/** Canonicalises announce options and returns their key. */
export function announcementKey(o: AnnounceOptions): string {
  return JSON.stringify([
    o.nextHop ?? null,
    o.nextHops ?? [],
    o.localPref ?? null,
    o.med ?? null,
    o.communities ?? [],
    o.largeCommunities ?? [],
    o.peers ?? [],
    o.linkBandwidth ?? null,
  ]);
}

/** What the Adj-RIB-Out needs to know about the session it serves. */
export interface ExportContext {
  /** Our AS. */
  localAsn: number;
  /** iBGP session. */
  internal: boolean;
  /** Families negotiated. */
  families: readonly Family[];
  /** Send-direction codec options (4-octet AS, extended messages). */
  codec: CodecOptions;
  /** The peer's address as configured (matched against {@link AnnounceOptions.peers}). */
  peerAddress: string;
  /** Local address of the TCP session. */
  localAddress: string;
  /** Configured IPv4 next hop for this peer (overrides the session address). */
  nextHop4?: string | undefined;
  /** Configured IPv6 next hop for this peer (overrides the session address). */
  nextHop6?: string | undefined;
  /** Link-local IPv6 address of the session's interface, sent after the global IPv6 next hop. */
  linkLocal6?: string | undefined;
  /**
   * The session negotiated extended next hop for IPv4 unicast (RFC 8950): IPv4 prefixes that have no IPv4 next hop
   * (a session over IPv6, BGP unnumbered) go with the IPv6 next hop, in MP_REACH_NLRI.
   */
  ipv4NextHopIPv6?: boolean | undefined;
}

/** No paths: the route is not exported to this peer. */
const NONE: readonly (OutGroup | undefined)[] = [];

/** One group of prefixes sharing identical attributes toward one peer. */
interface OutGroup {
  readonly family: Family;
  readonly attributes: PathAttributes;
  readonly pack: PackOptions;
}

/** The result of {@link AdjRibOut.flush}. */
export interface FlushResult {
  /** Encoded UPDATE messages, in sending order. */
  messages: Uint8Array[];
  /** Prefixes announced (new or changed). */
  announced: number;
  /** Prefixes withdrawn. */
  withdrawn: number;
}

/**
 * The Adj-RIB-Out of one peer for one session. It keeps no per-prefix state: once in sync, what the peer holds is a
 * function of the speaker's table as of the last flush, so a flush only needs the prefixes that changed since then and
 * their previous announcement (the speaker collects those once for all peers).
 */
export class AdjRibOut {
  private fullFamilies: Set<Family> | 'all' | undefined = 'all';
  private readonly groups = new Map<string, OutGroup>();
  /** The groups of an announcement's paths toward this peer, by path (index + 1 is the path identifier). */
  private byAnnouncement4 = new WeakMap<Announcement, readonly (OutGroup | undefined)[]>();
  private byAnnouncement6 = new WeakMap<Announcement, readonly (OutGroup | undefined)[]>();
  private ctx: ExportContext | undefined;
  private count = 0;
  /** Prefixes we could not export (no usable next hop for the family), for diagnostics. */
  unexportable = 0;

  /** Number of prefixes currently advertised to the peer. */
  get size(): number {
    return this.count;
  }

  /** Whether a full (re)send is due (after Established or a ROUTE-REFRESH). */
  get pending(): boolean {
    return this.fullFamilies !== undefined;
  }

  /** Starts over for a new session: nothing is advertised, the next flush sends the whole table. */
  reset(ctx: ExportContext): void {
    this.ctx = ctx;
    this.clearCaches();
    this.fullFamilies = 'all';
    this.count = 0;
  }

  /** Forgets the session (nothing is tracked until the next {@link AdjRibOut.reset}). */
  detach(): void {
    this.ctx = undefined;
    this.clearCaches();
    this.fullFamilies = 'all';
    this.count = 0;
  }

  /** Whether a session is attached. */
  get attached(): boolean {
    return this.ctx !== undefined;
  }

  /** Re-advertises every route of `family` (or all families) on the next flush: the answer to a ROUTE-REFRESH. */
  resend(family?: Family): void {
    if (!this.ctx || this.fullFamilies === 'all') return;
    if (family === undefined) {
      this.fullFamilies = 'all';
      return;
    }
    const set = this.fullFamilies ?? new Set<Family>();
    set.add(family);
    this.fullFamilies = set;
  }

  /**
   * Brings the peer up to date with the speaker's `table` and returns the UPDATEs to send (withdrawals first, then
   * announcements grouped by attributes). `changes` maps each prefix changed since the previous flush to its
   * announcement before the change (undefined: it was not announced). A family due for a full (re)send is sent whole.
   */
  flush(
    table: ReadonlyMap<string, Announcement>,
    changes: ReadonlyMap<string, Announcement | undefined> = new Map(),
  ): FlushResult {
    const ctx = this.ctx;
    const result: FlushResult = { messages: [], announced: 0, withdrawn: 0 };
    if (!ctx) return result;
    const adds = new Map<OutGroup, string[]>();
    /** Withdrawals by path identifier (0 when ADD-PATH is off: the codec then writes none). */
    const dels = new Map<number, string[]>();
    const full = this.fullFamilies;
    this.fullFamilies = undefined;
    const isFull = (prefix: string) => full === 'all' || full?.has(prefix.includes(':') ? 'ipv6' : 'ipv4') === true;
    // Consecutive prefixes usually share an announcement: remember the last lookup per family.
    let lastAnn: Announcement | undefined;
    let last4: readonly (OutGroup | undefined)[] | undefined;
    let last6: readonly (OutGroup | undefined)[] | undefined;
    const groups = (prefix: string, ann: Announcement | undefined): readonly (OutGroup | undefined)[] => {
      if (!ann) return NONE;
      if (ann !== lastAnn) {
        lastAnn = ann;
        last4 = undefined;
        last6 = undefined;
      }
      const v6 = prefix.includes(':');
      let g = v6 ? last6 : last4;
      if (g === undefined) {
        g = this.groupsFor(prefix, ann, ctx);
        if (v6) last6 = g;
        else last4 = g;
      }
      return g;
    };
    const add = (g: OutGroup, prefix: string) => {
      const list = adds.get(g);
      if (list) list.push(prefix);
      else adds.set(g, [prefix]);
    };
    const del = (pathId: number, prefix: string) => {
      const list = dels.get(pathId);
      if (list) list.push(prefix);
      else dels.set(pathId, [prefix]);
    };
    const addAll = (prefix: string, paths: readonly (OutGroup | undefined)[]) => {
      for (const g of paths) if (g) add(g, prefix);
    };
    if (full === 'all') {
      this.count = 0;
      for (const [prefix, ann] of table) {
        const paths = groups(prefix, ann);
        if (paths.length > 0) {
          addAll(prefix, paths);
          this.count++;
        }
      }
    } else {
      if (full !== undefined) {
        // ROUTE-REFRESH: the advertised routes of these families again (their count does not change).
        for (const [prefix, ann] of table) {
          if (!isFull(prefix) || changes.has(prefix)) continue;
          addAll(prefix, groups(prefix, ann));
        }
      }
      for (const [prefix, before] of changes) {
        const want = groups(prefix, table.get(prefix));
        const had = groups(prefix, before);
        if (want === had && !isFull(prefix)) continue;
        const refresh = isFull(prefix);
        for (let i = 0; i < Math.max(want.length, had.length); i++) {
          const w = want[i];
          const h = had[i];
          if (w === h && !refresh) continue;
          if (w) add(w, prefix);
          else if (h) del(h.pack.pathId ?? 0, prefix);
        }
        if (want.length > 0 && had.length === 0) this.count++;
        else if (want.length === 0 && had.length > 0) this.count--;
      }
    }
    for (const [pathId, prefixes] of dels) {
      result.messages.push(...packWithdrawals(prefixes, pathId === 0 ? ctx.codec : { ...ctx.codec, pathId }));
      result.withdrawn += prefixes.length;
    }
    for (const [g, prefixes] of adds) {
      result.messages.push(...packUpdates(g.attributes, prefixes, g.pack));
      result.announced += prefixes.length;
    }
    return result;
  }

  private clearCaches(): void {
    this.groups.clear();
    this.byAnnouncement4 = new WeakMap();
    this.byAnnouncement6 = new WeakMap();
  }

  /** Encoded End-of-RIB markers (RFC 4724 §2) for the negotiated families. */
  endOfRib(): Uint8Array[] {
    const ctx = this.ctx;
    if (!ctx) return [];
    return ctx.families.map((f) => encodeMessage(endOfRib({ afi: familyAfi(f), safi: 1 }), ctx.codec));
  }

  /**
   * The groups of the announcement's paths toward this peer: one per path (the `nextHop` path first, then `nextHops`
   * when ADD-PATH send is negotiated for the family), `undefined` for a path that cannot be exported; an empty list
   * when the route is not for this peer at all (family not negotiated, not in `peers`, or no usable next hop).
   */
  private groupsFor(prefix: string, ann: Announcement, ctx: ExportContext): readonly (OutGroup | undefined)[] {
    const family: Family = prefixFamily(prefix) === 4 ? 'ipv4' : 'ipv6';
    if (!ctx.families.includes(family)) return NONE;
    const peers = ann.options.peers;
    if (peers && peers.length > 0 && !peers.includes(ctx.peerAddress)) return NONE;
    const cache = family === 'ipv4' ? this.byAnnouncement4 : this.byAnnouncement6;
    let cached = cache.get(ann);
    if (cached === undefined) {
      const addPath = family === 'ipv4' ? ctx.codec.addPath?.ipv4Unicast : ctx.codec.addPath?.ipv6Unicast;
      const o = ann.options;
      const first = this.shared(this.buildGroup(family, o, ctx, addPath ? 1 : undefined));
      const list: (OutGroup | undefined)[] = [first];
      if (first && addPath && o.nextHops) {
        const want = family === 'ipv4' ? 4 : 6;
        o.nextHops.forEach((nextHop, i) => {
          const g = prefixFamily(nextHop) === want ? this.buildGroup(family, { ...o, nextHop }, ctx, i + 2) : undefined;
          list.push(this.shared(g));
        });
      }
      cached = first ? list : NONE;
      cache.set(ann, cached);
    }
    if (cached.length === 0) this.unexportable++;
    return cached;
  }

  /** The one group object for equal attributes and packing (so equal paths pack into the same UPDATEs). */
  private shared(g: OutGroup | undefined): OutGroup | undefined {
    if (!g) return undefined;
    const key = `${g.family}|${JSON.stringify(g.attributes)}|${JSON.stringify(g.pack)}`;
    const existing = this.groups.get(key);
    if (existing) return existing;
    this.groups.set(key, g);
    return g;
  }

  private buildGroup(
    family: Family,
    o: Readonly<AnnounceOptions>,
    ctx: ExportContext,
    pathId: number | undefined,
  ): OutGroup | undefined {
    const attributes: PathAttributes = { origin: 'igp' };
    if (ctx.internal) {
      attributes.asPath = [];
    } else if (ctx.codec.fourOctetAs === false && ctx.localAsn > 0xffff) {
      // RFC 6793 §4.2.2: toward a 2-octet speaker, AS_TRANS in AS_PATH and the real AS in AS4_PATH.
      attributes.asPath = [{ type: 'sequence', asns: [AS_TRANS] }];
      attributes.as4Path = [{ type: 'sequence', asns: [ctx.localAsn] }];
    } else {
      attributes.asPath = [{ type: 'sequence', asns: [ctx.localAsn] }];
    }
    const pack: PackOptions = { ...ctx.codec };
    if (pathId !== undefined) pack.pathId = pathId;
    const local = ctx.localAddress;
    const localIs4 = local !== '' && prefixFamily(local) === 4;
    if (family === 'ipv4') {
      const nh =
        o.nextHop && prefixFamily(o.nextHop) === 4 ? o.nextHop : (ctx.nextHop4 ?? (localIs4 ? local : undefined));
      if (nh) attributes.nextHop = nh;
      else if (!ctx.ipv4NextHopIPv6 || !this.setIPv6NextHop(pack, o, ctx)) return undefined;
      else pack.ipv4NextHopIPv6 = true;
    } else if (!this.setIPv6NextHop(pack, o, ctx)) {
      return undefined;
    }
    if (o.med !== undefined) attributes.med = o.med;
    if (ctx.internal) attributes.localPref = o.localPref ?? 100;
    if (o.communities && o.communities.length > 0) attributes.communities = [...o.communities];
    if (o.largeCommunities && o.largeCommunities.length > 0) attributes.largeCommunities = [...o.largeCommunities];
    if (o.linkBandwidth !== undefined) {
      attributes.extendedCommunities = [linkBandwidthCommunity(ctx.localAsn, o.linkBandwidth)];
    }
    return { family, attributes, pack };
  }

  /**
   * Sets the IPv6 next hop (and the link-local one after it, RFC 2545 §3) in `pack`: the announcement's, else the
   * peer's configured one, else the session's local address; false when there is none. A link-local next hop goes
   * alone (16 octets), as on an unnumbered link.
   */
  private setIPv6NextHop(pack: PackOptions, o: Readonly<AnnounceOptions>, ctx: ExportContext): boolean {
    const local = ctx.localAddress;
    const localIs4 = local !== '' && prefixFamily(local) === 4;
    let nh = o.nextHop && prefixFamily(o.nextHop) === 6 ? o.nextHop : ctx.nextHop6;
    let own = false;
    if (!nh && local !== '') {
      nh = localIs4 ? `::ffff:${local}` : local;
      own = !localIs4;
    }
    if (!nh) return false;
    pack.ipv6NextHop = nh;
    const ll = ctx.linkLocal6;
    if ((own || nh === ctx.nextHop6) && ll && ll !== nh && !isLinkLocal(nh)) pack.ipv6LinkLocalNextHop = ll;
    return true;
  }
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}
