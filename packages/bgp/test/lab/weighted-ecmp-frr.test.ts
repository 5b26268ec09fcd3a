import { createLan, labSuite, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { has, SpeakerChild } from './speaker-harness.js';

// Weighted ECMP: two of our speakers announce the same /32 with the link bandwidth extended community in the ratio
// 3:1 (as two nodes with three and one ready endpoints would); FRR with maximum-paths and its default
// 'bgp bestpath bandwidth' behaviour installs one multipath route whose kernel next-hop weights are 3:1.

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra'];
const US = 64513;
const FRR_AS = 64512;
const V4 = '198.51.100.10/32';
const MBIT = 125_000; // bytes per second

labSuite('weighted ECMP with link bandwidth vs FRR', { tools: TOOLS }, () => {
  const lab = useTopology(() => createLan(2, { name: 'wecmp' }));

  it('FRR installs the two next hops with weights 3:1', async () => {
    const { router, hosts } = lab();
    const [n1, n2] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
    const frr = await startPeer('frr', {
      host: router,
      asn: FRR_AS,
      neighbors: [
        { address: n1.ipv4, asn: US, passive: true, holdTime: 9 },
        { address: n2.ipv4, asn: US, passive: true, holdTime: 9 },
      ],
      extraConfig: [
        'router bgp 64512',
        ' address-family ipv4 unicast',
        '  maximum-paths 4',
        ' exit-address-family',
        'exit',
      ].join('\n'),
    });
    const speakers: SpeakerChild[] = [];
    try {
      for (const [host, endpoints] of [
        [n1, 3],
        [n2, 1],
      ] as const) {
        const us = await SpeakerChild.start(host, { asn: US, routerId: host.ipv4 }, [
          { address: router.ipv4, asn: FRR_AS, families: ['ipv4'], holdTime: 9 },
        ]);
        speakers.push(us);
        await us.waitEstablished(router.ipv4, 20_000);
        await us.request('announce', { prefix: V4, options: { nextHop: host.ipv4, linkBandwidth: endpoints * MBIT } });
      }
      await frr.waitRoutes((r) => r.filter((x) => x.prefix === V4).length === 2, 15_000);
      /** n1:n2 kernel weight ratio once both next hops are installed and `ok(ratio)` holds (or the deadline passes). */
      const ratio = async (ok: (r: number) => boolean) => {
        let weights: Record<string, number> = {};
        let r = Number.NaN;
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          const routes = JSON.parse(await router.run('ip', ['-j', 'route', 'show', V4])) as {
            nexthops?: { gateway: string; weight?: number }[];
          }[];
          weights = Object.fromEntries((routes[0]?.nexthops ?? []).map((h) => [h.gateway, h.weight ?? 1]));
          r = (weights[n1.ipv4] ?? Number.NaN) / (weights[n2.ipv4] ?? Number.NaN);
          if (ok(r)) break;
          await new Promise((res) => setTimeout(res, 200));
        }
        console.log(`kernel next-hop weights on FRR: ${JSON.stringify(weights)}`);
        return r;
      };
      const threeToOne = await ratio((r) => r > 2.9 && r < 3.1);
      expect(threeToOne).toBeGreaterThan(2.9);
      expect(threeToOne).toBeLessThan(3.1);
      // Control: the weights follow the community (n1 down to one endpoint: 1:1)
      await speakers[0]?.request('announce', { prefix: V4, options: { nextHop: n1.ipv4, linkBandwidth: MBIT } });
      expect(await ratio((r) => r === 1)).toBe(1);
      expect(has(V4)(await frr.routes('ipv4'))).toBe(true);
    } finally {
      for (const s of speakers) await s.close();
      await frr.stop();
    }
  }, 90_000);
});
