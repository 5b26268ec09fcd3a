import type { BgpBackend, Layer2Backend } from '../daemon.js';
import type { Logger } from '../logger.js';
import type { MembershipSource } from '../membership-source.js';
import { renderMetrics, serveMetrics } from '../metrics.js';
import { type KubernetesMode, loadKubeConfig, startKubernetesMode } from './kubernetes-mode.js';
import { ensureMemberlistSecret } from './memberlist-secret.js';
import { SpeakerDiscovery } from './speaker-discovery.js';
import { startStatusObjects } from './status-objects.js';
import { startWebhookServer, type WebhookServer } from './webhook-server.js';
import { WebhookTls, webhookTlsApi } from './webhook-tls.js';

/** What `ingot run --kubernetes` runs. */
export type KubernetesRole = 'controller' | 'speaker' | 'all';

/** Options of {@link runKubernetes} (from the command line). */
export interface RunKubernetesOptions {
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
  /** Layer-2 backend (speaker). */
  layer2: Layer2Backend;
  /** BGP backend (speaker). */
  bgp: BgpBackend;
  /** Gossip membership, when `--memberlist-bind` is given. */
  membership?: MembershipSource;
  /** `host:port` for `/metrics` and `/healthz`. */
  metricsBind?: string;
  /**
   * With a controller: serve the validating and conversion webhooks on `bind` (HTTPS, certificate kept in the
   * `ingot-webhook-cert` Secret), with `hosts` added to the certificate's names (e.g. an IP the API server dials).
   */
  webhook?: { bind: string; hosts: readonly string[] };
  /** With a controller: create this memberlist Secret in the namespace when it is missing (MetalLB's `--ml-secret-name`). */
  memberlistSecretName?: string;
  /** With a speaker and `membership`: join the other speakers at their Nodes' addresses (no static seeds needed). */
  memberlistDiscover?: boolean;
  /**
   * Write MetalLB's status objects: ServiceL2Status/ServiceBGPStatus (speaker), IPAddressPool status (controller),
   * ConfigurationState (both).
   */
  statusObjects?: boolean;
  /** Structured logger. */
  log: Logger;
}

/**
 * Runs the Kubernetes mode until SIGINT/SIGTERM: loads the kubeconfig, starts the informers, the controller and/or
 * speaker, and serves metrics (healthy once a configuration has been loaded). Resolves once running, with the mode.
 */
export async function runKubernetes(options: RunKubernetesOptions): Promise<KubernetesMode> {
  const { log } = options;
  const kubeConfig = await loadKubeConfig(options.kubeconfig ? { kubeconfig: options.kubeconfig } : {});
  log.info('kubernetes API server', { server: kubeConfig.getCurrentCluster()?.server, role: options.role });
  const membership = options.membership;
  const mode = await startKubernetesMode({
    kubeConfig,
    namespace: options.namespace,
    controller: options.role !== 'speaker',
    speaker: options.role !== 'controller',
    nodeName: options.node,
    layer2: options.layer2,
    bgp: options.bgp,
    ...(membership ? { members: () => membership.members() } : {}),
    ...(options.ignoreExcludeLabel ? { ignoreExcludeLabel: true } : {}),
    ...(options.leaderElectionIdentity ? { leaderElection: { identity: options.leaderElectionIdentity } } : {}),
    ...(options.loadBalancerClass ? { loadBalancerClass: options.loadBalancerClass } : {}),
    log,
  });
  const metricsServer = options.metricsBind
    ? await serveMetrics(
        options.metricsBind,
        () => renderMetrics([...mode.metrics(), ...(membership?.metrics() ?? [])]) + (options.layer2.metrics?.() ?? ''),
        () => mode.store.current !== undefined,
      )
    : undefined;
  if (options.metricsBind)
    log.info('serving metrics', { address: options.metricsBind, paths: ['/metrics', '/healthz'] });
  const runsController = options.role !== 'speaker';
  const webhook = options.webhook && runsController ? options.webhook : undefined;
  const secretApi =
    webhook || (runsController && options.memberlistSecretName) ? await webhookTlsApi(kubeConfig) : undefined;
  if (secretApi && runsController && options.memberlistSecretName)
    await ensureMemberlistSecret(secretApi, options.namespace, options.memberlistSecretName, log.child('memberlist'));
  const discovery =
    membership && options.memberlistDiscover && options.role !== 'controller'
      ? new SpeakerDiscovery({
          nodes: () => mode.watch.nodes(),
          self: options.node,
          advertised: membership.advertised,
          members: () =>
            membership
              .view()
              .filter((m) => m.state === 'alive' || m.state === 'suspect')
              .map((m) => m.address),
          join: (seeds) => membership.join(seeds),
          log: log.child('memberlist'),
        })
      : undefined;
  if (discovery) {
    mode.watch.on('change', (resource, verb) => {
      if (resource === 'node' && verb === 'add') void discovery.rejoin();
    });
    await discovery.start();
  }
  const stopStatusObjects = options.statusObjects
    ? await startStatusObjects({
        mode,
        kubeConfig,
        namespace: options.namespace,
        role: options.role,
        node: options.node,
        bgpPeers: () => options.bgp.peers?.().map((p) => p.name) ?? [],
        log: log.child('status'),
      })
    : undefined;
  let webhookServer: WebhookServer | undefined;
  const tls =
    webhook && secretApi
      ? new WebhookTls({
          api: secretApi,
          namespace: options.namespace,
          extraHosts: webhook.hosts,
          onCertificates: (certs) => webhookServer?.setCertificate(certs.serving),
          log: log.child('webhook'),
        })
      : undefined;
  if (webhook && tls) {
    const certs = await tls.start();
    webhookServer = await startWebhookServer({
      bind: webhook.bind,
      tls: certs.serving,
      admission: { namespace: options.namespace, configObjects: () => mode.watch.configObjects() },
      log: log.child('webhook'),
    });
  }
  const stop = async (signal: string) => {
    log.info('ingot stopping', { signal });
    tls?.stop();
    discovery?.stop();
    stopStatusObjects?.();
    await webhookServer?.close();
    metricsServer?.close();
    // Withdraw every layer-2 IP and cancel the gratuitous bursts before leaving, so the new owners' first round is
    // the last word on the segment (issue 17).
    await options.layer2.close?.();
    await membership?.close();
    await mode.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return mode;
}
