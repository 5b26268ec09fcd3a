/**
 * MetalLB's BFDProfile (metallb.io/v1beta1) and the BGPPeer `bfdProfile` reference: read with MetalLB's CRD ranges and
 * FRR's defaults, then resolved into each peer's `bfd` timers for the speaker.
 * @module
 */

import type { ConfigIssue } from './config-issue.js';
import type { FieldReader } from './field-reader.js';

/** A BFDProfile with MetalLB's defaults applied (intervals in milliseconds). */
export interface BFDProfile {
  /** metadata.name */
  name: string;
  /** Required Min RX Interval, 10..60000 ms. @default 300 */
  receiveInterval: number;
  /** Desired Min TX Interval, 10..60000 ms. @default 300 */
  transmitInterval: number;
  /** Detect Mult, 2..255. @default 3 */
  detectMultiplier: number;
  /** Echo interval, 10..60000 ms; used only with echoMode, which Ingot does not run. @default 50 */
  echoInterval: number;
  /** Echo function (RFC 5880 §6.4): only `false` is accepted (Ingot runs asynchronous mode without echo). */
  echoMode: boolean;
  /** Passive role: wait for the peer's first packet. @default false */
  passiveMode: boolean;
  /** Multihop sessions: the lowest TTL accepted, 1..254. @default 254 */
  minimumTtl: number;
}

/** The BFD timers a BGPPeer runs with, resolved from its BFDProfile. */
export interface PeerBfd {
  /** BFDProfile name. */
  profile: string;
  /** ms */
  receiveInterval: number;
  /** ms */
  transmitInterval: number;
  /** Detect Mult. */
  detectMultiplier: number;
  /** Passive role. */
  passive: boolean;
  /** Multihop: lowest TTL accepted. */
  minimumTtl: number;
}

/** Reads a BFDProfile with MetalLB's CRD validation ranges. */
export function readBfdProfile(r: FieldReader, name: string): BFDProfile {
  const interval = (field: string, fallback: number) =>
    r.integer(`spec.${field}`, { min: 10, max: 60_000, fallback }) ?? fallback;
  const echoMode = r.boolean('spec.echoMode', false);
  if (echoMode) {
    r.fail(
      'spec.echoMode',
      'is not supported: Ingot runs BFD in asynchronous mode without the Echo function (RFC 5880 §6.4); set echoMode: false and use transmitInterval/receiveInterval',
    );
  }
  return {
    name,
    receiveInterval: interval('receiveInterval', 300),
    transmitInterval: interval('transmitInterval', 300),
    detectMultiplier: r.integer('spec.detectMultiplier', { min: 2, max: 255, fallback: 3 }) ?? 3,
    echoInterval: interval('echoInterval', 50),
    echoMode,
    passiveMode: r.boolean('spec.passiveMode', false),
    minimumTtl: r.integer('spec.minimumTtl', { min: 1, max: 254, fallback: 254 }) ?? 254,
  };
}

/** The fields of a BGPPeer that {@link resolveBfdProfiles} reads and sets. */
export interface PeerWithBfd {
  /** metadata.name */
  name: string;
  /** BFDProfile name (spec.bfdProfile). */
  bfdProfile?: string;
  /** The resolved timers. */
  bfd?: PeerBfd;
}

/**
 * Gives every BGPPeer with `bfdProfile` its profile's timers (`peer.bfd`); a peer naming a profile that does not
 * exist is an issue, as in MetalLB ("peer … referencing non existing bfd profile").
 */
export function resolveBfdProfiles(peers: PeerWithBfd[], profiles: readonly BFDProfile[], issues: ConfigIssue[]): void {
  const byName = new Map(profiles.map((p) => [p.name, p]));
  for (const peer of peers) {
    if (peer.bfdProfile === undefined) continue;
    const p = byName.get(peer.bfdProfile);
    if (!p) {
      issues.push({
        resource: `BGPPeer/${peer.name}`,
        field: 'spec.bfdProfile',
        reason: `references BFDProfile ${JSON.stringify(peer.bfdProfile)}, which does not exist`,
      });
      continue;
    }
    peer.bfd = {
      profile: p.name,
      receiveInterval: p.receiveInterval,
      transmitInterval: p.transmitInterval,
      detectMultiplier: p.detectMultiplier,
      passive: p.passiveMode,
      minimumTtl: p.minimumTtl,
    };
  }
}
