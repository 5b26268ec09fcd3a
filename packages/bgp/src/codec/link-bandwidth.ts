/**
 * The BGP link bandwidth extended community (draft-ietf-idr-link-bandwidth): type 0x00 (transitive two-octet
 * AS-specific; 0x40 is the non-transitive form), sub-type 0x04, the AS in the Global Administrator field and the
 * bandwidth in bytes per second as an IEEE 754 single-precision float in the Local Administrator field. FRR's
 * `bgp bestpath bandwidth` spreads traffic over multipath next hops in proportion to it (weighted ECMP).
 * @module
 */

import { AS_TRANS } from './constants.js';

/** Sub-type of the link bandwidth extended community. */
export const LINK_BANDWIDTH_SUBTYPE = 0x04;

/**
 * The link bandwidth extended community as the codec writes extended communities (16 lowercase hex digits).
 * @param asn our AS (AS_TRANS when it does not fit two octets)
 * @param bytesPerSecond bandwidth, finite and not negative (stored as float32)
 * @param transitive type 0x00 (default, as FRR's `set extcommunity bandwidth`) or 0x40
 * @throws RangeError on an invalid AS or bandwidth
 */
export function linkBandwidthCommunity(asn: number, bytesPerSecond: number, transitive = true): string {
  if (!Number.isInteger(asn) || asn < 0 || asn > 0xffffffff) throw new RangeError(`link bandwidth: bad AS ${asn}`);
  if (!Number.isFinite(bytesPerSecond) || bytesPerSecond < 0 || bytesPerSecond > 3.4e38) {
    throw new RangeError(`link bandwidth must be a finite number of bytes per second >= 0, got ${bytesPerSecond}`);
  }
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  b[0] = transitive ? 0x00 : 0x40;
  b[1] = LINK_BANDWIDTH_SUBTYPE;
  v.setUint16(2, asn > 0xffff ? AS_TRANS : asn);
  v.setFloat32(4, bytesPerSecond);
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

/** The AS and bandwidth (bytes per second) of a link bandwidth extended community, or undefined for any other. */
export function parseLinkBandwidth(
  hex: string,
): { asn: number; bytesPerSecond: number; transitive: boolean } | undefined {
  if (!/^[0-9a-fA-F]{16}$/.test(hex)) return undefined;
  const b = Uint8Array.from(hex.match(/../g) as string[], (h) => Number.parseInt(h, 16));
  if ((b[0] !== 0x00 && b[0] !== 0x40) || b[1] !== LINK_BANDWIDTH_SUBTYPE) return undefined;
  const v = new DataView(b.buffer);
  return { asn: v.getUint16(2), bytesPerSecond: v.getFloat32(4), transitive: b[0] === 0x00 };
}
