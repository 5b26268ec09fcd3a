import { type BgpPeer, createPair, labSuite, startPeer, useTopology } from '@ingot/lab';
import { describe, expect, it } from 'vitest';
import { find, has, lacks, SpeakerChild } from './speaker-harness.js';

const US = 64513;
const THEM = 64512;
const V4 = '198.51.100.20/32';
const V6 = '2001:db8:100::20/128';
const ATTRS = { communities: ['64513:100'], largeCommunities: ['64513:7:8'], med: 10 };

/** Announce V4 + V6 with ATTRS, check them in the peer's RIB, change the MED, withdraw both. */
async function announceChangeWithdraw(
  peer: BgpPeer,
  us: SpeakerChild,
  a: { ipv4: string; ipv6: string },
  v6NextHop: unknown = a.ipv6,
) {
  await us.request('announce', { prefix: V4, options: ATTRS });
  await us.request('announce', { prefix: V6, options: ATTRS });
  const routes = await peer.waitRoutes(has(V4, V6), 15_000);
  expect(find(routes, V4)).toMatchObject({
    nextHop: a.ipv4,
    asPath: [US],
    communities: ['64513:100'],
    largeCommunities: ['64513:7:8'],
    med: 10,
    origin: 'igp',
  });
  expect(find(routes, V6)).toMatchObject({ nextHop: v6NextHop, asPath: [US], communities: ['64513:100'], med: 10 });
  await us.request('announce', { prefix: V4, options: { ...ATTRS, med: 11 } });
  await us.request('announce', { prefix: V6, options: { ...ATTRS, med: 11 } });
  await peer.waitRoutes((r) => find(r, V4)?.med === 11 && find(r, V6)?.med === 11, 15_000);
  await us.request('withdraw', { prefix: V4 });
  await us.request('withdraw', { prefix: V6 });
  await peer.waitRoutes(lacks(V4, V6), 15_000);
}

labSuite('speaker vs BIRD', { tools: ['ip', 'bird', 'birdc'] }, () => {
  describe('eBGP: us active with GTSM on IPv4, passive on IPv6', () => {
    const lab = useTopology(() => createPair({ name: 'spkbird' }));

    it('establishes, announces, changes and withdraws IPv4 and IPv6', async () => {
      const { a, b } = lab();
      const bird = await startPeer('bird', {
        host: b,
        asn: THEM,
        neighbors: [
          { address: a.ipv4, asn: US, passive: true, ttlSecurity: true },
          { address: a.ipv6, asn: US },
        ],
      });
      const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4, listen: true }, [
        { address: b.ipv4, asn: THEM, families: ['ipv4'], ttlSecurity: true },
        { address: b.ipv6, asn: THEM, families: ['ipv6'], passive: true },
      ]);
      try {
        await us.waitEstablished(b.ipv4, 20_000);
        await us.waitEstablished(b.ipv6, 20_000);
        await bird.waitEstablished(a.ipv4);
        await announceChangeWithdraw(bird, us, a);
      } finally {
        await us.close();
      }
    }, 60_000);
  });
});

labSuite('speaker: 4-octet local AS toward a 2-octet peer', { tools: ['ip', 'vtysh', 'bgpd', 'zebra'] }, () => {
  const lab = useTopology(() => createPair({ name: 'spkas2' }));

  it('peers with a 2-octet speaker: OPEN with AS_TRANS, routes with AS_TRANS in AS_PATH', async () => {
    const { a, b } = lab();
    // FRR with dont-capability-negotiate sends an OPEN without capabilities: no 4-octet AS (and IPv4 only).
    const frr = await startPeer('frr', {
      host: b,
      asn: THEM,
      neighbors: [{ address: a.ipv4, asn: 4_200_000_001, passive: true }],
      extraConfig: `router bgp ${THEM}\n neighbor ${a.ipv4} dont-capability-negotiate\nexit\n`,
    });
    const us = await SpeakerChild.start(a, { asn: 4_200_000_001, routerId: a.ipv4 }, [
      { address: b.ipv4, asn: THEM, families: ['ipv4'] },
    ]);
    try {
      const up = await us.waitEstablished(b.ipv4, 20_000).catch(async (e) => {
        throw new Error(`${e}\n${JSON.stringify(await us.peers())}\n${await frr.logs()}`);
      });
      expect(up.info).toMatchObject({ fourOctetAs: false, families: ['ipv4'] });
      await us.request('announce', { prefix: V4 });
      const routes = await frr.waitRoutes(has(V4), 15_000);
      // FRR, having ignored our capabilities, treats the AS_PATH as a 2-octet speaker would: AS_TRANS. (The AS4_PATH
      // carrying 4200000001 next to it is checked byte for byte in test/speaker/adj-rib-out.test.ts.)
      expect(find(routes, V4)?.asPath).toEqual([23456]);
    } finally {
      await us.close();
    }
  }, 40_000);
});

labSuite('speaker vs GoBGP', { tools: ['ip', 'gobgpd', 'gobgp'] }, () => {
  const lab = useTopology(() => createPair({ name: 'spkgobgp' }));

  it('GoBGP passive: we connect over IPv4 and IPv6; announce, change, withdraw', async () => {
    const { a, b } = lab();
    const gobgp = await startPeer('gobgp', {
      host: b,
      asn: THEM,
      neighbors: [
        { address: a.ipv4, asn: US, passive: true },
        { address: a.ipv6, asn: US, passive: true },
      ],
    });
    const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4 }, [
      { address: b.ipv4, asn: THEM, families: ['ipv4'] },
      { address: b.ipv6, asn: THEM, families: ['ipv6'] },
    ]);
    try {
      await us.waitEstablished(b.ipv4, 20_000);
      await us.waitEstablished(b.ipv6, 20_000);
      await announceChangeWithdraw(gobgp, us, a);
    } finally {
      await us.close();
    }
  }, 60_000);
});

labSuite('speaker vs ExaBGP', { tools: ['ip', 'exabgp'] }, () => {
  const lab = useTopology(() => createPair({ name: 'spkexa' }));

  it('us active on IPv4, ExaBGP active on IPv6: receives both with attributes, changes and withdrawals', async () => {
    const { a, b } = lab();
    const exa = await startPeer('exabgp', {
      host: b,
      asn: THEM,
      neighbors: [
        { address: a.ipv4, asn: US, passive: true },
        { address: a.ipv6, asn: US },
      ],
    });
    const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4, listen: true }, [
      { address: b.ipv4, asn: THEM, families: ['ipv4'] },
      { address: b.ipv6, asn: THEM, families: ['ipv6'], passive: true },
    ]);
    try {
      await us.waitEstablished(b.ipv4, 20_000);
      const v6 = await us.waitEstablished(b.ipv6, 20_000);
      expect((v6.info as { direction: string }).direction).toBe('incoming');
      // ExaBGP's sink records the link-local next hop when both come (lab.md §3.4): either is ours.
      await announceChangeWithdraw(exa, us, a, expect.stringMatching(new RegExp(`^(${a.ipv6}|fe80:.*)$`)));
    } finally {
      await us.close();
    }
  }, 60_000);
});
