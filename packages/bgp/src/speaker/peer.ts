/**
 * One configured BGP neighbour: its session attempts (with §6.8 collision detection), reconnect backoff, Adj-RIB-Out,
 * received-route accounting with a max-prefix limit, graceful restart (helper side), counters and events.
 * @module
 */

import { connect as netConnect, Socket } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import { CeaseSubcode, ErrorCode } from '../codec/constants.js';
import { notifications } from '../codec/notifications.js';
import { isEndOfRib } from '../codec/pack-updates.js';
import type { RouteRefreshMessage, UpdateMessage } from '../codec/types.js';
import { bgpIdToNumber, linkLocalFor, prefixFamily } from './address.js';
import { AdjRibOut, type Announcement } from './adj-rib-out.js';
import { Backoff } from './backoff.js';
import type { Clock, RandomSource } from './clock.js';
import type { BgpSocket } from './connection.js';
import type { FsmStateName, IdleReason, NotificationInfo } from './fsm.js';
import type { BgpPeerEvents, PeerCounters, PeerOptions, ReceivedRoute } from './peer-options.js';
import { createTcpSocketFd, familyOf, fdOf, setSocketOptions } from './platform/linux-sockopts.js';
import { BgpSession, type Family, type GracefulRestartOptions, type SessionInfo } from './session.js';
import { Timer } from './timers.js';

/** What a peer needs from its speaker. */
export interface PeerHost {
  /** Our AS. */
  readonly asn: number;
  /** Our BGP identifier. */
  readonly routerId: string;
  /** The speaker's table of local announcements. */
  readonly routes: ReadonlyMap<string, Announcement>;
  /** Time source. */
  readonly clock: Clock;
  /** Random source. */
  readonly random: RandomSource;
  /** Speaker-wide graceful restart defaults. */
  readonly gracefulRestart?: GracefulRestartOptions | undefined;
  /** Asks for an Adj-RIB-Out flush soon (coalesced). */
  scheduleFlush(): void;
  /** Opens a transport to the peer (tests inject an in-memory one); default uses TCP. */
  readonly dial?: ((peer: BgpPeer) => Promise<BgpSocket>) | undefined;
}

const ORDER: Record<FsmStateName, number> = {
  Idle: 0,
  Connect: 1,
  Active: 2,
  OpenSent: 3,
  OpenConfirm: 4,
  Established: 5,
};

/** A configured BGP neighbour. Create with `BgpSpeaker.addPeer`. */
export class BgpPeer extends EventEmitter<BgpPeerEvents> {
  /** The configuration (with defaults applied). */
  readonly options: Readonly<
    Required<Pick<PeerOptions, 'address' | 'asn' | 'port' | 'holdTime' | 'families' | 'maxPrefix'>> & PeerOptions
  >;
  /** Counters. */
  readonly counters: PeerCounters = {
    established: 0,
    connectAttempts: 0,
    updatesSent: 0,
    updatesReceived: 0,
    prefixesAnnounced: 0,
    prefixesWithdrawn: 0,
    prefixesAdvertised: 0,
    prefixesReceived: 0,
    notificationsSent: 0,
    notificationsReceived: 0,
    updatesTreatedAsWithdraw: 0,
    attributesDiscarded: 0,
    routeRefreshes: 0,
  };
  /** The Adj-RIB-Out toward this peer. */
  readonly adjRibOut = new AdjRibOut();
  private readonly sessions = new Set<BgpSession>();
  private current: BgpSession | undefined;
  private aggregate: FsmStateName = 'Idle';
  private readonly backoff: Backoff;
  private readonly restartTimer: Timer;
  private readonly staleTimer: Timer;
  private readonly received = new Map<string, ReceivedRoute | true>();
  private readonly stale = new Set<string>();
  private pendingEndOfRib = false;
  private stopped = false;
  private lastReason: IdleReason | undefined;

  /**
   * @param host the owning speaker
   * @param options configuration
   */
  constructor(
    private readonly host: PeerHost,
    options: PeerOptions,
  ) {
    super();
    familyOf(options.address);
    this.options = {
      ...options,
      port: options.port ?? 179,
      holdTime: options.holdTime ?? 90,
      families: options.families ?? ['ipv4', 'ipv6'],
      maxPrefix: options.maxPrefix ?? 100_000,
    };
    this.backoff = new Backoff(host.random, options.backoff);
    this.restartTimer = new Timer('IdleHold', host.clock, () => this.startSession());
    this.staleTimer = new Timer('GracefulRestart', host.clock, () => this.dropStale());
  }

  /** The peer's address. */
  get address(): string {
    return this.options.address;
  }

  /** The most advanced FSM state among this peer's session attempts ('Idle' when none runs). */
  get state(): FsmStateName {
    return this.aggregate;
  }

  /** What the Established session negotiated, if one is Established. */
  get session(): SessionInfo | undefined {
    return this.current?.state === 'Established' ? this.current.info : undefined;
  }

  /** Why the last Established session ended (or the last attempt failed). */
  get lastError(): IdleReason | undefined {
    return this.lastReason;
  }

  /** Received routes (empty unless {@link PeerOptions.exposeRoutes}). */
  receivedRoutes(): ReceivedRoute[] {
    const out: ReceivedRoute[] = [];
    for (const r of this.received.values()) if (r !== true) out.push(r);
    return out;
  }

  /** Starts the peer (called by the speaker). */
  start(): void {
    this.stopped = false;
    this.startSession();
  }

  /**
   * Stops every session attempt with a Cease NOTIFICATION (default subcode Administrative Shutdown; use
   * Peer De-configured when removing the peer, Administrative Reset for a reset) and does not reconnect.
   * @param subcode Cease subcode (RFC 4486)
   * @param communication RFC 9003 shutdown communication for subcodes 2 and 4
   */
  stop(subcode: number = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, communication?: string): void {
    this.stopped = true;
    this.restartTimer.stop();
    const data = this.ceaseData(subcode, communication);
    for (const s of [...this.sessions]) s.handle({ type: 'ManualStop', subcode, ...(data ? { data } : {}) });
    this.staleTimer.stop();
    this.updateAggregate();
  }

  /**
   * BFD declared the path down: every session ends at once with Cease / BFD Down (RFC 9384), then the peer reconnects
   * with its backoff.
   */
  bfdDown(): void {
    for (const s of [...this.sessions]) s.handle({ type: 'AutomaticStop', subcode: CeaseSubcode.BFD_DOWN });
  }

  /** Administrative reset: Cease / Administrative Reset, then reconnect at once. */
  reset(communication?: string): void {
    const data = this.ceaseData(CeaseSubcode.ADMINISTRATIVE_RESET, communication);
    this.backoff.reset();
    for (const s of [...this.sessions]) {
      s.handle({ type: 'AutomaticStop', subcode: CeaseSubcode.ADMINISTRATIVE_RESET, ...(data ? { data } : {}) });
    }
  }

  private ceaseData(subcode: number, communication?: string): Uint8Array | undefined {
    if (!communication) return undefined;
    if (subcode === CeaseSubcode.ADMINISTRATIVE_SHUTDOWN)
      return notifications.administrativeShutdown(communication).data;
    if (subcode === CeaseSubcode.ADMINISTRATIVE_RESET) return notifications.administrativeReset(communication).data;
    return undefined;
  }

  /**
   * Takes an incoming TCP connection from this peer's address (called by the speaker's listener).
   * @returns false when the connection was refused
   */
  async acceptConnection(socket: Socket): Promise<boolean> {
    if (this.stopped) {
      socket.destroy();
      return false;
    }
    const ttl = this.ttlOptions();
    if (ttl) {
      const fd = fdOf(socket);
      try {
        if (fd === undefined) throw new Error('no file descriptor for the accepted socket');
        await setSocketOptions(fd, familyOf(this.address), ttl);
      } catch (err) {
        this.emit('warning', `cannot apply TTL options to an incoming connection from ${this.address}`, err as Error);
        socket.destroy();
        return false;
      }
    }
    // A session waiting in Active takes the connection. One in Connect has its own attempt in flight: the incoming
    // connection gets a session of its own and §6.8 collision detection picks one when the OPENs arrive.
    const waiting = [...this.sessions].find((s) => s.state === 'Active');
    if (waiting) {
      waiting.accept(socket);
      return true;
    }
    const est = [...this.sessions].find((s) => s.state === 'Established');
    if (est) {
      if (!est.info?.peerGracefulRestart) {
        // RFC 4271 §6.8: a collision with an Established session closes the new connection.
        socket.destroy();
        return false;
      }
      // RFC 4724 §4.2: a new connection from a restarting peer ends the old session (routes kept as stale).
      est.handle({ type: 'TcpConnectionFails', error: new Error('peer reconnected (graceful restart)') });
    }
    this.restartTimer.stop();
    const s = this.createSession(true);
    s.accept(socket);
    return true;
  }

  /**
   * Brings the Established session up to date (called by the speaker once per event-loop turn with the prefixes that
   * changed since the previous call and their previous announcements).
   */
  flush(changes: ReadonlyMap<string, Announcement | undefined> = new Map()): void {
    const s = this.current;
    if (s?.state !== 'Established' || !this.adjRibOut.attached) return;
    const conn = s.connection;
    if (!conn) return;
    if (!this.adjRibOut.pending && !this.pendingEndOfRib && changes.size === 0) return;
    let res: ReturnType<AdjRibOut['flush']>;
    try {
      res = this.adjRibOut.flush(this.host.routes, changes);
    } catch (err) {
      this.emit('warning', `cannot encode UPDATEs for ${this.address}`, err as Error);
      return;
    }
    const eor = this.pendingEndOfRib ? this.adjRibOut.endOfRib() : [];
    this.pendingEndOfRib = false;
    const all = res.messages.concat(eor);
    if (all.length === 0) return;
    conn.cork();
    for (const m of all) conn.writeRaw(m);
    conn.uncork();
    s.fsm.messageSent();
    this.counters.updatesSent += all.length;
    this.counters.prefixesAnnounced += res.announced;
    this.counters.prefixesWithdrawn += res.withdrawn;
    this.counters.prefixesAdvertised = this.adjRibOut.size;
    this.emit('sent', {
      updates: all.length,
      announced: res.announced,
      withdrawn: res.withdrawn,
      endOfRib: eor.length > 0,
    });
  }

  // ---- sessions -----------------------------------------------------------------------------------------------------

  private startSession(): void {
    if (this.stopped) return;
    if ([...this.sessions].some((s) => s.state !== 'Idle')) return;
    this.createSession(this.options.passive ?? false);
  }

  private ttlOptions(): { ttl?: number; minTtl?: number } | undefined {
    const o = this.options;
    if (o.ttlSecurity) {
      const hops = o.ttlSecurity === true ? 1 : o.ttlSecurity;
      return { ttl: 255, minTtl: 255 - hops + 1 };
    }
    if (o.multihop) return { ttl: o.multihop };
    return undefined;
  }

  private async dialTcp(): Promise<BgpSocket> {
    const o = this.options;
    const family = familyOf(o.address);
    const ttl = this.ttlOptions();
    let socket: Socket;
    if (o.password || ttl || o.vrf) {
      const fd = await createTcpSocketFd({
        family,
        ...(o.vrf ? { device: o.vrf } : {}),
        ...(o.password ? { md5: [{ address: o.address, key: o.password }] } : {}),
        ...ttl,
        ...(o.localAddress ? { bind: { address: o.localAddress } } : {}),
      });
      socket = new Socket({ fd, readable: true, writable: true });
      socket.connect({ port: o.port, host: o.address });
    } else {
      socket = netConnect({
        port: o.port,
        host: o.address,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      });
    }
    const timeoutMs = o.connectTimeoutMs ?? 10_000;
    return await new Promise<BgpSocket>((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`connect to ${o.address}:${o.port} timed out after ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(socket);
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      });
    });
  }

  private createSession(passive: boolean): BgpSession {
    const o = this.options;
    const gr = o.gracefulRestart === true ? (this.host.gracefulRestart ?? {}) : o.gracefulRestart || undefined;
    const s = new BgpSession({
      localAsn: this.host.asn,
      routerId: this.host.routerId,
      peerAsn: o.asn,
      holdTime: o.holdTime,
      ...(o.keepaliveTime !== undefined ? { keepaliveTime: o.keepaliveTime } : {}),
      connectRetryTime: o.connectRetryTime ?? 5,
      delayOpenTime: o.delayOpenTime ?? 0,
      families: o.families,
      extendedMessages: o.extendedMessages ?? true,
      addPath: o.addPath ?? false,
      gracefulRestart: gr,
      extendedNextHop: o.extendedNextHop ?? o.interface !== undefined,
      dial: () => {
        this.counters.connectAttempts++;
        return this.host.dial ? this.host.dial(this) : this.dialTcp();
      },
      clock: this.host.clock,
      random: this.host.random,
    });
    this.sessions.add(s);
    s.collisionCheck = (session, open) => this.resolveCollision(session, open.bgpId);
    s.on('state', () => this.updateAggregate());
    s.on('established', (info) => this.onEstablished(s, info));
    s.on('update', (u) => this.onUpdate(s, u));
    s.on('routeRefresh', (m) => this.onRouteRefresh(m));
    s.on('notificationSent', (n) => {
      this.counters.notificationsSent++;
      this.emit('notification', { ...n, direction: 'sent' });
    });
    s.on('notificationReceived', (n) => {
      this.counters.notificationsReceived++;
      this.emit('notification', { ...n, direction: 'received' });
    });
    s.on('idle', (reason) => this.onIdle(s, reason));
    s.start(passive);
    this.updateAggregate();
    return s;
  }

  /**
   * RFC 4271 §6.8 collision detection, run when `session` received a valid OPEN. Returns true when `session` must be
   * dumped; otherwise dumps the other connection if that one loses.
   */
  private resolveCollision(session: BgpSession, remoteId: string): boolean {
    for (const other of this.sessions) {
      if (other === session) continue;
      const st = other.state;
      if (st === 'Established') return true;
      if (st !== 'OpenSent' && st !== 'OpenConfirm') continue;
      const local = bgpIdToNumber(this.host.routerId);
      const remote = bgpIdToNumber(remoteId);
      // Keep the connection initiated by the speaker with the higher BGP identifier (RFC 6286 §2.3: on a tie, higher AS).
      // (With a dynamic peer AS the tie cannot be broken by configuration: the incoming connection is kept.)
      const peerAsn = typeof this.options.asn === 'number' ? this.options.asn : this.host.asn;
      const keepOurs = local !== remote ? local > remote : this.host.asn > peerAsn;
      const sessionIsOurs = session.connection?.direction === 'outgoing';
      const dumpSession = keepOurs !== sessionIsOurs;
      if (dumpSession) return true;
      other.handle({ type: 'OpenCollisionDump' });
    }
    return false;
  }

  private updateAggregate(): void {
    let best: FsmStateName = 'Idle';
    let bestSession: BgpSession | undefined;
    for (const s of this.sessions) {
      if (ORDER[s.state] >= ORDER[best]) {
        best = s.state;
        bestSession = s;
      }
    }
    this.current = [...this.sessions].find((s) => s.state === 'Established') ?? bestSession;
    if (best !== this.aggregate) {
      const from = this.aggregate;
      this.aggregate = best;
      this.emit('state', best, from);
    }
  }

  private onEstablished(s: BgpSession, info: SessionInfo): void {
    this.current = s;
    this.counters.established++;
    this.backoff.reset();
    const local = info.localAddress.replace(/%.*$/, ''); // a link-local address comes with its scope
    this.adjRibOut.reset({
      localAsn: this.host.asn,
      internal: info.internal,
      families: info.families,
      codec: s.connection?.sendOptions ?? {},
      peerAddress: this.address,
      localAddress: local,
      nextHop4: this.options.nextHop4,
      nextHop6: this.options.nextHop6,
      linkLocal6: local && prefixFamily(local) === 6 ? linkLocalFor(local) : undefined,
      ipv4NextHopIPv6: info.extendedNextHop,
    });
    // Graceful restart helper (RFC 4724 §4.2): without preserved forwarding state, stale routes go now.
    const gr = info.peerGracefulRestart;
    if (this.stale.size > 0 && !gr?.families.some((f) => f.forwardingPreserved)) this.dropStale();
    this.pendingEndOfRib = true;
    this.updateAggregate();
    this.emit('established', info);
    // The whole table goes out with the speaker's next flush (this turn), in step with the other peers' changes.
    this.host.scheduleFlush();
  }

  private onIdle(s: BgpSession, reason: IdleReason): void {
    this.sessions.delete(s);
    const wasEstablished = reason.from === 'Established';
    if (wasEstablished || reason.from === 'OpenConfirm' || reason.from === 'OpenSent' || !this.lastReason) {
      this.lastReason = reason;
    }
    if (wasEstablished) {
      this.adjRibOut.detach();
      this.counters.prefixesAdvertised = 0;
      this.onSessionLost(s, reason);
      this.emit('down', reason);
    }
    if (this.current === s) this.current = undefined;
    this.updateAggregate();
    if (this.stopped || this.sessions.size > 0) return;
    if (reason.event === 'OpenCollisionDump') return;
    // Passive peers wait again at once; active ones back off (IdleHoldTimer, RFC 4271 §8.1.1).
    const delay = this.options.passive ? 0 : this.backoff.next();
    this.restartTimer.start(delay);
  }

  private onSessionLost(s: BgpSession, reason: IdleReason): void {
    const gr = s.info?.peerGracefulRestart;
    // RFC 4724 §4.2: on a TCP failure (not a NOTIFICATION) keep the peer's routes as stale for its restart time.
    if (gr && reason.received === undefined && reason.sent === undefined && this.received.size > 0) {
      for (const [prefix, r] of this.received) {
        this.stale.add(prefix);
        if (r !== true) r.stale = true;
      }
      this.staleTimer.start(gr.restartTime * 1000);
      return;
    }
    this.received.clear();
    this.stale.clear();
    this.counters.prefixesReceived = 0;
  }

  private dropStale(family?: Family): void {
    for (const prefix of [...this.stale]) {
      if (family && (prefixFamily(prefix) === 4 ? 'ipv4' : 'ipv6') !== family) continue;
      this.stale.delete(prefix);
      this.received.delete(prefix);
    }
    if (this.stale.size === 0) this.staleTimer.stop();
    this.counters.prefixesReceived = this.received.size;
  }

  private onRouteRefresh(m: RouteRefreshMessage): void {
    if (m.subtype !== 0) return; // BoRR/EoRR markers of enhanced route refresh carry no request
    const family: Family | undefined = m.afi === 1 ? 'ipv4' : m.afi === 2 ? 'ipv6' : undefined;
    if (!family || m.safi !== 1) return;
    this.counters.routeRefreshes++;
    this.adjRibOut.resend(family);
    this.pendingEndOfRib = true;
    this.emit('routeRefresh', m);
    this.host.scheduleFlush();
  }

  private onUpdate(s: BgpSession, u: UpdateMessage): void {
    this.counters.updatesReceived++;
    const eor = isEndOfRib(u);
    if (eor) {
      const family: Family | undefined = eor.afi === 1 ? 'ipv4' : eor.afi === 2 ? 'ipv6' : undefined;
      if (family && this.stale.size > 0) this.dropStale(family);
      this.emit('update', u);
      return;
    }
    const withdrawn = [...u.withdrawn, ...(u.attributes.mpUnreach?.withdrawn ?? [])];
    const reach = [...u.nlri, ...(u.attributes.mpReach?.nlri ?? [])];
    if (u.malformed?.action === 'treat-as-withdraw') {
      // RFC 7606 §2: every route in the UPDATE is handled as withdrawn.
      this.counters.updatesTreatedAsWithdraw++;
      withdrawn.push(...reach);
      reach.length = 0;
    } else if (u.malformed) {
      this.counters.attributesDiscarded += u.malformed.errors.length;
    }
    for (const p of withdrawn) {
      this.received.delete(p);
      this.stale.delete(p);
    }
    const keep = this.options.exposeRoutes ?? false;
    for (const p of reach) {
      this.stale.delete(p);
      this.received.set(p, keep ? { prefix: p, attributes: u.attributes, stale: false } : true);
    }
    this.counters.prefixesReceived = this.received.size;
    this.emit('update', u);
    const limit = this.options.maxPrefix;
    if (this.received.size > limit) {
      const last = reach[reach.length - 1] ?? '';
      const afi = prefixFamily(last) === 6 ? 2 : 1;
      const data = notifications.maximumPrefixesReached({ afi, safi: 1, limit }).data;
      this.emit('warning', `peer ${this.address} sent more than ${limit} prefixes`);
      this.received.clear();
      this.stale.clear();
      this.counters.prefixesReceived = 0;
      s.handle({ type: 'AutomaticStop', subcode: CeaseSubcode.MAXIMUM_PREFIXES_REACHED, data });
    }
  }
}

/** True when `n` is a Cease NOTIFICATION with `subcode`. */
export function isCease(n: NotificationInfo | undefined, subcode?: number): boolean {
  return n !== undefined && n.code === ErrorCode.CEASE && (subcode === undefined || n.subcode === subcode);
}
