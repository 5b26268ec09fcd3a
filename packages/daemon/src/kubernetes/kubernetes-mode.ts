import { readFileSync } from 'node:fs';
import { ConfigStore } from '../config/config-store.js';
import type { IngotConfig } from '../config/resources.js';
import { type BgpBackend, Daemon, type Layer2Backend } from '../daemon.js';
import type { Logger } from '../logger.js';
import type { MetricSample } from '../metrics.js';
import type { NodeInfo } from '../speaker/announcement-plan.js';
import type { BackoffOptions } from './backoff.js';
import { ClusterWatch, type ClusterWatchOptions } from './cluster-watch.js';
import { defaultKubeConfigFile, inClusterAccess, kubeConfigAccess, UnsupportedKubeConfigError } from './kube-access.js';
import { loadKubeClient } from './kube-client.js';
import type { KubeEndpoint } from './kube-http.js';
import { type KubeObject, nodeCandidate, ServingEndpoints, toPlain } from './kube-objects.js';
import { KubernetesController } from './kubernetes-controller.js';
import { coordinationLeaseApi, LeaderElector, type LeaderElectorOptions, type LeaseApi } from './leader-election.js';
import { resolvePasswordSecrets } from './password-secrets.js';
import { serviceEventObject } from './service-events.js';
import { coreV1WriteApi, type ServiceWriteApi } from './service-write-api.js';
import { speakerConfig } from './speaker-config.js';

/** The event source component the speaker reports. */
export const SPEAKER_COMPONENT = 'ingot-speaker';

/** Where {@link loadKubeConfig} finds the cluster. */
export interface KubeConfigSource {
  /** A kubeconfig file; without it: in-cluster (service account token + CA) when running in a pod, else `$KUBECONFIG` or `~/.kube/config`. */
  kubeconfig?: string;
}

/**
 * Loads the cluster access: from a file, from the pod's service account, or from the default locations
 * (`$KUBECONFIG`, `~/.kube/config`), with Ingot's own loader ({@link KubeAccess}), so `@kubernetes/client-node` is
 * never loaded for them. A kubeconfig Ingot's loader does not handle (a user with `exec` or `auth-provider`
 * plugins, several files in `$KUBECONFIG`) is loaded with client-node's `KubeConfig`, only then.
 */
export async function loadKubeConfig(source: KubeConfigSource = {}): Promise<KubeEndpoint> {
  if (!source.kubeconfig && process.env.KUBERNETES_SERVICE_HOST && process.env.KUBERNETES_SERVICE_PORT)
    return inClusterAccess();
  const file = source.kubeconfig ?? defaultKubeConfigFile();
  if (file !== undefined) {
    try {
      return kubeConfigAccess(readFileSync(file, 'utf8'), file);
    } catch (err) {
      if (!(err instanceof UnsupportedKubeConfigError)) throw err;
    }
  }
  const kc = new (await loadKubeClient()).KubeConfig();
  if (source.kubeconfig) kc.loadFromFile(source.kubeconfig);
  else kc.loadFromDefault();
  return kc;
}

/** Options of {@link startKubernetesMode}. */
export interface KubernetesModeOptions {
  /** The cluster (see {@link loadKubeConfig}). */
  kubeConfig: KubeEndpoint;
  /** MetalLB's namespace, where the configuration CRs live. @default 'metallb-system' */
  namespace?: string;
  /** Run the controller (allocates, writes statuses). Run it in exactly one replica. @default true */
  controller?: boolean;
  /** Run the speaker (announces). Requires `nodeName`, `layer2`, `bgp`. @default true */
  speaker?: boolean;
  /** This node's name (speaker). */
  nodeName?: string;
  /** Layer-2 backend (speaker). */
  layer2?: Layer2Backend;
  /** BGP backend (speaker). */
  bgp?: BgpBackend;
  /** Live gossip members, when memberlist runs: candidates are the Nodes that are also members. */
  members?: () => NodeInfo[];
  /** Keep nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers` eligible (`--ignore-exclude-lb`). */
  ignoreExcludeLabel?: boolean;
  /**
   * Announce only Services with a serving endpoint (EndpointSlices are watched), as MetalLB does; Services with
   * `externalTrafficPolicy: Local` only from nodes with a serving endpoint. @default true
   */
  requireEndpoints?: boolean;
  /** Drop Nodes that are not Ready from the candidates. @default true without `members` (no memberlist), else false */
  requireReadyNodes?: boolean;
  /** Handle only Services of this `spec.loadBalancerClass`; default: only Services without a class. */
  loadBalancerClass?: string;
  /** Structured logger. */
  log: Logger;
  /** The speaker posts a `nodeAssigned` Event when this node starts announcing a Service (not on every reconcile, unlike MetalLB #3135). @default true */
  speakerEvents?: boolean;
  /** The controller's writes and both roles' Events; default over `CoreV1Api`. */
  api?: ServiceWriteApi;
  /** Delays before failed lists, watches, passes and writes are retried. */
  retry?: BackoffOptions;
  /** Delays between attempts after a status write conflict. */
  conflictRetry?: BackoffOptions;
  /**
   * Run the controller only while holding a Lease in MetalLB's namespace, so several controller replicas can run
   * (one acts). Without it the controller always acts: run exactly one (MetalLB's model).
   */
  leaderElection?: Omit<LeaderElectorOptions, 'api' | 'namespace' | 'log' | 'onStartedLeading' | 'onStoppedLeading'>;
  /** Lease reads and writes for `leaderElection`; default over `CoordinationV1Api`. */
  leaseApi?: LeaseApi;
  /**
   * The speaker re-plans at most once per this delay: changes arriving meanwhile (e.g. the controller writing
   * thousands of statuses after a restart) are handled together. @default 100
   */
  speakerDelayMs?: number;
  /** Server-side watch timeout, see {@link ClusterWatchOptions.watchTimeoutSeconds}. @default 300 */
  watchTimeoutSeconds?: number;
}

/** A running Kubernetes mode. */
export interface KubernetesMode {
  /** The configuration in force (last good one) and whether the latest offer was rejected. */
  readonly store: ConfigStore;
  /** The informers' caches. */
  readonly watch: ClusterWatch;
  /** The controller, when running (with leader election: while leading). */
  readonly controller?: KubernetesController;
  /** The speaker's Daemon, when running. */
  readonly daemon?: Daemon;
  /** Re-plans the speaker's announcements now (e.g. when gossip membership changed). */
  reconcile(): void;
  /** Metric samples: allocator (controller), announcements and BGP (speaker), configuration and client counters. */
  metrics(): MetricSample[];
  /** Resolves when queued work is done (the controller's passes, the speaker's pending reconcile). */
  idle(): Promise<void>;
  /** Stops informers, timers and backends. */
  close(): Promise<void>;
}

/**
 * Runs MetalLB's controller and/or speaker against a Kubernetes API server: watches the configuration CRs in the
 * MetalLB namespace, Services, Nodes and Namespaces; validates the configuration with `parseConfig`'s rules (an invalid
 * one is logged with resource, field and reason, and the last good one stays in force); the controller writes Service
 * statuses; the speaker announces the IPs found in Service statuses from the eligible Nodes.
 */
export async function startKubernetesMode(options: KubernetesModeOptions): Promise<KubernetesMode> {
  const log = options.log;
  const namespace = options.namespace ?? 'metallb-system';
  const runController = options.controller !== false;
  const runSpeaker = options.speaker !== false;
  const watch = new ClusterWatch({
    kubeConfig: options.kubeConfig,
    namespace,
    log: log.child('kubernetes'),
    // Both roles read Nodes: the speaker for candidates, and configuration validation resolves advertisements'
    // nodeSelectors against them (as MetalLB's controller and speaker do; `ingot validate` reads `kind: Node` documents).
    nodes: true,
    namespaces: runController,
    secrets: runSpeaker,
    endpointSlices: runSpeaker && options.requireEndpoints !== false,
    ...(options.retry ? { retry: options.retry } : {}),
    ...(options.watchTimeoutSeconds ? { watchTimeoutSeconds: options.watchTimeoutSeconds } : {}),
  });
  const store = new ConfigStore();
  const api = options.api ?? (await coreV1WriteApi(options.kubeConfig));
  const makeController = () =>
    new KubernetesController({
      api,
      services: () => watch.services(),
      service: (key) => {
        const [ns, name] = key.split('/') as [string, string];
        return watch.service(ns, name);
      },
      log: log.child('controller'),
      ...(options.loadBalancerClass ? { loadBalancerClass: options.loadBalancerClass } : {}),
      ...(options.retry ? { retry: options.retry } : {}),
      ...(options.conflictRetry ? { conflictRetry: options.conflictRetry } : {}),
    });
  const election = runController ? options.leaderElection : undefined;
  let controller: KubernetesController | undefined = runController && !election ? makeController() : undefined;
  const elector = election
    ? new LeaderElector({
        api: options.leaseApi ?? (await coordinationLeaseApi(options.kubeConfig)),
        namespace,
        ...election,
        log: log.child('leader'),
        // The leader converges from the Service statuses, as after a restart; a former leader drops its state.
        onStartedLeading: () => {
          controller = makeController();
          controller.setNamespaces(watch.namespaces());
          if (store.current) controller.setConfig(store.current);
        },
        onStoppedLeading: () => {
          controller?.close();
          controller = undefined;
        },
      })
    : undefined;
  let daemon: Daemon | undefined;
  let nodeSignature: (node: KubeObject) => string = () => '';
  if (runSpeaker) {
    if (!options.nodeName || !options.layer2 || !options.bgp)
      throw new Error('the speaker needs nodeName, layer2 and bgp');
    const self = options.nodeName;
    const gossip = options.members;
    const candidateOptions = {
      ignoreExcludeLabel: options.ignoreExcludeLabel ?? false,
      requireReady: options.requireReadyNodes ?? gossip === undefined,
    };
    nodeSignature = (n) => JSON.stringify([n.metadata?.labels ?? {}, nodeCandidate(n, candidateOptions) !== undefined]);
    daemon = new Daemon({
      nodeName: self,
      log: log.child('speaker'),
      layer2: options.layer2,
      bgp: options.bgp,
      // Candidates: every known Node (MetalLB without memberlist), or the Nodes that are live gossip members.
      members: () => {
        const live = gossip ? new Set(gossip().map((m) => m.name)) : undefined;
        return watch
          .nodes()
          .map((n) => nodeCandidate(n, candidateOptions))
          .filter((n): n is NodeInfo => n !== undefined && (live === undefined || live.has(n.name)));
      },
    });
  }

  let lastOffered: string | undefined;
  const offerConfig = () => {
    const resolved = resolvePasswordSecrets(
      watch.configObjects().map(configShape),
      namespace,
      watch.watchesSecrets ? (name) => watch.secret(name) : undefined,
    );
    const nodes = watch
      .nodes()
      .map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const text = JSON.stringify([resolved, nodes]);
    if (text === lastOffered) return;
    lastOffered = text;
    store.applyObjects(resolved.objects, resolved.issues, { nodes });
  };
  let configQueued = false;
  const queueConfigOffer = () => {
    if (configQueued) return;
    configQueued = true;
    setImmediate(() => {
      configQueued = false;
      if (!closed) offerConfig();
    });
  };
  store.on('applied', (config) => {
    log.info('configuration applied', {
      namespace,
      pools: config.pools.map((p) => ({ name: p.name, addresses: p.addresses })),
      l2Advertisements: config.l2Advertisements.length,
      bgpAdvertisements: config.bgpAdvertisements.length,
      bgpPeers: config.bgpPeers.map((p) => `${p.peerAddress}:${p.peerPort}`),
    });
    controller?.setConfig(config);
    scheduleSpeaker();
  });
  store.on('warned', (warnings) => {
    for (const warning of warnings) log.warn('configuration warning', { namespace, ...warning });
  });
  store.on('rejected', (issues) => {
    for (const issue of issues)
      log.error('configuration rejected; the last good configuration stays in force', { ...issue, stale: true });
  });

  let speakerQueued: Promise<void> | undefined;
  let announcedBefore = new Set<string>();
  /** Posts `nodeAssigned` for every (Service, protocol) this node started announcing since the last call. */
  const reportAnnouncements = () => {
    if (!daemon || options.speakerEvents === false) return;
    const now = new Set<string>();
    for (const m of daemon.metrics())
      if (m.name === 'metallb_speaker_announced') now.add(`${m.labels.service}\u0000${m.labels.protocol}`);
    for (const entry of now) {
      if (announcedBefore.has(entry)) continue;
      const [service = '', protocol = ''] = entry.split('\u0000');
      const [ns = '', name = ''] = service.split('/');
      const obj = watch.service(ns, name);
      if (!obj) continue;
      const event = {
        type: 'Normal' as const,
        reason: 'nodeAssigned',
        message: `announcing from node ${JSON.stringify(options.nodeName)} with protocol ${JSON.stringify(protocol)}`,
      };
      api.createEvent(ns, serviceEventObject(obj, event, SPEAKER_COMPONENT)).catch((err: Error) => {
        log.warn('posting event failed', { service, reason: event.reason, error: err.message });
      });
    }
    announcedBefore = now;
  };
  let selfMissing = false;
  let closed = false;
  let speakerTimer: NodeJS.Timeout | undefined;
  let resolveSpeaker: (() => void) | undefined;
  function scheduleSpeaker(): void {
    if (!daemon || speakerQueued || closed) return;
    speakerQueued = new Promise<void>((resolve) => {
      resolveSpeaker = resolve;
      speakerTimer = setTimeout(() => {
        speakerQueued = undefined;
        const config: IngotConfig | undefined = store.current;
        if (config && daemon && !closed) {
          const self = watch.nodes().find((n) => n.metadata?.name === options.nodeName);
          if (!self !== selfMissing) {
            selfMissing = !self;
            if (selfMissing)
              log.warn('this node is not among the cluster Nodes: it announces nothing (check --node / NODE_NAME)', {
                node: options.nodeName,
              });
          }
          daemon.applyConfig(
            speakerConfig(config, watch.services(), {
              loadBalancerClass: options.loadBalancerClass,
              nodeLabels: self?.metadata?.labels ?? {},
              log,
              ...(watch.watchesEndpointSlices ? { serving } : {}),
            }),
          );
          reportAnnouncements();
        }
        resolve();
      }, options.speakerDelayMs ?? 100);
    });
  }

  const nodeSignatures = new Map<string, string>();
  // Which Services have a serving endpoint; EndpointSlices change with every pod, re-plan only when that flips.
  const serving = new ServingEndpoints();
  /** Each Node's labels as last seen: validation depends on them, heartbeats do not change them. */
  const nodeLabels = new Map<string, string>();
  const labelsOf = (n: KubeObject) => JSON.stringify(n.metadata?.labels ?? {});
  watch.on('change', (resource, verb, obj) => {
    if (!watch.synced || closed) return; // the initial lists are handled once, below
    switch (resource) {
      case 'config':
      case 'secret':
        queueConfigOffer();
        return;
      case 'namespace':
        controller?.setNamespaces(watch.namespaces());
        return;
      case 'endpointslice':
        if (serving.update(obj, verb === 'delete').length > 0) scheduleSpeaker();
        return;
      case 'node': {
        const name = obj.metadata?.name ?? '';
        // A Node's labels changed (or it came or went): advertisement node selectors may now overlap differently.
        const labels = verb === 'delete' ? undefined : labelsOf(obj);
        if (labels !== nodeLabels.get(name)) {
          if (labels === undefined) nodeLabels.delete(name);
          else nodeLabels.set(name, labels);
          queueConfigOffer();
        }
        // Kubelet heartbeats update every Node every few seconds: re-plan only when what the speaker reads changed.
        const signature = verb === 'delete' ? undefined : nodeSignature(obj);
        if (signature === nodeSignatures.get(name)) return;
        if (signature === undefined) nodeSignatures.delete(name);
        else nodeSignatures.set(name, signature);
        scheduleSpeaker();
        return;
      }
      case 'service':
        if (verb === 'delete') controller?.serviceDeleted(obj);
        else controller?.serviceChanged(obj);
        scheduleSpeaker();
    }
  });

  log.info('kubernetes mode starting', {
    namespace,
    controller: runController,
    speaker: runSpeaker,
    node: options.nodeName,
    loadBalancerClass: options.loadBalancerClass ?? null,
  });
  await watch.start();
  for (const n of watch.nodes()) {
    nodeSignatures.set(n.metadata?.name ?? '', nodeSignature(n));
    nodeLabels.set(n.metadata?.name ?? '', labelsOf(n));
  }
  for (const slice of watch.endpointSlices()) serving.update(slice);
  log.info('kubernetes caches synced', {
    services: watch.services().length,
    configObjects: watch.configObjects().length,
  });
  controller?.setNamespaces(watch.namespaces());
  offerConfig();
  if (!store.current) log.error('no valid MetalLB configuration yet; services are left untouched until there is one');
  elector?.start();

  return {
    store,
    watch,
    get controller() {
      return controller;
    },
    ...(daemon ? { daemon } : {}),
    reconcile: () => {
      daemon?.reconcile();
      reportAnnouncements();
    },
    metrics: () => [
      ...(daemon?.metrics() ?? controller?.controller.allocator.metrics() ?? []),
      { name: 'metallb_k8s_client_config_loaded_bool', labels: {}, value: store.current ? 1 : 0 },
      { name: 'metallb_k8s_client_config_stale_bool', labels: {}, value: store.stale ? 1 : 0 },
      { name: 'metallb_k8s_client_updates_total', labels: {}, value: controller?.counters.updates ?? 0 },
      { name: 'metallb_k8s_client_update_errors_total', labels: {}, value: controller?.counters.updateErrors ?? 0 },
      ...watch.metrics(),
    ],
    idle: async () => {
      for (;;) {
        await controller?.idle();
        if (!speakerQueued) return;
        await speakerQueued;
      }
    },
    close: async () => {
      closed = true;
      clearTimeout(speakerTimer);
      speakerQueued = undefined;
      resolveSpeaker?.();
      await elector?.stop();
      controller?.close();
      await watch.stop();
      await options.layer2?.close?.();
      await options.bgp?.close?.();
    },
  };
}

/** The fields of a CR that configuration validation reads (status and server-set metadata are left out). */
function configShape(obj: KubeObject): KubeObject {
  const plain = toPlain(obj);
  return {
    apiVersion: plain.apiVersion,
    kind: plain.kind,
    metadata: {
      ...(plain.metadata?.name !== undefined ? { name: plain.metadata.name } : {}),
      ...(plain.metadata?.namespace !== undefined ? { namespace: plain.metadata.namespace } : {}),
      ...(plain.metadata?.labels ? { labels: plain.metadata.labels } : {}),
    },
    spec: plain.spec,
  };
}
