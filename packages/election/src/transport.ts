import dgram from 'node:dgram';
import net from 'node:net';
import type { Address } from './codec.js';

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
  /** Stops receiving and releases sockets. */
  close(): Promise<void>;
}

/** Largest TCP frame accepted (a push-pull of ~100k members). */
export const MAX_FRAME = 8 << 20;

function frame(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + data.length);
  new DataView(out.buffer).setUint32(0, data.length);
  out.set(data, 4);
  return out;
}

/** Reads one `[u32 length][bytes]` frame from a socket. */
function readFrame(sock: net.Socket, onFrame: (err: Error | undefined, body?: Uint8Array) => void): void {
  let chunks: Buffer[] = [];
  let have = 0;
  let need = -1;
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
    if (need < 0 && have >= 4) {
      const all = Buffer.concat(chunks);
      chunks = [all];
      need = all.readUInt32BE(0);
      if (need > MAX_FRAME) {
        finish(new Error(`frame of ${need} bytes exceeds ${MAX_FRAME}`));
        return;
      }
    }
    if (need >= 0 && have >= 4 + need) {
      const all = Buffer.concat(chunks);
      finish(undefined, new Uint8Array(all.subarray(4, 4 + need)));
    }
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
  private handlers: TransportHandlers | undefined;
  private readonly sockets = new Set<net.Socket>();
  private closed = false;

  private constructor(
    readonly address: Address,
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
  ) {
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
   * @param options - `host` (default 127.0.0.1) and `port` (default 7946)
   */
  static async bind(options: { host?: string; port?: number } = {}): Promise<UdpTransport> {
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
        return new UdpTransport({ host, port }, udp, tcp);
      } catch (e) {
        lastError = e;
        udp.close();
      }
    }
    throw lastError;
  }

  private serve(sock: net.Socket): void {
    this.sockets.add(sock);
    sock.on('close', () => this.sockets.delete(sock));
    sock.setTimeout(10_000, () => sock.destroy());
    sock.on('error', () => {});
    readFrame(sock, (err, body) => {
      if (err || !body || !this.handlers || this.closed) {
        sock.destroy();
        return;
      }
      const from = { host: sock.remoteAddress ?? '', port: sock.remotePort ?? 0 };
      let reply: Uint8Array | undefined;
      try {
        reply = this.handlers.exchange(body, from);
      } catch {
        reply = undefined;
      }
      if (reply) sock.end(frame(reply));
      else sock.destroy();
    });
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
    sock.on('connect', () => sock.write(frame(data)));
    readFrame(sock, finish);
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
