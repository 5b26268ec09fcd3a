/**
 * The BGP speaker: a set of peers, an optional listener, and a table of locally originated routes that every peer's
 * Adj-RIB-Out follows. Changes are coalesced per event-loop turn: one change is on the wire in the same turn's
 * `setImmediate`, and a burst of calls goes out as one packed set of UPDATEs.
 * @module
 */

import { createServer, isIPv4, isIPv6, type Server, type Socket } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import type { BfdSession } from '../bfd/bfd-session.js';
import { BfdTransport, type BfdTransportOptions } from '../bfd/bfd-transport.js';
import { communityToNumber, largeCommunityToNumbers } from '../codec/communities.js';
import { CeaseSubcode } from '../codec/constants.js';
import { linkBandwidthCommunity } from '../codec/link-bandwidth.js';
import { addressToBytes, unmapAddress } from './address.js';
import { type Announcement, type AnnounceOptions, announcementKey } from './adj-rib-out.js';
import { type Clock, type RandomSource, systemClock } from './clock.js';
import type { BgpSocket } from './connection.js';
import { BgpPeer, type PeerHost } from './peer.js';
import type { PeerBfdOptions, PeerOptions } from './peer-options.js';
import { createTcpSocketFd, fdOf, type SockoptError, setSocketOptions } from './platform/linux-sockopts.js';
import type { GracefulRestartOptions } from './session.js';

/** Where the speaker accepts incoming BGP connections. */
export interface ListenOptions {
  /** Port. Default 179. */
  port?: number;
  /** Addresses to listen on. Default '::' (all IPv6 and IPv4 addresses). */
  host?: string | string[];
}

/** Options of {@link BgpSpeaker}. */
export interface SpeakerOptions {
  /** Our AS number (1..4294967295). */
  asn: number;
  /** Our BGP identifier, a non-zero dotted quad. */
  routerId: string;
  /** Accept incoming connections: `true` for port 179 on all addresses, or where to listen. Default: do not listen. */
  listen?: boolean | ListenOptions;
  /** Graceful restart settings used by peers configured with `gracefulRestart: true`. */
  gracefulRestart?: GracefulRestartOptions;
  /** Time source (tests). */
  clock?: Clock;
  /** Random source (tests). */
  random?: RandomSource;
  /** Transport factory replacing TCP (tests). */
  dial?: (peer: BgpPeer) => Promise<BgpSocket>;
  /** BFD listen/peer addresses and ports (tests); peers opt in with `bfd`. */
  bfd?: Pick<BfdTransportOptions, 'listenAddresses' | 'listenPorts' | 'peerPorts'>;
}

/** Events of {@link BgpSpeaker}. */
export interface BgpSpeakerEvents {
  /** A peer was added. */
  peerAdded: [peer: BgpPeer];
  /** A peer was removed. */
  peerRemoved: [peer: BgpPeer];
  /** The listener is ready. */
  listening: [addresses: { address: string; port: number }[]];
  /** An incoming connection came from an address that is not a configured peer (it was closed). */
  unknownPeer: [address: string];
  /** A non-fatal problem. */
  warning: [message: string, error?: Error];
  /** A listener error. */
  error: [error: Error];
}

/** Parses 'a.b.c.d' or 'a.b.c.d/len' without allocating; returns [value, len, canonical] or undefined. */
function parseV4Prefix(text: string): [number, number, boolean] | undefined {
  let value = 0;
  let octet = -1;
  let digits = 0;
  let dots = 0;
  let canonical = true;
  let i = 0;
  const n = text.length;
  for (; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) canonical = false; // leading zero
      octet = (octet < 0 ? 0 : octet * 10) + (c - 48);
      if (++digits > 3 || octet > 255) return undefined;
    } else if (c === 46 /* . */ && digits > 0 && dots < 3) {
      value = ((value << 8) | octet) >>> 0;
      octet = -1;
      digits = 0;
      dots++;
    } else break;
  }
  if (dots !== 3 || digits === 0) return undefined;
  value = ((value << 8) | octet) >>> 0;
  if (i === n) return [value, 32, false];
  if (text.charCodeAt(i) !== 47 /* / */ || i + 1 === n || n - i - 1 > 2) return undefined;
  let len = 0;
  for (let j = i + 1; j < n; j++) {
    const c = text.charCodeAt(j);
    if (c < 48 || c > 57) return undefined;
    len = len * 10 + (c - 48);
  }
  if (n - i - 1 === 2 && text.charCodeAt(i + 1) === 48) canonical = false;
  return [value, len, canonical];
}

/**
 * Normalises a prefix: adds /32 or /128 to a bare address, canonicalises IPv6 text, and rejects host bits.
 * @throws TypeError on a malformed prefix
 */
export function normalizePrefix(prefix: string): string {
  const v4 = parseV4Prefix(prefix);
  if (v4) {
    const [value, len, canonical] = v4;
    if (len > 32) throw new TypeError(`invalid prefix ${JSON.stringify(prefix)}: length`);
    const hostMask = len === 32 ? 0 : 0xffffffff >>> len;
    if ((value & hostMask) !== 0) throw new TypeError(`invalid prefix ${JSON.stringify(prefix)}: host bits set`);
    if (canonical) return prefix;
    return `${value >>> 24}.${(value >>> 16) & 255}.${(value >>> 8) & 255}.${value & 255}/${len}`;
  }
  if (/^[\d.]+(\/\d+)?$/.test(prefix))
    throw new TypeError(`invalid prefix ${JSON.stringify(prefix)}: not an IP address`);
  const slash = prefix.indexOf('/');
  let addr = slash < 0 ? prefix : prefix.slice(0, slash);
  if (!isIPv6(addr)) throw new TypeError(`invalid prefix ${JSON.stringify(prefix)}: not an IP address`);
  const lenText = slash < 0 ? '128' : prefix.slice(slash + 1);
  const len = Number(lenText);
  if (!/^\d{1,3}$/.test(lenText) || len > 128) throw new TypeError(`invalid prefix ${JSON.stringify(prefix)}: length`);
  addr = new URL(`http://[${addr}]/`).hostname.slice(1, -1);
  const bytes = addressToBytes(addr);
  for (let bit = len; bit < 128; bit++) {
    if (((bytes[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) {
      throw new TypeError(`invalid prefix ${JSON.stringify(prefix)}: host bits set`);
    }
  }
  return `${addr}/${len}`;
}

/** True when two option objects have the same values (lists compared element by element). */
function sameOptions(a: AnnounceOptions, b: AnnounceOptions): boolean {
  const sameList = (x?: readonly string[], y?: readonly string[]) => {
    const lx = x?.length ?? 0;
    if (lx !== (y?.length ?? 0)) return false;
    for (let i = 0; i < lx; i++) if (x?.[i] !== y?.[i]) return false;
    return true;
  };
  return (
    a.nextHop === b.nextHop &&
    sameList(a.nextHops, b.nextHops) &&
    a.localPref === b.localPref &&
    a.med === b.med &&
    sameList(a.communities, b.communities) &&
    sameList(a.largeCommunities, b.largeCommunities) &&
    sameList(a.peers, b.peers) &&
    a.linkBandwidth === b.linkBandwidth
  );
}

function u32(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
    throw new TypeError(`${name}: must be an integer 0..2^32-1, got ${v}`);
  }
}

/** Sorted, de-duplicated copy (the input itself when it is already so). */
function canonicalList(list: readonly string[] | undefined): readonly string[] {
  if (!list || list.length === 0) return [];
  for (let i = 1; i < list.length; i++) {
    if ((list[i - 1] as string) >= (list[i] as string)) return [...new Set(list)].sort();
  }
  return list;
}

/** Validates announce options and returns their canonical form (lists sorted and de-duplicated). */
function canonicalAnnounce(o: AnnounceOptions): AnnounceOptions {
  if (o.nextHop !== undefined && !isIPv4(o.nextHop) && !isIPv6(o.nextHop)) {
    throw new TypeError(`nextHop: not an IP address: ${o.nextHop}`);
  }
  u32('localPref', o.localPref);
  u32('med', o.med);
  const out: AnnounceOptions = {};
  if (o.nextHop !== undefined) out.nextHop = o.nextHop;
  if (o.nextHops !== undefined && o.nextHops.length > 0) {
    // order kept: it gives the path identifiers; repeats (and the `nextHop` itself) dropped
    const seen = new Set(o.nextHop === undefined ? [] : [o.nextHop]);
    const hops: string[] = [];
    for (const h of o.nextHops) {
      if (typeof h !== 'string' || (!isIPv4(h) && !isIPv6(h))) throw new TypeError(`nextHops: not an IP address: ${h}`);
      if (!seen.has(h)) hops.push(h);
      seen.add(h);
    }
    if (hops.length > 0) out.nextHops = hops;
  }
  if (o.localPref !== undefined) out.localPref = o.localPref;
  if (o.med !== undefined) out.med = o.med;
  const communities = canonicalList(o.communities);
  for (const c of communities) communityToNumber(c); // throws RangeError with the reason
  if (communities.length > 0) out.communities = [...communities];
  const large = canonicalList(o.largeCommunities);
  for (const c of large) largeCommunityToNumbers(c);
  if (large.length > 0) out.largeCommunities = [...large];
  const peers = canonicalList(o.peers);
  if (peers.length > 0) out.peers = [...peers];
  if (o.linkBandwidth !== undefined) {
    linkBandwidthCommunity(0, o.linkBandwidth); // throws RangeError with the reason
    out.linkBandwidth = o.linkBandwidth;
  }
  return out;
}

/**
 * A BGP-4 speaker that advertises and withdraws prefixes to its peers.
 *
 * ```ts
 * const speaker = new BgpSpeaker({ asn: 64512, routerId: '192.0.2.1', listen: true });
 * const router = speaker.addPeer({ address: '192.0.2.254', asn: 64513 });
 * router.on('established', () => console.log('up'));
 * speaker.announce('198.51.100.10/32', { communities: ['64512:100'] });
 * ```
 */
export class BgpSpeaker extends EventEmitter<BgpSpeakerEvents> implements PeerHost {
  /** Our AS. */
  readonly asn: number;
  /** Our BGP identifier. */
  readonly routerId: string;
  /** Time source. */
  readonly clock: Clock;
  /** Random source. */
  readonly random: RandomSource;
  /** Speaker-wide graceful restart settings. */
  readonly gracefulRestart: GracefulRestartOptions | undefined;
  /** Transport factory override (tests). */
  readonly dial: ((peer: BgpPeer) => Promise<BgpSocket>) | undefined;
  private readonly table = new Map<string, Announcement>();
  /** Prefixes changed since the last flush → their announcement before (shared by every peer's Adj-RIB-Out). */
  private readonly changes = new Map<string, Announcement | undefined>();
  private readonly interned = new Map<string, Announcement>();
  private readonly peerMap = new Map<string, BgpPeer>();
  private readonly servers: Server[] = [];
  private readonly listenerFds = new Map<Server, { fd: number | undefined; family: 4 | 6 }>();
  private readonly listenerMinTtl = new Map<Server, string>();
  private readonly listenPromise: Promise<{ address: string; port: number }[]>;
  private flushScheduled = false;
  private closed = false;
  private readonly listens: boolean;
  private bfdTransport: BfdTransport | undefined;
  private readonly bfdOptions: SpeakerOptions['bfd'];
  private lastOptions: AnnounceOptions | undefined;
  private lastAnnouncement: Announcement | undefined;

  /** @param options AS, router ID, listener */
  constructor(options: SpeakerOptions) {
    super();
    if (!Number.isInteger(options.asn) || options.asn < 1 || options.asn > 0xffffffff) {
      throw new RangeError(`asn: must be 1..4294967295, got ${options.asn}`);
    }
    if (!isIPv4(options.routerId) || options.routerId === '0.0.0.0') {
      throw new TypeError(`routerId: must be a non-zero dotted quad, got ${JSON.stringify(options.routerId)}`);
    }
    this.asn = options.asn;
    this.routerId = options.routerId;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.gracefulRestart = options.gracefulRestart;
    this.dial = options.dial;
    this.listens = Boolean(options.listen);
    this.bfdOptions = options.bfd;
    this.listenPromise = options.listen
      ? this.startListening(options.listen === true ? {} : options.listen)
      : Promise.resolve([]);
    this.listenPromise.catch((err: Error) => this.emit('error', err));
  }

  /** The table of local announcements: prefix → canonical attributes. */
  get routes(): ReadonlyMap<string, Announcement> {
    return this.table;
  }

  /** Configured peers. */
  get peers(): BgpPeer[] {
    return [...this.peerMap.values()];
  }

  /** Resolves with the listening addresses once the listener is up (rejects if it failed). */
  listening(): Promise<{ address: string; port: number }[]> {
    return this.listenPromise;
  }

  /** The peer configured for `address`, if any. */
  getPeer(address: string): BgpPeer | undefined {
    return this.peerMap.get(unmapAddress(address));
  }

  /**
   * Adds a peer and starts it (it connects out unless passive).
   * @throws TypeError / RangeError on invalid options or a duplicate address
   */
  addPeer(options: PeerOptions): BgpPeer {
    if (this.closed) throw new Error('speaker is closed');
    if (options.interface !== undefined) options = unnumberedPeerOptions(options);
    const address = options.address;
    if (!isIPv4(address) && !isIPv6(address)) throw new TypeError(`address: not an IP address: ${address}`);
    if (this.peerMap.has(address)) throw new RangeError(`address: peer ${address} already exists`);
    const asn = options.asn;
    if (asn !== 'internal' && asn !== 'external' && (!Number.isInteger(asn) || asn < 1 || asn > 0xffffffff)) {
      throw new RangeError(`asn: must be 1..4294967295, 'internal' or 'external', got ${asn}`);
    }
    if (options.vrf !== undefined && (options.passive || !/^[^\s/]{1,15}$/.test(options.vrf))) {
      throw new RangeError(
        options.passive
          ? 'vrf: a passive peer would need a listener in the VRF; only outgoing sessions can be bound to a VRF'
          : `vrf: not a device name (1 to 15 characters, no space or /): ${JSON.stringify(options.vrf)}`,
      );
    }
    if (options.password !== undefined && new TextEncoder().encode(options.password).length > 80) {
      throw new RangeError('password: at most 80 bytes (TCP_MD5SIG_MAXKEYLEN)');
    }
    const peer = new BgpPeer(this, options);
    if (options.bfd) this.startBfd(peer, options.bfd);
    this.peerMap.set(address, peer);
    if (options.passive && !this.listens) {
      this.emit('warning', `peer ${address} is passive but the speaker does not listen: it will never connect`);
    }
    if (options.password !== undefined) this.setListenerKeys(address, options.password);
    this.updateListenerMinTtl();
    this.emit('peerAdded', peer);
    peer.start();
    return peer;
  }

  /**
   * Removes a peer: its sessions end with Cease / Peer De-configured (RFC 4486).
   * @returns false when no such peer exists
   */
  removePeer(peerOrAddress: BgpPeer | string): boolean {
    const address = typeof peerOrAddress === 'string' ? peerOrAddress : peerOrAddress.address;
    const peer = this.peerMap.get(address);
    if (!peer) return false;
    peer.stop(CeaseSubcode.PEER_DECONFIGURED);
    this.bfdTransport?.remove(address);
    this.peerMap.delete(address);
    if (peer.options.password !== undefined) this.setListenerKeys(address, '');
    this.updateListenerMinTtl();
    this.emit('peerRemoved', peer);
    return true;
  }

  /**
   * Announces (or changes) a prefix. A bare address means /32 or /128. Only the difference reaches each peer, at the end
   * of the current event-loop turn.
   * @throws TypeError on an invalid prefix or attribute
   */
  announce(prefix: string, options: AnnounceOptions = {}): void {
    const p = normalizePrefix(prefix);
    // Fast path: options equal to the previous call's (bulk announcements) reuse its interned entry, allocation-free.
    let ann = this.lastOptions && sameOptions(options, this.lastOptions) ? this.lastAnnouncement : undefined;
    if (!ann) {
      const canonical = canonicalAnnounce(options);
      const key = announcementKey(canonical);
      ann = this.interned.get(key);
      if (!ann) {
        ann = Object.freeze({ key, options: Object.freeze(canonical) });
        this.interned.set(key, ann);
      }
    }
    if (!this.lastOptions || ann !== this.lastAnnouncement) {
      // A private snapshot: the caller may mutate its object later.
      this.lastOptions = {
        ...options,
        ...(options.communities ? { communities: [...options.communities] } : {}),
        ...(options.largeCommunities ? { largeCommunities: [...options.largeCommunities] } : {}),
        ...(options.peers ? { peers: [...options.peers] } : {}),
      };
      this.lastAnnouncement = ann;
    }
    const before = this.table.get(p);
    if (before === ann) return;
    this.table.set(p, ann);
    this.changed(p, before);
  }

  /** Withdraws a prefix from every peer. Returns false when it was not announced. */
  withdraw(prefix: string): boolean {
    const p = normalizePrefix(prefix);
    const before = this.table.get(p);
    if (!before) return false;
    this.table.delete(p);
    this.changed(p, before);
    return true;
  }

  /** Schedules a coalesced flush of every peer's Adj-RIB-Out (next `setImmediate`). */
  scheduleFlush(): void {
    if (this.flushScheduled || this.closed) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      for (const peer of this.peerMap.values()) peer.flush(this.changes);
      this.changes.clear();
      if (this.interned.size > 4 * this.table.size + 64) this.gcInterned();
    });
  }

  /**
   * Stops every peer with Cease / Administrative Shutdown, closes the listener, and resolves once the NOTIFICATIONs had
   * a moment to leave.
   */
  async close(communication?: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peerMap.values()) peer.stop(CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, communication);
    await this.bfdTransport?.close();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    // Let the NOTIFICATIONs and FINs drain.
    await new Promise((r) => setTimeout(r, 20));
  }

  /** The BFD session of a peer configured with `bfd`. */
  bfdSession(address: string): BfdSession | undefined {
    return this.bfdTransport?.get(address);
  }

  private startBfd(peer: BgpPeer, o: PeerBfdOptions): void {
    if (!this.bfdTransport) {
      const t = new BfdTransport({ clock: this.clock, random: this.random, ...this.bfdOptions });
      t.on('error', (err, address) =>
        this.emit('warning', `BFD${address ? ` to ${address}` : ''}: ${err.message}`, err),
      );
      this.bfdTransport = t;
    }
    const opts = peer.options;
    const session = this.bfdTransport.add({
      address: peer.address,
      ...(opts.localAddress !== undefined ? { localAddress: opts.localAddress } : {}),
      ...(opts.vrf !== undefined ? { device: opts.vrf } : {}),
      multihop: (opts.multihop ?? 1) > 1,
      ...o,
    });
    session.on('state', (to, _from, diagnostic) => peer.emit('bfd', to, diagnostic));
    session.on('down', (_diagnostic, adminDown) => {
      if (!adminDown) peer.bfdDown();
    });
  }

  private changed(prefix: string, before: Announcement | undefined): void {
    // Only the announcement before the first change of this turn matters.
    if (!this.changes.has(prefix)) this.changes.set(prefix, before);
    this.scheduleFlush();
  }

  private gcInterned(): void {
    const live = new Set(this.table.values());
    for (const [k, a] of this.interned) if (!live.has(a)) this.interned.delete(k);
  }

  private async startListening(o: ListenOptions): Promise<{ address: string; port: number }[]> {
    const hosts = o.host === undefined ? ['::'] : Array.isArray(o.host) ? o.host : [o.host];
    const port = o.port ?? 179;
    const out: { address: string; port: number }[] = [];
    for (const host of hosts) {
      const server = createServer({ noDelay: true }, (socket) => this.onConnection(socket));
      server.on('error', (err) => this.emit('error', err));
      // On Linux the listening socket is created through koffi, so its descriptor is ours for TCP MD5 keys; where koffi
      // cannot load, Node creates it (and MD5 keys fail with SockoptError when a peer asks for one).
      const family = isIPv4(host) ? 4 : 6;
      let fd: number | undefined;
      try {
        fd = await createTcpSocketFd({ family, bind: { address: host, port }, reuseAddr: true });
      } catch (err) {
        if ((err as Error).name !== 'SockoptError' || (err as SockoptError).errno !== undefined) throw err;
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        const done = () => {
          server.off('error', reject);
          resolve();
        };
        if (fd !== undefined) server.listen({ fd }, done);
        else server.listen({ host, port, ipv6Only: host !== '::' && isIPv6(host) }, done);
      });
      this.servers.push(server);
      this.listenerFds.set(server, { fd: fd ?? fdOf(server), family });
      const a = server.address();
      if (a && typeof a === 'object') out.push({ address: a.address, port: a.port });
    }
    for (const peer of this.peerMap.values()) {
      if (peer.options.password !== undefined) this.setListenerKeys(peer.address, peer.options.password);
    }
    this.updateListenerMinTtl();
    this.emit('listening', out);
    return out;
  }

  /**
   * GTSM on the listener: when every peer a listener can serve uses ttlSecurity, the listener itself gets the minimum
   * TTL, so even a SYN from farther away is dropped by the kernel. With mixed peers the check applies per connection
   * after accept (packets that arrived before that were already let in). With any GTSM peer the listener sends TTL 255,
   * so the handshake's SYN-ACK passes that peer's own check.
   */
  private updateListenerMinTtl(): void {
    for (const server of this.servers) {
      const { fd, family } = this.listenerFds.get(server) ?? { fd: undefined, family: 6 as const };
      if (fd === undefined) continue;
      const served = this.peers.filter((p) => family === 6 || isIPv4(p.address));
      let minTtl = 0;
      if (served.length > 0 && served.every((p) => p.options.ttlSecurity)) {
        const hops = Math.max(
          ...served.map((p) => (p.options.ttlSecurity === true ? 1 : Number(p.options.ttlSecurity))),
        );
        minTtl = 255 - hops + 1;
      }
      // Our SYN-ACK must already carry TTL 255 for a GTSM peer that connects to us (-1 restores the default).
      const ttl = served.some((p) => p.options.ttlSecurity) ? 255 : -1;
      const key = `${minTtl}/${ttl}`;
      if (this.listenerMinTtl.get(server) === key) continue;
      this.listenerMinTtl.set(server, key);
      // A dual-stack IPv6 listener also takes IPv4-mapped connections: set both options.
      const families: (4 | 6)[] = family === 4 ? [4] : [4, 6];
      Promise.all(families.map((f) => setSocketOptions(fd, f, { minTtl, ttl }))).catch((err: Error) =>
        this.emit('warning', 'cannot set the minimum TTL (GTSM) on the listener', err),
      );
    }
  }

  private setListenerKeys(address: string, key: string): void {
    for (const server of this.servers) {
      const { fd, family } = this.listenerFds.get(server) ?? { fd: undefined, family: 6 as const };
      if (family === 4 && !isIPv4(address)) continue;
      // An IPv6 listener takes IPv4 peers' keys as IPv4-mapped addresses.
      const keyAddress = family === 6 && isIPv4(address) ? `::ffff:${address}` : address;
      const applied =
        fd === undefined
          ? Promise.reject(new Error('the listening socket has no known file descriptor'))
          : setSocketOptions(fd, family, { md5: [{ address: keyAddress, key }] });
      applied.catch((err: Error) =>
        this.emit('warning', `cannot set the TCP MD5 key for ${address} on the listener`, err),
      );
    }
  }

  private onConnection(socket: Socket): void {
    const remote = unmapAddress(socket.remoteAddress ?? '');
    const peer = this.peerMap.get(remote);
    if (!peer || this.closed) {
      this.emit('unknownPeer', remote);
      socket.destroy();
      return;
    }
    socket.on('error', () => {});
    peer.acceptConnection(socket).catch((err: Error) => {
      this.emit('warning', `incoming connection from ${remote} failed`, err);
      socket.destroy();
    });
  }
}

/**
 * Checks a BGP unnumbered peer's options (`interface`: a device name; `address`: IPv6 link-local) and gives the address
 * its scope (`fe80::1%eth0`), so outgoing connections leave by that interface and incoming ones (whose address Node
 * reports with the scope) find the peer.
 */
function unnumberedPeerOptions(options: PeerOptions): PeerOptions {
  const ifname = options.interface ?? '';
  if (!/^[^\s/%]{1,15}$/.test(ifname))
    throw new RangeError(
      `interface: not a device name (1 to 15 characters, no space, / or %): ${JSON.stringify(ifname)}`,
    );
  const [bare = '', scope] = options.address.split('%');
  if (!isIPv6(bare) || !/^fe[89ab][0-9a-f]:/i.test(bare))
    throw new TypeError(`address: an unnumbered peer's address is its IPv6 link-local address, got ${options.address}`);
  if (scope !== undefined && scope !== ifname)
    throw new RangeError(`address: scope %${scope} is not the peer's interface ${ifname}`);
  return { ...options, address: `${bare}%${ifname}` };
}
