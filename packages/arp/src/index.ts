/**
 * @packageDocumentation
 * @ingot/arp: ARP and IPv6 NDP codec, frame transports (Linux AF_PACKET and in-memory) and a MetalLB-compatible
 * layer-2 responder with gratuitous announcements. See README.md.
 */

export * from './codec/address.js';
export * from './codec/arp.js';
export { CodecError, type CodecErrorCode, type CodecProtocol } from './codec/errors.js';
export * from './codec/ethernet.js';
export * from './codec/frame.js';
export * from './codec/ipv6.js';
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
} from './codec/ndp.js';
export {
  DEFAULT_EARLY_ROUNDS_MS,
  type DropReason,
  type GratuitousOptions,
  InterfaceResponder,
  type InterfaceResponderOptions,
  type InterfaceStats,
  type ResponderBehaviourOptions,
  type ResponderEvents,
} from './responder/interface-responder.js';
export { type IpCounters, Layer2Counters } from './responder/layer2-counters.js';
export * from './responder/network-interfaces.js';
export {
  type AnnounceOptions,
  createResponder,
  type MultiResponderEvents,
  Responder,
  type ResponderOptions,
} from './responder/responder.js';
export { type LogEntry, type Logger, systemTimers, type Timers } from './timers.js';
export {
  type AnswerThreadStatus,
  answerThreadId,
  answerThreadStatus,
  setAnswerThreadPriority,
} from './transport/answer-thread.js';
export * from './transport/frame-transport.js';
export * from './transport/memory-segment.js';
export {
  type ActiveReceiveMode,
  createPacketTransport,
  type PacketTransportOptions,
  type ReceiveMode,
} from './transport/packet-transport.js';
export {
  type RealtimeOptions,
  type RealtimeResult,
  type RealtimeStep,
  raiseRealtimePriority,
} from './transport/realtime.js';
