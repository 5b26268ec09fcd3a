/**
 * `@ingot/net`: the shared leaf of the @ingot packages. One canonical IP text (and byte-level fast paths for codecs),
 * one clock and seeded random source, one codec error base. The libc binding is the subpath `@ingot/net/libc`.
 * @packageDocumentation
 */

export { type Clock, type RandomSource, seededRandom, systemClock, type TimerHandle } from './clock.js';
export { CodecError } from './codec-error.js';
export { canonicalIp, formatIp, type IpFamily, ipFamily, isIp, parseIp, unmapIp } from './ip.js';
export {
  formatIPv4,
  formatIPv4Number,
  formatIPv6,
  isIPv4Mapped,
  parseIPv4,
  parseIPv6Into,
  parsePrefixLength,
} from './ip-text.js';
