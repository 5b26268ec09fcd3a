import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { HeartbeatThread } from '../../src/heartbeat/heartbeat-thread.js';
import { Keyring } from '../../src/index.js';
import { next, peer, until } from './thread-helpers.js';

// The heartbeat loop in a process of its own (isolation: 'process'): the same protocol as the worker thread, plus what
// a process adds: it must end when its parent (the daemon) ends, and fall silent while the parent is stopped.

const DIST = fileURLToPath(new URL('../../dist/index.js', import.meta.url));
const threads: HeartbeatThread[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(threads.splice(0).map((t) => t.close()));
});

async function successor(keyring?: Keyring): Promise<HeartbeatThread> {
  const t = await HeartbeatThread.start({ name: 'succ', host: '127.0.0.1', port: 0, ...(keyring ? { keyring } : {}) });
  threads.push(t);
  return t;
}

/** A stand-in daemon: a Node process running an owner whose loop is a process of its own, sending to `succPort`. */
async function standIn(succPort: number): Promise<{ daemon: ChildProcess; heartbeatPid: number; port: number }> {
  const code = `import { HeartbeatThread } from ${JSON.stringify(DIST)};
const t = await HeartbeatThread.start({ name: 'owner', host: '127.0.0.1', port: 0, isolation: 'process' });
t.setPeers([{ name: 'succ', host: '127.0.0.1', port: ${succPort} }], []);
console.log(JSON.stringify({ heartbeatPid: t.threadId, port: t.port }));
setInterval(() => {}, 1000);`;
  const daemon = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(daemon);
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    daemon.stdout?.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(out.split('\n')[0] as string);
    });
    daemon.once('exit', (c) => reject(new Error(`stand-in exited with ${c}`)));
  });
  return { daemon, ...(JSON.parse(line) as { heartbeatPid: number; port: number }) };
}

const gone = (pid: number) => {
  try {
    process.kill(pid, 0);
    return false;
  } catch {
    return true;
  }
};

describe('HeartbeatThread with isolation: process', () => {
  it('has the built package to run a stand-in daemon from', () => {
    expect(existsSync(DIST), 'build first: cd packages/election && npx tsup').toBe(true);
  });

  it('runs the same protocol from a process of its own: sealed frames, lost when closed, recovered on a new boot', async () => {
    const keyring = new Keyring([new Uint8Array(32).fill(7)]);
    const succ = await successor(keyring);
    const owner = await HeartbeatThread.start({
      name: 'owner',
      host: '127.0.0.1',
      port: 0,
      keyring,
      isolation: 'process',
    });
    threads.push(owner);
    expect(owner.threadId).toBeDefined();
    expect(owner.threadId).not.toBe(process.pid); // its own process: its main thread's id is its pid
    owner.setPeers([peer('succ', succ)], []);
    succ.setPeers([], [peer('owner', owner)]);
    await until(() => succ.stats().watcher.heartbeats > 20);
    await until(() => owner.stats().framesSent > 20);
    expect(owner.stats().bytesSent).toBe(owner.stats().framesSent * 56); // sealed with the key sent over IPC
    const lost = next(succ, 'lost');
    const ownerPort = owner.port;
    await owner.close();
    expect((await lost)[0]).toBe('owner');
    expect(gone(owner.threadId as number)).toBe(true);
    const again = await HeartbeatThread.start({
      name: 'owner',
      host: '127.0.0.1',
      port: ownerPort,
      keyring,
      isolation: 'process',
    });
    threads.push(again);
    const recovered = next(succ, 'recovered');
    again.setPeers([peer('succ', succ)], []);
    expect((await recovered)[0]).toBe('owner');
  });

  it('ends with its parent: a SIGKILLed daemon stops heartbeating at once and its successor reports it lost', async () => {
    const succ = await successor();
    const owner = await standIn(succ.port);
    succ.setPeers([], [{ name: 'owner', host: '127.0.0.1', port: owner.port }]);
    await until(() => succ.stats().watcher.heartbeats > 20);
    const lost = next(succ, 'lost');
    owner.daemon.kill('SIGKILL');
    expect((await lost)[0]).toBe('owner');
    await until(() => gone(owner.heartbeatPid), 5000);
  });

  it('falls silent while its parent is stopped (SIGSTOP: lost) and speaks again when it continues (recovered)', async () => {
    const succ = await successor();
    const owner = await standIn(succ.port);
    succ.setPeers([], [{ name: 'owner', host: '127.0.0.1', port: owner.port }]);
    await until(() => succ.stats().watcher.heartbeats > 20);
    const lost = next(succ, 'lost');
    owner.daemon.kill('SIGSTOP');
    try {
      expect((await lost)[0]).toBe('owner');
      expect(gone(owner.heartbeatPid)).toBe(false); // silent, not ended
    } finally {
      owner.daemon.kill('SIGCONT');
    }
    const recovered = next(succ, 'recovered');
    expect((await recovered)[0]).toBe('owner');
  });
});
