import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/kubernetes/kube-objects.js';
import type { StatusObjectApi, StatusPlural } from '../../src/kubernetes/status-objects-api.js';
import { desiredServiceStatuses, ServiceStatusObjects } from '../../src/kubernetes/status-objects-service.js';
import {
  ConfigurationStateWriter,
  configurationStatus,
  PoolStatusWriter,
  poolStatus,
} from '../../src/kubernetes/status-objects-state.js';
import { createLogger } from '../../src/logger.js';

const log = createLogger({ level: 'error' });

/** An in-memory namespace of metallb.io objects that records every request. */
function fakeApi() {
  const objects = new Map<string, KubeObject & { status?: unknown }>();
  const requests: string[] = [];
  let n = 0;
  const api: StatusObjectApi = {
    list: async (plural, selector) => {
      requests.push(`list ${plural}`);
      const [k, v] = selector.split('=');
      return [...objects.entries()]
        .filter(([key, o]) => key.startsWith(`${plural}/`) && o.metadata?.labels?.[k as string] === v)
        .map(([, o]) => structuredClone(o));
    },
    get: async (plural, name) => {
      requests.push(`get ${plural}/${name}`);
      return structuredClone(objects.get(`${plural}/${name}`));
    },
    create: async (plural, obj) => {
      const name = obj.metadata?.name ?? `${(obj.metadata as { generateName: string }).generateName}${++n}`;
      requests.push(`create ${plural}/${name}`);
      const stored = { ...obj, metadata: { ...obj.metadata, name } };
      objects.set(`${plural}/${name}`, stored);
      return structuredClone(stored);
    },
    patchStatus: async (plural, name, status) => {
      requests.push(`patch ${plural}/${name}`);
      const o = objects.get(`${plural}/${name}`);
      if (!o) throw Object.assign(new Error('not found'), { code: 404 });
      o.status = status;
    },
    delete: async (plural, name) => {
      requests.push(`delete ${plural}/${name}`);
      objects.delete(`${plural}/${name}`);
    },
  };
  const of = (plural: StatusPlural) =>
    [...objects.entries()].filter(([k]) => k.startsWith(`${plural}/`)).map(([, o]) => o);
  return { api, objects, requests, of };
}

const plan = (l2: [string, string, string, string[]][], bgp: [string, string[]][]) => ({
  l2: l2.map(([service, ip, node, interfaces]) => ({ service, ip, node, interfaces })),
  bgp: bgp.map(([service, peers]) => ({
    service,
    prefix: '198.51.100.1/32',
    peers,
    communities: [],
    largeCommunities: [],
    localPref: 0,
  })),
  skipped: [],
});

describe('desiredServiceStatuses', () => {
  it('L2: Services whose IPs this node owns, with the union of interfaces; BGP: peers, all when unlisted', () => {
    const d = desiredServiceStatuses(
      plan(
        [
          ['demo/a', '198.51.100.1', 'node-1', ['eth1']],
          ['demo/a', '2001:db8::1', 'node-1', ['eth0']],
          ['demo/b', '198.51.100.2', 'node-2', []],
        ],
        [
          ['demo/a', []],
          ['demo/c', ['r2']],
        ],
      ) as never,
      'node-1',
      ['r1', 'r2'],
    );
    expect([...d.l2]).toEqual([['demo/a', ['eth0', 'eth1']]]);
    expect([...d.bgp]).toEqual([
      ['demo/a', ['r1', 'r2']],
      ['demo/c', ['r2']],
    ]);
  });
});

describe('ServiceStatusObjects', () => {
  it("creates, updates and deletes this node's objects, lists once, and makes no request when nothing changed", async () => {
    const fake = fakeApi();
    const objects = new ServiceStatusObjects({ api: fake.api, node: 'node-1', log });
    await objects.sync({ l2: new Map([['demo/a', []]]), bgp: new Map([['demo/a', ['r1']]]) });
    const [l2] = fake.of('servicel2statuses');
    expect(l2?.metadata?.name).toMatch(/^l2-/);
    expect(l2?.metadata?.labels).toEqual({
      'metallb.io/node': 'node-1',
      'metallb.io/service-name': 'a',
      'metallb.io/service-namespace': 'demo',
    });
    expect(l2?.status).toEqual({ node: 'node-1', serviceName: 'a', serviceNamespace: 'demo', interfaces: [] });
    expect(fake.of('servicebgpstatuses')[0]?.status).toMatchObject({ node: 'node-1', peers: ['r1'] });

    expect(fake.requests.filter((r) => r.startsWith('list'))).toEqual([
      'list servicel2statuses',
      'list servicebgpstatuses',
    ]);
    fake.requests.length = 0;
    await objects.sync({ l2: new Map([['demo/a', []]]), bgp: new Map([['demo/a', ['r1']]]) });
    expect(fake.requests).toEqual([]);

    await objects.sync({ l2: new Map(), bgp: new Map([['demo/a', ['r1', 'r2']]]) });
    expect(fake.of('servicel2statuses')).toHaveLength(0);
    expect(fake.of('servicebgpstatuses')[0]?.status).toMatchObject({ peers: ['r1', 'r2'] });
    expect(fake.requests.filter((r) => r.startsWith('list'))).toEqual([]);
  });

  it('a restarted speaker adopts its objects, deletes duplicates and leaves other nodes alone', async () => {
    const fake = fakeApi();
    const mk = (node: string, name: string) =>
      fake.objects.set(`servicel2statuses/${name}`, {
        metadata: {
          name,
          labels: { 'metallb.io/node': node, 'metallb.io/service-name': 'a', 'metallb.io/service-namespace': 'demo' },
        },
        status: { node, serviceName: 'a', serviceNamespace: 'demo', interfaces: [] },
      });
    mk('node-1', 'l2-old');
    mk('node-1', 'l2-dup');
    mk('node-2', 'l2-other');
    const objects = new ServiceStatusObjects({ api: fake.api, node: 'node-1', log });
    await objects.sync({ l2: new Map([['demo/a', []]]), bgp: new Map() });
    expect([...fake.objects.keys()].sort()).toEqual(['servicel2statuses/l2-old', 'servicel2statuses/l2-other']);
    expect(fake.requests.filter((r) => !r.startsWith('list'))).toEqual(['delete servicel2statuses/l2-dup']);
  });

  it('a failed write is reported as failed and done on the next pass', async () => {
    const fake = fakeApi();
    let broken = true;
    const api = {
      ...fake.api,
      create: async (p: StatusPlural, o: KubeObject) => {
        if (broken) throw new Error('boom');
        return fake.api.create(p, o);
      },
    };
    const objects = new ServiceStatusObjects({ api, node: 'node-1', log });
    const want = { l2: new Map([['demo/a', []]]), bgp: new Map() };
    await objects.sync(want);
    expect(objects.failed).toBe(true);
    broken = false;
    await objects.sync(want);
    expect(objects.failed).toBe(false);
    expect(fake.of('servicel2statuses')).toHaveLength(1);
  });
});

describe('ConfigurationState', () => {
  it('Valid / Invalid with the reasons; written only when the outcome changes; transition time kept', async () => {
    const fake = fakeApi();
    let t = Date.UTC(2026, 11, 7, 12, 0, 0);
    const w = new ConfigurationStateWriter({
      api: fake.api,
      component: 'speaker',
      node: 'node-1',
      log,
      now: () => new Date(t),
    });
    await w.report([]);
    const obj = () =>
      fake.objects.get('configurationstates/speaker-node-1') as {
        metadata: { labels: unknown };
        status: Record<string, unknown>;
      };
    expect(obj().metadata.labels).toEqual({ 'metallb.io/component-type': 'speaker', 'metallb.io/node-name': 'node-1' });
    expect(obj().status).toMatchObject({ result: 'Valid', errorSummary: '' });
    const issue = { resource: 'IPAddressPool/p', field: 'spec.addresses', reason: 'bad' };
    t += 60_000;
    await w.report([issue]);
    expect(obj().status).toMatchObject({ result: 'Invalid', errorSummary: 'IPAddressPool/p spec.addresses: bad' });
    const [cond] = obj().status.conditions as {
      type: string;
      status: string;
      reason: string;
      lastTransitionTime: string;
    }[];
    expect(cond).toMatchObject({ type: 'configReconcilerValid', status: 'False', reason: 'ConfigurationError' });
    expect(cond?.lastTransitionTime).toBe('2026-12-07T12:01:00Z');
    fake.requests.length = 0;
    await w.report([issue]);
    expect(fake.requests).toEqual([]);
  });

  it('keeps lastTransitionTime while the status stays the same', () => {
    const prev = { result: 'Invalid', conditions: [{ status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }] };
    const s = configurationStatus([{ resource: 'x', field: '', reason: 'y' }], new Date(), prev) as {
      conditions: { lastTransitionTime: string }[];
    };
    expect(s.conditions[0]?.lastTransitionTime).toBe('2026-01-01T00:00:00Z');
    expect((configurationStatus(undefined, new Date()) as { result: string }).result).toBe('Unknown');
  });
});

describe('IPAddressPool status', () => {
  const stats = (pool: string, v4: number, free4: bigint, free6: bigint) => ({
    pool,
    capacity: { total: 0n, ipv4: 0n, ipv6: 0n },
    inUse: { total: v4, ipv4: v4, ipv6: 0 },
    available: { ipv4: free4, ipv6: free6 },
    services: v4,
  });
  it('counts per family, huge IPv6 counts capped to a safe JSON number, written only on change', async () => {
    expect(poolStatus(stats('p', 2, 14n, 2n ** 64n))).toEqual({
      assignedIPv4: 2,
      assignedIPv6: 0,
      availableIPv4: 14,
      availableIPv6: Number.MAX_SAFE_INTEGER,
    });
    const fake = fakeApi();
    fake.objects.set('ipaddresspools/p', { metadata: { name: 'p' } });
    const w = new PoolStatusWriter(fake.api, log);
    await w.sync([stats('p', 1, 15n, 0n)]);
    await w.sync([stats('p', 1, 15n, 0n)]);
    await w.sync([stats('p', 2, 14n, 0n)]);
    expect(fake.requests).toEqual(['patch ipaddresspools/p', 'patch ipaddresspools/p']);
    expect(fake.objects.get('ipaddresspools/p')?.status).toMatchObject({ assignedIPv4: 2, availableIPv4: 14 });
  });
});
