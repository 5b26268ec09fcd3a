// Issue 13 "Resource limits before authentication": the TCP side of UdpTransport bounds what an unauthenticated peer
// can make it hold. Real TCP on 127.0.0.1.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ConfigError,
  Keyring,
  MAX_REQUEST_FRAME,
  Membership,
  type TransportRejection,
  UdpTransport,
  type UdpTransportOptions,
} from '../src/index.js';

const open: { close(): Promise<void> }[] = [];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function transport(options: UdpTransportOptions = {}) {
  const t = await UdpTransport.bind({ host: '127.0.0.1', port: 0, ...options });
  open.push(t);
  return t;
}

/** Connects, writes `head`, resolves when the server closes the connection (with how long it took). */
function connectAndHold(port: number, head: Uint8Array, localAddress?: string): Promise<{ closedAfterMs: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const c = net.connect({ port, host: '127.0.0.1', ...(localAddress ? { localAddress } : {}) }, () => c.write(head));
    c.on('error', () => {});
    c.on('close', () => resolve({ closedAfterMs: Date.now() - t0 }));
  });
}

const lengthPrefix = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

describe('UdpTransport inbound TCP limits', () => {
  it('closes a connection announcing a frame above the request limit as soon as the length is in', async () => {
    const rejects: TransportRejection[] = [];
    const t = await transport({ onReject: (r) => rejects.push(r) });
    t.listen({ packet() {}, exchange: () => Uint8Array.of(1) });
    const r = await connectAndHold(t.address.port, lengthPrefix((8 << 20) - 1));
    expect(r.closedAfterMs).toBeLessThan(5000); // well before the 10 s deadline: closed on the length alone
    expect(t.stats.oversize).toBe(1);
    expect(rejects).toEqual(['oversize']);
    expect(MAX_REQUEST_FRAME).toBe(64 * 1024);
    // a frame at the limit is still read and answered
    const reply = await new Promise<Uint8Array>((resolve, reject) => {
      const other = UdpTransport.bind({ host: '127.0.0.1', port: 0 });
      void other.then((o) => {
        open.push(o);
        o.exchange(t.address, new Uint8Array(MAX_REQUEST_FRAME), 3000, (err, body) =>
          err ? reject(err) : resolve(body!),
        );
      });
    });
    expect([...reply]).toEqual([1]);
  });

  it('caps connections per source and in total, and closes a trickling connection at its absolute deadline', async () => {
    const t = await transport({ maxConnectionsPerSource: 3, maxConnections: 5, connectionDeadlineMs: 400 });
    t.listen({ packet() {}, exchange: () => Uint8Array.of(1) });
    const held = Array.from({ length: 6 }, () => connectAndHold(t.address.port, Uint8Array.of(0, 0)));
    const results = await Promise.all(held);
    expect(t.stats.sourceLimit).toBe(3);
    expect(t.stats.deadline).toBe(3);
    // the three over the per-source cap were closed at once, the three others at the deadline
    const sorted = results.map((r) => r.closedAfterMs).sort((a, b) => a - b);
    expect(sorted[2]!).toBeLessThan(sorted[3]!);
    expect(sorted[3]!).toBeGreaterThanOrEqual(350);

    const u = await transport({ maxConnectionsPerSource: 10, maxConnections: 2, connectionDeadlineMs: 300 });
    u.listen({ packet() {}, exchange: () => Uint8Array.of(1) });
    await Promise.all(Array.from({ length: 4 }, () => connectAndHold(u.address.port, Uint8Array.of(0))));
    expect(u.stats.connectionLimit).toBe(2);
    await expect(UdpTransport.bind({ host: '127.0.0.1', port: 0, maxConnections: 0 })).rejects.toThrow(ConfigError);
  });

  it('members still push-pull while an attacker holds its per-source share of connections', async () => {
    const key = new Keyring([new Uint8Array(32).fill(3)]);
    const ta = await transport({ maxConnectionsPerSource: 4, connectionDeadlineMs: 2000 });
    const a = new Membership({ name: 'a', transport: ta, keyring: key, wire: 'ingot' }).start();
    open.push(a);
    // the attacker (from 127.0.0.2) opens 10 connections announcing frames it never sends
    const hold = Array.from({ length: 10 }, () => connectAndHold(ta.address.port, lengthPrefix(60_000), '127.0.0.2'));
    await sleep(50);
    const b = new Membership({
      name: 'b',
      transport: await transport(),
      keyring: key,
      tcpTimeoutMs: 4000,
      wire: 'ingot',
    });
    open.push(b);
    await b.join([a.local.address]);
    expect(a.usableMembers()).toEqual(['a', 'b']);
    await Promise.all(hold);
    expect(ta.stats.sourceLimit).toBe(6);
    expect(ta.stats.deadline).toBe(4);
  });

  it('caps a push-pull request to the request limit, own entry first', async () => {
    const sizes: number[] = [];
    const inner = await transport();
    const capped = {
      get address() {
        return inner.address;
      },
      maxRequestBytes: 300,
      send: inner.send.bind(inner),
      listen: inner.listen.bind(inner),
      close: () => inner.close(),
      exchange: (to: never, data: Uint8Array, ms: number, cb: never) => {
        sizes.push(data.length);
        inner.exchange(to, data, ms, cb);
      },
    };
    const big = { note: 'x'.repeat(200) };
    const a = new Membership({ name: 'a', transport: await transport(), labels: big, wire: 'ingot' }).start();
    const c = new Membership({ name: 'c', transport: await transport(), labels: big, wire: 'ingot' }).start();
    const b = new Membership({ name: 'b', transport: capped, labels: big, wire: 'ingot' }).start();
    open.push(a, b, c);
    await c.join([a.local.address]);
    await b.join([a.local.address]); // b now knows a and c (from the reply): its state no longer fits 300 bytes
    expect(b.usableMembers()).toEqual(['a', 'b', 'c']);
    await b.join([c.local.address]);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(300);
    expect(c.usableMembers()).toEqual(['a', 'b', 'c']); // b's own entry made it
  });
});
