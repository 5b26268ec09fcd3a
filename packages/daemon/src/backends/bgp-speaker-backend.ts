import { isIP } from 'node:net';
import { type BgpPeer, BgpSpeaker } from '@ingot/bgp';
import type { BGPPeer } from '../config/resources.js';
import type { BgpBackend, BgpPeerView } from '../daemon.js';
import type { Logger } from '../logger.js';
import type { MetricSample } from '../metrics.js';
import type { BgpAnnouncement } from '../speaker/announcement-plan.js';
import { routerIdForLocalAddress, sessionLocalAddress } from './session-router-id.js';
import { UnnumberedNeighbors } from './unnumbered-neighbors.js';

/** Options of {@link createBgpSpeakerBackend}. */
export interface BgpSpeakerBackendOptions {
  /** BGP identifier when a BGPPeer has no routerID (MetalLB derives it from the node address). */
  routerId: string;
  /** Local address for sessions whose BGPPeer has no `sourceAddress` (the Node document's `bgp.sourceAddress`). */
  sourceAddress?: string;
  /**
   * Give a BGPPeer without `routerID` the session's own local address as identifier, as MetalLB's native speaker does
   * (the `sourceAddress`, else the address the kernel routes the peer from; for IPv6 the first IPv4 address of that
   * interface, else a hash of the node name); `routerId` is then the fallback when no route is known.
   */
  sessionRouterId?: { nodeName: string };
  /** Logger. */
  log: Logger;
  /** Finds the neighbours of BGPPeers with `interface` (tests pass one with fake discoveries). */
  unnumbered?: UnnumberedNeighbors;
}

/**
 * A {@link BgpBackend} on `@ingot/bgp`: one speaker per (myASN, routerID) pair, sessions added, replaced and removed to
 * match the BGPPeers in force, and announcements mapped from BGPPeer names to peer addresses.
 */
export function createBgpSpeakerBackend(
  options: BgpSpeakerBackendOptions,
): BgpBackend & { close(): Promise<void>; metrics(): MetricSample[]; peers(): BgpPeerView[] } {
  const speakers = new Map<string, BgpSpeaker>();
  const peers = new Map<
    string,
    { spec: string; peer: BGPPeer; speaker: BgpSpeaker; session: BgpPeer; routerId: string }
  >();
  const routes = new Map<string, BgpAnnouncement>();
  const unnumbered = options.unnumbered ?? new UnnumberedNeighbors(options.log);

  /** Peers waiting for their session's local address (name → spec), see `sessionRouterId`. */
  const resolving = new Map<string, string>();
  const routerIdOf = async (p: BGPPeer): Promise<string> => {
    const source = p.interface ? undefined : (p.sourceAddress ?? options.sourceAddress);
    const local = source ?? (await sessionLocalAddress(p.peerAddress, p.peerPort));
    return local && options.sessionRouterId
      ? routerIdForLocalAddress(local, options.sessionRouterId.nodeName)
      : options.routerId;
  };
  const speakerFor = (p: BGPPeer, routerId: string): BgpSpeaker => {
    const key = `${p.myASN}/${routerId}`;
    let s = speakers.get(key);
    if (!s) {
      s = new BgpSpeaker({ asn: p.myASN, routerId });
      s.on('warning', (message) => options.log.warn('bgp warning', { message }));
      speakers.set(key, s);
    }
    return s;
  };

  const announceOn = (speaker: BgpSpeaker, a: BgpAnnouncement) => {
    const targets = [...peers.values()].filter(
      (p) => p.speaker === speaker && (a.peers.length === 0 || a.peers.includes(p.peer.name)),
    );
    if (targets.length === 0) return;
    speaker.announce(a.prefix, {
      communities: a.communities,
      largeCommunities: a.largeCommunities,
      ...(a.localPref > 0 ? { localPref: a.localPref } : {}),
      ...(a.linkBandwidth !== undefined ? { linkBandwidth: a.linkBandwidth } : {}),
      ...(a.nextHops && a.nextHops.length > 0 ? { nextHops: a.nextHops } : {}),
      peers: targets.map((t) => t.peer.peerAddress),
    });
  };

  /**
   * A BGPPeer with `interface` gets its address (the router's scoped link-local one) once the neighbour is heard;
   * without `routerID` and with `sessionRouterId` the identifier comes from the session's local address.
   */
  const resolvePeer = async (p: BGPPeer): Promise<{ peer: BGPPeer; routerId: string }> => {
    const peer = p.interface ? { ...p, peerAddress: await unnumbered.neighbor(p.interface, p.name) } : p;
    if (p.interface) options.log.info('bgp unnumbered neighbour found', { peer: p.name, address: peer.peerAddress });
    const routerId = p.routerID ?? (options.sessionRouterId ? await routerIdOf(peer) : options.routerId);
    return { peer, routerId };
  };

  const addPeer = (p: BGPPeer, routerId: string, spec = JSON.stringify(p)): void => {
    const speaker = speakerFor(p, routerId);
    const peer = speaker.addPeer({
      address: p.peerAddress,
      ...(p.interface ? { interface: p.interface } : {}),
      asn: p.dynamicASN ?? p.peerASN,
      port: p.peerPort,
      holdTime: p.holdTime,
      keepaliveTime: p.keepaliveTime,
      ...(p.connectTime !== undefined ? { connectRetryTime: p.connectTime } : {}),
      ...(p.password ? { password: p.password } : {}),
      ...(!p.interface && (p.sourceAddress ?? options.sourceAddress)
        ? { localAddress: (p.sourceAddress ?? options.sourceAddress) as string }
        : {}),
      ...(p.ebgpMultiHop ? { multihop: 255 } : {}),
      ...(p.vrf ? { vrf: p.vrf } : {}),
      ...(p.addPath ? { addPath: true } : {}),
      ...(p.bfd
        ? {
            bfd: {
              receiveInterval: p.bfd.receiveInterval,
              transmitInterval: p.bfd.transmitInterval,
              detectMultiplier: p.bfd.detectMultiplier,
              passive: p.bfd.passive,
              minimumTtl: p.bfd.minimumTtl,
              ...(p.bfd.echoInterval !== undefined ? { echoInterval: p.bfd.echoInterval } : {}),
            },
          }
        : {}),
      gracefulRestart: p.enableGracefulRestart,
      // disableMP: only the session's own family, as MetalLB's FRR mode activates the neighbor in one family only.
      // (an unnumbered session is IPv6 and carries IPv4 with IPv6 next hops: both families)
      families: p.disableMP
        ? [isIP(p.peerAddress) === 6 ? 'ipv6' : 'ipv4']
        : [isIP(p.peerAddress) === 6 ? 'ipv6' : 'ipv4', isIP(p.peerAddress) === 6 ? 'ipv4' : 'ipv6'],
    });
    peer.on('state', (to, from) => options.log.info('bgp session state', { peer: p.name, from, to }));
    peer.on('notification', (n) => options.log.warn('bgp notification', { peer: p.name, ...n }));
    peer.on('bfd', (state, diagnostic) => options.log.info('bfd session state', { peer: p.name, state, diagnostic }));
    peers.set(p.name, { spec, peer: p, speaker, session: peer, routerId });
    options.log.info('bgp peer added', { peer: p.name, address: p.peerAddress, asn: p.peerASN, routerId });
  };

  // The router on an unnumbered link was replaced: its sessions move to the new address.
  unnumbered.onChange((ifname, address) => {
    for (const [name, entry] of [...peers]) {
      if (entry.peer.interface !== ifname || entry.peer.peerAddress === address) continue;
      entry.speaker.removePeer(entry.peer.peerAddress);
      peers.delete(name);
      options.log.info('bgp unnumbered neighbour changed', { peer: name, from: entry.peer.peerAddress, to: address });
      addPeer({ ...entry.peer, peerAddress: address }, entry.routerId, entry.spec);
    }
    for (const a of routes.values()) for (const s of speakers.values()) announceOn(s, a);
  });

  return {
    setPeers(list) {
      const wanted = new Map(list.map((p) => [p.name, p]));
      for (const [name, entry] of peers) {
        const next = wanted.get(name);
        if (next && JSON.stringify(next) === entry.spec) continue;
        entry.speaker.removePeer(entry.peer.peerAddress);
        if (entry.peer.interface) unnumbered.release(entry.peer.interface, name);
        peers.delete(name);
        options.log.info('bgp peer removed', { peer: name });
      }
      for (const [name, spec] of resolving) {
        if (JSON.stringify(wanted.get(name)) === spec) continue;
        resolving.delete(name);
        const iface = (JSON.parse(spec) as BGPPeer).interface;
        if (iface) unnumbered.release(iface, name);
      }
      for (const p of list) {
        if (peers.has(p.name) || resolving.has(p.name)) continue;
        if (!p.interface && (p.routerID || !options.sessionRouterId)) {
          addPeer(p, p.routerID ?? options.routerId);
          continue;
        }
        const spec = JSON.stringify(p);
        resolving.set(p.name, spec);
        resolvePeer(p).then(
          ({ peer, routerId }) => {
            if (resolving.get(p.name) !== spec) return; // removed or changed meanwhile
            resolving.delete(p.name);
            addPeer(peer, routerId, spec);
            for (const a of routes.values()) for (const s of speakers.values()) announceOn(s, a);
          },
          (err: Error) => {
            // the next configuration change tries again
            if (resolving.get(p.name) === spec) resolving.delete(p.name);
            options.log.error('bgp unnumbered: cannot look for the neighbour', {
              peer: p.name,
              interface: p.interface,
              error: err.message,
            });
          },
        );
      }
      for (const a of routes.values()) for (const s of speakers.values()) announceOn(s, a);
    },

    announce(a) {
      routes.set(a.prefix, a);
      for (const s of speakers.values()) announceOn(s, a);
    },
    withdraw(prefix) {
      routes.delete(prefix);
      for (const s of speakers.values()) s.withdraw(prefix);
    },
    peers() {
      return [...peers.values()].map(({ peer, session }) => ({
        name: peer.name,
        address: `${peer.peerAddress}:${peer.peerPort}`,
        asn: session.session?.peerAsn ?? peer.peerASN,
        state: session.state,
        prefixesAdvertised: session.counters.prefixesAdvertised,
      }));
    },
    metrics() {
      const out: MetricSample[] = [];
      for (const { peer, session } of peers.values()) {
        const labels = { peer: `${peer.peerAddress}:${peer.peerPort}` };
        out.push({ name: 'metallb_bgp_session_up', labels, value: session.state === 'Established' ? 1 : 0 });
        out.push({ name: 'metallb_bgp_updates_total', labels, value: session.counters.updatesSent });
        out.push({ name: 'metallb_bgp_announced_prefixes_total', labels, value: session.counters.prefixesAdvertised });
      }
      return out;
    },
    async close() {
      resolving.clear();
      unnumbered.close();
      await Promise.all([...speakers.values()].map((s) => s.close()));
      speakers.clear();
      peers.clear();
    },
  };
}
