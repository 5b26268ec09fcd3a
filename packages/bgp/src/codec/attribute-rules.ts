/**
 * The path attributes an UPDATE may carry, as data (internal): per type code the Optional/Transitive bits it must
 * carry (RFC 4271 §5, RFC 4760, RFC 6793, RFC 8092), when it is ignored, which lengths are valid and what RFC 7606 says
 * to do when the length is wrong, and the decoder of its value. `decodeUpdate` drives this table with one loop.
 */
import { BgpError } from './bgp-error.js';
import { communityFromNumber } from './communities.js';
import { AttributeFlag, AttributeType, ErrorCode, UpdateErrorSubcode } from './constants.js';
import { formatIPv4, formatIPv6 } from './ip.js';
import { decodePrefixes } from './prefix-codec.js';
import type {
  AsPathSegment,
  AttributeError,
  CodecOptions,
  MpReachNlri,
  MpUnreachNlri,
  Origin,
  PathAttributes,
} from './types.js';
import { copyBytes } from './writer.js';

const T = AttributeType;
const WELL_KNOWN = AttributeFlag.TRANSITIVE;
/** The Optional and Transitive bits together. */
export const OPT_TRANS = AttributeFlag.OPTIONAL | AttributeFlag.TRANSITIVE;
const OPT_NON_TRANS = AttributeFlag.OPTIONAL;

/** ORIGIN values by wire code. */
export const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];
/** AS_PATH segment types by wire code − 1. */
export const SEGMENT_TYPES: readonly AsPathSegment['type'][] = ['set', 'sequence', 'confed-sequence', 'confed-set'];
const HEX = '0123456789abcdef';

/** An UPDATE Message Error (RFC 4271 §6.3) that resets the session. */
export function updateError(subcode: number, reason: string, data?: Uint8Array): BgpError {
  return new BgpError(ErrorCode.UPDATE_MESSAGE, subcode, data, `UPDATE: ${reason}`);
}

/** The attribute being decoded; one object per UPDATE, its fields set for each attribute. */
export interface AttributeInput {
  b: Uint8Array;
  v: DataView;
  /** First octet of the attribute header. */
  attrStart: number;
  /** Value in `[vs, ve)`. */
  vs: number;
  ve: number;
  len: number;
  /** 4-octet AS numbers in AS_PATH and AGGREGATOR (RFC 6793). */
  four: boolean;
  options: CodecOptions;
}

/** A malformed value: what RFC 7606 says to do and the NOTIFICATION RFC 4271 would have sent. */
export interface AttributeFault {
  readonly action: AttributeError['action'];
  readonly subcode: number;
  readonly reason: string;
  /** NOTIFICATION data; default the whole attribute. */
  readonly data?: Uint8Array;
}

/** One known attribute type. */
export interface AttributeRule {
  /** Name used in error reasons. */
  readonly name: string;
  /** The Optional and Transitive bits it must carry; others are an RFC 7606 §3(c) flags error. */
  readonly flags: number;
  /**
   * Still decoded when its flags are wrong (MP_REACH/MP_UNREACH: treat-as-withdraw needs their NLRI, RFC 7606 §5.1);
   * others are then skipped.
   */
  readonly decodeDespiteFlags?: boolean;
  /** Sessions that ignore it silently: from an external peer, or from a 4-octet AS speaker (RFC 6793 §6). */
  readonly ignoredFrom?: 'external-peer' | 'four-octet-speaker';
  /**
   * Valid value lengths: exactly `exactly` octets (`fourOctet` in a 4-octet AS session), or a non-zero multiple of
   * `multipleOf`; absent when the decoder checks the value's structure itself.
   */
  readonly length?: { readonly exactly: number; readonly fourOctet?: number } | { readonly multipleOf: number };
  /** What RFC 7606 says to do about a length outside `length` (Attribute Length Error, `<name> length`). */
  readonly lengthAction?: AttributeError['action'];
  /** Stores the value in `a`, or returns what is wrong with it. Session-reset errors throw {@link BgpError}. */
  readonly decode: (d: AttributeInput, a: PathAttributes) => AttributeFault | undefined;
}

const NO_DATA = new Uint8Array(0);

function decodeAsPath(b: Uint8Array, v: DataView, p: number, end: number, four: boolean): AsPathSegment[] | null {
  const segments: AsPathSegment[] = [];
  const size = four ? 4 : 2;
  while (p < end) {
    // RFC 7606 §7.2: an underrun (a single octet left), an overrun, a zero segment length or an unknown type
    if (p + 2 > end) return null;
    const t = b[p]!;
    const n = b[p + 1]!;
    p += 2;
    if (t < 1 || t > 4 || n === 0 || p + n * size > end) return null;
    const asns = new Array<number>(n);
    if (four) for (let i = 0; i < n; i++, p += 4) asns[i] = v.getUint32(p);
    else for (let i = 0; i < n; i++, p += 2) asns[i] = v.getUint16(p);
    segments.push({ type: SEGMENT_TYPES[t - 1]!, asns });
  }
  return segments;
}

/** Valid IPv4 host address for NEXT_HOP (RFC 4271 §6.3): not 0/8, loopback, multicast or class E / broadcast. */
function isHostAddress(first: number): boolean {
  return first !== 0 && first !== 127 && first < 224;
}

/** Whether ADD-PATH (RFC 7911) path identifiers prefix the NLRI of this family in this session. */
export function familyAddPath(options: CodecOptions, afi: number, safi: number): boolean {
  if (safi !== 1) return false;
  if (afi === 1) return options.addPath?.ipv4Unicast === true;
  if (afi === 2) return options.addPath?.ipv6Unicast === true;
  return false;
}

function isPrefixFamily(afi: number, safi: number): boolean {
  return (afi === 1 || afi === 2) && (safi === 1 || safi === 2);
}

function decodeMpReach(d: AttributeInput): MpReachNlri {
  const { b, v, vs: p, ve: end } = d;
  const bad = (reason: string) =>
    // RFC 4760 §7 / RFC 7606 §7.11, §5.3: an MP_REACH_NLRI that cannot be parsed resets the session
    updateError(
      UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR,
      `MP_REACH_NLRI: ${reason}`,
      copyBytes(b, d.attrStart, end),
    );
  if (end - p < 5) throw bad('shorter than 5 octets');
  const afi = v.getUint16(p);
  const safi = b[p + 2]!;
  const nhl = b[p + 3]!;
  const nh = p + 4;
  if (nh + nhl + 1 > end) throw bad('next hop length overruns the attribute');
  const nlriStart = nh + nhl + 1;
  if (!isPrefixFamily(afi, safi)) {
    return {
      afi,
      safi,
      nextHop: '',
      nlri: [],
      raw: { nextHop: copyBytes(b, nh, nh + nhl), nlri: copyBytes(b, nlriStart, end) },
    };
  }
  const m: MpReachNlri = { afi, safi, nextHop: '', nlri: [] };
  if (afi === 1 && nhl === 4) m.nextHop = formatIPv4(b, nh);
  else if (nhl === 16 || nhl === 32) {
    // RFC 2545 §3 (IPv6), RFC 8950 §3 (IPv4 NLRI with an IPv6 next hop)
    m.nextHop = formatIPv6(b, nh);
    if (nhl === 32) m.linkLocalNextHop = formatIPv6(b, nh + 16);
  } else throw bad(`next hop length ${nhl} is invalid for AFI ${afi}`);
  const ids = familyAddPath(d.options, afi, safi) ? [] : undefined;
  if (!decodePrefixes(b, v, nlriStart, end, afi === 2, m.nlri, ids)) throw bad('NLRI field is syntactically incorrect');
  if (ids) m.pathIds = ids;
  return m;
}

function decodeMpUnreach(d: AttributeInput): MpUnreachNlri {
  const { b, v, vs: p, ve: end } = d;
  const bad = (reason: string) =>
    updateError(
      UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR,
      `MP_UNREACH_NLRI: ${reason}`,
      copyBytes(b, d.attrStart, end),
    );
  if (end - p < 3) throw bad('shorter than 3 octets');
  const afi = v.getUint16(p);
  const safi = b[p + 2]!;
  if (!isPrefixFamily(afi, safi)) return { afi, safi, withdrawn: [], raw: copyBytes(b, p + 3, end) };
  const m: MpUnreachNlri = { afi, safi, withdrawn: [] };
  const ids = familyAddPath(d.options, afi, safi) ? [] : undefined;
  if (!decodePrefixes(b, v, p + 3, end, afi === 2, m.withdrawn, ids))
    throw bad('withdrawn routes field is syntactically incorrect');
  if (ids) m.pathIds = ids;
  return m;
}

/** An {@link AttributeRule} as the decode loop reads it: every field present, lengths as numbers (-1 or 0: none). */
export interface CompiledRule {
  readonly name: string;
  readonly flags: number;
  readonly decodeDespiteFlags: boolean;
  readonly ignoredFrom: AttributeRule['ignoredFrom'];
  /** Exact length, -1 when not fixed. */
  readonly exact: number;
  /** Exact length in a 4-octet AS session, -1 when not fixed. */
  readonly exactFour: number;
  /** Lengths must be a non-zero multiple of this; 0 when not. */
  readonly multiple: number;
  readonly lengthAction: AttributeError['action'];
  readonly decode: AttributeRule['decode'];
}

/** The rule of each known type code; undefined for unknown codes. RFC 7606 sections name each rule's source. */
export const ATTRIBUTE_RULES: readonly (CompiledRule | undefined)[] = (() => {
  const rules = new Array<CompiledRule | undefined>(256).fill(undefined);
  // Every rule gets the same fields in the same order: one object shape keeps the decode loop's property reads
  // monomorphic (rules of different shapes made decoding an attribute-heavy UPDATE measurably slower).
  const add = (type: number, rule: AttributeRule) => {
    const len = rule.length;
    const exact = len !== undefined && 'exactly' in len ? len.exactly : -1;
    const exactFour = len !== undefined && 'exactly' in len ? (len.fourOctet ?? len.exactly) : -1;
    rules[type] = {
      name: rule.name,
      flags: rule.flags,
      decodeDespiteFlags: rule.decodeDespiteFlags ?? false,
      ignoredFrom: rule.ignoredFrom,
      exact,
      exactFour,
      multiple: len !== undefined && 'multipleOf' in len ? len.multipleOf : 0,
      lengthAction: rule.lengthAction ?? 'treat-as-withdraw',
      decode: rule.decode,
    };
  };
  // RFC 7606 §7.1: length other than 1 or an undefined value: treat-as-withdraw
  add(T.ORIGIN, {
    name: 'ORIGIN',
    flags: WELL_KNOWN,
    length: { exactly: 1 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ b, vs }, a) => {
      const o = b[vs]!;
      if (o > 2) {
        return {
          action: 'treat-as-withdraw',
          subcode: UpdateErrorSubcode.INVALID_ORIGIN_ATTRIBUTE,
          reason: `ORIGIN value ${o}`,
        };
      }
      a.origin = ORIGINS[o]!;
      return undefined;
    },
  });
  // RFC 7606 §7.2: a malformed AS_PATH: treat-as-withdraw (RFC 4271 §6.3 subcode Malformed AS_PATH, no data)
  add(T.AS_PATH, {
    name: 'AS_PATH',
    flags: WELL_KNOWN,
    decode: ({ b, v, vs, ve, four }, a) => {
      const segs = decodeAsPath(b, v, vs, ve, four);
      if (segs === null) {
        return {
          action: 'treat-as-withdraw',
          subcode: UpdateErrorSubcode.MALFORMED_AS_PATH,
          reason: 'AS_PATH is malformed',
          data: NO_DATA,
        };
      }
      a.asPath = segs;
      return undefined;
    },
  });
  // RFC 7606 §7.3: length other than 4: treat-as-withdraw; RFC 4271 §6.3: not a valid host address: Invalid NEXT_HOP
  // (treat-as-withdraw too, RFC 7606 §7.3)
  add(T.NEXT_HOP, {
    name: 'NEXT_HOP',
    flags: WELL_KNOWN,
    length: { exactly: 4 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ b, vs }, a) => {
      if (!isHostAddress(b[vs]!)) {
        return {
          action: 'treat-as-withdraw',
          subcode: UpdateErrorSubcode.INVALID_NEXT_HOP_ATTRIBUTE,
          reason: `NEXT_HOP ${formatIPv4(b, vs)} is not a host address`,
        };
      }
      a.nextHop = formatIPv4(b, vs);
      return undefined;
    },
  });
  // RFC 7606 §7.4
  add(T.MULTI_EXIT_DISC, {
    name: 'MULTI_EXIT_DISC',
    flags: OPT_NON_TRANS,
    length: { exactly: 4 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ v, vs }, a) => {
      a.med = v.getUint32(vs);
      return undefined;
    },
  });
  // RFC 7606 §7.5: from an external peer it is discarded; from an internal one, length other than 4: treat-as-withdraw
  add(T.LOCAL_PREF, {
    name: 'LOCAL_PREF',
    flags: WELL_KNOWN,
    ignoredFrom: 'external-peer',
    length: { exactly: 4 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ v, vs }, a) => {
      a.localPref = v.getUint32(vs);
      return undefined;
    },
  });
  // RFC 7606 §7.6: length other than 0: attribute-discard
  add(T.ATOMIC_AGGREGATE, {
    name: 'ATOMIC_AGGREGATE',
    flags: WELL_KNOWN,
    length: { exactly: 0 },
    lengthAction: 'attribute-discard',
    decode: (_d, a) => {
      a.atomicAggregate = true;
      return undefined;
    },
  });
  // RFC 7606 §7.7: length other than 6 (8 with 4-octet AS): attribute-discard
  add(T.AGGREGATOR, {
    name: 'AGGREGATOR',
    flags: OPT_TRANS,
    length: { exactly: 6, fourOctet: 8 },
    lengthAction: 'attribute-discard',
    decode: ({ b, v, vs, four }, a) => {
      a.aggregator = four
        ? { asn: v.getUint32(vs), address: formatIPv4(b, vs + 4) }
        : { asn: v.getUint16(vs), address: formatIPv4(b, vs + 2) };
      return undefined;
    },
  });
  // RFC 7606 §7.8: length not a non-zero multiple of 4: treat-as-withdraw
  add(T.COMMUNITIES, {
    name: 'COMMUNITIES',
    flags: OPT_TRANS,
    length: { multipleOf: 4 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ v, vs, len }, a) => {
      const list = new Array<string>(len / 4);
      for (let i = 0; i < list.length; i++) list[i] = communityFromNumber(v.getUint32(vs + 4 * i));
      a.communities = list;
      return undefined;
    },
  });
  // RFC 7606 §7.9: length other than 4: treat-as-withdraw; RFC 4456 §8: ignored from external peers
  add(T.ORIGINATOR_ID, {
    name: 'ORIGINATOR_ID',
    flags: OPT_NON_TRANS,
    ignoredFrom: 'external-peer',
    length: { exactly: 4 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ b, vs }, a) => {
      a.originatorId = formatIPv4(b, vs);
      return undefined;
    },
  });
  // RFC 7606 §7.10: length not a non-zero multiple of 4: treat-as-withdraw; ignored from external peers
  add(T.CLUSTER_LIST, {
    name: 'CLUSTER_LIST',
    flags: OPT_NON_TRANS,
    ignoredFrom: 'external-peer',
    length: { multipleOf: 4 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ b, vs, len }, a) => {
      const list = new Array<string>(len / 4);
      for (let i = 0; i < list.length; i++) list[i] = formatIPv4(b, vs + 4 * i);
      a.clusterList = list;
      return undefined;
    },
  });
  // RFC 4760 §7 / RFC 7606 §7.11: errors inside MP_REACH/MP_UNREACH reset the session (thrown by the decoders)
  add(T.MP_REACH_NLRI, {
    name: 'MP_REACH_NLRI',
    flags: OPT_NON_TRANS,
    decodeDespiteFlags: true,
    decode: (d, a) => {
      a.mpReach = decodeMpReach(d);
      return undefined;
    },
  });
  add(T.MP_UNREACH_NLRI, {
    name: 'MP_UNREACH_NLRI',
    flags: OPT_NON_TRANS,
    decodeDespiteFlags: true,
    decode: (d, a) => {
      a.mpUnreach = decodeMpUnreach(d);
      return undefined;
    },
  });
  // RFC 7606 §7.14: length not a non-zero multiple of 8: treat-as-withdraw
  add(T.EXTENDED_COMMUNITIES, {
    name: 'EXTENDED_COMMUNITIES',
    flags: OPT_TRANS,
    length: { multipleOf: 8 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ b, vs, len }, a) => {
      const list = new Array<string>(len / 8);
      for (let i = 0; i < list.length; i++) {
        let s = '';
        for (let k = 0; k < 8; k++) {
          const x = b[vs + 8 * i + k]!;
          s += HEX[x >>> 4]! + HEX[x & 15]!;
        }
        list[i] = s;
      }
      a.extendedCommunities = list;
      return undefined;
    },
  });
  // RFC 6793 §6: from a 4-octet speaker it is discarded; malformed, or carrying confederation segments:
  // attribute-discard
  add(T.AS4_PATH, {
    name: 'AS4_PATH',
    flags: OPT_TRANS,
    ignoredFrom: 'four-octet-speaker',
    decode: ({ b, v, vs, ve }, a) => {
      const segs = decodeAsPath(b, v, vs, ve, true);
      if (segs === null || segs.some((s) => s.type === 'confed-sequence' || s.type === 'confed-set')) {
        return {
          action: 'attribute-discard',
          subcode: UpdateErrorSubcode.OPTIONAL_ATTRIBUTE_ERROR,
          reason: 'AS4_PATH is malformed',
        };
      }
      a.as4Path = segs;
      return undefined;
    },
  });
  // RFC 6793 §6: discarded from a 4-octet speaker; length other than 8: attribute-discard
  add(T.AS4_AGGREGATOR, {
    name: 'AS4_AGGREGATOR',
    flags: OPT_TRANS,
    ignoredFrom: 'four-octet-speaker',
    length: { exactly: 8 },
    lengthAction: 'attribute-discard',
    decode: ({ b, v, vs }, a) => {
      a.as4Aggregator = { asn: v.getUint32(vs), address: formatIPv4(b, vs + 4) };
      return undefined;
    },
  });
  // RFC 8092 §5: length not a non-zero multiple of 12: treat-as-withdraw
  add(T.LARGE_COMMUNITIES, {
    name: 'LARGE_COMMUNITIES',
    flags: OPT_TRANS,
    length: { multipleOf: 12 },
    lengthAction: 'treat-as-withdraw',
    decode: ({ v, vs, len }, a) => {
      const list = new Array<string>(len / 12);
      for (let i = 0; i < list.length; i++) {
        const q = vs + 12 * i;
        list[i] = `${v.getUint32(q)}:${v.getUint32(q + 4)}:${v.getUint32(q + 8)}`;
      }
      a.largeCommunities = list;
      return undefined;
    },
  });
  return rules;
})();

/** Optional and Transitive bits each known attribute must carry, by type code; -1 for unknown codes. */
export const EXPECTED_FLAGS: Int16Array = Int16Array.from(ATTRIBUTE_RULES, (r) => (r === undefined ? -1 : r.flags));

/** Whether a session ignores the attribute silently. */
export function ignored(rule: CompiledRule, d: AttributeInput): boolean {
  const from = rule.ignoredFrom;
  if (from === undefined) return false;
  return from === 'external-peer' ? d.options.internal === false : d.four;
}

/** Whether a value length is valid for the rule (always, when the rule has no length). */
export function lengthValid(rule: CompiledRule, len: number, four: boolean): boolean {
  const exact = four ? rule.exactFour : rule.exact;
  if (exact >= 0) return len === exact;
  return rule.multiple === 0 || (len !== 0 && len % rule.multiple === 0);
}
