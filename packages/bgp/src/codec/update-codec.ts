/**
 * UPDATE message body and path attributes (RFC 4271 §4.3/§5/§6.3, RFC 4760, RFC 6793, RFC 7606, RFC 7911) (internal).
 */
import {
  ATTRIBUTE_RULES,
  type AttributeInput,
  EXPECTED_FLAGS,
  familyAddPath,
  ignored,
  lengthValid,
  OPT_TRANS,
  ORIGINS,
  SEGMENT_TYPES,
  updateError,
} from './attribute-rules.js';
import { BgpError } from './bgp-error.js';
import { communityToNumber, largeCommunityToNumbers } from './communities.js';
import { AS_TRANS, AttributeFlag, AttributeType, ErrorCode, UpdateErrorSubcode } from './constants.js';
import { parseIPv4, parseIPv6Into } from './ip.js';
import { decodePrefixes, isIPv6Text, writeIPv4Prefix, writeIPv6Prefix } from './prefix-codec.js';
import type {
  Aggregator,
  AsPathSegment,
  AttributeEncoding,
  AttributeError,
  CodecOptions,
  MpReachNlri,
  PathAttributes,
  RawAttribute,
  UpdateMessage,
} from './types.js';
import { checkUint, copyBytes, type Writer } from './writer.js';

const T = AttributeType;
const OPTIONAL = AttributeFlag.OPTIONAL;
const PARTIAL = AttributeFlag.PARTIAL;
const EXTENDED = AttributeFlag.EXTENDED_LENGTH;

/** Per-UPDATE decoding state for RFC 7606 bookkeeping. */
interface Ctx {
  errors: AttributeError[];
  withdraw: boolean;
}

function malformed(
  ctx: Ctx,
  attributeType: number,
  action: AttributeError['action'],
  subcode: number,
  data: Uint8Array,
  reason: string,
): void {
  if (action === 'treat-as-withdraw') ctx.withdraw = true;
  ctx.errors.push({ attributeType, action, code: ErrorCode.UPDATE_MESSAGE, subcode, data, reason });
}

/**
 * Decodes an UPDATE body in `[start, end)`. Session-reset errors throw {@link BgpError}; RFC 7606 treat-as-withdraw and
 * attribute-discard errors are reported in `malformed`.
 */
export function decodeUpdate(
  b: Uint8Array,
  v: DataView,
  start: number,
  end: number,
  options: CodecOptions,
): UpdateMessage {
  const four = options.fourOctetAs !== false;
  const addPath4 = options.addPath?.ipv4Unicast === true;
  // RFC 4271 §6.3: Withdrawn Routes Length + Total Attribute Length + 23 must not exceed the message length
  const wlen = v.getUint16(start);
  let p = start + 2;
  if (p + wlen + 2 > end)
    throw updateError(UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, `withdrawn routes length ${wlen} is too large`);
  const withdrawn: string[] = [];
  const withdrawnIds = addPath4 ? ([] as number[]) : undefined;
  // RFC 7606 §3(g), §5.3: the Withdrawn Routes field is checked like the NLRI field; errors reset the session
  if (!decodePrefixes(b, v, p, p + wlen, false, withdrawn, withdrawnIds))
    throw updateError(UpdateErrorSubcode.INVALID_NETWORK_FIELD, 'withdrawn routes field is syntactically incorrect');
  p += wlen;
  const alen = v.getUint16(p);
  p += 2;
  const attrEnd = p + alen;
  if (attrEnd > end)
    throw updateError(UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, `total path attribute length ${alen} is too large`);
  const nlri: string[] = [];
  const nlriIds = addPath4 ? ([] as number[]) : undefined;
  // RFC 4271 §6.3 Invalid Network Field; RFC 7606 §5.3: session reset
  if (!decodePrefixes(b, v, attrEnd, end, false, nlri, nlriIds))
    throw updateError(UpdateErrorSubcode.INVALID_NETWORK_FIELD, 'NLRI field is syntactically incorrect');

  const ctx: Ctx = { errors: [], withdraw: false };
  const input: AttributeInput = { b, v, attrStart: 0, vs: 0, ve: 0, len: 0, four, options };
  const a: PathAttributes = {};
  const seen = new Uint8Array(256);
  const order: number[] = [];
  let extendedLength: number[] | undefined;
  let partial: number[] | undefined;
  let unknown: RawAttribute[] | undefined;

  while (p < attrEnd) {
    const attrStart = p;
    // RFC 7606 §4: fewer octets than an attribute header left: treat-as-withdraw, NLRI located by Total Attribute Length
    if (attrEnd - p < 3 || (attrEnd - p < 4 && (b[p]! & EXTENDED) !== 0)) {
      malformed(
        ctx,
        0,
        'treat-as-withdraw',
        UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST,
        new Uint8Array(0),
        'path attributes end inside an attribute header',
      );
      break;
    }
    const flags = b[p]!;
    const type = b[p + 1]!;
    const ext = (flags & EXTENDED) !== 0;
    const len = ext ? v.getUint16(p + 2) : b[p + 2]!;
    const vs = p + (ext ? 4 : 3);
    const ve = vs + len;
    // RFC 7606 §4: an attribute overrunning the Total Attribute Length: treat-as-withdraw
    if (ve > attrEnd) {
      malformed(
        ctx,
        type,
        'treat-as-withdraw',
        UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR,
        copyBytes(b, attrStart, attrEnd),
        `attribute ${type} overruns the path attributes`,
      );
      break;
    }
    p = ve;
    const rule = ATTRIBUTE_RULES[type];

    if (seen[type]) {
      // RFC 7606 §3(g): a repeated MP_REACH/MP_UNREACH is Malformed Attribute List (session reset); other repeats
      // are discarded
      if (type === T.MP_REACH_NLRI || type === T.MP_UNREACH_NLRI)
        throw updateError(UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST, `attribute ${type} appears more than once`);
      malformed(
        ctx,
        type,
        'attribute-discard',
        UpdateErrorSubcode.MALFORMED_ATTRIBUTE_LIST,
        copyBytes(b, attrStart, ve),
        `attribute ${type} appears more than once`,
      );
      continue;
    }
    seen[type] = 1;

    if (rule === undefined) {
      // RFC 4271 §6.3: an unrecognized well-known attribute (Optional bit clear) is an error (session reset)
      if ((flags & OPTIONAL) === 0)
        throw updateError(
          UpdateErrorSubcode.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          `unrecognized well-known attribute ${type}`,
          copyBytes(b, attrStart, ve),
        );
      if (!unknown) unknown = [];
      unknown.push({ flags, type, value: copyBytes(b, vs, ve) });
      order.push(type);
      continue;
    }

    if ((flags & OPT_TRANS) !== rule.flags) {
      // RFC 7606 §3(c): Optional/Transitive bits in conflict: treat-as-withdraw (MP_REACH/MP_UNREACH are still parsed,
      // since treat-as-withdraw needs their NLRI, RFC 7606 §5.1)
      malformed(
        ctx,
        type,
        'treat-as-withdraw',
        UpdateErrorSubcode.ATTRIBUTE_FLAGS_ERROR,
        copyBytes(b, attrStart, ve),
        `attribute ${type} has flags 0x${flags.toString(16)}`,
      );
      if (!rule.decodeDespiteFlags) continue;
    }
    if (ignored(rule, input)) continue;
    // RFC 7606 §4: zero length is a syntax error for every attribute except AS_PATH and ATOMIC_AGGREGATE; each rule's
    // valid lengths say so, with the attribute's own action
    if (!lengthValid(rule, len, four)) {
      malformed(
        ctx,
        type,
        rule.lengthAction,
        UpdateErrorSubcode.ATTRIBUTE_LENGTH_ERROR,
        copyBytes(b, attrStart, ve),
        `${rule.name} length`,
      );
      continue;
    }
    input.attrStart = attrStart;
    input.vs = vs;
    input.ve = ve;
    input.len = len;
    const fault = rule.decode(input, a);
    if (fault !== undefined) {
      malformed(ctx, type, fault.action, fault.subcode, fault.data ?? copyBytes(b, attrStart, ve), fault.reason);
      continue;
    }
    order.push(type);
    if (ext && len <= 255) {
      extendedLength ??= [];
      extendedLength.push(type);
    }
    if ((flags & PARTIAL) !== 0) {
      partial ??= [];
      partial.push(type);
    }
  }

  if (unknown) a.unknown = unknown;

  // RFC 4271 §6.3 / RFC 7606 §3(d): a missing well-known mandatory attribute (ORIGIN, AS_PATH; NEXT_HOP with IPv4
  // NLRI, RFC 4760 §3) is treat-as-withdraw; data = the missing type code
  const reach =
    nlri.length > 0 || (a.mpReach !== undefined && (a.mpReach.nlri.length > 0 || !!a.mpReach.raw?.nlri.length));
  if (reach) {
    const missing = (t: number, name: string) =>
      malformed(
        ctx,
        t,
        'treat-as-withdraw',
        UpdateErrorSubcode.MISSING_WELL_KNOWN_ATTRIBUTE,
        Uint8Array.of(t),
        `missing well-known attribute ${name}`,
      );
    if (!seen[T.ORIGIN]) missing(T.ORIGIN, 'ORIGIN');
    if (!seen[T.AS_PATH]) missing(T.AS_PATH, 'AS_PATH');
    if (nlri.length > 0 && !seen[T.NEXT_HOP]) missing(T.NEXT_HOP, 'NEXT_HOP');
  }

  let ascending = true;
  for (let i = 1; i < order.length; i++) if (rank(order[i]!) < rank(order[i - 1]!)) ascending = false;
  if (!ascending || extendedLength || partial) {
    const encoding: AttributeEncoding = {};
    if (!ascending) encoding.order = order;
    if (extendedLength) encoding.extendedLength = extendedLength;
    if (partial) encoding.partial = partial;
    a.encoding = encoding;
  }

  const m: UpdateMessage = { type: 'update', withdrawn, attributes: a, nlri };
  if (withdrawnIds) m.withdrawnPathIds = withdrawnIds;
  if (nlriIds) m.nlriPathIds = nlriIds;
  if (ctx.errors.length > 0)
    m.malformed = { action: ctx.withdraw ? 'treat-as-withdraw' : 'attribute-discard', errors: ctx.errors };
  return m;
}

// ---------------------------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------------------------

/**
 * Canonical position of an attribute: MP_REACH_NLRI then MP_UNREACH_NLRI first (RFC 7606 §5.1: they SHALL be the very
 * first path attributes), then ascending type code (RFC 4271 §5).
 */
function rank(type: number): number {
  return type === T.MP_REACH_NLRI ? -2 : type === T.MP_UNREACH_NLRI ? -1 : type;
}

/** Known attribute types in canonical order. */
const KNOWN_TYPES: readonly number[] = [
  T.MP_REACH_NLRI,
  T.MP_UNREACH_NLRI,
  T.ORIGIN,
  T.AS_PATH,
  T.NEXT_HOP,
  T.MULTI_EXIT_DISC,
  T.LOCAL_PREF,
  T.ATOMIC_AGGREGATE,
  T.AGGREGATOR,
  T.COMMUNITIES,
  T.ORIGINATOR_ID,
  T.CLUSTER_LIST,
  T.EXTENDED_COMMUNITIES,
  T.AS4_PATH,
  T.AS4_AGGREGATOR,
  T.LARGE_COMMUNITIES,
];

/** State shared while encoding one attribute list. */
interface EncodeState {
  four: boolean;
  options: CodecOptions;
  /** AS4_PATH to add because a 2-octet AS_PATH needed AS_TRANS (RFC 6793 §4.2.2), when not given explicitly. */
  autoAs4Path?: AsPathSegment[];
  /** AS4_AGGREGATOR to add because a 2-octet AGGREGATOR needed AS_TRANS. */
  autoAs4Aggregator?: Aggregator;
}

function has(a: PathAttributes, type: number, st: EncodeState): boolean {
  switch (type) {
    case T.ORIGIN:
      return a.origin !== undefined;
    case T.AS_PATH:
      return a.asPath !== undefined;
    case T.NEXT_HOP:
      return a.nextHop !== undefined;
    case T.MULTI_EXIT_DISC:
      return a.med !== undefined;
    case T.LOCAL_PREF:
      return a.localPref !== undefined;
    case T.ATOMIC_AGGREGATE:
      return a.atomicAggregate === true;
    case T.AGGREGATOR:
      return a.aggregator !== undefined;
    case T.COMMUNITIES:
      return a.communities !== undefined && a.communities.length > 0;
    case T.ORIGINATOR_ID:
      return a.originatorId !== undefined;
    case T.CLUSTER_LIST:
      return a.clusterList !== undefined && a.clusterList.length > 0;
    case T.MP_REACH_NLRI:
      return a.mpReach !== undefined;
    case T.MP_UNREACH_NLRI:
      return a.mpUnreach !== undefined;
    case T.EXTENDED_COMMUNITIES:
      return a.extendedCommunities !== undefined && a.extendedCommunities.length > 0;
    case T.AS4_PATH:
      return a.as4Path !== undefined || st.autoAs4Path !== undefined;
    case T.AS4_AGGREGATOR:
      return a.as4Aggregator !== undefined || st.autoAs4Aggregator !== undefined;
    case T.LARGE_COMMUNITIES:
      return a.largeCommunities !== undefined && a.largeCommunities.length > 0;
  }
  return false;
}

function writeIPv4(w: Writer, name: string, text: unknown): void {
  const ip = typeof text === 'string' ? parseIPv4(text) : -1;
  if (ip < 0) throw new RangeError(`${name} must be an IPv4 address, got ${JSON.stringify(text)}`);
  w.u32(ip);
}

function writeIPv6(w: Writer, name: string, text: unknown): void {
  w.ensure(16);
  if (typeof text !== 'string' || !parseIPv6Into(text, text.length, w.buf, w.pos))
    throw new RangeError(`${name} must be an IPv6 address, got ${JSON.stringify(text)}`);
  w.pos += 16;
}

function writeAsPath(w: Writer, segments: readonly AsPathSegment[], four: boolean): void {
  for (const s of segments) {
    const t = SEGMENT_TYPES.indexOf(s.type) + 1;
    if (t === 0) throw new RangeError(`unknown AS_PATH segment type ${JSON.stringify(s.type)}`);
    const asns = s.asns;
    // RFC 4271 §5.1.2: segments hold at most 255 AS numbers; longer ones are split
    for (let i = 0; i < asns.length || (i === 0 && asns.length === 0); i += 255) {
      const n = Math.min(255, asns.length - i);
      if (n === 0) throw new RangeError('AS_PATH segments must not be empty');
      w.u8(t);
      w.u8(n);
      for (let k = i; k < i + n; k++) {
        const asn = checkUint('AS number', asns[k], 0xffffffff);
        if (four) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
}

function writeNextHops(w: Writer, m: MpReachNlri): void {
  const lenPos = w.pos;
  w.u8(0);
  if (m.raw) {
    w.bytes(m.raw.nextHop);
  } else if (m.afi === 1 && !isIPv6Text(m.nextHop)) {
    writeIPv4(w, 'mpReach.nextHop', m.nextHop);
  } else {
    writeIPv6(w, 'mpReach.nextHop', m.nextHop);
    if (m.linkLocalNextHop !== undefined) writeIPv6(w, 'mpReach.linkLocalNextHop', m.linkLocalNextHop);
  }
  const n = w.pos - lenPos - 1;
  if (n > 255) throw new RangeError('MP_REACH_NLRI next hop longer than 255 octets');
  w.buf[lenPos] = n;
}

function writePrefixList(
  w: Writer,
  prefixes: readonly string[],
  ids: readonly number[] | undefined,
  v6: boolean,
  addPath: boolean,
): void {
  for (let i = 0; i < prefixes.length; i++) {
    const id = addPath ? (ids?.[i] ?? 0) : undefined;
    if (v6) writeIPv6Prefix(w, prefixes[i]!, id);
    else writeIPv4Prefix(w, prefixes[i]!, id);
  }
}

function writeValue(w: Writer, a: PathAttributes, type: number, st: EncodeState): void {
  const four = st.four;
  switch (type) {
    case T.ORIGIN: {
      const o = ORIGINS.indexOf(a.origin!);
      if (o < 0) throw new RangeError(`origin must be igp, egp or incomplete, got ${JSON.stringify(a.origin)}`);
      w.u8(o);
      return;
    }
    case T.AS_PATH:
      writeAsPath(w, a.asPath!, four);
      return;
    case T.NEXT_HOP:
      writeIPv4(w, 'nextHop', a.nextHop);
      return;
    case T.MULTI_EXIT_DISC:
      w.u32(checkUint('med', a.med, 0xffffffff));
      return;
    case T.LOCAL_PREF:
      w.u32(checkUint('localPref', a.localPref, 0xffffffff));
      return;
    case T.ATOMIC_AGGREGATE:
      return;
    case T.AGGREGATOR: {
      const g = a.aggregator!;
      const asn = checkUint('aggregator.asn', g.asn, 0xffffffff);
      if (four) w.u32(asn);
      else w.u16(asn > 0xffff ? AS_TRANS : asn);
      writeIPv4(w, 'aggregator.address', g.address);
      return;
    }
    case T.COMMUNITIES:
      for (const c of a.communities!) w.u32(communityToNumber(c));
      return;
    case T.ORIGINATOR_ID:
      writeIPv4(w, 'originatorId', a.originatorId);
      return;
    case T.CLUSTER_LIST:
      for (const c of a.clusterList!) writeIPv4(w, 'clusterList', c);
      return;
    case T.MP_REACH_NLRI: {
      const m = a.mpReach!;
      w.u16(checkUint('mpReach.afi', m.afi, 0xffff));
      w.u8(checkUint('mpReach.safi', m.safi, 0xff));
      writeNextHops(w, m);
      w.u8(0);
      if (m.raw) w.bytes(m.raw.nlri);
      else writePrefixList(w, m.nlri, m.pathIds, m.afi === 2, familyAddPath(st.options, m.afi, m.safi));
      return;
    }
    case T.MP_UNREACH_NLRI: {
      const m = a.mpUnreach!;
      w.u16(checkUint('mpUnreach.afi', m.afi, 0xffff));
      w.u8(checkUint('mpUnreach.safi', m.safi, 0xff));
      if (m.raw) w.bytes(m.raw);
      else writePrefixList(w, m.withdrawn, m.pathIds, m.afi === 2, familyAddPath(st.options, m.afi, m.safi));
      return;
    }
    case T.EXTENDED_COMMUNITIES:
      for (const c of a.extendedCommunities!) {
        if (typeof c !== 'string' || c.length !== 16)
          throw new RangeError(`extended community must be 16 hex digits, got ${JSON.stringify(c)}`);
        w.ensure(8);
        for (let k = 0; k < 8; k++) {
          const x = Number.parseInt(c.slice(2 * k, 2 * k + 2), 16);
          if (Number.isNaN(x))
            throw new RangeError(`extended community must be 16 hex digits, got ${JSON.stringify(c)}`);
          w.buf[w.pos++] = x;
        }
      }
      return;
    case T.AS4_PATH:
      writeAsPath(w, a.as4Path ?? st.autoAs4Path!, true);
      return;
    case T.AS4_AGGREGATOR: {
      const g = a.as4Aggregator ?? st.autoAs4Aggregator!;
      w.u32(checkUint('as4Aggregator.asn', g.asn, 0xffffffff));
      writeIPv4(w, 'as4Aggregator.address', g.address);
      return;
    }
    case T.LARGE_COMMUNITIES:
      for (const c of a.largeCommunities!) {
        const [x, y, z] = largeCommunityToNumbers(c);
        w.u32(x);
        w.u32(y);
        w.u32(z);
      }
      return;
  }
}

function defaultFlags(type: number): number {
  const e = EXPECTED_FLAGS[type]!;
  return e < 0 ? OPT_TRANS : e;
}

/** Writes one attribute: flags, type, 1- or 2-octet length, value (the value is written once, then moved if short). */
function writeAttribute(w: Writer, flags: number, type: number, forceExt: boolean, body: () => void): void {
  w.ensure(4);
  const start = w.pos;
  w.pos += 4;
  body();
  const len = w.pos - start - 4;
  if (len > 0xffff) throw new RangeError(`attribute ${type} longer than 65535 octets`);
  if (len > 255 || forceExt) {
    w.buf[start] = (flags | EXTENDED) & 0xf0;
    w.buf[start + 1] = type;
    w.view.setUint16(start + 2, len);
  } else {
    w.buf[start] = flags & ~EXTENDED & 0xf0;
    w.buf[start + 1] = type;
    w.buf[start + 2] = len;
    w.buf.copyWithin(start + 3, start + 4, w.pos);
    w.pos--;
  }
}

function hasAs4(segments: readonly AsPathSegment[] | undefined): boolean {
  if (!segments) return false;
  for (const s of segments) for (const asn of s.asns) if (asn > 0xffff) return true;
  return false;
}

/** Writes the path attributes of `a` (without the Total Path Attribute Length). */
export function encodeAttributes(w: Writer, a: PathAttributes, options: CodecOptions): void {
  const st: EncodeState = { four: options.fourOctetAs !== false, options };
  if (!st.four) {
    // RFC 6793 §4.2.2: a NEW speaker sending AS numbers above 65535 to an OLD one puts AS_TRANS in AS_PATH/AGGREGATOR
    // and the real values in AS4_PATH (without confederation segments) / AS4_AGGREGATOR
    if (a.as4Path === undefined && hasAs4(a.asPath))
      st.autoAs4Path = a.asPath!.filter((s) => s.type === 'sequence' || s.type === 'set');
    if (a.as4Aggregator === undefined && a.aggregator && a.aggregator.asn > 0xffff) st.autoAs4Aggregator = a.aggregator;
  }
  const enc = a.encoding;
  const ext = enc?.extendedLength;
  const part = enc?.partial;
  const unknown = a.unknown;
  const emitted = enc?.order ? new Uint8Array(256) : undefined;
  const emit = (type: number) => {
    if (emitted) {
      if (emitted[type]) return;
      emitted[type] = 1;
    }
    if (EXPECTED_FLAGS[type]! >= 0) {
      if (!has(a, type, st)) return;
      let flags = defaultFlags(type);
      if (part?.includes(type)) flags |= PARTIAL;
      writeAttribute(w, flags, type, ext?.includes(type) === true, () => writeValue(w, a, type, st));
      return;
    }
    if (!unknown) return;
    for (const u of unknown) {
      if (u.type !== type) continue;
      const forceExt = (u.flags & EXTENDED) !== 0;
      writeAttribute(w, checkUint('attribute flags', u.flags, 0xff), type, forceExt, () => w.bytes(u.value));
    }
  };
  if (enc?.order) for (const t of enc.order) if (Number.isInteger(t) && t >= 0 && t < 256) emit(t);
  if (!unknown || unknown.length === 0) {
    for (const t of KNOWN_TYPES) emit(t);
    return;
  }
  // canonical order across known and unknown attributes
  const types = new Set<number>(KNOWN_TYPES);
  for (const u of unknown) types.add(checkUint('attribute type', u.type, 0xff));
  for (const t of [...types].sort((x, y) => rank(x) - rank(y))) emit(t);
}

/** Encodes an UPDATE body (after the header). */
export function encodeUpdate(w: Writer, m: UpdateMessage, options: CodecOptions): void {
  const addPath4 = options.addPath?.ipv4Unicast === true;
  const wpos = w.pos;
  w.u16(0);
  writePrefixList(w, m.withdrawn, m.withdrawnPathIds, false, addPath4);
  w.view.setUint16(wpos, w.pos - wpos - 2);
  const apos = w.pos;
  w.u16(0);
  encodeAttributes(w, m.attributes, options);
  const alen = w.pos - apos - 2;
  if (alen > 0xffff) throw new RangeError('path attributes longer than 65535 octets');
  w.view.setUint16(apos, alen);
  writePrefixList(w, m.nlri, m.nlriPathIds, false, addPath4);
}
