import { compileLabelSelector, type PoolStats } from '@ingot/allocator';
import { sameAssignments } from './assignments.js';
import type { BGPPeer, IngotConfig, ServiceResource } from './config/resources.js';
import { type ConvergeResult, ServiceController } from './controller/service-controller.js';
import type { Logger } from './logger.js';
import type { MetricSample } from './metrics.js';
import {
  type AllocatedService,
  type BgpAnnouncement,
  type NodeInfo,
  planAnnouncements,
} from './speaker/announcement-plan.js';

/** Where layer-2 announcements go: an `@ingot/arp` Responder, or a dry-run logger. */
export interface Layer2Backend {
  /** Start answering ARP/NDP for `ip` (on `interfaces`, or every served interface when absent/empty). */
  announce(ip: string, options?: { interfaces?: string[] }): void;
  /** Stop answering for `ip`. */
  withdraw(ip: string): void;
  /** Send a gratuitous round now for every announced IP (after a partition heals, MetalLB #584). */
  reannounce?(): void;
  /** Releases sockets and timers. */
  close?(): Promise<void>;
  /** MetalLB's layer-2 counters as Prometheus text (`metallb_layer2_*`). */
  metrics?(): string;
  /** Where ARP/NDP are answered (live backends: the answer thread, or the event loop after it failed), for `ingot status`. */
  status?(): object;
}

/** Where BGP announcements go: an `@ingot/bgp` speaker, or a dry-run logger. */
export interface BgpBackend {
  /** The BGPPeers of the configuration in force (sessions are added, changed and removed to match). */
  setPeers(peers: readonly BGPPeer[]): void;
  /** Advertise (or re-advertise with new attributes) a prefix. */
  announce(announcement: BgpAnnouncement): void;
  /** Withdraw a prefix. */
  withdraw(prefix: string): void;
  /** Closes sessions (with a Cease NOTIFICATION). */
  close?(): Promise<void>;
  /** Session gauges and counters under MetalLB's names (`metallb_bgp_*`). */
  metrics?(): MetricSample[];
  /** Sessions and their states, for `ingot status`. */
  peers?(): BgpPeerView[];
}

/** One BGP session as `ingot status` shows it. */
export interface BgpPeerView {
  /** BGPPeer name. */
  name: string;
  /** `address:port`. */
  address: string;
  /** Peer AS. */
  asn: number;
  /** RFC 4271 state (`Idle` … `Established`). */
  state: string;
  /** Prefixes currently advertised to it. */
  prefixesAdvertised: number;
}

/** Options of {@link Daemon}. */
export interface DaemonOptions {
  /** This node's name (its memberlist member name). */
  nodeName: string;
  /**
   * This node's labels; when given, BGPPeers are filtered by their nodeSelectors here (standalone). Kubernetes mode
   * leaves it unset and filters with the Node object itself.
   */
  nodeLabels?: Record<string, string>;
  /** Structured logger. */
  log: Logger;
  /** Layer-2 backend. */
  layer2: Layer2Backend;
  /** BGP backend. */
  bgp: BgpBackend;
  /** Live nodes (from gossip membership); default: only this node. */
  members?: () => NodeInfo[];
  /**
   * Whether this node allocates now (standalone: the elected controller node). When false the daemon never converges
   * services itself; it announces the assignments given to {@link Daemon.setAssignments}. @default always
   */
  allocating?: () => boolean;
  /** Called after a reconcile changed the assignments this node allocated (to persist and replicate them). */
  onAssignments?: (services: Record<string, ServiceState>) => void;
  /** Local delivery of service IPs (standalone data path): told the IPs this node attracts traffic for. */
  localDelivery?: LocalDelivery;
  /**
   * How long an IP this node stopped announcing over layer 2 stays in local delivery, in ms: neighbours keep sending
   * to this node until the new owner's first gratuitous round reaches them, and those requests are served meanwhile
   * instead of dropped (issue 17). @default 2000
   */
  handoverDrainMs?: number;
  /**
   * Also deliver locally, in advance, the layer-2 IPs this node is the successor of (the `fast` failover profile): a
   * takeover then only has to announce, not wait for `ip` to add the address. Harmless on `lo` (arp_ignore keeps the
   * kernel from answering ARP for it; traffic only comes once this node announces). Only for a data path that keeps
   * non-owned IPs on `lo`. @default false
   */
  standbyLayer2?: boolean;
}

/** Makes the node accept traffic for the service IPs it announces (e.g. adds them to `lo`). */
export interface LocalDelivery {
  /**
   * The complete set of service IPs this node announces now (layer-2 owner or BGP speaker, and IPs still draining
   * after a handover), and `layer2`: the ones it owns over layer 2 now, with their L2Advertisement's interfaces (empty =
   * any), which a data path may put on the announcing interface. When it returns a promise, new layer-2 announcements
   * wait for it, so no neighbour is pointed at this node before the node accepts the traffic.
   */
  sync(ips: readonly string[], layer2?: ReadonlyMap<string, readonly string[]>): void | Promise<void>;
}

/** One row of {@link Daemon.status}: a service, its IPs and who announces them. */
export interface ServiceStatusRow {
  /** Service key `namespace/name`. */
  service: string;
  /** Assigned IPs (empty when pending). */
  ips: string[];
  /** Pool the IPs came from. */
  pool?: string;
  /** `layer2`, `bgp`, `layer2+bgp`, or `none` when no advertisement selects it. */
  protocol: string;
  /** Layer 2: the owner node of each IP. */
  owners: Record<string, string>;
  /** Why it is not announced (MetalLB reason), or why it has no IP. */
  reason?: string;
  /** Whether this node announces any of its IPs. */
  announcedHere: boolean;
}

/** The state of one service after the last reconcile. */
export interface ServiceState {
  /** IPs in `status.loadBalancer.ingress`. */
  ips: string[];
  /** `metallb.io/ip-allocated-from-pool`. */
  pool?: string;
}

/**
 * The controller and the speaker in one process, for a standalone deployment: Services come from the configuration,
 * statuses are kept in memory, and every change (configuration, membership) re-converges every service and re-plans
 * the announcements, applying only the difference to the backends.
 */
export class Daemon {
  private controller = new ServiceController();
  private lastPlan: ReturnType<typeof planAnnouncements> | undefined;
  private lastMembers = new Set<string>();
  private readonly statuses = new Map<string, ServiceState>();
  private config: IngotConfig | undefined;
  private readonly layer2Announced = new Map<string, { key: string; service: string }>();
  private readonly bgpAnnounced = new Map<string, { key: string; service: string }>();
  private reconcileErrors = 0;
  /** Set by {@link Daemon.stopLayer2}: the IPs withdrawn then, still delivered locally until the process ends. */
  private layer2Stopped: Set<string> | undefined;
  /** IPs withdrawn from layer 2 that local delivery keeps for {@link DaemonOptions.handoverDrainMs}, with their timers. */
  private readonly draining = new Map<string, ReturnType<typeof setTimeout>>();
  /** What the last plan delivers locally, without the draining IPs. */
  private lastLocal: string[] = [];
  /** What the last plan owns over layer 2 here: IP -> its L2Advertisement's interfaces. */
  private lastLayer2 = new Map<string, readonly string[]>();

  constructor(private readonly options: DaemonOptions) {}

  /**
   * Graceful stop, before leaving the cluster: withdraws every layer-2 announcement at once (the backend cancels the
   * pending gratuitous bursts, so nothing more is sent for these IPs) and announces none from now on, whatever
   * reconciles follow. The IPs stay in local delivery, so clients whose neighbour entries still point here are served
   * until the new owner's gratuitous round moves them (a data path that put them on the announcing interface moves
   * them off it: the returned promise resolves once that was attempted, so the caller leaves only then). Idempotent.
   */
  stopLayer2(): Promise<void> {
    if (this.layer2Stopped) return Promise.resolve();
    this.layer2Stopped = new Set(this.layer2Announced.keys());
    for (const ip of this.layer2Stopped) {
      this.options.layer2.withdraw(ip);
      this.options.log.info('layer2 withdrawn', { ip, reason: 'stopping' });
    }
    this.layer2Announced.clear();
    // No layer-2 ownership any more: a data path that put the IPs on the announcing interface takes them off it (the
    // kernel stops answering ARP/NDP for them) before the caller leaves the cluster; they stay delivered locally.
    this.lastLayer2 = new Map();
    for (const ip of this.layer2Stopped) if (!this.lastLocal.includes(ip)) this.lastLocal.push(ip);
    return Promise.resolve(this.syncDelivery()).catch(() => {});
  }

  /** Tells local delivery the last plan's IPs plus the draining ones, and the layer-2 owned ones. */
  private syncDelivery(): void | Promise<void> {
    return this.options.localDelivery?.sync(
      [...new Set([...this.lastLocal, ...this.draining.keys()])],
      this.lastLayer2,
    );
  }

  /** Applies a validated configuration: replaces pools (re-homing or evicting IPs) and re-converges everything. */
  applyConfig(config: IngotConfig): void {
    const result = this.controller.setPools(config.pools);
    for (const e of result.evicted)
      this.options.log.warn('service IPs are in no pool any more; released', { service: e.serviceKey, ips: e.ips });
    this.config = config;
    // Sessions exist only on the nodes a BGPPeer's nodeSelectors match (empty = every node), as in MetalLB. Without
    // nodeLabels the caller has filtered already (Kubernetes mode reads the Node object).
    const labels = this.options.nodeLabels;
    this.options.bgp.setPeers(
      config.bgpPeers.filter(
        (p) =>
          !labels ||
          p.nodeSelectors.length === 0 ||
          p.nodeSelectors.some((sel) => {
            const compiled = compileLabelSelector(sel);
            return compiled.ok && compiled.matches(labels);
          }),
      ),
    );
    this.reconcile();
  }

  /**
   * Replaces the assignments (standalone: adopted from the allocating node or the state directory). The allocator is
   * rebuilt so that the next converge starts from exactly these IPs.
   */
  setAssignments(services: Record<string, ServiceState>): void {
    this.statuses.clear();
    for (const [key, st] of Object.entries(services)) if (st.ips.length > 0) this.statuses.set(key, { ...st });
    this.controller = new ServiceController();
    if (this.config) this.controller.setPools(this.config.pools);
  }

  /**
   * Re-converges every service (when allocating) and re-applies announcements (call on membership changes too). Never
   * throws: a failure (e.g. from assignments read off the network) is logged and counted in
   * `ingot_reconcile_errors_total`, and the announcements made so far stay.
   */
  reconcile(): void {
    const config = this.config;
    if (!config) return;
    try {
      if (this.options.allocating?.() ?? true) this.converge(config);
      this.announce(config);
    } catch (err) {
      this.reconcileErrors++;
      this.options.log.error('reconcile failed', { error: (err as Error).message });
    }
  }

  private converge(config: IngotConfig): void {
    const before = Object.fromEntries(this.statuses);
    const live = new Set(config.services.map((s) => s.key));
    for (const key of [...this.statuses.keys()]) {
      if (live.has(key)) continue;
      this.controller.delete(key);
      this.statuses.delete(key);
    }
    // Services holding IPs first, so a pending service can never take an IP an existing one holds (MetalLB #1774).
    const order = [...config.services].sort((a, b) => this.statusIps(b).length - this.statusIps(a).length);
    let pending = order;
    for (let pass = 0; pass < 3 && pending.length > 0; pass++) {
      let again = false;
      for (const svc of pending) again = this.convergeOne(svc) || again;
      pending = again ? order.filter((s) => this.statusIps(s).length === 0 && s.type === 'LoadBalancer') : [];
    }
    const after = Object.fromEntries(this.statuses);
    if (!sameAssignments(after, before)) this.options.onAssignments?.(after);
  }

  /** The state of every service after the last reconcile. */
  services(): Record<string, ServiceState> {
    return Object.fromEntries(this.statuses);
  }

  /** Allocator counters per pool. */
  poolStats(): PoolStats[] {
    return this.controller.allocator.stats();
  }

  /**
   * Metric samples under MetalLB's names: the allocator's gauges, `metallb_speaker_announced` for every announcement of
   * this node, and the BGP backend's session metrics. Layer-2 counters come from the layer-2 backend's own text.
   */
  metrics(): MetricSample[] {
    const node = this.options.nodeName;
    const samples: MetricSample[] = [...this.controller.allocator.metrics()];
    for (const [ip, a] of this.layer2Announced)
      samples.push({
        name: 'metallb_speaker_announced',
        labels: { service: a.service, protocol: 'layer2', node, ip },
        value: 1,
      });
    // MetalLB labels BGP announcements with the service IP, not the advertised prefix (which may aggregate several).
    const bgpIps = new Set<string>();
    for (const [prefix, a] of this.bgpAnnounced) {
      const v6 = prefix.includes(':');
      for (const ip of this.statuses.get(a.service)?.ips ?? []) {
        if (ip.includes(':') !== v6 || bgpIps.has(`${a.service} ${ip}`)) continue;
        bgpIps.add(`${a.service} ${ip}`);
        samples.push({
          name: 'metallb_speaker_announced',
          labels: { service: a.service, protocol: 'bgp', node, ip },
          value: 1,
        });
      }
    }
    samples.push(...(this.options.bgp.metrics?.() ?? []));
    samples.push({ name: 'ingot_reconcile_errors_total', labels: {}, value: this.reconcileErrors });
    return samples;
  }

  /** IPs this node currently answers ARP/NDP for. */
  layer2Announcements(): string[] {
    return [...this.layer2Announced.keys()];
  }

  /** Prefixes this node currently advertises over BGP. */
  bgpAnnouncements(): string[] {
    return [...this.bgpAnnounced.keys()];
  }

  private statusIps(svc: ServiceResource): string[] {
    return this.statuses.get(svc.key)?.ips ?? [];
  }

  private convergeOne(svc: ServiceResource): boolean {
    const before = this.statuses.get(svc.key);
    const result: ConvergeResult = this.controller.converge(svc, before?.ips ?? []);
    for (const e of result.events) {
      const log = e.type === 'Warning' ? this.options.log.warn : this.options.log.info;
      log(e.message, { service: svc.key, reason: e.reason, eventType: e.type });
    }
    if (result.ips.length > 0)
      this.statuses.set(svc.key, { ips: result.ips, ...(result.pool ? { pool: result.pool } : {}) });
    else this.statuses.delete(svc.key);
    return result.reprocessAll;
  }

  private announce(config: IngotConfig): void {
    const allocated: AllocatedService[] = [];
    for (const svc of config.services) {
      const st = this.statuses.get(svc.key);
      if (!st?.pool) continue;
      // Assignments adopted from elsewhere (a peer, the state directory) may predate the configuration in force: an IP
      // outside its pool is never announced.
      const pools = this.controller.allocator;
      if (st.ips.some((ip) => pools.poolForIp(ip) !== st.pool)) {
        this.options.log.warn('service IPs not in their pool in this configuration; not announced', {
          service: svc.key,
          ips: st.ips,
          pool: st.pool,
        });
        continue;
      }
      allocated.push({ service: svc, ips: st.ips, pool: st.pool });
    }
    const self = this.options.nodeName;
    const members = this.options.members?.() ?? [{ name: self, labels: this.options.nodeLabels ?? {} }];
    const plan = planAnnouncements(config, allocated, members, self);
    this.lastPlan = plan;
    const joined = members.some((m) => !this.lastMembers.has(m.name));
    const hadMembers = this.lastMembers.size > 0;
    this.lastMembers = new Set(members.map((m) => m.name));
    for (const s of plan.skipped)
      this.options.log.info('service not announced', { service: s.service, reason: s.reason });

    const wantL2 = new Map<string, { interfaces: string[]; service: string }>();
    if (!this.layer2Stopped)
      for (const a of plan.l2) if (a.node === self) wantL2.set(a.ip, { interfaces: a.interfaces, service: a.service });
    const wantBgp = new Map<string, BgpAnnouncement>();
    for (const a of plan.bgp) {
      const prev = wantBgp.get(a.prefix);
      wantBgp.set(a.prefix, prev ? mergeAnnouncements(prev, a) : a);
    }
    // The node must accept an IP's traffic before anything points at it: new announcements wait for local delivery.
    const local = new Set([...wantL2.keys(), ...(this.layer2Stopped ?? [])]);
    if (this.options.standbyLayer2 && !this.layer2Stopped)
      for (const a of plan.l2) if (a.successor === self) local.add(a.ip);
    for (const a of wantBgp.values()) for (const ip of this.statuses.get(a.service)?.ips ?? []) local.add(ip);
    this.lastLocal = [...local];
    this.lastLayer2 = new Map([...wantL2].map(([ip, a]) => [ip, a.interfaces]));
    for (const ip of this.layer2Announced.keys()) if (!wantL2.has(ip)) this.drain(ip);
    for (const ip of wantL2.keys()) {
      clearTimeout(this.draining.get(ip));
      this.draining.delete(ip);
    }
    const delivered = this.syncDelivery();
    const whenDelivered = (fn: () => void) => {
      if (delivered) void delivered.then(fn);
      else fn();
    };

    for (const ip of [...this.layer2Announced.keys()]) {
      if (wantL2.has(ip)) continue;
      this.options.layer2.withdraw(ip);
      this.layer2Announced.delete(ip);
      this.options.log.info('layer2 withdrawn', { ip });
    }
    for (const [ip, a] of wantL2) {
      const key = a.interfaces.join(',');
      const prev = this.layer2Announced.get(ip);
      if (prev?.key === key) {
        prev.service = a.service; // same announcement (perhaps still waiting for delivery): keep it
        continue;
      }
      const entry = { key, service: a.service };
      this.layer2Announced.set(ip, entry);
      whenDelivered(() => {
        if (this.layer2Announced.get(ip) !== entry) return; // withdrawn or changed meanwhile
        this.options.layer2.announce(ip, a.interfaces.length > 0 ? { interfaces: a.interfaces } : {});
        this.options.log.info(`announcing from node ${JSON.stringify(self)} with protocol "layer2"`, {
          service: a.service,
          ip,
          reason: 'nodeAssigned',
        });
      });
    }
    // A member (re)appeared, e.g. a partition healed: owners re-announce so every neighbour cache converges (MetalLB #584).
    if (hadMembers && joined && this.layer2Announced.size > 0 && this.options.layer2.reannounce) {
      this.options.log.info('a member (re)appeared; re-announcing layer2 IPs', {
        ips: [...this.layer2Announced.keys()],
      });
      this.options.layer2.reannounce();
    }

    for (const prefix of [...this.bgpAnnounced.keys()]) {
      if (wantBgp.has(prefix)) continue;
      this.options.bgp.withdraw(prefix);
      this.bgpAnnounced.delete(prefix);
      this.options.log.info('bgp withdrawn', { prefix });
    }
    for (const [prefix, a] of wantBgp) {
      const key = JSON.stringify({ ...a, service: undefined });
      const prev = this.bgpAnnounced.get(prefix);
      if (prev?.key === key) {
        prev.service = a.service;
        continue;
      }
      const entry = { key, service: a.service };
      this.bgpAnnounced.set(prefix, entry);
      whenDelivered(() => {
        if (this.bgpAnnounced.get(prefix) !== entry) return;
        this.options.bgp.announce(a);
        this.options.log.info(`announcing from node ${JSON.stringify(self)} with protocol "bgp"`, {
          service: a.service,
          prefix,
          reason: 'nodeAssigned',
        });
      });
    }
  }

  /** Keeps a withdrawn layer-2 IP in local delivery for the drain time, then syncs delivery without it. */
  private drain(ip: string): void {
    const ms = this.options.handoverDrainMs ?? 2000;
    const delivery = this.options.localDelivery;
    if (!delivery || ms <= 0) return;
    clearTimeout(this.draining.get(ip));
    const timer = setTimeout(() => {
      if (this.draining.get(ip) !== timer) return;
      this.draining.delete(ip);
      void this.syncDelivery();
    }, ms);
    timer.unref?.();
    this.draining.set(ip, timer);
  }

  /** The plan of the last reconcile: every IP's layer-2 owner and this node's BGP announcements (status objects). */
  announcementPlan(): ReturnType<typeof planAnnouncements> | undefined {
    return this.lastPlan;
  }

  /** Per service: IPs, pool, protocol, layer-2 owners, and why it is not announced — for `ingot status`. */
  status(): ServiceStatusRow[] {
    const config = this.config;
    if (!config) return [];
    const plan = this.lastPlan;
    return config.services
      .filter((svc) => svc.type === 'LoadBalancer')
      .map((svc) => {
        const st = this.statuses.get(svc.key);
        const l2 = plan?.l2.filter((a) => a.service === svc.key) ?? [];
        const bgp = plan?.bgp.some((a) => a.service === svc.key) ?? false;
        const bgpSelected = config.bgpAdvertisements.length > 0 && bgp;
        const protocol = l2.length > 0 && bgpSelected ? 'layer2+bgp' : l2.length > 0 ? 'layer2' : bgp ? 'bgp' : 'none';
        const skipped = plan?.skipped.find((x) => x.service === svc.key)?.reason;
        const row: ServiceStatusRow = {
          service: svc.key,
          ips: st?.ips ?? [],
          protocol,
          owners: Object.fromEntries(l2.map((a) => [a.ip, a.node])),
          announcedHere: l2.some((a) => a.node === this.options.nodeName) || bgp,
        };
        if (st?.pool) row.pool = st.pool;
        const reason = st ? skipped : 'noIPAllocated';
        if (reason) row.reason = reason;
        return row;
      });
  }
}

/** Two advertisements of one prefix (e.g. a shared IP): union of peers and communities, highest local preference. */
function mergeAnnouncements(a: BgpAnnouncement, b: BgpAnnouncement): BgpAnnouncement {
  const union = (x: string[], y: string[]) => [...new Set([...x, ...y])];
  return {
    service: a.service,
    prefix: a.prefix,
    peers: a.peers.length === 0 || b.peers.length === 0 ? [] : union(a.peers, b.peers),
    communities: union(a.communities, b.communities),
    largeCommunities: union(a.largeCommunities, b.largeCommunities),
    localPref: Math.max(a.localPref, b.localPref),
  };
}
