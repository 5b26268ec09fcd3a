// The README's example, verbatim (kept in sync by test/readme.test.ts).
import { createPair, labSuite, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';

labSuite('FRR learns a route', { tools: ['ip', 'vtysh', 'bgpd', 'zebra', 'exabgp'] }, () => {
  const lab = useTopology(() => createPair({ name: 'demo' })); // created in beforeAll, destroyed in afterAll

  it('receives 198.51.100.1/32 with its community', async () => {
    const { a, b } = lab();
    const frr = await startPeer('frr', {
      host: b,
      asn: 64512,
      neighbors: [{ address: a.ipv4, asn: 64513, passive: true, holdTime: 9 }],
    });
    // The speaker under test would normally be our own code, started with a.fork('child.mjs').
    await startPeer('exabgp', {
      host: a,
      asn: 64513,
      neighbors: [{ address: b.ipv4, asn: 64512 }],
      announce: [{ prefix: '198.51.100.1/32', communities: ['64513:100'], med: 10 }],
    });
    await frr.waitEstablished(a.ipv4);
    const routes = await frr.waitRoutes((r) => r.some((x) => x.prefix === '198.51.100.1/32'));
    expect(routes[0]).toEqual({
      prefix: '198.51.100.1/32',
      nextHop: '192.0.2.1',
      asPath: [64513],
      communities: ['64513:100'],
      largeCommunities: [],
      med: 10,
      origin: 'igp',
      peer: '192.0.2.1',
    });
  });
});
