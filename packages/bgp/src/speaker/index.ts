/**
 * BGP sessions, the RFC 4271 FSM, and the route-advertising speaker.
 * @module
 */

export {
  AdjRibOut,
  type Announcement,
  type AnnounceOptions,
  announcementKey,
  type ExportContext,
  type FlushResult,
} from './adj-rib-out.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export { type Clock, FakeClock, type RandomSource, seededRandom, systemClock, type TimerHandle } from './clock.js';
export {
  BgpConnection,
  type BgpConnectionEvents,
  type BgpSocket,
  type ConnectionDirection,
} from './connection.js';
export {
  BgpFsm,
  type FsmEvent,
  type FsmIo,
  type FsmNegotiated,
  type FsmOptions,
  type FsmState,
  type FsmStateName,
  type IdleReason,
  isValidHoldTime,
  type NotificationInfo,
  negotiateHoldTime,
} from './fsm.js';
export { BgpPeer, isCease, type PeerHost } from './peer.js';
export type {
  BgpPeerEvents,
  NotificationEvent,
  PeerBfdOptions,
  PeerCounters,
  PeerOptions,
  ReceivedRoute,
} from './peer-options.js';
export {
  createTcpSocketFd,
  createUdpSocketFd,
  encodeMd5Sig,
  encodeMinTtlFilter,
  encodeSockaddr,
  type SocketOptions,
  SockoptError,
  setSocketOptions,
  setUdpMinTtl,
} from './platform/linux-sockopts.js';
export {
  BgpSession,
  type BgpSessionEvents,
  type CollisionCheck,
  type Family,
  familyAfi,
  type GracefulRestartOptions,
  type SessionInfo,
  type SessionParams,
} from './session.js';
export {
  BgpSpeaker,
  type BgpSpeakerEvents,
  type ListenOptions,
  normalizePrefix,
  type SpeakerOptions,
} from './speaker.js';
export { jitter, Timer } from './timers.js';
