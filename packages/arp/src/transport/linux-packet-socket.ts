import { LINUX, loadKoffi, libc as loadLibc, errno as netErrno, errnoName as netErrnoName } from '@ingot/net/libc';
import { formatMac, parseMac } from '../codec/address.js';
import { TransportError } from './frame-transport.js';

/** @internal Linux constants used by the AF_PACKET binding (the shared ones are `@ingot/net/libc`'s). */
export const AF_PACKET = LINUX.AF_PACKET;
const { SOCK_RAW, SOCK_NONBLOCK, SOCK_CLOEXEC, SOL_SOCKET, SO_RCVBUF, SO_RCVBUFFORCE, SO_ATTACH_FILTER, SOL_PACKET } =
  LINUX;
const PACKET_ADD_MEMBERSHIP = 1;
const PACKET_DROP_MEMBERSHIP = 2;
const PACKET_MR_MULTICAST = 0;
const PACKET_STATISTICS = 6;
const PACKET_IGNORE_OUTGOING = 23;
const ETH_P_ALL = 0x0003;
const { POLLIN, EFD_NONBLOCK, EFD_CLOEXEC } = LINUX;

/** @internal Lazily bound libc functions. */
interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  getsockname(fd: number, addr: Uint8Array, len: Int32Array): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  setsockoptFprog(fd: number, level: number, name: number, value: unknown, len: number): number;
  getsockopt(fd: number, level: number, name: number, value: Uint8Array, len: Int32Array): number;
  send(fd: number, buf: Uint8Array, len: number, flags: number): number;
  recv(fd: number, buf: Uint8Array, len: number, flags: number): number;
  close(fd: number): number;
  if_nametoindex(name: string): number;
  poll: ((fds: Uint8Array, n: number, timeout: number) => number) & {
    async(fds: Uint8Array, n: number, timeout: number, cb: (err: unknown, res: number) => void): void;
  };
  eventfd(initval: number, flags: number): number;
  write(fd: number, buf: Uint8Array, len: number): number;
  read(fd: number, buf: Uint8Array, len: number): number;
  fcntl(fd: number, cmd: number, argType: 'int', arg: number): number;
  recvmmsg(fd: number, msgvec: bigint, vlen: number, flags: number, timeout: null): number;
}

let libc: Libc | undefined;

/** @internal */
export function lib(): Libc {
  if (libc) return libc;
  if (process.platform !== 'linux') throw new TransportError('load', 'ENOSYS', 38, 'AF_PACKET needs Linux');
  const koffi = loadKoffi();
  const l = loadLibc();
  const sockFilter = koffi.struct('ingot_sock_filter', {
    code: 'uint16_t',
    jt: 'uint8_t',
    jf: 'uint8_t',
    k: 'uint32_t',
  });
  const sockFprog = koffi.struct('ingot_sock_fprog', { len: 'uint16_t', filter: koffi.pointer(sockFilter) });
  libc = {
    socket: l.func('int socket(int, int, int)'),
    bind: l.func('int bind(int, const void *, uint32_t)'),
    getsockname: l.func('int getsockname(int, _Inout_ void *, _Inout_ int *)'),
    setsockopt: l.func('int setsockopt(int, int, int, const void *, uint32_t)'),
    setsockoptFprog: l.func('setsockopt', 'int', ['int', 'int', 'int', koffi.pointer(sockFprog), 'uint32_t']),
    getsockopt: l.func('int getsockopt(int, int, int, _Inout_ void *, _Inout_ int *)'),
    send: l.func('intptr_t send(int, const void *, size_t, int)'),
    recv: l.func('intptr_t recv(int, _Out_ void *, size_t, int)'),
    close: l.func('int close(int)'),
    if_nametoindex: l.func('uint32_t if_nametoindex(const char *)'),
    poll: l.func('int poll(_Inout_ void *, uint64_t, int)'),
    eventfd: l.func('int eventfd(unsigned int, int)'),
    write: l.func('intptr_t write(int, const void *, size_t)'),
    read: l.func('intptr_t read(int, _Out_ void *, size_t)'),
    fcntl: l.func('int fcntl(int, int, ...)'),
    recvmmsg: l.func('int recvmmsg(int, uintptr_t, unsigned int, int, void *)'),
  } as unknown as Libc;
  return libc;
}

/** @internal errno name of a number, e.g. 1 → EPERM (`@ingot/net/libc`). */
export const errnoName: (n: number) => string = netErrnoName;

/** @internal The current errno (`@ingot/net/libc`). */
export const errno: () => number = netErrno;

/** @internal Throws a TransportError for the current errno. */
export function fail(syscall: string, detail?: string): never {
  const e = netErrno();
  throw new TransportError(syscall, errnoName(e), e, detail);
}

const htons = (x: number) => ((x & 0xff) << 8) | (x >> 8);

/**
 * @internal Classic BPF program attached to every responder socket: accept ARP, and IPv6 frames whose next header is
 * ICMPv6 with type 135 (Neighbor Solicitation); drop our own outgoing frames and frames whose 802.1Q tag was
 * offloaded (they belong to a VLAN sub-interface).
 */
export const RESPONDER_FILTER: ReadonlyArray<{ code: number; jt: number; jf: number; k: number }> = [
  { code: 0x20, jt: 0, jf: 0, k: 0xfffff004 }, // 0: ld  [SKF_AD_PKTTYPE]
  { code: 0x15, jt: 10, jf: 0, k: 4 }, //         1: jeq #PACKET_OUTGOING → drop
  { code: 0x20, jt: 0, jf: 0, k: 0xfffff030 }, // 2: ld  [SKF_AD_VLAN_TAG_PRESENT]
  { code: 0x15, jt: 0, jf: 8, k: 0 }, //          3: jeq #0 else drop
  { code: 0x28, jt: 0, jf: 0, k: 12 }, //         4: ldh [12] EtherType
  { code: 0x15, jt: 5, jf: 0, k: 0x0806 }, //     5: jeq #ARP → accept
  { code: 0x15, jt: 0, jf: 5, k: 0x86dd }, //     6: jeq #IPv6 else drop
  { code: 0x30, jt: 0, jf: 0, k: 20 }, //         7: ldb [20] next header
  { code: 0x15, jt: 0, jf: 3, k: 58 }, //         8: jeq #ICMPv6 else drop
  { code: 0x30, jt: 0, jf: 0, k: 54 }, //         9: ldb [54] ICMPv6 type
  { code: 0x15, jt: 0, jf: 1, k: 135 }, //       10: jeq #NS else drop
  { code: 0x06, jt: 0, jf: 0, k: 0x40000 }, //   11: accept
  { code: 0x06, jt: 0, jf: 0, k: 0 }, //         12: drop
];

/** @internal An open AF_PACKET socket bound to one interface. */
export interface PacketSocket {
  fd: number;
  ifindex: number;
  mac: string;
}

/** @internal Options of {@link openPacketSocket}. */
export interface OpenPacketSocketOptions {
  /** Classic BPF program (default {@link RESPONDER_FILTER}); `null` for none. */
  filter?: ReadonlyArray<{ code: number; jt: number; jf: number; k: number }> | null;
  /** Receive buffer size to ask for (SO_RCVBUFFORCE with CAP_NET_ADMIN, else SO_RCVBUF capped by rmem_max). */
  receiveBufferBytes?: number;
  /** Ignore frames this host sends (PACKET_IGNORE_OUTGOING), default true. */
  ignoreOutgoing?: boolean;
}

/**
 * @internal Opens a non-blocking AF_PACKET/SOCK_RAW socket, attaches the filter before binding (so no unfiltered
 * frame is ever queued), then binds it to `ifname` for all EtherTypes.
 */
export function openPacketSocket(ifname: string, options: OpenPacketSocketOptions = {}): PacketSocket {
  const c = lib();
  const ifindex = c.if_nametoindex(ifname);
  if (!ifindex) fail('if_nametoindex', ifname);
  // Protocol 0: receive nothing until bind() names ETH_P_ALL, after the filter is in place.
  const fd = c.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) fail('socket', 'AF_PACKET needs CAP_NET_RAW');
  try {
    const filter = options.filter === undefined ? RESPONDER_FILTER : options.filter;
    if (filter) {
      if (c.setsockoptFprog(fd, SOL_SOCKET, SO_ATTACH_FILTER, { len: filter.length, filter: [...filter] }, 16) < 0) {
        fail('setsockopt(SO_ATTACH_FILTER)');
      }
    }
    if (options.ignoreOutgoing !== false) {
      const one = new Int32Array([1]);
      // Linux ≥ 4.20; the filter drops outgoing frames anyway, this only saves the clone.
      c.setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, new Uint8Array(one.buffer), 4);
    }
    const rcv = options.receiveBufferBytes ?? 32 << 20;
    const v = new Uint8Array(new Int32Array([rcv]).buffer);
    if (c.setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, v, 4) < 0) c.setsockopt(fd, SOL_SOCKET, SO_RCVBUF, v, 4);
    const sll = new Uint8Array(20);
    const dv = new DataView(sll.buffer);
    dv.setUint16(0, AF_PACKET, true);
    dv.setUint16(2, htons(ETH_P_ALL), true);
    dv.setInt32(4, ifindex, true);
    if (c.bind(fd, sll, 20) < 0) fail('bind', ifname);
    const name = new Uint8Array(20);
    const nlen = new Int32Array([20]);
    if (c.getsockname(fd, name, nlen) < 0) fail('getsockname', ifname);
    const halen = name[11]!;
    const mac = halen === 6 ? formatMac(name, 12) : '00:00:00:00:00:00';
    return { fd, ifindex, mac };
  } catch (e) {
    c.close(fd);
    throw e;
  }
}

/** @internal PACKET_ADD_MEMBERSHIP / PACKET_DROP_MEMBERSHIP of a multicast MAC. */
export function packetMembership(s: PacketSocket, mac: string, add: boolean): void {
  const mreq = new Uint8Array(16);
  const dv = new DataView(mreq.buffer);
  dv.setInt32(0, s.ifindex, true);
  dv.setUint16(4, PACKET_MR_MULTICAST, true);
  dv.setUint16(6, 6, true);
  mreq.set(parseMac(mac), 8);
  const name = add ? PACKET_ADD_MEMBERSHIP : PACKET_DROP_MEMBERSHIP;
  if (lib().setsockopt(s.fd, SOL_PACKET, name, mreq, 16) < 0)
    fail(add ? 'PACKET_ADD_MEMBERSHIP' : 'PACKET_DROP_MEMBERSHIP', mac);
}

/** @internal A close-on-exec duplicate of `fd` (same socket, same memberships). */
export function dupCloexec(fd: number): number {
  const F_DUPFD_CLOEXEC = 1030;
  const n = lib().fcntl(fd, F_DUPFD_CLOEXEC, 'int', 0);
  if (n < 0) fail('fcntl(F_DUPFD_CLOEXEC)');
  return n;
}

/** @internal Reads and resets PACKET_STATISTICS: [packets, drops]. */
export function packetStatistics(fd: number): [number, number] {
  const b = new Uint8Array(8);
  const len = new Int32Array([8]);
  if (lib().getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, b, len) < 0) return [0, 0];
  const dv = new DataView(b.buffer);
  return [dv.getUint32(0, true), dv.getUint32(4, true)];
}

/** @internal poll() constants. */
export const POLL = { POLLIN, EFD_NONBLOCK, EFD_CLOEXEC };

/**
 * @internal A native receive ring for recvmmsg(2): `slots` buffers of `slotBytes` each, with their iovecs and mmsghdrs
 * prepared once, so one system call reads up to `slots` frames with no allocation. The memory is never freed while the
 * process lives (a few hundred KiB per transport, reused).
 */
export class RecvBatch {
  readonly slots: number;
  readonly slotBytes: number;
  private readonly ptr: unknown;
  private readonly bytes: Uint8Array;
  private readonly dv: DataView;
  private readonly hdrOffset: number;
  /** Native address of the mmsghdr array (after the frame slots and the iovecs). */
  private readonly hdrAddress: bigint;
  /** The view last returned for each slot, reused while frames keep the same length (no allocation per frame). */
  private readonly views: Array<Uint8Array | undefined>;
  private released = false;

  constructor(slots = 64, slotBytes = 2048) {
    this.views = new Array<Uint8Array | undefined>(slots).fill(undefined);
    this.slots = slots;
    this.slotBytes = slotBytes;
    const data = slots * slotBytes;
    const iovOffset = data;
    this.hdrOffset = iovOffset + slots * 16;
    const total = this.hdrOffset + slots * 64;
    const koffi = loadKoffi();
    this.ptr = koffi.alloc('uint8_t', total);
    this.bytes = new Uint8Array(koffi.view(this.ptr, total));
    this.dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const base = koffi.address(this.ptr);
    this.hdrAddress = base + BigInt(this.hdrOffset);
    for (let i = 0; i < slots; i++) {
      const iov = iovOffset + i * 16;
      this.dv.setBigUint64(iov, base + BigInt(i * slotBytes), true); // iov_base
      this.dv.setBigUint64(iov + 8, BigInt(slotBytes), true); // iov_len
      const h = this.hdrOffset + i * 64; // struct mmsghdr { struct msghdr (56 bytes); unsigned msg_len; } (64 aligned)
      this.dv.setBigUint64(h + 16, base + BigInt(iov), true); // msg_iov
      this.dv.setBigUint64(h + 24, 1n, true); // msg_iovlen
    }
  }

  /** Reads up to `slots` frames without blocking; returns their count (0 on EAGAIN) or -errno. */
  receive(fd: number): number {
    if (this.released) return 0;
    const n = lib().recvmmsg(fd, this.hdrAddress, this.slots, MSG_DONTWAIT_FLAG, null);
    if (n >= 0) return n;
    const e = netErrno();
    return e === EAGAIN_ERRNO ? 0 : -e;
  }

  /**
   * The i-th frame of the last {@link RecvBatch.receive}: a view, valid until the next receive. The same view object
   * is handed out again for slot `i` when the next frame there has the same length.
   */
  frame(i: number): Uint8Array {
    const len = Math.min(this.dv.getUint32(this.hdrOffset + i * 64 + 56, true), this.slotBytes);
    const v = this.views[i];
    if (v !== undefined && v.length === len) return v;
    const fresh = this.bytes.subarray(i * this.slotBytes, i * this.slotBytes + len);
    this.views[i] = fresh;
    return fresh;
  }

  /** Frees the native memory (only once no receive can run any more). */
  release(): void {
    if (this.released) return;
    this.released = true;
    loadKoffi().free(this.ptr);
  }
}
const MSG_DONTWAIT_FLAG = LINUX.MSG_DONTWAIT;
const EAGAIN_ERRNO = 11;
