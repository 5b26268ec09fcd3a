import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { encodePacket, Keyring, type Member, Membership, sealEnvelope, UdpTransport } from '../src/index.js';
import { key, loopbackMembers, statusOf, waitFor } from './helpers/loopback-members.js';

// Ingot's wire (its envelope and frames; memberlist's wire has memberlist-network.test.ts).
const { member, track } = loopbackMembers({ options: { wire: 'ingot' } });

describe('real UDP + TCP on 127.0.0.1', () => {
  it('joins over TCP push-pull, detects a member closed without leaving, sees a graceful stop as leave', async () => {
    const ms = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((n) => member(n)));
    const seed = ms[0]!.local.address;
    await Promise.all(ms.slice(1).map((m) => m.join([seed])));
    await waitFor(() => ms.every((m) => m.usableMembers().length === 5), 5000, 'convergence');
    expect(ms[0]!.stats.pushPulls).toBeGreaterThan(0);

    const dead: string[] = [];
    ms[1]!.on('dead', (m: Member) => dead.push(m.name));
    await ms[4]!.close(); // like SIGKILL: no leave
    await waitFor(() => ms.slice(0, 4).every((m) => statusOf(m, 'e') === 'dead'), 5000, 'e dead everywhere');
    expect(dead).toEqual(['e']);

    const left: string[] = [];
    ms[0]!.on('leave', (m: Member) => left.push(m.name));
    const t0 = Date.now();
    await ms[3]!.stop();
    await waitFor(() => ms.slice(0, 3).every((m) => statusOf(m, 'd') === 'left'), 2000, 'd left everywhere');
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(left).toEqual(['d']);
  });

  it('encrypted cluster: mismatched key and plaintext members never join; auth failures are counted', async () => {
    const ring = () => new Keyring([key(7)]);
    const ms = await Promise.all(['a', 'b', 'c'].map((n) => member(n, { keyring: ring() })));
    await Promise.all(ms.slice(1).map((m) => m.join([ms[0]!.local.address])));
    await waitFor(() => ms.every((m) => m.usableMembers().length === 3), 5000, 'convergence');

    const wrong = await member('wrong', { keyring: new Keyring([key(8)]) });
    await expect(wrong.join([ms[0]!.local.address])).rejects.toThrow(/no seed answered/);
    const plain = await member('plain');
    await expect(plain.join([ms[1]!.local.address])).rejects.toThrow(/no seed answered/);
    // nor over UDP: inject alive messages sealed with the wrong key, and in plaintext
    const sock = dgram.createSocket('udp4');
    const alive = encodePacket({
      messages: [
        { type: 'alive', incarnation: 1, node: 'intruder', address: { host: '127.0.0.1', port: 9 }, labels: {} },
      ],
    });
    const target = ms[2]!.local.address;
    const before = { ...ms[2]!.stats };
    for (const bytes of [sealEnvelope(alive, new Keyring([key(8)])), alive]) {
      await new Promise<void>((r) => sock.send(bytes, target.port, target.host, () => r()));
    }
    sock.close();
    await new Promise((r) => setTimeout(r, 300));
    expect(ms[2]!.stats.authFailures).toBe(before.authFailures + 1);
    expect(ms[2]!.stats.plaintextRejected).toBe(before.plaintextRejected + 1);
    for (const m of ms) expect(m.usableMembers()).toEqual(['a', 'b', 'c']);
    expect(ms[0]!.stats.authFailures).toBeGreaterThan(0);
    expect(ms[1]!.stats.plaintextRejected).toBeGreaterThan(0);
    expect(wrong.usableMembers()).toEqual(['wrong']);
  });

  it('rotates keys across a running cluster without a single authentication failure, then refuses the retired key', async () => {
    const rings = [0, 1, 2].map(() => new Keyring([key(1)]));
    const ms = await Promise.all(['a', 'b', 'c'].map((n, i) => member(n, { keyring: rings[i] })));
    await Promise.all(ms.slice(1).map((m) => m.join([ms[0]!.local.address])));
    await waitFor(() => ms.every((m) => m.usableMembers().length === 3), 5000, 'convergence');
    // the rotation's own property: no packet ever fails authentication and nobody is declared dead (a suspicion can
    // come from CPU stalls on a loaded machine and says nothing about keys)
    const dead: string[] = [];
    for (const m of ms) m.on('dead', (x: Member) => dead.push(x.name));
    const authBefore = ms.map((m) => m.stats.authFailures);
    const pause = () => new Promise((r) => setTimeout(r, 400));
    for (const r of rings) r.addKey(key(2)); // 1: everyone accepts the new key
    await pause();
    for (const r of rings) {
      r.useKey(key(2)); // 2: switch senders one by one
      await pause();
    }
    for (const r of rings) r.removeKey(key(1)); // 3: retire the old key
    await pause();
    expect(dead).toEqual([]);
    expect(ms.map((m) => m.stats.authFailures)).toEqual(authBefore);
    expect(ms.reduce((a, m) => a + m.stats.packetsReceived, 0)).toBeGreaterThan(30); // traffic flowed meanwhile
    expect(ms.every((m) => m.usableMembers().length === 3)).toBe(true);

    const old = await member('old', { keyring: new Keyring([key(1)]) });
    await expect(old.join([ms[0]!.local.address])).rejects.toThrow();
    const fresh = await member('fresh', { keyring: new Keyring([key(2)]) });
    await fresh.join([ms[2]!.local.address]);
    await waitFor(() => ms.every((m) => m.usableMembers().length === 4), 5000, 'fresh joined');
  });

  it('a restarted member (same name and port) rejoins with a higher incarnation', async () => {
    const a = await member('a');
    const b = await member('b');
    const c = await member('c');
    await b.join([a.local.address]);
    await c.join([a.local.address]);
    await waitFor(() => [a, b, c].every((m) => m.usableMembers().length === 3), 5000, 'convergence');
    const port = c.local.address.port;
    await c.close();
    await waitFor(() => statusOf(a, 'c') === 'dead' && statusOf(b, 'c') === 'dead', 5000, 'c dead');
    const deadInc = a.members().find((m) => m.name === 'c')!.incarnation;
    const transport = await UdpTransport.bind({ host: '127.0.0.1', port });
    const c2 = new Membership({ name: 'c', transport, wire: 'ingot' });
    track(c2);
    await c2.join([b.local.address]);
    await waitFor(() => statusOf(a, 'c') === 'alive' && statusOf(b, 'c') === 'alive', 3000, 'c back');
    expect(c2.local.incarnation).toBeGreaterThan(deadInc);
  });

  it('counts and drops malformed datagrams and TCP frames, and keeps working', async () => {
    const a = await member('a');
    const b = await member('b');
    await b.join([a.local.address]);
    const sock = dgram.createSocket('udp4');
    const junk = [
      Uint8Array.of(0x49, 1, 1, 99, 0),
      Uint8Array.of(0x49, 1, 1, 3, 200),
      Uint8Array.of(1, 2, 3),
      new Uint8Array(0),
    ];
    for (const bytes of junk) {
      await new Promise<void>((r) => sock.send(bytes, a.local.address.port, '127.0.0.1', () => r()));
    }
    sock.close();
    const net = await import('node:net');
    await new Promise<void>((resolve) => {
      const c = net.connect(a.local.address.port, '127.0.0.1', () =>
        c.write(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2)),
      );
      c.on('close', () => resolve());
      c.on('error', () => {});
    });
    await waitFor(() => a.stats.decodeErrors >= 2 && a.stats.envelopeRejected >= 1, 2000, 'junk counted');
    expect(a.usableMembers()).toEqual(['a', 'b']);
    const wildcard = {
      address: { host: '0.0.0.0', port: 7946 },
      send() {},
      exchange() {},
      listen() {},
      close: async () => {},
    };
    expect(() => new Membership({ name: 'w', transport: wildcard, wire: 'ingot' })).toThrow(/advertise/);
  });

  it('works over IPv6 (::1)', async () => {
    const mk = async (name: string) => {
      const m = new Membership({
        name,
        transport: await UdpTransport.bind({ host: '::1', port: 0 }),
        wire: 'ingot',
      }).start();
      track(m);
      return m;
    };
    const a = await mk('a6');
    const b = await mk('b6');
    const c = await mk('c6');
    await b.join([a.local.address]);
    await c.join([b.local.address]);
    await waitFor(() => [a, b, c].every((m) => m.usableMembers().length === 3), 5000, 'IPv6 convergence');
    expect(a.members().find((m) => m.name === 'c6')!.address.host).toBe('::1');
    await c.close();
    await waitFor(() => statusOf(a, 'c6') === 'dead' && statusOf(b, 'c6') === 'dead', 5000, 'c6 dead');
  });

  it('rejects a join to nowhere with a JoinError', async () => {
    const a = await member('a', { tcpTimeoutMs: 300 });
    const b = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
    const port = b.address.port;
    await b.close();
    await expect(a.join([{ host: '127.0.0.1', port }])).rejects.toMatchObject({ name: 'JoinError' });
  });
});
