/**
 * The gossip wire a {@link Membership} speaks: how its messages become datagrams and stream messages and back. Two
 * exist: hashicorp/memberlist's (the default; interoperates with MetalLB's speakers) and Ingot's own compact format.
 * A member speaks one wire for its whole cluster.
 */
import type { Address, Labels, Message } from './codec.js';
import type { EnvelopeRejection } from './envelope.js';
import type { StreamFraming } from './transport.js';

/** Which wire a cluster speaks. */
export type WireFormat = 'memberlist' | 'ingot';

/** Why a datagram or stream message was refused (as counted in a Membership's stats). */
export type WireRejection = Exclude<EnvelopeRejection, 'encrypted-without-key'> | 'decode-error';

/** What opening a datagram or stream message gave. */
export type WireOpened =
  | { ok: true; messages: Message[] }
  | { ok: false; reason: WireRejection; detail?: Record<string, unknown> };

/** One wire format (internal to @ingot/election). */
export interface GossipWire {
  readonly format: WireFormat;
  /** The stream framing its TCP messages use (the transport must use the same). */
  readonly framing: StreamFraming;
  /** Bytes a packet costs beyond its messages' encodings (headers, checksum, encryption). */
  readonly packetOverhead: number;
  /** Bytes each message costs in a packet beyond its encoding. */
  readonly perMessageOverhead: number;
  /** Throws ConfigError when these labels cannot travel on this wire. */
  checkLabels(labels: Labels): void;
  /** One message's encoding (what the broadcast queue holds). */
  encode(m: Message): Uint8Array;
  /** A datagram carrying these encodings. */
  seal(encoded: Uint8Array[]): Uint8Array;
  /** The messages of a datagram, or why it was refused. */
  open(data: Uint8Array, from: Address): WireOpened;
  /** A stream message (a push-pull, or an ack to a TCP ping); `dialer` when this side opened the connection. */
  sealStream(m: Message, dialer: boolean): Uint8Array;
  /** A stream message received; `accepted` when this side accepted the connection. */
  openStream(data: Uint8Array, from: Address, accepted: boolean): WireOpened;
}
