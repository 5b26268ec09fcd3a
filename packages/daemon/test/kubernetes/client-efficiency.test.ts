import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { retryAfterMs, retryTransient } from '../../src/kubernetes/backoff.js';
import { ClusterWatch } from '../../src/kubernetes/cluster-watch.js';
import { shareConnections, sharedAgentOf } from '../../src/kubernetes/kube-client.js';
import { startKubernetesMode } from '../../src/kubernetes/kubernetes-mode.js';
import { coreV1WriteApi } from '../../src/kubernetes/service-write-api.js';
import { createLogger } from '../../src/logger.js';
import { FakeApiServer, type FakeObject } from './fake-api-server.js';

const NS = 'metallb-system';
let tls: { key: string; cert: string };
let certDir: string;

beforeAll(() => {
  certDir = mkdtempSync(join(tmpdir(), 'ingot-tls-'));
  execFileSync('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    join(certDir, 'key.pem'),
    '-out',
    join(certDir, 'cert.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=127.0.0.1',
    '-addext',
    'subjectAltName=IP:127.0.0.1',
  ]);
  tls = { key: readFileSync(join(certDir, 'key.pem'), 'utf8'), cert: readFileSync(join(certDir, 'cert.pem'), 'utf8') };
});

afterAll(() => rmSync(certDir, { recursive: true, force: true }));

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(server: FakeApiServer): Promise<string> {
  const url = await server.start();
  cleanups.push(() => server.stop());
  return url;
}

function kubeConfigFor(server: string): KubeConfig {
  const kc = new KubeConfig();
  const https = server.startsWith('https:');
  kc.loadFromOptions({
    clusters: [
      {
        name: 'fake',
        server,
        ...(https ? { caData: Buffer.from(tls.cert).toString('base64') } : { skipTLSVerify: true }),
      },
    ],
    users: [{ name: 'bench', token: 'not-checked' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'bench' }],
    currentContext: 'fake',
  });
  return kc;
}

function service(name: string, opts: { ips?: string[]; pool?: string } = {}): FakeObject {
  return {
    metadata: {
      name,
      namespace: 'default',
      ...(opts.pool ? { annotations: { 'metallb.io/ip-allocated-from-pool': opts.pool } } : {}),
    },
    spec: { type: 'LoadBalancer', clusterIPs: ['198.51.100.10'], ports: [{ protocol: 'TCP', port: 80 }] },
    ...(opts.ips ? { status: { loadBalancer: { ingress: opts.ips.map((ip) => ({ ip })) } } } : {}),
  };
}

function pool(name: string, addresses: string[]): FakeObject {
  return { metadata: { name, namespace: NS }, spec: { addresses } };
}

function logger() {
  const logs: Record<string, unknown>[] = [];
  const log = createLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) });
  return { logs, log };
}

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function startWatch(url: string, extra: { listPageSize?: number } = {}) {
  const { logs, log } = logger();
  const watch = new ClusterWatch({
    kubeConfig: kubeConfigFor(url),
    namespace: NS,
    log,
    retry: { initialMs: 10, maxMs: 50 },
    ...extra,
  });
  cleanups.push(() => watch.stop());
  await watch.start();
  return { watch, logs };
}

describe('client connections', () => {
  it('fake server: over TLS, requests reuse kept-alive connections instead of a handshake each (injected fault: counting handshakes)', async () => {
    const server = new FakeApiServer({ tls });
    server.apply('services', service('web'));
    const url = await serve(server);

    // The library alone: a new agent, so a new connection and TLS handshake, for every request.
    const plain = kubeConfigFor(url).makeApiClient(CoreV1Api);
    const before = server.tlsHandshakes;
    for (let i = 0; i < 5; i++) await plain.readNamespacedService({ namespace: 'default', name: 'web' });
    expect(server.tlsHandshakes - before).toBe(5);

    // Shared: the informers (one watch connection each) and the writer; sequential requests reuse one connection.
    const kc = kubeConfigFor(url);
    const { watch } = await startWatch(url);
    const api = await coreV1WriteApi(shareConnections(kc));
    await api.readService('default', 'web');
    const settled = server.tlsHandshakes;
    for (let i = 0; i < 20; i++) await api.readService('default', 'web');
    await api.patchServiceStatus('default', 'web', { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } });
    expect(server.tlsHandshakes).toBe(settled);
    expect(server.connections).toBe(server.tlsHandshakes);
    expect(sharedAgentOf(kc)).toBeDefined();
    // Every request carries Ingot's user agent, watches included.
    expect(watch.synced).toBe(true);
    const ours = server.userAgents.slice(-30);
    expect(new Set(ours)).toEqual(new Set(['ingot']));
  });

  it('fake server: informers share one agent; only each open watch holds a connection of its own (injected fault: counting handshakes)', async () => {
    const server = new FakeApiServer({ tls });
    server.apply('services', service('web'));
    const url = await serve(server);
    const { watch } = await startWatch(url);
    const watches = server.requests.filter((r) => r.includes('watch=true')).length;
    const lists = server.requests.filter((r) => r.includes('limit=')).length;
    expect(watches).toBeGreaterThanOrEqual(8);
    // Lists (run at once at start) and watches: at most one connection each, lists' connections reused by watches.
    expect(server.tlsHandshakes).toBeLessThanOrEqual(watches + 1);
    expect(lists).toBe(watches);
    // Resuming every watch reuses the connections the ended ones leave idle: no new handshakes.
    const handshakes = server.tlsHandshakes;
    server.dropWatches();
    await waitFor(
      'watches resumed',
      () => server.requests.filter((r) => r.includes('watch=true')).length >= 2 * watches,
    );
    expect(server.tlsHandshakes).toBe(handshakes);
    expect(watch.stats().service.watchRequests).toBe(2);
  });
});

describe('watch bookmarks', () => {
  it('asks for bookmarks and resumes a dropped watch from the bookmark, not from the last object event', async () => {
    const server = new FakeApiServer();
    server.apply('services', service('web'));
    const { watch } = await startWatch(await serve(server));
    const serviceWatches = () => server.requests.filter((r) => r.startsWith('GET /api/v1/services?watch=true'));
    expect(serviceWatches()[0]).toContain('allowWatchBookmarks=true');
    const lastObjectRv = Number(server.get('services', 'web', 'default')?.metadata.resourceVersion);
    const bookmarkRv = server.advance(1_000);
    server.bookmark();
    await waitFor('bookmark received', () => watch.stats().service.bookmarks === 1);
    server.dropWatches();
    await waitFor('service watch resumed', () => serviceWatches().length === 2);
    const resumed = new URL(serviceWatches()[1]?.slice(4) ?? '', 'http://x').searchParams;
    expect(Number(resumed.get('resourceVersion'))).toBe(bookmarkRv);
    expect(bookmarkRv).toBeGreaterThan(lastObjectRv);
    // Resumed, not re-listed; bookmarks are not changes.
    expect(watch.stats().service.listRequests).toBe(1);
    expect(watch.stats().service.events).toBe(0);
  });
});

describe('paginated lists', () => {
  it('reads the initial list in pages of listPageSize with continue tokens, all from one snapshot', async () => {
    const server = new FakeApiServer();
    for (let i = 0; i < 1_203; i++) server.apply('services', service(`s${String(i).padStart(4, '0')}`));
    const { watch } = await startWatch(await serve(server), { listPageSize: 500 });
    const lists = server.requests.filter((r) => r.startsWith('GET /api/v1/services?') && !r.includes('watch=true'));
    expect(lists).toHaveLength(3);
    expect(lists[0]).toBe('GET /api/v1/services?limit=500');
    expect(lists[1]).toMatch(/^GET \/api\/v1\/services\?continue=[^&]+&limit=500$/);
    expect(watch.services()).toHaveLength(1_203);
    expect(new Set(watch.services().map((s) => s.metadata?.name)).size).toBe(1_203);
    // The watch starts from the snapshot's resourceVersion.
    const watchUrl = server.requests.find((r) => r.startsWith('GET /api/v1/services?watch=true')) ?? '';
    expect(new URL(watchUrl.slice(4), 'http://x').searchParams.get('resourceVersion')).toBe(String(server.advance(0)));
  });

  it('fake server: falls back to one full list when a continue token has expired (injected fault: 410 on continue)', async () => {
    const server = new FakeApiServer();
    for (let i = 0; i < 30; i++) server.apply('services', service(`s${i}`));
    server.expireContinue = true;
    const { watch, logs } = await startWatch(await serve(server), { listPageSize: 10 });
    const lists = server.requests.filter((r) => r.startsWith('GET /api/v1/services?') && !r.includes('watch=true'));
    expect(lists.map((r) => r.replace(/continue=[^&]+/, 'continue=T'))).toEqual([
      'GET /api/v1/services?limit=10',
      'GET /api/v1/services?continue=T&limit=10',
      'GET /api/v1/services?limit=0',
    ]);
    expect(watch.services()).toHaveLength(30);
    expect(logs.filter((l) => l.msg === 'kubernetes list/watch failed; retrying')).toEqual([]);
  });
});

describe('cache footprint', () => {
  it('keeps no managedFields, kubectl last-applied copies or Node images, from lists and from watches', async () => {
    const server = new FakeApiServer();
    const heavy = (name: string): FakeObject => ({
      ...service(name),
      metadata: {
        name,
        namespace: 'default',
        managedFields: [{ manager: 'kubectl', fieldsV1: { 'f:spec': {} } }],
        annotations: {
          'kubectl.kubernetes.io/last-applied-configuration': '{}',
          'metallb.io/loadBalancerIPs': '192.0.2.5',
        },
      },
    });
    server.apply('services', heavy('listed'));
    server.apply('nodes', {
      metadata: { name: 'n1', labels: { a: 'b' } },
      status: { images: [{ names: ['x'] }], conditions: [] },
    });
    const { watch } = await startWatch(await serve(server));
    server.apply('services', heavy('watched'));
    await waitFor('watched', () => watch.services().length === 2);
    for (const svc of watch.services()) {
      expect(svc.metadata).not.toHaveProperty('managedFields');
      expect(svc.metadata?.annotations).toEqual({ 'metallb.io/loadBalancerIPs': '192.0.2.5' });
    }
    expect(watch.nodes()[0]?.status).toEqual({ conditions: [] });
    expect(watch.nodes()[0]?.metadata?.labels).toEqual({ a: 'b' });
  });
});

describe('429 and 5xx', () => {
  it('reads Retry-After as seconds or an HTTP date, capped', () => {
    expect(retryAfterMs({ code: 429, headers: { 'retry-after': '3' } })).toBe(3_000);
    expect(retryAfterMs({ headers: { 'Retry-After': '1' } })).toBe(1_000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs({ headers: { 'retry-after': 'Thu, 01 Jan 2026 00:00:05 GMT' } }, now)).toBe(5_000);
    expect(retryAfterMs({ headers: { 'retry-after': '100000' } })).toBe(60_000);
    expect(retryAfterMs({ headers: { 'retry-after': 'soon' } })).toBeUndefined();
    expect(retryAfterMs({ code: 429 })).toBeUndefined();
    expect(retryAfterMs(undefined)).toBeUndefined();
  });

  it('retries 429 after Retry-After and 5xx with backoff, a bounded number of times; other errors at once', async () => {
    const waits: number[] = [];
    const sleep = async (ms: number) => void waits.push(ms);
    const failing = (errors: unknown[]) => {
      let calls = 0;
      const fn = async () => {
        calls++;
        const err = errors.shift();
        if (err) throw err;
        return 'ok';
      };
      return { fn, calls: () => calls };
    };
    const a = failing([{ code: 429, headers: { 'retry-after': '2' } }, { code: 503 }, { code: 500 }]);
    await expect(retryTransient(a.fn, { sleep, retry: { initialMs: 100 } })).resolves.toBe('ok');
    expect(a.calls()).toBe(4);
    expect(waits).toEqual([2_000, 200, 400]);
    waits.length = 0;
    const reset = failing([Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })]);
    await expect(retryTransient(reset.fn, { sleep, retry: { initialMs: 100 } })).resolves.toBe('ok');
    expect(waits).toEqual([100]);
    const b = failing([{ code: 404 }]);
    await expect(retryTransient(b.fn, { sleep })).rejects.toMatchObject({ code: 404 });
    expect(b.calls()).toBe(1);
    const c = failing(Array.from({ length: 10 }, () => ({ code: 429 })));
    await expect(retryTransient(c.fn, { sleep, attempts: 3 })).rejects.toMatchObject({ code: 429 });
    expect(c.calls()).toBe(3);
  });

  it('fake server: the writer waits the Retry-After of a 429 and then writes (injected fault: 429)', async () => {
    const server = new FakeApiServer();
    server.apply('services', service('web'));
    const url = await serve(server);
    const waits: number[] = [];
    const api = await coreV1WriteApi(kubeConfigFor(url), { sleep: async (ms) => void waits.push(ms) });
    server.throttleToInject = 2;
    server.retryAfterSeconds = 3;
    await api.patchServiceStatus('default', 'web', { status: { loadBalancer: { ingress: [{ ip: '192.0.2.7' }] } } });
    expect(waits).toEqual([3_000, 3_000]);
    expect(server.ingressIps('web', 'default')).toEqual(['192.0.2.7']);
  });

  it('fake server: a throttled list is retried no sooner than its Retry-After (injected fault: 429)', async () => {
    const server = new FakeApiServer();
    server.apply('services', service('web'));
    const url = await serve(server);
    server.throttleToInject = 1;
    server.retryAfterSeconds = 1;
    const started = Date.now();
    const { watch, logs } = await startWatch(url);
    const failed = logs.filter((l) => l.msg === 'kubernetes list/watch failed; retrying');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ status: 429, retryAfterMs: 1_000 });
    // Backoff alone would have retried after 10 ms.
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(watch.services()).toHaveLength(1);
  });
});

describe('no write when nothing changed', () => {
  it('a controller restarted over converged Services writes nothing, and in steady state only watches', async () => {
    const server = new FakeApiServer();
    server.apply('ipaddresspools', pool('blue', ['192.0.2.10-192.0.2.19']));
    for (let i = 0; i < 5; i++) server.apply('services', service(`s${i}`, { ips: [`192.0.2.1${i}`], pool: 'blue' }));
    const url = await serve(server);
    const { log } = logger();
    const mode = await startKubernetesMode({
      kubeConfig: kubeConfigFor(url),
      log,
      speaker: false,
      retry: { initialMs: 10, maxMs: 50 },
    });
    cleanups.push(() => mode.close());
    await waitFor('initial load', () => mode.controller?.initialLoadPerformed === true);
    await mode.idle();
    expect(server.writes).toEqual([]);
    // A configuration change that moves nothing, and resumed watches: still no write, and no request but watches.
    const requests = server.requests.length;
    server.apply('ipaddresspools', pool('blue', ['192.0.2.10-192.0.2.20']));
    server.dropWatches();
    await waitFor('config seen', () => JSON.stringify(mode.store.current?.pools).includes('192.0.2.20'));
    await new Promise((r) => setTimeout(r, 200));
    await mode.idle();
    expect(server.writes).toEqual([]);
    expect(server.requests.slice(requests).filter((r) => !r.includes('watch=true'))).toEqual([]);
  });
});
