import { createLan, type LabHost, labSuite, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { SpeakerChild } from './speaker-harness.js';

// Why the speaker needs no ADD-PATH send when every node peers with the route reflector: two of our speakers (iBGP
// clients of an FRR route reflector) announce the same /32 with their own next hops; the reflector, with
// addpath-tx-all-paths toward another client (FRR, ADD-PATH receive), passes both nodes' paths on, so neither next hop
// is lost at the reflector. When only some nodes peer, ADD-PATH send carries the others: add-path-frr.test.ts.

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra'];
const AS = 64512;
const V4 = '198.51.100.20/32';

labSuite('route reflector keeps every node’s path (FRR RR with ADD-PATH toward its clients)', { tools: TOOLS }, () => {
  const lab = useTopology(() => createLan(3, { name: 'rr' }));

  it('the reflector’s other client receives both next hops', async () => {
    const { router, hosts } = lab();
    const [n1, n2, c] = hosts as [LabHost, LabHost, LabHost];
    const rr = await startPeer('frr', {
      host: router,
      asn: AS,
      neighbors: [
        { address: n1.ipv4, asn: AS, passive: true, holdTime: 9 },
        { address: n2.ipv4, asn: AS, passive: true, holdTime: 9 },
        { address: c.ipv4, asn: AS, holdTime: 9, addPath: true },
      ],
      extraConfig: [
        `router bgp ${AS}`,
        ' address-family ipv4 unicast',
        ...[n1, n2, c].map((h) => `  neighbor ${h.ipv4} route-reflector-client`),
        ' exit-address-family',
        'exit',
      ].join('\n'),
    });
    const client = await startPeer('frr', {
      host: c,
      asn: AS,
      neighbors: [{ address: router.ipv4, asn: AS, passive: true, holdTime: 9, addPath: true }],
    });
    const speakers: SpeakerChild[] = [];
    try {
      for (const host of [n1, n2]) {
        const us = await SpeakerChild.start(host, { asn: AS, routerId: host.ipv4 }, [
          { address: router.ipv4, asn: AS, families: ['ipv4'], holdTime: 9 },
        ]);
        speakers.push(us);
        await us.waitEstablished(router.ipv4, 20_000);
        await us.request('announce', { prefix: V4, options: { nextHop: host.ipv4 } });
      }
      await client.waitEstablished(router.ipv4, 20_000);
      const routes = await client.waitRoutes((r) => r.filter((x) => x.prefix === V4).length === 2, 20_000);
      expect(
        routes
          .filter((x) => x.prefix === V4)
          .map((x) => x.nextHop)
          .sort(),
      ).toEqual([n1.ipv4, n2.ipv4].sort());
    } finally {
      for (const s of speakers) await s.close();
      await client.stop();
      await rr.stop();
    }
  }, 90_000);
});
