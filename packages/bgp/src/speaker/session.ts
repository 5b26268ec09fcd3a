/**
 * A BGP session attempt: one {@link BgpFsm} instance bound to (at most) one transport connection. It builds and checks
 * OPEN messages (RFC 4271 §6.2, RFC 5492, RFC 6793), negotiates capabilities, maps codec errors to the FSM events that
 * send the right NOTIFICATION, and reports UPDATEs and ROUTE-REFRESHes to its owner (the peer).
 * @module
 */

import { EventEmitter } from 'eventemitter3';
import type { BgpError } from '../codec/bgp-error.js';
import { ErrorCode, OpenErrorSubcode } from '../codec/constants.js';
import { createOpen, negotiate, openAsn } from '../codec/open-helpers.js';
import type {
  BgpMessage,
  GracefulRestartCapability,
  OpenMessage,
  RouteRefreshMessage,
  UpdateMessage,
} from '../codec/types.js';
import { bgpIdToNumber } from './address.js';
import type { Clock, RandomSource } from './clock.js';
import { BgpConnection, type BgpSocket, type ConnectionDirection } from './connection.js';
import {
  BgpFsm,
  type FsmEvent,
  type FsmNegotiated,
  type FsmStateName,
  type IdleReason,
  type NotificationInfo,
} from './fsm.js';

/** An address family the speaker can carry: IPv4 unicast or IPv6 unicast. */
export type Family = 'ipv4' | 'ipv6';

/** AFI of a {@link Family}. */
export function familyAfi(family: Family): number {
  return family === 'ipv4' ? 1 : 2;
}

/** Graceful restart settings (RFC 4724) advertised in our OPEN. */
export interface GracefulRestartOptions {
  /** Restart Time in seconds (0..4095) the peer should wait for us to come back. Default 120. */
  restartTime?: number;
  /** Set the Restart State (R) bit: this process has just restarted. Default false. */
  restarting?: boolean;
  /** Set the Forwarding State (F) bit for our families: forwarding continued while we restarted. Default true. */
  preserveForwarding?: boolean;
}

/** Everything a session needs from its peer's configuration. */
export interface SessionParams {
  /** Our AS number (2 or 4 octets). */
  localAsn: number;
  /** Our BGP identifier (dotted quad). */
  routerId: string;
  /** The AS the peer must announce, or `'internal'` (ours) / `'external'` (any other). */
  peerAsn: number | 'internal' | 'external';
  /** Hold time we propose, seconds. */
  holdTime: number;
  /** Keepalive interval, seconds (default holdTime / 3). */
  keepaliveTime?: number;
  /** ConnectRetryTime, seconds. */
  connectRetryTime: number;
  /** DelayOpenTime, seconds; 0 disables. */
  delayOpenTime: number;
  /** Families we offer. */
  families: Family[];
  /** Advertise the extended message capability (RFC 8654). */
  extendedMessages: boolean;
  /** Advertise ADD-PATH send (RFC 7911) for our families, so routes with several next hops go out as several paths. */
  addPath?: boolean;
  /** Graceful restart capability, when enabled. */
  gracefulRestart?: GracefulRestartOptions | undefined;
  /** Advertise the extended next hop capability for IPv4 unicast with IPv6 next hops (RFC 8950; BGP unnumbered). */
  extendedNextHop?: boolean | undefined;
  /** Opens an outgoing transport connection. */
  dial(): Promise<BgpSocket>;
  /** Time source. */
  clock: Clock;
  /** Random source. */
  random: RandomSource;
}

/** What the OPEN exchange negotiated. */
export interface SessionInfo {
  /** The peer's BGP identifier. */
  peerBgpId: string;
  /** The peer's AS (from the 4-octet AS capability when present). */
  peerAsn: number;
  /** iBGP (same AS) rather than eBGP. */
  internal: boolean;
  /** Both sides support 4-octet AS numbers. */
  fourOctetAs: boolean;
  /** Both sides support extended messages (UPDATEs up to 65535 octets). */
  extendedMessages: boolean;
  /** The peer supports ROUTE-REFRESH. */
  routeRefresh: boolean;
  /** Families negotiated (offered by both). */
  families: Family[];
  /** Negotiated hold time, seconds. */
  holdTime: number;
  /** Keepalive interval, seconds. */
  keepaliveTime: number;
  /** The peer's graceful restart capability, if it sent one. */
  peerGracefulRestart?: GracefulRestartCapability;
  /** Both sides advertised extended next hop for IPv4 unicast with IPv6 next hops (RFC 8950). */
  extendedNextHop: boolean;
  /** Local address of the TCP connection. */
  localAddress: string;
  /** Remote address of the TCP connection. */
  remoteAddress: string;
  /** Who opened the TCP connection. */
  direction: ConnectionDirection;
}

/** Events of {@link BgpSession}. */
export interface BgpSessionEvents {
  /** FSM state change. */
  state: [to: FsmStateName, from: FsmStateName];
  /** The OPEN exchange completed (OpenConfirm). */
  open: [info: SessionInfo];
  /** Entered Established. */
  established: [info: SessionInfo];
  /** An UPDATE in Established. */
  update: [update: UpdateMessage];
  /** A ROUTE-REFRESH in Established. */
  routeRefresh: [message: RouteRefreshMessage];
  /** A NOTIFICATION was sent. */
  notificationSent: [n: NotificationInfo];
  /** A NOTIFICATION was received. */
  notificationReceived: [n: NotificationInfo];
  /** Back to Idle: the attempt is over. */
  idle: [reason: IdleReason];
}

/** Owner hook called when a valid OPEN arrives, before the FSM acts on it: return true to dump this connection (§6.8). */
export type CollisionCheck = (session: BgpSession, open: OpenMessage) => boolean;

/** One BGP session attempt (an FSM and its connection). */
export class BgpSession extends EventEmitter<BgpSessionEvents> {
  /** The RFC 4271 FSM of this attempt. */
  readonly fsm: BgpFsm<OpenMessage, UpdateMessage>;
  private conn: BgpConnection | undefined;
  private dialGeneration = 0;
  private negotiated: SessionInfo | undefined;
  private lastState: FsmStateName = 'Idle';
  /** Set by the owner to take part in collision detection. */
  collisionCheck: CollisionCheck | undefined;

  /** @param params configuration from the peer */
  constructor(readonly params: SessionParams) {
    super();
    this.fsm = new BgpFsm<OpenMessage, UpdateMessage>(
      {
        connect: () => this.dial(),
        drop: () => this.dropConnection(),
        sendOpen: () => this.sendMessage(this.buildOpen()),
        sendKeepalive: () => this.sendMessage({ type: 'keepalive' }),
        sendNotification: (n) => {
          this.sendMessage({
            type: 'notification',
            code: n.code,
            subcode: n.subcode,
            data: n.data ?? new Uint8Array(),
          });
          this.emit('notificationSent', n);
        },
        openConfirmed: (n) => this.onOpenConfirmed(n),
        established: () => {
          if (this.negotiated) this.emit('established', this.negotiated);
        },
        update: (u) => this.emit('update', u),
        routeRefresh: (m) => this.emit('routeRefresh', m as RouteRefreshMessage),
        idle: (reason) => {
          this.noteState();
          this.emit('idle', reason);
        },
      },
      {
        holdTime: params.holdTime,
        keepaliveTime: params.keepaliveTime,
        connectRetryTime: params.connectRetryTime,
        delayOpenTime: params.delayOpenTime,
        clock: params.clock,
        random: params.random,
      },
    );
  }

  /** Current FSM state name. */
  get state(): FsmStateName {
    return this.fsm.state.name;
  }

  /** The transport connection, once there is one. */
  get connection(): BgpConnection | undefined {
    return this.conn;
  }

  /** What the OPEN exchange negotiated (from OpenConfirm on). */
  get info(): SessionInfo | undefined {
    return this.negotiated;
  }

  /** Starts the attempt: actively (connect out) or passively (wait for {@link BgpSession.accept}). */
  start(passive: boolean): void {
    this.handle({ type: passive ? 'AutomaticStartPassive' : 'AutomaticStart' });
  }

  /** Feeds an FSM event (and reports the state change). */
  handle(event: FsmEvent<OpenMessage, UpdateMessage>): void {
    this.fsm.handle(event);
    this.noteState();
  }

  /**
   * Hands an incoming connection to this attempt (it must be in Connect or Active): any outgoing attempt in progress is
   * abandoned.
   */
  accept(socket: BgpSocket): void {
    this.dialGeneration++;
    this.conn?.destroy();
    this.attach(socket, 'incoming');
    this.handle({ type: 'TcpConnectionConfirmed' });
  }

  /** Sends a message on the connection if there is one; counts it as activity for the KeepaliveTimer. */
  sendMessage(message: BgpMessage): number {
    if (!this.conn) return 0;
    const n = this.conn.send(message);
    if (message.type === 'update') this.fsm.messageSent();
    return n;
  }

  private noteState(): void {
    const to = this.fsm.state.name;
    if (to === this.lastState) return;
    const from = this.lastState;
    this.lastState = to;
    this.emit('state', to, from);
  }

  private dial(): void {
    const gen = ++this.dialGeneration;
    this.params.dial().then(
      (socket) => {
        if (gen !== this.dialGeneration || this.fsm.finished || this.state !== 'Connect') {
          socket.destroy();
          return;
        }
        this.attach(socket, 'outgoing');
        this.handle({ type: 'TcpCrAcked' });
      },
      (error: Error) => {
        if (gen !== this.dialGeneration || this.fsm.finished) return;
        this.handle({ type: 'TcpConnectionFails', error });
      },
    );
  }

  private attach(socket: BgpSocket, direction: ConnectionDirection): void {
    const conn = new BgpConnection(socket, direction);
    this.conn = conn;
    conn.on('message', (m) => {
      if (this.conn === conn) this.onMessage(m);
    });
    conn.on('decodeError', (err) => {
      if (this.conn === conn) this.onDecodeError(err);
    });
    conn.on('close', (error) => {
      if (this.conn !== conn) return;
      this.handle(error ? { type: 'TcpConnectionFails', error } : { type: 'TcpConnectionFails' });
    });
  }

  private dropConnection(): void {
    this.dialGeneration++;
    const conn = this.conn;
    if (!conn) return;
    this.conn = undefined; // its late events are ignored from now on
    conn.close();
  }

  private onMessage(m: BgpMessage): void {
    switch (m.type) {
      case 'open':
        this.onOpen(m);
        return;
      case 'keepalive':
        this.handle({ type: 'KeepAliveMsg' });
        return;
      case 'update':
        this.handle({ type: 'UpdateMsg', update: m });
        return;
      case 'route-refresh':
        this.handle({ type: 'RouteRefreshMsg', message: m });
        return;
      case 'notification': {
        const n: NotificationInfo = { code: m.code, subcode: m.subcode, data: m.data };
        this.emit('notificationReceived', n);
        const verErr = m.code === ErrorCode.OPEN_MESSAGE && m.subcode === OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER;
        this.handle({ type: verErr ? 'NotifMsgVerErr' : 'NotifMsg', notification: n });
        return;
      }
    }
  }

  private onDecodeError(err: BgpError): void {
    const error: NotificationInfo = { code: err.code, subcode: err.subcode, data: err.data };
    if (err.code === ErrorCode.OPEN_MESSAGE) {
      this.handle({ type: 'BgpOpenMsgErr', error });
      return;
    }
    if (err.code === ErrorCode.UPDATE_MESSAGE) {
      this.handle({ type: 'UpdateMsgErr', error });
      return;
    }
    // Header errors, and ROUTE-REFRESH errors (RFC 7313 §5) which also reset the session with their own code.
    this.handle({ type: 'BgpHeaderErr', error });
    return;
  }

  /** Checks an OPEN per RFC 4271 §6.2 and RFC 6793; returns the NOTIFICATION to send, if it is unacceptable. */
  validateOpen(open: OpenMessage): NotificationInfo | undefined {
    if (open.version !== 4) {
      return {
        code: ErrorCode.OPEN_MESSAGE,
        subcode: OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER,
        data: Uint8Array.of(0, 4),
      };
    }
    const asn = openAsn(open);
    const expected = this.params.peerAsn;
    const acceptable =
      expected === 'internal'
        ? asn === this.params.localAsn
        : expected === 'external'
          ? asn !== this.params.localAsn
          : asn === expected;
    if (!acceptable) {
      const data = new Uint8Array(2);
      new DataView(data.buffer).setUint16(0, open.myAsn);
      return { code: ErrorCode.OPEN_MESSAGE, subcode: OpenErrorSubcode.BAD_PEER_AS, data };
    }
    const id = bgpIdToNumber(open.bgpId);
    const internal = asn === this.params.localAsn;
    // RFC 6286 §2.2: zero is invalid, and an identifier equal to ours is invalid within an AS.
    if (id === 0 || (internal && id === bgpIdToNumber(this.params.routerId))) {
      return { code: ErrorCode.OPEN_MESSAGE, subcode: OpenErrorSubcode.BAD_BGP_IDENTIFIER };
    }
    if (open.parameters && open.parameters.length > 0) {
      return { code: ErrorCode.OPEN_MESSAGE, subcode: OpenErrorSubcode.UNSUPPORTED_OPTIONAL_PARAMETER };
    }
    return undefined;
  }

  private onOpen(open: OpenMessage): void {
    const error = this.validateOpen(open);
    if (error) {
      this.handle({ type: 'BgpOpenMsgErr', error });
      return;
    }
    if (this.collisionCheck?.(this, open)) {
      this.handle({ type: 'OpenCollisionDump' });
      return;
    }
    this.handle({ type: 'BgpOpen', open, holdTime: open.holdTime });
  }

  /** Our OPEN message (capabilities from {@link SessionParams}). */
  buildOpen(): OpenMessage {
    const p = this.params;
    const families = p.families.map((f) => ({ afi: familyAfi(f), safi: 1 }));
    const gr = p.gracefulRestart;
    return createOpen({
      asn: p.localAsn,
      bgpId: p.routerId,
      holdTime: p.holdTime,
      families,
      routeRefresh: true,
      extendedMessages: p.extendedMessages,
      ...(p.addPath ? { addPath: families.map((f) => ({ ...f, sendReceive: 'send' as const })) } : {}),
      ...(p.extendedNextHop ? { extendedNextHop: [{ afi: 1, safi: 1, nextHopAfi: 2 }] } : {}),
      ...(gr
        ? {
            gracefulRestart: {
              restarting: gr.restarting ?? false,
              notification: false,
              restartTime: Math.min(4095, gr.restartTime ?? 120),
              families: families.map((f) => ({ ...f, forwardingPreserved: gr.preserveForwarding ?? true })),
            },
          }
        : {}),
    });
  }

  private onOpenConfirmed(n: FsmNegotiated<OpenMessage>): void {
    const open = n.peer;
    const internal = openAsn(open) === this.params.localAsn;
    const neg = negotiate(this.buildOpen(), open, internal);
    const conn = this.conn;
    const families: Family[] = [];
    for (const f of neg.families) {
      if (f.safi !== 1) continue;
      if (f.afi === 1) families.push('ipv4');
      if (f.afi === 2) families.push('ipv6');
    }
    const info: SessionInfo = {
      peerBgpId: open.bgpId,
      peerAsn: neg.peerAsn,
      internal,
      fourOctetAs: neg.fourOctetAs,
      extendedMessages: neg.extendedMessages,
      routeRefresh: neg.routeRefresh,
      families,
      holdTime: n.holdTime,
      keepaliveTime: n.keepaliveTime,
      extendedNextHop: neg.extendedNextHop.some((f) => f.afi === 1 && f.safi === 1 && f.nextHopAfi === 2),
      localAddress: conn?.localAddress ?? '',
      remoteAddress: conn?.remoteAddress ?? '',
      direction: conn?.direction ?? 'outgoing',
    };
    if (neg.peerGracefulRestart) info.peerGracefulRestart = neg.peerGracefulRestart;
    this.negotiated = info;
    if (conn) {
      conn.sendOptions = neg.send;
      conn.decoder.options = neg.receive;
    }
    this.emit('open', info);
  }
}
