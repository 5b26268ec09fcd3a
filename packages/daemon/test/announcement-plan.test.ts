import { electLeader, sortCandidates } from '@ingot/election';
import { describe, expect, it } from 'vitest';
import {
  type AllocatedService,
  type IngotConfig,
  type NodeInfo,
  parseConfig,
  planAnnouncements,
} from '../src/index.js';

function config(yaml: string): IngotConfig {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const POOLS = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: l2, labels: { tier: front } }
spec: { addresses: [192.0.2.0/28, '2001:db8::/124'] }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: bgp }
spec: { addresses: [203.0.113.0/28] }
---
`;

const svc = (
  name: string,
  ips: string[],
  pool: string,
  annotations: Record<string, string> = {},
): AllocatedService => ({
  service: {
    key: `demo/${name}`,
    namespace: 'demo',
    name,
    labels: { app: name },
    annotations,
    type: 'LoadBalancer',
    clusterIPs: ['198.51.100.1'],
    ipFamilyPolicy: 'SingleStack',
    ipFamilies: [],
    ports: [],
    selector: {},
    externalTrafficPolicy: 'Cluster',
  },
  ips,
  pool,
});

const nodes: NodeInfo[] = [
  { name: 'node-a', labels: { zone: 'a' } },
  { name: 'node-b', labels: { zone: 'b' } },
  { name: 'node-c', labels: { zone: 'c', 'node.kubernetes.io/exclude-from-external-load-balancers': '' } },
];

describe('planAnnouncements', () => {
  it('elects one leader per IP among eligible nodes, skipping excluded nodes, with MetalLB ordering', () => {
    const c = config(`${POOLS}apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
spec: { ipAddressPoolSelectors: [{ matchLabels: { tier: front } }], interfaces: [eth0] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2-more }
spec: { ipAddressPools: [l2], interfaces: [eth1, eth0] }
`);
    const plan = planAnnouncements(
      c,
      [svc('web', ['192.0.2.1', '2001:db8::1'], 'l2'), svc('other', ['203.0.113.1'], 'bgp')],
      nodes,
      'node-a',
    );
    expect(plan.l2).toEqual([
      {
        service: 'demo/web',
        ip: '192.0.2.1',
        node: electLeader(['node-a', 'node-b'], '192.0.2.1'),
        // the next in MetalLB's order takes the IP over if the owner dies (the fast failover profile watches it)
        successor: sortCandidates(['node-a', 'node-b'], '192.0.2.1')[1],
        interfaces: ['eth0', 'eth1'],
      },
      {
        service: 'demo/web',
        ip: '2001:db8::1',
        node: electLeader(['node-a', 'node-b'], '2001:db8::1'),
        // the next in MetalLB's order takes the IP over if the owner dies (the fast failover profile watches it)
        successor: sortCandidates(['node-a', 'node-b'], '2001:db8::1')[1],
        interfaces: ['eth0', 'eth1'],
      },
    ]);
    expect(plan.bgp).toEqual([]);
  });

  it('honours node selectors and preferred node weights', () => {
    const c = config(`${POOLS}apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
spec:
  nodeSelectors: [{ matchExpressions: [{ key: zone, operator: In, values: [a, b] }] }]
  preferredNodeSelectors: [{ weight: 50, preference: { matchLabels: { zone: b } } }]
`);
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) {
      const plan = planAnnouncements(c, [svc('web', [ip], 'l2')], nodes, 'node-a');
      expect(plan.l2[0]?.node).toBe('node-b');
      expect(plan.l2[0]?.interfaces).toEqual([]);
    }
  });

  it('announces externalTrafficPolicy: Local services only from nodes with a serving endpoint', () => {
    const c = config(`${POOLS}apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
`);
    for (const ip of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4', '192.0.2.5']) {
      const local = svc('web', [ip], 'l2');
      local.service.externalTrafficPolicy = 'Local';
      local.service.endpointNodes = ['node-b'];
      expect(planAnnouncements(c, [local], nodes, 'node-a').l2.map((a) => a.node)).toEqual(['node-b']);
      local.service.endpointNodes = [];
      expect(planAnnouncements(c, [local], nodes, 'node-a').l2).toEqual([]);
    }
    const bgp = config(`${POOLS}apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv }
`);
    const local = svc('api', ['203.0.113.6'], 'bgp');
    local.service.externalTrafficPolicy = 'Local';
    local.service.endpointNodes = ['node-b'];
    expect(planAnnouncements(bgp, [local], nodes, 'node-a').bgp).toEqual([]);
    expect(planAnnouncements(bgp, [local], nodes, 'node-b').bgp.map((b) => b.prefix)).toEqual(['203.0.113.6/32']);
  });

  it('weighted ECMP: an opted-in advertisement sends 1 Mbit/s of link bandwidth per serving endpoint on this node', () => {
    const adv = (annotation: string) =>
      config(`${POOLS}apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv${annotation} }
`);
    const weighted = adv(', annotations: { ingot.dev/weighted-ecmp: endpoints }');
    const plain = adv('');
    const local = svc('api', ['203.0.113.6'], 'bgp');
    local.service.externalTrafficPolicy = 'Local';
    local.service.endpointNodes = ['node-a', 'node-b'];
    local.service.endpointCounts = { 'node-a': 3, 'node-b': 1 };
    expect(planAnnouncements(weighted, [local], nodes, 'node-a').bgp[0]?.linkBandwidth).toBe(375_000);
    expect(planAnnouncements(weighted, [local], nodes, 'node-b').bgp[0]?.linkBandwidth).toBe(125_000);
    expect(planAnnouncements(plain, [local], nodes, 'node-a').bgp[0]?.linkBandwidth).toBeUndefined();
    // Cluster policy: every node announces alike, no weights
    const cluster = svc('api', ['203.0.113.6'], 'bgp');
    cluster.service.endpointCounts = { 'node-a': 3 };
    expect(planAnnouncements(weighted, [cluster], nodes, 'node-a').bgp[0]?.linkBandwidth).toBeUndefined();
  });

  it('weighted ECMP: the annotation takes only "endpoints", and only on unaggregated advertisements', () => {
    const bad = (meta: string, spec = '') =>
      parseConfig(`${POOLS}apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv, annotations: { ingot.dev/weighted-ecmp: ${meta} } }
spec: { ${spec} }
`);
    const wrong = bad('pods');
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.issues[0]?.reason).toMatch(/must be "endpoints"/);
    const aggregated = bad('endpoints', 'aggregationLength: 24');
    expect(aggregated.ok).toBe(false);
    if (!aggregated.ok) expect(aggregated.issues.map((i) => i.reason).join()).toMatch(/aggregationLength 32/);
    expect(bad('endpoints').ok).toBe(true);
  });

  it('ADD-PATH: with a BGPPeer annotated ingot.dev/add-path: send, each node adds the other announcing nodes as next hops', () => {
    const peer = (annotation: string) =>
      config(`${POOLS}apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: rr${annotation} }
spec: { myASN: 64512, peerASN: 64512, peerAddress: 192.0.2.254 }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv }
`);
    const addPath = peer(', annotations: { ingot.dev/add-path: send }');
    expect(addPath.bgpPeers[0]?.addPath).toBe(true);
    const withAddresses: NodeInfo[] = [
      { name: 'node-b', labels: { zone: 'b' }, address: '192.0.2.12' },
      { name: 'node-a', labels: { zone: 'a' }, address: '192.0.2.11' },
      { name: 'node-d', labels: { zone: 'd' }, address: '2001:db8::14' },
      { name: 'node-e', labels: { zone: 'e' }, address: '192.0.2.15' },
      { ...(nodes[2] as NodeInfo), address: '192.0.2.13' }, // excluded: never a next hop
    ];
    const cluster = svc('api', ['203.0.113.6'], 'bgp');
    expect(planAnnouncements(addPath, [cluster], withAddresses, 'node-a').bgp[0]?.nextHops).toEqual([
      '192.0.2.12',
      '192.0.2.15',
    ]);
    // externalTrafficPolicy Local: only nodes with a serving endpoint
    const local = svc('api', ['203.0.113.6'], 'bgp');
    local.service.externalTrafficPolicy = 'Local';
    local.service.endpointNodes = ['node-a', 'node-e'];
    expect(planAnnouncements(addPath, [local], withAddresses, 'node-a').bgp[0]?.nextHops).toEqual(['192.0.2.15']);
    // no BGPPeer with ADD-PATH: not computed
    expect(planAnnouncements(peer(''), [cluster], withAddresses, 'node-a').bgp[0]?.nextHops).toBeUndefined();
    const wrong = parseConfig(`apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: rr, annotations: { ingot.dev/add-path: receive } }
spec: { myASN: 64512, peerASN: 64512, peerAddress: 192.0.2.254 }
`);
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) expect(wrong.issues[0]?.reason).toMatch(/must be "send"/);
  });

  it('does not announce a shared IP through an advertisement with service selectors', () => {
    const c = config(`${POOLS}apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
spec: { serviceSelectors: [{ matchLabels: { app: web } }] }
`);
    const plan = planAnnouncements(
      c,
      [svc('web', ['192.0.2.1'], 'l2', { 'metallb.io/allow-shared-ip': 'k' })],
      nodes,
      'node-a',
    );
    expect(plan.l2).toEqual([]);
    expect(plan.skipped).toEqual([{ service: 'demo/web', reason: 'sharedIPWithServiceSelector' }]);
  });

  it('aggregates BGP prefixes and resolves community aliases and large communities', () => {
    const c = config(`${POOLS}apiVersion: metallb.io/v1beta1
kind: Community
metadata: { name: aliases }
spec: { communities: [{ name: no-export, value: '65535:65281' }, { name: big, value: 'large:64512:1:2' }] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor }
spec: { myASN: 64512, peerASN: 64512, peerAddress: 192.0.2.254 }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: agg }
spec: { ipAddressPools: [bgp], aggregationLength: 30, localPref: 200, communities: [no-export, big, '64512:7'], peers: [tor] }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: only-b }
spec: { ipAddressPools: [bgp], nodeSelectors: [{ matchLabels: { zone: b } }] }
`);
    const plan = planAnnouncements(c, [svc('api', ['203.0.113.6'], 'bgp')], nodes, 'node-a');
    expect(plan.bgp).toEqual([
      {
        service: 'demo/api',
        prefix: '203.0.113.4/30',
        peers: ['tor'],
        communities: ['65535:65281', '64512:7'],
        largeCommunities: ['64512:1:2'],
        localPref: 200,
      },
    ]);
    expect(
      planAnnouncements(c, [svc('api', ['203.0.113.6'], 'bgp')], nodes, 'node-b').bgp.map((b) => b.prefix),
    ).toEqual(['203.0.113.4/30', '203.0.113.6/32']);
  });
});
