import { parseMac } from '../codec/address.js';
import { type AnswerThreadSocket, answerThread, type answerThreadStatus } from './answer-thread.js';
import type { AnswerOffload, FrameHandler, FrameTransport, TransportStats } from './frame-transport.js';
import { TransportError } from './frame-transport.js';
import {
  dupCloexec,
  errno,
  errnoName,
  lib,
  type OpenPacketSocketOptions,
  openPacketSocket,
  type PacketSocket,
  packetMembership,
  packetStatistics,
  RecvBatch,
} from './linux-packet-socket.js';
import { pollReactor } from './poll-reactor.js';

/**
 * How a packet transport learns that frames are waiting.
 *
 * - `uv-stream`: the socket is handed to libuv as a stream handle, so readiness comes from the event loop's own
 *   epoll and libuv reads up to 32 frames per wake-up on the main thread: no thread hop at all. Uses Node's
 *   `process.binding('pipe_wrap')` (deprecated but present through Node 24).
 * - `poll-worker`: a koffi async `poll()` on one libuv worker thread for all transports; the main thread then drains
 *   with non-blocking `recv` until EAGAIN. Public APIs only; costs a thread hop per wake-up.
 * - `thread`: one process-wide answer thread (a `worker_threads` Worker) blocks in `poll()` on every such socket
 *   and answers ARP requests and Neighbor Solicitations for the addresses registered in the transport's
 *   {@link FrameTransport.answerOffload} itself, the moment they arrive: no event loop, so replies never wait behind
 *   timers, other I/O or garbage collection on the main thread. Every other frame reaches the handler on the event
 *   loop, batched per wake-up.
 * - `auto` (default): `thread`; `uv-stream` (or `poll-worker`) if the thread cannot be created.
 *
 * A transport in mode `thread` whose thread fails to start or dies moves to `uv-stream` (or `poll-worker`) by itself
 * and reports it through `onError` (see {@link answerThreadStatus}).
 */
export type ReceiveMode = 'auto' | 'uv-stream' | 'poll-worker' | 'thread';

/** The receive strategy a transport runs with. */
export type ActiveReceiveMode = Exclude<ReceiveMode, 'auto'>;

/** Options of {@link createPacketTransport}. */
export interface PacketTransportOptions {
  /** Receive strategy (default `auto`). */
  receiveMode?: ReceiveMode;
  /**
   * Socket receive buffer to request, default 32 MiB: room for about half a second of a 50,000/s ARP flood while the
   * process waits for a CPU. SO_RCVBUFFORCE needs CAP_NET_ADMIN; otherwise the size is capped by net.core.rmem_max.
   * Memory is only used while frames are queued.
   */
  receiveBufferBytes?: number;
  /**
   * Classic BPF filter; default: ARP and ICMPv6 Neighbor Solicitations only, never our own outgoing frames. `null`
   * receives every frame on the interface (e.g. for a capture or a client that wants NAs and replies).
   */
  filter?: OpenPacketSocketOptions['filter'];
  /**
   * Largest frame delivered whole, in bytes; longer frames are truncated to it (receive slots are preallocated).
   * Default 2048 with the default filter (ARP and NS are far smaller), 9216 (jumbo) with a custom filter or none.
   * The answer thread (mode `thread`) always reads up to 9216.
   */
  maxFrameBytes?: number;
}

const MSG_DONTWAIT = 0x40;
/** recvmmsg batches per readiness event before yielding to the event loop (64 frames each). */
const MAX_BATCHES = 8;

interface StreamBinding {
  Pipe: new (
    type: number,
  ) => {
    open(fd: number): number;
    readStart(): number;
    readStop(): number;
    close(cb?: () => void): void;
    onread: (ab: ArrayBuffer | undefined) => void;
  };
  state: Int32Array;
  kReadBytesOrError: number;
  kArrayBufferOffset: number;
  SOCKET: number;
}

let streamBinding: StreamBinding | null | undefined;

function uvStream(): StreamBinding | null {
  if (streamBinding !== undefined) return streamBinding;
  try {
    const binding = (process as unknown as { binding(name: string): Record<string, unknown> }).binding;
    const pw = binding('pipe_wrap') as { Pipe: StreamBinding['Pipe']; constants: { SOCKET: number } };
    const sw = binding('stream_wrap') as {
      streamBaseState: Int32Array;
      kReadBytesOrError: number;
      kArrayBufferOffset: number;
    };
    if (typeof pw.Pipe !== 'function' || !sw.streamBaseState) throw new Error('missing');
    streamBinding = {
      Pipe: pw.Pipe,
      state: sw.streamBaseState,
      kReadBytesOrError: sw.kReadBytesOrError,
      kArrayBufferOffset: sw.kArrayBufferOffset,
      SOCKET: pw.constants.SOCKET,
    };
  } catch {
    streamBinding = null;
  }
  return streamBinding;
}

class PacketTransport implements FrameTransport {
  readonly name: string;
  readonly mac: string;
  mode: ActiveReceiveMode;
  readonly answerOffload: AnswerOffload | undefined;
  closed = false;
  private readonly sock: PacketSocket;
  private handler: FrameHandler | undefined;
  private readonly groups = new Map<string, number>();
  private readonly counters: TransportStats = { framesReceived: 0, framesSent: 0, sendErrors: 0, kernelDrops: 0 };
  /** recvmmsg slots of the event-loop receive modes (the answer thread reads with its own buffer). */
  private batch: RecvBatch | undefined;
  private readonly maxFrameBytes: number;
  private stream: InstanceType<StreamBinding['Pipe']> | undefined;
  private threaded: AnswerThreadSocket | undefined;
  private closing: Promise<void> | undefined;
  private lastRestart = Number.NEGATIVE_INFINITY;
  /** Error callback for receive errors (e.g. ENETDOWN); set by the owner. */
  onError: ((err: TransportError) => void) | undefined;

  constructor(ifname: string, options: PacketTransportOptions) {
    this.name = ifname;
    const sockOptions: OpenPacketSocketOptions = {};
    if (options.filter !== undefined) sockOptions.filter = options.filter;
    if (options.receiveBufferBytes !== undefined) sockOptions.receiveBufferBytes = options.receiveBufferBytes;
    this.sock = openPacketSocket(ifname, sockOptions);
    this.mac = this.sock.mac;
    this.maxFrameBytes = options.maxFrameBytes ?? (options.filter === undefined ? 2048 : 9216);
    const want = options.receiveMode ?? 'auto';
    if (want === 'thread' || want === 'auto') {
      try {
        this.threaded = answerThread().open(this.sock.fd, parseMac(this.mac), {
          frames: (frames) => {
            for (const f of frames) this.deliver(f);
          },
          error: (e) => this.onError?.(e),
          died: (reason) => this.fallBack(reason),
        });
        this.mode = 'thread';
        this.answerOffload = this.threaded.offload;
        return;
      } catch (e) {
        if (want === 'thread') {
          lib().close(this.sock.fd);
          throw e;
        }
      }
    }
    this.answerOffload = undefined;
    const uv = want === 'poll-worker' ? null : uvStream();
    if (want === 'uv-stream' && !uv) {
      lib().close(this.sock.fd);
      throw new TransportError('receive', 'ENOTSUP', 95, 'uv-stream receive mode unavailable in this Node');
    }
    this.batch = new RecvBatch(64, this.maxFrameBytes);
    if (uv) {
      this.mode = 'uv-stream';
      try {
        this.startStream(uv, this.sock.fd);
      } catch (e) {
        this.batch.release();
        throw e;
      }
    } else {
      this.mode = 'poll-worker';
      pollReactor.add(this.sock.fd, () => this.drain());
    }
  }

  /**
   * The answer thread failed to start or died: receive on the event loop from now on (`uv-stream`, else
   * `poll-worker`), where the responder answers every address, and report it through {@link onError} (`EFAULT`,
   * syscall `answer-thread`). Frames queued meanwhile wait in the socket buffer.
   */
  private fallBack(reason: string): void {
    this.threaded = undefined;
    if (this.closed) return; // close() owns the descriptor
    this.batch = new RecvBatch(64, this.maxFrameBytes);
    const uv = uvStream();
    try {
      if (uv) {
        this.mode = 'uv-stream';
        this.startStream(uv, this.sock.fd);
      } else {
        this.mode = 'poll-worker';
        pollReactor.add(this.sock.fd, () => this.drain());
      }
    } catch (e) {
      this.onError?.(e as TransportError);
    }
    this.onError?.(
      new TransportError('answer-thread', 'EFAULT', 14, `${reason}; answering on the event loop (${this.mode})`),
    );
  }

  /** Hands `fd` to libuv as a stream and starts reading. */
  private startStream(uv: StreamBinding, fd: number): void {
    const h = new uv.Pipe(uv.SOCKET);
    const rc = h.open(fd);
    if (rc !== 0) {
      lib().close(fd);
      throw new TransportError('uv_pipe_open', errnoName(-rc), -rc, this.name);
    }
    h.onread = (ab) => {
      const n = uv.state[uv.kReadBytesOrError]!;
      if (n > 0 && ab) {
        this.deliver(new Uint8Array(ab, uv.state[uv.kArrayBufferOffset]!, n));
        // libuv read one frame (with a 64 KiB allocation); take whatever else is queued in recvmmsg batches.
        this.drain();
      } else if (n < 0 && h === this.stream) this.restartStream(uv, h, -n);
    };
    h.readStart();
    this.stream = h;
  }

  /**
   * After a read error (ENETDOWN when the link went down: the socket stays bound and works again once the link is
   * up), libuv marks the stream unreadable for good. Move the socket to a fresh handle on a duplicate descriptor (same
   * socket, memberships kept) and close the old one.
   */
  private restartStream(uv: StreamBinding, old: InstanceType<StreamBinding['Pipe']>, err: number): void {
    this.onError?.(new TransportError('read', errnoName(err), err, this.name));
    if (this.closed) return;
    let fd: number;
    try {
      fd = dupCloexec(this.sock.fd);
    } catch (e) {
      this.onError?.(e as TransportError);
      return;
    }
    old.readStop();
    old.close();
    this.sock.fd = fd;
    this.stream = undefined;
    // A persistent error must not spin: restart at once the first time, then at most every 100 ms.
    const now = performance.now();
    const delay = now - this.lastRestart < 100 ? 100 : 0;
    this.lastRestart = now;
    const start = () => {
      if (this.closed) return;
      try {
        this.startStream(uv, fd);
      } catch (e) {
        this.onError?.(e as TransportError);
      }
    };
    if (delay) setTimeout(start, delay);
    else start();
  }

  private deliver(frame: Uint8Array): void {
    if (!this.handler || this.closed) return;
    this.counters.framesReceived++;
    this.handler(frame);
  }

  /** Reads queued frames in recvmmsg batches until the socket is empty (at most {@link MAX_BATCHES} batches). */
  private drain(): void {
    const batch = this.batch;
    if (!batch) return;
    for (let round = 0; round < MAX_BATCHES && !this.closed; round++) {
      const n = batch.receive(this.sock.fd);
      if (n < 0) {
        // In uv-stream mode libuv's own next read reports the error (and the stream restarts); report it here otherwise.
        if (this.mode === 'poll-worker') this.onError?.(new TransportError('recvmmsg', errnoName(-n), -n, this.name));
        return;
      }
      for (let i = 0; i < n && !this.closed; i++) this.deliver(batch.frame(i));
      if (n < batch.slots) return;
    }
  }

  send(frame: Uint8Array): void {
    if (this.closed) {
      this.counters.sendErrors++;
      throw new TransportError('send', 'ECLOSED', 0, 'transport closed');
    }
    const n = lib().send(this.sock.fd, frame, frame.length, MSG_DONTWAIT);
    if (n < 0) {
      this.counters.sendErrors++;
      const e = errno();
      throw new TransportError('send', errnoName(e), e, this.name);
    }
    this.counters.framesSent++;
  }

  receive(handler: FrameHandler): void {
    this.handler = handler;
  }

  addMembership(mac: string): void {
    const m = mac.toLowerCase();
    const n = this.groups.get(m) ?? 0;
    if (n === 0 && !this.closed) packetMembership(this.sock, m, true);
    this.groups.set(m, n + 1);
  }

  dropMembership(mac: string): void {
    const m = mac.toLowerCase();
    const n = this.groups.get(m) ?? 0;
    if (n <= 0) return;
    if (n === 1) {
      this.groups.delete(m);
      if (!this.closed) packetMembership(this.sock, m, false);
    } else this.groups.set(m, n - 1);
  }

  stats(): TransportStats {
    if (!this.closed) this.counters.kernelDrops += packetStatistics(this.sock.fd)[1];
    const out = { ...this.counters };
    if (this.answerOffload) {
      const t = this.answerOffload.totals();
      out.framesReceived += t.answered;
      out.framesSent += t.sent;
      out.sendErrors += t.sendErrors;
      out.kernelDrops += t.dropped;
    }
    return out;
  }

  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    const fd = this.sock.fd;
    if (this.threaded) {
      this.closing = this.threaded.close().then(() => {
        lib().close(fd);
      });
    } else if (this.stream) {
      const h = this.stream;
      h.readStop();
      this.closing = new Promise((resolve) => h.close(() => resolve()));
    } else if (this.mode === 'uv-stream') {
      lib().close(fd); // between a read error and the restart of the stream
      this.closing = Promise.resolve();
    } else {
      this.closing = pollReactor.remove(fd).then(() => {
        lib().close(fd);
      });
    }
    this.closing = this.closing.then(() => this.batch?.release());
    return this.closing;
  }
}

/**
 * Opens a Linux AF_PACKET transport on `ifname`: a non-blocking raw socket bound to the interface, filtered in the
 * kernel (classic BPF) to ARP and ICMPv6 Neighbor Solicitations, receiving without ever blocking the event loop.
 * Needs CAP_NET_RAW (or root) in the interface's network namespace.
 * @throws {@link TransportError} e.g. `ENODEV` (no such interface), `EPERM` (missing CAP_NET_RAW).
 * @example
 * ```ts
 * const t = createPacketTransport('eth0');
 * t.receive((frame) => console.log(decodeFrame(frame)));
 * // later: await t.close();
 * ```
 */
export function createPacketTransport(
  ifname: string,
  options: PacketTransportOptions = {},
): FrameTransport & { readonly mode: ActiveReceiveMode } {
  return new PacketTransport(ifname, options);
}
