/**
 * The RFC 4271 §8 BGP finite state machine for one connection, with its timers (ConnectRetry, Hold, Keepalive, optional
 * DelayOpen), hold-time negotiation, and every event of §8.1. It performs no I/O itself: it calls an {@link FsmIo}.
 *
 * One instance lives from its start event until it returns to Idle (then it is finished). Connection collision (§6.8),
 * the IdleHoldTimer / DampPeerOscillations backoff and automatic restart are handled one level up, by the peer, which may
 * run a second instance for an incoming connection while the first is in OpenSent or OpenConfirm.
 *
 * Longer than ~600 lines on purpose: it is one state machine, and §8.2.2's handling of each event in each state is
 * read against the RFC as one table; split by state, a transition's two ends would sit in different files.
 * @module
 */

import { CeaseSubcode, ErrorCode, FsmErrorSubcode, OpenErrorSubcode } from '../codec/constants.js';
import type { Clock, RandomSource } from './clock.js';
import { jitter, Timer } from './timers.js';

/** The six states of RFC 4271 §8.2.2. */
export type FsmStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

/** A NOTIFICATION's error code, subcode and data. */
export interface NotificationInfo {
  /** Error code (RFC 4271 §4.5). */
  code: number;
  /** Error subcode. */
  subcode: number;
  /** Data field, if any. */
  data?: Uint8Array;
}

/**
 * The events of RFC 4271 §8.1 (number in the comment). Event 20 (BGPOpen with DelayOpenTimer running) is `BgpOpen` while
 * the DelayOpenTimer runs. Events 6, 7 and 13 (DampPeerOscillations, IdleHoldTimer) belong to the peer's backoff.
 * `RouteRefreshMsg` is the RFC 2918 message, handled like a KEEPALIVE for the hold timer in Established.
 */
export type FsmEvent<O = unknown, U = unknown> =
  | { type: 'ManualStart' } // 1
  | { type: 'ManualStop'; subcode?: number; data?: Uint8Array } // 2
  | { type: 'AutomaticStart' } // 3
  | { type: 'ManualStartPassive' } // 4
  | { type: 'AutomaticStartPassive' } // 5
  | { type: 'AutomaticStop'; subcode?: number; data?: Uint8Array } // 8
  | { type: 'ConnectRetryTimerExpires' } // 9
  | { type: 'HoldTimerExpires' } // 10
  | { type: 'KeepaliveTimerExpires' } // 11
  | { type: 'DelayOpenTimerExpires' } // 12
  | { type: 'TcpConnectionValid' } // 14
  | { type: 'TcpCrInvalid' } // 15
  | { type: 'TcpCrAcked' } // 16
  | { type: 'TcpConnectionConfirmed' } // 17
  | { type: 'TcpConnectionFails'; error?: Error } // 18
  | { type: 'BgpOpen'; open: O; holdTime: number } // 19, 20
  | { type: 'BgpHeaderErr'; error: NotificationInfo } // 21
  | { type: 'BgpOpenMsgErr'; error: NotificationInfo } // 22
  | { type: 'OpenCollisionDump' } // 23
  | { type: 'NotifMsgVerErr'; notification: NotificationInfo } // 24
  | { type: 'NotifMsg'; notification: NotificationInfo } // 25
  | { type: 'KeepAliveMsg' } // 26
  | { type: 'UpdateMsg'; update: U } // 27
  | { type: 'UpdateMsgErr'; error: NotificationInfo } // 28
  | { type: 'RouteRefreshMsg'; message: unknown };

/** Values negotiated once the peer's OPEN is accepted. */
export interface FsmNegotiated<O> {
  /** The peer's decoded OPEN (as the caller passed it in the BgpOpen event). */
  peer: O;
  /** Negotiated hold time in seconds: min(local, peer); 0 disables keepalives and the hold timer. */
  holdTime: number;
  /** Keepalive interval in seconds before jitter: min(configured keepalive, holdTime / 3). */
  keepaliveTime: number;
}

/** Why the FSM returned to Idle. */
export interface IdleReason {
  /** The event that caused it. */
  event: FsmEvent['type'];
  /** The state the FSM was in. */
  from: FsmStateName;
  /** The NOTIFICATION we sent, if any. */
  sent?: NotificationInfo;
  /** The NOTIFICATION we received, if any. */
  received?: NotificationInfo;
  /** The transport error, if any. */
  error?: Error;
}

/** The FSM's state with its per-state data (a discriminated union on `name`). */
export type FsmState<O> =
  | { name: 'Idle'; reason?: IdleReason }
  | { name: 'Connect' }
  | { name: 'Active' }
  | { name: 'OpenSent' }
  | ({ name: 'OpenConfirm' } & FsmNegotiated<O>)
  | ({ name: 'Established'; since: number } & FsmNegotiated<O>);

/** Side effects the FSM asks for; implemented by the session or a test double. */
export interface FsmIo<O, U> {
  /** Initiate an outgoing TCP connection; report the outcome with TcpCrAcked or TcpConnectionFails. */
  connect(): void;
  /** Drop the TCP connection (and any connection attempt in progress). */
  drop(): void;
  /** Send our OPEN. */
  sendOpen(): void;
  /** Send a KEEPALIVE. */
  sendKeepalive(): void;
  /** Send a NOTIFICATION (the caller should flush it before the subsequent drop()). */
  sendNotification(n: NotificationInfo): void;
  /** Entered OpenConfirm (the peer's OPEN was accepted). */
  openConfirmed?(n: FsmNegotiated<O>): void;
  /** Entered Established. */
  established(n: FsmNegotiated<O>): void;
  /** An UPDATE arrived in Established. */
  update(update: U): void;
  /** A ROUTE-REFRESH arrived in Established. */
  routeRefresh?(message: unknown): void;
  /** Returned to Idle: the instance is finished. */
  idle(reason: IdleReason): void;
}

/** Options of {@link BgpFsm}. */
export interface FsmOptions {
  /** Hold time we propose, in seconds: 0 or 3..65535. Default 90. */
  holdTime?: number;
  /** Keepalive interval in seconds. Default holdTime / 3. */
  keepaliveTime?: number;
  /** ConnectRetryTime in seconds (jittered). Default 5. */
  connectRetryTime?: number;
  /** DelayOpenTime in seconds; 0 (default) disables the optional DelayOpen attribute. */
  delayOpenTime?: number;
  /** Hold timer used in OpenSent, in seconds (RFC: "a large value", 4 minutes suggested). Default 240. */
  openHoldTime?: number;
  /** Whether a passive instance may initiate a connection when ConnectRetryTimer expires in Active. Default false. */
  passiveConnects?: boolean;
  /** Optional attribute SendNOTIFICATIONwithoutOPEN. Default true (a codec error always gets a NOTIFICATION). */
  sendNotificationWithoutOpen?: boolean;
  /** Optional attribute CollisionDetectEstablishedState. Default false. */
  collisionDetectEstablished?: boolean;
  /** Time source. */
  clock: Clock;
  /** Random source for the jitter. */
  random: RandomSource;
}

const UNACCEPTABLE_HOLD: NotificationInfo = {
  code: ErrorCode.OPEN_MESSAGE,
  subcode: OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME,
};

/**
 * Validates a hold time: 0 or 3..65535 seconds (RFC 4271 §4.2).
 * @returns true when valid
 */
export function isValidHoldTime(seconds: number): boolean {
  return Number.isInteger(seconds) && (seconds === 0 || (seconds >= 3 && seconds <= 65535));
}

/**
 * Negotiates the hold time (RFC 4271 §4.2): the smaller of ours and the peer's, or `undefined` when the peer's value is
 * unacceptable (1 or 2 seconds), which calls for an OPEN Message Error, subcode 6.
 */
export function negotiateHoldTime(local: number, peer: number): number | undefined {
  if (peer === 1 || peer === 2 || peer < 0 || peer > 65535) return undefined;
  return Math.min(local, peer);
}

/**
 * The RFC 4271 §8 BGP FSM for one connection. Feed it events with {@link BgpFsm.handle}; it arms its own timers on the
 * injected clock and performs side effects through {@link FsmIo}.
 */
export class BgpFsm<O = unknown, U = unknown> {
  private current: FsmState<O> = { name: 'Idle' };
  private connectRetryCounter = 0;
  private readonly io: FsmIo<O, U>;
  private readonly opt: Required<Omit<FsmOptions, 'clock' | 'random' | 'keepaliveTime'>> & { keepaliveTime?: number };
  private readonly clock: Clock;
  private readonly random: RandomSource;
  /** ConnectRetryTimer (RFC 4271 §8.1.1). */
  readonly connectRetryTimer: Timer;
  /** HoldTimer. */
  readonly holdTimer: Timer;
  /** KeepaliveTimer. */
  readonly keepaliveTimer: Timer;
  /** DelayOpenTimer (optional attribute DelayOpen). */
  readonly delayOpenTimer: Timer;
  private started = false;
  private stopped = false;
  private passive = false;

  /**
   * @param io side effects
   * @param options timers and optional attributes
   */
  constructor(io: FsmIo<O, U>, options: FsmOptions) {
    this.io = io;
    this.clock = options.clock;
    this.random = options.random;
    const holdTime = options.holdTime ?? 90;
    if (!isValidHoldTime(holdTime)) throw new RangeError(`holdTime must be 0 or 3..65535 seconds, got ${holdTime}`);
    this.opt = {
      holdTime,
      keepaliveTime: options.keepaliveTime,
      connectRetryTime: options.connectRetryTime ?? 5,
      delayOpenTime: options.delayOpenTime ?? 0,
      openHoldTime: options.openHoldTime ?? 240,
      passiveConnects: options.passiveConnects ?? false,
      sendNotificationWithoutOpen: options.sendNotificationWithoutOpen ?? true,
      collisionDetectEstablished: options.collisionDetectEstablished ?? false,
    };
    this.connectRetryTimer = new Timer('ConnectRetry', this.clock, () =>
      this.handle({ type: 'ConnectRetryTimerExpires' }),
    );
    this.holdTimer = new Timer('Hold', this.clock, () => this.handle({ type: 'HoldTimerExpires' }));
    this.keepaliveTimer = new Timer('Keepalive', this.clock, () => this.handle({ type: 'KeepaliveTimerExpires' }));
    this.delayOpenTimer = new Timer('DelayOpen', this.clock, () => this.handle({ type: 'DelayOpenTimerExpires' }));
  }

  /** The current state and its data. */
  get state(): FsmState<O> {
    return this.current;
  }

  /** The ConnectRetryCounter of RFC 4271 §8. */
  get connectRetries(): number {
    return this.connectRetryCounter;
  }

  /** True once the instance has been started and has gone back to Idle: it will not run again. */
  get finished(): boolean {
    return this.stopped;
  }

  /** Whether this instance waits for the peer to connect (a passive start event). */
  get isPassive(): boolean {
    return this.passive;
  }

  /**
   * Call after sending an UPDATE (or any message that counts as a keepalive): restarts the KeepaliveTimer in Established
   * (RFC 4271 §8.2.2: "each time the local system sends a KEEPALIVE or UPDATE message, it restarts its KeepaliveTimer").
   */
  messageSent(): void {
    if (this.current.name === 'Established' && this.current.holdTime > 0) this.armKeepalive(this.current.keepaliveTime);
  }

  /** Processes one event. Events that arrive after the instance finished are ignored. */
  handle(event: FsmEvent<O, U>): void {
    if (this.stopped) return;
    switch (this.current.name) {
      case 'Idle':
        this.inIdle(event);
        return;
      case 'Connect':
        this.inConnect(event);
        return;
      case 'Active':
        this.inActive(event);
        return;
      case 'OpenSent':
        this.inOpenSent(event);
        return;
      case 'OpenConfirm':
        this.inOpenConfirm(event);
        return;
      case 'Established':
        this.inEstablished(event);
        return;
    }
  }

  // ---- states -------------------------------------------------------------------------------------------------------

  private inIdle(e: FsmEvent<O, U>): void {
    if (this.started) return;
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
        this.started = true;
        this.connectRetryCounter = 0;
        this.startConnectRetry();
        this.current = { name: 'Connect' };
        this.io.connect();
        return;
      case 'ManualStartPassive':
      case 'AutomaticStartPassive':
        this.started = true;
        this.passive = true;
        this.connectRetryCounter = 0;
        if (this.opt.passiveConnects) this.startConnectRetry();
        this.current = { name: 'Active' };
        return;
      default:
        return; // RFC: other events in Idle are ignored
    }
  }

  private inConnect(e: FsmEvent<O, U>): void {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStartPassive':
      case 'AutomaticStartPassive':
        return;
      case 'ManualStop':
        this.connectRetryCounter = 0;
        this.toIdle(e, {});
        return;
      case 'ConnectRetryTimerExpires':
        this.io.drop();
        this.startConnectRetry();
        this.delayOpenTimer.stop();
        this.io.connect();
        return;
      case 'TcpConnectionFails':
        if (this.delayOpenTimer.running) {
          this.startConnectRetry();
          this.delayOpenTimer.stop();
          this.current = { name: 'Active' };
          return;
        }
        this.toIdle(e, { error: e.error });
        return;
      default:
        this.beforeOpenSent(e);
        return;
    }
  }

  /**
   * Connect and Active share these transitions (RFC 4271 §8.2.2): the connection coming up (OPEN sent now or after
   * DelayOpen), an OPEN while DelayOpen runs, message errors and anything else, which end in Idle.
   */
  private beforeOpenSent(e: FsmEvent<O, U>): void {
    switch (e.type) {
      case 'DelayOpenTimerExpires':
        this.sendOpenAndWait();
        return;
      case 'TcpConnectionValid':
      case 'TcpCrInvalid':
        return;
      case 'TcpCrAcked':
      case 'TcpConnectionConfirmed':
        this.connectRetryTimer.stop();
        if (this.opt.delayOpenTime > 0) {
          this.delayOpenTimer.start(this.opt.delayOpenTime * 1000);
          return;
        }
        this.sendOpenAndWait();
        return;
      case 'BgpOpen':
        if (this.delayOpenTimer.running) {
          this.openWhileDelayed(e);
          return;
        }
        this.connectRetryCounter++;
        this.toIdle(e, {});
        return;
      case 'BgpHeaderErr':
      case 'BgpOpenMsgErr':
        this.connectRetryCounter++;
        this.toIdle(e, { send: this.opt.sendNotificationWithoutOpen ? e.error : undefined });
        return;
      case 'NotifMsgVerErr':
        if (!this.delayOpenTimer.running) this.connectRetryCounter++;
        this.toIdle(e, { received: e.notification });
        return;
      default:
        this.connectRetryCounter++;
        this.toIdle(e, { received: e.type === 'NotifMsg' ? e.notification : undefined });
        return;
    }
  }

  private inActive(e: FsmEvent<O, U>): void {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStartPassive':
      case 'AutomaticStartPassive':
        return;
      case 'ManualStop': {
        const send =
          this.delayOpenTimer.running && this.opt.sendNotificationWithoutOpen
            ? this.cease(e.subcode, e.data)
            : undefined;
        this.connectRetryCounter = 0;
        this.toIdle(e, { send });
        return;
      }
      case 'ConnectRetryTimerExpires':
        this.startConnectRetry();
        this.current = { name: 'Connect' };
        this.io.connect();
        return;
      case 'TcpConnectionFails':
        this.connectRetryCounter++;
        this.toIdle(e, { error: e.error });
        return;
      default:
        this.beforeOpenSent(e);
        return;
    }
  }

  private inOpenSent(e: FsmEvent<O, U>): void {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStartPassive':
      case 'AutomaticStartPassive':
        return;
      case 'ManualStop':
        this.connectRetryCounter = 0;
        this.toIdle(e, { send: this.cease(e.subcode, e.data) });
        return;
      case 'AutomaticStop':
        this.connectRetryCounter++;
        this.toIdle(e, { send: this.cease(e.subcode, e.data) });
        return;
      case 'HoldTimerExpires':
        this.connectRetryCounter++;
        this.toIdle(e, { send: { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 } });
        return;
      case 'TcpConnectionValid':
      case 'TcpCrAcked':
      case 'TcpConnectionConfirmed':
      case 'TcpCrInvalid':
        return; // a second connection is tracked by the peer (collision detection)
      case 'TcpConnectionFails':
        // RFC: close the connection, restart ConnectRetryTimer, continue to listen → Active.
        this.io.drop();
        this.holdTimer.stop();
        if (!this.passive || this.opt.passiveConnects) this.startConnectRetry();
        this.current = { name: 'Active' };
        return;
      case 'BgpOpen': {
        const hold = negotiateHoldTime(this.opt.holdTime, e.holdTime);
        if (hold === undefined) {
          this.connectRetryCounter++;
          this.toIdle({ type: 'BgpOpenMsgErr', error: UNACCEPTABLE_HOLD }, { send: UNACCEPTABLE_HOLD });
          return;
        }
        this.connectRetryTimer.stop();
        const n = this.negotiated(e.open, hold);
        this.current = { name: 'OpenConfirm', ...n };
        this.io.sendKeepalive();
        this.armSessionTimers(n);
        this.io.openConfirmed?.(n);
        return;
      }
      case 'BgpHeaderErr':
      case 'BgpOpenMsgErr':
        this.connectRetryCounter++;
        this.toIdle(e, { send: e.error });
        return;
      case 'OpenCollisionDump':
        this.connectRetryCounter++;
        this.toIdle(e, { send: this.cease(CeaseSubcode.CONNECTION_COLLISION_RESOLUTION) });
        return;
      case 'NotifMsgVerErr':
        this.toIdle(e, { received: e.notification });
        return;
      default:
        this.connectRetryCounter++;
        this.toIdle(e, {
          send: { code: ErrorCode.FSM, subcode: FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_OPENSENT },
          received: e.type === 'NotifMsg' ? e.notification : undefined,
        });
        return;
    }
  }

  /**
   * Events that OpenConfirm and Established handle alike (RFC 4271 §8.2.2): starts ignored, stops and hold expiry to
   * Idle with a NOTIFICATION, keepalives sent, TCP indications ignored. Returns true when `e` was one of them.
   */
  private afterOpenReceived(e: FsmEvent<O, U>, keepaliveTime: number): boolean {
    switch (e.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'ManualStartPassive':
      case 'AutomaticStartPassive':
        return true;
      case 'ManualStop':
        this.connectRetryCounter = 0;
        this.toIdle(e, { send: this.cease(e.subcode, e.data) });
        return true;
      case 'AutomaticStop':
        this.connectRetryCounter++;
        this.toIdle(e, { send: this.cease(e.subcode, e.data) });
        return true;
      case 'HoldTimerExpires':
        this.connectRetryCounter++;
        this.toIdle(e, { send: { code: ErrorCode.HOLD_TIMER_EXPIRED, subcode: 0 } });
        return true;
      case 'KeepaliveTimerExpires':
        this.io.sendKeepalive();
        this.armKeepalive(keepaliveTime);
        return true;
      case 'TcpConnectionValid':
      case 'TcpCrAcked':
      case 'TcpConnectionConfirmed':
      case 'TcpCrInvalid':
        return true;
      default:
        return false;
    }
  }

  private inOpenConfirm(e: FsmEvent<O, U>): void {
    const s = this.current as Extract<FsmState<O>, { name: 'OpenConfirm' }>;
    if (this.afterOpenReceived(e, s.keepaliveTime)) return;
    switch (e.type) {
      case 'TcpConnectionFails':
        this.connectRetryCounter++;
        this.toIdle(e, { error: e.error });
        return;
      case 'NotifMsg':
        this.connectRetryCounter++;
        this.toIdle(e, { received: e.notification });
        return;
      case 'NotifMsgVerErr':
        this.toIdle(e, { received: e.notification });
        return;
      case 'BgpHeaderErr':
      case 'BgpOpenMsgErr':
        this.connectRetryCounter++;
        this.toIdle(e, { send: e.error });
        return;
      case 'OpenCollisionDump':
        this.connectRetryCounter++;
        this.toIdle(e, { send: this.cease(CeaseSubcode.CONNECTION_COLLISION_RESOLUTION) });
        return;
      case 'KeepAliveMsg': {
        if (s.holdTime > 0) this.holdTimer.start(s.holdTime * 1000);
        const { peer, holdTime, keepaliveTime } = s;
        this.current = { name: 'Established', since: this.clock.now(), peer, holdTime, keepaliveTime };
        this.io.established({ peer, holdTime, keepaliveTime });
        return;
      }
      default:
        // 9, 12, 19 (a second OPEN on this connection), 20, 27, 28 and ROUTE-REFRESH: FSM error (RFC 6608 subcode 2)
        this.connectRetryCounter++;
        this.toIdle(e, {
          send: { code: ErrorCode.FSM, subcode: FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_OPENCONFIRM },
        });
        return;
    }
  }

  private inEstablished(e: FsmEvent<O, U>): void {
    const s = this.current as Extract<FsmState<O>, { name: 'Established' }>;
    if (this.afterOpenReceived(e, s.keepaliveTime)) return;
    switch (e.type) {
      case 'OpenCollisionDump':
        if (!this.opt.collisionDetectEstablished) return;
        this.connectRetryCounter++;
        this.toIdle(e, { send: this.cease(CeaseSubcode.CONNECTION_COLLISION_RESOLUTION) });
        return;
      case 'NotifMsgVerErr':
      case 'NotifMsg':
        this.connectRetryCounter++;
        this.toIdle(e, { received: e.notification });
        return;
      case 'TcpConnectionFails':
        this.connectRetryCounter++;
        this.toIdle(e, { error: e.error });
        return;
      case 'KeepAliveMsg':
        if (s.holdTime > 0) this.holdTimer.start(s.holdTime * 1000);
        return;
      case 'UpdateMsg':
        if (s.holdTime > 0) this.holdTimer.start(s.holdTime * 1000);
        this.io.update(e.update);
        return;
      case 'RouteRefreshMsg':
        if (s.holdTime > 0) this.holdTimer.start(s.holdTime * 1000);
        this.io.routeRefresh?.(e.message);
        return;
      case 'UpdateMsgErr':
        this.connectRetryCounter++;
        this.toIdle(e, { send: e.error });
        return;
      case 'BgpHeaderErr':
      case 'BgpOpenMsgErr':
        this.connectRetryCounter++;
        this.toIdle(e, { send: e.error });
        return;
      default:
        // 9, 12, 19, 20: FSM error (RFC 6608 subcode 3)
        this.connectRetryCounter++;
        this.toIdle(e, {
          send: { code: ErrorCode.FSM, subcode: FsmErrorSubcode.UNEXPECTED_MESSAGE_IN_ESTABLISHED },
        });
        return;
    }
  }

  // ---- helpers ------------------------------------------------------------------------------------------------------

  private cease(subcode: number = CeaseSubcode.ADMINISTRATIVE_SHUTDOWN, data?: Uint8Array): NotificationInfo {
    return data === undefined ? { code: ErrorCode.CEASE, subcode } : { code: ErrorCode.CEASE, subcode, data };
  }

  private startConnectRetry(): void {
    this.connectRetryTimer.start(jitter(this.opt.connectRetryTime * 1000, this.random));
  }

  private armKeepalive(seconds: number): void {
    this.keepaliveTimer.start(jitter(seconds * 1000, this.random));
  }

  private negotiated(peer: O, holdTime: number): FsmNegotiated<O> {
    const configured = this.opt.keepaliveTime ?? this.opt.holdTime / 3;
    const keepaliveTime = holdTime === 0 ? 0 : Math.min(configured, holdTime / 3);
    return { peer, holdTime, keepaliveTime };
  }

  private armSessionTimers(n: FsmNegotiated<O>): void {
    if (n.holdTime > 0) {
      this.armKeepalive(n.keepaliveTime);
      this.holdTimer.start(n.holdTime * 1000);
    } else {
      this.keepaliveTimer.stop();
      this.holdTimer.stop();
    }
  }

  private sendOpenAndWait(): void {
    this.delayOpenTimer.stop();
    this.connectRetryTimer.stop();
    this.io.sendOpen();
    this.holdTimer.start(this.opt.openHoldTime * 1000);
    this.current = { name: 'OpenSent' };
  }

  private openWhileDelayed(e: Extract<FsmEvent<O, U>, { type: 'BgpOpen' }>): void {
    const hold = negotiateHoldTime(this.opt.holdTime, e.holdTime);
    this.connectRetryTimer.stop();
    this.delayOpenTimer.stop();
    if (hold === undefined) {
      this.connectRetryCounter++;
      this.toIdle({ type: 'BgpOpenMsgErr', error: UNACCEPTABLE_HOLD }, { send: UNACCEPTABLE_HOLD });
      return;
    }
    this.io.sendOpen();
    this.io.sendKeepalive();
    const n = this.negotiated(e.open, hold);
    this.current = { name: 'OpenConfirm', ...n };
    this.armSessionTimers(n);
    this.io.openConfirmed?.(n);
  }

  private toIdle(
    e: FsmEvent<O, U>,
    opts: { send?: NotificationInfo | undefined; received?: NotificationInfo | undefined; error?: Error | undefined },
  ): void {
    const from = this.current.name;
    this.connectRetryTimer.stop();
    this.holdTimer.stop();
    this.keepaliveTimer.stop();
    this.delayOpenTimer.stop();
    if (opts.send) this.io.sendNotification(opts.send);
    this.io.drop();
    const reason: IdleReason = { event: e.type, from };
    if (opts.send) reason.sent = opts.send;
    if (opts.received) reason.received = opts.received;
    if (opts.error) reason.error = opts.error;
    this.current = { name: 'Idle', reason };
    this.stopped = true;
    this.io.idle(reason);
  }
}
