/** The public types of {@link Membership}, its per-member record, and label validation. */

import type { Clock } from './clock.js';
import type { Address, Labels, MemberStatus } from './codec.js';
import { encodeMessage } from './codec.js';
import type { ProtocolConfig } from './config.js';
import type { EnvelopeRejection } from './envelope.js';
import { ConfigError } from './errors.js';
import type { Keyring } from './keyring.js';
import type { Suspicion } from './suspicion.js';
import type { Transport } from './transport.js';
import type { WireFormat } from './wire.js';

/** A member as reported by {@link Membership.members} and carried by events. A snapshot: later changes do not alter it. */
export interface Member {
  /** Unique node name (MetalLB: the Kubernetes node name). */
  name: string;
  /** Where it receives gossip (UDP) and push-pull (TCP). */
  address: Address;
  /** Its small metadata. */
  labels: Labels;
  /** Its incarnation number; only the member itself raises it (to refute, or to change its labels). */
  incarnation: number;
  /** Current status in this node's view. */
  status: MemberStatus;
  /** `clock.now()` when the status last changed. */
  statusSince: number;
  /** True for this node itself. */
  local: boolean;
}

/** Events emitted by {@link Membership}. */
export interface MembershipEvents {
  /** A member appeared, or came back after being dead or having left. */
  join: (member: Member) => void;
  /** A member changed its address or labels. */
  update: (member: Member) => void;
  /** A member is suspected of failure (still counted as usable, like memberlist). */
  suspect: (member: Member) => void;
  /** A suspected member refuted the suspicion. */
  alive: (member: Member) => void;
  /** A member was declared dead. */
  dead: (member: Member) => void;
  /** A member left gracefully. */
  leave: (member: Member) => void;
}

/** Why a packet or message was refused, as counted in {@link Membership.rejections}. */
export type RejectionReason = Exclude<EnvelopeRejection, 'encrypted-without-key'> | 'decode-error' | 'name-conflict';

/** One structured log record. */
export interface LogEntry {
  level: 'debug' | 'info' | 'warn';
  msg: string;
  node: string;
  [field: string]: unknown;
}

/** Counters kept by a {@link Membership}. */
export interface MembershipStats {
  packetsSent: number;
  packetsReceived: number;
  bytesSent: number;
  bytesReceived: number;
  /** Packets or frames that failed AES-GCM authentication with every key: dropped. */
  authFailures: number;
  /** Plaintext packets received while a keyring is set: dropped. */
  plaintextRejected: number;
  /** Sealed packets received without a keyring, unknown envelopes or envelope versions: dropped. */
  envelopeRejected: number;
  /** Sealed packets whose send time is outside the replay window (or too old to be checked): dropped. */
  staleRejected: number;
  /** Sealed packets already received once (a replay): dropped. */
  replayRejected: number;
  /** Alive messages claiming a live member's name from another address: refused (memberlist does the same). */
  nameConflicts: number;
  /** Packets that did not decode: dropped. */
  decodeErrors: number;
  probes: number;
  probeFailures: number;
  indirectProbes: number;
  suspicionsRaised: number;
  refutations: number;
  pushPulls: number;
  pushPullFailures: number;
}

/** How many members this node sees alive now versus the most it saw recently (for a split-brain policy). */
export interface ClusterView {
  /** Alive + suspect members, this node included. */
  alive: number;
  /** Of which suspect. */
  suspect: number;
  /** The largest `alive` seen within `windowMs`. */
  largestRecent: number;
  /** The window. */
  windowMs: number;
  /** `alive > largestRecent / 2`: this node is on the majority side of anything it saw recently. */
  hasMajority: boolean;
}

/** Options for {@link Membership}; any {@link ProtocolConfig} field may be overridden too. */
export interface MembershipOptions extends Partial<ProtocolConfig> {
  /** Unique member name, at most 255 UTF-8 bytes. */
  name: string;
  /** The network (a {@link UdpTransport} or a simulator's). */
  transport: Transport;
  /** Address announced to others (default: the transport's bound address). */
  advertise?: Address;
  /** Initial labels (encoded size at most 512 bytes). */
  labels?: Labels;
  /** Encryption keys; when set, every packet is AES-256-GCM sealed and plaintext is refused. */
  keyring?: Keyring;
  /**
   * The wire this cluster speaks (default `DEFAULT_WIRE`, 'memberlist'): hashicorp/memberlist's (v0.5.1), so
   * MetalLB's speakers and Ingot members form one cluster; 'ingot' is Ingot's compact format with the replay window (all
   * members Ingot). Every member of a cluster speaks the same wire. A UdpTransport adopts the wire's stream framing.
   */
  wire?: WireFormat;
  /** memberlist's Label (memberlist wire only; default '', as MetalLB): packets with another label are refused. */
  label?: string;
  /** memberlist's EnableCompression (memberlist wire only; default true, the LAN default). */
  compression?: boolean;
  /** Time source (default: the real clock). */
  clock?: Clock;
  /**
   * Wall-clock time in ms stamped into sealed packets and checked against `replayWindowMs` (default: `clock.now` when a
   * clock is given, as a simulator's virtual time is shared by all members, else `Date.now`).
   */
  wallClock?: () => number;
  /** Randomness in [0, 1) (default `Math.random`). */
  random?: () => number;
  /** Structured log sink (default: none). */
  log?: (entry: LogEntry) => void;
  /** Starting incarnation (default 0; a restarted node refutes older state about itself automatically). */
  initialIncarnation?: number;
}

/** What a member knows about one member (internal). */
export interface Node {
  name: string;
  address: Address;
  labels: Labels;
  incarnation: number;
  status: MemberStatus;
  statusSince: number;
  suspicion?: Suspicion;
}

/** A probe waiting for its ack (internal). */
export interface Pending {
  ack(): void;
  nack(): void;
}

/** Largest encoded label set a member may carry. */
export const MAX_LABEL_BYTES = 512;

/** Same keys and values. */
export function sameLabels(a: Labels, b: Labels): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => a[k] === b[k]);
}

/** Validated, frozen copy of `labels` (Ingot's limits); throws ConfigError. */
export function checkLabels(labels: Labels): Labels {
  const copy = { ...labels };
  for (const [k, v] of Object.entries(copy)) {
    if (typeof v !== 'string') throw new ConfigError('labels', `value of ${k} must be a string`);
    if (k === '' || new TextEncoder().encode(k).length > 255 || new TextEncoder().encode(v).length > 255) {
      throw new ConfigError('labels', `label ${JSON.stringify(k)}: keys are 1..255 bytes, values at most 255 bytes`);
    }
  }
  const bytes = encodeMessage({
    type: 'alive',
    incarnation: 0,
    node: '',
    address: { host: '0.0.0.0', port: 0 },
    labels: copy,
  });
  if (bytes.length - 16 > MAX_LABEL_BYTES)
    throw new ConfigError('labels', `encoded labels exceed ${MAX_LABEL_BYTES} bytes`);
  return Object.freeze(copy);
}
