import { describe, expect, it } from 'vitest';
import {
  type BgpBackend,
  createLogger,
  Daemon,
  type DaemonOptions,
  type IngotConfig,
  type Layer2Backend,
  parseConfig,
} from '../src/index.js';
import { layer2Pool } from './fixtures/config-documents.js';

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

const base = (addresses: string, services: string) => `${layer2Pool(addresses)}${services}`;

function harness(extra: Partial<DaemonOptions> = {}) {
  const calls: string[] = [];
  const layer2: Layer2Backend = {
    announce: (ip) => calls.push(`l2+ ${ip}`),
    withdraw: (ip) => calls.push(`l2- ${ip}`),
    reannounce: () => calls.push('l2 reannounce'),
  };
  const bgp: BgpBackend = {
    setPeers: (peers) => calls.push(`peers ${peers.map((p) => p.name).join(',')}`),
    announce: (a) => calls.push(`bgp+ ${a.prefix}`),
    withdraw: (prefix) => calls.push(`bgp- ${prefix}`),
  };
  const logs: string[] = [];
  const daemon = new Daemon({
    nodeName: 'n1',
    log: createLogger({ write: (l) => logs.push(l) }),
    layer2,
    bgp,
    ...extra,
  });
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
    // MetalLB's label is the service IP, not the prefix.
    expect(daemon.metrics().filter((m) => m.name === 'metallb_speaker_announced')).toEqual([
      {
        name: 'metallb_speaker_announced',
        labels: { service: 'demo/a', protocol: 'bgp', node: 'n1', ip: '203.0.113.0' },
        value: 1,
      },
    ]);
  });

  it('allocates only while allocating; otherwise announces the assignments it was given', () => {
    let allocating = false;
    const changes: unknown[] = [];
    const { daemon, calls } = harness({ allocating: () => allocating, onAssignments: (a) => changes.push(a) });
    const cfg = config(base('192.0.2.10-192.0.2.12', service('a') + service('b')));
    daemon.applyConfig(cfg);
    expect(daemon.services()).toEqual({});
    expect(calls).toEqual(['peers ']);
    // Adopted from the allocating node: announced as given, never re-allocated here.
    daemon.setAssignments({ 'demo/b': { ips: ['192.0.2.12'], pool: 'pool' } });
    daemon.reconcile();
    expect(calls.slice(1)).toEqual(['l2+ 192.0.2.12']);
    expect(changes).toEqual([]);
    // Becoming the allocator: b keeps its IP, a gets the first free one, and the change is reported once.
    allocating = true;
    daemon.reconcile();
    daemon.reconcile();
    expect(daemon.services()).toEqual({
      'demo/a': { ips: ['192.0.2.10'], pool: 'pool' },
      'demo/b': { ips: ['192.0.2.12'], pool: 'pool' },
    });
    expect(changes).toEqual([daemon.services()]);
  });

  it('tells local delivery every IP it announces, and re-announces when a member (re)appears', () => {
    // n2 carries MetalLB's exclusion label, so n1 stays the owner whoever is a member.
    const n2 = { name: 'n2', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } };
    let members: { name: string; labels: Record<string, string> }[] = [{ name: 'n1', labels: {} }];
    const synced: string[][] = [];
    const { daemon, calls } = harness({
      members: () => members,
      localDelivery: {
        sync: (ips) => {
          synced.push([...ips]);
        },
      },
    });
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('a'))));
    expect(synced.at(-1)).toEqual(['192.0.2.10']);
    calls.length = 0;
    members = [...members, n2]; // e.g. a partition healed
    daemon.reconcile();
    expect(calls).toEqual(['l2 reannounce']);
    daemon.reconcile(); // nothing new
    members = [members[0] as (typeof members)[number]]; // n2 leaves: nothing to re-announce
    daemon.reconcile();
    expect(calls).toEqual(['l2 reannounce']);
    members = [...members, n2];
    daemon.reconcile();
    expect(calls).toEqual(['l2 reannounce', 'l2 reannounce']);
    expect(synced.at(-1)).toEqual(['192.0.2.10']);
  });

  it('tells local delivery which IPs it owns over layer 2, and none once stopLayer2 ran (before it resolves)', async () => {
    const synced: [string[], [string, readonly string[]][]][] = [];
    const { daemon, calls } = harness({
      members: () => [{ name: 'n1', labels: {} }],
      localDelivery: {
        sync: (ips, layer2) => {
          synced.push([[...ips], [...(layer2 ?? [])]]);
          return Promise.resolve();
        },
      },
    });
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('a'))));
    expect(synced.at(-1)).toEqual([['192.0.2.10'], [['192.0.2.10', []]]]);
    const stopped = daemon.stopLayer2();
    // Withdrawn from layer 2 and moved off the interface in the same turn; still delivered (on lo).
    expect(calls.at(-1)).toBe('l2- 192.0.2.10');
    expect(synced.at(-1)).toEqual([['192.0.2.10'], []]);
    await stopped;
    daemon.reconcile();
    expect(synced.at(-1)).toEqual([['192.0.2.10'], []]);
  });

  it('reports per-service status: IPs, pool, protocol, owners, and why a service has no IP', () => {
    const { daemon } = harness({ members: () => [{ name: 'n1', labels: {} }] });
    daemon.applyConfig(config(base('192.0.2.10/32', service('a') + service('b'))));
    expect(daemon.status()).toEqual([
      {
        service: 'demo/a',
        ips: ['192.0.2.10'],
        pool: 'pool',
        protocol: 'layer2',
        owners: { '192.0.2.10': 'n1' },
        announcedHere: true,
      },
      { service: 'demo/b', ips: [], protocol: 'none', owners: {}, announcedHere: false, reason: 'noIPAllocated' },
    ]);
  });

  it('opens sessions only to BGPPeers whose nodeSelectors match this node', () => {
    const { calls, daemon } = harness({ nodeLabels: { rack: 'r1' } });
    const peer = (name: string, selector: string) => `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: ${name} }
spec: { myASN: 64512, peerASN: 64513, peerAddress: 192.0.2.25${name.length}, nodeSelectors: [${selector}] }
---
`;
    daemon.applyConfig(
      config(
        base('192.0.2.10/32', '') +
          peer('r1', '{ matchLabels: { rack: r1 } }') +
          peer('rr2', '{ matchLabels: { rack: r2 } }') +
          peer('any', ''),
      ),
    );
    expect(calls[0]).toBe('peers r1,any');
  });

  it('announces a new IP only after local delivery has it, and not at all if it was withdrawn meanwhile', async () => {
    const pending: (() => void)[] = [];
    const { daemon, calls } = harness({
      localDelivery: { sync: () => new Promise<void>((resolve) => pending.push(resolve)) },
    });
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('a'))));
    expect(calls).toEqual(['peers ']);
    pending.shift()?.();
    await Promise.resolve();
    expect(calls).toEqual(['peers ', 'l2+ 192.0.2.10']);
    // b appears and disappears before delivery completes: never announced.
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('a') + service('b'))));
    daemon.applyConfig(config(base('192.0.2.10-192.0.2.12', service('a'))));
    for (const resolve of pending.splice(0)) resolve();
    await new Promise((r) => setTimeout(r, 0));
    expect(calls.filter((c) => c.startsWith('l2'))).toEqual(['l2+ 192.0.2.10', 'l2- 192.0.2.11']);
  });
});
