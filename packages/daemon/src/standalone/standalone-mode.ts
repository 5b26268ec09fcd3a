import { readFileSync, watch } from 'node:fs';
import type { Server } from 'node:http';
import { basename, dirname } from 'node:path';
import { parseAddressEntry, parseIp } from '@ingot/allocator';
import { type Backends, createBackends } from '../backends/create-backends.js';
import { layer2ReadyNotes } from '../backends/live-layer2.js';
import { ConfigStore } from '../config/config-store.js';
import { selectNode } from '../config/node-config.js';
import { parseConfig } from '../config/parse-config.js';
import type { ConfigIssue, IngotConfig } from '../config/resources.js';
import { Daemon } from '../daemon.js';
import type { DaemonMode } from '../daemon-mode.js';
import { DEFAULT_CONFIG_YAML } from '../default-config.js';
import type { Logger } from '../logger.js';
import { type MembershipSource, startMembership } from '../membership-source.js';
import { renderMetrics, type StatusRoutes } from '../metrics.js';
import { type RunningFastFailover, startFastFailover } from '../speaker/fast-failover.js';
import { ASSIGNMENTS_LABEL, AssignmentSync, fetchTableOverHttp, STATUS_LABEL } from './assignment-sync.js';
import { tableVersion } from './assignment-table.js';
import { LoopbackDelivery } from './loopback-delivery.js';
import {
  memberlistAddress,
  type NodeSettings,
  readSecret,
  resolveNodeSettings,
  type StandaloneOptions,
} from './node-settings.js';
import { type StatusDocument, serveStandaloneStatus } from './standalone-status.js';
import { advertisedStatusAddress, statusAddressProblem } from './status-address.js';
import { replicationKey, signBody } from './table-auth.js';
import { checkTable } from './table-check.js';

/**
 * After a graceful leave, how long the service IPs stay on `lo` (data path `local`): clients whose neighbour entry
 * still points here keep being served until the new owner's first gratuitous round reaches them. The same as the
 * Daemon's `handoverDrainMs` default: on a loaded machine the new owner's first round came 1.3 s after the stop (it
 * must see the leave, re-plan, add the IP to its `lo`, then send), and with 300 ms a client's SYN sent meanwhile
 * reached a node that had already dropped the IP, and waited 1 s for its retransmission (issue 17).
 */
const HANDOVER_DRAIN_MS = 2000;

/** A running standalone daemon. */
export interface StandaloneHandle {
  /** Re-reads the configuration file (SIGHUP). */
  reload(): void;
  /** Graceful stop: leave the membership, withdraw, remove local addresses, close sessions. */
  stop(): Promise<void>;
  /** The status document `GET /status` serves. */
  status(): StatusDocument;
}

/** What {@link StandaloneMode.start} built. */
interface Running {
  settings: NodeSettings;
  backends: Backends;
  delivery: LoopbackDelivery | undefined;
  sync: AssignmentSync;
  daemon: Daemon;
  servers: Server[];
}

/**
 * The controller and the speaker on this machine from a configuration file (MetalLB's resources plus Ingot's Node and
 * Service documents), without Kubernetes: allocation replicated through gossip and the state directory, layer-2 and
 * BGP announcements, the local data path, the status server, and reload on file change or {@link reload}.
 */
export class StandaloneMode implements DaemonMode, StandaloneHandle {
  private readonly log: Logger;
  private readonly source: string;
  private readonly store = new ConfigStore();
  private running: Running | undefined;
  private membership: MembershipSource | undefined;
  /** The `fast` failover profile (`--failover fast`, else Node `spec.failover: fast`), when on. */
  private fast: RunningFastFailover | undefined;
  /** The table adopted at start (nothing is allocated before). */
  private synced = false;
  /** The table version this node gossips. */
  private advertised = '0.';
  private lastIssues: ConfigIssue[] = [];
  private reconcileQueued = false;
  private watcher: ReturnType<typeof watch> | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: StandaloneOptions) {
    this.log = options.log;
    this.source = options.configFile ?? 'embedded default';
  }

  /** Reads the configuration, starts the backends, membership and status server, adopts the newest table, applies. */
  async start(): Promise<void> {
    const { log, source } = this;
    const first = parseConfig(this.readText());
    if (!first.ok) {
      for (const issue of first.issues) log.error('configuration invalid', { source, ...issue });
      throw new Error(`${source}: invalid configuration (${first.issues.length} issues)`);
    }
    for (const warning of first.warnings) log.warn('configuration warning', { source, ...warning });
    const s = resolveNodeSettings(this.options, first.config);
    const memberAddress = s.memberlist ? memberlistAddress(s.memberlist) : undefined;
    const statusProblem = statusAddressProblem(s.statusAddress, memberAddress);
    if (statusProblem) throw new Error(`status address: ${statusProblem}`);
    const advertisedStatus = advertisedStatusAddress(s.statusAddress, memberAddress);
    const secret = readSecret(s.memberlist);
    const tableKey = secret ? replicationKey(secret) : undefined;
    log.info('ingot starting', {
      version: this.options.version,
      pid: process.pid,
      node: s.name,
      nodeDocument: s.node ? s.node.name : null,
      announce: s.announce,
      dataPath: s.dataPath,
      failover: s.failover,
      statusAddress: s.statusAddress,
      stateDirectory: s.stateDirectory ?? null,
    });

    const backends = await createBackends({
      announce: s.announce,
      interfaces: s.interfaces,
      ...(this.options.realtimePriority !== undefined ? { realtimePriority: this.options.realtimePriority } : {}),
      bgp: { routerId: s.routerId, ...(s.sourceAddress ? { sourceAddress: s.sourceAddress } : {}) },
      log,
    });
    const config = () => this.store.current ?? first.config;
    const delivery =
      (s.dataPath === 'local' || s.dataPath === 'interface') && s.announce === 'live'
        ? new LoopbackDelivery({
            log: log.child('datapath'),
            mode: s.dataPath,
            interfaces: s.interfaces,
            // IPv6 leftovers of an earlier run carry no label: those inside a configured pool are ours.
            isServiceIp: (ip) => inPools(ip, config().pools),
          })
        : undefined;
    await delivery?.start();

    this.synced = s.memberlist === undefined;
    const gossipLabels = () => ({
      ...s.labels,
      [ASSIGNMENTS_LABEL]: this.advertised,
      [STATUS_LABEL]: advertisedStatus,
    });
    const sync = new AssignmentSync({
      node: s.name,
      ...(s.stateDirectory ? { stateDirectory: s.stateDirectory } : {}),
      log: log.child('assignments'),
      adopt: (table) => {
        daemon.setAssignments(table.services);
        daemon.reconcile();
      },
      advertise: (version) => {
        this.advertised = version;
        this.membership?.setLabels(gossipLabels());
      },
      fetchTable: (address) => fetchTableOverHttp(address, tableKey),
      check: (table) => checkTable(table, config()),
      // With Node documents in the fleet file, only those machines may allocate. On memberlist's wire the members may
      // include MetalLB speakers, which serve no /assignments: only members advertising Ingot's status address count.
      eligible: () => {
        const nodes = config().nodes;
        const configured = nodes.length > 0 ? new Set(nodes.map((n) => n.name)) : undefined;
        if (this.membership?.wire !== 'memberlist') return configured;
        const ingot = new Set([s.name]);
        for (const m of this.membership.members()) if (m.labels[STATUS_LABEL] !== undefined) ingot.add(m.name);
        return configured ? new Set([...ingot].filter((n) => configured.has(n))) : ingot;
      },
    });
    this.advertised = tableVersion(sync.table);
    const daemon = new Daemon({
      nodeName: s.name,
      nodeLabels: s.labels,
      log,
      layer2: backends.layer2,
      bgp: backends.bgp,
      // An owner the fast failover profile took over (provisionally) is left out of the layer-2 plan.
      members: () =>
        this.members(s)
          .filter((m) => !this.fast?.failover.excluded(m.name))
          .map((m) => ({ ...m, labels: stripIngotLabels(m.labels) })), // the address too: ADD-PATH next hops
      allocating: () => this.synced && sync.isAllocator(this.members(s)),
      onAssignments: (services) => sync.recordLocal(services),
      ...(delivery ? { localDelivery: delivery } : {}),
      // fast failover: the IPs this node would take over are on lo already (data path local only: `interface` would
      // make the kernel answer ARP for them on the announcing interface).
      ...(s.failover === 'fast' && s.dataPath === 'local' ? { standbyLayer2: true } : {}),
    });
    daemon.setAssignments(sync.table.services);
    const running: Running = { settings: s, backends, delivery, sync, daemon, servers: [] };
    this.running = running;
    this.followStore(running);

    if (s.memberlist) {
      this.membership = await startMembership({
        name: s.name,
        labels: gossipLabels(),
        bind: s.memberlist.bindAddress,
        join: s.memberlist.join,
        ...(secret !== undefined ? { secret } : {}),
        ...(s.memberlist.insecurePlaintext ? { insecurePlaintext: true } : {}),
        ...(s.memberlist.advertiseAddress ? { advertise: s.memberlist.advertiseAddress } : {}),
        ...(s.memberlist.wire ? { wire: s.memberlist.wire } : {}),
        log: log.child('memberlist'),
        onChange: () => this.onMembersChanged(running),
      });
      if (s.failover === 'fast')
        this.fast = await startFastFailover({
          self: s.name,
          membership: this.membership,
          ...(secret !== undefined ? { secret } : {}),
          plan: () => daemon.announcementPlan(),
          reconcile: () => daemon.reconcile(),
          reannounce: () => backends.layer2.reannounce?.(),
          log: log.child('failover'),
          ...(this.options.realtimePriority !== undefined ? { realtimePriority: this.options.realtimePriority } : {}),
        });
    } else if (s.failover === 'fast') {
      log.warn('failover profile fast needs gossip membership (spec.memberlist or --memberlist-bind); not started', {
        node: s.name,
      });
    }

    running.servers = await serveStandaloneStatus(
      {
        statusAddress: s.statusAddress,
        localStatusAddress: s.localStatusAddress,
        required: s.statusExplicit || s.memberlist !== undefined,
      },
      this.localRoutes(running),
      { assignments: () => sync.table, ...(tableKey ? { sign: (body: string) => signBody(tableKey, body) } : {}) },
      log,
    );

    // Adopt the newest table the members hold before allocating anything, so a restarted node never re-allocates.
    if (this.membership) {
      await sync.observe(this.members(s));
      this.synced = true;
      sync.claim(this.members(s));
    }
    this.store.apply(first.config);
    this.watchConfigFile();
  }

  /** Re-reads the configuration file (or the embedded default); an invalid one is logged and not applied. */
  reload(): void {
    this.log.info('reloading configuration', { source: this.source });
    this.load();
  }

  /** The status document `GET /status` serves. */
  status(): StatusDocument {
    const r = this.started();
    const s = r.settings;
    return {
      node: s.name,
      version: this.options.version,
      announce: s.announce,
      controller: r.sync.allocatorOf(this.members(s)),
      config: {
        source: this.source,
        loaded: this.store.current !== undefined,
        stale: this.store.stale,
        issues: this.lastIssues,
      },
      assignments: { generation: r.sync.table.generation, writer: r.sync.table.writer },
      services: r.daemon.status(),
      peers: r.backends.bgp.peers?.() ?? [],
      members: this.membership?.view() ?? [{ name: s.name, state: 'alive', address: '-' }],
      localAddresses: r.delivery?.addresses() ?? [],
      ...(r.backends.layer2.status ? { layer2: r.backends.layer2.status() } : {}),
    };
  }

  /** Graceful stop: withdraw, leave the membership, keep `lo` a moment for clients, close sessions and servers. */
  stop(): Promise<void> {
    const r = this.running;
    this.stopping ??= (async () => {
      this.watcher?.close();
      clearTimeout(this.debounce);
      if (!r) return;
      // Withdraw first (issue 17): pending gratuitous bursts are cancelled and nothing more is sent for our IPs,
      // so the new owners' first round, sent once they see us leave, is the last word on the segment. Then leave.
      await r.daemon.stopLayer2();
      // Failover profile fast: the heartbeats stop and the successors of our IPs are told `leaving` directly, so they
      // take the IPs over at once instead of when the gossip leave reaches them; it follows once they acknowledged.
      await this.fast?.failover.leave();
      await this.membership?.close();
      await r.backends.layer2.close?.();
      // lo keeps the IPs a moment longer: clients still pointed here are served until the new owner's round arrives.
      if (this.membership && r.delivery) await new Promise((resolve) => setTimeout(resolve, HANDOVER_DRAIN_MS));
      // The heartbeat thread answered probes until now (its heartbeats stopped with `leaving`).
      await this.fast?.close();
      await r.delivery?.close();
      await r.backends.bgp.close?.();
      for (const server of r.servers) server.close();
    })();
    return this.stopping;
  }

  private started(): Running {
    if (!this.running) throw new Error('the standalone daemon has not started');
    return this.running;
  }

  private readText(): string {
    return this.options.configFile ? readFileSync(this.options.configFile, 'utf8') : DEFAULT_CONFIG_YAML;
  }

  private members(s: NodeSettings) {
    return this.membership?.members() ?? [{ name: s.name, labels: s.labels }];
  }

  /** Adopt the newest acceptable table, then take it over when this node has become the allocator. */
  private resync(r: Running): void {
    void r.sync.observe(this.members(r.settings)).then(() => {
      if (this.synced) r.sync.claim(this.members(r.settings));
    });
  }

  private onMembersChanged(r: Running): void {
    if (this.reconcileQueued) return;
    this.reconcileQueued = true;
    setImmediate(() => {
      this.reconcileQueued = false;
      r.daemon.reconcile();
      this.resync(r);
    });
  }

  /** Applies each configuration the store accepts to the daemon, and logs what it warns about and rejects. */
  private followStore(r: Running): void {
    const { log, source } = this;
    this.store.on('applied', (config) => {
      this.lastIssues = [];
      const node = selectNode(config.nodes, r.settings.name);
      if (JSON.stringify(node ?? null) !== JSON.stringify(r.settings.node ?? null))
        log.warn('the Node document changed; restart the daemon to apply node settings', { node: r.settings.name });
      log.info('configuration applied', {
        source,
        pools: config.pools.map((p) => ({ name: p.name, addresses: p.addresses })),
        l2Advertisements: config.l2Advertisements.length,
        bgpAdvertisements: config.bgpAdvertisements.length,
        bgpPeers: config.bgpPeers.map((p) => `${p.peerAddress}:${p.peerPort}`),
        services: config.services.length,
      });
      r.daemon.applyConfig(config);
      // A table refused under the previous configuration (pools, Nodes) may be allowed now.
      if (this.membership) this.resync(r);
    });
    this.store.on('warned', (warnings) => {
      for (const warning of warnings) log.warn('configuration warning', { source, ...warning });
    });
    this.store.on('rejected', (issues) => {
      this.lastIssues = issues;
      for (const issue of issues) log.error('configuration rejected', { source, ...issue });
      log.error('configuration rejected; the last good configuration stays in force', {
        source,
        issues: issues.length,
      });
    });
  }

  private load(): void {
    try {
      this.store.applyText(this.readText());
    } catch (err) {
      this.log.error('configuration unreadable; the last good configuration stays in force', {
        source: this.source,
        error: (err as Error).message,
      });
    }
  }

  /** Reloads when the file changes. Watches the directory: editors and config management replace the file (rename). */
  private watchConfigFile(): void {
    const file = this.options.configFile;
    if (!file) return;
    this.watcher = watch(dirname(file), (_event, changed) => {
      if (changed !== null && changed !== basename(file)) return;
      clearTimeout(this.debounce);
      this.debounce = setTimeout(() => {
        this.log.info('configuration file changed; reloading', { file });
        this.load();
      }, 100);
    });
  }

  /** `/metrics`, `/healthz`, `/readyz` and `/status`. */
  private localRoutes(r: Running): StatusRoutes {
    const { sync, daemon, backends } = r;
    return {
      metrics: () =>
        renderMetrics([
          ...daemon.metrics(),
          { name: 'metallb_k8s_client_config_loaded_bool', labels: {}, value: this.store.current ? 1 : 0 },
          { name: 'metallb_k8s_client_config_stale_bool', labels: {}, value: this.store.stale ? 1 : 0 },
          { name: 'ingot_assignments_generation', labels: { writer: sync.table.writer }, value: sync.table.generation },
          ...Object.entries(sync.rejections()).map(([reason, value]) => ({
            name: 'ingot_assignments_rejected_total',
            labels: { reason },
            value,
          })),
          { name: 'ingot_members', labels: {}, value: this.members(r.settings).length },
          ...(this.membership?.metrics() ?? []),
          ...(this.fast?.failover.metrics() ?? []),
        ]) + (backends.layer2.metrics?.() ?? ''),
      healthy: () => this.store.current !== undefined,
      // Ready once configured, synced at start, and holding the newest table heard of from the allocator.
      ready: () => this.store.current !== undefined && this.synced && sync.upToDate(this.members(r.settings)),
      readyNotes: () => layer2ReadyNotes(backends.layer2.status?.()),
      status: () => this.status(),
    };
  }
}

/**
 * Starts a {@link StandaloneMode}: the standalone daemon behind `ingot run` without `--kubernetes`.
 * @returns the running daemon
 */
export async function runStandalone(options: StandaloneOptions): Promise<StandaloneHandle> {
  const mode = new StandaloneMode(options);
  await mode.start();
  return mode;
}

/** Is `ip` inside one of the pools' address entries? */
function inPools(ip: string, pools: IngotConfig['pools']): boolean {
  const addr = parseIp(ip);
  if (!addr) return false;
  return pools.some((pool) =>
    pool.addresses.some((entry) => {
      const parsed = parseAddressEntry(entry);
      return (
        parsed.ok &&
        parsed.prefixes.some((p) => p.family === addr.family && p.first <= addr.value && addr.value <= p.last)
      );
    }),
  );
}

/** Drops Ingot's own gossip labels before node selectors see the labels. */
function stripIngotLabels(labels: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith('ingot.dev/')));
}
