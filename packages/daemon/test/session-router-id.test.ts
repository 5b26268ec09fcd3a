import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createBgpSpeakerBackend } from '../src/backends/bgp-speaker-backend.js';
import { hashRouterId, routerIdForLocalAddress, sessionLocalAddress } from '../src/backends/session-router-id.js';
import type { BGPPeer } from '../src/config/resources.js';
import { createLogger } from '../src/logger.js';

const log = createLogger({ level: 'error' });

describe('MetalLB native router ID rules', () => {
  it('an IPv4 local address is the identifier', () => {
    expect(routerIdForLocalAddress('192.0.2.7', 'node-1', {})).toBe('192.0.2.7');
  });
  it('IPv6: the first IPv4 address of the interface holding it, else the hash of the node name', () => {
    const ifaces = {
      eth0: [
        { address: '2001:db8::7', family: 'IPv6', netmask: '', mac: '', internal: false, cidr: null, scopeid: 0 },
        { address: '198.51.100.7', family: 'IPv4', netmask: '', mac: '', internal: false, cidr: null },
      ],
      eth1: [
        { address: '2001:db8:1::7', family: 'IPv6', netmask: '', mac: '', internal: false, cidr: null, scopeid: 0 },
      ],
    } as never;
    expect(routerIdForLocalAddress('2001:db8::7', 'node-1', ifaces)).toBe('198.51.100.7');
    expect(routerIdForLocalAddress('2001:db8:1::7', 'node-1', ifaces)).toBe(hashRouterId('node-1'));
  });
  it("the hash is the CRC-32 of the node name in little-endian byte order (Go's binary.LittleEndian)", () => {
    // The table-less CRC-32 (IEEE, reflected 0xedb88320), written out here as an independent oracle.
    const crc = (s: string) => {
      let c = 0xffffffff;
      for (const b of Buffer.from(s)) {
        c ^= b;
        for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
      }
      return (c ^ 0xffffffff) >>> 0;
    };
    const sum = crc('node-1');
    expect(hashRouterId('node-1')).toBe(`${sum & 255}.${(sum >>> 8) & 255}.${(sum >>> 16) & 255}.${sum >>> 24}`);
  });
  it('the kernel picks 127.0.0.1 to reach 127.0.0.1 (a UDP connect: nothing is sent)', async () => {
    expect(await sessionLocalAddress('127.0.0.1')).toBe('127.0.0.1');
  });
});

describe('createBgpSpeakerBackend with sessionRouterId', () => {
  const closers: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });

  it("sends the session's local address as BGP identifier in its OPEN, not the fallback", async () => {
    const opens: Buffer[] = [];
    const sockets: Socket[] = [];
    const server = createServer((s) => {
      sockets.push(s);
      let buf = Buffer.alloc(0);
      s.on('data', (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        if (buf.length >= 29 && opens.length === 0) opens.push(buf.subarray(0, 29));
      });
      s.on('error', () => {});
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closers.push(() => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const { port } = server.address() as AddressInfo;
    const backend = createBgpSpeakerBackend({ routerId: '192.0.2.99', sessionRouterId: { nodeName: 'node-1' }, log });
    closers.push(() => backend.close());
    const peer: BGPPeer = {
      name: 'local',
      myASN: 64512,
      peerASN: 64513,
      peerAddress: '127.0.0.1',
      peerPort: port,
      holdTime: 90,
      keepaliveTime: 30,
      ebgpMultiHop: false,
      enableGracefulRestart: false,
      nodeSelectors: [],
    };
    backend.setPeers([peer]);
    const deadline = Date.now() + 10_000;
    while (opens.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const open = opens[0];
    expect(open, 'no OPEN received').toBeDefined();
    expect(open?.[18]).toBe(1); // OPEN
    expect([...(open?.subarray(24, 28) ?? [])].join('.')).toBe('127.0.0.1');
    expect(backend.peers().map((p) => p.name)).toEqual(['local']);
  });
});
