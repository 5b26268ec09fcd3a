import { describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/parse-config.js';
import { parseStatus } from '../src/demo/demo.js';
import { DEMO_SERVICES, fleetConfig, frrConfig } from '../src/demo/demo-config.js';

const NODES = [1, 2, 3].map((i) => ({ name: `node-${i}`, ip: `192.0.2.${i}` }));

describe('ingot demo: bundled configuration and status parsing', () => {
  it('the fleet file is valid, with one live Node document per node and both services', () => {
    for (const bgpPeer of ['192.0.2.254', undefined]) {
      const result = parseConfig(fleetConfig(NODES, { bgpPeer, statusPort: 7472 }));
      expect(result.ok, JSON.stringify(result)).toBe(true);
      if (!result.ok) return;
      const { config } = result;
      expect(config.nodes.map((n) => n.name)).toEqual(['node-1', 'node-2', 'node-3']);
      expect(config.nodes[1]).toMatchObject({
        announce: 'live',
        interfaces: ['eth0'],
        memberlist: { bindAddress: '192.0.2.2:7946', join: ['192.0.2.1:7946', '192.0.2.3:7946'] },
        statusAddress: '192.0.2.2:7472',
        dataPath: 'local',
      });
      expect(config.services.map((s) => s.key)).toEqual(DEMO_SERVICES);
      expect(config.pools.map((p) => p.addresses)).toEqual([['198.51.100.0/28']]);
      expect(config.bgpPeers.length).toBe(bgpPeer ? 1 : 0);
      expect(config.bgpAdvertisements.length).toBe(bgpPeer ? 1 : 0);
    }
  });

  it('the router configuration peers with every node', () => {
    const conf = frrConfig(NODES, '192.0.2.254', '/tmp/x.log');
    for (const n of NODES) expect(conf).toContain(` neighbor ${n.ip} remote-as 64513`);
    expect(conf).toContain('router bgp 64512');
  });

  it('reads IPs and the layer-2 owner of the first IP from /status rows', () => {
    const views = parseStatus({
      node: 'node-1',
      services: [
        { service: 'demo/web', ips: ['198.51.100.0'], protocol: 'layer2+bgp', owners: { '198.51.100.0': 'node-2' } },
        { service: 'demo/api', ips: [], protocol: 'none', owners: {}, reason: 'noIPAllocated' },
      ],
    });
    expect(views.get('demo/web')).toEqual({ ips: ['198.51.100.0'], owner: 'node-2' });
    expect(views.get('demo/api')).toEqual({ ips: [] });
    expect(parseStatus({}).size).toBe(0);
  });
});
