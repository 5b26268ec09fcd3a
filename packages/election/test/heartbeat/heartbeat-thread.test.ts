import { afterEach, describe, expect, it } from 'vitest';
import { HeartbeatThread } from '../../src/heartbeat/heartbeat-thread.js';
import { Keyring } from '../../src/index.js';

const threads: HeartbeatThread[] = [];
afterEach(async () => {
  await Promise.all(threads.splice(0).map((t) => t.close()));
});

async function start(name: string, port = 0, keyring?: Keyring): Promise<HeartbeatThread> {
  const t = await HeartbeatThread.start({ name, host: '127.0.0.1', port, ...(keyring ? { keyring } : {}) });
  threads.push(t);
  return t;
}

const peer = (name: string, t: HeartbeatThread) => ({ name, host: '127.0.0.1', port: t.port });

/** Resolves with the event's arguments, or rejects after `ms` (a generous bound: the protocol's is ~0.15 s). */
function next<E extends 'lost' | 'recovered' | 'notice'>(t: HeartbeatThread, event: E, ms = 10_000) {
  return new Promise<unknown[]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} within ${ms} ms`)), ms);
    t.once(event, ((...args: unknown[]) => {
      clearTimeout(timer);
      resolve(args);
    }) as never);
  });
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('HeartbeatThread (loopback, real worker threads)', () => {
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
});
