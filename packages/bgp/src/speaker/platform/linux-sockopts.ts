/**
 * Linux socket options Node lacks (TCP_MD5SIG, IP_MINTTL / IPV6_MINHOPCOUNT, IP_TTL / IPV6_UNICAST_HOPS), set with
 * libc's socket()/setsockopt()/bind() through koffi on a file descriptor that is then handed to Node
 * (`new net.Socket({ fd })`, `server.listen({ fd })`). koffi is loaded lazily: the rest of the package works where it
 * cannot load, and only these options fail, with {@link SockoptError}.
 * @module
 */

import { isIPv4, isIPv6 } from 'node:net';
import { type KoffiModule, LINUX, type LibraryHandle, loadKoffi, libc as loadLibcHandle } from '@ingot/net/libc';
import { addressToBytes } from '../address.js';

const {
  AF_INET,
  AF_INET6,
  SOCK_STREAM,
  SOCK_DGRAM,
  SOCK_NONBLOCK,
  SOCK_CLOEXEC,
  SOL_SOCKET,
  SO_REUSEADDR,
  SO_ATTACH_FILTER,
  SO_BINDTODEVICE,
  IPPROTO_IP,
  IPPROTO_TCP,
  IPPROTO_IPV6,
  IPV6_UNICAST_HOPS,
} = LINUX;
const IP_TTL = 2;
const IP_MINTTL = 21;
const IPV6_V6ONLY = 26;
const IPV6_MINHOPCOUNT = 73;
const TCP_MD5SIG = 14;
const TCP_MD5SIG_MAXKEYLEN = 80;
const MD5SIG_STRUCT_SIZE = 216;

/** Error raised when a Linux-only socket option cannot be applied (platform, koffi, or the kernel refused it). */
export class SockoptError extends Error {
  /** Always 'SockoptError'. */
  override readonly name = 'SockoptError';
  /**
   * @param message what failed and why
   * @param errno the libc errno, when a syscall failed
   */
  constructor(
    message: string,
    readonly errno?: number,
  ) {
    super(message);
  }
}

/** Options applied to a TCP socket before it connects or listens. */
export interface SocketOptions {
  /** Address family of the socket. */
  family: 4 | 6;
  /** TCP MD5 signature keys (RFC 2385), one per peer address. */
  md5?: { address: string; key: string }[];
  /** Outgoing TTL / hop limit (multihop: the hop count; GTSM: 255). */
  ttl?: number;
  /** Minimum TTL / hop limit accepted on incoming packets (GTSM, RFC 5082: 255 - hops + 1). */
  minTtl?: number;
  /** Local address (and port, default 0) to bind before connect/listen. */
  bind?: { address: string; port?: number };
  /** Set SO_REUSEADDR (listeners). */
  reuseAddr?: boolean;
  /** Bind the socket to this network device (SO_BINDTODEVICE), e.g. a VRF device: routing uses the VRF's table. */
  device?: string;
}

/** @internal libc through koffi (shared with the other Linux socket helpers of this directory). */
export interface Libc {
  socket(domain: number, type: number, protocol: number): number;
  setsockopt(fd: number, level: number, name: number, value: Uint8Array, len: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  close(fd: number): number;
  sendto(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: number): number;
  recvfrom(fd: number, buf: Uint8Array, len: number, flags: number, addr: Uint8Array, addrLen: Int32Array): number;
  ifNameToIndex(name: string): number;
  errno(): number;
  strerror(errno: number): string;
  /** Runs `fn` with the native address of a temporary copy of `bytes`, freed afterwards. */
  withNativeCopy<T>(bytes: Uint8Array, fn: (address: bigint) => T): T;
}

let libcPromise: Promise<Libc> | undefined;

/** @internal Loads libc through koffi once (Linux only). */
export async function loadLibc(): Promise<Libc> {
  if (process.platform !== 'linux') {
    throw new SockoptError(`TCP MD5, GTSM and TTL socket options need Linux (this is ${process.platform})`);
  }
  libcPromise ??= (async () => {
    // the one libc binding of the @ingot packages (koffi loaded on first use)
    let koffi: KoffiModule;
    let lib: LibraryHandle;
    try {
      koffi = loadKoffi();
      lib = loadLibcHandle();
    } catch (err) {
      throw new SockoptError(
        `TCP MD5, GTSM and TTL socket options need the koffi module, which failed to load: ${(err as Error).message}`,
      );
    }
    const socket = lib.func('int socket(int, int, int)');
    const setsockopt = lib.func('int setsockopt(int, int, int, const uint8_t *, uint32_t)');
    const bind = lib.func('int bind(int, const uint8_t *, uint32_t)');
    const close = lib.func('int close(int)');
    const sendto = lib.func('intptr_t sendto(int, const uint8_t *, size_t, int, const uint8_t *, uint32_t)');
    const recvfrom = lib.func('intptr_t recvfrom(int, _Out_ uint8_t *, size_t, int, _Out_ uint8_t *, _Inout_ int *)');
    const ifNameToIndex = lib.func('uint32_t if_nametoindex(const char *)');
    const strerror = lib.func('const char *strerror(int)');
    return {
      socket: (d, t, p) => socket(d, t, p) as number,
      setsockopt: (fd, level, name, value, len) => setsockopt(fd, level, name, value, len) as number,
      bind: (fd, addr, len) => bind(fd, addr, len) as number,
      close: (fd) => close(fd) as number,
      sendto: (fd, buf, len, flags, addr, addrLen) => Number(sendto(fd, buf, len, flags, addr, addrLen)),
      recvfrom: (fd, buf, len, flags, addr, addrLen) => Number(recvfrom(fd, buf, len, flags, addr, addrLen)),
      ifNameToIndex: (name) => ifNameToIndex(name) as number,
      errno: () => koffi.errno(),
      strerror: (e) => strerror(e) as string,
      withNativeCopy(bytes, fn) {
        const ptr = koffi.alloc('uint8_t', bytes.length);
        try {
          koffi.encode(ptr, koffi.array('uint8_t', bytes.length), Array.from(bytes));
          return fn(BigInt(koffi.address(ptr) as bigint | number));
        } finally {
          koffi.free(ptr);
        }
      },
    };
  })();
  try {
    return await libcPromise;
  } catch (err) {
    libcPromise = undefined;
    throw err;
  }
}

/** Encodes a `struct sockaddr_in` / `sockaddr_in6` for `address` and `port`. */
export function encodeSockaddr(address: string, port: number): Uint8Array {
  const bytes = addressToBytes(address);
  if (bytes.length === 4) {
    const b = new Uint8Array(16);
    const v = new DataView(b.buffer);
    v.setUint16(0, AF_INET, true);
    v.setUint16(2, port, false);
    b.set(bytes, 4);
    return b;
  }
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  v.setUint16(0, AF_INET6, true);
  v.setUint16(2, port, false);
  b.set(bytes, 8);
  return b;
}

/** Encodes a Linux `struct tcp_md5sig` (216 bytes) for one peer address and key (empty key deletes). */
export function encodeMd5Sig(address: string, key: string): Uint8Array {
  const keyBytes = new TextEncoder().encode(key);
  if (keyBytes.length > TCP_MD5SIG_MAXKEYLEN) {
    throw new SockoptError(`TCP MD5 key is ${keyBytes.length} bytes; the maximum is ${TCP_MD5SIG_MAXKEYLEN}`);
  }
  const b = new Uint8Array(MD5SIG_STRUCT_SIZE);
  b.set(encodeSockaddr(address, 0), 0);
  const v = new DataView(b.buffer);
  v.setUint16(130, keyBytes.length, true);
  b.set(keyBytes, 136);
  return b;
}

/** @internal A native-endian `int` option value. */
export function int32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, value, true);
  return b;
}

/** @internal Throws a {@link SockoptError} naming `what` and the errno when `rc` is negative. */
export function check(libc: Libc, rc: number, what: string): void {
  if (rc >= 0) return;
  const errno = libc.errno();
  const hint = errno === 92 ? ' (ENOPROTOOPT: this kernel lacks CONFIG_TCP_MD5SIG?)' : '';
  throw new SockoptError(`${what} failed: ${libc.strerror(errno)}${hint}`, errno);
}

/**
 * The classic BPF program `ldb [net + ttl]; jge #minTtl, accept, drop` (TTL at octet 8 of the IPv4 header, Hop Limit at
 * octet 7 of the IPv6 header), as `struct sock_filter[4]`.
 */
export function encodeMinTtlFilter(family: 4 | 6, minTtl: number): Uint8Array {
  if (!Number.isInteger(minTtl) || minTtl < 1 || minTtl > 255) throw new RangeError(`minimum TTL must be 1..255`);
  const SKF_NET_OFF = 0xfff00000; // -0x100000: offsets from the network header
  const insns: [number, number, number, number][] = [
    [0x30, 0, 0, SKF_NET_OFF + (family === 4 ? 8 : 7)], // BPF_LD | BPF_B | BPF_ABS
    [0x35, 0, 1, minTtl], // BPF_JMP | BPF_JGE | BPF_K
    [0x06, 0, 0, 0xffffffff], // BPF_RET | BPF_K: accept the whole packet
    [0x06, 0, 0, 0], // drop
  ];
  const b = new Uint8Array(insns.length * 8);
  const v = new DataView(b.buffer);
  insns.forEach(([code, jt, jf, k], i) => {
    v.setUint16(i * 8, code, true);
    b[i * 8 + 2] = jt;
    b[i * 8 + 3] = jf;
    v.setUint32(i * 8 + 4, k, true);
  });
  return b;
}

function attachMinTtlFilter(libc: Libc, fd: number, family: 4 | 6, minTtl: number): void {
  const program = encodeMinTtlFilter(family, minTtl);
  libc.withNativeCopy(program, (address) => {
    const fprog = new Uint8Array(16); // struct sock_fprog { unsigned short len; struct sock_filter *filter; }
    const v = new DataView(fprog.buffer);
    v.setUint16(0, program.length / 8, true);
    v.setBigUint64(8, address, true);
    check(
      libc,
      libc.setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, 16),
      `setsockopt(SO_ATTACH_FILTER, TTL >= ${minTtl})`,
    );
  });
}

function apply(libc: Libc, fd: number, family: 4 | 6, o: Omit<SocketOptions, 'family' | 'bind' | 'reuseAddr'>): void {
  for (const { address, key } of o.md5 ?? []) {
    const sig = encodeMd5Sig(address, key);
    check(libc, libc.setsockopt(fd, IPPROTO_TCP, TCP_MD5SIG, sig, sig.length), `setsockopt(TCP_MD5SIG, ${address})`);
  }
  if (o.ttl !== undefined) {
    const [level, name, label] =
      family === 4 ? [IPPROTO_IP, IP_TTL, 'IP_TTL'] : [IPPROTO_IPV6, IPV6_UNICAST_HOPS, 'IPV6_UNICAST_HOPS'];
    check(libc, libc.setsockopt(fd, level, name, int32(o.ttl), 4), `setsockopt(${label}=${o.ttl})`);
  }
  if (o.minTtl !== undefined) {
    const [level, name, label] =
      family === 4 ? [IPPROTO_IP, IP_MINTTL, 'IP_MINTTL'] : [IPPROTO_IPV6, IPV6_MINHOPCOUNT, 'IPV6_MINHOPCOUNT'];
    check(libc, libc.setsockopt(fd, level, name, int32(o.minTtl), 4), `setsockopt(${label}=${o.minTtl})`);
  }
}

/**
 * Creates a non-blocking TCP socket with the given options applied (and bound when `bind` is set) and returns its file
 * descriptor, ready for `new net.Socket({ fd }).connect(...)` or `server.listen({ fd })`.
 * @throws SockoptError when not on Linux, koffi cannot load, or a syscall fails (the fd is closed then)
 */
export async function createTcpSocketFd(options: SocketOptions): Promise<number> {
  return createSocketFd(options, SOCK_STREAM);
}

/**
 * Creates a non-blocking UDP socket with the given options applied (TTL; minimum TTL as a socket filter, see
 * {@link setUdpMinTtl}; bound when `bind` is set) and
 * returns its file descriptor, ready for `dgram.createSocket(...).bind({ fd })` (BFD: TTL 255 and GTSM, RFC 5881 §5).
 * @throws SockoptError when not on Linux, koffi cannot load, or a syscall fails (the fd is closed then)
 */
export async function createUdpSocketFd(options: Omit<SocketOptions, 'md5'>): Promise<number> {
  return createSocketFd(options, SOCK_DGRAM);
}

/**
 * Sets the minimum TTL / hop limit a UDP socket accepts. The kernel's IP_MINTTL applies to TCP only, so this attaches a
 * socket filter (classic BPF, {@link encodeMinTtlFilter}) that drops datagrams below it; it replaces an earlier one.
 * @throws SockoptError on failure
 */
export async function setUdpMinTtl(fd: number, family: 4 | 6, minTtl: number): Promise<void> {
  const libc = await loadLibc();
  attachMinTtlFilter(libc, fd, family, minTtl);
}

async function createSocketFd(options: SocketOptions, type: number): Promise<number> {
  const libc = await loadLibc();
  const fd = libc.socket(options.family === 4 ? AF_INET : AF_INET6, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  check(libc, fd, 'socket()');
  try {
    if (options.reuseAddr) {
      check(libc, libc.setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, int32(1), 4), 'setsockopt(SO_REUSEADDR)');
    }
    if (options.device !== undefined) {
      const name = new TextEncoder().encode(`${options.device}\0`);
      if (name.length > 16 || name.length < 2)
        throw new SockoptError(`device name ${JSON.stringify(options.device)}: 1 to 15 octets`);
      check(
        libc,
        libc.setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, name, name.length),
        `setsockopt(SO_BINDTODEVICE, ${options.device})`,
      );
    }
    if (options.family === 6 && options.bind && isIPv6(options.bind.address)) {
      // A listener on '::' should also accept IPv4 unless the caller binds a specific address.
      const v6only = options.bind.address === '::' ? 0 : 1;
      check(libc, libc.setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, int32(v6only), 4), 'setsockopt(IPV6_V6ONLY)');
    }
    if (type === SOCK_DGRAM) {
      const { minTtl, ...rest } = options;
      apply(libc, fd, options.family, rest);
      if (minTtl !== undefined) attachMinTtlFilter(libc, fd, options.family, minTtl);
    } else {
      apply(libc, fd, options.family, options);
    }
    if (options.bind) {
      const sa = encodeSockaddr(options.bind.address, options.bind.port ?? 0);
      check(libc, libc.bind(fd, sa, sa.length), `bind(${options.bind.address})`);
    }
    return fd;
  } catch (err) {
    libc.close(fd);
    throw err;
  }
}

/**
 * Applies options to an existing socket descriptor (for example a listener's, to add a peer's MD5 key, or an accepted
 * connection's, for GTSM).
 * @throws SockoptError on failure
 */
export async function setSocketOptions(
  fd: number,
  family: 4 | 6,
  options: Omit<SocketOptions, 'family' | 'bind' | 'reuseAddr'>,
): Promise<void> {
  const libc = await loadLibc();
  apply(libc, fd, family, options);
}

/** Closes a descriptor returned by {@link createTcpSocketFd} that was never handed to Node. */
export async function closeFd(fd: number): Promise<void> {
  const libc = await loadLibc();
  libc.close(fd);
}

/** The address family (4 or 6) of an IP address string, or throws. */
export function familyOf(address: string): 4 | 6 {
  if (isIPv4(address)) return 4;
  if (isIPv6(address)) return 6;
  throw new TypeError(`not an IP address: ${address}`);
}

/** Reads the file descriptor behind a connected or listening Node socket (libuv handle; Linux). */
export function fdOf(handleOwner: unknown): number | undefined {
  const fd = (handleOwner as { _handle?: { fd?: number } })._handle?.fd;
  return typeof fd === 'number' && fd >= 0 ? fd : undefined;
}
