import dgram from 'node:dgram';
import net from 'node:net';
import type { Address } from './codec.js';
import { CodecError, ConfigError } from './errors.js';

/** What a transport hands to the protocol. */
export interface TransportHandlers {
  /** A datagram arrived. */
  packet(data: Uint8Array, from: Address): void;
  /** A stream request arrived (TCP push-pull); return the reply bytes, or undefined to close without reply. */
  exchange(data: Uint8Array, from: Address): Uint8Array | undefined;
}

/**
 * The network under the protocol: unreliable datagrams plus a reliable request/response exchange. Callback-based (no
 * promises) so that a virtual-time simulator can drive it synchronously.
 */
export interface Transport {
  /** The bound address (what other members use to reach this node unless `advertise` overrides it). */
  readonly address: Address;
  /** Sends one datagram, best effort. */
  send(to: Address, data: Uint8Array): void;
  /** Sends `data` over a stream, waits for one reply frame. `callback` runs exactly once. */
  exchange(
    to: Address,
    data: Uint8Array,
    timeoutMs: number,
    callback: (error: Error | undefined, reply?: Uint8Array) => void,
  ): void;
  /** Installs the receive handlers (once). */
  listen(handlers: TransportHandlers): void;
  /** Largest request frame this transport's server reads (default: unlimited); push-pull requests are capped to it. */
  readonly maxRequestBytes?: number;
  /** How it delimits stream messages (must be the membership's wire's; absent: the wire's framing is assumed). */
  readonly framing?: StreamFraming;
  /** Adopt the membership wire's stream framing (called by Membership before it starts; transports that can). */
  useFraming?(framing: StreamFraming): void;
  /** Stops receiving and releases sockets. */
  close(): Promise<void>;
}

/** Largest TCP reply frame read from a member this node connected to (a push-pull of ~100k members). */
export const MAX_FRAME = 8 << 20;

/**
 * Largest TCP request frame a server reads from a connection it did not open, before anything is authenticated: a
 * push-pull request is capped to fit (the requester's own entry first), the full state flows back in the reply.
 */
export const MAX_REQUEST_FRAME = 64 << 10;

/** Why {@link UdpTransport} dropped an inbound TCP connection. */
export type TransportRejection = 'oversize' | 'connection-limit' | 'source-limit' | 'deadline' | 'malformed';

/** Options of {@link UdpTransport.bind}. */
export interface UdpTransportOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port for UDP and TCP (default 7946; 0 picks one free for both). */
  port?: number;
  /** Largest inbound request frame (default {@link MAX_REQUEST_FRAME}, 64 KiB): a longer announced length closes at once. */
  maxRequestBytes?: number;
  /** Largest reply frame read on a connection this node opened (default {@link MAX_FRAME}, 8 MiB). */
  maxReplyBytes?: number;
  /** Most inbound TCP connections open at once (default 64); more are closed on accept. */
  maxConnections?: number;
  /** Most inbound TCP connections open at once from one source address (default 8). */
  maxConnectionsPerSource?: number;
  /** Absolute lifetime of an inbound TCP connection, however it trickles (default 10 000 ms). */
  connectionDeadlineMs?: number;
  /** Called for every dropped inbound connection (counted in `stats` as well). */
  onReject?: (reason: TransportRejection, from: Address) => void;
  /**
   * How a stream message is delimited. Default: the membership's wire's (a Membership sets it on its transport), else
   * {@link LENGTH_PREFIX_FRAMING}.
   */
  framing?: StreamFraming;
}

/**
 * How one message is delimited on a TCP stream. `measure` looks at the bytes received so far: undefined while more are
 * needed, else where the message lies in them; it throws when they cannot be a message (the connection is closed).
 */
export interface StreamFraming {
  /** The bytes to write for `data`. */
  encode(data: Uint8Array): Uint8Array;
  /**
   * Where the message is in `buf`; when incomplete, undefined or `{ need }` (the total bytes needed, when known, so the
   * reader waits for them without measuring again). `limit` bounds the message size: throws above it.
   */
  measure(buf: Uint8Array, limit: number): { start: number; end: number } | { need: number } | undefined;
  /**
   * Set on a stricter variant of another framing (memberlist's for a keyed member refuses plaintext streams): a
   * transport bound with `base` adopts this one.
   */
  readonly base?: StreamFraming;
}

/** Ingot's own stream framing: `[u32 length][bytes]`. */
export const LENGTH_PREFIX_FRAMING: StreamFraming = {
  encode: frame,
  measure(buf, limit) {
    if (buf.length < 4) return undefined;
    const need = new DataView(buf.buffer, buf.byteOffset, 4).getUint32(0);
    if (need > limit) throw new OversizeFrame(`frame of ${need} bytes exceeds ${limit}`);
    return buf.length >= 4 + need ? { start: 4, end: 4 + need } : { need: 4 + need };
  },
};

/** Counters of a {@link UdpTransport}: inbound TCP connections dropped, by reason. */
export interface TransportStats {
  /** Announced a frame longer than the limit. */
  oversize: number;
  /** Refused: `maxConnections` already open. */
  connectionLimit: number;
  /** Refused: `maxConnectionsPerSource` already open from that address. */
  sourceLimit: number;
  /** Closed at the connection deadline before a full frame arrived. */
  deadline: number;
  /** Closed at once: the bytes cannot begin a message of the wire (e.g. a plaintext stream to a keyed member). */
  malformed: number;
}

function frame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(data, 4);
  return out;
}

/** Error raised when a peer announces (or sends) a frame longer than the limit. */
export class OversizeFrame extends Error {}

/**
 * Reads one framed message from a socket, refusing it as soon as it is known to exceed `limit` (the length prefix, or
 * the bytes so far), so at most one socket chunk beyond the limit is ever buffered.
 */
function readFrame(
  sock: net.Socket,
  limit: number,
  onFrame: (err: Error | undefined, body?: Uint8Array) => void,
  framing: StreamFraming = LENGTH_PREFIX_FRAMING,
): void {
  const chunks: Buffer[] = [];
  let have = 0;
  let need = 0;
  let done = false;
  const finish = (err: Error | undefined, body?: Uint8Array) => {
    if (done) return;
    done = true;
    sock.removeListener('data', onData);
    onFrame(err, body);
  };
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    have += chunk.length;
    if (have < need) return;
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, have);
    chunks.length = 0;
    chunks.push(all);
    let at: ReturnType<StreamFraming['measure']>;
    try {
      at = framing.measure(new Uint8Array(all.buffer, all.byteOffset, all.length), limit);
      if (!(at && 'end' in at) && have > limit + 512) {
        throw new OversizeFrame(`more than ${limit} bytes without a whole message`);
      }
    } catch (e) {
      chunks.length = 0;
      finish(e instanceof Error ? e : new Error(String(e)));
      return;
    }
    if (at && 'end' in at) {
      chunks.length = 0;
      finish(undefined, new Uint8Array(all.subarray(at.start, at.end)));
    } else if (at) need = at.need;
  };
  sock.on('data', onData);
  sock.once('end', () => finish(new Error('stream closed before a full frame')));
  sock.once('error', (e) => finish(e));
}

/**
 * The real transport: a UDP socket (node:dgram) for gossip and probes and a TCP server (node:net) on the same port for
 * push-pull. Create it with {@link UdpTransport.bind}.
 */
export class UdpTransport implements Transport {
  /** Inbound TCP connections dropped, by reason (live object). */
  readonly stats: TransportStats = { oversize: 0, connectionLimit: 0, sourceLimit: 0, deadline: 0, malformed: 0 };
  /** Largest request frame a server of this transport reads (members cap their push-pull requests to it). */
  readonly maxRequestBytes: number;
  private readonly maxReplyBytes: number;
  private readonly maxConnections: number;
  private readonly maxPerSource: number;
  private readonly deadlineMs: number;
  private readonly onReject: UdpTransportOptions['onReject'];
  /** How stream messages are delimited ({@link UdpTransportOptions.framing}, or what a Membership set). */
  framing: StreamFraming;
  private readonly framingFixed: boolean;
  private handlers: TransportHandlers | undefined;
  private readonly sockets = new Set<net.Socket>();
  private readonly inbound = new Set<net.Socket>();
  private readonly perSource = new Map<string, number>();
  private closed = false;

  private constructor(
    readonly address: Address,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    options: UdpTransportOptions,
  ) {
    this.maxRequestBytes = options.maxRequestBytes ?? MAX_REQUEST_FRAME;
    this.maxReplyBytes = options.maxReplyBytes ?? MAX_FRAME;
    this.maxConnections = options.maxConnections ?? 64;
    this.maxPerSource = options.maxConnectionsPerSource ?? 8;
    this.deadlineMs = options.connectionDeadlineMs ?? 10_000;
    this.onReject = options.onReject;
    this.framing = options.framing ?? LENGTH_PREFIX_FRAMING;
    this.framingFixed = options.framing !== undefined;
    udp.on('message', (msg, rinfo) => {
      if (this.closed || !this.handlers) return;
      this.handlers.packet(new Uint8Array(msg.buffer, msg.byteOffset, msg.length), {
        host: rinfo.address,
        port: rinfo.port,
      });
    });
    udp.on('error', () => {
      // ICMP errors and the like: UDP is best effort
    });
    tcp.on('connection', (sock) => this.serve(sock));
    tcp.on('error', () => {});
  }

  /**
   * Binds UDP and TCP on the same host and port. Port 0 picks a free port that is free for both.
   * @param options - `host` (default 127.0.0.1), `port` (default 7946) and the inbound TCP limits
   * @throws {@link ConfigError} on a limit that is not a positive integer
   */
  static async bind(options: UdpTransportOptions = {}): Promise<UdpTransport> {
    for (const k of [
      'maxRequestBytes',
      'maxReplyBytes',
      'maxConnections',
      'maxConnectionsPerSource',
      'connectionDeadlineMs',
    ] as const) {
      const v = options[k];
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) throw new ConfigError(k, 'must be a positive integer');
    }
    const host = options.host ?? '127.0.0.1';
    const wanted = options.port ?? 7946;
    let lastError: unknown;
    for (let attempt = 0; attempt < (wanted === 0 ? 20 : 1); attempt++) {
      const udp = dgram.createSocket({ type: net.isIPv6(host) ? 'udp6' : 'udp4' });
      try {
        await new Promise<void>((resolve, reject) => {
          udp.once('error', reject);
          udp.bind(wanted, host, () => {
            udp.removeListener('error', reject);
            resolve();
          });
        });
        const port = udp.address().port;
        const tcp = net.createServer();
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, host, () => {
            tcp.removeListener('error', reject);
            resolve();
          });
        });
        return new UdpTransport({ host, port }, udp, tcp, options);
      } catch (e) {
        lastError = e;
        udp.close();
      }
    }
    throw lastError;
  }

  private reject(reason: TransportRejection, from: Address): void {
    if (reason === 'oversize') this.stats.oversize++;
    else if (reason === 'connection-limit') this.stats.connectionLimit++;
    else if (reason === 'source-limit') this.stats.sourceLimit++;
    else if (reason === 'malformed') this.stats.malformed++;
    else this.stats.deadline++;
    this.onReject?.(reason, from);
  }

  private serve(sock: net.Socket): void {
    sock.on('error', () => {});
    const from = { host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
    const fromSource = this.perSource.get(from.host) ?? 0;
    if (this.closed || this.inbound.size >= this.maxConnections || fromSource >= this.maxPerSource) {
      sock.destroy();
      if (!this.closed) this.reject(fromSource >= this.maxPerSource ? 'source-limit' : 'connection-limit', from);
      return;
    }
    this.sockets.add(sock);
    this.inbound.add(sock);
    this.perSource.set(from.host, fromSource + 1);
    let answered = false;
    const deadline = setTimeout(() => {
      if (!answered) this.reject('deadline', from);
      sock.destroy();
    }, this.deadlineMs);
    sock.on('close', () => {
      clearTimeout(deadline);
      this.sockets.delete(sock);
      this.inbound.delete(sock);
      const left = (this.perSource.get(from.host) ?? 1) - 1;
      if (left > 0) this.perSource.set(from.host, left);
      else this.perSource.delete(from.host);
    });
    readFrame(
      sock,
      this.maxRequestBytes,
      (err, body) => {
        answered = true;
        if (err instanceof OversizeFrame || (err instanceof CodecError && err.code === 'too-large'))
          this.reject('oversize', from);
        else if (err instanceof CodecError) this.reject('malformed', from);
        if (err || !body || !this.handlers || this.closed) {
          sock.destroy();
          return;
        }
        let reply: Uint8Array | undefined;
        try {
          reply = this.handlers.exchange(body, from);
        } catch {
          reply = undefined;
        }
        if (reply) sock.end(this.framing.encode(reply));
        else sock.destroy();
      },
      this.framing,
    );
  }

  /** Sends one UDP datagram (errors such as ICMP unreachable are ignored: UDP is best effort). */
  send(to: Address, data: Uint8Array): void {
    if (this.closed) return;
    this.udp.send(data, to.port, to.host, () => {});
  }

  /** Connects over TCP, sends one frame, waits for one reply frame; fails on error, close or `timeoutMs`. */
  exchange(
    to: Address,
    data: Uint8Array,
    timeoutMs: number,
    callback: (error: Error | undefined, reply?: Uint8Array) => void,
  ): void {
    if (this.closed) {
      callback(new Error('transport closed'));
      return;
    }
    let done = false;
    const sock = net.connect({ host: to.host, port: to.port });
    this.sockets.add(sock);
    const finish = (err: Error | undefined, reply?: Uint8Array) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      this.sockets.delete(sock);
      callback(err, reply);
    };
    const timer = setTimeout(() => finish(new Error(`exchange with ${to.host}:${to.port} timed out`)), timeoutMs);
    sock.on('error', (e) => finish(e));
    sock.on('connect', () => sock.write(this.framing.encode(data)));
    readFrame(sock, this.maxReplyBytes, finish, this.framing);
  }

  /**
   * Adopts the membership wire's stream framing, unless one was given to {@link UdpTransport.bind}.
   * @throws {@link ConfigError} when `bind` fixed another framing
   */
  useFraming(framing: StreamFraming): void {
    if (this.framingFixed && framing !== this.framing && framing.base !== this.framing) {
      throw new ConfigError('framing', "the transport was bound with another wire's stream framing");
    }
    this.framing = framing;
  }

  /** Installs the receive handlers. */
  listen(handlers: TransportHandlers): void {
    this.handlers = handlers;
  }

  /** Closes both sockets and any open TCP connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await Promise.all([
      new Promise<void>((r) => this.udp.close(() => r())),
      new Promise<void>((r) => this.tcp.close(() => r())),
    ]);
  }
}
