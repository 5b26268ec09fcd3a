import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { dryRunBgp } from '../../src/backends/dry-run.js';
import type { BgpBackend, Layer2Backend } from '../../src/daemon.js';
import { startKubernetesMode } from '../../src/kubernetes/kubernetes-mode.js';
import { createLogger } from '../../src/logger.js';
import { FakeApiServer, type FakeObject } from './fake-api-server.js';

const NS = 'metallb-system';

function pool(name: string, addresses: string[], extra: Record<string, unknown> = {}): FakeObject {
  return { metadata: { name, namespace: NS }, spec: { addresses, ...extra } };
}

function l2(name: string): FakeObject {
  return { metadata: { name, namespace: NS }, spec: {} };
}

function service(name: string, opts: { ips?: string[]; pool?: string; cls?: string; ns?: string } = {}): FakeObject {
  return {
    metadata: {
      name,
      namespace: opts.ns ?? 'default',
      ...(opts.pool ? { annotations: { 'metallb.io/ip-allocated-from-pool': opts.pool } } : {}),
    },
    spec: {
      type: 'LoadBalancer',
      clusterIP: '198.51.100.10',
      clusterIPs: ['198.51.100.10'],
      ports: [{ protocol: 'TCP', port: 80 }],
      selector: { app: name },
      ...(opts.cls ? { loadBalancerClass: opts.cls } : {}),
    },
    ...(opts.ips ? { status: { loadBalancer: { ingress: opts.ips.map((ip) => ({ ip })) } } } : {}),
  };
}

/** An EndpointSlice of a Service with one endpoint (ready or not). */
function slice(serviceName: string, opts: { ns?: string; ready?: boolean; node?: string } = {}): FakeObject {
  return {
    metadata: {
      name: `${serviceName}-abcde`,
      namespace: opts.ns ?? 'default',
      labels: { 'kubernetes.io/service-name': serviceName },
    },
    addressType: 'IPv4',
    endpoints: [
      {
        addresses: ['198.51.100.77'],
        conditions: { ready: opts.ready ?? true, serving: opts.ready ?? true },
        nodeName: opts.node ?? 'node-a',
      },
    ],
  };
}

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'nobody' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'nobody' }],
    currentContext: 'fake',
  });
  return kc;
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Harness {
  server: FakeApiServer;
  logs: Record<string, unknown>[];
  mode: Awaited<ReturnType<typeof startKubernetesMode>>;
  layer2: { announced: Set<string>; backend: Layer2Backend };
}

const open: Harness[] = [];

afterEach(async () => {
  const servers = new Set<FakeApiServer>();
  for (const h of open.splice(0)) {
    await h.mode.close();
    servers.add(h.server);
  }
  for (const server of servers) await server.stop();
});

const serverUrls = new WeakMap<FakeApiServer, string>();

async function start(
  server: FakeApiServer,
  opts: {
    controller?: boolean;
    speaker?: boolean;
    nodeName?: string;
    loadBalancerClass?: string;
    bgp?: BgpBackend;
    watchTimeoutSeconds?: number;
    identity?: string;
  } = {},
): Promise<Harness> {
  const url = serverUrls.get(server) ?? (await server.start());
  serverUrls.set(server, url);
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  const announced = new Set<string>();
  const backend: Layer2Backend = {
    announce: (ip) => void announced.add(ip),
    withdraw: (ip) => void announced.delete(ip),
  };
  const mode = await startKubernetesMode({
    kubeConfig: kubeConfigFor(url),
    log,
    controller: opts.controller ?? true,
    speaker: opts.speaker ?? false,
    nodeName: opts.nodeName ?? 'node-a',
    layer2: backend,
    bgp: opts.bgp ?? dryRunBgp(log),
    retry: { initialMs: 10, maxMs: 100 },
    conflictRetry: { initialMs: 5, maxMs: 20 },
    ...(opts.loadBalancerClass ? { loadBalancerClass: opts.loadBalancerClass } : {}),
    ...(opts.watchTimeoutSeconds ? { watchTimeoutSeconds: opts.watchTimeoutSeconds } : {}),
    ...(opts.identity
      ? {
          leaderElection: {
            identity: opts.identity,
            leaseDurationMs: 400,
            renewDeadlineMs: 300,
            retryPeriodMs: 50,
          },
        }
      : {}),
  });
  const h: Harness = { server, logs, mode, layer2: { announced, backend } };
  open.push(h);
  return h;
}

describe('Kubernetes mode: controller', () => {
  it('allocates on the initial list and writes status + pool annotation with minimal merge patches and Events', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('blue', ['192.0.2.10-192.0.2.12']));
    server.apply('l2advertisements', l2('all'));
    server.apply('services', service('web'));
    server.apply('services', service('other-class', { cls: 'example.com/other' }));
    server.apply('services', { ...service('plain'), spec: { type: 'ClusterIP', clusterIPs: ['198.51.100.11'] } });
    const h = await start(server);
    await waitFor('web IP', () => server.ingressIps('web', 'default').length === 1);
    await waitFor('annotation', () => server.get('services', 'web', 'default')?.metadata.annotations !== undefined);
    expect(server.ingressIps('web', 'default')).toEqual(['192.0.2.10']);
    expect(server.get('services', 'web', 'default')?.metadata.annotations).toEqual({
      'metallb.io/ip-allocated-from-pool': 'blue',
    });
    // Services of another class, and non-LoadBalancer services without status, are never written.
    expect(server.ingressIps('other-class', 'default')).toEqual([]);
    await h.mode.idle();
    const paths = server.writes.map((w) => `${w.method} ${w.path}`);
    expect(paths.filter((p) => p.includes('other-class') || p.includes('/plain'))).toEqual([]);
    // One write for status and pool annotation (the API server keeps metadata sent to the status subresource); the
    // Event is posted beside it, so the two may arrive in either order.
    expect([...paths].sort()).toEqual([
      'PATCH /api/v1/namespaces/default/services/web/status',
      'POST /api/v1/namespaces/default/events',
    ]);
    const statusWrite = server.writes.find((w) => w.path.endsWith('/status'));
    expect(statusWrite?.contentType).toMatch(/^application\/merge-patch\+json/);
    expect(statusWrite?.body).toMatchObject({
      metadata: { resourceVersion: expect.any(String), annotations: { 'metallb.io/ip-allocated-from-pool': 'blue' } },
      status: { loadBalancer: { ingress: [{ ip: '192.0.2.10' }] } },
    });
    expect(server.events[0]).toMatchObject({
      reason: 'IPAllocated',
      type: 'Normal',
      message: 'Assigned IP ["192.0.2.10"]',
      involvedObject: { kind: 'Service', name: 'web', namespace: 'default' },
    });
    // Our own writes come back through the watch: no further writes.
    await h.mode.idle();
    await new Promise((r) => setTimeout(r, 100));
    await h.mode.idle();
    expect(server.writes).toHaveLength(2);
    expect(h.mode.controller?.initialLoadPerformed).toBe(true);
    expect(h.mode.store.stale).toBe(false);
  });

  it('re-IPs services when a pool changes through the watch, and serves a pending one when a pool is added', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('blue', ['192.0.2.10/32']));
    server.apply('services', service('a'));
    server.apply('services', service('b'));
    const h = await start(server);
    await waitFor(
      'one IP',
      () => server.ingressIps('a', 'default').length + server.ingressIps('b', 'default').length === 1,
    );
    await h.mode.idle();
    expect(server.events.map((e) => e.reason).sort()).toEqual(['AllocationFailed', 'IPAllocated']);
    server.apply('ipaddresspools', pool('green', ['203.0.113.0/30']));
    await waitFor(
      'both served',
      () => server.ingressIps('a', 'default').length + server.ingressIps('b', 'default').length === 2,
    );
    server.apply('ipaddresspools', pool('blue', ['198.51.100.64/30']));
    await waitFor('blue holder moved', () =>
      [...server.ingressIps('a', 'default'), ...server.ingressIps('b', 'default')].includes('198.51.100.64'),
    );
    const ips = [...server.ingressIps('a', 'default'), ...server.ingressIps('b', 'default')];
    expect(ips).not.toContain('192.0.2.10');
    expect(ips).toContain('203.0.113.0');
    await h.mode.idle(); // Events are posted beside the writes: wait for them too.
    expect(server.events.some((e) => e.reason === 'ClearAssignment')).toBe(true);
    const holder = server.ingressIps('a', 'default')[0] === '198.51.100.64' ? 'a' : 'b';
    await waitFor(
      'annotation follows',
      () =>
        server.get('services', holder, 'default')?.metadata.annotations?.['metallb.io/ip-allocated-from-pool'] ===
        'blue',
    );
  });

  it('releases a deleted service IP so a pending service gets it', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('one', ['192.0.2.20/32']));
    server.apply('services', service('first', { ips: ['192.0.2.20'], pool: 'one' }));
    server.apply('services', service('second'));
    const h = await start(server);
    await h.mode.idle();
    await waitFor('failure event', () => server.events.some((e) => e.reason === 'AllocationFailed'));
    expect(server.ingressIps('second', 'default')).toEqual([]);
    server.remove('services', 'first', 'default');
    await waitFor('second served', () => server.ingressIps('second', 'default')[0] === '192.0.2.20');
  });

  it('after a restart keeps every existing IP: holders re-claim before pending services allocate', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.30-192.0.2.33']));
    // Pending services listed first, holding services after them, and holders on the lowest addresses.
    server.apply('services', service('aaa-pending-1'));
    server.apply('services', service('aaa-pending-2'));
    server.apply('services', service('zzz-holder-1', { ips: ['192.0.2.30'], pool: 'p' }));
    server.apply('services', service('zzz-holder-2', { ips: ['192.0.2.31'], pool: 'p' }));
    const h = await start(server);
    await waitFor(
      'pending served',
      () =>
        server.ingressIps('aaa-pending-1', 'default').length === 1 &&
        server.ingressIps('aaa-pending-2', 'default').length === 1,
    );
    await h.mode.idle();
    expect(server.ingressIps('zzz-holder-1', 'default')).toEqual(['192.0.2.30']);
    expect(server.ingressIps('zzz-holder-2', 'default')).toEqual(['192.0.2.31']);
    expect(
      [...server.ingressIps('aaa-pending-1', 'default'), ...server.ingressIps('aaa-pending-2', 'default')].sort(),
    ).toEqual(['192.0.2.32', '192.0.2.33']);
    // Holders were not written at all, and got no event.
    expect(server.writes.filter((w) => w.path.includes('holder'))).toEqual([]);
    expect(server.events.filter((e) => JSON.stringify(e).includes('holder'))).toEqual([]);
  });

  it('rejects an invalid CR with resource, field and reason, and keeps the last good configuration', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('good', ['192.0.2.40/31']));
    server.apply('services', service('one'));
    const h = await start(server);
    await waitFor('one served', () => server.ingressIps('one', 'default').length === 1);
    const before = h.mode.store.current;
    server.apply('ipaddresspools', pool('bad', ['not-an-ip']));
    await waitFor('rejection', () => h.mode.store.stale);
    const rejection = h.logs.find((l) => String(l.msg).startsWith('configuration rejected'));
    expect(rejection).toMatchObject({ level: 'error', resource: 'IPAddressPool/bad', field: 'spec.addresses[0]' });
    expect(String(rejection?.reason)).toMatch(/not-an-ip/);
    expect(h.mode.store.current).toBe(before);
    // The last good configuration still serves new services.
    server.apply('services', service('two'));
    await waitFor('two served', () => server.ingressIps('two', 'default').length === 1);
    expect(server.ingressIps('two', 'default')[0]).toMatch(/^192\.0\.2\.4[01]$/);
    expect(h.mode.metrics()).toContainEqual({ name: 'metallb_k8s_client_config_stale_bool', labels: {}, value: 1 });
    // Fixing the CR clears the staleness.
    server.apply('ipaddresspools', pool('bad', ['203.0.113.8/29']));
    await waitFor('fixed', () => !h.mode.store.stale);
    expect(h.mode.store.current?.pools.map((p) => p.name).sort()).toEqual(['bad', 'good']);
  });

  it('retries a status write refused with 409 Conflict after reading the service again', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.50/32']));
    server.conflictsToInject = 2;
    server.apply('services', service('web'));
    await start(server);
    await waitFor('web served', () => server.ingressIps('web', 'default').length === 1);
    const statusWrites = server.writes.filter((w) => w.path.endsWith('/status'));
    expect(statusWrites.map((w) => w.status)).toEqual([409, 409, 200]);
    expect(server.requests.filter((r) => r === 'GET /api/v1/namespaces/default/services/web')).toHaveLength(2);
    expect(server.ingressIps('web', 'default')).toEqual(['192.0.2.50']);
  });

  it('handles only services of the configured loadBalancerClass', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.60/31']));
    server.apply('services', service('mine', { cls: 'ingot.io/lb' }));
    server.apply('services', service('classless'));
    const h = await start(server, { loadBalancerClass: 'ingot.io/lb' });
    await waitFor('mine served', () => server.ingressIps('mine', 'default').length === 1);
    await h.mode.idle();
    expect(server.ingressIps('classless', 'default')).toEqual([]);
  });

  it('survives dropped watches: resumes from the last resourceVersion and sees later changes', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.70/31']));
    const h = await start(server);
    server.dropWatches();
    await new Promise((r) => setTimeout(r, 50));
    server.apply('services', service('late'));
    await waitFor('late served', () => server.ingressIps('late', 'default').length === 1);
    expect(h.mode.controller?.initialLoadPerformed).toBe(true);
  });
});

describe('Kubernetes mode: API failures', () => {
  it('retries failed initial lists with backoff before converging', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.110/32']));
    server.apply('services', service('web'));
    server.listFailuresToInject = 3;
    const h = await start(server);
    await waitFor('web served', () => server.ingressIps('web', 'default').length === 1);
    expect(h.logs.filter((l) => l.msg === 'kubernetes list/watch failed; retrying')).toHaveLength(3);
  });

  it('asks the server to end each watch after a timeout and resumes from the last resourceVersion', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.140/32']));
    const h = await start(server, { watchTimeoutSeconds: 1 });
    const watches = () => server.requests.filter((r) => r.startsWith('GET /api/v1/services?watch=true'));
    expect(watches()[0]).toMatch(/timeoutSeconds=[12]\b/);
    await waitFor('a second watch', () => watches().length >= 2, 4_000);
    expect(watches()[1]).toMatch(/resourceVersion=\d+/);
    expect(server.requests.filter((r) => r === 'GET /api/v1/services?limit=500')).toHaveLength(1);
    server.apply('services', service('after'));
    await waitFor('after served', () => server.ingressIps('after', 'default').length === 1);
    expect(h.logs.filter((l) => l.msg === 'kubernetes list/watch failed; retrying')).toEqual([]);
  });

  it('re-lists after 410 Gone and sees what changed meanwhile, including deletions', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.120/32']));
    server.apply('services', service('first', { ips: ['192.0.2.120'], pool: 'p' }));
    server.apply('services', service('second'));
    const h = await start(server);
    await waitFor('second refused', () => server.events.some((e) => e.reason === 'AllocationFailed'));
    const listsBefore = server.requests.filter((r) => r === 'GET /api/v1/services?limit=500').length;
    server.expireWatches = true;
    server.dropWatches();
    server.remove('services', 'first', 'default');
    await waitFor('second served', () => server.ingressIps('second', 'default')[0] === '192.0.2.120');
    expect(server.requests.filter((r) => r === 'GET /api/v1/services?limit=500').length).toBe(listsBefore + 1);
    expect(h.mode.watch.services().map((s) => s.metadata?.name)).toEqual(['second']);
  });
});

describe('Kubernetes mode: controller leader election (beyond MetalLB)', () => {
  it('two controller replicas: one leads and writes, the other takes over when the leader stops', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.150/31']));
    server.apply('services', service('first'));
    const a = await start(server, { identity: 'controller-a' });
    await waitFor('a leads', () => a.mode.controller !== undefined);
    const b = await start(server, { identity: 'controller-b' });
    await waitFor('first served', () => server.ingressIps('first', 'default').length === 1);
    // b keeps observing a's renewals and never acts.
    await new Promise((r) => setTimeout(r, 600));
    expect(b.mode.controller).toBeUndefined();
    expect(server.get('leases', 'ingot-controller', NS)?.spec).toMatchObject({ holderIdentity: 'controller-a' });
    const leaseSpec = server.get('leases', 'ingot-controller', NS)?.spec as { renewTime?: string } | undefined;
    expect(String(leaseSpec?.renewTime)).toMatch(/\.\d{6}Z$/);
    await a.mode.close();
    open.splice(open.indexOf(a), 1);
    await waitFor('b leads', () => b.mode.controller !== undefined);
    server.apply('services', service('second'));
    await waitFor('second served by b', () => server.ingressIps('second', 'default').length === 1);
    expect(server.ingressIps('first', 'default')).toEqual(['192.0.2.150']);
    expect(server.ingressIps('second', 'default')).toEqual(['192.0.2.151']);
    expect(server.get('leases', 'ingot-controller', NS)?.spec).toMatchObject({
      holderIdentity: 'controller-b',
      leaseTransitions: 1, // created by a (0), released by a, acquired by b
    });
  });

  it('a leader that cannot renew steps down; a stale lease is taken over only after its duration', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.160/32']));
    server.apply('leases', {
      metadata: { name: 'ingot-controller', namespace: NS },
      spec: { holderIdentity: 'gone-replica', leaseDurationSeconds: 1, renewTime: '2026-01-01T00:00:00.000000Z' },
    });
    const started = Date.now();
    const h = await start(server, { identity: 'controller-a' });
    await waitFor('takes over', () => h.mode.controller !== undefined);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(server.get('leases', 'ingot-controller', NS)?.spec).toMatchObject({
      holderIdentity: 'controller-a',
      leaseTransitions: 1,
    });
    // Someone else overwrites the lease: the next renewal sees it and this replica steps down.
    server.apply('leases', {
      metadata: { name: 'ingot-controller', namespace: NS },
      spec: { holderIdentity: 'intruder', leaseDurationSeconds: 60, renewTime: '2026-01-01T00:00:00.000000Z' },
    });
    await waitFor('steps down', () => h.mode.controller === undefined);
    expect(h.logs.some((l) => l.msg === 'stopped leading')).toBe(true);
  });
});

describe('Kubernetes mode: namespaces', () => {
  it("resolves pools' namespaceSelectors from Namespace labels, and follows label changes", async () => {
    const server = new FakeApiServer();
    server.apply(
      'ipaddresspools',
      pool('team-a', ['203.0.113.5/32'], {
        serviceAllocation: { namespaceSelectors: [{ matchLabels: { team: 'a' } }] },
      }),
    );
    server.apply('namespaces', { metadata: { name: 'alpha', labels: { team: 'a' } } });
    server.apply('namespaces', { metadata: { name: 'beta', labels: { team: 'b' } } });
    server.apply('services', service('in-beta', { ns: 'beta' }));
    const h = await start(server);
    await waitFor('beta refused', () => server.events.some((e) => e.reason === 'AllocationFailed'));
    expect(server.ingressIps('in-beta', 'beta')).toEqual([]);
    server.apply('namespaces', { metadata: { name: 'beta', labels: { team: 'a' } } });
    await waitFor('beta served', () => server.ingressIps('in-beta', 'beta').length === 1);
    expect(server.ingressIps('in-beta', 'beta')).toEqual(['203.0.113.5']);
    expect(h.mode.controller?.initialLoadPerformed).toBe(true);
  });
});

describe('Kubernetes mode: configuration validation against the Node objects (as standalone against kind: Node)', () => {
  /** Two advertisements of one pool with different localPrefs, for the nodes of rack r1 and of zone z1. */
  function conflictingAdvertisements(server: FakeApiServer): void {
    server.apply('ipaddresspools', pool('pool', ['192.0.2.40/31']));
    for (const [name, localPref, labels] of [
      ['rack-r1', 100, { rack: 'r1' }],
      ['zone-z1', 200, { zone: 'z1' }],
    ] as const)
      server.apply('bgpadvertisements', {
        metadata: { name, namespace: NS },
        spec: { ipAddressPools: ['pool'], localPref, nodeSelectors: [{ matchLabels: labels }] },
      });
  }

  it('the controller rejects localPrefs that clash on a Node matching both selectors, and re-validates on label changes', async () => {
    const server = new FakeApiServer();
    conflictingAdvertisements(server);
    server.apply('nodes', { metadata: { name: 'node-a', labels: { rack: 'r1', zone: 'z1' } } });
    server.apply('nodes', { metadata: { name: 'node-b', labels: { rack: 'r2' } } });
    const h = await start(server);
    // node-a is in rack r1 and zone z1: both advertisements give it the pool with different localPrefs.
    expect(h.mode.store.current).toBeUndefined();
    const rejection = h.logs.find((l) => String(l.msg).startsWith('configuration rejected'));
    expect(rejection).toMatchObject({ resource: 'BGPAdvertisement/zone-z1', field: 'spec.localPref' });
    // node-a leaves zone z1: no Node is selected by both, so the same CRs are now valid (MetalLB's verdict too).
    server.apply('nodes', { metadata: { name: 'node-a', labels: { rack: 'r1' } } });
    await waitFor('configuration accepted', () => h.mode.store.current !== undefined);
    expect(h.mode.store.current?.bgpAdvertisements.map((a) => a.name).sort()).toEqual(['rack-r1', 'zone-z1']);
    // And back: node-b joins zone z1 while in rack r2; then node-a joins it again: rejected, the last good one kept.
    server.apply('nodes', { metadata: { name: 'node-b', labels: { rack: 'r2', zone: 'z1' } } });
    await new Promise((r) => setTimeout(r, 50));
    expect(h.mode.store.stale).toBe(false);
    server.apply('nodes', { metadata: { name: 'node-a', labels: { rack: 'r1', zone: 'z1' } } });
    await waitFor('rejected again', () => h.mode.store.stale);
  });

  it('without a Node in both groups the controller accepts what a selector-text comparison would refuse', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('pool', ['192.0.2.40/31']));
    // An advertisement for every node and one for zone z1: they clash only if some Node is in zone z1.
    server.apply('bgpadvertisements', { metadata: { name: 'all', namespace: NS }, spec: { localPref: 100 } });
    server.apply('bgpadvertisements', {
      metadata: { name: 'zone-z1', namespace: NS },
      spec: { localPref: 200, nodeSelectors: [{ matchLabels: { zone: 'z1' } }] },
    });
    server.apply('nodes', { metadata: { name: 'node-a', labels: { zone: 'z2' } } });
    const h = await start(server);
    expect(h.mode.store.current?.bgpAdvertisements).toHaveLength(2);
  });
});

describe('Kubernetes mode: speaker', () => {
  it("opens BGP sessions only for the BGPPeers whose nodeSelectors match this node's labels", async () => {
    const server = new FakeApiServer();
    const peer = (name: string, address: string, nodeSelectors?: unknown[]): FakeObject => ({
      metadata: { name, namespace: NS },
      spec: { myASN: 64500, peerASN: 64501, peerAddress: address, ...(nodeSelectors ? { nodeSelectors } : {}) },
    });
    server.apply('bgppeers', peer('everywhere', '192.0.2.254'));
    server.apply('bgppeers', peer('rack1-only', '192.0.2.253', [{ matchLabels: { rack: 'r1' } }]));
    server.apply('ipaddresspools', pool('p', ['198.51.100.200/32']));
    server.apply('nodes', { metadata: { name: 'node-a', labels: { rack: 'r2' } } });
    const peerSets: string[][] = [];
    const bgp: BgpBackend = {
      setPeers: (peers) => void peerSets.push(peers.map((p) => p.name).sort()),
      announce: () => {},
      withdraw: () => {},
    };
    await start(server, { controller: false, speaker: true, nodeName: 'node-a', bgp });
    await waitFor('peers set', () => peerSets.length > 0);
    expect(peerSets.at(-1)).toEqual(['everywhere']);
    server.apply('nodes', { metadata: { name: 'node-a', labels: { rack: 'r1' } } });
    await waitFor('rack1 peer', () => peerSets.at(-1)?.length === 2);
    expect(peerSets.at(-1)).toEqual(['everywhere', 'rack1-only']);
  });

  it('announces the IPs in service statuses from the elected node, and follows deletes and node labels', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.80/29']));
    server.apply('l2advertisements', l2('all'));
    server.apply('nodes', { metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a' } } });
    server.apply('services', service('held', { ips: ['192.0.2.85'], pool: 'p' }));
    server.apply('endpointslices', slice('held'));
    server.apply('services', service('pending'));
    server.apply('endpointslices', slice('pending'));
    const h = await start(server, { controller: false, speaker: true, nodeName: 'node-a' });
    await waitFor('announced', () => h.layer2.announced.has('192.0.2.85'));
    await h.mode.idle();
    // The speaker never allocates: the pending service has no status, so nothing is announced for it.
    expect([...h.layer2.announced]).toEqual(['192.0.2.85']);
    // The speaker writes no Service; it posts one nodeAssigned Event when it starts announcing.
    await waitFor('nodeAssigned', () => server.events.length === 1);
    expect(server.writes.filter((w) => !w.path.endsWith('/events'))).toEqual([]);
    expect(server.events[0]).toMatchObject({
      reason: 'nodeAssigned',
      type: 'Normal',
      message: 'announcing from node "node-a" with protocol "layer2"',
      involvedObject: { kind: 'Service', name: 'held', namespace: 'default' },
      source: { component: 'ingot-speaker' },
    });
    // Reconciles that change nothing post nothing (MetalLB posts on every reconcile, #3135).
    server.apply('services', {
      ...service('pending'),
      metadata: { name: 'pending', namespace: 'default', labels: { x: 'y' } },
    });
    server.apply('nodes', { metadata: { name: 'node-a', labels: { 'kubernetes.io/hostname': 'node-a', z: '1' } } });
    await new Promise((r) => setTimeout(r, 100));
    await h.mode.idle();
    expect(server.events).toHaveLength(1);
    // Excluding the node withdraws; removing the label announces again; deleting the service withdraws.
    server.apply('nodes', {
      metadata: { name: 'node-a', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } },
    });
    await waitFor('withdrawn (excluded)', () => h.layer2.announced.size === 0);
    server.apply('nodes', { metadata: { name: 'node-a', labels: {} } });
    await waitFor('announced again', () => h.layer2.announced.has('192.0.2.85'));
    await waitFor('second nodeAssigned', () => server.events.length === 2);
    server.remove('services', 'held', 'default');
    await waitFor('withdrawn (deleted)', () => h.layer2.announced.size === 0);
  });

  it("resolves a BGPPeer's passwordSecret from a basic-auth Secret; a missing or wrong Secret rejects the config", async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['198.51.100.210/32']));
    server.apply('bgppeers', {
      metadata: { name: 'tor', namespace: NS },
      spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.254', passwordSecret: { name: 'tor-pw' } },
    });
    server.apply('nodes', { metadata: { name: 'node-a' } });
    const peerSets: { name: string; password?: string }[][] = [];
    const bgp: BgpBackend = {
      setPeers: (peers) =>
        void peerSets.push(peers.map((p) => ({ name: p.name, ...(p.password ? { password: p.password } : {}) }))),
      announce: () => {},
      withdraw: () => {},
    };
    const h = await start(server, { controller: false, speaker: true, nodeName: 'node-a', bgp });
    expect(h.mode.store.current).toBeUndefined();
    expect(h.logs.find((l) => String(l.msg).startsWith('configuration rejected'))).toMatchObject({
      resource: 'BGPPeer/tor',
      field: 'spec.passwordSecret',
      reason: 'secret "tor-pw" not found',
    });
    server.apply('secrets', {
      metadata: { name: 'tor-pw', namespace: NS },
      type: 'kubernetes.io/basic-auth',
      data: { username: Buffer.from('x').toString('base64'), password: Buffer.from('s3cret').toString('base64') },
    });
    await waitFor('peer with password', () => peerSets.at(-1)?.[0]?.password === 's3cret');
    server.apply('secrets', { metadata: { name: 'tor-pw', namespace: NS }, type: 'Opaque', data: {} });
    await waitFor('rejected', () => h.mode.store.stale);
    expect(h.mode.store.current?.bgpPeers[0]?.password).toBe('s3cret');
    expect(JSON.stringify(h.logs)).not.toContain('s3cret');
  });

  it("watches BFDProfiles: a BGPPeer's bfdProfile is rejected until the profile exists, then carries its timers", async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['198.51.100.211/32']));
    server.apply('bgppeers', {
      metadata: { name: 'tor', namespace: NS },
      spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.254', bfdProfile: 'fast' },
    });
    server.apply('nodes', { metadata: { name: 'node-a' } });
    const h = await start(server, { controller: false, speaker: true, nodeName: 'node-a' });
    expect(h.mode.store.current).toBeUndefined();
    expect(h.logs.find((l) => String(l.msg).startsWith('configuration rejected'))).toMatchObject({
      resource: 'BGPPeer/tor',
      field: 'spec.bfdProfile',
    });
    server.apply('bfdprofiles', {
      metadata: { name: 'fast', namespace: NS },
      spec: { receiveInterval: 50, transmitInterval: 60, detectMultiplier: 3 },
    });
    await waitFor('config with the profile', () => h.mode.store.current !== undefined);
    expect(h.mode.store.current?.bgpPeers[0]?.bfd).toMatchObject({
      profile: 'fast',
      receiveInterval: 50,
      transmitInterval: 60,
      detectMultiplier: 3,
    });
  });

  it('ignores Node heartbeats, and fails over from a node that stops being Ready (no memberlist)', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.90/32']));
    server.apply('l2advertisements', l2('all'));
    const node = (name: string, ready: string, beat: string): FakeObject => ({
      metadata: { name },
      status: { conditions: [{ type: 'Ready', status: ready, lastHeartbeatTime: beat }] },
    });
    server.apply('nodes', node('node-a', 'True', 't0'));
    server.apply('nodes', node('node-b', 'True', 't0'));
    server.apply('services', service('web', { ips: ['192.0.2.90'], pool: 'p' }));
    server.apply('endpointslices', slice('web'));
    let plans = 0;
    const bgp: BgpBackend = { setPeers: () => void plans++, announce: () => {}, withdraw: () => {} };
    const h = await start(server, { controller: false, speaker: true, nodeName: 'node-a', bgp });
    // node-b wins 192.0.2.90 (sha256 "node-b#192.0.2.90" sorts first).
    await waitFor('first plan', () => plans > 0);
    await h.mode.idle();
    expect(h.layer2.announced.size).toBe(0);
    const before = plans;
    for (let i = 1; i <= 5; i++) {
      server.apply('nodes', node('node-a', 'True', `t${i}`));
      server.apply('nodes', node('node-b', 'True', `t${i}`));
    }
    await new Promise((r) => setTimeout(r, 100));
    await h.mode.idle();
    expect(plans).toBe(before);
    server.apply('nodes', node('node-b', 'Unknown', 't6'));
    await waitFor('node-a takes over', () => h.layer2.announced.has('192.0.2.90'));
  });

  it('handles a burst of Service changes in a few re-plans, not one per change', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['198.18.0.0/24']));
    server.apply('l2advertisements', l2('all'));
    server.apply('nodes', { metadata: { name: 'node-a' } });
    let plans = 0;
    const bgp: BgpBackend = { setPeers: () => void plans++, announce: () => {}, withdraw: () => {} };
    const h = await start(server, { controller: false, speaker: true, nodeName: 'node-a', bgp });
    await waitFor('first plan', () => plans > 0);
    const before = plans;
    // 100 changes spread over about 100 ms (as a controller writing statuses would produce them).
    for (let i = 0; i < 100; i++) {
      server.apply('services', service(`s${i}`, { ips: [`198.18.0.${i}`], pool: 'p' }));
      server.apply('endpointslices', slice(`s${i}`));
      if (i % 10 === 9) await new Promise((r) => setTimeout(r, 10));
    }
    await waitFor('all announced', () => h.layer2.announced.size === 100);
    expect(plans - before).toBeLessThanOrEqual(5); // 10 without the delay
  });

  it('announces a Service only while it has a serving endpoint (terminating-but-serving counts)', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.170/32']));
    server.apply('l2advertisements', l2('all'));
    server.apply('nodes', { metadata: { name: 'node-a' } });
    server.apply('services', service('web', { ips: ['192.0.2.170'], pool: 'p' }));
    const h = await start(server, { controller: false, speaker: true, nodeName: 'node-a' });
    await h.mode.idle();
    await new Promise((r) => setTimeout(r, 150));
    expect(h.layer2.announced.size).toBe(0);
    server.apply('endpointslices', slice('web'));
    await waitFor('announced', () => h.layer2.announced.has('192.0.2.170'));
    server.apply('endpointslices', slice('web', { ready: false }));
    await waitFor('withdrawn (not ready)', () => h.layer2.announced.size === 0);
    const terminating = slice('web', { ready: false });
    (terminating.endpoints as { conditions: Record<string, boolean> }[])[0]!.conditions.serving = true;
    server.apply('endpointslices', terminating);
    await waitFor('announced (serving)', () => h.layer2.announced.has('192.0.2.170'));
    server.remove('endpointslices', 'web-abcde', 'default');
    await waitFor('withdrawn (no slice)', () => h.layer2.announced.size === 0);
  });

  it('announces nothing, and says why, when this node is not among the cluster Nodes', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.130/32']));
    server.apply('l2advertisements', l2('all'));
    server.apply('nodes', { metadata: { name: 'node-a' } });
    server.apply('services', service('held', { ips: ['192.0.2.130'], pool: 'p' }));
    server.apply('endpointslices', slice('held'));
    const h = await start(server, { controller: false, speaker: true, nodeName: 'ghost' });
    await waitFor('warning', () => h.logs.some((l) => String(l.msg).startsWith('this node is not among')));
    await h.mode.idle();
    expect(h.layer2.announced.size).toBe(0);
  });

  it('controller and speaker in one process: a new service is allocated, written and announced', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('p', ['192.0.2.90/31']));
    server.apply('l2advertisements', l2('all'));
    server.apply('nodes', { metadata: { name: 'node-a' } });
    server.apply('nodes', {
      metadata: { name: 'node-b' },
      status: { conditions: [{ type: 'NetworkUnavailable', status: 'True' }] },
    });
    const h = await start(server, { controller: true, speaker: true, nodeName: 'node-a' });
    server.apply('services', service('web'));
    server.apply('endpointslices', slice('web'));
    // node-b would win 192.0.2.90 (sha256 "node-b#192.0.2.90" sorts first) but its network is unavailable.
    await waitFor('announced', () => h.layer2.announced.has('192.0.2.90'));
    expect(server.ingressIps('web', 'default')).toEqual(['192.0.2.90']);
  });
});
