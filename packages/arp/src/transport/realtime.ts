import { errno, errnoName, libc } from '@ingot/net/libc';

const SCHED_FIFO = 1;
const SCHED_RESET_ON_FORK = 0x40000000;
/** glibc's cpu_set_t: 1024 CPUs. */
const CPU_SET_BYTES = 128;

/** Options of {@link raiseRealtimePriority}. */
export interface RealtimeOptions {
  /** SCHED_FIFO priority, 1 (lowest) to 99. Default 10, the value keepalived's VRRP process uses. */
  priority?: number;
  /**
   * Also pin the calling thread to this one CPU (`sched_setaffinity`). Default: the affinity is left alone. Pinning
   * needs no privilege; it is undone if the priority cannot be raised, so the call changes all or nothing.
   */
  cpu?: number;
  /**
   * Add `SCHED_RESET_ON_FORK` (default true): threads and processes created afterwards start at normal priority
   * instead of inheriting SCHED_FIFO, so a child such as `ip` or a libuv worker never runs real-time by accident.
   */
  resetOnFork?: boolean;
  /**
   * The Linux thread id to change (default: the calling thread), e.g. the answer thread's from `answerThreadId()`
   * when transports run in receive mode `thread`: then the thread that answers runs real-time, the event loop does not.
   */
  thread?: number;
}

/** The step of {@link raiseRealtimePriority} that failed. */
export type RealtimeStep = 'platform' | 'sched_getaffinity' | 'sched_setaffinity' | 'sched_setscheduler';

/** Result of {@link raiseRealtimePriority}: what was applied, or why nothing was. */
export type RealtimeResult =
  | {
      ok: true;
      policy: 'SCHED_FIFO';
      priority: number;
      /** The CPU the thread is now pinned to, or `null` when the affinity was left alone. */
      cpu: number | null;
    }
  | {
      ok: false;
      /** A sentence for a log line: what failed and what would make it work. */
      reason: string;
      /** errno name, e.g. `EPERM`, `EINVAL`; `ENOSYS` off Linux. */
      code: string;
      errno: number;
      step: RealtimeStep;
    };

interface SchedLib {
  sched_setscheduler(pid: number, policy: number, param: Uint8Array): number;
  sched_setaffinity(pid: number, size: number, mask: Uint8Array): number;
  sched_getaffinity(pid: number, size: number, mask: Uint8Array): number;
}

let sched: SchedLib | undefined;
function schedLib(): SchedLib {
  if (sched) return sched;
  const l = libc();
  sched = {
    sched_setscheduler: l.func('int sched_setscheduler(int, int, const void *)'),
    sched_setaffinity: l.func('int sched_setaffinity(int, size_t, const void *)'),
    sched_getaffinity: l.func('int sched_getaffinity(int, size_t, _Out_ void *)'),
  } as unknown as SchedLib;
  return sched;
}

function failure(step: RealtimeStep, reason: string): RealtimeResult & { ok: false } {
  const e = errno();
  return { ok: false, reason: `${step}: ${errnoName(e)}: ${reason}`, code: errnoName(e), errno: e, step };
}

/**
 * Runs the calling thread under `SCHED_FIFO` at `priority`, optionally pinned to one CPU, so that answering ARP and
 * NDP does not wait behind ordinary work on a busy node. keepalived does the same for VRRP. Call it from the thread that
 * runs the responders (normally the main thread), once their transports are open.
 *
 * Only the calling thread changes: Linux schedules threads, and both system calls are made for thread id 0, the
 * caller. V8's and libuv's threads that already exist keep their policy and affinity. Threads created afterwards
 * start at normal priority (see {@link RealtimeOptions.resetOnFork}) but inherit the CPU pin. Raising the whole
 * process instead (`chrt -p` on every thread, or `taskset` at exec) puts V8's helper threads on the same CPU at the
 * same priority. The main thread can then spin waiting for them until RT throttling stops it, for 40-50 ms at a time
 * (measured in this package's benchmark).
 *
 * It needs `CAP_SYS_NICE`, or an `RLIMIT_RTPRIO` of at least `priority` (systemd `LimitRTPRIO=`, `ulimit -r`).
 * Without either the kernel says `EPERM` and the function returns `{ ok: false }`. It also fails that way in a cgroup
 * with no real-time budget (cgroup v1 `cpu.rt_runtime_us` = 0). It never throws for a refusal by the system, only
 * for invalid arguments. Off Linux it returns `{ ok: false, code: 'ENOSYS' }`.
 *
 * A SCHED_FIFO thread that never sleeps starves everything else on its CPU, up to the kernel's RT throttling limit
 * (`kernel.sched_rt_runtime_us`, 95% by default). Event-loop code does sleep, in `epoll_wait`.
 *
 * @throws RangeError if `priority` is not an integer from 1 to 99, or `cpu` is not an integer from 0 to 1023.
 * @example
 * ```ts
 * const rt = raiseRealtimePriority({ priority: 10, cpu: 1 });
 * if (!rt.ok) console.warn(`answering at normal priority: ${rt.reason}`);
 * ```
 */
export function raiseRealtimePriority(options: RealtimeOptions = {}): RealtimeResult {
  const priority = options.priority ?? 10;
  if (!Number.isInteger(priority) || priority < 1 || priority > 99) {
    throw new RangeError(`priority must be an integer from 1 to 99, got ${priority}`);
  }
  const cpu = options.cpu;
  const tid = options.thread ?? 0;
  if (!Number.isInteger(tid) || tid < 0) throw new RangeError(`thread must be a Linux thread id, got ${tid}`);
  if (cpu !== undefined && (!Number.isInteger(cpu) || cpu < 0 || cpu >= CPU_SET_BYTES * 8)) {
    throw new RangeError(`cpu must be an integer from 0 to ${CPU_SET_BYTES * 8 - 1}, got ${cpu}`);
  }
  if (process.platform !== 'linux') {
    return { ok: false, reason: 'SCHED_FIFO is only set on Linux', code: 'ENOSYS', errno: 38, step: 'platform' };
  }
  const c = schedLib();
  let previous: Uint8Array | undefined;
  if (cpu !== undefined) {
    previous = new Uint8Array(CPU_SET_BYTES);
    if (c.sched_getaffinity(tid, CPU_SET_BYTES, previous) < 0)
      return failure('sched_getaffinity', 'cannot read affinity');
    const mask = new Uint8Array(CPU_SET_BYTES);
    mask[cpu >> 3] = 1 << (cpu & 7);
    if (c.sched_setaffinity(tid, CPU_SET_BYTES, mask) < 0) {
      return failure('sched_setaffinity', `CPU ${cpu} is not online or not allowed for this process (cpuset)`);
    }
  }
  const param = new Uint8Array(new Int32Array([priority]).buffer);
  const policy = SCHED_FIFO | (options.resetOnFork === false ? 0 : SCHED_RESET_ON_FORK);
  if (c.sched_setscheduler(tid, policy, param) < 0) {
    const f = failure(
      'sched_setscheduler',
      `SCHED_FIFO ${priority} needs CAP_SYS_NICE or RLIMIT_RTPRIO >= ${priority} (systemd LimitRTPRIO=, docker --cap-add SYS_NICE), and a cgroup with a real-time budget`,
    );
    if (previous) c.sched_setaffinity(tid, CPU_SET_BYTES, previous); // all or nothing
    return f;
  }
  return { ok: true, policy: 'SCHED_FIFO', priority, cpu: cpu ?? null };
}
