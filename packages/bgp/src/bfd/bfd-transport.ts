/**
 * BFD over UDP (RFC 5881 single hop, RFC 5883 multihop): one listener per family and port, a sending socket per session
 * from a source port in 49152–65535, packets demultiplexed to sessions by Your Discriminator or, while that is zero, by
 * the source address. Sockets are made with the package's koffi socket helpers so TTL 255 and the minimum received TTL
 * (GTSM, RFC 5082) are set before the first packet: single hop sends and requires TTL 255 (RFC 5881 §5), multihop
 * sends 255 and requires the peer's `minimumTtl` (the listener uses the lowest among its multihop peers).
 * @module
 */

import dgram from 'node:dgram';
import { EventEmitter } from 'eventemitter3';
import type { Clock, RandomSource } from '../speaker/clock.js';
import { createUdpSocketFd, familyOf, setUdpMinTtl } from '../speaker/platform/linux-sockopts.js';
import { BFD_ECHO_PORT, BFD_MULTIHOP_PORT, BFD_SINGLE_HOP_PORT, decodeBfdControl, isBfdError } from './bfd-codec.js';
import { decodeBfdEcho } from './bfd-echo-codec.js';
import { BfdEchoSender, echoPrerequisites, interfaceOf, localAddressToward } from './bfd-echo-socket.js';
import { BfdSession } from './bfd-session.js';

/** One BFD peer: where it is and the session's timers (MetalLB's BFDProfile fields, milliseconds). */
export interface BfdPeerOptions {
  /** The peer's address. */
  address: string;
  /** Our source address (multihop needs it; single hop defaults to the kernel's choice). */
  localAddress?: string;
  /** RFC 5883 multihop (UDP 4784) instead of single hop (UDP 3784). Default false. */
  multihop?: boolean;
  /** Multihop only: the lowest TTL accepted from the peer (1..254). Default 254. */
  minimumTtl?: number;
  /** Desired Min TX Interval once Up, ms. Default 300. */
  transmitInterval?: number;
  /** Required Min RX Interval, ms. Default 300. */
  receiveInterval?: number;
  /** Detect Mult. Default 3. */
  detectMultiplier?: number;
  /** Passive role: wait for the peer to speak first. Default false. */
  passive?: boolean;
  /** Bind the session's sockets (and its listener) to this device, e.g. a VRF (SO_BINDTODEVICE). */
  device?: string;
  /**
   * Run the Echo function (RFC 5880 §6.4, RFC 5881 §4) at this interval, ms (10..60000): IPv4 single hop only, not
   * with `device`. It needs CAP_NET_RAW, `net.ipv4.ip_forward=1` and `accept_local=1` on the interface; without them
   * the session runs without Echo and `error` says what is missing.
   */
  echoInterval?: number;
}

/** Options of a {@link BfdTransport}. */
export interface BfdTransportOptions {
  /** Time source for the sessions. */
  clock?: Clock;
  /** Jitter and discriminator source. Default Math.random. */
  random?: RandomSource;
  /** Listen on these addresses instead of the wildcard of each family (tests). */
  listenAddresses?: { 4?: string; 6?: string };
  /** Ports to listen on (tests). Default 3784 / 4784. */
  listenPorts?: { singleHop?: number; multihop?: number };
  /** Ports to send to (tests). Default 3784 / 4784. */
  peerPorts?: { singleHop?: number; multihop?: number };
}

/** Events of a {@link BfdTransport}. */
export interface BfdTransportEvents {
  /** A socket could not be made or failed; the peer's session stays down. */
  error: (error: Error, address?: string) => void;
  /** A received datagram was dropped (codec refusal, unknown peer, TTL below the minimum is dropped by the kernel). */
  discard: (reason: string, from: string) => void;
}

interface Entry {
  options: BfdPeerOptions;
  session: BfdSession;
  socket?: dgram.Socket;
  closed: boolean;
  /** Datagrams handed to the socket and not yet sent: the socket closes after them (the AdminDown goes out). */
  inflight: number;
  /** The Echo sender, once Echo is running. */
  echo?: BfdEchoSender;
}

interface Listener {
  socket: dgram.Socket;
  fd: number;
  minTtl: number;
}

const listenerKey = (family: 4 | 6, multihop: boolean, device: string | undefined) =>
  `${family}/${multihop ? 'multihop' : 'single'}/${device ?? ''}`;

/**
 * The BFD sessions of one system: add a peer to get its running {@link BfdSession}; remove it to stop. Packets that
 * fail the codec's checks, come from an unknown address, or name an unknown discriminator are dropped and reported
 * with `discard`; nothing received can throw.
 */
export class BfdTransport extends EventEmitter<BfdTransportEvents> {
  private readonly peers = new Map<string, Entry>();
  private readonly byDiscriminator = new Map<number, Entry>();
  private readonly udpListeners = new Map<string, Promise<Listener>>();
  private readonly random: RandomSource;

  /** @param options clock, randomness, and (for tests) addresses and ports */
  constructor(private readonly options: BfdTransportOptions = {}) {
    super();
    this.random = options.random ?? Math.random;
  }

  /** The session of the peer at `address`. */
  get(address: string): BfdSession | undefined {
    return this.peers.get(address)?.session;
  }

  /** Addresses of every peer. */
  get addresses(): string[] {
    return [...this.peers.keys()];
  }

  /**
   * Adds a peer and starts its session (its sockets open in the background; a failure is emitted as `error`).
   * @throws RangeError on an invalid option, or when the address already has a session
   */
  add(peer: BfdPeerOptions): BfdSession {
    if (this.peers.has(peer.address)) throw new RangeError(`BFD peer ${peer.address} already exists`);
    const family = familyOf(peer.address);
    if (peer.localAddress !== undefined && familyOf(peer.localAddress) !== family) {
      throw new RangeError(`BFD local address ${peer.localAddress} is not of the family of ${peer.address}`);
    }
    const minimumTtl = peer.minimumTtl ?? 254;
    if (!Number.isInteger(minimumTtl) || minimumTtl < 1 || minimumTtl > 254) {
      throw new RangeError(`BFD minimum TTL must be 1..254, got ${minimumTtl}`);
    }
    if (peer.echoInterval !== undefined) {
      if (peer.device !== undefined) {
        throw new RangeError(
          `BFD Echo is not supported on a device-bound (VRF) session: ${peer.address} on ${peer.device}`,
        );
      }
      if (family !== 4 || peer.multihop) {
        throw new RangeError(
          `BFD Echo is supported for IPv4 single hop only, not for ${peer.address}${peer.multihop ? ' (multihop)' : ''}`,
        );
      }
      if (!Number.isInteger(peer.echoInterval) || peer.echoInterval < 10 || peer.echoInterval > 60_000) {
        throw new RangeError(`BFD echo interval must be an integer 10..60000 ms, got ${peer.echoInterval}`);
      }
    }
    const entry = { options: peer, closed: false, inflight: 0 } as Entry;
    entry.session = new BfdSession({
      localDiscriminator: this.newDiscriminator(),
      ...(peer.transmitInterval !== undefined ? { transmitInterval: peer.transmitInterval } : {}),
      ...(peer.receiveInterval !== undefined ? { receiveInterval: peer.receiveInterval } : {}),
      ...(peer.detectMultiplier !== undefined ? { detectMultiplier: peer.detectMultiplier } : {}),
      ...(peer.passive !== undefined ? { passive: peer.passive } : {}),
      ...(this.options.clock ? { clock: this.options.clock } : {}),
      random: this.random,
      send: (bytes) => this.send(entry, bytes),
    });
    this.peers.set(peer.address, entry);
    this.byDiscriminator.set(entry.session.localDiscriminator, entry);
    void this.open(entry, family, minimumTtl).catch((err: Error) => {
      if (!entry.closed) this.emit('error', err, peer.address);
    });
    return entry.session;
  }

  /** Stops and forgets the peer's session (it is told AdminDown first). Returns false for an unknown address. */
  remove(address: string): boolean {
    const entry = this.peers.get(address);
    if (!entry) return false;
    entry.session.setAdminDown(true);
    entry.session.stop();
    entry.closed = true;
    entry.echo?.close();
    if (entry.inflight === 0) entry.socket?.close();
    this.peers.delete(address);
    this.byDiscriminator.delete(entry.session.localDiscriminator);
    return true;
  }

  /** Removes every peer and closes the listeners. */
  async close(): Promise<void> {
    for (const address of [...this.peers.keys()]) this.remove(address);
    const listeners = [...this.udpListeners.values()];
    this.udpListeners.clear();
    for (const l of listeners) {
      try {
        (await l).socket.close();
      } catch {
        // it never opened
      }
    }
  }

  private newDiscriminator(): number {
    for (;;) {
      const d = Math.floor(this.random() * 0xfffffffe) + 1;
      if (!this.byDiscriminator.has(d)) return d;
    }
  }

  private async open(entry: Entry, family: 4 | 6, minimumTtl: number): Promise<void> {
    const multihop = entry.options.multihop ?? false;
    await this.listener(family, multihop, multihop ? minimumTtl : 255, entry.options.device);
    const socket = await this.senderSocket(family, entry.options.localAddress, entry.options.device);
    if (entry.closed) {
      socket.close();
      return;
    }
    socket.on('error', (err) => this.emit('error', err, entry.options.address));
    entry.socket = socket;
    if (entry.options.echoInterval !== undefined) await this.openEcho(entry, entry.options.echoInterval, socket);
    if (entry.closed) return;
    entry.session.start();
  }

  /** Starts the Echo function of a peer, or emits `error` saying why it runs without (the session still starts). */
  private async openEcho(entry: Entry, interval: number, socket: dgram.Socket): Promise<void> {
    const address = entry.options.address;
    try {
      const local = entry.options.localAddress ?? (await localAddressToward(address));
      const device = interfaceOf(local);
      if (device === undefined) throw new Error(`no interface has ${local}`);
      const missing = echoPrerequisites(device);
      if (missing.length > 0) throw new Error(`the host needs ${missing.join(' and ')}`);
      await this.echoListener();
      if (entry.closed) return;
      const sender = new BfdEchoSender(address, local, device, socket.address().port);
      entry.echo = sender;
      entry.session.setEcho({ interval, send: (payload) => void sender.send(payload) });
    } catch (err) {
      this.emit('error', new Error(`BFD echo with ${address} is off: ${(err as Error).message}`), address);
    }
  }

  /** The UDP socket our own Echo packets come back to (port 3785), shared by every peer. */
  private echoListener(): Promise<Listener> {
    const key = 'echo';
    let pending = this.udpListeners.get(key);
    if (!pending) {
      pending = (async () => {
        const fd = await createUdpSocketFd({
          family: 4,
          bind: { address: this.options.listenAddresses?.[4] ?? '0.0.0.0', port: BFD_ECHO_PORT },
          reuseAddr: true,
        });
        const socket = await wrap(4, fd);
        socket.on('message', (msg, rinfo) => this.onEcho(msg, rinfo.address));
        socket.on('error', (err) => this.emit('error', err));
        return { socket, fd, minTtl: 0 };
      })();
      this.udpListeners.set(key, pending);
      pending.catch(() => this.udpListeners.delete(key));
    }
    return pending;
  }

  private onEcho(msg: Uint8Array, from: string): void {
    let discriminator: number;
    try {
      discriminator = decodeBfdEcho(msg).discriminator;
    } catch (err) {
      this.emit('discard', `echo: ${(err as Error).message}`, from);
      return;
    }
    const entry = this.byDiscriminator.get(discriminator);
    // Ours come back from our own address (the packet's source is the destination we wrote).
    if (!entry?.echo || entry.echo.local !== from) {
      this.emit('discard', 'echo: unknown-session', from);
      return;
    }
    const refused = entry.session.receiveEcho(msg);
    if (refused) this.emit('discard', `echo: ${refused}`, from);
  }

  /** A sending socket: TTL 255, bound to a source port in 49152–65535 (RFC 5881 §4), tried a few times. */
  private async senderSocket(
    family: 4 | 6,
    localAddress: string | undefined,
    device: string | undefined,
  ): Promise<dgram.Socket> {
    let lastError: Error | undefined;
    for (let attempt = 0; attempt < 16; attempt++) {
      const port = 49152 + Math.floor(this.random() * 16384);
      try {
        const fd = await createUdpSocketFd({
          family,
          ttl: 255,
          ...(device !== undefined ? { device } : {}),
          bind: { address: localAddress ?? (family === 4 ? '0.0.0.0' : '::'), port },
        });
        return await wrap(family, fd);
      } catch (err) {
        lastError = err as Error;
        if ((err as { errno?: number }).errno !== 98) throw err; // only EADDRINUSE is worth another port
      }
    }
    throw lastError ?? new Error('no free BFD source port');
  }

  private async listener(
    family: 4 | 6,
    multihop: boolean,
    minTtl: number,
    device: string | undefined,
  ): Promise<Listener> {
    const key = listenerKey(family, multihop, device);
    let pending = this.udpListeners.get(key);
    if (!pending) {
      const port = multihop
        ? (this.options.listenPorts?.multihop ?? BFD_MULTIHOP_PORT)
        : (this.options.listenPorts?.singleHop ?? BFD_SINGLE_HOP_PORT);
      const address = this.options.listenAddresses?.[family] ?? (family === 4 ? '0.0.0.0' : '::');
      pending = (async () => {
        const fd = await createUdpSocketFd({
          family,
          ttl: 255,
          minTtl,
          bind: { address, port },
          reuseAddr: true,
          ...(device !== undefined ? { device } : {}),
        });
        const socket = await wrap(family, fd);
        socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo.address, multihop));
        socket.on('error', (err) => this.emit('error', err));
        return { socket, fd, minTtl };
      })();
      this.udpListeners.set(key, pending);
      pending.catch(() => this.udpListeners.delete(key));
    }
    const l = await pending;
    if (multihop && minTtl < l.minTtl) {
      await setUdpMinTtl(l.fd, family, minTtl);
      l.minTtl = minTtl;
    }
    return l;
  }

  private onMessage(msg: Uint8Array, from: string, multihop: boolean): void {
    let packet: ReturnType<typeof decodeBfdControl>;
    try {
      packet = decodeBfdControl(msg);
    } catch (err) {
      this.emit('discard', isBfdError(err) ? err.reason : String(err), from);
      return;
    }
    const entry =
      packet.yourDiscriminator !== 0 ? this.byDiscriminator.get(packet.yourDiscriminator) : this.peers.get(from);
    if (!entry || entry.options.address !== from || (entry.options.multihop ?? false) !== multihop) {
      this.emit('discard', 'unknown-session', from);
      return;
    }
    const refused = entry.session.receive(packet);
    if (refused) this.emit('discard', refused, from);
  }

  private send(entry: Entry, bytes: Uint8Array): void {
    const socket = entry.socket;
    if (!socket || entry.closed) return;
    const multihop = entry.options.multihop ?? false;
    const port = multihop
      ? (this.options.peerPorts?.multihop ?? BFD_MULTIHOP_PORT)
      : (this.options.peerPorts?.singleHop ?? BFD_SINGLE_HOP_PORT);
    entry.inflight++;
    socket.send(bytes, port, entry.options.address, (err) => {
      entry.inflight--;
      if (entry.closed) {
        if (entry.inflight === 0) socket.close();
      } else if (err) this.emit('discard', `send: ${err.message}`, entry.options.address);
    });
  }
}

function wrap(family: 4 | 6, fd: number): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: family === 4 ? 'udp4' : 'udp6' });
    socket.once('error', reject);
    socket.bind({ fd }, () => {
      socket.off('error', reject);
      resolve(socket);
    });
  });
}
