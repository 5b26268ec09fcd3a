import { EventEmitter } from 'eventemitter3';
import {
  ALL_NODES_IPV6,
  BROADCAST_MAC,
  canonicalIp,
  formatMac,
  ipv6MulticastMac,
  parseIPv4,
  parseIPv6,
  solicitedNodeAddress,
} from '../codec/address.js';
import { ArpOperation, decodeArp } from '../codec/arp.js';
import { CodecError } from '../codec/errors.js';
import { ETHERTYPE_ARP, ETHERTYPE_IPV6 } from '../codec/ethernet.js';
import { encodeArpFrame, encodeArpReplyFrame, encodeNdpFrame, isArpIPv4Request } from '../codec/frame.js';
import { decodeNdp, ICMPV6_NEIGHBOR_SOLICITATION, isSolicitedNodeOf, type NdpPacket } from '../codec/ndp.js';
import { type Logger, systemTimers, type Timers } from '../timers.js';
import type { AnswerOffload, FrameTransport } from '../transport/frame-transport.js';
import { Layer2Counters } from './layer2-counters.js';

/**
 * Rounds sent in the first second of a burst by default ({@link GratuitousOptions.earlyMs}), in ms after the first:
 * a lost announcement, or one overtaken by a stale one from the previous owner, strands clients for at most the gap
 * to the next (50-350 ms) instead of MetalLB's 1.1 s.
 */
export const DEFAULT_EARLY_ROUNDS_MS: readonly number[] = Object.freeze([50, 150, 350, 700]);

/**
 * Timing of the gratuitous burst sent when an IP is announced: a round at once, the early rounds, then a round every
 * `intervalMs` (MetalLB's schedule) until `durationMs` after the last announce. With the defaults: 0, 50, 150, 350,
 * 700 ms, then 1.1, 2.2, 3.3 and 4.4 s (9 rounds).
 */
export interface GratuitousOptions {
  /** Interval between the regular rounds, default 1100 ms (MetalLB, chosen to dodge the kernel's ARP locktime). */
  intervalMs?: number;
  /** Rounds are sent until this long after the last announce, default 5000 ms (regular rounds at 1.1 … 4.4 s). */
  durationMs?: number;
  /**
   * Extra rounds this many ms after the first one, before the regular schedule takes over (offsets at or beyond
   * `intervalMs` are ignored); default {@link DEFAULT_EARLY_ROUNDS_MS}, `[]` for MetalLB's schedule alone. Linux
   * clients accept a gratuitous ARP whenever it comes (`arp_is_garp`), so a dense start repairs a lost or overtaken
   * first round at once; the regular 1.1 s rounds still reach stacks that lock an entry for a second after a change.
   */
  earlyMs?: readonly number[];
}

/** Options shared by {@link InterfaceResponder} and {@link Responder}. */
export interface ResponderBehaviourOptions {
  /** Gratuitous burst timing, or `false` to send none. */
  gratuitous?: GratuitousOptions | false;
  /**
   * Also send one gratuitous round for every announced IP at this interval (ms); 0 or absent = off (MetalLB before
   * PR #3125). Keeps switch FDB entries fresh on quiet services (MetalLB issue #2910).
   */
  reannounceIntervalMs?: number;
  /** Clock and timers (default {@link systemTimers}). */
  timers?: Timers;
  /** Structured log sink (default: none). */
  log?: Logger;
}

/** Options of {@link InterfaceResponder}. */
export interface InterfaceResponderOptions extends ResponderBehaviourOptions {
  /** The transport of the interface; the responder owns it and closes it on {@link InterfaceResponder.close}. */
  transport: FrameTransport;
  /** Answer ARP (default true). */
  arp?: boolean;
  /** Answer NDP (default true). */
  ndp?: boolean;
  /**
   * IPv6 link-local address of the interface to use as the source of NAs (MetalLB's choice); default: the target
   * address, as the Linux kernel does (tools such as ndisc6 ignore link-local-sourced NAs for global targets).
   */
  ipv6LinkLocal?: string;
  /** Counter store, shared by the interfaces of one {@link Responder} (default: a private one). */
  counters?: Layer2Counters;
  /**
   * @internal Also emit every event on this emitter (a {@link Responder} passes itself). Unlike forwarding
   * listeners, it lets the per-frame path skip building `response` / `drop` payloads nobody listens to.
   */
  events?: Pick<EventEmitter<ResponderEvents>, 'emit' | 'listenerCount'>;
}

/** Why a received frame was not answered. */
export type DropReason =
  /** Failed to decode (truncated, bad checksum, hop limit ≠ 255 …). */
  | 'malformed'
  /** Not an ARP request / NS, VLAN-tagged, or not addressed to broadcast, our MAC or the solicited-node group. */
  | 'foreign'
  /** A well-formed request for an IP we do not announce here. */
  | 'not-announced'
  /**
   * A request from a broadcast or multicast Ethernet source, or whose ARP sender / NDP source link-layer address is
   * one: no station has that address, and a reply to it would flood the segment. Ignored and counted.
   */
  | 'bad-source';

/** Frame-level counters of one interface. */
export interface InterfaceStats {
  /** Frames received from the transport. */
  framesReceived: number;
  /** Frames that failed to decode. */
  malformed: number;
  /** Frames not meant for a responder (see {@link DropReason}). */
  foreign: number;
  /** Requests for IPs not announced on this interface. */
  notAnnounced: number;
  /** Requests from a broadcast or multicast source, ignored (see {@link DropReason} `bad-source`). */
  badSource: number;
  /** Replies and solicited NAs sent. */
  responsesSent: number;
  /** Gratuitous frames sent. */
  gratuitousSent: number;
  /** Sends that failed. */
  sendErrors: number;
  /** Frames the kernel dropped before we could read them (socket buffer full), from the transport. */
  kernelDrops: number;
}

/** Events of {@link InterfaceResponder} and {@link Responder}. */
export interface ResponderEvents {
  /** A request for an announced IP was answered. */
  response: (e: { interface: string; ip: string; protocol: 'arp' | 'ndp'; to: string }) => void;
  /** A gratuitous round was sent. */
  gratuitous: (e: { interface: string; ip: string; frames: number }) => void;
  /** A frame was dropped. `error` is the decoder's error for `malformed`. */
  drop: (e: { interface: string; reason: DropReason; error?: CodecError }) => void;
  /** A send or receive failed (the responder keeps running). */
  error: (e: { interface: string; error: Error }) => void;
}

/** `emit` with the payload already checked by {@link InterfaceResponder}'s `fire`. */
type UntypedEmit = (event: keyof ResponderEvents, payload: unknown) => boolean;

interface Burst {
  until: number;
  timer: unknown;
}

const BROADCAST = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/**
 * Answers ARP requests and IPv6 Neighbor Solicitations for announced IPs on one interface, and announces them with
 * gratuitous ARP / unsolicited NA bursts. Requests are answered only when addressed to broadcast or our MAC (ARP) or
 * to the target's solicited-node group or our MAC (NDP). ARP probes (sender 0.0.0.0, RFC 5227) are answered; an NS
 * without a source link-layer option (unicast NUD probe) is answered unicast to its IPv6 source at the frame's source
 * MAC (RFC 4861 §7.2.4, MetalLB #2920); a DAD probe (source ::) gets an NA to ff02::1 with S=0, O=1.
 *
 * @example
 * ```ts
 * const seg = new MemorySegment();
 * const r = new InterfaceResponder({ transport: seg.attach({ name: 'eth0', mac: '02:00:00:00:00:01' }) });
 * r.announce('192.0.2.10');
 * r.announce('2001:db8::10');
 * // … later
 * await r.close();
 * ```
 */
export class InterfaceResponder extends EventEmitter<ResponderEvents> {
  /** Interface name. */
  readonly name: string;
  /** Interface MAC. */
  readonly mac: string;
  /** Per-IP counters (possibly shared). */
  readonly counters: Layer2Counters;
  private readonly transport: FrameTransport;
  private readonly timers: Timers;
  private readonly log: Logger | undefined;
  private readonly arpEnabled: boolean;
  private readonly ndpEnabled: boolean;
  private readonly linkLocal: string | undefined;
  private readonly gratuitous: Required<GratuitousOptions> | false;
  private readonly macBytes: Uint8Array;
  private readonly ips = new Set<string>();
  private readonly v6Bytes = new Map<string, Uint8Array>();
  /** Announced IPv4 addresses by their 32-bit value, for the ARP hot path. */
  private readonly v4 = new Map<number, string>();
  /** The transport's answer offload (receive mode `thread`), and the addresses registered there. */
  private readonly offload: AnswerOffload | undefined;
  private readonly offloaded = new Set<string>();
  private readonly stopCollecting: (() => void) | undefined;
  private readonly bursts = new Map<string, Burst>();
  private periodic: unknown;
  private readonly periodicMs: number;
  private readonly txBuf = new Uint8Array(128);
  private readonly arpReplyBuf = new Uint8Array(42);
  private readonly sink: InterfaceResponderOptions['events'];
  private closed = false;
  private readonly s: InterfaceStats = {
    framesReceived: 0,
    malformed: 0,
    foreign: 0,
    notAnnounced: 0,
    badSource: 0,
    responsesSent: 0,
    gratuitousSent: 0,
    sendErrors: 0,
    kernelDrops: 0,
  };

  constructor(options: InterfaceResponderOptions) {
    super();
    this.transport = options.transport;
    this.name = options.transport.name;
    this.mac = options.transport.mac;
    this.macBytes = Uint8Array.from(this.mac.split(':'), (h) => Number.parseInt(h, 16));
    this.counters = options.counters ?? new Layer2Counters();
    this.sink = options.events;
    this.timers = options.timers ?? systemTimers;
    this.log = options.log;
    this.arpEnabled = options.arp !== false;
    this.ndpEnabled = options.ndp !== false;
    this.linkLocal = options.ipv6LinkLocal;
    if (options.gratuitous === false) this.gratuitous = false;
    else {
      const intervalMs = options.gratuitous?.intervalMs ?? 1100;
      const early = options.gratuitous?.earlyMs ?? DEFAULT_EARLY_ROUNDS_MS;
      this.gratuitous = {
        intervalMs,
        durationMs: options.gratuitous?.durationMs ?? 5000,
        earlyMs: [...new Set(early)].filter((ms) => ms > 0 && ms < intervalMs).sort((a, b) => a - b),
      };
    }
    this.periodicMs = options.reannounceIntervalMs ?? 0;
    this.transport.receive((f) => this.onFrame(f));
    this.transport.onError = (error) => this.fail(error);
    this.offload = this.transport.answerOffload;
    if (this.offload) this.stopCollecting = this.counters.addCollector(() => this.collectOffloaded());
    if (this.periodicMs > 0) this.schedulePeriodic();
  }

  /**
   * Starts answering for `ip` (IPv4 or IPv6) and sends the gratuitous burst. Announcing an IP again extends a running
   * burst by the burst duration (MetalLB's SetBalancer), or starts a new one when the last has ended.
   * @throws TypeError when `ip` is not an IP address.
   */
  announce(ip: string): void {
    const c = canonical(ip);
    if (this.closed) return;
    const isV6 = c.includes(':');
    if (!this.ips.has(c)) {
      this.ips.add(c);
      if (isV6) {
        this.v6Bytes.set(c, parseIPv6(c));
        if (this.ndpEnabled) this.membership(c, true);
      } else {
        const b = parseIPv4(c);
        this.v4.set(((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0, c);
      }
      // Answered off the event loop when the transport can (what it answers is exactly what onFrame would).
      if ((isV6 ? this.ndpEnabled : this.arpEnabled) && this.offload?.add(c, isV6 ? this.linkLocal : undefined)) {
        this.offloaded.add(c);
      }
      this.log?.({ level: 'info', msg: 'announce', interface: this.name, ip: c });
    }
    this.burst(c, false);
  }

  /** Stops answering for `ip` and stops its burst. Counters are kept. */
  withdraw(ip: string): void {
    const c = canonical(ip);
    if (!this.ips.delete(c)) return;
    const b = this.bursts.get(c);
    if (b) this.timers.clearTimeout(b.timer);
    this.bursts.delete(c);
    if (this.v6Bytes.delete(c) && this.ndpEnabled) this.membership(c, false);
    for (const [k, v] of this.v4) if (v === c) this.v4.delete(k);
    if (this.offloaded.delete(c)) this.offload?.remove(c);
    this.log?.({ level: 'info', msg: 'withdraw', interface: this.name, ip: c });
  }

  /** Announced IPs, canonical text, in announce order. */
  announced(): string[] {
    return [...this.ips];
  }

  /** Is `ip` announced here? */
  isAnnounced(ip: string): boolean {
    const c = canonicalIp(ip);
    return c !== undefined && this.ips.has(c);
  }

  /**
   * Sends one gratuitous round now for `ip` (or every announced IP) and restarts the burst window; the daemon calls
   * this when a partition heals (MetalLB #584).
   */
  reannounce(ip?: string): void {
    const list = ip === undefined ? [...this.ips] : [canonical(ip)].filter((x) => this.ips.has(x));
    for (const x of list) this.burst(x, true);
  }

  /** Frame-level counters. */
  stats(): InterfaceStats {
    this.collectOffloaded();
    if (!this.closed) this.s.kernelDrops = this.transport.stats().kernelDrops;
    return { ...this.s };
  }

  /** Stops timers and closes the transport. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const b of this.bursts.values()) this.timers.clearTimeout(b.timer);
    this.bursts.clear();
    if (this.periodic !== undefined) this.timers.clearTimeout(this.periodic);
    await this.transport.close();
    this.collectOffloaded(); // what the thread answered up to the end
    this.stopCollecting?.();
  }

  private membership(ip: string, add: boolean): void {
    const mac = ipv6MulticastMac(solicitedNodeAddress(ip));
    try {
      if (add) this.transport.addMembership(mac);
      else this.transport.dropMembership(mac);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  /** Does anyone listen to `event` here or on the {@link InterfaceResponderOptions.events} sink? */
  private wants(event: keyof ResponderEvents): boolean {
    return this.listenerCount(event) > 0 || (this.sink !== undefined && this.sink.listenerCount(event) > 0);
  }

  /** Emits `event` here, then on the sink. */
  private fire<E extends keyof ResponderEvents>(event: E, payload: Parameters<ResponderEvents[E]>[0]): void {
    (this.emit as UntypedEmit).call(this, event, payload);
    if (this.sink) (this.sink.emit as UntypedEmit).call(this.sink, event, payload);
  }

  private fail(error: Error): void {
    this.log?.({ level: 'warn', msg: 'transport error', interface: this.name, error: error.message });
    this.fire('error', { interface: this.name, error });
  }

  private burst(ip: string, force: boolean): void {
    if (this.gratuitous === false) {
      if (force) this.sendRound(ip);
      return;
    }
    const now = this.timers.now();
    const existing = this.bursts.get(ip);
    const until = now + this.gratuitous.durationMs;
    if (existing) {
      existing.until = until;
      if (force) this.sendRound(ip);
      return;
    }
    this.sendRound(ip);
    const b: Burst = { until, timer: undefined };
    this.bursts.set(ip, b);
    const { intervalMs, earlyMs } = this.gratuitous;
    // The schedule is absolute (start + early offsets, then start + k × interval), like MetalLB's Go ticker: event-loop
    // delays do not add up. It is kept as offsets from the start, never as absolute times: `(now + 4400 - now) / 1100`
    // can be 3.9999999999999982 in floating point, which once sent the 4.4 s round twice, 2 ms apart. The first offset
    // due strictly after offset `x`:
    const after = (x: number) => {
      const regular = Math.max(1, Math.floor(x / intervalMs) + 1) * intervalMs;
      const early = earlyMs.find((ms) => ms > x);
      return early === undefined ? regular : Math.min(early, regular);
    };
    let next = after(0);
    const tick = () => {
      if (this.closed || !this.ips.has(ip) || this.bursts.get(ip) !== b) return;
      const t = this.timers.now();
      if (t > b.until) {
        this.bursts.delete(ip);
        return;
      }
      this.sendRound(ip);
      // One round per tick: Node timers may fire a fraction of a millisecond before `next` on performance.now(), so
      // the schedule always moves past the round just sent (and skips rounds missed under load).
      next = after(Math.max(next, t - now));
      b.timer = this.timers.setTimeout(tick, Math.max(0, now + next - t));
    };
    b.timer = this.timers.setTimeout(tick, next);
  }

  private schedulePeriodic(): void {
    this.periodic = this.timers.setTimeout(() => {
      if (this.closed) return;
      for (const ip of this.ips) this.sendRound(ip);
      this.schedulePeriodic();
    }, this.periodicMs);
  }

  /** One gratuitous round: ARP request + ARP reply (IPv4) or one unsolicited NA to ff02::1 (IPv6). */
  private sendRound(ip: string): void {
    let frames = 0;
    if (ip.includes(':')) {
      if (!this.ndpEnabled) return;
      const f = encodeNdpFrame(
        { destination: ipv6MulticastMac(ALL_NODES_IPV6), source: this.mac },
        {
          source: this.linkLocal ?? ip,
          destination: ALL_NODES_IPV6,
          message: {
            type: 'neighbor-advertisement',
            router: false,
            solicited: false,
            override: true,
            target: ip,
            options: [{ type: 'target-lla', mac: this.mac }],
          },
        },
        this.txBuf,
      );
      if (this.trySend(f)) frames++;
    } else {
      if (!this.arpEnabled) return;
      for (const operation of [ArpOperation.Request, ArpOperation.Reply]) {
        const f = encodeArpFrame(
          { destination: BROADCAST_MAC, source: this.mac },
          { operation, senderMac: this.mac, senderIp: ip, targetMac: BROADCAST_MAC, targetIp: ip },
          this.txBuf,
        );
        if (this.trySend(f)) frames++;
      }
    }
    if (frames > 0) {
      this.s.gratuitousSent += frames;
      this.counters.add(ip, 'gratuitousSent', frames);
      this.fire('gratuitous', { interface: this.name, ip, frames });
    }
  }

  /**
   * Folds what the transport answered off the event loop into the counters. Those replies emit no `response` event
   * (the thread answers without waking the event loop); the counters count them.
   */
  private collectOffloaded(): void {
    if (!this.offload) return;
    const t = this.offload.collect((ip, requests, responses) => {
      this.counters.add(ip, 'requestsReceived', requests);
      this.counters.add(ip, 'responsesSent', responses);
    });
    this.s.framesReceived += t.answered;
    this.s.responsesSent += t.sent;
    this.s.sendErrors += t.sendErrors;
  }

  private trySend(frame: Uint8Array): boolean {
    try {
      this.transport.send(frame);
      return true;
    } catch (error) {
      this.s.sendErrors++;
      this.fail(error as Error);
      return false;
    }
  }

  private drop(reason: DropReason, error?: CodecError): false {
    if (reason === 'malformed') this.s.malformed++;
    else if (reason === 'foreign') this.s.foreign++;
    else if (reason === 'bad-source') this.s.badSource++;
    else this.s.notAnnounced++;
    if (this.wants('drop')) {
      this.fire('drop', error ? { interface: this.name, reason, error } : { interface: this.name, reason });
    }
    return false;
  }

  /** Handles one received frame; returns true when it was answered. */
  private onFrame(f: Uint8Array): boolean {
    this.s.framesReceived++;
    if (this.closed) return false;
    if (f.length < 14)
      return this.drop('malformed', new CodecError('ethernet', 'truncated', 'frame shorter than 14 bytes', 0));
    const type = (f[12]! << 8) | f[13]!;
    try {
      if (type === ETHERTYPE_ARP && this.arpEnabled) return this.onArp(f);
      if (type === ETHERTYPE_IPV6 && this.ndpEnabled) return this.onIPv6(f);
      return this.drop('foreign'); // other EtherTypes, and 802.1Q/802.1ad-tagged frames (a VLAN sub-interface's business)
    } catch (error) {
      if (error instanceof CodecError) return this.drop('malformed', error);
      this.fail(error as Error);
      return false;
    }
  }

  private toUs(f: Uint8Array): boolean {
    const m = this.macBytes;
    return f[0] === m[0] && f[1] === m[1] && f[2] === m[2] && f[3] === m[3] && f[4] === m[4] && f[5] === m[5];
  }

  private onArp(f: Uint8Array): boolean {
    if (!isArpIPv4Request(f)) {
      const p = decodeArp(f, 14); // throws the CodecError of a malformed packet
      return this.drop(p.operation === ArpOperation.Request ? 'malformed' : 'foreign');
    }
    if (!this.toUs(f) && !isBroadcast(f)) return this.drop('foreign');
    // Unicast requesters only: the Ethernet source and the ARP sender hardware address (I/G bit clear).
    if ((f[6]! & 1) !== 0 || (f[22]! & 1) !== 0) return this.drop('bad-source');
    const ip = this.v4.get(((f[38]! << 24) | (f[39]! << 16) | (f[40]! << 8) | f[41]!) >>> 0);
    if (ip === undefined) return this.drop('not-announced');
    this.counters.add(ip, 'requestsReceived');
    // Reply to the requester (Ethernet source), MetalLB's arp.Client.Reply: SHA = our MAC, THA/TPA = the sender's.
    if (this.trySend(encodeArpReplyFrame(f, this.macBytes, this.arpReplyBuf))) {
      this.s.responsesSent++;
      this.counters.add(ip, 'responsesSent');
      if (this.wants('response')) {
        this.fire('response', { interface: this.name, ip, protocol: 'arp', to: formatMac(f, 6) });
      }
      return true;
    }
    return false;
  }

  private onIPv6(f: Uint8Array): boolean {
    // Cheap pre-checks (the kernel filter does these too): ICMPv6 NS without extension headers.
    if (f.length < 55 || f[20] !== 58 || f[54] !== ICMPV6_NEIGHBOR_SOLICITATION) return this.drop('foreign');
    const ns: NdpPacket = decodeNdp(f, 14);
    if (ns.message.type !== 'neighbor-solicitation') return this.drop('foreign');
    const target = ns.message.target;
    const t = this.v6Bytes.get(target);
    if (!t) {
      return this.drop(this.toUs(f) || isSolicitedNodeMac(f) ? 'not-announced' : 'foreign');
    }
    // IPv6 destination must be the target itself (unicast NUD) or its solicited-node group; Ethernet destination our
    // MAC or that group's MAC.
    const slla = ns.message.options.find((o) => o.type === 'source-lla');
    // Unicast requesters only: the Ethernet source and the source link-layer address (I/G bit clear).
    if ((f[6]! & 1) !== 0 || (slla?.type === 'source-lla' && (Number.parseInt(slla.mac.slice(0, 2), 16) & 1) !== 0))
      return this.drop('bad-source');
    const dst = f.subarray(38, 54);
    const toGroup = isSolicitedNodeOf(dst, 0, t);
    if (!toGroup && !bytesEqual(dst, t)) return this.drop('foreign');
    if (
      !this.toUs(f) &&
      !(
        toGroup &&
        f[0] === 0x33 &&
        f[1] === 0x33 &&
        f[2] === 0xff &&
        f[3] === t[13] &&
        f[4] === t[14] &&
        f[5] === t[15]
      )
    ) {
      return this.drop('foreign');
    }
    this.counters.add(target, 'requestsReceived');
    const dad = ns.source === '::';
    let ethDst: string;
    let ipDst: string;
    if (dad) {
      ethDst = ipv6MulticastMac(ALL_NODES_IPV6);
      ipDst = ALL_NODES_IPV6;
    } else {
      ethDst = slla && slla.type === 'source-lla' ? slla.mac : formatMac(f, 6);
      ipDst = ns.source;
    }
    const na = encodeNdpFrame(
      { destination: ethDst, source: this.mac },
      {
        source: this.linkLocal ?? target,
        destination: ipDst,
        message: {
          type: 'neighbor-advertisement',
          router: false,
          solicited: !dad,
          override: dad,
          target,
          options: [{ type: 'target-lla', mac: this.mac }],
        },
      },
      this.txBuf,
    );
    if (this.trySend(na)) {
      this.s.responsesSent++;
      this.counters.add(target, 'responsesSent');
      this.fire('response', { interface: this.name, ip: target, protocol: 'ndp', to: ethDst });
      return true;
    }
    return false;
  }
}

function canonical(ip: string): string {
  const c = canonicalIp(ip);
  if (c === undefined) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
  return c;
}

function isBroadcast(f: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (f[i] !== BROADCAST[i]) return false;
  return true;
}

function isSolicitedNodeMac(f: Uint8Array): boolean {
  return f[0] === 0x33 && f[1] === 0x33 && f[2] === 0xff;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
