import { createPair, labSuite, startPeer, useTopology } from '@ingot/lab';
import { describe, expect, it } from 'vitest';
import { has, SpeakerChild } from './speaker-harness.js';

// MetalLB's FRR-mode BGPPeer fields against FRR: dynamicASN (our peer configured 'internal' / 'external') and
// disableMP (our session offers only its own family while FRR offers both on it).

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra'];
const US = 64513;
const V4 = '198.51.100.10/32';
const V6 = '2001:db8:100::10/128';

interface FrrNeighbor {
  bgpState?: string;
  remoteAs?: number;
  localAs?: number;
  neighborCapabilities?: {
    multiprotocolExtensions?: Record<
      string,
      { advertised?: boolean; received?: boolean; advertisedAndReceived?: boolean }
    >;
  };
}

labSuite('dynamicASN and disableMP vs FRR', { tools: TOOLS }, () => {
  describe('on one pair, one FRR at a time', () => {
    const lab = useTopology(() => createPair({ name: 'dynasn' }));

    for (const [dynamic, frrAs] of [
      ['external', 64512],
      ['internal', US],
    ] as const) {
      it(`asn '${dynamic}' establishes with FRR in AS ${frrAs}; only IPv4 is negotiated and sent (disableMP)`, async () => {
        const { a, b } = lab();
        const frr = await startPeer('frr', {
          host: b,
          asn: frrAs,
          neighbors: [{ address: a.ipv4, asn: US, passive: true, holdTime: 9, families: ['ipv4', 'ipv6'] }],
        });
        const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4 }, [
          { address: b.ipv4, asn: dynamic, families: ['ipv4'], holdTime: 9 },
        ]);
        try {
          const up = await us.waitEstablished(b.ipv4, 20_000);
          expect(up.info).toMatchObject({ peerAsn: frrAs, internal: dynamic === 'internal', families: ['ipv4'] });
          await frr.waitEstablished(a.ipv4, 20_000);
          await us.request('announce', { prefix: V4, options: { nextHop: a.ipv4 } });
          await us.request('announce', { prefix: V6, options: {} });
          const routes = await frr.waitRoutes(has(V4), 10_000);
          expect(routes.map((r) => r.prefix)).toEqual([V4]);
          const n = (JSON.parse(await frr.command('show bgp neighbors json')) as Record<string, FrrNeighbor>)[a.ipv4];
          expect(n?.remoteAs).toBe(US);
          const mp = n?.neighborCapabilities?.multiprotocolExtensions ?? {};
          // FRR 8.4 reports { advertisedAndReceived: true } or { advertised: true } / { received: true }
          expect(mp.ipv4Unicast).toEqual({ advertisedAndReceived: true });
          expect(mp.ipv6Unicast).toEqual({ advertised: true }); // FRR offered IPv6 on this session; we did not
        } finally {
          await us.close();
          await frr.stop();
        }
      }, 60_000);
    }

    it("asn 'internal' meets FRR in another AS: we send OPEN Error / Bad Peer AS", async () => {
      const { a, b } = lab();
      const frr = await startPeer('frr', {
        host: b,
        asn: 64512,
        neighbors: [{ address: a.ipv4, asn: US, passive: true, holdTime: 9 }],
      });
      const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4 }, [
        { address: b.ipv4, asn: 'internal', families: ['ipv4'], holdTime: 9 },
      ]);
      try {
        const n = await us.waitEvent((e) => e.event === 'notification' && e.direction === 'sent', 20_000);
        expect([n.code, n.subcode]).toEqual([2, 2]);
      } finally {
        await us.close();
        await frr.stop();
      }
    }, 60_000);
  });
});
