/**
 * @packageDocumentation
 * @ingot/daemon: MetalLB's controller and speaker composed from the @ingot packages. See README.md.
 */

export { ConfigStore, type ConfigStoreEvents } from './config/config-store.js';
export { parseDurationMs } from './config/duration.js';
export {
  type ParseConfigResult,
  type ParseServiceResult,
  parseConfig,
  parseConfigObjects,
  parseServiceObject,
} from './config/parse-config.js';
export type * from './config/resources.js';
export { DEFAULT_CONFIG_YAML } from './default-config.js';
export { createLogger, type Logger, type LoggerOptions, type LogLevel } from './logger.js';

/** The npm package name of this module. */
export const PACKAGE_NAME = '@ingot/daemon';
export { type BgpSpeakerBackendOptions, createBgpSpeakerBackend } from './backends/bgp-speaker-backend.js';
export { dryRunBgp, dryRunLayer2 } from './backends/dry-run.js';
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
export { type BgpBackend, Daemon, type DaemonOptions, type Layer2Backend, type ServiceState } from './daemon.js';
export {
  type MembershipSource,
  type MembershipSourceOptions,
  parseHostPort,
  startMembership,
} from './membership-source.js';
export { type MetricSample, renderMetrics, serveMetrics } from './metrics.js';
export {
  type AllocatedService,
  type AnnouncementPlan,
  type BgpAnnouncement,
  EXCLUDE_LB_LABEL,
  type L2Announcement,
  type NodeInfo,
  planAnnouncements,
} from './speaker/announcement-plan.js';
