/**
 * @packageDocumentation
 * @ingot/daemon: MetalLB's controller and speaker composed from the @ingot packages. See README.md ("Library
 * exports"): this list is deliberate; everything else is internal (tests import it from `src/`).
 */

/** The npm package name of this module. */
export const PACKAGE_NAME = '@ingot/daemon';

export type { Assignment } from './assignments.js';
export { type BgpSpeakerBackendOptions, createBgpSpeakerBackend } from './backends/bgp-speaker-backend.js';
export { type Backends, type BackendsOptions, createBackends } from './backends/create-backends.js';
export { dryRunBgp, dryRunLayer2 } from './backends/dry-run.js';
export { fetchStatus, formatStatus } from './commands/status.js';
export { ConfigStore, type ConfigStoreEvents } from './config/config-store.js';
export { parseDurationMs } from './config/duration.js';
export {
  DEFAULT_IPRANGE_NAME,
  iprangeResources,
  type ParseIprangeResult,
  parseIprange,
} from './config/iprange.js';
export {
  DEFAULT_STATUS_ADDRESS,
  INGOT_API_VERSION,
  isHostPort,
  type NodeConfig,
  readNodeConfig,
  selectNode,
} from './config/node-config.js';
export {
  type ParseConfigOptions,
  type ParseConfigResult,
  type ParseServiceResult,
  parseConfig,
  parseConfigObjects,
  parseServiceObject,
} from './config/parse-config.js';
export type * from './config/resources.js';
export {
  ADDRESS_POOL_ANNOTATION,
  ALLOCATED_FROM_POOL_ANNOTATION,
  ALLOW_SHARED_IP_ANNOTATION,
  ANNOTATION_PREFIX,
  LEGACY_ANNOTATION_PREFIX,
  LOAD_BALANCER_IPS_ANNOTATION,
  readAnnotation,
} from './controller/annotations.js';
export {
  type ConvergeResult,
  ServiceController,
  type ServiceEvent,
  serviceInfo,
} from './controller/service-controller.js';
export {
  type BgpBackend,
  type BgpPeerView,
  Daemon,
  type DaemonOptions,
  type Layer2Backend,
  type LocalDelivery,
  type ServiceState,
  type ServiceStatusRow,
} from './daemon.js';

export type { DaemonMode } from './daemon-mode.js';
export { DEFAULT_CONFIG_YAML } from './default-config.js';
export { parseHostPort } from './host-port.js';
export { type RetryTransientOptions, retryAfterMs, retryTransient } from './kubernetes/backoff.js';
export {
  ClusterWatch,
  type ClusterWatchEvents,
  type ClusterWatchOptions,
  type ClusterWatchStats,
  type ListPage,
  listAllPages,
  type WatchedResource,
} from './kubernetes/cluster-watch.js';
export { KubeAccess, type KubeAccessSpec, UnsupportedKubeConfigError } from './kubernetes/kube-access.js';
export { type ShareConnectionsOptions, shareConnections, sharedAgentOf } from './kubernetes/kube-client.js';
export type { KubeEndpoint } from './kubernetes/kube-http.js';
export { DEFAULT_METALLB_NAMESPACE, type KubeObject } from './kubernetes/kube-objects.js';
export { KubernetesController, type KubernetesControllerOptions } from './kubernetes/kubernetes-controller.js';
export { KubernetesDaemon, type KubernetesDaemonOptions, type KubernetesRole } from './kubernetes/kubernetes-daemon.js';
export {
  type KubeConfigSource,
  type KubernetesMode,
  type KubernetesModeOptions,
  loadKubeConfig,
  startKubernetesMode,
} from './kubernetes/kubernetes-mode.js';
export {
  type DesiredServiceState,
  type WriteServiceStateOptions,
  type WriteServiceStateResult,
  writeServiceState,
} from './kubernetes/service-status-writer.js';
export { coreV1WriteApi, type ServiceWriteApi } from './kubernetes/service-write-api.js';
export { speakerConfig } from './kubernetes/speaker-config.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger.js';
export {
  type MembershipSource,
  type MembershipSourceOptions,
  type MemberView,
  startMembership,
} from './membership-source.js';
export { type MetricSample, renderMetrics, type StatusRoutes, serveMetrics, serveStatus } from './metrics.js';
export {
  type AllocatedService,
  type AnnouncementPlan,
  type BgpAnnouncement,
  EXCLUDE_LB_LABEL,
  type L2Announcement,
  type NodeInfo,
  planAnnouncements,
} from './speaker/announcement-plan.js';
export {
  AssignmentSync,
  type AssignmentSyncOptions,
  controllerOf,
  fetchTableOverHttp,
  MAX_TABLE_BYTES,
  type RejectReason,
  ReplicationError,
} from './standalone/assignment-sync.js';
export {
  type AssignmentTable,
  compareVersions,
  loadTable,
  MAX_GENERATION,
  saveTable,
  validateTable,
} from './standalone/assignment-table.js';
export { LoopbackDelivery, type LoopbackDeliveryOptions } from './standalone/loopback-delivery.js';
export { resolveNodeSettings, type StandaloneOptions } from './standalone/node-settings.js';
export { runStandalone, type StandaloneHandle, StandaloneMode } from './standalone/standalone-mode.js';
export type { StatusDocument } from './standalone/standalone-status.js';
export { advertisedStatusAddress, statusAddressProblem } from './standalone/status-address.js';
export { replicationKey, SIGNATURE_HEADER, signBody, verifyBody } from './standalone/table-auth.js';
export { checkTable, type TableProblem } from './standalone/table-check.js';
