/**
 * @packageDocumentation
 * @ingot/bgp: a route-advertising BGP speaker and its peers, with the errors they report. The wire codec is
 * `@ingot/bgp/codec`, BFD `@ingot/bgp/bfd`, BGP unnumbered's neighbour discovery `@ingot/bgp/unnumbered`. The FSM,
 * sessions, timers and socket plumbing are internal. See README.md.
 */

export { BgpError, isBgpError } from './codec/bgp-error.js';
export { LINK_BANDWIDTH_SUBTYPE, linkBandwidthCommunity, parseLinkBandwidth } from './codec/link-bandwidth.js';
export type { Announcement, AnnounceOptions } from './speaker/adj-rib-out.js';
export type { Clock, RandomSource, TimerHandle } from './speaker/clock.js';
export type { FsmStateName, IdleReason, NotificationInfo } from './speaker/fsm.js';
export { BgpPeer, isCease, type PeerHost } from './speaker/peer.js';
export type {
  BgpPeerEvents,
  NotificationEvent,
  PeerBfdOptions,
  PeerCounters,
  PeerOptions,
  ReceivedRoute,
} from './speaker/peer-options.js';
export { type SocketOptions, SockoptError } from './speaker/platform/linux-sockopts.js';
export type { BgpSession, BgpSessionEvents, Family, GracefulRestartOptions, SessionInfo } from './speaker/session.js';
export {
  BgpSpeaker,
  type BgpSpeakerEvents,
  type ListenOptions,
  normalizePrefix,
  type SpeakerOptions,
} from './speaker/speaker.js';
export {
  LinkLocalDiscovery,
  type LinkLocalDiscoveryEvents,
  type LinkLocalDiscoveryOptions,
} from './unnumbered/link-local-discovery.js';

/** The npm package name of this module. */
export const PACKAGE_NAME = '@ingot/bgp';
