import { ConfigError } from './errors.js';
import type { WireFormat } from './wire.js';

/** Every timed or tunable knob of the protocol. All durations are milliseconds. See README "Defaults". */
export interface ProtocolConfig {
  /** How often this node probes one member (shuffled round-robin). */
  probeIntervalMs: number;
  /** How long to wait for a direct ack before asking `indirectChecks` members to probe (scaled by local health). */
  probeTimeoutMs: number;
  /** Members asked to probe indirectly after a missed ack. */
  indirectChecks: number;
  /** Minimum suspicion = suspicionMult × max(1, log10 n) × probeIntervalMs; also sets k = suspicionMult − 2 confirmations. */
  suspicionMult: number;
  /** Suspicion with no confirmation = suspicionMaxMult × minimum. */
  suspicionMaxMult: number;
  /** Members that re-probe a freshly suspected member to confirm or clear it (expected count, across the cluster). */
  suspicionConfirmers: number;
  /** Each broadcast is sent retransmitMult × ceil(log10(n + 1)) times. */
  retransmitMult: number;
  /** Period of dedicated gossip (only sent when broadcasts are queued). */
  gossipIntervalMs: number;
  /** Members gossiped to per round. */
  gossipNodes: number;
  /** Period of the TCP full-state exchange with one random member. */
  pushPullIntervalMs: number;
  /** Period of a push-pull attempt with one random dead member (heals partitions). */
  reconnectIntervalMs: number;
  /** How long dead members are remembered (and retried) before they are forgotten. */
  deadRetentionMs: number;
  /** Largest local-health multiplier (Lifeguard). */
  awarenessMaxMultiplier: number;
  /** TCP connect + exchange deadline. */
  tcpTimeoutMs: number;
  /** Largest datagram this node sends. */
  udpBufferSize: number;
  /** How long `leave()` keeps gossiping its leave before it resolves. */
  leavePropagationMs: number;
  /** Window over which the largest cluster size is remembered (split-brain view). */
  clusterSizeWindowMs: number;
  /** Sealed packets are accepted within ± this many ms of the receiver's wall clock (replay protection). */
  replayWindowMs: number;
}

/**
 * Shipped defaults, chosen for: hard failure seen everywhere within 1 s p99 at 3-10 nodes and 2 s at 50, graceful
 * leave within 100 ms, no false dead declaration on 5 nodes at 10 % loss. Rationale in the README.
 */
export const DEFAULT_CONFIG: Readonly<ProtocolConfig> = Object.freeze({
  probeIntervalMs: 100,
  probeTimeoutMs: 40,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxMult: 6,
  suspicionConfirmers: 8,
  retransmitMult: 4,
  gossipIntervalMs: 50,
  gossipNodes: 3,
  pushPullIntervalMs: 10_000,
  reconnectIntervalMs: 1_000,
  deadRetentionMs: 120_000,
  awarenessMaxMultiplier: 8,
  tcpTimeoutMs: 5_000,
  udpBufferSize: 1400,
  leavePropagationMs: 60,
  clusterSizeWindowMs: 600_000,
  replayWindowMs: 30_000,
});

/**
 * memberlist's `DefaultLANConfig()` expressed in our fields (what MetalLB runs), for comparison and interop-minded tuning.
 */
export const MEMBERLIST_LAN_CONFIG: Readonly<ProtocolConfig> = Object.freeze({
  ...DEFAULT_CONFIG,
  probeIntervalMs: 1000,
  probeTimeoutMs: 500,
  indirectChecks: 3,
  suspicionMult: 4,
  suspicionMaxMult: 6,
  suspicionConfirmers: 0,
  retransmitMult: 4,
  gossipIntervalMs: 200,
  gossipNodes: 3,
  pushPullIntervalMs: 30_000,
  tcpTimeoutMs: 10_000,
  deadRetentionMs: 30_000,
});

/**
 * The wire a `Membership` speaks unless told otherwise: hashicorp/memberlist's (v0.5.1, as MetalLB's speakers),
 * so Ingot members and MetalLB speakers form one cluster. `'ingot'` (Ingot's compact format with a replay window) is
 * chosen per member with `wire: 'ingot'`; see the README, "Choosing a wire".
 */
export const DEFAULT_WIRE: WireFormat = 'memberlist';

const INTEGER_FIELDS: (keyof ProtocolConfig)[] = [
  'indirectChecks',
  'suspicionMult',
  'suspicionConfirmers',
  'retransmitMult',
  'gossipNodes',
  'awarenessMaxMultiplier',
  'udpBufferSize',
];

/**
 * Merges overrides onto {@link DEFAULT_CONFIG} and validates the result.
 * @param overrides - any subset of fields
 * @returns a complete, frozen config
 * @throws {@link ConfigError} naming the first bad field
 */
export function resolveConfig(overrides: Partial<ProtocolConfig> = {}): Readonly<ProtocolConfig> {
  const c: ProtocolConfig = { ...DEFAULT_CONFIG };
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    if (!(k in DEFAULT_CONFIG)) throw new ConfigError(k, 'unknown option');
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new ConfigError(k, 'must be a finite number >= 0');
    (c as unknown as Record<string, number>)[k] = v;
  }
  for (const k of INTEGER_FIELDS) if (!Number.isInteger(c[k])) throw new ConfigError(k, 'must be an integer');
  if (c.probeIntervalMs <= 0) throw new ConfigError('probeIntervalMs', 'must be > 0');
  if (c.probeTimeoutMs <= 0 || c.probeTimeoutMs >= c.probeIntervalMs) {
    throw new ConfigError('probeTimeoutMs', 'must be > 0 and below probeIntervalMs');
  }
  if (c.suspicionMult < 1) throw new ConfigError('suspicionMult', 'must be >= 1');
  if (c.suspicionMaxMult < 1) throw new ConfigError('suspicionMaxMult', 'must be >= 1');
  if (c.retransmitMult < 1) throw new ConfigError('retransmitMult', 'must be >= 1');
  if (c.gossipIntervalMs <= 0) throw new ConfigError('gossipIntervalMs', 'must be > 0');
  if (c.awarenessMaxMultiplier < 1) throw new ConfigError('awarenessMaxMultiplier', 'must be >= 1');
  if (c.udpBufferSize < 256 || c.udpBufferSize > 65_507) throw new ConfigError('udpBufferSize', 'must be 256..65507');
  if (c.tcpTimeoutMs <= 0) throw new ConfigError('tcpTimeoutMs', 'must be > 0');
  if (c.replayWindowMs < 1000) throw new ConfigError('replayWindowMs', 'must be >= 1000');
  return Object.freeze(c);
}

/**
 * Suspicion bounds for a cluster of `n` members: `min = mult × max(1, log10 n) × interval`, `max = maxMult × min`,
 * `k = min(mult − 2, n − 2)` confirmations wanted (memberlist uses k = 0 when n − 2 < mult − 2; we keep what confirmations
 * the cluster can give).
 */
export function suspicionBounds(c: ProtocolConfig, n: number): { minMs: number; maxMs: number; k: number } {
  const minMs = c.suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * c.probeIntervalMs;
  return { minMs, maxMs: c.suspicionMaxMult * minMs, k: Math.max(0, Math.min(c.suspicionMult - 2, n - 2)) };
}

/** Times each broadcast is transmitted in a cluster of `n`: `retransmitMult × ceil(log10(n + 1))`. */
export function retransmitLimit(c: ProtocolConfig, n: number): number {
  return c.retransmitMult * Math.max(1, Math.ceil(Math.log10(n + 1)));
}
