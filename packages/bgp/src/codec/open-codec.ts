/**
 * OPEN message body and capabilities (RFC 4271 §4.2, RFC 5492, RFC 9072) (internal).
 */
import { BgpError } from './bgp-error.js';
import { CapabilityCode, ErrorCode, OpenErrorSubcode, OptionalParameterType } from './constants.js';
import { formatIPv4, parseIPv4 } from './ip.js';
import type { Capability, OpenEncoding, OpenMessage, OptionalParameter } from './types.js';
import { checkUint, copyBytes, Writer } from './writer.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const utf8Encoder = new TextEncoder();

function openError(subcode: number, reason: string, data?: Uint8Array): BgpError {
  return new BgpError(ErrorCode.OPEN_MESSAGE, subcode, data, `OPEN: ${reason}`);
}

// ---------------------------------------------------------------------------------------------------------------------
// Capabilities
// ---------------------------------------------------------------------------------------------------------------------

/** Decodes one capability value; a known code with a malformed value is kept as 'unknown' (raw). */
function decodeCapability(code: number, b: Uint8Array, v: DataView, p: number, len: number): Capability {
  switch (code) {
    case CapabilityCode.MULTIPROTOCOL:
      if (len === 4 && b[p + 2] === 0) return { type: 'multiprotocol', afi: v.getUint16(p), safi: b[p + 3]! };
      break;
    case CapabilityCode.ROUTE_REFRESH:
      if (len === 0) return { type: 'route-refresh' };
      break;
    case CapabilityCode.ROUTE_REFRESH_CISCO:
      if (len === 0) return { type: 'route-refresh', cisco: true };
      break;
    case CapabilityCode.EXTENDED_NEXT_HOP: {
      // RFC 8950 §4: a list of (NLRI AFI, NLRI SAFI, Nexthop AFI) triples of 2 octets each
      if (len === 0 || len % 6 !== 0) break;
      const families = [];
      for (let q = p; q < p + len; q += 6)
        families.push({ afi: v.getUint16(q), safi: v.getUint16(q + 2), nextHopAfi: v.getUint16(q + 4) });
      return { type: 'extended-next-hop', families };
    }
    case CapabilityCode.EXTENDED_MESSAGE:
      if (len === 0) return { type: 'extended-message' };
      break;
    case CapabilityCode.ENHANCED_ROUTE_REFRESH:
      if (len === 0) return { type: 'enhanced-route-refresh' };
      break;
    case CapabilityCode.FOUR_OCTET_AS:
      if (len === 4) {
        const asn = v.getUint32(p);
        // RFC 7607 §2: AS 0 in the 4-octet AS capability is a Bad Peer AS
        if (asn === 0) throw openError(OpenErrorSubcode.BAD_PEER_AS, '4-octet AS capability carries AS 0 (RFC 7607)');
        return { type: 'four-octet-as', asn };
      }
      break;
    case CapabilityCode.GRACEFUL_RESTART: {
      if (len < 2 || (len - 2) % 4 !== 0 || (b[p]! & 0x30) !== 0) break;
      const families = [];
      let ok = true;
      for (let q = p + 2; q < p + len; q += 4) {
        const f = b[q + 3]!;
        if ((f & 0x7f) !== 0) ok = false;
        families.push({ afi: v.getUint16(q), safi: b[q + 2]!, forwardingPreserved: (f & 0x80) !== 0 });
      }
      if (!ok) break;
      return {
        type: 'graceful-restart',
        restarting: (b[p]! & 0x80) !== 0,
        notification: (b[p]! & 0x40) !== 0,
        restartTime: v.getUint16(p) & 0x0fff,
        families,
      };
    }
    case CapabilityCode.ADD_PATH: {
      if (len % 4 !== 0) break;
      const families = [];
      let ok = true;
      for (let q = p; q < p + len; q += 4) {
        const sr = b[q + 3]!;
        if (sr < 1 || sr > 3) ok = false;
        families.push({
          afi: v.getUint16(q),
          safi: b[q + 2]!,
          sendReceive: sr === 1 ? ('receive' as const) : sr === 2 ? ('send' as const) : ('both' as const),
        });
      }
      if (!ok) break;
      return { type: 'add-path', families };
    }
    case CapabilityCode.FQDN: {
      if (len < 2) break;
      const hl = b[p]!;
      if (1 + hl + 1 > len) break;
      const dl = b[p + 1 + hl]!;
      if (2 + hl + dl !== len) break;
      try {
        const hostname = utf8.decode(b.subarray(p + 1, p + 1 + hl));
        const domainName = utf8.decode(b.subarray(p + 2 + hl, p + 2 + hl + dl));
        return { type: 'fqdn', hostname, domainName };
      } catch {
        break;
      }
    }
  }
  return { type: 'unknown', code, value: copyBytes(b, p, p + len) };
}

/** Writes one capability (code, length, value); returns nothing, throws RangeError on invalid values. */
function encodeCapability(w: Writer, c: Capability): void {
  switch (c.type) {
    case 'multiprotocol':
      w.u8(CapabilityCode.MULTIPROTOCOL);
      w.u8(4);
      w.u16(checkUint('afi', c.afi, 0xffff));
      w.u8(0);
      w.u8(checkUint('safi', c.safi, 0xff));
      return;
    case 'route-refresh':
      w.u8(c.cisco ? CapabilityCode.ROUTE_REFRESH_CISCO : CapabilityCode.ROUTE_REFRESH);
      w.u8(0);
      return;
    case 'extended-next-hop': {
      const n = 6 * c.families.length;
      if (n === 0 || n > 255) throw new RangeError('extended-next-hop capability needs 1 to 42 families');
      w.u8(CapabilityCode.EXTENDED_NEXT_HOP);
      w.u8(n);
      for (const f of c.families) {
        w.u16(checkUint('afi', f.afi, 0xffff));
        w.u16(checkUint('safi', f.safi, 0xffff));
        w.u16(checkUint('nextHopAfi', f.nextHopAfi, 0xffff));
      }
      return;
    }
    case 'extended-message':
      w.u8(CapabilityCode.EXTENDED_MESSAGE);
      w.u8(0);
      return;
    case 'enhanced-route-refresh':
      w.u8(CapabilityCode.ENHANCED_ROUTE_REFRESH);
      w.u8(0);
      return;
    case 'four-octet-as':
      w.u8(CapabilityCode.FOUR_OCTET_AS);
      w.u8(4);
      w.u32(checkUint('asn', c.asn, 0xffffffff));
      return;
    case 'graceful-restart': {
      const n = 2 + 4 * c.families.length;
      if (n > 255) throw new RangeError('graceful-restart capability has too many families');
      w.u8(CapabilityCode.GRACEFUL_RESTART);
      w.u8(n);
      w.u16(
        (c.restarting ? 0x8000 : 0) | (c.notification ? 0x4000 : 0) | checkUint('restartTime', c.restartTime, 0xfff),
      );
      for (const f of c.families) {
        w.u16(checkUint('afi', f.afi, 0xffff));
        w.u8(checkUint('safi', f.safi, 0xff));
        w.u8(f.forwardingPreserved ? 0x80 : 0);
      }
      return;
    }
    case 'add-path': {
      const n = 4 * c.families.length;
      if (n > 255) throw new RangeError('add-path capability has too many families');
      w.u8(CapabilityCode.ADD_PATH);
      w.u8(n);
      for (const f of c.families) {
        w.u16(checkUint('afi', f.afi, 0xffff));
        w.u8(checkUint('safi', f.safi, 0xff));
        w.u8(f.sendReceive === 'receive' ? 1 : f.sendReceive === 'send' ? 2 : 3);
      }
      return;
    }
    case 'fqdn': {
      const h = utf8Encoder.encode(c.hostname);
      const d = utf8Encoder.encode(c.domainName);
      if (h.length > 255 || d.length > 255 || 2 + h.length + d.length > 255)
        throw new RangeError('fqdn capability: hostname and domain name too long');
      w.u8(CapabilityCode.FQDN);
      w.u8(2 + h.length + d.length);
      w.u8(h.length);
      w.bytes(h);
      w.u8(d.length);
      w.bytes(d);
      return;
    }
    case 'unknown':
      if (c.value.length > 255) throw new RangeError('capability value longer than 255 octets');
      w.u8(checkUint('capability code', c.code, 0xff));
      w.u8(c.value.length);
      w.bytes(c.value);
      return;
    default:
      throw new RangeError(`unknown capability type ${String((c as { type: unknown }).type)}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------------
// OPEN
// ---------------------------------------------------------------------------------------------------------------------

/**
 * Decodes an OPEN body at `p` (just after the header) to `end` (RFC 4271 §6.2 checks in the RFC's order: version,
 * peer AS, hold time, BGP identifier, optional parameters).
 */
export function decodeOpen(b: Uint8Array, v: DataView, p: number, end: number): OpenMessage {
  const version = b[p]!;
  // RFC 4271 §6.2: data = largest locally supported version below the bid, else the smallest supported: 4 either way.
  if (version !== 4)
    throw openError(OpenErrorSubcode.UNSUPPORTED_VERSION_NUMBER, `unsupported version ${version}`, Uint8Array.of(0, 4));
  const myAsn = v.getUint16(p + 1);
  // RFC 7607 §2: AS 0 in the My Autonomous System field is a Bad Peer AS
  if (myAsn === 0) throw openError(OpenErrorSubcode.BAD_PEER_AS, 'My Autonomous System is 0 (RFC 7607)');
  const holdTime = v.getUint16(p + 3);
  // RFC 4271 §6.2: the hold time MUST be 0 or at least 3
  if (holdTime === 1 || holdTime === 2)
    throw openError(OpenErrorSubcode.UNACCEPTABLE_HOLD_TIME, `hold time ${holdTime} (must be 0 or >= 3)`);
  // RFC 6286 §2.1: a BGP Identifier is a non-zero 32-bit number
  if (v.getUint32(p + 5) === 0) throw openError(OpenErrorSubcode.BAD_BGP_IDENTIFIER, 'BGP Identifier is 0');
  const bgpId = formatIPv4(b, p + 5);
  let optLen = b[p + 9]!;
  let q = p + 10;
  let extended = false;
  // RFC 9072 §2: Non-Ext OP Len 255 and Non-Ext OP Type 255 introduce a 2-octet Extended Opt. Parm. Length
  if (optLen === 255 && q < end && b[q] === OptionalParameterType.EXTENDED_LENGTH) {
    if (q + 3 > end) throw openError(OpenErrorSubcode.UNSPECIFIC, 'truncated extended optional parameters length');
    optLen = v.getUint16(q + 1);
    q += 3;
    extended = true;
  }
  if (q + optLen !== end)
    throw openError(
      OpenErrorSubcode.UNSPECIFIC,
      `optional parameters length ${optLen} does not match the message length (${end - q} octets left)`,
    );
  const capabilities: Capability[] = [];
  const groups: number[] = [];
  const hdr = extended ? 3 : 2;
  while (q < end) {
    if (q + hdr > end) throw openError(OpenErrorSubcode.UNSPECIFIC, 'truncated optional parameter header');
    const type = b[q]!;
    const len = extended ? v.getUint16(q + 1) : b[q + 1]!;
    q += hdr;
    if (q + len > end) throw openError(OpenErrorSubcode.UNSPECIFIC, 'optional parameter overruns the message');
    // RFC 4271 §6.2 / RFC 5492 §4: only the Capabilities parameter (2) is supported
    if (type !== OptionalParameterType.CAPABILITIES)
      throw openError(OpenErrorSubcode.UNSUPPORTED_OPTIONAL_PARAMETER, `unsupported optional parameter type ${type}`);
    const pend = q + len;
    let count = 0;
    while (q < pend) {
      if (q + 2 > pend) throw openError(OpenErrorSubcode.UNSPECIFIC, 'truncated capability header');
      const code = b[q]!;
      const clen = b[q + 1]!;
      q += 2;
      if (q + clen > pend) throw openError(OpenErrorSubcode.UNSPECIFIC, `capability ${code} overruns its parameter`);
      capabilities.push(decodeCapability(code, b, v, q, clen));
      q += clen;
      count++;
    }
    groups.push(count);
  }
  const open: OpenMessage = { type: 'open', version, myAsn, holdTime, bgpId, capabilities };
  const encoding: OpenEncoding = {};
  if (!sameGroups(groups, canonicalGroups(capabilities))) encoding.capabilityGroups = groups;
  if (extended && !needsExtended(capabilities, groups)) encoding.extendedParameters = true;
  if (encoding.capabilityGroups || encoding.extendedParameters) open.encoding = encoding;
  return open;
}

function sameGroups(a: number[], b: number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A private writer for measuring capabilities (the shared one may hold the message being encoded). */
const sizeWriter = new Writer(4096);

/** Encoded size (code, length, value) of each capability. */
function capabilitySizes(capabilities: readonly Capability[]): number[] {
  return capabilities.map((c) => {
    sizeWriter.reset(4096);
    encodeCapability(sizeWriter, c);
    return sizeWriter.pos;
  });
}

/** The canonical grouping: every capability in one parameter, split greedily where a parameter would exceed 255. */
function canonicalGroups(capabilities: readonly Capability[]): number[] {
  if (capabilities.length === 0) return [];
  const sizes = capabilitySizes(capabilities);
  const groups: number[] = [];
  let n = 0;
  let bytes = 0;
  for (const s of sizes) {
    if (n > 0 && bytes + s > 255) {
      groups.push(n);
      n = 0;
      bytes = 0;
    }
    n++;
    bytes += s;
  }
  groups.push(n);
  return groups;
}

/** Whether a grouping needs the RFC 9072 format: a parameter over 255 octets or all parameters over 255. */
function needsExtended(capabilities: readonly Capability[], groups: readonly number[]): boolean {
  const sizes = capabilitySizes(capabilities);
  let i = 0;
  let total = 0;
  for (const g of groups) {
    let s = 0;
    for (let k = 0; k < g; k++) s += sizes[i++] ?? 0;
    if (s > 255) return true;
    total += 2 + s;
  }
  return total > 255;
}

/** Encodes an OPEN body (after the header). */
export function encodeOpen(w: Writer, m: OpenMessage): void {
  w.u8(checkUint('version', m.version, 0xff));
  w.u16(checkUint('myAsn', m.myAsn, 0xffff));
  w.u16(checkUint('holdTime', m.holdTime, 0xffff));
  const id = parseIPv4(m.bgpId);
  if (id < 0) throw new RangeError(`bgpId must be a dotted quad, got ${JSON.stringify(m.bgpId)}`);
  w.u32(id);
  const caps = m.capabilities;
  let groups = m.encoding?.capabilityGroups;
  if (groups) {
    let sum = 0;
    for (const g of groups) sum += g;
    if (sum !== caps.length || groups.some((g) => !Number.isInteger(g) || g < 0)) groups = undefined;
  }
  if (!groups) groups = canonicalGroups(caps);
  const params: readonly OptionalParameter[] = m.parameters ?? [];
  const extended =
    m.encoding?.extendedParameters === true ||
    needsExtended(caps, groups) ||
    params.some((x) => x.value.length > 255) ||
    groups.length * 2 + params.reduce((s, x) => s + 2 + x.value.length, 0) + sumSizes(caps) > 255;
  const lenPos = w.pos;
  if (extended) {
    w.u8(255);
    w.u8(OptionalParameterType.EXTENDED_LENGTH);
    w.u16(0);
  } else {
    w.u8(0);
  }
  const start = w.pos;
  let ci = 0;
  for (const g of groups) {
    w.u8(OptionalParameterType.CAPABILITIES);
    const plen = w.pos;
    if (extended) w.u16(0);
    else w.u8(0);
    const pstart = w.pos;
    for (let k = 0; k < g; k++) encodeCapability(w, caps[ci++]!);
    const n = w.pos - pstart;
    if (extended) w.view.setUint16(plen, n);
    else if (n > 255) throw new RangeError('capabilities parameter longer than 255 octets');
    else w.buf[plen] = n;
  }
  for (const x of params) {
    w.u8(checkUint('parameter type', x.type, 0xff));
    if (extended) w.u16(x.value.length);
    else w.u8(x.value.length);
    w.bytes(x.value);
  }
  const total = w.pos - start;
  if (extended) {
    if (total > 0xffff) throw new RangeError('optional parameters too long');
    w.view.setUint16(lenPos + 2, total);
  } else {
    w.buf[lenPos] = total;
  }
}

function sumSizes(caps: readonly Capability[]): number {
  let s = 0;
  for (const n of capabilitySizes(caps)) s += n;
  return s;
}
