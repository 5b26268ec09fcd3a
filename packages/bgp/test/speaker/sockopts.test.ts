import { createServer, Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  createTcpSocketFd,
  encodeMd5Sig,
  encodeSockaddr,
  normalizePrefix,
  SockoptError,
  setSocketOptions,
} from '../../src/speaker/index.js';
import { fdOf } from '../../src/speaker/platform/linux-sockopts.js';

/** Connects to 127.0.0.1:port with an optional MD5 key; resolves true on connect, false on timeout/error. */
async function tryConnect(port: number, key: string | undefined): Promise<boolean> {
  const fd = await createTcpSocketFd({ family: 4, ...(key ? { md5: [{ address: '127.0.0.1', key }] } : {}) });
  const sock = new Socket({ fd, readable: true, writable: true });
  return await new Promise<boolean>((resolve) => {
    const t = setTimeout(() => {
      sock.destroy();
      resolve(false);
    }, 700);
    sock.once('connect', () => {
      clearTimeout(t);
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => {
      clearTimeout(t);
      resolve(false);
    });
    sock.connect({ port, host: '127.0.0.1' });
  });
}

describe('Linux socket option structures', () => {
  it('encodes sockaddr_in and sockaddr_in6 in the kernel layout', () => {
    expect([...encodeSockaddr('192.0.2.1', 179)]).toEqual([2, 0, 0, 179, 192, 0, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
    const v6 = encodeSockaddr('2001:db8::1', 1790);
    expect(v6.length).toBe(28);
    expect([...v6.subarray(0, 4)]).toEqual([10, 0, 0x06, 0xfe]);
    expect([...v6.subarray(8, 24)]).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('encodes struct tcp_md5sig (216 bytes: sockaddr_storage, flags, prefixlen, keylen, ifindex, key)', () => {
    const s = encodeMd5Sig('198.51.100.7', 'secret');
    expect(s.length).toBe(216);
    expect([...s.subarray(0, 8)]).toEqual([2, 0, 0, 0, 198, 51, 100, 7]);
    expect(s[130]).toBe(6);
    expect(new TextDecoder().decode(s.subarray(136, 142))).toBe('secret');
    expect(() => encodeMd5Sig('192.0.2.1', 'x'.repeat(81))).toThrow(SockoptError);
  });
});

describe('prefix normalisation', () => {
  it('adds the host length, canonicalises IPv6 and rejects host bits', () => {
    expect(normalizePrefix('192.0.2.10')).toBe('192.0.2.10/32');
    expect(normalizePrefix('2001:DB8:0:0::1')).toBe('2001:db8::1/128');
    expect(normalizePrefix('198.51.100.0/24')).toBe('198.51.100.0/24');
    expect(() => normalizePrefix('198.51.100.1/24')).toThrow(/host bits/);
    expect(() => normalizePrefix('198.51.100.0/33')).toThrow(/length/);
    expect(() => normalizePrefix('nope')).toThrow(TypeError);
  });
});

describe.runIf(process.platform === 'linux')('createTcpSocketFd (koffi)', () => {
  it('creates a bound socket with TTL options that Node can listen on', async () => {
    const fd = await createTcpSocketFd({
      family: 4,
      ttl: 255,
      minTtl: 255,
      bind: { address: '127.0.0.1' },
      reuseAddr: true,
    });
    expect(fd).toBeGreaterThan(2);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen({ fd }, resolve));
    const addr = server.address();
    expect(addr && typeof addr === 'object' ? addr.address : '').toBe('127.0.0.1');
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('TCP MD5: a listener keyed for 127.0.0.1 accepts the right key and drops a wrong or missing key', async () => {
    const server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    const fd = fdOf(server);
    expect(fd).toBeDefined();
    await setSocketOptions(fd ?? -1, 4, { md5: [{ address: '127.0.0.1', key: 'right' }] });
    const port = (server.address() as { port: number }).port;
    expect(await tryConnect(port, 'right')).toBe(true);
    expect(await tryConnect(port, 'wrong')).toBe(false);
    expect(await tryConnect(port, undefined)).toBe(false);
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('reports a failing syscall with errno', async () => {
    await expect(createTcpSocketFd({ family: 4, bind: { address: '203.0.113.77' } })).rejects.toMatchObject({
      name: 'SockoptError',
      errno: 99, // EADDRNOTAVAIL
    });
  });
});
