// Issue 13: the answer thread starts whatever the host's flags (`node --input-type=module`,
// `--experimental-default-type=module` made its evaluated CommonJS source an ES module, and it died with "require is
// not defined"), and when it fails or dies, the sockets it served go back to the event loop and the failure shows in
// answerThreadStatus(). No sockets needed: an eventfd stands in for a packet socket (the thread only polls it).
import { createRequire } from 'node:module';
import { MessageChannel, Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { answerThreadId } from '../src/index.js';
import { ANSWER_THREAD_SOURCE, answerThread, answerThreadStatus } from '../src/transport/answer-thread.js';
import { COUNTS, MAX_IN_FLIGHT } from '../src/transport/answer-thread-worker.js';
import { lib, POLL } from '../src/transport/linux-packet-socket.js';

const fds: number[] = [];
const eventfd = () => {
  const fd = lib().eventfd(0, POLL.EFD_NONBLOCK | POLL.EFD_CLOEXEC);
  expect(fd).toBeGreaterThanOrEqual(0);
  fds.push(fd);
  return fd;
};
const savedArgv = [...process.execArgv];
afterEach(() => {
  process.execArgv.splice(0, process.execArgv.length, ...savedArgv);
  for (const fd of fds.splice(0)) lib().close(fd);
});

describe('the answer thread source', () => {
  for (const flag of ['--input-type=module', '--experimental-default-type=module'] as const) {
    it(`runs when evaluated as an ES module (worker execArgv ${flag})`, async () => {
      const wakeFd = eventfd();
      const { port1, port2 } = new MessageChannel();
      let worker: Worker;
      try {
        worker = new Worker(ANSWER_THREAD_SOURCE, {
          eval: true,
          execArgv: [flag],
          workerData: {
            koffiPath: createRequire(import.meta.url).resolve('koffi'),
            wakeFd,
            port: port2,
            counts: COUNTS,
            maxInFlight: MAX_IN_FLIGHT,
          },
          transferList: [port2],
        });
      } catch (e) {
        // This Node refuses the flag for workers: then the ES-module case cannot arise for the thread either.
        expect((e as NodeJS.ErrnoException).code).toBe('ERR_WORKER_INVALID_EXEC_ARGV');
        return;
      }
      const exited = new Promise<string>((resolve) => {
        worker.on('error', (e) => resolve(`error: ${e.message}`));
        worker.on('exit', (code) => resolve(`exit ${code}`));
      });
      const ready = new Promise<string>((resolve) =>
        port1.on('message', (m: { op: string }) => {
          if (m.op === 'ready') resolve('ready');
        }),
      );
      expect(await Promise.race([ready, exited])).toBe('ready');
      port1.postMessage({ op: 'exit' });
      lib().write(wakeFd, new Uint8Array(new BigUint64Array([1n]).buffer), 8);
      expect(await exited).toBe('exit 0');
      port1.close();
    });
  }
});

describe('the process-wide answer thread', () => {
  it('starts whatever the flags the process runs with (module type, V8 and process options)', async () => {
    process.execArgv.splice(
      0,
      process.execArgv.length,
      '--experimental-default-type=module',
      '--max-old-space-size=256',
      '--stack-size=2000',
      '-e',
      'void 0',
    );
    const died: string[] = [];
    const socket = answerThread().open(eventfd(), new Uint8Array(6), {
      frames: () => {},
      error: () => {},
      died: (reason) => died.push(reason),
    });
    const tid = await answerThreadId();
    expect(died).toEqual([]);
    expect(tid).toBeTypeOf('number');
    expect(answerThreadStatus().state).toBe('running');
    await socket.close();
  });

  it('when it dies: every socket hears it once, the offload refuses addresses, the status says failed', async () => {
    const before = answerThreadStatus().failures;
    const died: string[][] = [[], []];
    const sockets = [0, 1].map((i) =>
      answerThread().open(eventfd(), new Uint8Array(6), {
        frames: () => {},
        error: () => {},
        died: (reason) => died[i]!.push(reason),
      }),
    );
    expect(await answerThreadId()).toBeTypeOf('number');
    expect(sockets[0]!.offload.add('192.0.2.10')).toBe(true);
    await answerThread().crash();
    for (let i = 0; i < 50 && died.some((d) => d.length === 0); i++) await new Promise((r) => setTimeout(r, 20));
    expect(died.map((d) => d.length)).toEqual([1, 1]);
    expect(sockets[0]!.offload.add('192.0.2.11')).toBe(false);
    const status = answerThreadStatus();
    expect(status).toMatchObject({ state: 'failed', failures: before + 1 });
    expect(status.lastError).toMatch(/exit|terminat/i);
    for (const s of sockets) await s.close(); // no thread to tell: resolves at once
    // The next socket starts a new thread, and the status recovers.
    const again = answerThread().open(eventfd(), new Uint8Array(6), {
      frames: () => {},
      error: () => {},
      died: () => {},
    });
    expect(await answerThreadId()).toBeTypeOf('number');
    expect(answerThreadStatus().state).toBe('running');
    await again.close();
  });
});
