import { createRequire } from 'node:module';
import { MessageChannel, type MessagePort, Worker } from 'node:worker_threads';
import { canonicalIp, parseIPv4, parseIPv6 } from '../codec/address.js';
import { writeArpReply } from '../codec/arp-reply.js';
import {
  answerNeighborSolicitation,
  answerThreadMain,
  arpRequestSlot,
  COUNTS,
  type FromAnswerThread,
  MAX_IN_FLIGHT,
  type ToAnswerThread,
} from './answer-thread-worker.js';
import { type AnswerOffload, type AnswerOffloadCounts, TransportError } from './frame-transport.js';
import { errno, errnoName, lib, POLL } from './linux-packet-socket.js';
import { type RealtimeOptions, type RealtimeResult, raiseRealtimePriority } from './realtime.js';

/** @internal Addresses per socket answered by the thread; further ones are answered on the event loop. */
export const SLOTS = 4096;
/** A withdrawn address's slot is reused only after this long (the thread applies the removal within microseconds). */
const SLOT_REUSE_MS = 1000;

/** @internal What the thread hands back for one socket. */
export interface AnswerThreadHooks {
  /** Frames the thread did not answer, in arrival order. */
  frames(frames: Uint8Array[]): void;
  /** A receive error (the socket rests 100 ms, then is polled again) or the end of the thread. */
  error(error: TransportError): void;
  /**
   * The thread failed to start or died: it no longer polls the socket nor answers anything. The transport takes the
   * socket back to the event loop. Called once per socket, after which no other hook is called.
   */
  died(reason: string): void;
}

/** @internal One socket served by the answer thread. */
export interface AnswerThreadSocket {
  /** The table of addresses this socket answers for. */
  readonly offload: AnswerOffload;
  /** Stops serving the socket; resolves once the thread no longer polls it (then the fd may be closed). */
  close(): Promise<void>;
}

/**
 * @internal The thread's code, built once from functions that refer to nothing outside themselves. It runs whether
 * Node evaluates it as a CommonJS script or as an ES module (`--input-type=module`,
 * `--experimental-default-type=module`): without a `require` in scope it makes one with `module.createRequire`.
 */
export const ANSWER_THREAD_SOURCE = `"use strict";\nvar __name = (f) => f;\nvar load = typeof require === "function" ? require : process.getBuiltinModule("node:module").createRequire(process.cwd() + "/");\n(${answerThreadMain.toString()})(load, ${arpRequestSlot.toString()}, ${writeArpReply.toString()}, ${answerNeighborSolicitation.toString()});\n`;

/** What {@link answerThreadStatus} reports. */
export interface AnswerThreadStatus {
  /** `running`: a thread answers; `idle`: none needed (no transport in receive mode `thread`); `failed`: the last one did not start or died. */
  state: 'running' | 'idle' | 'failed';
  /** Threads that failed to start or died since the process started (each time, transports fell back to the event loop). */
  failures: number;
  /** Why the last one failed. */
  lastError?: string;
}

const threadHealth: { failures: number; lastError: string | undefined; failed: boolean } = {
  failures: 0,
  lastError: undefined,
  failed: false,
};

/**
 * Whether the process-wide answer thread runs, and how often it failed. When it fails to start or dies, every
 * transport it served takes its socket back to the event loop (receive mode `uv-stream`, or `poll-worker`), which
 * answers everything from then on: slower under load, but nothing goes unanswered.
 * @example
 * ```ts
 * const s = answerThreadStatus();
 * if (s.state === 'failed') console.warn(`ARP answered on the event loop: ${s.lastError}`);
 * ```
 */
export function answerThreadStatus(): AnswerThreadStatus {
  const state = current && !threadHealth.failed ? 'running' : threadHealth.failed ? 'failed' : 'idle';
  return {
    state,
    failures: threadHealth.failures,
    ...(threadHealth.lastError !== undefined ? { lastError: threadHealth.lastError } : {}),
  };
}

let current: AnswerThread | undefined;
let priority:
  | { options: RealtimeOptions; report: ((result: RealtimeResult, threadId: number) => void) | undefined }
  | undefined;

/**
 * Runs the answer thread at real-time priority (`SCHED_FIFO`, see {@link raiseRealtimePriority}), now if it is
 * running and each time it starts again; `undefined` stops doing so for threads started later. `report` receives the
 * result and the Linux thread id for every thread raised (e.g. to log a missing CAP_SYS_NICE). The event loop keeps
 * its normal priority.
 * @example
 * ```ts
 * setAnswerThreadPriority({ priority: 10 }, (rt) => {
 *   if (!rt.ok) console.warn(`ARP answered at normal priority: ${rt.reason}`);
 * });
 * ```
 */
export function setAnswerThreadPriority(
  options: RealtimeOptions | undefined,
  report?: (result: RealtimeResult, threadId: number) => void,
): void {
  priority = options && { options, report };
  if (priority) current?.applyPriority();
}

/**
 * @internal The process-wide answer thread (a `worker_threads` Worker), started with the first socket and ended with
 * the last, so an idle process keeps no extra thread and a closed one can exit.
 */
export function answerThread(): AnswerThread {
  if (!current) current = new AnswerThread();
  return current;
}

/**
 * The Linux thread id of the running answer thread, for `raiseRealtimePriority({ thread })`; undefined when no
 * transport uses receive mode `thread`.
 * @example
 * ```ts
 * const tid = await answerThreadId();
 * if (tid !== undefined) raiseRealtimePriority({ priority: 10, thread: tid });
 * ```
 */
export async function answerThreadId(): Promise<number | undefined> {
  return current?.tid;
}

class AnswerThread {
  readonly tid: Promise<number | undefined>;
  private readonly worker: Worker;
  private readonly port: MessagePort;
  private wakeFd: number;
  private nextId = 1;
  private readonly sockets = new Map<number, AnswerThreadHooks>();
  private readonly countsOf = new Map<number, BigUint64Array>();
  private readonly closing = new Map<number, () => void>();
  private readonly wakeBuf = new Uint8Array(new BigUint64Array([1n]).buffer);
  private ended = false;
  /** True once the thread was told to exit (its last socket closed). */
  private exiting = false;
  private failure: string | undefined;
  private threadId: number | undefined;

  constructor() {
    const c = lib();
    this.wakeFd = c.eventfd(0, POLL.EFD_NONBLOCK | POLL.EFD_CLOEXEC);
    if (this.wakeFd < 0) {
      const e = errno();
      throw new TransportError('eventfd', errnoName(e), e, 'answer thread');
    }
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const koffiPath = createRequire(import.meta.url).resolve('koffi');
    this.worker = new Worker(ANSWER_THREAD_SOURCE, {
      eval: true,
      // None of the parent's flags: the thread needs none, Node refuses V8 and process options passed here
      // explicitly (`--max-old-space-size`, `--stack-size` …), and `--input-type=module` would change how the source is
      // read (which the source survives anyway).
      execArgv: [],
      workerData: { koffiPath, wakeFd: this.wakeFd, port: port2, counts: COUNTS, maxInFlight: MAX_IN_FLIGHT },
      transferList: [port2],
    });
    let ready: (tid: number | undefined) => void = () => {};
    this.tid = new Promise((resolve) => {
      ready = resolve;
    });
    port1.on('message', (m: FromAnswerThread) => {
      if (m.op === 'ready') {
        threadHealth.failed = false;
        this.threadId = m.tid;
        ready(m.tid);
        this.applyPriority();
      } else if (m.op === 'frames') {
        // Released before the handler runs, so a throwing handler cannot leave them counted as in flight for ever.
        const counts = this.countsOf.get(m.id);
        if (counts) Atomics.sub(counts, COUNTS.inFlight, BigInt(m.frames.length));
        this.sockets.get(m.id)?.frames(m.frames);
      } else if (m.op === 'error') {
        this.sockets.get(m.id)?.error(new TransportError('recv', errnoName(m.errno), m.errno, 'answer thread'));
      } else if (m.op === 'fault') {
        for (const h of this.sockets.values()) h.error(new TransportError('answer-thread', 'EFAULT', 14, m.message));
      } else if (m.op === 'closed') {
        this.closing.get(m.id)?.();
        this.closing.delete(m.id);
      }
    });
    this.worker.on('error', (err) => {
      this.failure = err.message;
    });
    this.worker.on('exit', (code) => {
      // Not asked to end (an exit message, after the last socket closed): it failed to start or died.
      if (!this.exiting) {
        const reason = this.failure ?? `the answer thread exited with code ${code}`;
        threadHealth.failures++;
        threadHealth.lastError = reason;
        threadHealth.failed = true;
        const hooks = [...this.sockets.values()];
        this.sockets.clear();
        for (const h of hooks) h.died(reason);
      }
      this.ended = true;
      ready(undefined);
      if (current === this) current = undefined;
      for (const done of this.closing.values()) done();
      this.closing.clear();
      this.port.close();
      lib().close(this.wakeFd);
      this.wakeFd = -1;
    });
  }

  /** @internal Tests: ends the thread the way a crash would. */
  crash(): Promise<number> {
    const ended = this.worker.terminate();
    // A thread blocked in poll() only sees the termination once it is back in JavaScript: wake it.
    if (this.wakeFd >= 0) lib().write(this.wakeFd, this.wakeBuf, 8);
    return ended;
  }

  /** Raises the running thread as {@link setAnswerThreadPriority} asked. */
  applyPriority(): void {
    if (!priority || this.threadId === undefined || this.ended) return;
    const result = raiseRealtimePriority({ ...priority.options, thread: this.threadId });
    priority.report?.(result, this.threadId);
  }

  /** Starts serving an AF_PACKET socket. */
  open(fd: number, mac: Uint8Array, hooks: AnswerThreadHooks): AnswerThreadSocket {
    const id = this.nextId++;
    const counts = new SharedArrayBuffer(8 * (COUNTS.slotsAt + 2 * SLOTS));
    const table = new OffloadTable(new BigUint64Array(counts), (m) => this.post({ ...m, id }));
    this.sockets.set(id, {
      ...hooks,
      died: (reason) => {
        table.disable(); // the event loop answers every address from now on
        hooks.died(reason);
      },
    });
    this.countsOf.set(id, new BigUint64Array(counts));
    this.post({ op: 'open', id, fd, mac: [...mac], counts });
    return {
      offload: table,
      close: () => {
        this.sockets.delete(id);
        this.countsOf.delete(id);
        if (this.ended) return Promise.resolve();
        const done = new Promise<void>((resolve) => this.closing.set(id, resolve));
        this.post({ op: 'close', id });
        return done.then(() => {
          if (this.sockets.size === 0 && !this.ended) {
            if (current === this) current = undefined; // the next socket starts a new thread
            this.exiting = true;
            this.post({ op: 'exit' });
          }
        });
      },
    };
  }

  private post(m: ToAnswerThread): void {
    if (this.ended) return;
    this.port.postMessage(m);
    lib().write(this.wakeFd, this.wakeBuf, 8);
  }
}

/** @internal What the event loop tells the thread about one address. */
export type TableMessage =
  | { op: 'add'; ip: number; slot: number }
  | { op: 'remove'; ip: number }
  | { op: 'add6'; ip: number[]; slot: number; source: number[] }
  | { op: 'remove6'; ip: number[] };

/**
 * @internal The event loop's side of one socket's table: assigns counter slots to addresses, tells the thread, and turns the
 * shared counters into deltas for the responder.
 */
export class OffloadTable implements AnswerOffload {
  private readonly slotOf = new Map<string, number>();
  private readonly ipOf: string[] = [];
  /** Withdrawn addresses' slots, with the time of withdrawal. */
  private readonly retired = new Map<number, number>();
  private readonly seen: Float64Array;
  /** Counts of reused slots not yet collected, by address. */
  private readonly orphans: Array<[string, number, number]> = [];
  /** Set when the thread is gone: nothing more is offloaded (`add` says so), the counts so far stay collectable. */
  private disabled = false;

  constructor(
    private readonly counts: BigUint64Array,
    private readonly post: (m: TableMessage) => void,
  ) {
    this.seen = new Float64Array(counts.length);
  }

  /** The thread is gone: refuse further addresses, so their owner answers them itself. */
  disable(): void {
    this.disabled = true;
  }

  add(ip: string, naSource?: string): boolean {
    if (this.disabled) return false;
    const c = canonicalIp(ip);
    if (c === undefined) throw new TypeError(`not an IP address: ${JSON.stringify(ip)}`);
    const source = naSource === undefined ? undefined : canonicalIp(naSource);
    if (naSource !== undefined && (source === undefined || !source.includes(':'))) {
      throw new TypeError(`not an IPv6 address: ${JSON.stringify(naSource)}`);
    }
    let slot = this.slotOf.get(c);
    if (slot === undefined) {
      slot = this.freeSlot();
      if (slot < 0) return false;
      this.slotOf.set(c, slot);
      this.ipOf[slot] = c;
    } else this.retired.delete(slot);
    if (c.includes(':')) {
      const bytes = parseIPv6(c);
      this.post({ op: 'add6', ip: [...bytes], slot, source: [...(source ? parseIPv6(source) : bytes)] });
    } else this.post({ op: 'add', ip: ipv4Number(c), slot });
    return true;
  }

  remove(ip: string): void {
    const c = canonicalIp(ip);
    const slot = c === undefined ? undefined : this.slotOf.get(c);
    if (c === undefined || slot === undefined || this.retired.has(slot)) return;
    this.retired.set(slot, performance.now());
    if (c.includes(':')) this.post({ op: 'remove6', ip: [...parseIPv6(c)] });
    else this.post({ op: 'remove', ip: ipv4Number(c) });
  }

  collect(each: (ip: string, requests: number, responses: number) => void): AnswerOffloadCounts {
    for (const [ip, req, resp] of this.orphans.splice(0)) each(ip, req, resp);
    for (let slot = 0; slot < this.ipOf.length; slot++) {
      const [req, resp] = this.take(slot);
      if (req > 0 || resp > 0) each(this.ipOf[slot]!, req, resp);
    }
    return {
      answered: this.delta(COUNTS.answered),
      sent: this.delta(COUNTS.sent),
      sendErrors: this.delta(COUNTS.sendErrors),
      dropped: this.delta(COUNTS.dropped),
    };
  }

  totals(): AnswerOffloadCounts {
    const at = (i: number) => Number(Atomics.load(this.counts, i));
    return {
      answered: at(COUNTS.answered),
      sent: at(COUNTS.sent),
      sendErrors: at(COUNTS.sendErrors),
      dropped: at(COUNTS.dropped),
    };
  }

  private freeSlot(): number {
    if (this.ipOf.length < SLOTS) return this.ipOf.length;
    const now = performance.now();
    for (const [slot, since] of this.retired) {
      if (now - since < SLOT_REUSE_MS) continue;
      this.retired.delete(slot);
      const [req, resp] = this.take(slot);
      if (req > 0 || resp > 0) this.orphans.push([this.ipOf[slot]!, req, resp]);
      this.slotOf.delete(this.ipOf[slot]!);
      return slot;
    }
    return -1;
  }

  /** Requests and responses of `slot` since the last call. */
  private take(slot: number): [number, number] {
    const i = COUNTS.slotsAt + 2 * slot;
    return [this.delta(i), this.delta(i + 1)];
  }

  private delta(i: number): number {
    const now = Number(Atomics.load(this.counts, i));
    const d = now - this.seen[i]!;
    this.seen[i] = now;
    return d;
  }
}

function ipv4Number(ip: string): number {
  const b = parseIPv4(ip);
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}
