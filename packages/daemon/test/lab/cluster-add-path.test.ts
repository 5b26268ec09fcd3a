// End to end, ADD-PATH send (annotation ingot.dev/add-path: send on the BGPPeer): three ingot nodes, but only node-1
// peers with FRR (the BGPPeer's nodeSelectors pick the `border` node, as a reflector is often reached from a few nodes
// only). With ADD-PATH, node-1 announces the service prefix once per announcing node, with each node's address as next
// hop, so FRR (ADD-PATH receive, its default) learns all three next hops from the one session; without the
// annotation it learns node-1's only (MetalLB issue #1).
import { labSuite, type PeerRoute } from '@ingot/lab';
import { expect, it } from 'vitest';
import { docs, NODE_NAMES, poolDoc, serviceDoc, useCluster } from './cluster-harness.js';

const NODE_IPS = NODE_NAMES.map((_, i) => `192.0.2.${i + 1}`);
const PREFIX = '203.0.113.1/32';

const resources = (addPath: boolean) =>
  docs(
    poolDoc('bgp', ['203.0.113.0/28']),
    `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router${addPath ? ', annotations: { ingot.dev/add-path: send }' : ''} }
spec:
  myASN: 64512
  peerASN: 64512
  peerAddress: 192.0.2.254
  holdTime: 9s
  nodeSelectors: [{ matchLabels: { border: 'yes' } }]`,
    `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: bgp }
spec: { ipAddressPools: [bgp] }`,
    serviceDoc({ name: 'web', annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.1' } }),
  );

const paths = (routes: PeerRoute[]) =>
  routes
    .filter((r) => r.prefix === PREFIX)
    .map((r) => `${r.peer} via ${r.nextHop}`)
    .sort();

labSuite(
  'ingot cluster: ADD-PATH send from one peering node',
  { tools: ['ip', 'curl', 'vtysh', 'bgpd', 'zebra'] },
  () => {
    const cluster = useCluster({
      name: 'addpath',
      frr: true,
      nodeLabels: { 'node-1': { border: 'yes' } },
      resources: resources(true),
    });

    it('FRR learns every node’s next hop from node-1’s session; without the annotation only node-1’s', async () => {
      const c = cluster();
      const frr = c.frr!;
      await frr.waitEstablished(NODE_IPS[0] as string, 30_000);
      expect(await c.waitServiceIps('demo/web', { count: 1 })).toEqual(['203.0.113.1']);
      const all = NODE_IPS.map((ip) => `192.0.2.1 via ${ip}`);
      const routes = await frr
        .waitRoutes((r) => paths(r).length === 3, 30_000)
        .catch(async (e) => {
          throw new Error(`${e.message}\n${await frr.command(`show bgp ipv4 unicast ${PREFIX}`)}\n${c.allLogs()}`);
        });
      expect(paths(routes)).toEqual(all);

      // The annotation removed: the session is replaced without ADD-PATH, and one path is left.
      c.setResources(resources(false));
      const one = await frr.waitRoutes((r) => paths(r).length === 1, 30_000);
      expect(paths(one)).toEqual(['192.0.2.1 via 192.0.2.1']);
    }, 120_000);
  },
);
