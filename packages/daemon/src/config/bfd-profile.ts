/**
 * MetalLB's BFDProfile (metallb.io/v1beta1) and the BGPPeer `bfdProfile` reference: read with MetalLB's CRD ranges and
 * FRR's defaults, then resolved into each peer's `bfd` timers for the speaker.
 * @module
 */

import { isIP } from 'node:net';
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
  /** Echo interval, 10..60000 ms: with echoMode, our Required Min Echo RX and fastest Echo rate. @default 50 */
  echoInterval: number;
  /** Echo function (RFC 5880 §6.4, RFC 5881 §4): IPv4 single-hop BGPPeers only. @default false */
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
  /** The Echo function's interval, ms (present when the profile has echoMode). */
  echoInterval?: number;
}

/** Reads a BFDProfile with MetalLB's CRD validation ranges. */
export function readBfdProfile(r: FieldReader, name: string): BFDProfile {
  const interval = (field: string, fallback: number) =>
    r.integer(`spec.${field}`, { min: 10, max: 60_000, fallback }) ?? fallback;
  const echoMode = r.boolean('spec.echoMode', false);
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
  /** spec.peerAddress ('' for an unnumbered peer). */
  peerAddress: string;
  /** spec.interface (unnumbered). */
  interface?: string;
  /** spec.ebgpMultiHop. */
  ebgpMultiHop: boolean;
  /** spec.vrf. */
  vrf?: string;
  /** The resolved timers. */
  bfd?: PeerBfd;
}

/** Why the Echo function cannot run with this peer (IPv4 single hop only), or undefined when it can. */
function echoUnsupported(peer: PeerWithBfd): string | undefined {
  if (peer.interface !== undefined) return 'an unnumbered (interface) session, which runs over IPv6';
  if (isIP(peer.peerAddress) !== 4) return `an IPv6 peer (${peer.peerAddress})`;
  if (peer.ebgpMultiHop) return 'a multihop (ebgpMultiHop) session';
  if (peer.vrf) return `a session in VRF ${peer.vrf}`;
  return undefined;
}

/**
 * Gives every BGPPeer with `bfdProfile` its profile's timers (`peer.bfd`); a peer naming a profile that does not
 * exist is an issue, as in MetalLB ("peer … referencing non existing bfd profile"), and so is a profile with echoMode
 * on a peer that is not IPv4 single hop (Ingot's Echo function is IPv4 single hop only).
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
    const noEcho = p.echoMode ? echoUnsupported(peer) : undefined;
    if (noEcho !== undefined) {
      issues.push({
        resource: `BGPPeer/${peer.name}`,
        field: 'spec.bfdProfile',
        reason: `BFDProfile ${JSON.stringify(p.name)} has echoMode, which Ingot runs for IPv4 single-hop peers only, not ${noEcho}`,
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
      ...(p.echoMode ? { echoInterval: p.echoInterval } : {}),
    };
  }
}
