import {
  Afi,
  AttributeFlag,
  AttributeType,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MessageType,
} from './constants.js';
import { parsedPrefixLength, parseIPv4Prefix, parseIPv6Into } from './ip.js';
import { isIPv6Text, parseIPv6PrefixScratch, putIPv4Prefix, putIPv6Prefix } from './prefix-codec.js';
import type { AfiSafi, CodecOptions, PathAttributes, UpdateMessage } from './types.js';
import { encodeAttributes } from './update-codec.js';
import { checkUint, writer } from './writer.js';

/** Options of {@link packUpdates} and {@link packWithdrawals}: the negotiated options plus next hops and path id. */
export interface PackOptions extends CodecOptions {
  /** Global IPv6 next hop for the MP_REACH_NLRI of IPv6 prefixes; required when `prefixes` holds IPv6 prefixes. */
  ipv6NextHop?: string;
  /** Link-local IPv6 next hop sent after the global one (RFC 2545 §3). */
  ipv6LinkLocalNextHop?: string;
  /**
   * Send IPv4 prefixes in MP_REACH_NLRI (AFI 1) with `ipv6NextHop` (and `ipv6LinkLocalNextHop`) as their next hop
   * instead of in the NLRI field with NEXT_HOP: RFC 8950, only toward a peer that negotiated the extended next hop
   * capability for IPv4 unicast. `attributes.nextHop` is then not sent.
   */
  ipv4NextHopIPv6?: boolean;
  /** Path Identifier of every prefix when add-path is negotiated for its family. @default 0 */
  pathId?: number;
}

const MARKER = new Uint8Array(16).fill(0xff);

/** Where one message's fixed parts are, while packing. */
interface Template {
  /** Octets before the prefixes (header, lengths, attributes or MP attribute header). */
  head: Uint8Array;
  /** Octets after the prefixes (attributes that follow MP_REACH_NLRI; an empty Total Path Attribute Length). */
  tail: Uint8Array;
}

function maxLength(options: PackOptions): number {
  return options.extendedMessages ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** Encodes the attribute list with the shared writer and returns a copy. */
function attributeBytes(attributes: PathAttributes, options: CodecOptions, limit: number): Uint8Array {
  writer.reset(limit);
  encodeAttributes(writer, attributes, options);
  return writer.buf.slice(0, writer.pos);
}

function withoutMp(attributes: PathAttributes): PathAttributes {
  const { mpReach: _r, mpUnreach: _u, encoding: _e, ...rest } = attributes;
  return rest;
}

/**
 * Fills messages: `head` + as many prefixes as fit + `tail`, then patches the lengths through `finish`.
 * `put` writes one prefix at `pos` and returns the new position, or -1 when it does not fit before `limit`.
 */
function pack(
  prefixes: readonly string[],
  template: Template,
  max: number,
  put: (prefix: string, buf: Uint8Array, pos: number, limit: number) => number,
  finish: (msg: Uint8Array, prefixOctets: number) => void,
  others?: string[],
): Uint8Array[] {
  const out: Uint8Array[] = [];
  const { head, tail } = template;
  const limit = max - tail.length;
  if (head.length + 1 > limit) throw new RangeError('path attributes leave no room for prefixes in one message');
  const buf = writer.buf;
  let pos = -1;
  let count = 0;
  const flush = () => {
    buf.set(tail, pos);
    const n = pos + tail.length;
    buf[16] = n >>> 8;
    buf[17] = n & 0xff;
    const msg = buf.slice(0, n);
    finish(msg, pos - head.length);
    out.push(msg);
  };
  for (const prefix of prefixes) {
    if (pos < 0) {
      buf.set(head, 0);
      pos = head.length;
      count = 0;
    }
    let next = put(prefix, buf, pos, limit);
    if (next === OTHER_FAMILY) {
      others!.push(prefix);
      continue;
    }
    if (next < 0) {
      if (count === 0) throw new RangeError(`prefix ${prefix} does not fit in one message`);
      flush();
      buf.set(head, 0);
      pos = head.length;
      count = 0;
      next = put(prefix, buf, pos, limit);
      if (next < 0) throw new RangeError(`prefix ${prefix} does not fit in one message`);
    }
    pos = next;
    count++;
  }
  if (pos >= 0 && count > 0) flush(); // no message when every prefix was of the other family
  return out;
}

/** Returned by a `put` function for a prefix of the other family (collected, then packed separately). */
const OTHER_FAMILY = -2;

function putV4(pathId: number | undefined, ipv6Too: boolean, nextHop: boolean) {
  return (prefix: string, buf: Uint8Array, pos: number, limit: number): number => {
    const ip = typeof prefix === 'string' ? parseIPv4Prefix(prefix) : -1;
    if (ip < 0) {
      if (ipv6Too && typeof prefix === 'string' && isIPv6Text(prefix)) return OTHER_FAMILY;
      throw new RangeError(`not an IPv4 prefix: ${JSON.stringify(prefix)}`);
    }
    if (!nextHop) throw new RangeError('attributes.nextHop is required for IPv4 prefixes');
    const len = parsedPrefixLength;
    const size = 1 + ((len + 7) >>> 3) + (pathId === undefined ? 0 : 4);
    if (pos + size > limit) return -1;
    if (pathId !== undefined) pos = putPathId(buf, pos, pathId);
    return putIPv4Prefix(buf, pos, ip, len);
  };
}

/** Writes an add-path identifier (RFC 7911) big-endian at `pos`; returns the next position. */
function putPathId(buf: Uint8Array, pos: number, pathId: number): number {
  buf[pos] = pathId >>> 24;
  buf[pos + 1] = pathId >>> 16;
  buf[pos + 2] = pathId >>> 8;
  buf[pos + 3] = pathId;
  return pos + 4;
}

function putV6(pathId: number | undefined) {
  return (prefix: string, buf: Uint8Array, pos: number, limit: number): number => {
    const len = parseIPv6PrefixScratch(prefix);
    if (len < 0) throw new RangeError(`not an IPv6 prefix: ${JSON.stringify(prefix)}`);
    const size = 1 + ((len + 7) >>> 3) + (pathId === undefined ? 0 : 4);
    if (pos + size > limit) return -1;
    if (pathId !== undefined) pos = putPathId(buf, pos, pathId);
    return putIPv6Prefix(buf, pos, len);
  };
}

function header(rest: number[]): number[] {
  return [...MARKER, 0, 0, MessageType.UPDATE, ...rest];
}

function pathIdFor(options: PackOptions, afi: number): number | undefined {
  const on = afi === 1 ? options.addPath?.ipv4Unicast : options.addPath?.ipv6Unicast;
  return on ? checkUint('pathId', options.pathId ?? 0, 0xffffffff) : undefined;
}

/** An MP attribute header with extended length (flags 0x90), AFI/SAFI and `more` octets, as bytes. */
function mpHeader(type: number, afi: number, more: Uint8Array): number[] {
  return [AttributeFlag.OPTIONAL | AttributeFlag.EXTENDED_LENGTH, type, 0, 0, 0, afi, 1, ...more];
}

/**
 * Encodes the announcement of `prefixes` (IPv4 and IPv6 may be mixed) with the shared `attributes` into as few UPDATE
 * messages as the maximum message size allows: IPv4 prefixes in the NLRI field (with `attributes.nextHop`), IPv6
 * prefixes in MP_REACH_NLRI (first attribute, extended length, with `options.ipv6NextHop`).
 * `attributes.mpReach`, `mpUnreach` and `encoding` are ignored.
 * @throws RangeError when a prefix or attribute is invalid or the attributes alone do not fit in one message.
 */
export function packUpdates(
  attributes: PathAttributes,
  prefixes: readonly string[],
  options: PackOptions = {},
): Uint8Array[] {
  const max = maxLength(options);
  const base = withoutMp(attributes);
  if (options.ipv4NextHopIPv6) {
    // RFC 8950 §3: IPv4 unicast NLRI with an IPv6 next hop travel in MP_REACH_NLRI (AFI 1), without NEXT_HOP
    const v4: string[] = [];
    const v6: string[] = [];
    for (const p of prefixes) (typeof p === 'string' && isIPv6Text(p) ? v6 : v4).push(p);
    const out = v4.length > 0 ? packMpReach(Afi.IPV4, v4, base, options, max) : [];
    if (v6.length > 0) out.push(...packMpReach(Afi.IPV6, v6, base, options, max));
    return out;
  }
  const v6: string[] = [];
  // one pass packs the IPv4 prefixes and sets the IPv6 ones aside
  const attrs4 = attributeBytes(base, options, max);
  const head4 = Uint8Array.from([...header([0, 0, attrs4.length >>> 8, attrs4.length & 0xff]), ...attrs4]);
  const put4 = putV4(pathIdFor(options, 1), true, base.nextHop !== undefined);
  const out = pack(prefixes, { head: head4, tail: new Uint8Array(0) }, max, put4, () => {}, v6);
  if (v6.length > 0) out.push(...packMpReach(Afi.IPV6, v6, base, options, max));
  return out;
}

/** Packs `prefixes` of one family into UPDATEs whose MP_REACH_NLRI carries `options.ipv6NextHop` (and link-local). */
function packMpReach(
  afi: number,
  prefixes: readonly string[],
  base: PathAttributes,
  options: PackOptions,
  max: number,
): Uint8Array[] {
  const { nextHop: _n, ...rest } = base;
  const attrs = attributeBytes(rest, options, max);
  if (options.ipv6NextHop === undefined) {
    throw new RangeError(
      afi === Afi.IPV6
        ? 'options.ipv6NextHop is required for IPv6 prefixes'
        : 'options.ipv6NextHop is required for IPv4 prefixes with ipv4NextHopIPv6',
    );
  }
  writer.reset(64);
  writer.u8(0);
  const nh6 = (text: string, name: string) => {
    writer.ensure(16);
    if (!parseIPv6Into(text, text.length, writer.buf, writer.pos))
      throw new RangeError(`${name} must be an IPv6 address, got ${JSON.stringify(text)}`);
    writer.pos += 16;
  };
  nh6(options.ipv6NextHop, 'ipv6NextHop');
  if (options.ipv6LinkLocalNextHop !== undefined) nh6(options.ipv6LinkLocalNextHop, 'ipv6LinkLocalNextHop');
  writer.buf[0] = writer.pos - 1;
  writer.u8(0); // reserved
  const nh = writer.buf.slice(0, writer.pos);
  // header, withdrawn length 0, total attribute length (patched), MP_REACH_NLRI header, next hop, NLRI, other attrs
  const head = Uint8Array.from(header([0, 0, 0, 0, ...mpHeader(AttributeType.MP_REACH_NLRI, afi, nh)]));
  const finish = (msg: Uint8Array, prefixOctets: number) => {
    const mpLen = 3 + nh.length + prefixOctets;
    msg[25] = mpLen >>> 8;
    msg[26] = mpLen & 0xff;
    const total = 4 + mpLen + attrs.length;
    msg[21] = total >>> 8;
    msg[22] = total & 0xff;
  };
  const put = afi === Afi.IPV6 ? putV6(pathIdFor(options, 2)) : putV4(pathIdFor(options, 1), false, true);
  return pack(prefixes, { head, tail: attrs }, max, put, finish);
}

/**
 * Encodes the withdrawal of `prefixes` (IPv4 and IPv6 may be mixed) into as few UPDATE messages as the maximum message
 * size allows: IPv4 in the Withdrawn Routes field, IPv6 in MP_UNREACH_NLRI.
 * @throws RangeError when a prefix is invalid.
 */
export function packWithdrawals(prefixes: readonly string[], options: PackOptions = {}): Uint8Array[] {
  const max = maxLength(options);
  const v6: string[] = [];
  const head4 = Uint8Array.from(header([0, 0]));
  const finish4 = (msg: Uint8Array, prefixOctets: number) => {
    msg[19] = prefixOctets >>> 8;
    msg[20] = prefixOctets & 0xff;
  };
  const put4 = putV4(pathIdFor(options, 1), true, true);
  const out = pack(prefixes, { head: head4, tail: Uint8Array.of(0, 0) }, max, put4, finish4, v6);
  if (v6.length > 0) {
    const head = Uint8Array.from(
      header([0, 0, 0, 0, ...mpHeader(AttributeType.MP_UNREACH_NLRI, Afi.IPV6, new Uint8Array(0))]),
    );
    const finish = (msg: Uint8Array, prefixOctets: number) => {
      const mpLen = 3 + prefixOctets;
      msg[25] = mpLen >>> 8;
      msg[26] = mpLen & 0xff;
      const total = 4 + mpLen;
      msg[21] = total >>> 8;
      msg[22] = total & 0xff;
    };
    out.push(...pack(v6, { head, tail: new Uint8Array(0) }, max, putV6(pathIdFor(options, 2)), finish));
  }
  return out;
}

/**
 * The End-of-RIB marker of a family (RFC 4724 §2): an empty UPDATE for IPv4 unicast, an UPDATE with only an empty
 * MP_UNREACH_NLRI for any other family.
 */
export function endOfRib(family: AfiSafi = { afi: 1, safi: 1 }): UpdateMessage {
  if (family.afi === 1 && family.safi === 1) return { type: 'update', withdrawn: [], attributes: {}, nlri: [] };
  return {
    type: 'update',
    withdrawn: [],
    attributes: { mpUnreach: { afi: family.afi, safi: family.safi, withdrawn: [] } },
    nlri: [],
  };
}

/** The family whose End-of-RIB marker `message` is (RFC 4724 §2), or undefined when it is not one. */
export function isEndOfRib(message: UpdateMessage): AfiSafi | undefined {
  if (message.withdrawn.length !== 0 || message.nlri.length !== 0) return undefined;
  const a = message.attributes;
  const keys = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined && k !== 'encoding');
  if (keys.length === 0) return { afi: 1, safi: 1 };
  const u = a.mpUnreach;
  if (keys.length === 1 && u && u.withdrawn.length === 0 && (u.raw === undefined || u.raw.length === 0))
    return { afi: u.afi, safi: u.safi };
  return undefined;
}
