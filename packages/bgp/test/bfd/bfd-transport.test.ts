import dgram from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import { BfdDiagnostic, type BfdSession, BfdTransport, createUdpSocketFd } from '../../src/internal.js';

// Two transports on loopback addresses 127.0.0.1 and 127.0.0.2 with private ports (no namespace needed, no root).
const base = 20000 + Math.floor(Math.random() * 20000);
const PORT_A = base;
const PORT_B = base + 1;
const open: BfdTransport[] = [];

function transport(self: string, listenPort: number, peerPort: number) {
  const t = new BfdTransport({
    listenAddresses: { 4: self },
    listenPorts: { singleHop: listenPort },
    peerPorts: { singleHop: peerPort },
  });
  open.push(t);
  return t;
}

const until = (session: BfdSession, state: string, ms = 10_000) =>
  new Promise<void>((resolve, reject) => {
    if (session.state.name === state) return resolve();
    const timer = setTimeout(() => reject(new Error(`still ${session.state.name}, not ${state}`)), ms);
    session.on('state', (to) => {
      if (to === state) {
        clearTimeout(timer);
        resolve();
      }
    });
  });

async function sendRaw(to: number, ttl: number, bytes: Uint8Array) {
  const fd = await createUdpSocketFd({ family: 4, ttl, bind: { address: '127.0.0.2', port: 0 } });
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind({ fd }, r));
  await new Promise<void>((r, j) => s.send(bytes, to, '127.0.0.1', (e) => (e ? j(e) : r())));
  s.close();
}

afterEach(async () => {
  for (const t of open.splice(0)) await t.close();
});

describe.runIf(process.platform === 'linux')('BFD over UDP on loopback', () => {
  it('sessions come up, a removed peer is seen as remote AdminDown, and garbage is discarded with its reason', async () => {
    const a = transport('127.0.0.1', PORT_A, PORT_B);
    const b = transport('127.0.0.2', PORT_B, PORT_A);
    const errors: Error[] = [];
    a.on('error', (e) => errors.push(e));
    b.on('error', (e) => errors.push(e));
    const sa = a.add({ address: '127.0.0.2', localAddress: '127.0.0.1', transmitInterval: 50, receiveInterval: 50 });
    const sb = b.add({ address: '127.0.0.1', localAddress: '127.0.0.2', transmitInterval: 50, receiveInterval: 50 });
    await Promise.all([until(sa, 'Up'), until(sb, 'Up')]);
    expect(errors).toEqual([]);

    const discards: string[] = [];
    a.on('discard', (reason, from) => discards.push(`${reason} ${from}`));
    await sendRaw(PORT_A, 255, new Uint8Array(10));
    await new Promise((r) => setTimeout(r, 100));
    expect(discards).toEqual(['truncated 127.0.0.2']);

    const down = new Promise<[number, boolean]>((r) => sa.once('down', (d, admin) => r([d, admin])));
    b.remove('127.0.0.1');
    expect(await down).toEqual([BfdDiagnostic.NEIGHBOR_SIGNALED_SESSION_DOWN, true]);
  });

  it('single hop drops datagrams under TTL 255 in the kernel (GTSM, RFC 5881 §5)', async () => {
    const a = transport('127.0.0.1', PORT_A, PORT_B);
    a.add({ address: '127.0.0.2', localAddress: '127.0.0.1', passive: true });
    const discards: string[] = [];
    a.on('discard', (reason) => discards.push(reason));
    await new Promise((r) => setTimeout(r, 200)); // the listener opens
    await sendRaw(PORT_A, 254, new Uint8Array(10));
    await sendRaw(PORT_A, 64, new Uint8Array(10));
    await new Promise((r) => setTimeout(r, 100));
    expect(discards).toEqual([]);
    await sendRaw(PORT_A, 255, new Uint8Array(10));
    await new Promise((r) => setTimeout(r, 100));
    expect(discards).toEqual(['truncated']);
  });

  it('detects a silent peer within the detection time and says so', async () => {
    const a = transport('127.0.0.1', PORT_A, PORT_B);
    const b = transport('127.0.0.2', PORT_B, PORT_A);
    const sa = a.add({ address: '127.0.0.2', localAddress: '127.0.0.1', transmitInterval: 50, receiveInterval: 50 });
    const sb = b.add({ address: '127.0.0.1', localAddress: '127.0.0.2', transmitInterval: 50, receiveInterval: 50 });
    await Promise.all([until(sa, 'Up'), until(sb, 'Up')]);
    sb.stop(); // goes silent without telling
    await until(sa, 'Down');
    expect(sa.state.diagnostic).toBe(BfdDiagnostic.CONTROL_DETECTION_TIME_EXPIRED);
  });

  it('refuses a duplicate peer, a local address of the other family and a bad minimum TTL', () => {
    const a = transport('127.0.0.1', PORT_A, PORT_B);
    a.add({ address: '127.0.0.2', passive: true });
    expect(() => a.add({ address: '127.0.0.2' })).toThrow(/already exists/);
    expect(() => a.add({ address: '127.0.0.3', localAddress: '::1' })).toThrow(/family/);
    expect(() => a.add({ address: '127.0.0.4', multihop: true, minimumTtl: 255 })).toThrow(/1\.\.254/);
  });

  it('refuses Echo on IPv6, on multihop, in a VRF, and with an interval outside 10..60000 ms', () => {
    const a = transport('127.0.0.1', PORT_A, PORT_B);
    expect(() => a.add({ address: '::1', echoInterval: 50 })).toThrow(/IPv4 single hop only, not for ::1/);
    expect(() => a.add({ address: '127.0.0.5', multihop: true, echoInterval: 50 })).toThrow(/\(multihop\)/);
    expect(() => a.add({ address: '127.0.0.6', echoInterval: 5 })).toThrow(/10\.\.60000/);
    expect(() => a.add({ address: '127.0.0.7', device: 'vrf-blue', echoInterval: 50 })).toThrow(/VRF/);
    expect(a.addresses).toEqual([]);
  });
});
