/**
 * Called for every received frame. The bytes are a view that is only valid during the call (transports reuse their
 * receive buffers): copy what you keep.
 */
export type FrameHandler = (frame: Uint8Array) => void;

/** Receive-side counters of a transport. */
export interface TransportStats {
  /** Frames handed to the handler. */
  framesReceived: number;
  /** Frames sent successfully. */
  framesSent: number;
  /** Sends that failed (e.g. ENOBUFS, interface down). */
  sendErrors: number;
  /**
   * Frames the kernel dropped because the socket buffer was full (AF_PACKET `PACKET_STATISTICS`), if known; in
   * receive mode `thread` also the frames the answer thread dropped because the event loop was far behind.
   */
  kernelDrops: number;
}

/** Counts of requests answered off the event loop. */
export interface AnswerOffloadCounts {
  /** ARP requests and Neighbor Solicitations the transport answered itself. */
  answered: number;
  /** Replies it sent. */
  sent: number;
  /** Replies it could not send. */
  sendErrors: number;
  /** Frames for other addresses it dropped because the event loop was far behind (a flood); counted, never queued. */
  dropped: number;
}

/**
 * Optional capability of a transport: answering ARP requests (IPv4) and Neighbor Solicitations (IPv6) for given
 * addresses itself, off the event loop (receive mode `thread` of {@link createPacketTransport}), exactly as
 * {@link InterfaceResponder} would. Frames it answers never reach the frame handler; the responder registers its
 * addresses here and folds the counts into its own counters.
 */
export interface AnswerOffload {
  /**
   * Answers for `ip` (canonical text, IPv4 or IPv6) from now on; for IPv6, advertisements carry `naSource` as their
   * IPv6 source (default: `ip` itself). False when the table is full (answer it yourself).
   */
  add(ip: string, naSource?: string): boolean;
  /** Stops answering for `ip`. */
  remove(ip: string): void;
  /** Calls `each` with the requests answered and replies sent per address since the last call; returns the totals since then. */
  collect(each: (ip: string, requests: number, responses: number) => void): AnswerOffloadCounts;
  /** Totals since the transport opened. */
  totals(): AnswerOffloadCounts;
}

/**
 * A layer-2 frame transport bound to one interface: the seam between the responder and the wire. Implemented by
 * {@link createPacketTransport} (Linux AF_PACKET) and {@link MemorySegment.attach} (in-memory, for tests).
 */
export interface FrameTransport {
  /** Interface name (e.g. `eth0`). */
  readonly name: string;
  /** MAC of the interface, lowercase `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  /** True once {@link FrameTransport.close} was called. */
  readonly closed: boolean;
  /**
   * Sends one complete Ethernet frame (destination MAC first, no FCS). Never blocks.
   * @throws {@link TransportError} when the frame could not be queued (the caller counts it; nothing is retried).
   */
  send(frame: Uint8Array): void;
  /** Sets the handler for received frames (replacing any previous one); frames arriving before this are dropped. */
  receive(handler: FrameHandler): void;
  /** Asks the interface to accept frames sent to a multicast MAC (e.g. a solicited-node group). Reference counted. */
  addMembership(mac: string): void;
  /** Drops one reference taken by {@link FrameTransport.addMembership}. */
  dropMembership(mac: string): void;
  /** Counters. */
  stats(): TransportStats;
  /** Called on receive-side errors (e.g. `ENETDOWN` while the link is down); receiving continues. */
  onError?: ((err: TransportError) => void) | undefined;
  /** Present when the transport can answer ARP requests and Neighbor Solicitations itself, off the event loop. */
  readonly answerOffload?: AnswerOffload | undefined;
  /** Stops receiving and releases the socket. Idempotent. */
  close(): Promise<void>;
}

/**
 * A failure of a transport operation, carrying the system call and errno name (e.g. `EPERM` without CAP_NET_RAW).
 * @example `try { createPacketTransport('nope0'); } catch (e) { if (e instanceof TransportError) console.log(e.code); } // ENODEV`
 */
export class TransportError extends Error {
  /** The failing operation, e.g. `socket`, `bind`, `send`. */
  readonly syscall: string;
  /** errno name such as `EPERM`, `ENODEV`, `ENOBUFS`, or `ECLOSED` for use after close. */
  readonly code: string;
  /** Numeric errno (0 when not from a system call). */
  readonly errno: number;

  constructor(syscall: string, code: string, errno: number, detail?: string) {
    super(`${syscall}: ${code}${detail ? ` (${detail})` : ''}`);
    this.name = 'TransportError';
    this.syscall = syscall;
    this.code = code;
    this.errno = errno;
  }
}
