import { readFileSync, watch } from 'node:fs';
import type { Server } from 'node:http';
import { hostname, networkInterfaces } from 'node:os';
import { basename, dirname } from 'node:path';
import { parseAddressEntry, parseIp } from '@ingot/allocator';
import { createBackends } from '../backends/create-backends.js';
import { layer2ReadyNotes } from '../backends/live-layer2.js';
import { ConfigStore } from '../config/config-store.js';
import { DEFAULT_STATUS_ADDRESS, type NodeConfig, selectNode } from '../config/node-config.js';
import { parseConfig } from '../config/parse-config.js';
import type { ConfigIssue, IngotConfig } from '../config/resources.js';
import { type BgpBackend, Daemon } from '../daemon.js';
import { DEFAULT_CONFIG_YAML } from '../default-config.js';
import { parseHostPort } from '../host-port.js';
import type { Logger } from '../logger.js';
import { advertiseAddress, type MembershipSource, startMembership } from '../membership-source.js';
import { renderMetrics, serveStatus } from '../metrics.js';
import { ASSIGNMENTS_LABEL, AssignmentSync, fetchTableOverHttp, STATUS_LABEL } from './assignment-sync.js';
import { tableVersion } from './assignment-table.js';
import { LoopbackDelivery } from './loopback-delivery.js';
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

/** Command-line settings of `ingot run`; each one given here wins over the Node document's. */
export interface StandaloneOptions {
  /** Configuration file; absent = the embedded default. */
  configFile?: string;
  /** This node's name (`--node`, else $NODE_NAME); absent = the only Node document, else the host name. */
  nodeName?: string;
  /** `--announce`. */
  announce?: 'live' | 'dry-run';
  /** `--interface` (repeatable). */
  interfaces?: string[];
  /** `--router-id`. */
  routerId?: string;
  /** `--node-label` (merged over the Node document's labels). */
  labels?: Record<string, string>;
  /** `--memberlist-*`. */
  memberlist?: {
    bindAddress: string;
    join: string[];
    secretFile?: string;
    insecurePlaintext?: boolean;
    advertiseAddress?: string;
    /** `--memberlist-wire` (else the Node document's `spec.memberlist.wire`). */
    wire?: 'ingot' | 'memberlist';
  };
  /** `--metrics-bind` / `--status-address`. */
  statusAddress?: string;
  /** `--local-status-address`: a separate (loopback) listener for /metrics /healthz /readyz /status. */
  localStatusAddress?: string;
  /** `--state-dir`. */
  stateDirectory?: string;
  /** `--data-path`. */
  dataPath?: 'local' | 'interface' | 'none';
  /** `--realtime-priority`: SCHED_FIFO priority of the main thread when announcing live. */
  realtimePriority?: number;
  /** Logger. */
  log: Logger;
  /** Software version shown in status. */
  version: string;
}

/** A running standalone daemon. */
export interface StandaloneHandle {
  /** Re-reads the configuration file (SIGHUP). */
  reload(): void;
  /** Graceful stop: leave the membership, withdraw, remove local addresses, close sessions. */
  stop(): Promise<void>;
  /** The status document `GET /status` serves. */
  status(): StatusDocument;
}

/** What `GET /status` returns and `ingot status` prints. */
export interface StatusDocument {
  /** This node. */
  node: string;
  /** Software version. */
  version: string;
  /** `live` or `dry-run`. */
  announce: string;
  /** The allocating node (controller leader). */
  controller: string | undefined;
  /** Configuration source and state. */
  config: { source: string; loaded: boolean; stale: boolean; issues: ConfigIssue[] };
  /** Version of the assignment table in force. */
  assignments: { generation: number; writer: string };
  /** Services. */
  services: ReturnType<Daemon['status']>;
  /** BGP sessions. */
  peers: ReturnType<NonNullable<BgpBackend['peers']>>;
  /** Members and their states. */
  members: { name: string; state: string; address: string }[];
  /** Service IPs on `lo` (data path `local`). */
  localAddresses: string[];
  /** Live mode: where ARP/NDP are answered (`answering`: `answer-thread`, or `event-loop` after the thread failed). */
  layer2?: object;
}

/** Resolves what to run from the command line and the Node document. */
export function resolveNodeSettings(opts: StandaloneOptions, config: IngotConfig) {
  const explicitName = opts.nodeName ?? (process.env.NODE_NAME || undefined);
  // A fleet file holds one Node document per machine: the explicit name, else the host name, else the only document.
  const node: NodeConfig | undefined =
    explicitName !== undefined
      ? selectNode(config.nodes, explicitName)
      : (selectNode(config.nodes, hostname()) ?? selectNode(config.nodes, undefined));
  const name = explicitName ?? node?.name ?? hostname();
  const announce = opts.announce ?? node?.announce ?? 'dry-run';
  // Command-line memberlist flags replace the document's settings; the wire falls back to the document's.
  const nodeWire = node?.memberlist?.wire;
  const memberlist =
    opts.memberlist && nodeWire && !opts.memberlist.wire
      ? { ...opts.memberlist, wire: nodeWire }
      : (opts.memberlist ?? node?.memberlist);
  const memberHost = memberlist ? parseHostPort(memberlist.bindAddress).host : undefined;
  const statusAddress =
    opts.statusAddress ??
    node?.statusAddress ??
    (memberHost ? (memberHost.includes(':') ? `[${memberHost}]:7472` : `${memberHost}:7472`) : DEFAULT_STATUS_ADDRESS);
  const sourceAddress = node?.bgp.sourceAddress;
  const routerId =
    opts.routerId ??
    node?.bgp.routerID ??
    [sourceAddress, memberHost].find((a) => a && !a.includes(':')) ??
    firstIPv4() ??
    '192.0.2.1';
  return {
    node,
    name,
    labels: { ...(node?.labels ?? {}), ...(opts.labels ?? {}) },
    announce,
    interfaces: opts.interfaces && opts.interfaces.length > 0 ? opts.interfaces : (node?.interfaces ?? []),
    memberlist,
    statusAddress,
    statusExplicit: opts.statusAddress !== undefined || node?.statusAddress !== undefined,
    localStatusAddress: opts.localStatusAddress ?? node?.localStatusAddress,
    stateDirectory: opts.stateDirectory ?? node?.stateDirectory,
    dataPath: opts.dataPath ?? node?.dataPath ?? (announce === 'live' ? 'local' : 'none'),
    routerId,
    sourceAddress,
  };
}

function firstIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/**
 * Runs the controller and the speaker on this machine from a configuration file (MetalLB's resources plus Ingot's Node
 * and Service documents), without Kubernetes: allocation replicated through gossip and the state directory, layer-2 and
 * BGP announcements, the local data path, the status server, and reload on file change or {@link StandaloneHandle.reload}.
 */
export async function runStandalone(opts: StandaloneOptions): Promise<StandaloneHandle> {
  const { log } = opts;
  const source = opts.configFile ?? 'embedded default';
  const readText = () => (opts.configFile ? readFileSync(opts.configFile, 'utf8') : DEFAULT_CONFIG_YAML);
  const first = parseConfig(readText());
  if (!first.ok) {
    for (const issue of first.issues) log.error('configuration invalid', { source, ...issue });
    throw new Error(`${source}: invalid configuration (${first.issues.length} issues)`);
  }
  for (const warning of first.warnings) log.warn('configuration warning', { source, ...warning });
  const s = resolveNodeSettings(opts, first.config);
  const memberAddress = s.memberlist ? memberlistAddress(s.memberlist) : undefined;
  const statusProblem = statusAddressProblem(s.statusAddress, memberAddress);
  if (statusProblem) throw new Error(`status address: ${statusProblem}`);
  const advertisedStatus = advertisedStatusAddress(s.statusAddress, memberAddress);
  const secret = readSecret(s.memberlist);
  const tableKey = secret ? replicationKey(secret) : undefined;
  log.info('ingot starting', {
    version: opts.version,
    pid: process.pid,
    node: s.name,
    nodeDocument: s.node ? s.node.name : null,
    announce: s.announce,
    dataPath: s.dataPath,
    statusAddress: s.statusAddress,
    stateDirectory: s.stateDirectory ?? null,
  });

  const { layer2, bgp } = await createBackends({
    announce: s.announce,
    interfaces: s.interfaces,
    ...(opts.realtimePriority !== undefined ? { realtimePriority: opts.realtimePriority } : {}),
    bgp: { routerId: s.routerId, ...(s.sourceAddress ? { sourceAddress: s.sourceAddress } : {}) },
    log,
  });
  const store = new ConfigStore();
  const delivery =
    (s.dataPath === 'local' || s.dataPath === 'interface') && s.announce === 'live'
      ? new LoopbackDelivery({
          log: log.child('datapath'),
          mode: s.dataPath,
          interfaces: s.interfaces,
          // IPv6 leftovers of an earlier run carry no label: those inside a configured pool are ours.
          isServiceIp: (ip) => inPools(ip, (store.current ?? first.config).pools),
        })
      : undefined;
  await delivery?.start();

  let membership: MembershipSource | undefined;
  let synced = s.memberlist === undefined;
  let advertised = '0.';
  const gossipLabels = () => ({ ...s.labels, [ASSIGNMENTS_LABEL]: advertised, [STATUS_LABEL]: advertisedStatus });
  const config = () => store.current ?? first.config;
  const members = () => membership?.members() ?? [{ name: s.name, labels: s.labels }];
  const sync = new AssignmentSync({
    node: s.name,
    ...(s.stateDirectory ? { stateDirectory: s.stateDirectory } : {}),
    log: log.child('assignments'),
    adopt: (table) => {
      daemon.setAssignments(table.services);
      daemon.reconcile();
    },
    advertise: (version) => {
      advertised = version;
      membership?.setLabels(gossipLabels());
    },
    fetchTable: (address) => fetchTableOverHttp(address, tableKey),
    check: (table) => checkTable(table, config()),
    // With Node documents in the fleet file, only those machines may allocate. On memberlist's wire the members may
    // include MetalLB speakers, which serve no /assignments: only members advertising Ingot's status address count.
    eligible: () => {
      const nodes = config().nodes;
      const configured = nodes.length > 0 ? new Set(nodes.map((n) => n.name)) : undefined;
      if (s.memberlist?.wire !== 'memberlist' || !membership) return configured;
      const ingot = new Set([s.name]);
      for (const m of membership.members()) if (m.labels[STATUS_LABEL] !== undefined) ingot.add(m.name);
      return configured ? new Set([...ingot].filter((n) => configured.has(n))) : ingot;
    },
  });
  advertised = tableVersion(sync.table);
  const daemon = new Daemon({
    nodeName: s.name,
    nodeLabels: s.labels,
    log,
    layer2,
    bgp,
    members: () => members().map((m) => ({ name: m.name, labels: stripIngotLabels(m.labels) })),
    allocating: () => synced && sync.isAllocator(members()),
    onAssignments: (services) => sync.recordLocal(services),
    ...(delivery ? { localDelivery: delivery } : {}),
  });
  daemon.setAssignments(sync.table.services);
  // Adopt the newest acceptable table, then take it over when this node has become the allocator.
  const resync = () =>
    void sync.observe(members()).then(() => {
      if (synced) sync.claim(members());
    });

  let lastIssues: ConfigIssue[] = [];
  store.on('applied', (config) => {
    lastIssues = [];
    const node = selectNode(config.nodes, s.name);
    if (JSON.stringify(node ?? null) !== JSON.stringify(s.node ?? null))
      log.warn('the Node document changed; restart the daemon to apply node settings', { node: s.name });
    log.info('configuration applied', {
      source,
      pools: config.pools.map((p) => ({ name: p.name, addresses: p.addresses })),
      l2Advertisements: config.l2Advertisements.length,
      bgpAdvertisements: config.bgpAdvertisements.length,
      bgpPeers: config.bgpPeers.map((p) => `${p.peerAddress}:${p.peerPort}`),
      services: config.services.length,
    });
    daemon.applyConfig(config);
    // A table refused under the previous configuration (pools, Nodes) may be allowed now.
    if (membership) resync();
  });
  store.on('warned', (warnings) => {
    for (const warning of warnings) log.warn('configuration warning', { source, ...warning });
  });
  store.on('rejected', (issues) => {
    lastIssues = issues;
    for (const issue of issues) log.error('configuration rejected', { source, ...issue });
    log.error('configuration rejected; the last good configuration stays in force', { source, issues: issues.length });
  });
  const load = () => {
    try {
      store.applyText(readText());
    } catch (err) {
      log.error('configuration unreadable; the last good configuration stays in force', {
        source,
        error: (err as Error).message,
      });
    }
  };

  let reconcileQueued = false;
  const onMembersChanged = () => {
    if (reconcileQueued) return;
    reconcileQueued = true;
    setImmediate(() => {
      reconcileQueued = false;
      daemon.reconcile();
      resync();
    });
  };
  if (s.memberlist) {
    membership = await startMembership({
      name: s.name,
      labels: gossipLabels(),
      bind: s.memberlist.bindAddress,
      join: s.memberlist.join,
      ...(secret !== undefined ? { secret } : {}),
      ...(s.memberlist.insecurePlaintext ? { insecurePlaintext: true } : {}),
      ...(s.memberlist.advertiseAddress ? { advertise: s.memberlist.advertiseAddress } : {}),
      ...(s.memberlist.wire ? { wire: s.memberlist.wire } : {}),
      log: log.child('memberlist'),
      onChange: onMembersChanged,
    });
  }

  const controller = () => sync.allocatorOf(members());
  const status = (): StatusDocument => ({
    node: s.name,
    version: opts.version,
    announce: s.announce,
    controller: controller(),
    config: { source, loaded: store.current !== undefined, stale: store.stale, issues: lastIssues },
    assignments: { generation: sync.table.generation, writer: sync.table.writer },
    services: daemon.status(),
    peers: bgp.peers?.() ?? [],
    members: membership?.view() ?? [{ name: s.name, state: 'alive', address: '-' }],
    localAddresses: delivery?.addresses() ?? [],
    ...(layer2.status ? { layer2: layer2.status() } : {}),
  });
  const servers: Server[] = [];
  const local = {
    metrics: () =>
      renderMetrics([
        ...daemon.metrics(),
        { name: 'metallb_k8s_client_config_loaded_bool', labels: {}, value: store.current ? 1 : 0 },
        { name: 'metallb_k8s_client_config_stale_bool', labels: {}, value: store.stale ? 1 : 0 },
        { name: 'ingot_assignments_generation', labels: { writer: sync.table.writer }, value: sync.table.generation },
        ...Object.entries(sync.rejections()).map(([reason, value]) => ({
          name: 'ingot_assignments_rejected_total',
          labels: { reason },
          value,
        })),
        { name: 'ingot_members', labels: {}, value: members().length },
        ...(membership?.metrics() ?? []),
      ]) + (layer2.metrics?.() ?? ''),
    healthy: () => store.current !== undefined,
    // Ready once configured, synced at start, and holding the newest table heard of from the allocator.
    ready: () => store.current !== undefined && synced && sync.upToDate(members()),
    readyNotes: () => layer2ReadyNotes(layer2.status?.()),
    status,
  };
  const peer = {
    assignments: () => sync.table,
    ...(tableKey ? { sign: (body: string) => signBody(tableKey, body) } : {}),
  };
  try {
    if (s.localStatusAddress) {
      servers.push(await serveStatus(s.localStatusAddress, local));
      servers.push(await serveStatus(s.statusAddress, { ...local, ...peer, only: ['/assignments'] }));
      log.info('serving status', {
        local: s.localStatusAddress,
        paths: ['/metrics', '/healthz', '/readyz', '/status'],
        peers: s.statusAddress,
        peerPaths: ['/assignments'],
      });
    } else {
      servers.push(await serveStatus(s.statusAddress, { ...local, ...peer }));
      log.info('serving status', {
        address: s.statusAddress,
        paths: ['/metrics', '/healthz', '/readyz', '/status', '/assignments'],
      });
    }
  } catch (err) {
    for (const server of servers.splice(0)) server.close();
    if (s.statusExplicit || s.memberlist) throw err;
    log.warn('status server not started (default address unavailable)', {
      address: s.statusAddress,
      error: (err as Error).message,
    });
  }

  // Adopt the newest table the members hold before allocating anything, so a restarted node never re-allocates.
  if (membership) {
    await sync.observe(members());
    synced = true;
    sync.claim(members());
  }
  store.apply(first.config);

  let watcher: ReturnType<typeof watch> | undefined;
  let debounce: NodeJS.Timeout | undefined;
  if (opts.configFile) {
    const file = opts.configFile;
    // Watch the directory: editors and config management replace the file (rename), which a file watch would miss.
    watcher = watch(dirname(file), (_event, changed) => {
      if (changed !== null && changed !== basename(file)) return;
      clearTimeout(debounce);
      debounce = setTimeout(() => {
        log.info('configuration file changed; reloading', { file });
        load();
      }, 100);
    });
  }

  let stopping: Promise<void> | undefined;
  return {
    reload: () => {
      log.info('reloading configuration', { source });
      load();
    },
    status,
    stop: () => {
      stopping ??= (async () => {
        watcher?.close();
        clearTimeout(debounce);
        // Withdraw first (issue 17): pending gratuitous bursts are cancelled and nothing more is sent for our IPs,
        // so the new owners' first round, sent once they see us leave, is the last word on the segment. Then leave.
        await daemon.stopLayer2();
        await membership?.close();
        await layer2.close?.();
        // lo keeps the IPs a moment longer: clients still pointed here are served until the new owner's round arrives.
        if (membership && delivery) await new Promise((resolve) => setTimeout(resolve, HANDOVER_DRAIN_MS));
        await delivery?.close();
        await bgp.close?.();
        for (const server of servers) server.close();
      })();
      return stopping;
    },
  };
}

/**
 * Where the other members reach this node's gossip (`host:port`): the advertised address a wildcard bind resolves to,
 * else the bind address (an unresolvable wildcard fails later, in {@link startMembership}, with the fix to apply).
 */
function memberlistAddress(ml: { bindAddress: string; advertiseAddress?: string }): string {
  try {
    const a = advertiseAddress(parseHostPort(ml.bindAddress), ml.advertiseAddress);
    return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  } catch {
    return ml.bindAddress;
  }
}

/** The memberlist secret, inline or from its file (trimmed); undefined when none is set. */
function readSecret(ml: { secret?: string; secretFile?: string } | undefined): string | undefined {
  if (!ml) return undefined;
  return ml.secret ?? (ml.secretFile ? readFileSync(ml.secretFile, 'utf8').trim() : undefined);
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
