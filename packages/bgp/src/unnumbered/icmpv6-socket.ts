/**
 * A raw ICMPv6 socket bound to one interface (Linux, through koffi), for sending and receiving Router Solicitations and
 * Advertisements. Node has no raw sockets; the descriptor is non-blocking and read every `pollMs` (an ND message or
 * two per ten seconds: polling costs nothing measurable and needs no thread). Needs CAP_NET_RAW.
 * @module
 */

import { LINUX } from '@ingot/net/libc';
import { formatIPv6, parseIPv6Into } from '../codec/ip.js';
import { check, int32, loadLibc, SockoptError, setUdpMinTtl } from '../speaker/platform/linux-sockopts.js';
import { ND_ROUTER_ADVERTISEMENT, ND_ROUTER_SOLICITATION } from './nd-codec.js';

const {
  AF_INET6,
  SOCK_RAW,
  SOCK_NONBLOCK,
  SOCK_CLOEXEC,
  SOL_SOCKET,
  SO_BINDTODEVICE,
  IPPROTO_IPV6,
  IPV6_UNICAST_HOPS,
  MSG_DONTWAIT,
  EAGAIN,
} = LINUX;
const IPPROTO_ICMPV6 = 58;
const ICMP6_FILTER = 1;
const IPV6_MULTICAST_IF = 17;
const IPV6_MULTICAST_HOPS = 18;
const IPV6_MULTICAST_LOOP = 19;

/** How Neighbor Discovery messages are sent and received on one link (tests pass an in-memory one). */
export interface NdTransport {
  /** Sends an ICMPv6 message body to `destination` (a multicast or link-local address on this link). */
  send(message: Uint8Array, destination: string): void;
  /** Calls `fn` for every received message with its source address (without scope). */
  onMessage(fn: (message: Uint8Array, source: string) => void): void;
  /** Calls `fn` when receiving fails (the transport keeps trying). */
  onError(fn: (error: Error) => void): void;
  /** Stops receiving and releases the socket. */
  close(): void;
}

/** `struct icmp6_filter` passing only `types` (a set bit blocks that type). */
export function encodeIcmp6Filter(types: readonly number[]): Uint8Array {
  const words = new Uint32Array(8).fill(0xffffffff);
  for (const t of types) words[t >> 5]! &= ~(1 << (t & 31));
  return new Uint8Array(words.buffer);
}

/** `struct sockaddr_in6` for `address` with the interface index as scope id. */
function sockaddr6(address: string, scopeId: number): Uint8Array {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET6, true);
  if (!parseIPv6Into(address, address.length, b, 8)) throw new TypeError(`not an IPv6 address: ${address}`);
  v.setUint32(24, scopeId, true);
  return b;
}

/**
 * Opens a raw ICMPv6 socket on `ifname` that receives only Router Solicitations and Advertisements with hop limit 255
 * (RFC 4861 §6.1: anything else did not come from this link) and sends with hop limit 255, not looped back to us.
 * @throws SockoptError when not on Linux, koffi cannot load, the interface does not exist, or a syscall fails (EPERM
 * without CAP_NET_RAW)
 */
export async function openIcmpv6Transport(ifname: string, pollMs = 200): Promise<NdTransport> {
  const libc = await loadLibc();
  const ifindex = libc.ifNameToIndex(ifname);
  if (ifindex === 0) throw new SockoptError(`no interface ${JSON.stringify(ifname)}`);
  const fd = libc.socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
  check(libc, fd, 'socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6)');
  try {
    const name = new TextEncoder().encode(`${ifname}\0`);
    check(libc, libc.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length), `SO_BINDTODEVICE ${ifname}`);
    const filter = encodeIcmp6Filter([ND_ROUTER_SOLICITATION, ND_ROUTER_ADVERTISEMENT]);
    check(libc, libc.setsockopt(fd, IPPROTO_ICMPV6, ICMP6_FILTER, filter, filter.length), 'ICMP6_FILTER');
    for (const [opt, value, label] of [
      [IPV6_MULTICAST_HOPS, 255, 'IPV6_MULTICAST_HOPS'],
      [IPV6_UNICAST_HOPS, 255, 'IPV6_UNICAST_HOPS'],
      [IPV6_MULTICAST_IF, ifindex, 'IPV6_MULTICAST_IF'],
      [IPV6_MULTICAST_LOOP, 0, 'IPV6_MULTICAST_LOOP'],
    ] as const) {
      check(libc, libc.setsockopt(fd, IPPROTO_IPV6, opt, int32(value), 4), label);
    }
    await setUdpMinTtl(fd, 6, 255);
  } catch (err) {
    libc.close(fd);
    throw err;
  }
  const listeners: ((message: Uint8Array, source: string) => void)[] = [];
  const errorListeners: ((error: Error) => void)[] = [];
  const buf = new Uint8Array(1500);
  const from = new Uint8Array(28);
  const fromLen = new Int32Array(1);
  let closed = false;
  const poll = () => {
    // A bounded drain per tick: at most 64 messages, the rest on the next one.
    for (let i = 0; i < 64 && !closed; i++) {
      fromLen[0] = from.length;
      const n = libc.recvfrom(fd, buf, buf.length, MSG_DONTWAIT, from, fromLen);
      if (n < 0) {
        const errno = libc.errno();
        if (errno === EAGAIN) return;
        const error = new SockoptError(`recvfrom on ${ifname}: ${libc.strerror(errno)}`, errno);
        for (const fn of errorListeners) fn(error);
        return;
      }
      const source = formatIPv6(from, 8);
      const message = buf.slice(0, n);
      for (const fn of listeners) fn(message, source);
    }
  };
  const timer = setInterval(poll, pollMs);
  timer.unref();
  return {
    send(message, destination) {
      if (closed) return;
      const sa = sockaddr6(destination, ifindex);
      const n = libc.sendto(fd, message, message.length, 0, sa, sa.length);
      check(libc, n, `sendto ${destination}%${ifname}`);
    },
    onMessage(fn) {
      listeners.push(fn);
    },
    onError(fn) {
      errorListeners.push(fn);
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      libc.close(fd);
    },
  };
}
