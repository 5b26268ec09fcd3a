import { BROADCAST_MAC, formatMac } from '../codec/address.js';
import type { FrameHandler, FrameTransport, TransportStats } from './frame-transport.js';
import { TransportError } from './frame-transport.js';

/** Options of {@link MemorySegment.attach}. */
export interface MemoryAttachOptions {
  /** Interface name reported by the transport (default `mem<N>`). */
  name?: string;
  /** MAC of the attached port. */
  mac: string;
  /** Receive every frame, not only broadcast, our MAC and joined multicast groups (like a capture). */
  promiscuous?: boolean;
}

/**
 * An in-memory Ethernet segment (a hub with per-port MAC filtering) joining any number of transports, for unit tests.
 * Delivery is synchronous: {@link FrameTransport.send} returns after every receiver's handler ran. A port receives
 * broadcast, frames to its MAC, multicast frames to groups it joined (plus `33:33:00:00:00:01`, all-nodes), or
 * everything when promiscuous. A port never receives its own frames.
 *
 * @example
 * ```ts
 * const seg = new MemorySegment();
 * const a = seg.attach({ mac: '02:00:00:00:00:01' });
 * const b = seg.attach({ mac: '02:00:00:00:00:02' });
 * b.receive((f) => console.log('b got', f.length));
 * a.send(encodeArpFrame({ destination: BROADCAST_MAC, source: a.mac }, { operation: 1, senderMac: a.mac,
 *   senderIp: '192.0.2.1', targetMac: ZERO_MAC, targetIp: '192.0.2.2' })); // b got 42
 * ```
 */
export class MemorySegment {
  private readonly ports = new Set<MemoryPort>();
  private readonly taps = new Set<FrameHandler>();
  private count = 0;

  /** Attaches a new port. */
  attach(options: MemoryAttachOptions): FrameTransport {
    const port = new MemoryPort(
      this,
      options.name ?? `mem${this.count++}`,
      options.mac.toLowerCase(),
      !!options.promiscuous,
    );
    this.ports.add(port);
    return port;
  }

  /** Observes every frame sent on the segment (a copy); returns a function that removes the tap. */
  tap(handler: FrameHandler): () => void {
    this.taps.add(handler);
    return () => this.taps.delete(handler);
  }

  /** @internal */
  deliver(from: MemoryPort, frame: Uint8Array): void {
    const dst = formatMac(frame, 0);
    for (const t of this.taps) t(frame.slice());
    for (const p of this.ports) {
      if (p === from || p.closed) continue;
      if (p.promiscuous || dst === BROADCAST_MAC || dst === p.mac || dst === '33:33:00:00:00:01' || p.joined(dst)) {
        p.deliver(frame.slice());
      }
    }
  }

  /** @internal */
  detach(port: MemoryPort): void {
    this.ports.delete(port);
  }
}

class MemoryPort implements FrameTransport {
  closed = false;
  private handler: FrameHandler | undefined;
  private readonly groups = new Map<string, number>();
  private readonly counters: TransportStats = { framesReceived: 0, framesSent: 0, sendErrors: 0, kernelDrops: 0 };

  constructor(
    private readonly segment: MemorySegment,
    readonly name: string,
    readonly mac: string,
    readonly promiscuous: boolean,
  ) {}

  send(frame: Uint8Array): void {
    if (this.closed) {
      this.counters.sendErrors++;
      throw new TransportError('send', 'ECLOSED', 0, 'transport closed');
    }
    if (frame.length < 14) {
      this.counters.sendErrors++;
      throw new TransportError('send', 'EINVAL', 22, 'frame shorter than an Ethernet header');
    }
    this.counters.framesSent++;
    this.segment.deliver(this, frame);
  }

  receive(handler: FrameHandler): void {
    this.handler = handler;
  }

  deliver(frame: Uint8Array): void {
    if (!this.handler) return;
    this.counters.framesReceived++;
    this.handler(frame);
  }

  joined(mac: string): boolean {
    return this.groups.has(mac);
  }

  addMembership(mac: string): void {
    const m = mac.toLowerCase();
    this.groups.set(m, (this.groups.get(m) ?? 0) + 1);
  }

  dropMembership(mac: string): void {
    const m = mac.toLowerCase();
    const n = (this.groups.get(m) ?? 0) - 1;
    if (n > 0) this.groups.set(m, n);
    else this.groups.delete(m);
  }

  /** Multicast groups currently joined (for tests). */
  memberships(): string[] {
    return [...this.groups.keys()];
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.segment.detach(this);
  }
}
