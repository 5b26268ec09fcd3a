// Issue 13 (gossip part): replayed sealed packets, name conflicts, and what is counted and logged when packets are
// refused. Real UDP + TCP on 127.0.0.1.
import dgram from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { type Address, Keyring, type LogEntry, type Member, type Transport } from '../src/index.js';
import { key, loopbackMembers, waitFor } from './helpers/loopback-members.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
// Ingot's wire: the replay window and its envelope are what these tests attack.
const { member } = loopbackMembers({ options: { wire: 'ingot' } });

/** Wraps a transport, keeping a copy of every datagram it receives. */
function recording(into: Uint8Array[]): (t: Transport) => Transport {
  return (t) => ({
    get address() {
      return t.address;
    },
    send: (to, data) => t.send(to, data),
    exchange: (...a) => t.exchange(...a),
    close: () => t.close(),
    listen(handlers) {
      t.listen({
        packet(data, from) {
          into.push(Uint8Array.from(data));
          handlers.packet(data, from);
        },
        exchange: (data, from) => handlers.exchange(data, from),
      });
    },
  });
}

describe('replay window', () => {
  it('sealed packets replayed from another address are refused, counted, and never answered', async () => {
    const captured: Uint8Array[] = [];
    const logs: LogEntry[] = [];
    const a = await member('a', { keyring: new Keyring([key(1)]) });
    const b = await member('b', { keyring: new Keyring([key(1)]), log: (e) => logs.push(e) }, recording(captured));
    await b.join([a.local.address]);
    await waitFor(() => a.usableMembers().length === 2 && captured.length >= 20, 5000, 'traffic to b');
    const replay = captured.slice(0, 40);

    const attacker = dgram.createSocket('udp4');
    const replies: Buffer[] = [];
    attacker.on('message', (msg) => replies.push(msg));
    await new Promise<void>((r) => attacker.bind(0, '127.0.0.1', () => r()));
    const before = b.stats.replayRejected;
    for (const bytes of replay) {
      await new Promise<void>((r) => attacker.send(bytes, b.local.address.port, '127.0.0.1', () => r()));
    }
    await sleep(300);
    attacker.close();
    expect(b.stats.replayRejected - before).toBe(replay.length);
    expect(replies.length).toBe(0);
    expect(b.rejections().replayed).toBe(b.stats.replayRejected);
    // logged at warn, rate-limited: one line for the burst, not one per packet
    const warns = logs.filter((e) => e.level === 'warn' && e.reason === 'replayed');
    expect(warns.length).toBe(1);
    expect(b.usableMembers()).toEqual(['a', 'b']);
  });

  it('refuses sealed packets stamped outside the window (clock skew or an old capture), counted as stale', async () => {
    let skew = 0;
    const a = await member('a', { keyring: new Keyring([key(2)]), wallClock: () => Date.now() + skew });
    const b = await member('b', { keyring: new Keyring([key(2)]) });
    skew = 31_000; // a's packets now look 31 s in the future to b (window ± 30 s)
    await expect(a.join([b.local.address])).rejects.toThrow(/no seed answered/);
    expect(b.stats.staleRejected).toBeGreaterThan(0);
    expect(b.usableMembers()).toEqual(['b']);
    skew = 5_000; // within the window
    await a.join([b.local.address]);
    await waitFor(() => b.usableMembers().length === 2, 3000, 'join within the window');
  });
});

describe('name conflicts', () => {
  it("a member claiming a live member's name from another address is refused and logged; the address never flaps", async () => {
    const logs: LogEntry[] = [];
    const a = await member('a', { log: (e) => logs.push(e) });
    const b = await member('b');
    const c = await member('c');
    await b.join([a.local.address]);
    await c.join([a.local.address]);
    await waitFor(() => [a, b, c].every((m) => m.usableMembers().length === 3), 5000, 'convergence');
    const bAddress: Address = { ...b.local.address };
    const updates: string[] = [];
    for (const m of [a, c]) m.on('update', (x: Member) => updates.push(`${x.name}@${x.address.port}`));

    const rogue = await member('b', { pushPullIntervalMs: 500 }); // same name, another port
    await rogue.join([a.local.address]).catch(() => 0);
    await sleep(2000); // both "b"s keep refuting each other meanwhile
    for (const m of [a, c]) expect(m.members().find((x) => x.name === 'b')!.address).toEqual(bAddress);
    expect(updates).toEqual([]);
    expect(a.stats.nameConflicts).toBeGreaterThan(0);
    expect(a.rejections()['name-conflict']).toBe(a.stats.nameConflicts);
    const warns = logs.filter((e) => e.level === 'warn' && e.msg.startsWith('name conflict'));
    expect(warns.length).toBeGreaterThanOrEqual(1);
    expect(warns.length).toBeLessThanOrEqual(2); // rate-limited (one per 10 s per name)
    expect(warns[0]).toMatchObject({ member: 'b', known: `127.0.0.1:${bAddress.port}` });

    // once the real b is gone (declared dead), the name may move to a new address (a restart elsewhere)
    await b.close();
    await waitFor(
      () => a.members().find((x) => x.name === 'b')!.address.port === rogue.local.address.port,
      10_000,
      'b taken over after the real b died',
    );
  });
});
