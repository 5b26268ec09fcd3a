/**
 * One BFD session in asynchronous mode (RFC 5880 §6): the state machine of §6.2 over a discriminated union of states,
 * the timer negotiation of §6.8.2–6.8.4 (slow 1 s transmission until Up, Poll Sequences when the intervals change),
 * the reception procedure of §6.8.6 after the codec's checks, transmission with the jitter of §6.8.7, passive role,
 * and administrative down (§6.8.16). It performs no I/O itself: packets go out through `send`, come in through
 * {@link BfdSession.receive}. Demand mode is not used: we never set D and keep transmitting periodically if the remote
 * asks for it. The Echo function (§6.4, §6.8.9) is optional: with `echo` set we advertise its interval as our Required
 * Min Echo RX Interval (our forwarding plane loops the remote's echoes back), and while Up and the remote advertises a
 * nonzero one we send Echo packets through `sendEcho` every max(ours, theirs) and declare the session Down with
 * diagnostic 2 (Echo Function Failed) when none came back for that interval times our Detect Mult.
 * @module
 */

import { EventEmitter } from 'eventemitter3';
import { type Clock, type RandomSource, systemClock } from '../speaker/clock.js';
import { Timer } from '../speaker/timers.js';
import {
  BFD_STATE_NAMES,
  type BfdControlPacket,
  BfdDiagnostic,
  BfdState,
  type BfdStateName,
  type BfdStateValue,
  encodeBfdControl,
} from './bfd-codec.js';
import { decodeBfdEcho, encodeBfdEcho } from './bfd-echo-codec.js';

/** The slowest transmission interval while the session is not Up (RFC 5880 §6.8.3: at least one second), µs. */
export const BFD_SLOW_TX_US = 1_000_000;

/** What the remote system last told us (present once a packet was accepted). */
export interface BfdRemote {
  /** bfd.RemoteDiscr. */
  discriminator: number;
  /** bfd.RemoteSessionState. */
  state: BfdStateValue;
  /** The remote's Desired Min TX Interval, µs. */
  desiredMinTx: number;
  /** bfd.RemoteMinRxInterval, µs. */
  requiredMinRx: number;
  /** The remote's Required Min Echo RX Interval, µs (0: it loops no Echo packets back). */
  requiredMinEchoRx: number;
  /** The remote's Detect Mult. */
  detectMultiplier: number;
}

/** The session state with the data each state has (RFC 5880 §6.2). */
export type BfdSessionState =
  | { name: 'AdminDown'; diagnostic: number }
  | { name: 'Down'; diagnostic: number; remote?: BfdRemote }
  | { name: 'Init'; diagnostic: number; remote: BfdRemote }
  | { name: 'Up'; diagnostic: number; remote: BfdRemote };

/** Configuration of a session. Intervals in milliseconds (MetalLB's BFDProfile units). */
export interface BfdSessionOptions {
  /** bfd.LocalDiscr: nonzero and unique among this system's sessions. */
  localDiscriminator: number;
  /** bfd.DesiredMinTxInterval once Up, ms (1..60000). Default 300. */
  transmitInterval?: number;
  /** bfd.RequiredMinRxInterval, ms (1..60000). Default 300. */
  receiveInterval?: number;
  /** bfd.DetectMult (1..255). Default 3. */
  detectMultiplier?: number;
  /** Passive role (RFC 5880 §6.1): send nothing until the remote has sent something. Default false. */
  passive?: boolean;
  /** Start in AdminDown. Default false. */
  adminDown?: boolean;
  /** Sends one encoded Control packet. */
  send: (packet: Uint8Array) => void;
  /**
   * The Echo function (RFC 5880 §6.4): `interval` (ms, 10..60000) is advertised as our Required Min Echo RX Interval
   * and is the fastest we send Echo packets at; `send` transmits one Echo payload (see `encodeBfdEcho`) so that it
   * comes back to {@link BfdSession.receiveEcho}. Absent: no Echo (we advertise 0).
   */
  echo?: { interval: number; send: (payload: Uint8Array) => void };
  /** Time source. Default the system clock. */
  clock?: Clock;
  /** Jitter source. Default Math.random. */
  random?: RandomSource;
}

/** Events of a {@link BfdSession}. */
export interface BfdSessionEvents {
  /** Every state change; `diagnostic` is bfd.LocalDiag after the change. */
  state: (to: BfdStateName, from: BfdStateName, diagnostic: number) => void;
  /** The session reached Up. */
  up: () => void;
  /**
   * The session left Up. `adminDown` is true when either side took it down administratively (we went AdminDown, or the
   * remote signalled AdminDown): RFC 5882 §3.2 says a client must not treat that as a forwarding failure.
   */
  down: (diagnostic: number, adminDown: boolean) => void;
}

/** Why {@link BfdSession.receive} dropped a packet that the codec accepted. */
export type BfdDiscardReason = 'wrong-discriminator' | 'authentication' | 'admin-down' | 'echo-inactive' | 'bad-echo';

function ms(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > 60_000) {
    throw new RangeError(`BFD ${name} must be an integer 1..60000 ms, got ${value}`);
  }
  return value;
}

function checkEcho(echo: BfdSessionOptions['echo']): { intervalUs: number; send: (p: Uint8Array) => void } | undefined {
  if (echo === undefined) return undefined;
  if (!Number.isInteger(echo.interval) || echo.interval < 10 || echo.interval > 60_000) {
    throw new RangeError(`BFD echo interval must be an integer 10..60000 ms, got ${echo.interval}`);
  }
  return { intervalUs: echo.interval * 1000, send: echo.send };
}

/** A BFD session (RFC 5880) in asynchronous mode. Call {@link BfdSession.start} to begin; {@link BfdSession.stop} ends it. */
export class BfdSession extends EventEmitter<BfdSessionEvents> {
  /** bfd.LocalDiscr. */
  readonly localDiscriminator: number;
  /** bfd.DetectMult. */
  readonly detectMultiplier: number;
  private readonly passive: boolean;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly sendPacket: (packet: Uint8Array) => void;
  private readonly txTimer: Timer;
  private readonly detectTimer: Timer;
  private readonly echoTxTimer: Timer;
  private readonly echoDetectTimer: Timer;
  private echo: { intervalUs: number; send: (payload: Uint8Array) => void } | undefined;
  private echoSequence = 0;
  private current: BfdSessionState;
  /** Configured Desired Min TX once Up, µs. */
  private configuredTx: number;
  /** bfd.RequiredMinRxInterval, µs. */
  private requiredMinRx: number;
  /** The Desired Min TX we advertise (bfd.DesiredMinTxInterval), µs. */
  private advertisedTx = BFD_SLOW_TX_US;
  /** The Desired Min TX our transmission timer uses: lags an increase until its Poll Sequence ends (§6.8.3), µs. */
  private effectiveTx = BFD_SLOW_TX_US;
  private polling = false;
  private started = false;
  /** Packets sent and received, and packets discarded, for status and tests. */
  readonly counters = { sent: 0, received: 0, discarded: 0, echoSent: 0, echoReceived: 0 };

  /** @param options the session's configuration */
  constructor(options: BfdSessionOptions) {
    super();
    if (!Number.isInteger(options.localDiscriminator) || options.localDiscriminator < 1) {
      throw new RangeError('BFD local discriminator must be a nonzero 32-bit integer');
    }
    this.localDiscriminator = options.localDiscriminator >>> 0;
    const detect = options.detectMultiplier ?? 3;
    if (!Number.isInteger(detect) || detect < 1 || detect > 255) {
      throw new RangeError(`BFD detect multiplier must be 1..255, got ${detect}`);
    }
    this.detectMultiplier = detect;
    this.configuredTx = ms('transmit interval', options.transmitInterval ?? 300) * 1000;
    this.requiredMinRx = ms('receive interval', options.receiveInterval ?? 300) * 1000;
    this.passive = options.passive ?? false;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.sendPacket = options.send;
    this.txTimer = new Timer('bfd-tx', this.clock, () => this.onTxTimer());
    this.detectTimer = new Timer('bfd-detect', this.clock, () => this.onDetectionTimeout());
    this.echoTxTimer = new Timer('bfd-echo-tx', this.clock, () => this.onEchoTxTimer());
    this.echoDetectTimer = new Timer('bfd-echo-detect', this.clock, () => this.onEchoDetectionTimeout());
    this.echo = checkEcho(options.echo);
    this.current = options.adminDown
      ? { name: 'AdminDown', diagnostic: BfdDiagnostic.ADMINISTRATIVELY_DOWN }
      : { name: 'Down', diagnostic: BfdDiagnostic.NONE };
  }

  /** The current state and its data. */
  get state(): Readonly<BfdSessionState> {
    return this.current;
  }

  /** Whether a Poll Sequence is in progress. */
  get pollActive(): boolean {
    return this.polling;
  }

  /** The interval our periodic transmission currently uses before jitter, µs (0: not transmitting). */
  get transmitIntervalUs(): number {
    const remoteRx = this.remote()?.requiredMinRx ?? 1;
    return remoteRx === 0 ? 0 : Math.max(this.effectiveTx, remoteRx);
  }

  /**
   * The detection time (RFC 5880 §6.8.4, asynchronous mode), µs: the remote's Detect Mult times the larger of our
   * Required Min RX and the remote's last Desired Min TX; `undefined` before a packet was received.
   */
  get detectionTimeUs(): number | undefined {
    const r = this.remote();
    return r === undefined ? undefined : r.detectMultiplier * Math.max(this.requiredMinRx, r.desiredMinTx);
  }

  /**
   * The interval Echo packets are sent at while the Echo function is active (max of our echo interval and the
   * remote's Required Min Echo RX, RFC 5880 §6.8.9), µs; 0 when it is not active: we have no echo configured, the
   * session is not Up, or the remote advertises a Required Min Echo RX of 0.
   */
  get echoIntervalUs(): number {
    const r = this.remote();
    if (!this.echo || this.current.name !== 'Up' || r === undefined || r.requiredMinEchoRx === 0) return 0;
    return Math.max(this.echo.intervalUs, r.requiredMinEchoRx);
  }

  /** The Echo detection time (echo interval × our Detect Mult), µs; 0 when the Echo function is not active. */
  get echoDetectionTimeUs(): number {
    return this.echoIntervalUs * this.detectMultiplier;
  }

  /**
   * Turns the Echo function on (with its interval and sender) or off; our next Control packet advertises the new
   * Required Min Echo RX Interval (0 when off).
   * @throws RangeError for an interval outside 10..60000 ms
   */
  setEcho(echo: BfdSessionOptions['echo']): void {
    this.echo = checkEcho(echo);
    this.updateEcho();
  }

  /** Starts transmitting (unless passive and nothing was received yet). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.scheduleTx(true);
  }

  /** Stops all timers; the session sends nothing more. */
  stop(): void {
    this.started = false;
    this.txTimer.stop();
    this.detectTimer.stop();
    this.echoTxTimer.stop();
    this.echoDetectTimer.stop();
  }

  /**
   * Administrative control (RFC 5880 §6.8.16): `true` moves to AdminDown (diagnostic 7; the remote is told at once),
   * `false` from AdminDown to Down.
   */
  setAdminDown(adminDown: boolean): void {
    if (adminDown && this.current.name !== 'AdminDown') {
      this.transition({ name: 'AdminDown', diagnostic: BfdDiagnostic.ADMINISTRATIVELY_DOWN });
      this.detectTimer.stop();
    } else if (!adminDown && this.current.name === 'AdminDown') {
      this.transition({ name: 'Down', diagnostic: BfdDiagnostic.NONE });
    }
  }

  /**
   * Changes the intervals (ms) while running: starts a Poll Sequence (RFC 5880 §6.8.3). An increase of the transmit
   * interval while Up takes effect when the sequence ends.
   */
  setIntervals(transmitInterval: number, receiveInterval: number): void {
    const tx = ms('transmit interval', transmitInterval) * 1000;
    const rx = ms('receive interval', receiveInterval) * 1000;
    if (tx === this.configuredTx && rx === this.requiredMinRx) return;
    this.configuredTx = tx;
    this.requiredMinRx = rx;
    this.updateAdvertisedTx();
    this.startPoll();
    // The timer restarts at the (possibly shorter) interval so the Poll goes out without waiting for the old one.
    if (this.started && this.txTimer.running) this.scheduleTx(false);
  }

  /**
   * Processes a Control packet the codec accepted and the transport matched to this session (RFC 5880 §6.8.6).
   * @returns undefined when the packet was used, else why it was discarded
   */
  receive(packet: BfdControlPacket): BfdDiscardReason | undefined {
    if (packet.yourDiscriminator !== 0 && packet.yourDiscriminator !== this.localDiscriminator) {
      return this.discard('wrong-discriminator');
    }
    if (packet.auth !== undefined) return this.discard('authentication');
    if (this.current.name === 'AdminDown') return this.discard('admin-down');
    this.counters.received++;
    const remote: BfdRemote = {
      discriminator: packet.myDiscriminator,
      state: packet.state,
      desiredMinTx: packet.desiredMinTxInterval,
      requiredMinRx: packet.requiredMinRxInterval,
      requiredMinEchoRx: packet.requiredMinEchoRxInterval,
      detectMultiplier: packet.detectMultiplier,
    };
    const wasSilent = this.transmitIntervalUs === 0 || (this.passive && this.remote() === undefined);
    if (packet.final && this.polling) {
      this.polling = false;
      this.effectiveTx = this.advertisedTx;
    }
    const s = this.current;
    const diag = s.diagnostic;
    if (packet.state === BfdState.ADMIN_DOWN) {
      if (s.name !== 'Down')
        this.transition({ name: 'Down', diagnostic: BfdDiagnostic.NEIGHBOR_SIGNALED_SESSION_DOWN, remote }, true);
      else this.current = { ...s, remote };
    } else if (s.name === 'Down') {
      if (packet.state === BfdState.DOWN) this.transition({ name: 'Init', diagnostic: diag, remote });
      else if (packet.state === BfdState.INIT) this.transition({ name: 'Up', diagnostic: diag, remote });
      else this.current = { ...s, remote };
    } else if (s.name === 'Init') {
      if (packet.state === BfdState.INIT || packet.state === BfdState.UP) {
        this.transition({ name: 'Up', diagnostic: diag, remote });
      } else this.current = { ...s, remote };
    } else if (packet.state === BfdState.DOWN) {
      this.transition({ name: 'Down', diagnostic: BfdDiagnostic.NEIGHBOR_SIGNALED_SESSION_DOWN, remote });
    } else {
      this.current = { ...s, remote };
    }
    const detection = this.detectionTimeUs;
    if (detection !== undefined && this.started) this.detectTimer.start(detection / 1000);
    if (packet.poll) this.transmitNow(true);
    else if (this.started && wasSilent && !this.txTimer.running) this.scheduleTx(true);
    this.hastenTx();
    this.updateEcho();
    return undefined;
  }

  /**
   * Processes an Echo payload that came back (UDP port 3785, addressed to ourselves): restarts the Echo detection
   * timer when it is ours and the Echo function is active.
   * @returns undefined when it was used, else why it was discarded
   */
  receiveEcho(payload: Uint8Array): BfdDiscardReason | undefined {
    let discriminator: number;
    try {
      discriminator = decodeBfdEcho(payload).discriminator;
    } catch {
      return this.discard('bad-echo');
    }
    if (discriminator !== this.localDiscriminator) return this.discard('wrong-discriminator');
    const detect = this.echoDetectionTimeUs;
    if (detect === 0 || !this.started) return this.discard('echo-inactive');
    this.counters.echoReceived++;
    this.echoDetectTimer.start(detect / 1000);
    return undefined;
  }

  /** Starts, retimes or stops the Echo timers after anything that can change whether (and how fast) Echo runs. */
  private updateEcho(): void {
    const interval = this.started ? this.echoIntervalUs : 0;
    if (interval === 0) {
      this.echoTxTimer.stop();
      this.echoDetectTimer.stop();
      return;
    }
    const detect = interval * this.detectMultiplier;
    // Starting (or a shorter detection time): the detection time runs from now; a running one keeps its deadline.
    const remaining = this.echoDetectTimer.remaining;
    if (remaining === undefined || remaining > detect / 1000) this.echoDetectTimer.start(detect / 1000);
    const txRemaining = this.echoTxTimer.remaining;
    if (txRemaining === undefined) this.onEchoTxTimer();
    else if (txRemaining > interval / 1000) this.echoTxTimer.start(interval / 1000);
  }

  private onEchoTxTimer(): void {
    const interval = this.echoIntervalUs;
    if (!this.echo || interval === 0 || !this.started) return;
    this.echoSequence = (this.echoSequence + 1) >>> 0;
    this.counters.echoSent++;
    this.echo.send(encodeBfdEcho({ discriminator: this.localDiscriminator, sequence: this.echoSequence }));
    // Jittered like Control packets (§6.8.7 applies to them; the Echo rate is a local matter): 0–25 % shorter.
    this.echoTxTimer.start((interval * (0.75 + 0.25 * this.random())) / 1000);
  }

  private onEchoDetectionTimeout(): void {
    if (this.current.name === 'Up') {
      this.transition({ name: 'Down', diagnostic: BfdDiagnostic.ECHO_FUNCTION_FAILED, remote: this.current.remote });
    }
  }

  /**
   * Brings the next periodic packet forward when the transmission interval has just shrunk below the time left on the
   * timer: the remote's new Required Min RX (or our ended Poll Sequence) applies now, not after a packet scheduled at
   * the old interval. FRR's bfdd, for one, advertises a Required Min RX of 1 s until Up, then Polls with the fast
   * one; its detection time (e.g. 3 × 50 ms) runs from our Final, so a packet still due a second later lets it
   * declare the session down (diagnostic 1) right after every Up. A longer interval needs nothing: the next packet
   * schedules with it.
   */
  private hastenTx(): void {
    const intervalMs = this.transmitIntervalUs / 1000;
    const remaining = this.txTimer.remaining;
    if (this.started && intervalMs > 0 && remaining !== undefined && remaining > intervalMs) this.scheduleTx(false);
  }

  private remote(): BfdRemote | undefined {
    return this.current.name === 'AdminDown' ? undefined : this.current.remote;
  }

  private discard(reason: BfdDiscardReason): BfdDiscardReason {
    this.counters.discarded++;
    return reason;
  }

  private transition(next: BfdSessionState, remoteAdminDown = false): void {
    const from = this.current.name;
    this.current = next;
    if (from === next.name) return;
    this.updateAdvertisedTx();
    // Leaving or entering Up changes the advertised interval: a Poll Sequence tells the remote (RFC 5880 §6.8.3).
    if (from === 'Up' || next.name === 'Up') this.startPoll();
    if (next.name !== 'Up' && next.name !== 'Init') this.polling = false;
    this.emit('state', next.name, from, next.diagnostic);
    if (next.name === 'Up') this.emit('up');
    else if (from === 'Up') this.emit('down', next.diagnostic, remoteAdminDown || next.name === 'AdminDown');
    // The remote learns of the change without waiting a (possibly 1 s) interval; the timer restarts at the new one.
    if (this.started) this.scheduleTx(true);
    this.updateEcho();
  }

  private updateAdvertisedTx(): void {
    const up = this.current.name === 'Up';
    this.advertisedTx = up ? this.configuredTx : Math.max(this.configuredTx, BFD_SLOW_TX_US);
    // §6.8.3: an increase while Up waits for the Poll Sequence; a decrease, or any change while not Up, applies now.
    if (!up || this.advertisedTx <= this.effectiveTx) this.effectiveTx = this.advertisedTx;
  }

  private startPoll(): void {
    if (this.current.name === 'Up' || this.current.name === 'Init') this.polling = true;
    else this.effectiveTx = this.advertisedTx;
  }

  private onDetectionTimeout(): void {
    const s = this.current;
    if (s.name === 'Init' || s.name === 'Up') {
      this.transition({ name: 'Down', diagnostic: BfdDiagnostic.CONTROL_DETECTION_TIME_EXPIRED });
    } else if (s.name === 'Down') {
      // §6.8.1: bfd.RemoteDiscr is zeroed when a Detection Time passes without a packet.
      this.current = { name: 'Down', diagnostic: s.diagnostic };
    }
  }

  private packet(final: boolean): BfdControlPacket {
    const r = this.remote();
    return {
      diagnostic: this.current.diagnostic,
      state: BFD_STATE_NAMES.indexOf(this.current.name) as BfdStateValue,
      poll: this.polling && !final,
      final,
      controlPlaneIndependent: false,
      demand: false,
      detectMultiplier: this.detectMultiplier,
      myDiscriminator: this.localDiscriminator,
      yourDiscriminator: r?.discriminator ?? 0,
      desiredMinTxInterval: this.advertisedTx,
      requiredMinRxInterval: this.requiredMinRx,
      requiredMinEchoRxInterval: this.echo?.intervalUs ?? 0,
    };
  }

  private mayTransmit(): boolean {
    // §6.8.7: not while passive and bfd.RemoteDiscr is zero.
    return this.started && !(this.passive && this.remote() === undefined);
  }

  private transmitNow(final: boolean): void {
    if (!this.mayTransmit() && !final) return;
    this.counters.sent++;
    this.sendPacket(encodeBfdControl(this.packet(final)));
  }

  private onTxTimer(): void {
    this.transmitNow(false);
    this.scheduleTx(false);
  }

  private scheduleTx(immediately: boolean): void {
    if (!this.started) return;
    const interval = this.transmitIntervalUs;
    if (interval === 0 || !this.mayTransmit()) {
      this.txTimer.stop();
      return;
    }
    if (immediately) {
      this.transmitNow(false);
    }
    // §6.8.7: 0–25 % shorter at random; 10–25 % shorter when Detect Mult is 1.
    const factor = this.detectMultiplier === 1 ? 0.75 + 0.15 * this.random() : 0.75 + 0.25 * this.random();
    this.txTimer.start((interval * factor) / 1000);
  }
}
