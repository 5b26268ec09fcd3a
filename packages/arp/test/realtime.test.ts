// raiseRealtimePriority runs in a child process each time, so the vitest worker never becomes real-time or pinned.
// The child loads src/transport/realtime.ts compiled by esbuild, so this test needs no build of arp (of @ingot/net, yes).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { transform } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raiseRealtimePriority } from '../src/transport/realtime.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'ingot-arp-realtime-'));
const child = join(dir, 'child.mjs');
const isRoot = process.getuid?.() === 0;
const linux = process.platform === 'linux';
const which = (tool: string) => ['/usr/bin', '/bin', '/usr/sbin', '/sbin'].some((d) => existsSync(join(d, tool)));

interface ThreadSched {
  policy: number;
  rtPriority: number;
  cpus: string;
}
interface ChildReport {
  result: { ok: boolean; code?: string; step?: string; reason?: string; priority?: number; cpu?: number | null };
  before: ThreadSched;
  main: ThreadSched;
  /** Threads that existed before the call (V8 platform workers, libuv's signal thread …). */
  others: ThreadSched[];
  /** A worker_threads Worker started after the call. */
  worker: ThreadSched;
  /** A process spawned after the call (cat /proc/self/stat). */
  spawned: { policy: number };
}

const CHILD_SOURCE = `
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { raiseRealtimePriority } from './realtime.mjs';

// /proc stat: field 40 is rt_priority, 41 is policy (0 SCHED_OTHER, 1 SCHED_FIFO).
const sched = (stat, status) => {
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { policy: Number(f[38]), rtPriority: Number(f[37]), cpus: status ? /Cpus_allowed_list:\\s*(\\S+)/.exec(status)[1] : '' };
};
const thread = (tid) => sched(readFileSync('/proc/self/task/' + tid + '/stat', 'utf8'), readFileSync('/proc/self/task/' + tid + '/status', 'utf8'));
const existing = readdirSync('/proc/self/task').map(Number).filter((t) => t !== process.pid);
const before = thread(process.pid);
const result = raiseRealtimePriority(JSON.parse(process.argv[2]));
const main = thread(process.pid);
const others = existing.map(thread);
const w = new Worker(
  "const fs = require('node:fs'); require('node:worker_threads').parentPort.postMessage([fs.readFileSync('/proc/thread-self/stat', 'utf8'), fs.readFileSync('/proc/thread-self/status', 'utf8')])",
  { eval: true },
);
const [ws, wst] = await new Promise((resolve) => w.once('message', resolve));
await w.terminate();
const spawned = sched(spawnSync('cat', ['/proc/self/stat'], { encoding: 'utf8' }).stdout);
console.log(JSON.stringify({ result, before, main, others, worker: sched(ws, wst), spawned }));
`;

async function runChild(options: Record<string, unknown>, prefix: string[] = []): Promise<ChildReport> {
  const argv = [...prefix, process.execPath, child, JSON.stringify(options)];
  const { stdout } = await promisify(execFile)(argv[0]!, argv.slice(1), { timeout: 15_000 });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildReport;
}

beforeAll(async () => {
  const { code } = await transform(readFileSync(join(pkg, 'src', 'transport', 'realtime.ts'), 'utf8'), {
    loader: 'ts',
    format: 'esm',
  });
  // the libc binding is @ingot/net's (built: `turbo run test` builds dependencies first)
  const net = dirname(createRequire(import.meta.url).resolve('@ingot/net/package.json'));
  const libc = pathToFileURL(join(net, 'dist', 'libc.js')).href;
  writeFileSync(join(dir, 'realtime.mjs'), code.replace(/from ["']@ingot\/net\/libc["']/, `from '${libc}'`));
  writeFileSync(child, CHILD_SOURCE);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('raiseRealtimePriority', () => {
  it('rejects invalid arguments with RangeError before any system call', () => {
    expect(() => raiseRealtimePriority({ priority: 0 })).toThrow(RangeError);
    expect(() => raiseRealtimePriority({ priority: 100 })).toThrow(RangeError);
    expect(() => raiseRealtimePriority({ priority: 1.5 })).toThrow(RangeError);
    expect(() => raiseRealtimePriority({ cpu: -1 })).toThrow(RangeError);
    expect(() => raiseRealtimePriority({ cpu: 1024 })).toThrow(RangeError);
  });

  it.runIf(linux && isRoot)(
    'as root: SCHED_FIFO and the CPU pin for the calling thread only; later threads and processes are not real-time',
    async () => {
      const r = await runChild({ priority: 7, cpu: 0 });
      expect(r.result).toEqual({ ok: true, policy: 'SCHED_FIFO', priority: 7, cpu: 0 });
      expect(r.before.policy).toBe(0);
      expect(r.main).toEqual({ policy: 1, rtPriority: 7, cpus: '0' });
      expect(r.others.length).toBeGreaterThan(0);
      for (const t of r.others) expect(t).toEqual({ policy: 0, rtPriority: 0, cpus: r.before.cpus });
      // SCHED_RESET_ON_FORK: new threads start at normal priority (they do inherit the pin, as documented).
      expect(r.worker).toEqual({ policy: 0, rtPriority: 0, cpus: '0' });
      expect(r.spawned.policy).toBe(0);
    },
  );

  it.runIf(linux && isRoot)(
    'as root with resetOnFork: false, threads created afterwards inherit SCHED_FIFO',
    async () => {
      const r = await runChild({ priority: 3, resetOnFork: false });
      expect(r.result).toEqual({ ok: true, policy: 'SCHED_FIFO', priority: 3, cpu: null });
      expect(r.main).toEqual({ policy: 1, rtPriority: 3, cpus: r.before.cpus });
      expect(r.worker.policy).toBe(1);
      expect(r.worker.rtPriority).toBe(3);
    },
  );

  it.runIf(linux && which('prlimit') && (!isRoot || which('setpriv')))(
    'without CAP_SYS_NICE or RLIMIT_RTPRIO: { ok: false } with EPERM and the reason, nothing changed, no throw',
    async () => {
      // RLIMIT_RTPRIO 0, and for root CAP_SYS_NICE removed from the bounding set (so the exec'd node lacks it).
      const prefix = ['prlimit', '--rtprio=0', '--', ...(isRoot ? ['setpriv', '--bounding-set=-sys_nice'] : [])];
      const r = await runChild({ priority: 10, cpu: 0 }, prefix);
      expect(r.result).toMatchObject({ ok: false, code: 'EPERM', step: 'sched_setscheduler' });
      expect(r.result.reason).toMatch(/^sched_setscheduler: EPERM: .*CAP_SYS_NICE.*RLIMIT_RTPRIO >= 10/);
      // All or nothing: the pin to CPU 0 was undone.
      expect(r.main).toEqual(r.before);
      expect(r.main.policy).toBe(0);
    },
  );
});
