import type { Server } from 'node:http';
import type { DaemonMode } from '../daemon-mode.js';
import type { Logger } from '../logger.js';
import { renderMetrics, serveMetrics } from '../metrics.js';
import { KubernetesControllerRole, type KubernetesControllerRoleOptions } from './controller-role.js';
import type { KubeEndpoint } from './kube-http.js';
import { type KubernetesMode, loadKubeConfig, startKubernetesMode } from './kubernetes-mode.js';
import { KubernetesSpeakerRole, type KubernetesSpeakerRoleOptions } from './speaker-role.js';
import { startStatusObjects } from './status-objects.js';

/** What `ingot run --kubernetes` runs. */
export type KubernetesRole = 'controller' | 'speaker' | 'all';

/** Options of {@link KubernetesDaemon} (from the command line). */
export interface KubernetesDaemonOptions {
  /** A kubeconfig file; default in-cluster, else `$KUBECONFIG` / `~/.kube/config`. */
  kubeconfig?: string;
  /** MetalLB's namespace. */
  namespace: string;
  /** `controller` (one replica), `speaker` (a DaemonSet), or `all` (both in one process: single-node clusters). */
  role: KubernetesRole;
  /** Handle only Services of this `spec.loadBalancerClass`. */
  loadBalancerClass?: string;
  /** Keep nodes labelled `node.kubernetes.io/exclude-from-external-load-balancers` eligible. */
  ignoreExcludeLabel?: boolean;
  /** With a controller: act only while holding the `ingot-controller` Lease, under this identity. */
  leaderElectionIdentity?: string;
  /** This node's name (speaker). */
  node: string;
  /** The speaker's backends, membership and discovery (`node` and `log` come from here). */
  speaker: Omit<KubernetesSpeakerRoleOptions, 'node' | 'log'>;
  /** The controller's webhooks and memberlist Secret (`namespace` and `log` come from here). */
  controller: Omit<KubernetesControllerRoleOptions, 'namespace' | 'log'>;
  /** `host:port` for `/metrics` and `/healthz`. */
  metricsBind?: string;
  /**
   * Write MetalLB's status objects: ServiceL2Status/ServiceBGPStatus (speaker), IPAddressPool status (controller),
   * ConfigurationState (both).
   */
  statusObjects?: boolean;
  /** Structured logger. */
  log: Logger;
}

/**
 * Kubernetes mode as `ingot run --kubernetes` runs it: loads the kubeconfig, starts the informers and the controller
 * and/or speaker roles, and serves metrics (healthy once a configuration has been loaded). The configuration follows
 * the API server, so {@link reload} has nothing to re-read.
 */
export class KubernetesDaemon implements DaemonMode {
  private readonly controller: KubernetesControllerRole | undefined;
  private readonly speaker: KubernetesSpeakerRole | undefined;
  private mode: KubernetesMode | undefined;
  private metricsServer: Server | undefined;
  private stopStatusObjects: (() => void) | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: KubernetesDaemonOptions) {
    const { role, log } = options;
    this.controller =
      role !== 'speaker'
        ? new KubernetesControllerRole({ ...options.controller, namespace: options.namespace, log })
        : undefined;
    this.speaker =
      role !== 'controller' ? new KubernetesSpeakerRole({ ...options.speaker, node: options.node, log }) : undefined;
  }

  /** The running mode (after {@link start}): its store, watch and daemon. */
  get kubernetesMode(): KubernetesMode | undefined {
    return this.mode;
  }

  /** Starts the roles; resolves once the informers have synced and the roles run. */
  async start(): Promise<void> {
    const { options } = this;
    const { log } = options;
    const kubeConfig: KubeEndpoint = await loadKubeConfig(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {});
    log.info('kubernetes API server', { server: kubeConfig.getCurrentCluster()?.server, role: options.role });
    const speaker = this.speaker;
    await speaker?.prepare(() => this.mode?.reconcile());
    const membership = speaker?.membership;
    const backends = speaker?.backends;
    const mode = await startKubernetesMode({
      kubeConfig,
      namespace: options.namespace,
      controller: this.controller !== undefined,
      speaker: this.speaker !== undefined,
      nodeName: options.node,
      ...(backends ? { layer2: backends.layer2, bgp: backends.bgp } : {}),
      // Live gossip members, without the owners the fast failover profile took over (provisionally).
      ...(speaker && membership ? { members: () => speaker.members() ?? [] } : {}),
      ...(options.ignoreExcludeLabel ? { ignoreExcludeLabel: true } : {}),
      ...(options.leaderElectionIdentity ? { leaderElection: { identity: options.leaderElectionIdentity } } : {}),
      ...(options.loadBalancerClass ? { loadBalancerClass: options.loadBalancerClass } : {}),
      log,
    });
    this.mode = mode;
    if (options.metricsBind) {
      this.metricsServer = await serveMetrics(
        options.metricsBind,
        () =>
          renderMetrics([...mode.metrics(), ...(membership?.metrics() ?? []), ...(speaker?.metrics() ?? [])]) +
          (backends?.layer2.metrics?.() ?? ''),
        () => mode.store.current !== undefined,
      );
      log.info('serving metrics', { address: options.metricsBind, paths: ['/metrics', '/healthz'] });
    }
    await this.controller?.start(mode, kubeConfig);
    await this.speaker?.start(mode);
    this.stopStatusObjects = options.statusObjects
      ? await startStatusObjects({
          mode,
          kubeConfig,
          namespace: options.namespace,
          role: options.role,
          node: options.node,
          bgpPeers: () => backends?.bgp.peers?.().map((p) => p.name) ?? [],
          log: log.child('status'),
        })
      : undefined;
    // Members that joined while the mode was starting (--memberlist-discover joins the other speakers) were reported
    // when there was no mode to re-plan yet: re-plan now, or this speaker keeps announcing as if alone.
    mode.reconcile();
  }

  /** Nothing to re-read: the configuration follows the API server's objects. */
  reload(): void {
    this.options.log.info('kubernetes mode: the configuration follows the API server; nothing to reload');
  }

  /** Stops the roles (the speaker withdraws before leaving the membership), the servers and the informers. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      await this.controller?.stop();
      this.stopStatusObjects?.();
      this.metricsServer?.close();
      await this.speaker?.stop();
      await this.mode?.close();
    })();
    return this.stopping;
  }
}
