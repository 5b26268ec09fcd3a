/**
 * The two IPv6 Neighbor Discovery messages BGP unnumbered needs (RFC 4861 §4.1, §4.2): Router Solicitation and Router
 * Advertisement, as ICMPv6 message bodies (the kernel fills the checksum of a raw ICMPv6 socket, RFC 3542 §3.1).
 * Pure functions over Uint8Array.
 * @module
 */

/** ICMPv6 type of a Router Solicitation. */
export const ND_ROUTER_SOLICITATION = 133;
/** ICMPv6 type of a Router Advertisement. */
export const ND_ROUTER_ADVERTISEMENT = 134;
/** Option type of the Source Link-Layer Address option (RFC 4861 §4.6.1). */
const OPTION_SOURCE_LINK_LAYER = 1;

/** A Neighbor Discovery message that cannot be valid (RFC 4861 §6.1: such messages are silently discarded). */
export class NdError extends Error {
  /** Always 'NdError'. */
  override readonly name = 'NdError';
}

/** A decoded Router Solicitation (RFC 4861 §4.1). */
export interface RouterSolicitation {
  type: 'router-solicitation';
  /** The sender's link-layer address ('02:00:00:00:00:01'), when it sent the option. */
  sourceLinkLayerAddress?: string;
}

/** A decoded Router Advertisement (RFC 4861 §4.2). */
export interface RouterAdvertisement {
  type: 'router-advertisement';
  /** Cur Hop Limit (0: unspecified). */
  curHopLimit: number;
  /** M flag: addresses from DHCPv6. */
  managed: boolean;
  /** O flag: other configuration from DHCPv6. */
  other: boolean;
  /** Router Lifetime, seconds (0: not a default router). */
  routerLifetime: number;
  /** Reachable Time, ms (0: unspecified). */
  reachableTime: number;
  /** Retrans Timer, ms (0: unspecified). */
  retransTimer: number;
  /** The sender's link-layer address, when it sent the option. */
  sourceLinkLayerAddress?: string;
}

/** The Neighbor Discovery messages {@link decodeNdMessage} understands. */
export type NdMessage = RouterSolicitation | RouterAdvertisement;

/** What {@link encodeRouterAdvertisement} sends; every field defaults to 0 / false / absent. */
export interface RouterAdvertisementInit {
  /** Cur Hop Limit. */
  curHopLimit?: number;
  /** Router Lifetime, seconds (0..65535). Default 0: we are no default router. */
  routerLifetime?: number;
  /** Our link-layer address for the Source Link-Layer Address option ('02:00:00:00:00:01'). */
  sourceLinkLayerAddress?: string;
}

function macBytes(mac: string): Uint8Array {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p)))
    throw new RangeError(`not a MAC address: ${JSON.stringify(mac)}`);
  return Uint8Array.from(parts.map((p) => Number.parseInt(p, 16)));
}

function sourceOption(mac: string | undefined): number[] {
  return mac === undefined ? [] : [OPTION_SOURCE_LINK_LAYER, 1, ...macBytes(mac)];
}

/** Encodes a Router Solicitation (type 133), with our link-layer address when given. */
export function encodeRouterSolicitation(sourceLinkLayerAddress?: string): Uint8Array {
  return Uint8Array.from([ND_ROUTER_SOLICITATION, 0, 0, 0, 0, 0, 0, 0, ...sourceOption(sourceLinkLayerAddress)]);
}

/**
 * Encodes a Router Advertisement (type 134) with no prefix information: enough for a neighbour to learn our link-local
 * address (FRR's zebra learns BGP unnumbered neighbours from the router advertisements it receives).
 * @throws RangeError on out-of-range fields or a malformed MAC address
 */
export function encodeRouterAdvertisement(init: RouterAdvertisementInit = {}): Uint8Array {
  const hop = init.curHopLimit ?? 0;
  const life = init.routerLifetime ?? 0;
  if (!Number.isInteger(hop) || hop < 0 || hop > 255) throw new RangeError(`curHopLimit must be 0..255, got ${hop}`);
  if (!Number.isInteger(life) || life < 0 || life > 0xffff)
    throw new RangeError(`routerLifetime must be 0..65535, got ${life}`);
  const head = [ND_ROUTER_ADVERTISEMENT, 0, 0, 0, hop, 0, life >> 8, life & 0xff, 0, 0, 0, 0, 0, 0, 0, 0];
  return Uint8Array.from([...head, ...sourceOption(init.sourceLinkLayerAddress)]);
}

function formatMac(b: Uint8Array, p: number): string {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) out.push(b[p + i]!.toString(16).padStart(2, '0'));
  return out.join(':');
}

/**
 * Decodes an ICMPv6 message body as received on a raw ICMPv6 socket. Returns undefined for other ICMPv6 types.
 * @throws NdError for a Router Solicitation or Advertisement that fails RFC 4861 §6.1 validation (code not 0, too
 * short, an option of length 0 or overrunning the message)
 */
export function decodeNdMessage(bytes: Uint8Array): NdMessage | undefined {
  if (bytes.length < 4) throw new NdError(`ICMPv6 message of ${bytes.length} octets`);
  const type = bytes[0]!;
  if (type !== ND_ROUTER_SOLICITATION && type !== ND_ROUTER_ADVERTISEMENT) return undefined;
  if (bytes[1] !== 0) throw new NdError(`ICMPv6 type ${type} with code ${bytes[1]}`);
  const fixed = type === ND_ROUTER_SOLICITATION ? 8 : 16;
  if (bytes.length < fixed) throw new NdError(`ICMPv6 type ${type} of ${bytes.length} octets (at least ${fixed})`);
  let source: string | undefined;
  for (let p = fixed; p < bytes.length; ) {
    if (p + 2 > bytes.length) throw new NdError('truncated option header');
    const len = bytes[p + 1]! * 8;
    if (len === 0) throw new NdError(`option ${bytes[p]} has length 0`);
    if (p + len > bytes.length) throw new NdError(`option ${bytes[p]} overruns the message`);
    // RFC 4861 §4.6.1: on Ethernet the option is 8 octets, 6 of them the address
    if (bytes[p] === OPTION_SOURCE_LINK_LAYER && len === 8) source = formatMac(bytes, p + 2);
    p += len;
  }
  if (type === ND_ROUTER_SOLICITATION) {
    return source === undefined
      ? { type: 'router-solicitation' }
      : { type: 'router-solicitation', sourceLinkLayerAddress: source };
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const ra: RouterAdvertisement = {
    type: 'router-advertisement',
    curHopLimit: bytes[4]!,
    managed: (bytes[5]! & 0x80) !== 0,
    other: (bytes[5]! & 0x40) !== 0,
    routerLifetime: v.getUint16(6),
    reachableTime: v.getUint32(8),
    retransTimer: v.getUint32(12),
  };
  if (source !== undefined) ra.sourceLinkLayerAddress = source;
  return ra;
}
