// End to end, BGP: three ingot nodes peer (iBGP, AS 64512) with FRR on the LAN's router. FRR learns each service
// prefix from every eligible node with the advertisement's communities (literal and Community alias) and local
// preference; an externalTrafficPolicy: Local service is announced only from the nodes with endpoints; deleting a
// service from the file withdraws its prefix everywhere.
import { labSuite, type PeerRoute, pollUntil, sleep } from '@ingot/lab';
import { expect, it } from 'vitest';
import { docs, NODE_NAMES, poolDoc, serviceDoc, useCluster } from './cluster-harness.js';

const NODE_IPS = NODE_NAMES.map((_, i) => `192.0.2.${i + 1}`);

const BGP_BASE = docs(
  poolDoc('bgp', ['203.0.113.0/28']),
  `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router }
spec: { myASN: 64512, peerASN: 64512, peerAddress: 192.0.2.254, holdTime: 9s }`,
  `apiVersion: metallb.io/v1beta1
kind: Community
metadata: { name: aliases }
spec: { communities: [{ name: lab, value: '64512:200' }] }`,
  `apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: bgp }
spec: { ipAddressPools: [bgp], communities: ['64512:100', lab], localPref: 150 }`,
);

const WEB = serviceDoc({ name: 'web', annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.1' } });
const LOCAL = serviceDoc({
  name: 'local',
  annotations: { 'metallb.io/loadBalancerIPs': '203.0.113.2' },
  externalTrafficPolicy: 'Local',
  endpointNodes: ['node-2'],
  selector: { app: 'local' },
});

const pathsOf = (routes: PeerRoute[], prefix: string) => routes.filter((r) => r.prefix === prefix);
const peersOf = (routes: PeerRoute[], prefix: string) =>
  pathsOf(routes, prefix)
    .map((r) => r.peer)
    .sort();

labSuite('ingot cluster: BGP announcements to FRR', { tools: ['ip', 'curl', 'vtysh', 'bgpd', 'zebra'] }, () => {
  const cluster = useCluster({ name: 'bgp', frr: true, resources: docs(BGP_BASE, WEB, LOCAL) });

  it('FRR learns the service prefix from all three nodes with communities and local preference', async () => {
    const c = cluster();
    const frr = c.frr!;
    for (const ip of NODE_IPS) await frr.waitEstablished(ip, 30_000);
    expect(await c.waitServiceIps('demo/web', { count: 1 })).toEqual(['203.0.113.1']);
    const routes = await frr
      .waitRoutes((r) => peersOf(r, '203.0.113.1/32').length === 3, 30_000)
      .catch(async (e) => {
        throw new Error(`${e.message}\n${await frr.command('show bgp ipv4 unicast')}\n${c.allLogs()}`);
      });
    expect(peersOf(routes, '203.0.113.1/32')).toEqual(NODE_IPS);
    for (const path of pathsOf(routes, '203.0.113.1/32')) {
      expect(path.nextHop).toBe(path.peer);
      expect(path.asPath).toEqual([]);
      expect([...path.communities].sort()).toEqual(['64512:100', '64512:200']);
      expect(path.localPref).toBe(150);
    }
    // Every node reports the service as BGP, announced here.
    for (const [node, view] of Object.entries(await c.serviceViews('demo/web')))
      expect(view, node).toMatchObject({ ips: ['203.0.113.1'], protocol: 'bgp', announcedHere: true });
  }, 90_000);

  it('externalTrafficPolicy: Local is announced only from the nodes with endpoints', async () => {
    const c = cluster();
    const frr = c.frr!;
    expect(await c.waitServiceIps('demo/local', { count: 1 })).toEqual(['203.0.113.2']);
    await frr.waitRoutes((r) => peersOf(r, '203.0.113.2/32').length > 0, 30_000);
    // Give the other nodes time to (wrongly) announce it too, then check it is still only node-2.
    await sleep(3_000);
    const routes = await frr.routes();
    expect(peersOf(routes, '203.0.113.2/32')).toEqual(['192.0.2.2']);
    expect(peersOf(routes, '203.0.113.1/32')).toEqual(NODE_IPS);
    const views = await c.serviceViews('demo/local');
    for (const [node, view] of Object.entries(views)) expect(view?.announcedHere, node).toBe(node === 'node-2');

    // Endpoints move to node-1 and node-3: the announcement follows, without touching the sessions.
    const uptimeBefore = await frr.sessions();
    c.setResources(
      docs(BGP_BASE, WEB, LOCAL.replace('endpointNodes: ["node-2"]', 'endpointNodes: ["node-1","node-3"]')),
    );
    const moved = await frr.waitRoutes(
      (r) => JSON.stringify(peersOf(r, '203.0.113.2/32')) === JSON.stringify(['192.0.2.1', '192.0.2.3']),
      20_000,
    );
    expect(peersOf(moved, '203.0.113.1/32')).toEqual(NODE_IPS);
    const after = await frr.sessions();
    for (const ip of NODE_IPS) {
      expect(after[ip]?.state).toBe('Established');
      expect(after[ip]?.uptimeMs ?? 0).toBeGreaterThanOrEqual(uptimeBefore[ip]?.uptimeMs ?? 0);
    }
  }, 90_000);

  it('deleting the service from the file withdraws its prefix from every node', async () => {
    const c = cluster();
    const frr = c.frr!;
    await frr.waitRoutes((r) => peersOf(r, '203.0.113.1/32').length === 3, 30_000);
    c.setResources(docs(BGP_BASE, LOCAL));
    await pollUntil(
      async () => (peersOf(await frr.routes(), '203.0.113.1/32').length === 0 ? true : undefined),
      20_000,
      async () => `203.0.113.1/32 still in FRR: ${JSON.stringify(pathsOf(await frr.routes(), '203.0.113.1/32'))}`,
    );
    // The other service stays announced and the service is gone from every node's status.
    expect(peersOf(await frr.routes(), '203.0.113.2/32').length).toBeGreaterThan(0);
    for (const [node, view] of Object.entries(await c.serviceViews('demo/web'))) expect(view, node).toBeUndefined();
    for (const [node, s] of Object.entries(await c.allStatus('peers')))
      expect(s, node).toEqual([expect.objectContaining({ state: 'Established' })]);
  }, 90_000);
});
