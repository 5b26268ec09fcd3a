import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it } from 'vitest';
import {
  decodeHeartbeatFrame,
  encodeHeartbeatFrame,
  type HeartbeatFrame,
  heartbeatSenderId,
} from '../../src/heartbeat/frame.js';
import { HeartbeatThread } from '../../src/heartbeat/heartbeat-thread.js';
import { ConfigError, Keyring } from '../../src/index.js';
import { next, peer, until } from './thread-helpers.js';

const threads: HeartbeatThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.close()));
});

async function start(name: string, port = 0, keyring?: Keyring): Promise<HeartbeatThread> {
  const t = await HeartbeatThread.start({ name, host: '127.0.0.1', port, ...(keyring ? { keyring } : {}) });
  threads.push(t);
  return t;
}

/**
 * Waits for two new stats snapshots of each thread (one every 250 ms): the second was taken after everything the
 * thread had done when this was called.
 */
async function fresh(...ts: HeartbeatThread[]): Promise<void> {
  for (const t of ts)
    for (let i = 0; i < 2; i++) {
      const s = t.stats();
      await until(() => t.stats() !== s);
    }
}

describe('HeartbeatThread (loopback, real worker threads)', () => {
  it('refuses a maxMissLimit below missLimit (ConfigError naming the field, before any thread starts)', () => {
    expect(() =>
      HeartbeatThread.start({ name: 'x', host: '127.0.0.1', port: 0, missLimit: 10, maxMissLimit: 5 }),
    ).toThrow(ConfigError);
    expect(() =>
      HeartbeatThread.start({ name: 'x', host: '127.0.0.1', port: 0, missLimit: 10, maxMissLimit: 5 }),
    ).toThrow(/maxMissLimit/);
  });

  it('an owner that stops is reported lost by its successor, and recovered when it sends again (new boot)', async () => {
    const owner = await start('owner');
    const succ = await start('succ');
    owner.setPeers([peer('succ', succ)], []);
    succ.setPeers([], [peer('owner', owner)]);
    await until(() => succ.stats().watcher.heartbeats > 20);
    const lost = next(succ, 'lost');
    const ownerPort = owner.port;
    await owner.close();
    const [who, silentMs] = await lost;
    expect(who).toBe('owner');
    // k = 10 intervals of 10 ms before the probes, at least
    expect(silentMs as number).toBeGreaterThanOrEqual(100);
    await until(() => succ.stats().watcher.lost === 1); // stats are reported every 250 ms
    // the silence limit is reported in the stats (k intervals, or wider after gaps heard on this loaded machine)
    expect(succ.stats().silenceLimitMs).toBeGreaterThanOrEqual(100);
    expect(succ.stats().silenceLimitMs).toBeLessThanOrEqual(400);
    // the owner restarts (same port, a larger boot): heard again
    const again = await start('owner', ownerPort);
    const recovered = next(succ, 'recovered');
    again.setPeers([peer('succ', succ)], []);
    expect((await recovered)[0]).toBe('owner');
  });

  it('probes are answered by the owner thread; notices reach the owner; stats count bytes', async () => {
    const owner = await start('owner');
    const succ = await start('succ');
    // a Linux thread id of this process, not the main thread's (for raising its priority)
    if (process.platform === 'linux') {
      expect(owner.threadId).toBeGreaterThan(0);
      expect(owner.threadId).not.toBe(process.pid);
      expect(owner.threadId).not.toBe(succ.threadId);
    }
    owner.setPeers([peer('succ', succ)], []);
    succ.setPeers([], [peer('owner', owner)]);
    await until(() => succ.stats().watcher.heartbeats > 5);
    const notice = next(owner, 'notice');
    succ.notify(peer('owner', owner), 'released');
    expect(await notice).toEqual(['released', 'succ']);
    await until(() => owner.stats().framesSent > 5);
    expect(owner.stats().bytesSent).toBe(owner.stats().framesSent * 28);
  });

  it('with a keyring: frames are 56 bytes, and a thread without the key is refused and never watched', async () => {
    const ring = new Keyring([new Uint8Array(32).fill(7)]);
    const owner = await start('owner', 0, ring);
    const stranger = await start('stranger');
    const succ = await start('succ', 0, ring);
    owner.setPeers([peer('succ', succ)], []);
    stranger.setPeers([peer('succ', succ)], []);
    succ.setPeers([], [peer('owner', owner), peer('stranger', stranger)]);
    await until(() => succ.stats().watcher.heartbeats > 10 && (succ.stats().rejected.unauthenticated ?? 0) > 10);
    expect(owner.stats().bytesSent % 56).toBe(0);
    let lost = 0;
    succ.on('lost', () => lost++);
    await stranger.close();
    await new Promise((r) => setTimeout(r, 500));
    expect(lost).toBe(0); // the stranger was never heard, so never watched
  });

  it('leave: the owner stops its heartbeats and tells the successor once (copies dropped), which acknowledges after its listeners ran; the successor never reports it lost', async () => {
    const owner = await start('owner');
    const succ = await start('succ');
    owner.setPeers([peer('succ', succ)], []);
    succ.setPeers([], [peer('owner', owner)]);
    await until(() => succ.stats().watcher.heartbeats > 20);
    const notices: unknown[][] = [];
    let lost = 0;
    succ.on('notice', (...a) => notices.push(a));
    succ.on('lost', () => lost++);
    const acked = await owner.leave([peer('succ', succ)], 3);
    // resolved by the successor's acknowledgement, sent once its notice listeners had run
    expect(acked).toEqual(['succ']);
    expect(notices[0]).toEqual(['leaving', 'owner']);
    expect(await owner.leave([peer('succ', succ)])).toEqual(['succ']); // once
    // pairs set after the leave send no heartbeats either
    owner.setPeers([peer('succ', succ)], []);
    await fresh(owner, succ);
    const sent = owner.stats().framesSent;
    const heard = succ.stats().watcher.heartbeats;
    // well past k = 10 intervals and the probe round (~0.13 s): the successor forgot the owner, so no probe, no loss
    await new Promise((r) => setTimeout(r, 600));
    await fresh(owner, succ);
    expect(owner.stats().framesSent).toBe(sent);
    expect(succ.stats().watcher.heartbeats).toBe(heard);
    expect(succ.stats().watcher.confirmations).toBe(0);
    expect(lost).toBe(0);
    expect(notices).toHaveLength(1);
    expect(succ.stats().rejected['stale-notice']).toBeUndefined();
  });

  it('after leaving: late frames of that boot are dropped as after-leaving (no recovery); a new boot is watched again and reported', async () => {
    const succ = await start('succ');
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const port = (sock.address() as { port: number }).port;
    try {
      const sender = heartbeatSenderId('owner');
      const send = (f: Omit<HeartbeatFrame, 'sender'>) =>
        new Promise<void>((r) => sock.send(encodeHeartbeatFrame({ ...f, sender }), succ.port, '127.0.0.1', () => r()));
      succ.setPeers([], [{ name: 'owner', host: '127.0.0.1', port }]);
      const boot = 1_765_000_000_000;
      for (let n = 1; n <= 5; n++) await send({ type: 'heartbeat', boot, seq: n });
      await until(() => succ.stats().watcher.heartbeats === 5);
      const events: unknown[][] = [];
      succ.on('notice', (...a) => events.push(['notice', ...a]));
      succ.on('recovered', (...a) => events.push(['recovered', a[0]]));
      const acks: HeartbeatFrame[] = [];
      sock.on('message', (m) => acks.push(decodeHeartbeatFrame(new Uint8Array(m))));
      for (let i = 0; i < 3; i++) await send({ type: 'leaving', boot, seq: 1 });
      await until(() => events.length === 1);
      // acknowledged once (the copies arrived before the main thread handled the first); a later copy again
      await until(() => acks.length === 1);
      expect(acks[0]).toMatchObject({ type: 'ack', sender: heartbeatSenderId('succ'), seq: 1 });
      await send({ type: 'leaving', boot, seq: 1 });
      await until(() => acks.length === 2);
      // a heartbeat and an ack of the leaving boot, arriving after the notice: refused, nothing reported
      await send({ type: 'heartbeat', boot, seq: 6 });
      await send({ type: 'ack', boot, seq: 99 });
      await until(() => (succ.stats().rejected['after-leaving'] ?? 0) === 2);
      // a replayed (older) notice is refused; the exact copy was dropped uncounted
      await send({ type: 'leaving', boot, seq: 0 });
      await until(() => succ.stats().rejected['stale-notice'] === 1);
      expect(succ.stats().watcher.heartbeats).toBe(5);
      expect(events).toEqual([['notice', 'leaving', 'owner']]);
      // restarted: a larger boot is heard, reported as recovered and watched again
      await send({ type: 'heartbeat', boot: boot + 10_000, seq: 1 });
      await until(() => events.length === 2);
      expect(events[1]).toEqual(['recovered', 'owner']);
      await until(() => succ.stats().watcher.heartbeats === 6);
    } finally {
      sock.close();
    }
  });

  it('leave: a successor that never acknowledges gets the notice again every two intervals, and leave resolves without it after waitMs', async () => {
    const owner = await start('owner');
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    try {
      const got: HeartbeatFrame[] = [];
      sock.on('message', (m) => got.push(decodeHeartbeatFrame(new Uint8Array(m))));
      const silent = { name: 'silent', host: '127.0.0.1', port: (sock.address() as { port: number }).port };
      owner.setPeers([silent], []);
      await until(() => got.some((f) => f.type === 'heartbeat'));
      const began = Date.now();
      expect(await owner.leave([silent], 2, 1000)).toEqual([]);
      expect(Date.now() - began).toBeGreaterThanOrEqual(990);
      await new Promise((r) => setTimeout(r, 100)); // datagrams in flight
      const leaving = got.filter((f) => f.type === 'leaving');
      // 2 copies per round, more than one round (every 20 ms for 1 s; fewer on a loaded machine), one sequence
      expect(leaving.length).toBeGreaterThanOrEqual(4);
      expect(leaving.length % 2).toBe(0);
      expect(new Set(leaving.map((f) => f.seq)).size).toBe(1);
      // nothing after the notice: the heartbeats stopped first
      const firstLeaving = got.findIndex((f) => f.type === 'leaving');
      expect(got.slice(firstLeaving).every((f) => f.type === 'leaving')).toBe(true);
    } finally {
      sock.close();
    }
  });
});
