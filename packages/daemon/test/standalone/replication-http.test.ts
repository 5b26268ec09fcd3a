import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/parse-config.js';
import { getBody } from '../../src/http-json.js';
import { serveStatus } from '../../src/metrics.js';
import { fetchTableOverHttp, MAX_TABLE_BYTES, ReplicationError } from '../../src/standalone/assignment-sync.js';
import { advertisedStatusAddress, statusAddressProblem } from '../../src/standalone/status-address.js';
import { replicationKey, SIGNATURE_HEADER, signBody, verifyBody } from '../../src/standalone/table-auth.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A peer answering every request with `handler`, on an ephemeral loopback port. */
async function peer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const reason = (p: Promise<unknown>) =>
  p.then(
    () => 'adopted',
    (err: unknown) => (err instanceof ReplicationError ? err.reason : `other: ${(err as Error).message}`),
  );

const KEY = replicationKey('a-cluster-secret-of-reasonable-length');
const BODY = '{"generation":1,"writer":"n1","services":{}}\n';

describe('replication over HTTP', () => {
  it('the key is derived from the memberlist secret, distinct per secret, and the signature checks the body', () => {
    expect(KEY).toHaveLength(32);
    expect(replicationKey('another-secret').equals(KEY)).toBe(false);
    expect(verifyBody(KEY, BODY, signBody(KEY, BODY))).toBe(true);
    expect(verifyBody(KEY, `${BODY} `, signBody(KEY, BODY))).toBe(false);
    expect(verifyBody(KEY, BODY, undefined)).toBe(false);
    expect(verifyBody(KEY, BODY, 'sha256=zz')).toBe(false);
  });

  it('a table without the right signature is refused when a key is in force', async () => {
    const unsigned = await peer((_req, res) => res.end(BODY));
    const wrong = await peer((_req, res) =>
      res.setHeader(SIGNATURE_HEADER, signBody(replicationKey('other-secret'), BODY)).end(BODY),
    );
    const right = await peer((_req, res) => res.setHeader(SIGNATURE_HEADER, signBody(KEY, BODY)).end(BODY));
    expect(await reason(fetchTableOverHttp(unsigned, KEY))).toBe('unauthenticated');
    expect(await reason(fetchTableOverHttp(wrong, KEY))).toBe('unauthenticated');
    expect(await fetchTableOverHttp(right, KEY)).toEqual(JSON.parse(BODY));
  });

  it('bodies over the cap are cut off, declared or streamed; a peer that drips is cut off at the deadline', async () => {
    const declared = await peer((_req, res) => res.writeHead(200, { 'content-length': MAX_TABLE_BYTES + 1 }).end());
    const chunk = Buffer.alloc(1 << 20, 0x20);
    const streamed = await peer((_req, res) => {
      res.writeHead(200);
      let n = 0;
      const more = () => {
        // Bounded: at most 16 MiB, then stop (the reader must have given up at 8 MiB).
        while (n++ < 16) if (!res.write(chunk)) return void res.once('drain', more);
        res.end();
      };
      more();
    });
    const drip = await peer((_req, res) => {
      res.writeHead(200);
      const t = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(t));
    });
    expect(await reason(fetchTableOverHttp(declared))).toBe('too-large');
    expect(await reason(fetchTableOverHttp(streamed))).toBe('too-large');
    await expect(getBody(drip, '/assignments', { timeoutMs: 500 })).rejects.toThrow(/within 500 ms/);
  });

  it('the status server signs /assignments, and with a local listener the peer address serves nothing else', async () => {
    const server = await serveStatus('127.0.0.1:0', {
      metrics: () => 'm 1\n',
      healthy: () => true,
      status: () => ({ secret: 'status' }),
      assignments: () => JSON.parse(BODY),
      sign: (body) => signBody(KEY, body),
      only: ['/assignments'],
    });
    servers.push(server);
    const at = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    expect(await fetchTableOverHttp(at, KEY)).toEqual(JSON.parse(BODY));
    await expect(getBody(at, '/metrics')).rejects.toThrow(/HTTP 404/);
    await expect(getBody(at, '/status')).rejects.toThrow(/HTTP 404/);
  });
});

describe('status address', () => {
  it('with gossip on, a loopback status address is refused and a wildcard advertises the memberlist host', () => {
    expect(statusAddressProblem('127.0.0.1:7472', '192.0.2.1:7946')).toMatch(/loopback/);
    expect(statusAddressProblem('[::1]:7472', '[2001:db8::1]:7946')).toMatch(/loopback/);
    expect(statusAddressProblem('127.0.0.1:7472', '127.0.0.1:7946')).toBeUndefined();
    expect(statusAddressProblem('0.0.0.0:7472', '0.0.0.0:7946')).toMatch(/wildcard/);
    expect(statusAddressProblem('0.0.0.0:7472', '[2001:db8::1]:7946')).toMatch(/IPv4 only/);
    expect(statusAddressProblem('0.0.0.0:7472', '192.0.2.1:7946')).toBeUndefined();
    expect(statusAddressProblem('127.0.0.1:7472', undefined)).toBeUndefined();
    expect(advertisedStatusAddress('0.0.0.0:7472', '192.0.2.1:7946')).toBe('192.0.2.1:7472');
    expect(advertisedStatusAddress('[::]:7472', '[2001:db8::1]:7946')).toBe('[2001:db8::1]:7472');
    expect(advertisedStatusAddress('192.0.2.1:7000', '192.0.2.1:7946')).toBe('192.0.2.1:7000');
    // The memberlist advertise address (a bare IP or host:port) stands for a wildcard bind.
    expect(statusAddressProblem('0.0.0.0:7472', '192.0.2.9')).toBeUndefined();
    expect(advertisedStatusAddress('0.0.0.0:7472', '192.0.2.9')).toBe('192.0.2.9:7472');
  });

  it('ingot validate rejects a status address the other members cannot fetch from', () => {
    const doc = (status: string, bind: string) => `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: n1 }
spec:
  statusAddress: '${status}'
  memberlist: { bindAddress: '${bind}', join: [], secret: c2VjcmV0LWZvci10aGUtdmFsaWRhdGUtdGVzdA }
`;
    const r = parseConfig(doc('0.0.0.0:7472', '0.0.0.0:7946'));
    expect(r.ok).toBe(false);
    if (!r.ok)
      expect(r.issues[0]).toMatchObject({ field: 'spec.statusAddress', reason: expect.stringMatching(/wildcard/) });
    expect(parseConfig(doc('127.0.0.1:7472', '192.0.2.1:7946')).ok).toBe(false);
    expect(parseConfig(doc('0.0.0.0:7472', '192.0.2.1:7946')).ok).toBe(true);
    const advertised = doc('0.0.0.0:7472', '0.0.0.0:7946').replace('join: []', 'join: [], advertiseAddress: 192.0.2.1');
    expect(parseConfig(advertised).ok).toBe(true);
  });
});
