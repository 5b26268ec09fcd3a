/**
 * @packageDocumentation
 * @ingot/arp: ARP and IPv6 NDP codec, frame transports (Linux AF_PACKET and in-memory) and a MetalLB-compatible
 * layer-2 responder with gratuitous announcements. See README.md.
 */

export * from './address.js';
export {
  type AnswerThreadStatus,
  answerThreadId,
  answerThreadStatus,
  setAnswerThreadPriority,
} from './answer-thread.js';
export * from './arp.js';
export { CodecError, type CodecErrorCode, type CodecProtocol } from './errors.js';
export * from './ethernet.js';
export * from './frame.js';
export * from './frame-transport.js';
export {
  DEFAULT_EARLY_ROUNDS_MS,
  type DropReason,
  type GratuitousOptions,
  InterfaceResponder,
  type InterfaceResponderOptions,
  type InterfaceStats,
  type ResponderBehaviourOptions,
  type ResponderEvents,
} from './interface-responder.js';
export * from './ipv6.js';
export { type IpCounters, Layer2Counters } from './layer2-counters.js';
export * from './memory-segment.js';
export {
  decodeNdp,
  encodeNdp,
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  icmpv6NdpEncodingLength,
  type NdpMessage,
  type NdpOption,
  type NdpPacket,
  type NeighborAdvertisement,
  type NeighborSolicitation,
  ndpEncodingLength,
} from './ndp.js';
export * from './network-interfaces.js';
export {
  type ActiveReceiveMode,
  createPacketTransport,
  type PacketTransportOptions,
  type ReceiveMode,
} from './packet-transport.js';
export { type RealtimeOptions, type RealtimeResult, type RealtimeStep, raiseRealtimePriority } from './realtime.js';
export {
  type AnnounceOptions,
  createResponder,
  type MultiResponderEvents,
  Responder,
  type ResponderOptions,
} from './responder.js';
export { type LogEntry, type Logger, systemTimers, type Timers } from './timers.js';
