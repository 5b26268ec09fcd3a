import { describe, expect, it } from 'vitest';
import {
  type BgpBackend,
  createLogger,
  Daemon,
  type IngotConfig,
  type Layer2Backend,
  parseConfig,
} from '../src/index.js';

function config(yaml: string): IngotConfig {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

const service = (name: string, extra = '') => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: demo ${extra} }
spec: { type: LoadBalancer, clusterIPs: [198.51.100.1], ports: [{ port: 80 }] }
---
`;

const base = (addresses: string, services: string) => `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool }
spec: { addresses: [${addresses}] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
---
${services}`;

function harness() {
  const calls: string[] = [];
  const layer2: Layer2Backend = {
    announce: (ip) => calls.push(`l2+ ${ip}`),
    withdraw: (ip) => calls.push(`l2- ${ip}`),
  };
  const bgp: BgpBackend = {
    setPeers: (peers) => calls.push(`peers ${peers.map((p) => p.name).join(',')}`),
    announce: (a) => calls.push(`bgp+ ${a.prefix}`),
    withdraw: (prefix) => calls.push(`bgp- ${prefix}`),
  };
  const logs: string[] = [];
  const daemon = new Daemon({ nodeName: 'n1', log: createLogger({ write: (l) => logs.push(l) }), layer2, bgp });
  return { daemon, calls, logs };
}

describe('Daemon', () => {
  it('allocates, announces, and applies only differences on each configuration', () => {
    const { daemon, calls } = harness();
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('a') + service('b'))));
    expect(daemon.services()).toEqual({
      'demo/a': { ips: ['192.0.2.10'], pool: 'pool' },
      'demo/b': { ips: ['192.0.2.11'], pool: 'pool' },
    });
    expect(calls).toEqual(['peers ', 'l2+ 192.0.2.10', 'l2+ 192.0.2.11']);
    calls.length = 0;
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('b') + service('c'))));
    // a's IP went to c: the address is still announced from this node, so nothing changes on the wire.
    expect(daemon.services()['demo/c']).toEqual({ ips: ['192.0.2.10'], pool: 'pool' });
    expect(calls).toEqual(['peers ']);
    calls.length = 0;
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('c'))));
    expect(calls).toEqual(['peers ', 'l2- 192.0.2.11']);
  });

  it('exports metallb_speaker_announced only for what is announced now (no stale series, MetalLB #1342)', () => {
    const { daemon } = harness();
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('a') + service('b'))));
    const announced = () =>
      daemon
        .metrics()
        .filter((m) => m.name === 'metallb_speaker_announced')
        .map((m) => `${m.labels.service} ${m.labels.ip} ${m.labels.protocol} ${m.labels.node}`);
    expect(announced()).toEqual(['demo/a 192.0.2.10 layer2 n1', 'demo/b 192.0.2.11 layer2 n1']);
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('b'))));
    expect(announced()).toEqual(['demo/b 192.0.2.11 layer2 n1']);
    expect(daemon.metrics().find((m) => m.name === 'metallb_allocator_addresses_in_use_total')?.value).toBe(1);
  });

  it('re-IPs services when their pool shrinks, and keeps the others', () => {
    const { daemon, calls } = harness();
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('a') + service('b'))));
    calls.length = 0;
    daemon.applyConfig(config(base('192.0.2.11-192.0.2.12', service('a') + service('b'))));
    expect(daemon.services()).toEqual({
      'demo/a': { ips: ['192.0.2.12'], pool: 'pool' },
      'demo/b': { ips: ['192.0.2.11'], pool: 'pool' },
    });
    expect(calls).toEqual(['peers ', 'l2- 192.0.2.10', 'l2+ 192.0.2.12']);
  });

  it('never lets a pending service take an IP held by an existing one (restart order)', () => {
    const { daemon } = harness();
    daemon.applyConfig(config(base('192.0.2.10/32', service('holder'))));
    // A new service listed first in the next configuration must not steal the held IP.
    daemon.applyConfig(config(base('192.0.2.10/32', service('newcomer') + service('holder'))));
    expect(daemon.services()).toEqual({ 'demo/holder': { ips: ['192.0.2.10'], pool: 'pool' } });
  });

  it('announces over BGP what BGPAdvertisements select, to the configured peers', () => {
    const { daemon, calls } = harness();
    daemon.applyConfig(
      config(`apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: pool }
spec: { addresses: [203.0.113.0/29] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.254 }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: adv }
---
${service('a')}`),
    );
    expect(calls).toEqual(['peers tor', 'bgp+ 203.0.113.0/32']);
    expect(daemon.bgpAnnouncements()).toEqual(['203.0.113.0/32']);
  });
});
