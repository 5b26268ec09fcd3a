import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterEach, describe, expect, it } from 'vitest';
import { retryAfterMs, statusCodeOf } from '../../src/kubernetes/backoff.js';
import { KubeApiError, KubeHttp } from '../../src/kubernetes/kube-http.js';
import { rawCoreV1Api } from '../../src/kubernetes/kube-rest.js';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  auth: string | undefined;
  body: string;
}

/**
 * A plain HTTP server counting requests in flight and connections opened. It holds answers until `gate` requests wait
 * or none has come for `quietMs`, then answers those held: a client that allows `gate` requests in flight is seen with
 * `gate` in flight, whatever the timing.
 */
async function server(
  answer: (req: Seen) => { status: number; body?: unknown; headers?: Record<string, string> },
  gate = 1,
  quietMs = 200,
) {
  const held: (() => void)[] = [];
  let quiet: NodeJS.Timeout | undefined;
  const flush = () => {
    clearTimeout(quiet);
    for (const release of held.splice(0)) release();
  };
  const stats = { inFlight: 0, maxInFlight: 0, connections: 0, seen: [] as Seen[] };
  const srv = http.createServer((req, res) => {
    stats.inFlight++;
    stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      const seen = {
        method: req.method ?? '',
        url: req.url ?? '',
        contentType: req.headers['content-type'],
        auth: req.headers.authorization,
        body,
      };
      stats.seen.push(seen);
      held.push(() => {
        const a = answer(seen);
        stats.inFlight--;
        res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
        res.end(a.body === undefined ? '' : JSON.stringify(a.body));
      });
      clearTimeout(quiet);
      if (held.length >= gate) flush();
      else quiet = setTimeout(flush, quietMs);
    });
  });
  srv.on('connection', () => stats.connections++);
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  servers.push(srv);
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: url, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'secret-token' }],
    contexts: [{ name: 'c', cluster: 'c', user: 'u' }],
    currentContext: 'c',
  });
  return { stats, kc };
}

const servers: http.Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

describe('KubeHttp: plain JSON requests on kept-alive connections', () => {
  it('keeps at most maxInFlight requests in flight, on at most that many connections, and loses none', async () => {
    // Held until a fifth request comes (which a bounded client never sends) or 200 ms pass without one.
    const { stats, kc } = await server((req) => ({ status: 200, body: { echo: req.url } }), 5);
    const client = new KubeHttp(kc, { maxInFlight: 4 });
    const answers = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.request<{ echo: string }>({ method: 'GET', path: `/x/${i}` })),
    );
    expect(answers.map((a) => a.echo)).toEqual(Array.from({ length: 40 }, (_, i) => `/x/${i}`));
    expect(stats.maxInFlight).toBeLessThanOrEqual(4);
    expect(stats.maxInFlight, 'requests were sent concurrently').toBeGreaterThan(1);
    expect(stats.connections).toBeLessThanOrEqual(4);
  });

  it("sends the kubeconfig's credentials, merge patches with their content type, and query parameters", async () => {
    const { stats, kc } = await server(() => ({ status: 200, body: { metadata: { resourceVersion: '7' } } }));
    const core = rawCoreV1Api(new KubeHttp(kc));
    const patched = await core.patchNamespacedServiceStatus({
      namespace: 'ns a',
      name: 'svc',
      body: { status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } },
    });
    expect(patched).toEqual({ metadata: { resourceVersion: '7' } });
    await core.listServiceForAllNamespaces({ limit: 500, _continue: 'tok&en' });
    expect(stats.seen).toEqual([
      {
        method: 'PATCH',
        url: '/api/v1/namespaces/ns%20a/services/svc/status',
        contentType: 'application/merge-patch+json',
        auth: 'Bearer secret-token',
        body: JSON.stringify({ status: { loadBalancer: { ingress: [{ ip: '192.0.2.1' }] } } }),
      },
      {
        method: 'GET',
        url: '/api/v1/services?continue=tok%26en&limit=500',
        contentType: undefined,
        auth: 'Bearer secret-token',
        body: '',
      },
    ]);
  });

  it('throws error answers as KubeApiError with status, Retry-After and the Status message', async () => {
    const { kc } = await server((req) =>
      req.url.endsWith('/busy')
        ? { status: 429, body: { kind: 'Status', message: 'too many requests' }, headers: { 'retry-after': '2' } }
        : { status: 409, body: { kind: 'Status', message: 'the object has been modified' } },
    );
    const client = new KubeHttp(kc);
    const busy = await client.request({ method: 'GET', path: '/busy' }).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(KubeApiError);
    expect(statusCodeOf(busy)).toBe(429);
    expect(retryAfterMs(busy)).toBe(2_000);
    const conflict = await client.request({ method: 'PATCH', path: '/c', body: {} }).catch((e: unknown) => e);
    expect(statusCodeOf(conflict)).toBe(409);
    expect((conflict as Error).message).toBe('PATCH /c: HTTP 409: the object has been modified');
  });
});
