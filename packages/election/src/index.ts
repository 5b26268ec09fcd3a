/**
 * @packageDocumentation
 * @ingot/election: SWIM gossip membership with Lifeguard failure detection, encrypted transport, and MetalLB's per-IP
 * leader choice. See README.md.
 */
export { Awareness } from './awareness.js';
export { BroadcastQueue } from './broadcast-queue.js';
export { type Clock, seededRandom, systemClock, type TimerHandle } from './clock.js';
export {
  type AckMessage,
  type Address,
  type AliveMessage,
  assemblePacket,
  type DeadMessage,
  decodeMessage,
  decodePacket,
  encodeMessage,
  encodePacket,
  type Labels,
  MAX_MESSAGE_BODY,
  MAX_MESSAGES_PER_PACKET,
  type MemberRecord,
  type MemberStatus,
  type Message,
  MessageType,
  messageEncodingLength,
  type NackMessage,
  PACKET_MAGIC,
  type Packet,
  type PingMessage,
  type PingReqMessage,
  type PushPullMessage,
  packetEncodingLength,
  type SuspectMessage,
  WIRE_VERSION,
} from './codec.js';
export {
  DEFAULT_CONFIG,
  DEFAULT_WIRE,
  MEMBERLIST_LAN_CONFIG,
  type ProtocolConfig,
  resolveConfig,
  retransmitLimit,
  suspicionBounds,
} from './config.js';
export {
  ENVELOPE_OVERHEAD,
  type EnvelopeRejection,
  openEnvelope,
  type ReplayGuard,
  SEALED_MAGIC,
  SEALED_VERSION,
  sealEnvelope,
} from './envelope.js';
export { CodecError, type CodecErrorCode, ConfigError, JoinError } from './errors.js';
export {
  decodeHeartbeatFrame,
  encodeHeartbeatFrame,
  HEARTBEAT_AAD_LABEL,
  HEARTBEAT_MAGIC,
  HEARTBEAT_PLAIN_LENGTH,
  HEARTBEAT_SEALED_LENGTH,
  HEARTBEAT_VERSION,
  type HeartbeatFrame,
  type HeartbeatFrameType,
  heartbeatSenderId,
} from './heartbeat/frame.js';
export type { HeartbeatIsolation } from './heartbeat/heartbeat-runner.js';
export {
  type HeartbeatEvents,
  type HeartbeatNoticeKind,
  type HeartbeatPeer,
  type HeartbeatStats,
  HeartbeatThread,
  type HeartbeatThreadOptions,
} from './heartbeat/heartbeat-thread.js';
export {
  type OwnerState,
  PairWatcher,
  type PairWatcherOptions,
  type PairWatcherStats,
  type WatcherAction,
} from './heartbeat/pair-watcher.js';
export { canonicalIp, formatIp, parseIp } from './ip.js';
export { KEY_LENGTH, Keyring, metallbSecretKey } from './keyring.js';
export {
  assignBalanced,
  type BalancedOptions,
  type Candidate,
  electLeader,
  type LeaderOptions,
  sortCandidates,
} from './leader.js';
export { labelsToMeta, metaToLabels, RAW_META_LABEL } from './memberlist/meta.js';
export { MEMBERLIST_FRAMING, ML_VSN } from './memberlist/wire.js';
export {
  type ClusterView,
  type LogEntry,
  MAX_LABEL_BYTES,
  type Member,
  Membership,
  type MembershipEvents,
  type MembershipOptions,
  type MembershipStats,
  type RejectionReason,
} from './membership.js';
export { RateLimitedLog } from './rate-limited-log.js';
export { type ReplayVerdict, ReplayWindow, type ReplayWindowOptions } from './replay-window.js';
export { type SimNode, Simulation, type SimulationOptions, VirtualClock } from './simulator.js';
export { Suspicion, suspicionTimeout } from './suspicion.js';
export {
  LENGTH_PREFIX_FRAMING,
  MAX_FRAME,
  MAX_REQUEST_FRAME,
  type StreamFraming,
  type Transport,
  type TransportHandlers,
  type TransportRejection,
  type TransportStats,
  UdpTransport,
  type UdpTransportOptions,
} from './transport.js';
export type { WireFormat, WireRejection } from './wire.js';
