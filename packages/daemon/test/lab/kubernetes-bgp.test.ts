// Kubernetes mode end to end against a real kube-apiserver (kube-harness.ts), BGP: BGPPeer, Community and
// BGPAdvertisement custom resources make the three speakers peer (iBGP, AS 64512) with FRR on the LAN's router; FRR
// learns the Service's IP from every node with the advertisement's communities (literal and Community alias) and local
// preference; an externalTrafficPolicy: Local Service is announced only from the nodes of the EndpointSlices the test
// writes, and follows them; deleting the Service withdraws its prefix everywhere.
import { labSuite, type PeerRoute, pollUntil, sleep } from '@ingot/lab';
import { beforeAll, expect, it } from 'vitest';
import { NODE_IPS, useKubeLab } from './kube-harness.js';
import { APP_NAMESPACE, metallbObject, serviceObject } from './kube-manifests.js';

const IPS = Object.values(NODE_IPS);

const CONFIG = [
  metallbObject('IPAddressPool', 'bgp', { addresses: ['203.0.113.0/28'] }),
  metallbObject('BGPPeer', 'router', { myASN: 64512, peerASN: 64512, peerAddress: '192.0.2.254', holdTime: '9s' }),
  metallbObject('Community', 'aliases', { communities: [{ name: 'lab', value: '64512:200' }] }),
  metallbObject('BGPAdvertisement', 'bgp', {
    ipAddressPools: ['bgp'],
    communities: ['64512:100', 'lab'],
    localPref: 150,
  }),
];

const pathsOf = (routes: PeerRoute[], prefix: string) => routes.filter((r) => r.prefix === prefix);
const peersOf = (routes: PeerRoute[], prefix: string) =>
  pathsOf(routes, prefix)
    .map((r) => r.peer)
    .sort();

labSuite(
  'Kubernetes mode on a real API server: BGP announcements to FRR',
  { tools: ['ip', 'curl', 'vtysh', 'bgpd', 'zebra', 'etcd', 'kube-apiserver', 'openssl'] },
  () => {
    const lab = useKubeLab({ name: 'k8sbgp', frr: true });
    beforeAll(async () => {
      const l = lab();
      await l.kube.apply(CONFIG);
      await l.kube.apply(serviceObject('web', { annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.1' } }));
      await l.setEndpoints('web', ['node-1', 'node-2', 'node-3']);
      await l.kube.apply(
        serviceObject('local', {
          annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.2' },
          externalTrafficPolicy: 'Local',
        }),
      );
      await l.setEndpoints('local', ['node-2']);
      await l.ensureAllRunning();
    }, 120_000);

    it('FRR learns the Service IP from all three nodes with communities and local preference', async () => {
      const l = lab();
      const frr = l.frr!;
      for (const ip of IPS) await frr.waitEstablished(ip, 30_000);
      expect(await l.waitIngress('web')).toEqual(['203.0.113.1']);
      const routes = await frr
        .waitRoutes((r) => peersOf(r, '203.0.113.1/32').length === 3, 30_000)
        .catch(async (e) => {
          throw new Error(`${e.message}\n${await frr.command('show bgp ipv4 unicast')}\n${l.allLogs()}`);
        });
      expect(peersOf(routes, '203.0.113.1/32')).toEqual(IPS);
      for (const path of pathsOf(routes, '203.0.113.1/32')) {
        expect(path.nextHop).toBe(path.peer);
        expect(path.asPath).toEqual([]);
        expect([...path.communities].sort()).toEqual(['64512:100', '64512:200']);
        expect(path.localPref).toBe(150);
      }
      // Each speaker's BGP identifier is its node's address (MetalLB's default), not one shared value.
      const neighbors = JSON.parse(await frr.command('show bgp neighbors json')) as Record<
        string,
        { remoteRouterId?: string }
      >;
      for (const ip of IPS) expect(neighbors[ip]?.remoteRouterId, ip).toBe(ip);
    }, 120_000);

    it('externalTrafficPolicy: Local is announced from the nodes of its EndpointSlice, and follows it', async () => {
      const l = lab();
      const frr = l.frr!;
      expect(await l.waitIngress('local')).toEqual(['203.0.113.2']);
      await frr.waitRoutes((r) => peersOf(r, '203.0.113.2/32').length > 0, 30_000);
      await sleep(3_000); // time for the other nodes to (wrongly) announce it too
      expect(peersOf(await frr.routes(), '203.0.113.2/32')).toEqual(['192.0.2.2']);
      await l.setEndpoints('local', ['node-1', 'node-3']);
      const moved = await frr.waitRoutes(
        (r) => JSON.stringify(peersOf(r, '203.0.113.2/32')) === JSON.stringify(['192.0.2.1', '192.0.2.3']),
        20_000,
      );
      expect(peersOf(moved, '203.0.113.1/32')).toEqual(IPS);
    }, 90_000);

    it('deleting the Service withdraws its prefix from every node', async () => {
      const l = lab();
      const frr = l.frr!;
      await frr.waitRoutes((r) => peersOf(r, '203.0.113.1/32').length === 3, 30_000);
      expect(
        await l.kube.delete({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: APP_NAMESPACE } }),
      ).toBe(200);
      await pollUntil(
        async () => (peersOf(await frr.routes(), '203.0.113.1/32').length === 0 ? true : undefined),
        20_000,
        async () => `203.0.113.1/32 still in FRR: ${JSON.stringify(pathsOf(await frr.routes(), '203.0.113.1/32'))}`,
      );
      expect(peersOf(await frr.routes(), '203.0.113.2/32').length).toBeGreaterThan(0);
    }, 90_000);
  },
);
