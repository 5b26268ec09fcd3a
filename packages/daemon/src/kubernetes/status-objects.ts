import { parseConfigObjects } from '../config/parse-config.js';
import type { ConfigIssue } from '../config/resources.js';
import type { Logger } from '../logger.js';
import type { KubeEndpoint } from './kube-http.js';
import type { KubeObject } from './kube-objects.js';
import type { KubernetesMode } from './kubernetes-mode.js';
import { customObjectStatusApi, type StatusObjectApi } from './status-objects-api.js';
import { desiredServiceStatuses, ServiceStatusObjects } from './status-objects-service.js';
import { ConfigurationStateWriter, PoolStatusWriter } from './status-objects-state.js';

/** Options of {@link startStatusObjects}. */
export interface StatusObjectsOptions {
  /** The running Kubernetes mode. */
  mode: KubernetesMode;
  /** Where the API server is (ignored when `api` is given). */
  kubeConfig: KubeEndpoint;
  /** MetalLB's namespace (the status objects live there). */
  namespace: string;
  /** Which status this process writes. */
  role: 'controller' | 'speaker' | 'all';
  /** This node's name (speaker). */
  node: string;
  /** The BGPPeer names of this node's sessions (speaker). */
  bgpPeers(): string[];
  /** Reads and writes; default over `CustomObjectsApi`. */
  api?: StatusObjectApi;
  /** How often in-process state is compared with what was written (no request unless it changed). @default 1000 */
  intervalMs?: number;
  /** Structured logger. */
  log: Logger;
}

/**
 * MetalLB's status objects, kept by the process that knows them: the speaker writes ServiceL2Status and
 * ServiceBGPStatus for what its node announces and its own ConfigurationState; the controller writes IPAddressPool
 * status counts and its ConfigurationState. State is compared every `intervalMs` in memory; requests are made only
 * when something changed. Returns a stop function.
 */
export async function startStatusObjects(options: StatusObjectsOptions): Promise<() => void> {
  const { mode, log, role } = options;
  const api = options.api ?? (await customObjectStatusApi(options.kubeConfig, options.namespace));
  const speaker = role !== 'controller' && mode.daemon !== undefined;
  const controller = role !== 'speaker';
  const states = [
    ...(controller ? [new ConfigurationStateWriter({ api, component: 'controller', log })] : []),
    ...(speaker ? [new ConfigurationStateWriter({ api, component: 'speaker', node: options.node, log })] : []),
  ];
  const report = (issues: readonly ConfigIssue[] | undefined) => {
    for (const s of states) void s.report(issues);
  };
  mode.store.on('applied', () => report([]));
  mode.store.on('rejected', (issues) => report(issues));
  // The first configuration was offered before we listened: find out again what it said.
  report(mode.store.stale ? initialIssues(mode) : mode.store.current ? [] : undefined);

  const pools = controller ? new PoolStatusWriter(api, log) : undefined;
  const objects = speaker ? new ServiceStatusObjects({ api, node: options.node, log }) : undefined;
  let lastDesired = '';
  let retryAt = 0;
  const tick = () => {
    const stats = mode.controller?.controller.allocator.stats();
    if (pools && stats) void pools.sync(stats);
    if (objects && mode.daemon) {
      const desired = desiredServiceStatuses(mode.daemon.announcementPlan(), options.node, options.bgpPeers());
      const text = JSON.stringify([[...desired.l2], [...desired.bgp]]);
      const retry = objects.failed && Date.now() >= retryAt;
      if (text === lastDesired && !retry) return;
      lastDesired = text;
      retryAt = Date.now() + 10_000;
      objects.sync(desired).catch((err: Error) => {
        lastDesired = '';
        log.warn('listing service status objects failed; retrying', { error: err.message });
      });
    }
  };
  const timer = setInterval(tick, options.intervalMs ?? 1000);
  timer.unref();
  tick();
  return () => clearInterval(timer);
}

/** The issues of the configuration objects in the cache (what the rejected first offer said). */
function initialIssues(mode: KubernetesMode): ConfigIssue[] {
  const objects = mode.watch.configObjects().map((o): KubeObject => {
    const { passwordSecret: _dropped, ...spec } = (o.spec ?? {}) as Record<string, unknown>;
    return {
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: { name: o.metadata?.name ?? '', ...(o.metadata?.labels ? { labels: o.metadata.labels } : {}) },
      spec,
    };
  });
  const result = parseConfigObjects(objects);
  return result.ok ? [{ resource: 'configuration', field: '', reason: 'rejected: see the log' }] : result.issues;
}
