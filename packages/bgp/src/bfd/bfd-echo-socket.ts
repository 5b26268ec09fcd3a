/**
 * Sending BFD Echo packets (RFC 5881 §4) on Linux: an IPv4 datagram from our address to our address, UDP port 3785,
 * put on the wire addressed to the neighbour's MAC so that its forwarding plane sends it back. A UDP socket cannot do
 * that (a datagram to a local address never leaves the host), so the datagram goes out through an AF_PACKET
 * SOCK_DGRAM socket (the kernel adds the Ethernet header for the MAC we give) made with libc through
 * `@ingot/net/libc`. The socket has protocol 0: it receives nothing. The neighbour's MAC comes from the kernel's
 * neighbour table (/proc/net/arp), which the BFD Control packets keep fresh.
 *
 * The returning packet (source and destination our address, arriving from the wire) is received on an ordinary UDP
 * socket on port 3785 when the kernel accepts a local source from outside: `net.ipv4.conf.<if or all>.accept_local=1`.
 * Looping the neighbour's Echo packets back needs IPv4 forwarding here: `net.ipv4.ip_forward=1`.
 * {@link echoPrerequisites} says what is missing. Needs CAP_NET_RAW.
 * @module
 */

import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { errno, errnoName, LINUX, type LibraryHandle, libc } from '@ingot/net/libc';
import { encodeBfdEchoDatagram } from './bfd-echo-codec.js';

const { AF_PACKET, SOCK_DGRAM, SOCK_NONBLOCK, SOCK_CLOEXEC, MSG_DONTWAIT } = LINUX;
const ETH_P_IP = 0x0800;
/** How long a neighbour MAC is used before /proc/net/arp is read again, ms. */
const MAC_REFRESH_MS = 5000;

interface Fns {
  socket: (domain: number, type: number, protocol: number) => number;
  sendto: (fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, alen: number) => number;
  close: (fd: number) => number;
  if_nametoindex: (name: string) => number;
}

let fns: Fns | undefined;
function lib(): Fns {
  if (fns) return fns;
  const l: LibraryHandle = libc();
  fns = {
    socket: l.func('int socket(int, int, int)'),
    sendto: l.func('intptr_t sendto(int, const void *, size_t, int, const void *, uint32_t)'),
    close: l.func('int close(int)'),
    if_nametoindex: l.func('uint32_t if_nametoindex(const char *)'),
  } as unknown as Fns;
  return fns;
}

function readSysctl(path: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/${path}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * What this host lacks for the Echo function on `device` (empty when nothing): IPv4 forwarding (to loop the
 * neighbour's Echo packets back) and accept_local (to receive our own returning ones).
 */
export function echoPrerequisites(device: string): string[] {
  const missing: string[] = [];
  if (readSysctl('net/ipv4/ip_forward') !== '1') missing.push('net.ipv4.ip_forward=1');
  if (
    readSysctl('net/ipv4/conf/all/accept_local') !== '1' &&
    readSysctl(`net/ipv4/conf/${device}/accept_local`) !== '1'
  ) {
    missing.push(`net.ipv4.conf.${device}.accept_local=1`);
  }
  return missing;
}

/** The interface that has `address` (IPv4), from the host's interface list. */
export function interfaceOf(address: string): string | undefined {
  for (const [name, addrs] of Object.entries(networkInterfaces())) {
    if (addrs?.some((a) => a.family === 'IPv4' && a.address === address)) return name;
  }
  return undefined;
}

/** The local IPv4 address the kernel would use toward `peer` (a connected UDP socket's address; nothing is sent). */
export async function localAddressToward(peer: string): Promise<string> {
  const s = dgram.createSocket('udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.connect(3784, peer, () => resolve());
    });
    return s.address().address;
  } finally {
    s.close();
  }
}

/** The MAC of `address` on `device` in /proc/net/arp (complete entries only), as 6 bytes. */
export function neighbourMac(address: string, device: string, arp = readArpTable()): Uint8Array | undefined {
  for (const line of arp.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // IP address, HW type, Flags, HW address, Mask, Device
    if (f.length < 6 || f[0] !== address || f[5] !== device || (Number.parseInt(f[2] ?? '0', 16) & 0x2) === 0) continue;
    const mac = (f[3] ?? '').split(':').map((h) => Number.parseInt(h, 16));
    if (mac.length === 6 && mac.every((b) => Number.isInteger(b) && b >= 0 && b <= 255) && mac.some((b) => b !== 0)) {
      return Uint8Array.from(mac);
    }
  }
  return undefined;
}

function readArpTable(): string {
  try {
    return readFileSync('/proc/net/arp', 'utf8');
  } catch {
    return '';
  }
}

/** Thrown when the Echo socket cannot be made. */
export class BfdEchoSocketError extends Error {
  /** Always 'BfdEchoSocketError'. */
  override readonly name = 'BfdEchoSocketError';
}

/** Sends one peer's Echo packets: see the module documentation. */
export class BfdEchoSender {
  private readonly fd: number;
  private readonly ifindex: number;
  private readonly addressBytes: Uint8Array;
  private mac: Uint8Array | undefined;
  private macAt = 0;
  private id = 0;
  private closed = false;

  /**
   * @param peer the neighbour's IPv4 address
   * @param local our IPv4 address toward it (the Echo packets' source and destination)
   * @param device the interface both are on
   * @param sourcePort the UDP source port written in the Echo packets (RFC 5881 §4: 49152–65535)
   * @throws {@link BfdEchoSocketError} without CAP_NET_RAW or with an unknown device
   */
  constructor(
    readonly peer: string,
    readonly local: string,
    readonly device: string,
    private readonly sourcePort: number,
  ) {
    const c = lib();
    this.ifindex = c.if_nametoindex(device);
    if (this.ifindex === 0) throw new BfdEchoSocketError(`BFD echo: no interface ${device}`);
    this.addressBytes = Uint8Array.from(local.split('.').map(Number));
    const fd = c.socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      throw new BfdEchoSocketError(`BFD echo: AF_PACKET socket: ${errnoName(errno())} (needs CAP_NET_RAW)`);
    }
    this.fd = fd;
  }

  /**
   * Sends one Echo payload to the neighbour's MAC. Returns false (nothing sent) when its MAC is not known yet or the
   * kernel refused the send (e.g. a full queue): a lost Echo packet, which the Echo detection time covers.
   */
  send(payload: Uint8Array, now = Date.now()): boolean {
    if (this.closed) return false;
    if (this.mac === undefined || now - this.macAt > MAC_REFRESH_MS) {
      this.mac = neighbourMac(this.peer, this.device) ?? this.mac;
      this.macAt = now;
    }
    if (this.mac === undefined) return false;
    this.id = (this.id + 1) & 0xffff;
    const datagram = encodeBfdEchoDatagram(this.addressBytes, this.sourcePort, payload, this.id);
    const sll = new Uint8Array(20);
    const dv = new DataView(sll.buffer);
    dv.setUint16(0, AF_PACKET, true);
    dv.setUint16(2, ETH_P_IP, false); // network byte order
    dv.setInt32(4, this.ifindex, true);
    sll[11] = 6; // sll_halen
    sll.set(this.mac, 12);
    return lib().sendto(this.fd, datagram, datagram.length, MSG_DONTWAIT, sll, 20) === datagram.length;
  }

  /** Closes the socket. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    lib().close(this.fd);
  }
}
