import { EventEmitter } from 'eventemitter3';
import { canonicalIp } from '../codec/address.js';
import { systemTimers } from '../timers.js';
import type { FrameTransport } from '../transport/frame-transport.js';
import { createPacketTransport, type PacketTransportOptions } from '../transport/packet-transport.js';
import {
  InterfaceResponder,
  type InterfaceStats,
  type ResponderBehaviourOptions,
  type ResponderEvents,
} from './interface-responder.js';
import { type IpCounters, Layer2Counters } from './layer2-counters.js';
import {
  type InterfaceSource,
  interfaceEligibility,
  linuxInterfaces,
  METALLB_EXCLUDED_INTERFACES,
  type NetInterface,
} from './network-interfaces.js';

/** Options of {@link createResponder}. */
export interface ResponderOptions extends ResponderBehaviourOptions {
  /** Interfaces to serve: `'all'` (default) or names. Named interfaces bypass `exclude` but not the other checks. */
  interfaces?: 'all' | string[];
  /** Name patterns skipped in `'all'` mode (default {@link METALLB_EXCLUDED_INTERFACES}). */
  exclude?: readonly RegExp[];
  /** Interface lister (default {@link linuxInterfaces}). */
  interfaceSource?: InterfaceSource;
  /** Opens a transport for an interface (default: {@link createPacketTransport} on its name). */
  transportFactory?: (i: NetInterface) => FrameTransport;
  /** Options of the default AF_PACKET transports (receive mode, buffer size …), when no `transportFactory` is given. */
  transportOptions?: PacketTransportOptions;
  /**
   * How often to re-list interfaces to react to interfaces appearing, disappearing, going down or being enslaved, in
   * ms (default 5000; MetalLB rescans every 10 s). 0 disables polling; call {@link Responder.rescan} yourself. A link
   * that flapped between two scans (its carrier change counter moved) gets a gratuitous round for every IP.
   */
  scanIntervalMs?: number;
  /**
   * Source address of NAs: `'target'` (default, what the Linux kernel does for its own addresses) or `'link-local'`
   * (MetalLB). ndisc6 and other tools that match the reply's scope ignore a link-local-sourced NA for a global target,
   * which is why the default differs from MetalLB.
   */
  naSource?: 'target' | 'link-local';
}

/** Options of {@link Responder.announce}. */
export interface AnnounceOptions {
  /** Restrict this IP to these interfaces (MetalLB `L2Advertisement.interfaces`); default: every served interface. */
  interfaces?: string[];
}

/** Events of {@link Responder}: those of {@link InterfaceResponder} plus interface changes. */
export interface MultiResponderEvents extends ResponderEvents {
  /** Started serving an interface. */
  'interface-added': (e: { interface: string; mac: string; arp: boolean; ndp: boolean }) => void;
  /** Stopped serving an interface (gone, down, enslaved, or its MAC/ifindex changed). */
  'interface-removed': (e: { interface: string; reason: string }) => void;
}

interface Served {
  info: NetInterface;
  responder: InterfaceResponder;
}

/**
 * A layer-2 responder for a whole node: one {@link InterfaceResponder} per eligible interface, kept in step with the
 * interfaces as they come and go. Create it with {@link createResponder}.
 */
export class Responder extends EventEmitter<MultiResponderEvents> {
  private readonly opts: ResponderOptions;
  private readonly source: InterfaceSource;
  private readonly counterStore = new Layer2Counters();
  private readonly served = new Map<string, Served>();
  private readonly ips = new Map<string, AnnounceOptions>();
  private scanTimer: unknown;
  private scanning: Promise<void> | undefined;
  private closed = false;
  private readonly firstScan: Promise<void>;

  /** @internal Use {@link createResponder}. */
  constructor(options: ResponderOptions = {}) {
    super();
    this.opts = options;
    this.source = options.interfaceSource ?? linuxInterfaces();
    this.firstScan = this.rescan();
    this.scheduleScan();
  }

  /** Resolves after the first interface scan (interfaces are then being served). */
  ready(): Promise<void> {
    return this.firstScan;
  }

  /** Starts answering for `ip` on its interfaces and sends the gratuitous burst on each. */
  announce(ip: string, options: AnnounceOptions = {}): void {
    const c = canonicalIp(ip);
    if (c === undefined) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
    this.ips.set(c, options);
    for (const [name, s] of this.served) {
      if (this.allowed(c, name)) s.responder.announce(c);
      else s.responder.withdraw(c);
    }
  }

  /** Stops answering for `ip` everywhere. */
  withdraw(ip: string): void {
    const c = canonicalIp(ip);
    if (c === undefined || !this.ips.delete(c)) return;
    for (const s of this.served.values()) s.responder.withdraw(c);
  }

  /** Announced IPs. */
  announced(): string[] {
    return [...this.ips.keys()];
  }

  /** Sends a gratuitous round now (and restarts the burst) for `ip` or all IPs, on every interface. */
  reannounce(ip?: string): void {
    for (const s of this.served.values()) s.responder.reannounce(ip);
  }

  /** Served interfaces. */
  interfaces(): string[] {
    return [...this.served.keys()];
  }

  /** Per-IP counters (MetalLB metric semantics), summed over interfaces. */
  counters(): Record<string, IpCounters> {
    return this.counterStore.snapshot();
  }

  /** Prometheus text exposition of the per-IP counters with MetalLB's metric names. */
  metrics(): string {
    return this.counterStore.prometheus();
  }

  /** Frame-level counters per served interface. */
  stats(): Record<string, InterfaceStats> {
    const out: Record<string, InterfaceStats> = {};
    for (const [n, s] of this.served) out[n] = s.responder.stats();
    return out;
  }

  /** Re-lists interfaces now; adds, removes or re-creates interface responders. */
  rescan(): Promise<void> {
    if (this.scanning) return this.scanning;
    this.scanning = this.scan().finally(() => {
      this.scanning = undefined;
    });
    return this.scanning;
  }

  /** Stops everything and closes every transport. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.scanTimer !== undefined) (this.opts.timers ?? systemTimers).clearTimeout(this.scanTimer);
    await this.scanning?.catch(() => {});
    const all = [...this.served.values()];
    this.served.clear();
    await Promise.all(all.map((s) => s.responder.close()));
  }

  private allowed(ip: string, iface: string): boolean {
    const only = this.ips.get(ip)?.interfaces;
    return !only || only.includes(iface);
  }

  private scheduleScan(): void {
    const ms = this.opts.scanIntervalMs ?? 5000;
    if (ms <= 0 || this.closed) return;
    const timers = this.opts.timers ?? systemTimers;
    this.scanTimer = timers.setTimeout(() => {
      this.rescan()
        .catch(() => {})
        .finally(() => this.scheduleScan());
    }, ms);
  }

  private async scan(): Promise<void> {
    let list: NetInterface[];
    try {
      list = await this.source.list();
    } catch (error) {
      this.opts.log?.({ level: 'warn', msg: 'interface scan failed', error: (error as Error).message });
      return;
    }
    if (this.closed) return;
    const wanted = this.opts.interfaces ?? 'all';
    const exclude = this.opts.exclude ?? METALLB_EXCLUDED_INTERFACES;
    const seen = new Set<string>();
    for (const i of list) {
      const explicit = wanted !== 'all';
      if (explicit && !wanted.includes(i.name)) continue;
      const e = interfaceEligibility(i, { explicit, exclude });
      const current = this.served.get(i.name);
      if (!e.eligible) {
        if (current) await this.remove(i.name, e.reason);
        continue;
      }
      seen.add(i.name);
      if (current && (current.info.index !== i.index || current.info.mac !== i.mac)) {
        await this.remove(i.name, 'ifindex or MAC changed');
      } else if (current) {
        const before = current.info.carrierChanges;
        current.info = i;
        // The link flapped between two scans: switches flushed their FDB for this port, so announce again.
        if (before !== undefined && i.carrierChanges !== undefined && i.carrierChanges !== before) {
          this.opts.log?.({ level: 'info', msg: 'carrier changed, re-announcing', interface: i.name });
          current.responder.reannounce();
        }
        continue;
      }
      this.add(i, e.arp, e.ndp);
    }
    for (const name of [...this.served.keys()]) if (!seen.has(name)) await this.remove(name, 'gone');
  }

  private add(info: NetInterface, arp: boolean, ndp: boolean): void {
    let transport: FrameTransport;
    try {
      transport = this.opts.transportFactory
        ? this.opts.transportFactory(info)
        : createPacketTransport(info.name, this.opts.transportOptions);
    } catch (error) {
      this.opts.log?.({
        level: 'warn',
        msg: 'cannot open interface',
        interface: info.name,
        error: (error as Error).message,
      });
      this.emit('error', { interface: info.name, error: error as Error });
      return;
    }
    const {
      interfaces: _i,
      exclude: _e,
      interfaceSource: _s,
      transportFactory: _t,
      transportOptions: _o,
      scanIntervalMs: _m,
      naSource,
      ...behaviour
    } = this.opts;
    const r = new InterfaceResponder({
      ...behaviour,
      transport,
      arp,
      ndp,
      counters: this.counterStore,
      events: this,
      ...(naSource === 'link-local' && info.ipv6LinkLocal ? { ipv6LinkLocal: info.ipv6LinkLocal } : {}),
    });
    this.served.set(info.name, { info, responder: r });
    this.opts.log?.({ level: 'info', msg: 'interface added', interface: info.name, mac: transport.mac, arp, ndp });
    this.emit('interface-added', { interface: info.name, mac: transport.mac, arp, ndp });
    for (const ip of this.ips.keys()) if (this.allowed(ip, info.name)) r.announce(ip);
  }

  private async remove(name: string, reason: string): Promise<void> {
    const s = this.served.get(name);
    if (!s) return;
    this.served.delete(name);
    this.opts.log?.({ level: 'info', msg: 'interface removed', interface: name, reason });
    this.emit('interface-removed', { interface: name, reason });
    await s.responder.close().catch(() => {});
  }
}

/**
 * Creates a node-wide layer-2 responder serving `'all'` eligible interfaces (MetalLB's rules) or the named ones.
 * Needs CAP_NET_RAW for the default AF_PACKET transports.
 * @example
 * ```ts
 * const r = createResponder({ interfaces: ['eth0'] });
 * await r.ready();
 * r.announce('192.0.2.10');
 * r.announce('2001:db8::10');
 * console.log(r.counters()['192.0.2.10']);
 * await r.close();
 * ```
 */
export function createResponder(options: ResponderOptions = {}): Responder {
  return new Responder(options);
}
