import { type BgpPeer, createLan, type LabHost, labSuite, type PeerRoute, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { SpeakerChild } from './speaker-harness.js';

// ADD-PATH send (RFC 7911) through an FRR route reflector: every node's next hop survives the reflector even when
// one session carries them all (MetalLB issue #1).
//
// Topology, one LAN: n1 runs our speaker, the only node peering with the reflector (as when a BGPPeer's nodeSelectors
// pick a few nodes); n2 is another node serving the same service (its address is only a next hop here); rr is FRR,
// route reflector, ADD-PATH receive from n1 (FRR's default) and `addpath-tx-all-paths` toward its client c (FRR).
// Our speaker announces the service (IPv4 and IPv6) with next hop n1 and nextHops [n2].
//   - With ADD-PATH negotiated, both paths reach the reflector with path identifiers 1 and 2, and its client gets
//     both next hops.
//   - The control, the same speaker without `addPath`: the reflector and its client learn n1's path only, so n2's
//     next hop is lost at the first hop. (When every node peers itself, the reflector already has every path and
//     needs only addpath-tx-all-paths toward its clients: route-reflector-frr.test.ts.)

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra'];
const AS = 64512;
const V4 = '198.51.100.30/32';
const V6 = '2001:db8:30::1/128';

/** The next hops of `prefix` among `routes`, sorted. */
const nextHops = (routes: PeerRoute[], prefix: string) =>
  routes
    .filter((r) => r.prefix === prefix)
    .map((r) => r.nextHop)
    .sort();

/** FRR's received path identifiers of `prefix` from `show bgp <af> unicast <prefix> json`. */
async function frrPathIds(frr: BgpPeer, prefix: string): Promise<number[]> {
  const af = prefix.includes(':') ? 'ipv6' : 'ipv4';
  const doc = JSON.parse(await frr.command(`show bgp ${af} unicast ${prefix} json`)) as {
    paths?: { addpathRxId?: number }[];
  };
  return (doc.paths ?? []).map((p) => p.addpathRxId ?? 0).sort();
}

labSuite('ADD-PATH send through an FRR route reflector', { tools: TOOLS }, () => {
  const lab = useTopology(() => createLan(3, { name: 'addp' }));

  for (const addPath of [true, false]) {
    it(addPath
      ? 'with ADD-PATH: the reflector and its client hold both nodes’ next hops (IPv4 and IPv6)'
      : 'control, without ADD-PATH: only the first next hop gets through', async () => {
      const { router, hosts } = lab();
      const [n1, n2, c] = hosts as [LabHost, LabHost, LabHost];
      const families = ['ipv4', 'ipv6'] as const;
      const rr = await startPeer('frr', {
        host: router,
        asn: AS,
        neighbors: [
          { address: n1.ipv4, asn: AS, passive: true, holdTime: 9, families: [...families] },
          { address: c.ipv4, asn: AS, holdTime: 9, addPath: true, families: [...families] },
        ],
        extraConfig: [
          `router bgp ${AS}`,
          ...families.flatMap((af) => [
            ` address-family ${af} unicast`,
            ...[n1, c].map((h) => `  neighbor ${h.ipv4} route-reflector-client`),
            ' exit-address-family',
          ]),
          'exit',
        ].join('\n'),
      });
      const client = await startPeer('frr', {
        host: c,
        asn: AS,
        neighbors: [
          { address: router.ipv4, asn: AS, passive: true, holdTime: 9, addPath: true, families: [...families] },
        ],
      });
      const us = await SpeakerChild.start(n1, { asn: AS, routerId: n1.ipv4 }, [
        { address: router.ipv4, asn: AS, families: [...families], holdTime: 9, addPath },
      ]);
      try {
        await us.waitEstablished(router.ipv4, 20_000);
        await us.request('announce', { prefix: V4, options: { nextHop: n1.ipv4, nextHops: [n2.ipv4] } });
        await us.request('announce', { prefix: V6, options: { nextHop: n1.ipv6, nextHops: [n2.ipv6] } });
        await client.waitEstablished(router.ipv4, 20_000);
        const want = addPath ? 2 : 1;
        const routes = await client.waitRoutes(
          (r) => r.filter((x) => x.prefix === V4).length === want && r.filter((x) => x.prefix === V6).length === want,
          20_000,
        );
        if (addPath) {
          expect(nextHops(routes, V4)).toEqual([n1.ipv4, n2.ipv4].sort());
          expect(nextHops(routes, V6)).toEqual([n1.ipv6, n2.ipv6].sort());
          // the reflector received them as two paths of one session, path identifiers 1 and 2
          expect(await frrPathIds(rr, V4)).toEqual([1, 2]);
          expect(await frrPathIds(rr, V6)).toEqual([1, 2]);
        } else {
          // settled: give a second path time to arrive, then check it did not
          await new Promise((r) => setTimeout(r, 2000));
          const later = await client.routes();
          expect(nextHops(later, V4)).toEqual([n1.ipv4]);
          expect(nextHops(later, V6)).toEqual([n1.ipv6]);
          expect(nextHops(await rr.routes(), V4)).toEqual([n1.ipv4]);
        }
        // a withdrawal of one next hop withdraws only its path
        if (addPath) {
          await us.request('announce', { prefix: V4, options: { nextHop: n1.ipv4 } });
          const after = await client.waitRoutes((r) => r.filter((x) => x.prefix === V4).length === 1, 20_000);
          expect(nextHops(after, V4)).toEqual([n1.ipv4]);
          expect(nextHops(after, V6)).toEqual([n1.ipv6, n2.ipv6].sort());
        }
      } finally {
        await us.close();
        await client.stop();
        await rr.stop();
      }
    }, 90_000);
  }
});
