/**
 * @packageDocumentation
 * Test-only network lab for Ingot: network namespaces joined by veth pairs or a bridge, commands and Node scripts run
 * inside them, real BGP daemons (FRR, BIRD, GoBGP, ExaBGP) as peers, nftables fault injection and packet capture.
 * See README.md.
 */

export { type Capture, type CaptureOptions, capture, tsharkJson } from './capture.js';
export {
  type ExecOptions,
  type ExecResult,
  execCommand,
  LabCommandError,
  PollAbort,
  pollUntil,
  recentCommands,
  runCommand,
  sleep,
} from './command.js';
export { FakeTimers } from './fake-timers.js';
export { fault, faultRuleset, faultTableName, parseDropCounter } from './fault.js';
export type { LabHost, SpawnOptions } from './host.js';
export type { KubeRequestOptions, KubeResponse } from './kubernetes/api-client.js';
export { BUILD_COMMAND, BUILT_TOOLS, type BuiltTool, builtToolPath, labCacheDir } from './kubernetes/binaries.js';
export type { KubeObject } from './kubernetes/resources.js';
export {
  type ApplyOptions,
  type KubernetesOptions,
  type LabKubernetes,
  startKubernetes,
} from './kubernetes/start-kubernetes.js';
export type { LabProcess } from './lab-process.js';
export {
  checkLab,
  type Destroyable,
  hasNetAdmin,
  hasTool,
  isCi,
  type LabCheck,
  type LabSuiteOptions,
  labSuite,
  TOOL_PACKAGES,
  useTopology,
} from './lab-suite.js';
export {
  type MemberlistAgent,
  type MemberlistAgentEvent,
  type MemberlistAgentMember,
  type MemberlistAgentOptions,
  memberlistAgentArgs,
  startMemberlistAgent,
} from './memberlist-agent.js';
export { cleanupAllSync, liveNamespaces, livePids } from './registry.js';
export {
  createLan,
  createPair,
  Lan,
  type LanOptions,
  Pair,
  type PairOptions,
  Topology,
  uniqueStem,
} from './topology.js';

/** The name of this private workspace package. */
export const PACKAGE_NAME = '@ingot/lab';
export {
  canonicalAddress,
  canonicalIpv6,
  canonicalPrefix,
  communityString,
} from './peers/normalize.js';
export { startPeer } from './peers/start-peer.js';
export type {
  AnnounceOptions,
  BgpPeer,
  NeighborBfdOptions,
  NeighborOptions,
  PeerFamily,
  PeerKind,
  PeerOptions,
  PeerRoute,
  PeerSession,
} from './peers/types.js';
