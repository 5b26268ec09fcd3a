/**
 * Bidirectional Forwarding Detection (RFC 5880, 5881 single hop, 5883 multihop): the Control packet codec, the session
 * state machine and its UDP transport.
 * @module
 */

export {
  BFD_CONTROL_LENGTH,
  BFD_ECHO_PORT,
  BFD_MULTIHOP_PORT,
  BFD_SINGLE_HOP_PORT,
  BFD_STATE_NAMES,
  BFD_VERSION,
  type BfdAuth,
  BfdAuthType,
  type BfdControlPacket,
  BfdDiagnostic,
  BfdError,
  type BfdErrorReason,
  BfdState,
  type BfdStateName,
  type BfdStateValue,
  decodeBfdControl,
  encodeBfdControl,
  isBfdError,
} from './bfd-codec.js';
export {
  BFD_ECHO_LENGTH,
  BFD_ECHO_MAGIC,
  BfdEchoError,
  type BfdEchoErrorReason,
  type BfdEchoPacket,
  decodeBfdEcho,
  encodeBfdEcho,
  encodeBfdEchoDatagram,
} from './bfd-echo-codec.js';
export {
  BFD_SLOW_TX_US,
  type BfdDiscardReason,
  type BfdRemote,
  BfdSession,
  type BfdSessionEvents,
  type BfdSessionOptions,
  type BfdSessionState,
} from './bfd-session.js';
export {
  type BfdPeerOptions,
  BfdTransport,
  type BfdTransportEvents,
  type BfdTransportOptions,
} from './bfd-transport.js';
