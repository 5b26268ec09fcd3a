/**
 * The one binding to Linux's libc (`@ingot/net/libc`): koffi and `libc.so.6` loaded once per thread, lazily, plus the
 * errno helpers and the socket constants the AF_PACKET transport (`@ingot/arp`) and the TCP socket options
 * (`@ingot/bgp`) share. koffi is an optional peer dependency: a package that binds libc depends on koffi itself, and
 * nothing is loaded until the first call, so the rest of the @ingot packages work where koffi cannot load.
 *
 * It is a subpath of its own so that the main entry's typings never name koffi.
 * @module
 */

import { createRequire } from 'node:module';
import type * as Koffi from 'koffi';

/** The koffi module (`import * as koffi from 'koffi'`). */
export type KoffiModule = typeof Koffi;
/** A loaded shared library (`koffi.load(...)`). */
export type LibraryHandle = Koffi.LibraryHandle;

/** Thrown when libc cannot be bound here: not Linux, or koffi failed to load. */
export class LibcUnavailableError extends Error {
  override readonly name = 'LibcUnavailableError';
}

let koffiModule: KoffiModule | undefined;
let libcHandle: LibraryHandle | undefined;
let errnoNames: Map<number, string> | undefined;

/**
 * The koffi module, loaded on first use.
 * @throws {@link LibcUnavailableError} off Linux, or when koffi is not installed or its native part fails to load
 */
export function loadKoffi(): KoffiModule {
  if (koffiModule) return koffiModule;
  if (process.platform !== 'linux') {
    throw new LibcUnavailableError(`binding libc needs Linux (this is ${process.platform})`);
  }
  try {
    const mod = createRequire(import.meta.url)('koffi') as KoffiModule & { default?: KoffiModule };
    koffiModule = mod.default ?? mod;
  } catch (err) {
    throw new LibcUnavailableError(
      `binding libc needs the koffi module, which failed to load: ${(err as Error).message}`,
    );
  }
  return koffiModule;
}

/**
 * `libc.so.6`, loaded on first use; declare functions with `libc().func('int close(int)')`.
 * @throws {@link LibcUnavailableError} as {@link loadKoffi}
 */
export function libc(): LibraryHandle {
  libcHandle ??= loadKoffi().load('libc.so.6');
  return libcHandle;
}

/** The calling thread's `errno` after the last libc call made through koffi. */
export function errno(): number {
  return loadKoffi().errno();
}

/**
 * The symbolic name of an errno value, e.g. `1` → `EPERM`; `errno N` for a number Linux does not name.
 * @example `errnoName(13) // 'EACCES'`
 */
export function errnoName(n: number): string {
  if (!errnoNames) {
    errnoNames = new Map();
    for (const [k, v] of Object.entries(loadKoffi().os.errno)) if (!errnoNames.has(v)) errnoNames.set(v, k);
  }
  return errnoNames.get(n) ?? `errno ${n}`;
}

/** Linux socket constants (x86-64 and arm64 share them), from `<sys/socket.h>`, `<netinet/in.h>` and friends. */
export const LINUX = {
  AF_INET: 2,
  AF_INET6: 10,
  AF_PACKET: 17,
  SOCK_STREAM: 1,
  SOCK_DGRAM: 2,
  SOCK_RAW: 3,
  SOCK_NONBLOCK: 0o4000,
  SOCK_CLOEXEC: 0o2000000,
  SOL_SOCKET: 1,
  SO_REUSEADDR: 2,
  SO_RCVBUF: 8,
  SO_BINDTODEVICE: 25,
  SO_ATTACH_FILTER: 26,
  SO_RCVBUFFORCE: 33,
  IPPROTO_IP: 0,
  IPPROTO_TCP: 6,
  IPPROTO_IPV6: 41,
  IPV6_UNICAST_HOPS: 16,
  SOL_PACKET: 263,
  MSG_DONTWAIT: 0x40,
  EAGAIN: 11,
  POLLIN: 0x001,
  EFD_NONBLOCK: 0o4000,
  EFD_CLOEXEC: 0o2000000,
  F_DUPFD_CLOEXEC: 1030,
} as const;
