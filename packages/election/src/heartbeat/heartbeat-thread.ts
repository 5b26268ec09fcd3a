import { EventEmitter } from 'eventemitter3';
import { ConfigError } from '../errors.js';
import type { Keyring } from '../keyring.js';
import { heartbeatSenderId, readHeartbeatFrame, writeHeartbeatFrame } from './frame.js';
import { type HeartbeatIsolation, type HeartbeatRunner, startHeartbeatRunner } from './heartbeat-runner.js';
import { PairWatcher, type PairWatcherStats } from './pair-watcher.js';

/** A node the heartbeat thread sends to or watches: its name and its heartbeat address. */
export interface HeartbeatPeer {
  /** Node (member) name. */
  name: string;
  /** Heartbeat address. */
  host: string;
  /** Heartbeat UDP port. */
  port: number;
}

/** Options of {@link HeartbeatThread.start}. */
export interface HeartbeatThreadOptions {
  /** This node's name (its frames carry {@link heartbeatSenderId} of it). */
  name: string;
  /** Address to bind the heartbeat socket to. */
  host: string;
  /** UDP port to bind (0: any). */
  port: number;
  /** The cluster keyring: frames are sealed and only authenticated frames accepted. Without it, plaintext. */
  keyring?: Keyring;
  /** Send interval h in ms. @default 10 */
  intervalMs?: number;
  /** Intervals without a heartbeat before the owner is probed (k). @default 10 */
  missLimit?: number;
  /**
   * Upper bound of the adaptive silence limit, in intervals: after stalls (long gaps heard from an owner) the watcher
   * waits up to this long before probing (see PairWatcher). Equal to `missLimit`: a fixed limit. @default 4 × missLimit
   */
  maxMissLimit?: number;
  /** Intervals the confirmation round waits for an ack (a probe burst per interval). @default 2 */
  confirmIntervals?: number;
  /** Copies of each probe sent back to back (independent chances through a lossy path). @default 3 */
  probeCopies?: number;
  /**
   * Where the loop runs: `thread` (a worker thread) or `process` (a Node process of its own, started with
   * `process.execPath`; about 15 MB of its own, and immune to this process's memory map and garbage collector: on an
   * overloaded machine its longest stalls were a third as long). @default 'thread'
   */
  isolation?: HeartbeatIsolation;
}

/** Counters of the heartbeat thread. */
export interface HeartbeatStats {
  /** Datagrams sent (heartbeats, probes, acks, notices). */
  framesSent: number;
  /** UDP payload bytes sent. */
  bytesSent: number;
  /** Datagrams received. */
  framesReceived: number;
  /** UDP payload bytes received. */
  bytesReceived: number;
  /**
   * Datagrams refused, by CodecError code (`unauthenticated`, `truncated`, ...), `stale-notice` (a replayed notice) and
   * `after-leaving` (a heartbeat or ack of an owner's boot that already sent `leaving`).
   */
  rejected: Record<string, number>;
  /** Probes answered. */
  probesAnswered: number;
  /** The watcher's counters. */
  watcher: PairWatcherStats;
  /** The widest current silence limit over the watched owners, in ms (0 when none is watched). */
  silenceLimitMs: number;
}

/** Events of a {@link HeartbeatThread}. */
export interface HeartbeatEvents {
  /** A watched owner was silent for k intervals and did not answer the probes. */
  lost: [owner: string, silentMs: number];
  /** A lost owner was heard again; or an owner that sent `leaving` was heard from a new boot (it restarted). */
  recovered: [owner: string, lostMs: number];
  /**
   * A peer says it took this node's IPs over (`takeover`), gave them back (`released`), or stops owning its own IPs
   * (`leaving`: a graceful stop; from then on its frames of that boot are dropped, so leftover heartbeats and acks
   * cannot make it look alive again).
   */
  notice: [kind: HeartbeatNoticeKind, from: string];
  /** The thread failed; no heartbeats are sent or watched any more. */
  error: [error: Error];
}

/** The notices a peer can send: see {@link HeartbeatEvents.notice}. */
export type HeartbeatNoticeKind = 'takeover' | 'released' | 'leaving';

type ToThread =
  | { type: 'peers'; sendTo: { host: string; port: number }[]; watch: { id: string; host: string; port: number }[] }
  | { type: 'notify'; kind: 'takeover' | 'released'; host: string; port: number }
  | { type: 'leave'; to: { id: string; host: string; port: number }[]; copies: number; waitMs: number }
  | { type: 'ack-leaving'; sender: string }
  | { type: 'keys'; keys: Uint8Array[] | undefined }
  | { type: 'close' };

type FromThread =
  | { type: 'ready'; port: number; threadId: number | undefined }
  | { type: 'failed'; message: string }
  | { type: 'lost' | 'recovered'; owner: string; ms: number }
  | { type: 'notice'; kind: HeartbeatNoticeKind; sender: string }
  | { type: 'left'; acked: string[] }
  | { type: 'stats'; stats: HeartbeatStats }
  | { type: 'closed' };

/**
 * @internal The heartbeat thread: one UDP socket, a send timer and a {@link PairWatcher}, on its own event loop (a busy
 * main thread or its garbage collection does not delay it). Refers to nothing outside itself; the codec and the
 * watcher are passed in as source text. In a process of its own, `running` says whether the daemon is running: while
 * it is stopped (SIGSTOP) no heartbeat is sent and no probe answered, as when the loop is a thread of the stopped
 * process.
 */
export function heartbeatThreadMain(
  load: (id: string) => unknown,
  write: typeof writeHeartbeatFrame,
  read: typeof readHeartbeatFrame,
  Watcher: typeof PairWatcher,
  running?: () => boolean,
): void {
  const { parentPort, workerData } = load('node:worker_threads') as typeof import('node:worker_threads');
  const dgram = load('node:dgram') as typeof import('node:dgram');
  const crypto = load('node:crypto') as typeof import('node:crypto');
  const port = parentPort as NonNullable<typeof parentPort>;
  const cfg = workerData as {
    host: string;
    port: number;
    self: string;
    boot: number;
    intervalMs: number;
    missLimit: number;
    maxMissLimit: number;
    confirmIntervals: number;
    probeCopies: number;
    keys: Uint8Array[] | undefined;
  };
  let keys = cfg.keys;
  const counters = {
    framesSent: 0,
    bytesSent: 0,
    framesReceived: 0,
    bytesReceived: 0,
    rejected: {} as Record<string, number>,
    probesAnswered: 0,
  };
  const watcher = new Watcher(
    {
      intervalMs: cfg.intervalMs,
      missLimit: cfg.missLimit,
      maxSilenceMs: cfg.maxMissLimit * cfg.intervalMs,
      confirmMs: cfg.confirmIntervals * cfg.intervalMs,
      probeEveryMs: cfg.intervalMs,
    },
    crypto.randomBytes(4).readUInt32BE(0),
  );
  let sendTo: { host: string; port: number }[] = [];
  let watched = new Map<string, { host: string; port: number }>();
  const notices = new Map<string, { boot: number; seq: number }>();
  /** Owners that sent `leaving`, with that boot: their frames of that boot (or older) are dropped. */
  const left = new Map<string, number>();
  /** The last `leaving` of each owner: where to send the ack, and whether the main thread handled it yet. */
  const leavingFrom = new Map<string, { seq: number; host: string; port: number; acked: boolean }>();
  /** This node's own `leaving`: the successors that have not acknowledged it yet. */
  let leave:
    | {
        seq: number;
        copies: number;
        pending: Map<string, { host: string; port: number }>;
        acked: string[];
        resend: NodeJS.Timeout;
      }
    | undefined;
  let seq = 0;
  let noticeSeq = 0;
  let closed = false;
  /** This node sent `leaving`: no more heartbeats, whatever pairs follow. */
  let leaving = false;
  const watchIds = () => [...watched.keys()].filter((id) => !left.has(id));
  const sock = dgram.createSocket({ type: cfg.host.includes(':') ? 'udp6' : 'udp4' });
  const send = (type: Parameters<typeof write>[0]['type'], n: number, host: string, p: number) => {
    const bytes = write({ type, sender: cfg.self, boot: cfg.boot, seq: n }, keys, crypto);
    counters.framesSent++;
    counters.bytesSent += bytes.length;
    sock.send(bytes, p, host, () => {});
  };
  const reject = (why: string) => {
    counters.rejected[why] = (counters.rejected[why] ?? 0) + 1;
  };
  const act = (actions: ReturnType<PairWatcher['tick']>) => {
    for (const a of actions) {
      if (a.kind === 'probe') {
        const peer = watched.get(a.owner);
        if (peer) for (let i = 0; i < cfg.probeCopies; i++) send('probe', a.nonce, peer.host, peer.port);
      } else {
        const ms = a.kind === 'lost' ? a.silentMs : a.lostMs;
        port.postMessage({ type: a.kind, owner: a.owner, ms });
      }
    }
  };
  sock.on('message', (msg, rinfo) => {
    counters.framesReceived++;
    counters.bytesReceived += msg.length;
    const r = read(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), keys, crypto);
    if (!r.ok) return reject(r.code);
    const f = r.frame;
    if (f.sender === cfg.self) return reject('own-frame');
    if (f.type === 'ack' && leave?.pending.has(f.sender) && f.seq === leave.seq) {
      // A successor's main thread handled our `leaving`.
      leave.pending.delete(f.sender);
      leave.acked.push(f.sender);
      if (leave.pending.size === 0) leaveDone();
      return;
    }
    if (f.type === 'probe') {
      if (running && !running()) return;
      counters.probesAnswered++;
      send('ack', f.seq, rinfo.address, rinfo.port);
      return;
    }
    if (f.type === 'takeover' || f.type === 'released' || f.type === 'leaving') {
      const last = notices.get(f.sender);
      // A notice is sent in copies (the same sequence): the first acts, the copies are dropped (not counted); a
      // `leaving` already handled is acknowledged again (the sender resends until it hears the ack).
      if (last && f.boot === last.boot && f.seq === last.seq) {
        const handled = leavingFrom.get(f.sender);
        if (f.type === 'leaving' && handled?.acked && handled.seq === f.seq)
          send('ack', f.seq, rinfo.address, rinfo.port);
        return;
      }
      if (last && (f.boot < last.boot || (f.boot === last.boot && f.seq <= last.seq))) return reject('stale-notice');
      notices.set(f.sender, { boot: f.boot, seq: f.seq });
      if (f.type === 'leaving') {
        left.set(f.sender, f.boot);
        leavingFrom.set(f.sender, { seq: f.seq, host: rinfo.address, port: rinfo.port, acked: false });
        watcher.watch(watchIds());
      }
      port.postMessage({ type: 'notice', kind: f.type, sender: f.sender });
      return;
    }
    const gone = left.get(f.sender);
    if (gone !== undefined) {
      // Heartbeats and acks the owner sent before its `leaving`, arriving late, say nothing about ownership any more.
      if (f.boot <= gone) return reject('after-leaving');
      left.delete(f.sender); // restarted: watched again from this frame on
      watcher.watch(watchIds());
      if (watched.has(f.sender)) port.postMessage({ type: 'recovered', owner: f.sender, ms: 0 });
    }
    act(watcher.receive(f, performance.now()));
  });
  sock.on('error', (err) => port.postMessage({ type: 'failed', message: err.message }));
  let timer: ReturnType<typeof setTimeout> | undefined;
  let statsTimer: ReturnType<typeof setInterval> | undefined;
  let next = 0;
  const tick = () => {
    if (closed) return;
    seq++;
    if (sendTo.length > 0 && (!running || running())) for (const p of sendTo) send('heartbeat', seq, p.host, p.port);
    // Judge after this loop iteration's poll phase: datagrams that arrived while the timer waited are read first.
    setImmediate(() => {
      if (!closed) act(watcher.tick(performance.now()));
    });
    const now = performance.now();
    next += cfg.intervalMs;
    if (next < now) next = now; // fell behind (stalled): no catch-up burst
    timer = setTimeout(tick, next - now);
  };
  const sendLeaving = () => {
    if (leave)
      for (const p of leave.pending.values())
        for (let i = 0; i < leave.copies; i++) send('leaving', leave.seq, p.host, p.port);
  };
  const leaveDone = () => {
    if (!leave) return;
    clearInterval(leave.resend);
    port.postMessage({ type: 'left', acked: leave.acked });
    leave = undefined; // acks still to come are stale
  };
  const postStats = () =>
    port.postMessage({
      type: 'stats',
      stats: {
        ...counters,
        watcher: { ...watcher.stats },
        silenceLimitMs: watcher.widestSilenceLimit(performance.now()),
      },
    });
  port.on('message', (m: ToThread) => {
    if (m.type === 'peers') {
      if (!leaving) sendTo = m.sendTo;
      watched = new Map(m.watch.map((w) => [w.id, { host: w.host, port: w.port }]));
      watcher.watch(watchIds());
    } else if (m.type === 'notify') {
      noticeSeq++;
      send(m.kind, noticeSeq, m.host, m.port);
    } else if (m.type === 'leave') {
      // Heartbeats stop first, then the notice goes out in copies (one sequence) back to back against loss, again every
      // two intervals to the successors that have not acknowledged it, until all have or waitMs passed.
      if (leaving) {
        port.postMessage({ type: 'left', acked: [] });
        return;
      }
      leaving = true;
      sendTo = [];
      noticeSeq++;
      const started = performance.now();
      const resend = setInterval(() => {
        if (performance.now() - started >= m.waitMs) leaveDone();
        else sendLeaving();
      }, 2 * cfg.intervalMs);
      const pending = new Map(m.to.map((p) => [p.id, { host: p.host, port: p.port }]));
      leave = { seq: noticeSeq, copies: m.copies, pending, acked: [], resend };
      if (leave.pending.size === 0) leaveDone();
      else sendLeaving();
    } else if (m.type === 'ack-leaving') {
      // The main thread handled an owner's `leaving`: acknowledge it, so the owner leaves the gossip cluster now.
      const l = leavingFrom.get(m.sender);
      if (l && !l.acked) {
        l.acked = true;
        send('ack', l.seq, l.host, l.port);
      }
    } else if (m.type === 'keys') keys = m.keys;
    else if (m.type === 'close') {
      closed = true;
      leaveDone();
      clearTimeout(timer);
      clearInterval(statsTimer);
      postStats();
      sock.close(() => {
        port.postMessage({ type: 'closed' });
        port.close();
      });
    }
  });
  // The thread's Linux id, so the caller can raise its scheduling priority (none off Linux).
  let threadId: number | undefined;
  try {
    const fs = load('node:fs') as typeof import('node:fs');
    threadId = Number(/(\d+)$/.exec(fs.readlinkSync('/proc/thread-self'))?.[1]) || undefined;
  } catch {
    threadId = undefined;
  }
  sock.bind(cfg.port, cfg.host, () => {
    port.postMessage({ type: 'ready', port: sock.address().port, threadId });
    next = performance.now();
    tick();
    statsTimer = setInterval(postStats, 250);
  });
}

/**
 * @internal The loop's entry: {@link heartbeatThreadMain} called with the module loader, the frame codec, the watcher
 * (all as source text) and, in a process of its own, the parent's liveness check (see heartbeat-runner.ts).
 */
const HEARTBEAT_MAIN_CALL = `(${heartbeatThreadMain.toString()})(load, ${writeHeartbeatFrame.toString()}, ${readHeartbeatFrame.toString()}, ${PairWatcher.toString()}, running);\n`;

function positiveInteger(field: string, value: number): number {
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(field, `must be a positive integer, got ${value}`);
  return value;
}

/**
 * The per-pair heartbeat (issue 17), run on a worker thread: sends a heartbeat every interval to the nodes given as
 * `sendTo` (the successors of this node's IPs), watches the nodes given as `watch` (the owners this node succeeds) and
 * reports an owner `lost` after k silent intervals and an unanswered direct probe, `recovered` when it is heard again.
 * It never decides membership: the caller acts on `lost` provisionally and SWIM has the last word.
 */
export class HeartbeatThread extends EventEmitter<HeartbeatEvents> {
  private snapshot: HeartbeatStats = HeartbeatThread.emptyStats();
  private readonly names = new Map<string, string>();
  private closing: Promise<void> | undefined;
  /** The result of {@link HeartbeatThread.leave}, and what resolves it. */
  private left: Promise<string[]> | undefined;
  private leaving: ((acked: string[]) => void) | undefined;

  private constructor(
    private readonly worker: HeartbeatRunner,
    /** The bound UDP port. */
    readonly port: number,
    /** The thread's Linux thread id (to raise its scheduling priority), or undefined off Linux. */
    readonly threadId: number | undefined,
  ) {
    super();
  }

  /** Counters all at zero: what {@link HeartbeatThread.stats} reports before the loop's first report (every 250 ms). */
  static emptyStats(): HeartbeatStats {
    return {
      framesSent: 0,
      bytesSent: 0,
      framesReceived: 0,
      bytesReceived: 0,
      rejected: {},
      probesAnswered: 0,
      watcher: PairWatcher.emptyStats(),
      silenceLimitMs: 0,
    };
  }

  /**
   * Starts the thread and binds its socket.
   * @throws {@link ConfigError} on bad timing options; Error when the socket cannot be bound
   */
  static start(options: HeartbeatThreadOptions): Promise<HeartbeatThread> {
    const missLimit = positiveInteger('missLimit', options.missLimit ?? 10);
    const maxMissLimit = positiveInteger('maxMissLimit', options.maxMissLimit ?? 4 * missLimit);
    if (maxMissLimit < missLimit)
      throw new ConfigError('maxMissLimit', `must be at least missLimit (${missLimit}), got ${maxMissLimit}`);
    const workerData = {
      host: options.host,
      port: options.port,
      self: heartbeatSenderId(options.name),
      boot: Date.now(),
      intervalMs: positiveInteger('intervalMs', options.intervalMs ?? 10),
      missLimit,
      maxMissLimit,
      confirmIntervals: positiveInteger('confirmIntervals', options.confirmIntervals ?? 2),
      probeCopies: positiveInteger('probeCopies', options.probeCopies ?? 3),
      keys: options.keyring?.allKeys,
    };
    const worker = startHeartbeatRunner(options.isolation ?? 'thread', HEARTBEAT_MAIN_CALL, workerData);
    return new Promise((resolve, reject) => {
      let thread: HeartbeatThread | undefined;
      worker.onMessage((message) => {
        const m = message as FromThread;
        if (m.type === 'ready') {
          thread = new HeartbeatThread(worker, m.port, m.threadId);
          resolve(thread);
        } else if (m.type === 'failed') {
          if (thread) thread.emit('error', new Error(`heartbeat thread: ${m.message}`));
          else {
            reject(new Error(`heartbeat thread: ${m.message}`));
            void worker.terminate();
          }
        } else thread?.fromThread(m);
      });
      worker.onError((err) => {
        if (thread) thread.emit('error', err);
        else reject(err);
      });
    });
  }

  private fromThread(m: FromThread): void {
    if (m.type === 'stats') this.snapshot = m.stats;
    else if (m.type === 'lost') this.emit('lost', this.names.get(m.owner) ?? m.owner, m.ms);
    else if (m.type === 'recovered') this.emit('recovered', this.names.get(m.owner) ?? m.owner, m.ms);
    else if (m.type === 'notice') {
      this.emit('notice', m.kind, this.names.get(m.sender) ?? m.sender);
      // The listeners have run (emit is synchronous): the owner may leave the gossip cluster now.
      if (m.kind === 'leaving') this.post({ type: 'ack-leaving', sender: m.sender });
    } else if (m.type === 'left') {
      this.leaving?.(m.acked.map((id) => this.names.get(id) ?? id));
      this.leaving = undefined;
    }
  }

  private remember(p: HeartbeatPeer): string {
    const id = heartbeatSenderId(p.name);
    this.names.set(id, p.name);
    return id;
  }

  /**
   * Replaces the pairs: heartbeats go to every `sendTo` node; `watch` nodes are watched (a new one only from its first
   * heartbeat on: a node that has not started sending is never declared lost).
   */
  setPeers(sendTo: readonly HeartbeatPeer[], watch: readonly HeartbeatPeer[]): void {
    for (const p of sendTo) this.remember(p);
    this.post({
      type: 'peers',
      sendTo: sendTo.map((p) => ({ host: p.host, port: p.port })),
      watch: watch.map((p) => ({ id: this.remember(p), host: p.host, port: p.port })),
    });
  }

  /** Tells a peer this node took its IPs over (`takeover`) or gave them back (`released`). */
  notify(peer: HeartbeatPeer, kind: 'takeover' | 'released'): void {
    this.remember(peer);
    this.post({ type: 'notify', kind, host: peer.host, port: peer.port });
  }

  /**
   * Graceful stop: stops the heartbeats for good (pairs set later send none) and tells each of `peers` (the successors
   * of this node's IPs) `leaving`, in `copies` datagrams back to back, again every two intervals to those that have
   * not acknowledged it. A successor's thread acknowledges once its main thread has handled the notice (the `notice`
   * listeners have returned), so a gossip leave sent after this resolves reaches it after the handover. Probes are
   * still answered until {@link close}.
   * @param peers - the successors
   * @param copies - datagrams per round
   * @param waitMs - how long to wait for the acknowledgements at most
   * @returns the peers that acknowledged, once all did or `waitMs` passed
   */
  leave(peers: readonly HeartbeatPeer[], copies = 3, waitMs = 300): Promise<string[]> {
    positiveInteger('copies', copies);
    if (this.closing) return Promise.resolve([]);
    if (this.left) return this.left;
    const to = peers.map((p) => ({ id: this.remember(p), host: p.host, port: p.port }));
    this.left = new Promise<string[]>((resolve) => {
      this.leaving = resolve;
      this.worker.onExit(() => resolve([]));
    });
    this.post({ type: 'leave', to, copies, waitMs });
    return this.left;
  }

  /** Replaces the keys (after a keyring change). */
  setKeyring(keyring: Keyring | undefined): void {
    this.post({ type: 'keys', keys: keyring?.allKeys });
  }

  /** The counters, as of the thread's last report (every 250 ms). */
  stats(): HeartbeatStats {
    return this.snapshot;
  }

  private post(m: ToThread): void {
    if (!this.closing) this.worker.postMessage(m);
  }

  /** Stops sending and watching, closes the socket and ends the thread. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(guard);
        resolve();
      };
      const guard = setTimeout(() => void this.worker.terminate().then(done, done), 2000);
      this.worker.onExit(done);
      this.worker.onMessage((m) => {
        if ((m as FromThread).type === 'closed') void this.worker.terminate().then(done, done);
      });
      this.worker.postMessage({ type: 'close' } satisfies ToThread);
    });
    return this.closing;
  }
}
