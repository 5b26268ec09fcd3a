/**
 * BGP unnumbered neighbour discovery on one interface, the way FRR does it: both routers send IPv6 Router
 * Advertisements on the link, and each learns the other's link-local address from the advertisements it receives (FRR's
 * zebra turns them into the `neighbor IFNAME interface` peer's address). We advertise every `advertiseInterval`
 * seconds (router lifetime 0: we are no default router), solicit at start so the neighbour answers at once, and answer
 * a solicitation or a newly heard router without waiting for the interval.
 * @module
 */

import { networkInterfaces } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import { type Clock, systemClock, type TimerHandle } from '../speaker/clock.js';
import { type NdTransport, openIcmpv6Transport } from './icmpv6-socket.js';
import { decodeNdMessage, encodeRouterAdvertisement, encodeRouterSolicitation } from './nd-codec.js';

/** All-nodes multicast: where Router Advertisements go. */
const ALL_NODES = 'ff02::1';
/** All-routers multicast: where Router Solicitations go. */
const ALL_ROUTERS = 'ff02::2';
/** The least time between two of our advertisements sent out of turn (answers to solicitations, new routers). */
const MIN_ANSWER_GAP_MS = 1000;
/** Other routers remembered (each reported once); beyond this, on-link spoofed sources are no longer reported. */
const MAX_OTHER_ROUTERS = 64;

/** Options of {@link LinkLocalDiscovery}. */
export interface LinkLocalDiscoveryOptions {
  /** The interface (the BGPPeer's `interface`). */
  interface: string;
  /** Seconds between our Router Advertisements; 0 never advertises. Default 10 (FRR's interval on such links). */
  advertiseInterval?: number;
  /** Our link-layer address for the Source Link-Layer Address option. Default: the interface's MAC, if known. */
  linkLayerAddress?: string;
  /**
   * Seconds without an advertisement from the neighbour after which another router heard on the link replaces it (a
   * router replaced, or its link-local address changed). Default 60 (six of FRR's 10 s intervals).
   */
  neighborTimeout?: number;
  /** Opens the transport (tests pass an in-memory one). Default: a raw ICMPv6 socket on the interface. */
  transport?: () => Promise<NdTransport>;
  /** Time source (tests). */
  clock?: Clock;
}

/** Events of {@link LinkLocalDiscovery}. */
export interface LinkLocalDiscoveryEvents {
  /**
   * The neighbouring router's link-local address (no scope): when first heard, and again when another router replaced
   * one silent for `neighborTimeout`.
   */
  neighbor: [address: string];
  /** A non-fatal problem (a second router on the link, a send or receive failure). */
  warning: [message: string, error?: Error];
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]:/i.test(address);
}

/**
 * Finds the router on the other end of a point-to-point link by its Router Advertisements, and advertises us to it.
 * The first router heard is the neighbour; another one later is reported once as a warning and ignored, unless the
 * neighbour has been silent for `neighborTimeout`: then the other one becomes the neighbour.
 */
export class LinkLocalDiscovery extends EventEmitter<LinkLocalDiscoveryEvents> {
  private transport: NdTransport | undefined;
  private timer: TimerHandle | undefined;
  private found: string | undefined;
  private lastHeard = Number.NEGATIVE_INFINITY;
  private readonly others = new Set<string>();
  private lastAnswer = Number.NEGATIVE_INFINITY;
  private closed = false;
  private readonly clock: Clock;
  private readonly advertisement: Uint8Array;
  private readonly solicitation: Uint8Array;
  /** Router Advertisements sent. */
  advertisementsSent = 0;
  /** Received Neighbor Discovery messages that failed validation (discarded). */
  discarded = 0;

  /** @param options interface, interval, transport */
  constructor(readonly options: LinkLocalDiscoveryOptions) {
    super();
    if (!/^[^\s/]{1,15}$/.test(options.interface))
      throw new RangeError(`interface: not a device name (1 to 15 characters): ${JSON.stringify(options.interface)}`);
    const interval = options.advertiseInterval ?? 10;
    if (!(interval >= 0 && interval <= 1800)) throw new RangeError(`advertiseInterval must be 0..1800 s`);
    this.clock = options.clock ?? systemClock;
    const mac = options.linkLayerAddress ?? macOf(options.interface);
    this.advertisement = encodeRouterAdvertisement(mac ? { sourceLinkLayerAddress: mac } : {});
    this.solicitation = encodeRouterSolicitation(mac);
  }

  /** The neighbour's link-local address, once heard. */
  get neighbor(): string | undefined {
    return this.found;
  }

  /**
   * Opens the transport, solicits, advertises, and keeps advertising every interval until {@link close}.
   * @throws whatever opening the transport throws (no such interface, no CAP_NET_RAW, not Linux)
   */
  async start(): Promise<void> {
    if (this.transport || this.closed) return;
    const open = this.options.transport ?? (() => openIcmpv6Transport(this.options.interface));
    const t = await open();
    if (this.closed) {
      t.close();
      return;
    }
    this.transport = t;
    t.onMessage((message, source) => this.onMessage(message, source));
    t.onError((err) => this.emit('warning', `receiving on ${this.options.interface} failed`, err));
    this.send(this.solicitation, ALL_ROUTERS);
    this.advertise();
  }

  /** Resolves with the neighbour's address once heard (at once if it was), rejects after `timeoutMs` or on close. */
  waitNeighbor(timeoutMs = 60_000): Promise<string> {
    if (this.found) return Promise.resolve(this.found);
    return new Promise((resolve, reject) => {
      const timer = this.clock.setTimeout(() => {
        this.off('neighbor', onNeighbor);
        reject(new Error(`no router advertisement on ${this.options.interface} within ${timeoutMs} ms`));
      }, timeoutMs);
      const onNeighbor = (address: string) => {
        this.clock.clearTimeout(timer);
        resolve(address);
      };
      this.once('neighbor', onNeighbor);
    });
  }

  /** Stops advertising and closes the transport. Idempotent. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.transport?.close();
    this.transport = undefined;
  }

  private advertise(): void {
    this.timer = undefined;
    if (this.closed) return;
    const interval = this.options.advertiseInterval ?? 10;
    if (interval === 0) return;
    this.sendAdvertisement();
    this.timer = this.clock.setTimeout(() => this.advertise(), interval * 1000);
  }

  private sendAdvertisement(): void {
    if ((this.options.advertiseInterval ?? 10) === 0) return;
    this.lastAnswer = this.clock.now();
    if (this.send(this.advertisement, ALL_NODES)) this.advertisementsSent++;
  }

  private send(message: Uint8Array, destination: string): boolean {
    try {
      this.transport?.send(message, destination);
      return this.transport !== undefined;
    } catch (err) {
      this.emit('warning', `sending to ${destination}%${this.options.interface} failed`, err as Error);
      return false;
    }
  }

  private answerSoon(): void {
    if (this.clock.now() - this.lastAnswer >= MIN_ANSWER_GAP_MS) this.sendAdvertisement();
  }

  private onMessage(message: Uint8Array, source: string): void {
    if (this.closed) return;
    let m: ReturnType<typeof decodeNdMessage>;
    try {
      m = decodeNdMessage(message);
    } catch {
      this.discarded++;
      return;
    }
    if (!m) return;
    if (m.type === 'router-solicitation') {
      this.answerSoon();
      return;
    }
    // RFC 4861 §6.1.2: a Router Advertisement's source is a link-local address
    if (!isLinkLocal(source)) {
      this.discarded++;
      return;
    }
    const now = this.clock.now();
    if (source === this.found) {
      this.lastHeard = now;
      return;
    }
    const timeout = (this.options.neighborTimeout ?? 60) * 1000;
    if (this.found === undefined || now - this.lastHeard >= timeout) {
      if (this.found !== undefined)
        this.emit(
          'warning',
          `${this.found} silent on ${this.options.interface} for ${timeout / 1000} s: now ${source}`,
        );
      this.found = source;
      this.lastHeard = now;
      this.others.clear();
      // It may not have heard us yet (it learns our address the same way): advertise now rather than in up to 10 s.
      this.answerSoon();
      this.emit('neighbor', source);
      return;
    }
    if (!this.others.has(source) && this.others.size < MAX_OTHER_ROUTERS) {
      this.others.add(source);
      this.emit(
        'warning',
        `a second router (${source}) advertises on ${this.options.interface}: BGP unnumbered keeps ${this.found}`,
      );
    }
  }
}

function macOf(ifname: string): string | undefined {
  const mac = networkInterfaces()[ifname]?.[0]?.mac;
  return mac && mac !== '00:00:00:00:00:00' ? mac : undefined;
}
