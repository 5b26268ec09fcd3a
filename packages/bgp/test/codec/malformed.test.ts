import { describe, expect, it } from 'vitest';
import { BgpError, type CodecOptions, decodeMessage, isBgpError, MessageDecoder } from '../../src/internal.js';
import { hex, toHex } from './helpers.js';

const MARKER = 'ff'.repeat(16);

/** A message with a correct header around `body` (hex). */
function msg(type: number, body: string): string {
  const b = body.replace(/\s/g, '');
  const len = 19 + b.length / 2;
  return MARKER + len.toString(16).padStart(4, '0') + type.toString(16).padStart(2, '0') + b;
}

/** An UPDATE with the given withdrawn routes, path attributes and NLRI (hex), lengths computed. */
function upd(withdrawn: string, attrs: string, nlri: string): string {
  const w = withdrawn.replace(/\s/g, '');
  const a = attrs.replace(/\s/g, '');
  const l2 = (x: string) => (x.length / 2).toString(16).padStart(4, '0');
  return msg(2, l2(w) + w + l2(a) + a + nlri.replace(/\s/g, ''));
}

/** Valid ORIGIN, AS_PATH (AS 65001) and NEXT_HOP 192.0.2.1 attributes. */
const BASE = '40010100 400206020100 00fde9 400304c0000201';
const ORIGIN = '40010100';
const AS_PATH = '400206020100 00fde9';
const NEXT_HOP = '400304c0000201';
const NLRI = '18c63364'; // 198.51.100.0/24
/** MP_REACH_NLRI for IPv6 unicast, next hop 2001:db8:0:1::1, no NLRI. */
const MP_REACH_EMPTY = '800e15 0002 01 10 20010db8000000010000000000000001 00';

/** An OPEN (AS 65001, hold 90, id 192.0.2.1) with the given optional parameters (hex). */
function open(params: string, fields = '04 fde9 005a c0000201'): string {
  const p = params.replace(/\s/g, '');
  return msg(1, fields.replace(/\s/g, '') + (p.length / 2).toString(16).padStart(2, '0') + p);
}

type Thrown = { code: number; subcode: number; data?: string };
type Reported = {
  action: 'treat-as-withdraw' | 'attribute-discard';
  errors: { attributeType: number; subcode: number; data?: string }[];
};

interface Case {
  name: string;
  /** RFC section the expectation comes from. */
  rfc: string;
  bytes: string;
  options?: CodecOptions;
  throws?: Thrown;
  reports?: Reported;
}

const cases: Case[] = [
  // ---- Message header (RFC 4271 §6.1) ----
  {
    name: 'marker not all ones',
    rfc: 'RFC 4271 §6.1',
    bytes: `${'ff'.repeat(15)}fe 0013 04`,
    throws: { code: 1, subcode: 1, data: '' },
  },
  {
    name: 'length below 19',
    rfc: 'RFC 4271 §6.1',
    bytes: `${MARKER} 0012 04 00`,
    throws: { code: 1, subcode: 2, data: '0012' },
  },
  {
    name: 'length above 4096 without extended messages',
    rfc: 'RFC 4271 §6.1',
    bytes: `${MARKER} 1001 02${'00'.repeat(4097 - 19)}`,
    throws: { code: 1, subcode: 2, data: '1001' },
  },
  {
    name: 'OPEN longer than 4096 even with extended messages',
    rfc: 'RFC 8654 §4',
    bytes: `${MARKER} 1001 01${'00'.repeat(4097 - 19)}`,
    options: { extendedMessages: true },
    throws: { code: 1, subcode: 2, data: '1001' },
  },
  {
    name: 'message type 0',
    rfc: 'RFC 4271 §6.1',
    bytes: `${MARKER} 0013 00`,
    throws: { code: 1, subcode: 3, data: '00' },
  },
  {
    name: 'message type 6',
    rfc: 'RFC 4271 §6.1',
    bytes: `${MARKER} 0015 06 0000`,
    throws: { code: 1, subcode: 3, data: '06' },
  },
  {
    name: 'KEEPALIVE of 20 octets',
    rfc: 'RFC 4271 §4.4, §6.1',
    bytes: `${MARKER} 0014 04 00`,
    throws: { code: 1, subcode: 2, data: '0014' },
  },
  {
    name: 'OPEN shorter than 29',
    rfc: 'RFC 4271 §6.1',
    bytes: msg(1, '04 fde9 005a c0000201'),
    throws: { code: 1, subcode: 2, data: '001c' },
  },
  {
    name: 'UPDATE shorter than 23',
    rfc: 'RFC 4271 §6.1',
    bytes: msg(2, '0000 00'),
    throws: { code: 1, subcode: 2, data: '0016' },
  },
  {
    name: 'NOTIFICATION shorter than 21',
    rfc: 'RFC 4271 §6.1',
    bytes: msg(3, '06'),
    throws: { code: 1, subcode: 2, data: '0014' },
  },
  {
    name: 'ROUTE-REFRESH BoRR of 24 octets: ROUTE-REFRESH error with the whole message',
    rfc: 'RFC 7313 §5',
    bytes: msg(5, '0001 01 01 00'),
    throws: { code: 7, subcode: 1, data: msg(5, '0001 01 01 00') },
  },
  {
    name: 'ROUTE-REFRESH (subtype 0) of 24 octets',
    rfc: 'RFC 2918 §3, RFC 4271 §6.1',
    bytes: msg(5, '0001 00 01 00'),
    throws: { code: 1, subcode: 2, data: '0018' },
  },
  // ---- OPEN (RFC 4271 §6.2, RFC 5492, RFC 6286, RFC 7607) ----
  {
    name: 'version 3: data is the largest supported version, 4',
    rfc: 'RFC 4271 §6.2',
    bytes: open('', '03 fde9 005a c0000201'),
    throws: { code: 2, subcode: 1, data: '0004' },
  },
  {
    name: 'version 5: data is 4',
    rfc: 'RFC 4271 §6.2',
    bytes: open('', '05 fde9 005a c0000201'),
    throws: { code: 2, subcode: 1, data: '0004' },
  },
  {
    name: 'My Autonomous System 0',
    rfc: 'RFC 7607 §2',
    bytes: open('', '04 0000 005a c0000201'),
    throws: { code: 2, subcode: 2, data: '' },
  },
  {
    name: '4-octet AS capability carrying AS 0',
    rfc: 'RFC 7607 §2, RFC 6793 §3',
    bytes: open('0206 4104 00000000'),
    throws: { code: 2, subcode: 2, data: '' },
  },
  {
    name: 'hold time 1',
    rfc: 'RFC 4271 §6.2',
    bytes: open('', '04 fde9 0001 c0000201'),
    throws: { code: 2, subcode: 6, data: '' },
  },
  {
    name: 'hold time 2',
    rfc: 'RFC 4271 §6.2',
    bytes: open('', '04 fde9 0002 c0000201'),
    throws: { code: 2, subcode: 6, data: '' },
  },
  {
    name: 'BGP Identifier 0.0.0.0',
    rfc: 'RFC 4271 §6.2, RFC 6286 §2.2',
    bytes: open('', '04 fde9 005a 00000000'),
    throws: { code: 2, subcode: 3, data: '' },
  },
  {
    name: 'optional parameter type 1 (authentication, deprecated)',
    rfc: 'RFC 4271 §6.2, RFC 5492 §4',
    bytes: open('0102 0000'),
    throws: { code: 2, subcode: 4, data: '' },
  },
  {
    name: 'optional parameter overruns the message',
    rfc: 'RFC 4271 §6.2 (recognized but malformed: subcode 0)',
    bytes: open('0208 4104 0000fde9'),
    throws: { code: 2, subcode: 0, data: '' },
  },
  {
    name: 'capability overruns its parameter',
    rfc: 'RFC 5492 §4, RFC 4271 §6.2',
    bytes: open('0204 4104 0000 fde9'),
    throws: { code: 2, subcode: 0, data: '' },
  },
  {
    name: 'optional parameters length shorter than the message',
    rfc: 'RFC 4271 §4.2, §6.2',
    bytes: msg(1, '04 fde9 005a c0000201 00 0206 4104 0000fde9'),
    throws: { code: 2, subcode: 0, data: '' },
  },
  // ---- UPDATE: session reset (RFC 4271 §6.3, RFC 7606 §3, §5.3) ----
  {
    name: 'Withdrawn Routes Length too large',
    rfc: 'RFC 4271 §6.3',
    bytes: msg(2, '0010 18c63364 0000'),
    throws: { code: 3, subcode: 1, data: '' },
  },
  {
    name: 'Total Path Attribute Length too large',
    rfc: 'RFC 4271 §6.3',
    bytes: msg(2, '0000 0040 40010100'),
    throws: { code: 3, subcode: 1, data: '' },
  },
  {
    name: 'NLRI prefix length 33',
    rfc: 'RFC 4271 §6.3, RFC 7606 §5.3',
    bytes: upd('', BASE, '21c0000201ff'),
    throws: { code: 3, subcode: 10, data: '' },
  },
  {
    name: 'NLRI prefix overruns the message',
    rfc: 'RFC 4271 §6.3, RFC 7606 §5.3',
    bytes: upd('', BASE, '18c633'),
    throws: { code: 3, subcode: 10, data: '' },
  },
  {
    name: 'withdrawn prefix length 40',
    rfc: 'RFC 7606 §3(g), §5.3',
    bytes: upd('28c0000201ff', '', ''),
    throws: { code: 3, subcode: 10, data: '' },
  },
  {
    name: 'unrecognized well-known attribute (type 99, Optional bit clear)',
    rfc: 'RFC 4271 §6.3',
    bytes: upd('', `${BASE} 406302abcd`, NLRI),
    throws: { code: 3, subcode: 2, data: '406302abcd' },
  },
  {
    name: 'MP_REACH_NLRI twice',
    rfc: 'RFC 7606 §3(g)',
    bytes: upd('', `${ORIGIN} ${AS_PATH} ${MP_REACH_EMPTY} ${MP_REACH_EMPTY}`, ''),
    throws: { code: 3, subcode: 1, data: '' },
  },
  {
    name: 'MP_REACH_NLRI with a 5-octet IPv6 next hop',
    rfc: 'RFC 4760 §7, RFC 7606 §7.11',
    bytes: upd('', `${ORIGIN} ${AS_PATH} 800e0b 0002 01 05 2001db8000 00 00`, ''),
    throws: { code: 3, subcode: 9, data: '800e0b000201052001db80000000' },
  },
  {
    name: 'MP_REACH_NLRI whose NLRI overruns the attribute',
    rfc: 'RFC 4760 §7, RFC 7606 §5.3',
    bytes: upd('', `800e18 0002 01 10 20010db8000000010000000000000001 00 402001`, ''),
    throws: { code: 3, subcode: 9, data: '800e180002011020010db800000001000000000000000100402001' },
  },
  {
    name: 'MP_UNREACH_NLRI shorter than 3 octets',
    rfc: 'RFC 4760 §4, §7',
    bytes: upd('', '800f02 0002', ''),
    throws: { code: 3, subcode: 9, data: '800f020002' },
  },
  // ---- UPDATE: treat-as-withdraw (RFC 7606) ----
  {
    name: 'ORIGIN value 3',
    rfc: 'RFC 4271 §6.3, RFC 7606 §7.1',
    bytes: upd('', `40010103 ${AS_PATH} ${NEXT_HOP}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 1, subcode: 6, data: '40010103' }] },
  },
  {
    name: 'ORIGIN of length 2',
    rfc: 'RFC 4271 §6.3, RFC 7606 §7.1',
    bytes: upd('', `4001020000 ${AS_PATH} ${NEXT_HOP}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 1, subcode: 5, data: '4001020000' }] },
  },
  {
    name: 'ORIGIN with the Optional bit set (flags error)',
    rfc: 'RFC 4271 §6.3, RFC 7606 §3(c)',
    bytes: upd('', `c0010100 ${AS_PATH} ${NEXT_HOP}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 1, subcode: 4, data: 'c0010100' }] },
  },
  {
    name: 'AS_PATH segment type 5',
    rfc: 'RFC 4271 §6.3, RFC 7606 §7.2',
    bytes: upd('', `${ORIGIN} 400206050100 00fde9 ${NEXT_HOP}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 2, subcode: 11, data: '' }] },
  },
  {
    name: 'AS_PATH segment of length zero',
    rfc: 'RFC 7606 §7.2',
    bytes: upd('', `${ORIGIN} 4002020200 ${NEXT_HOP}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 2, subcode: 11, data: '' }] },
  },
  {
    name: 'AS_PATH segment overrunning the attribute',
    rfc: 'RFC 7606 §7.2',
    bytes: upd('', `${ORIGIN} 400206020200 00fde9 ${NEXT_HOP}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 2, subcode: 11, data: '' }] },
  },
  {
    name: 'NEXT_HOP of length 5',
    rfc: 'RFC 7606 §7.3',
    bytes: upd('', `${ORIGIN} ${AS_PATH} 400305c000020100`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 3, subcode: 5, data: '400305c000020100' }] },
  },
  {
    name: 'NEXT_HOP 0.0.0.0',
    rfc: 'RFC 4271 §6.3, RFC 7606 §7.3',
    bytes: upd('', `${ORIGIN} ${AS_PATH} 40030400000000`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 3, subcode: 8, data: '40030400000000' }] },
  },
  {
    name: 'NEXT_HOP multicast 224.0.0.1',
    rfc: 'RFC 4271 §6.3, RFC 7606 §7.3',
    bytes: upd('', `${ORIGIN} ${AS_PATH} 400304e0000001`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 3, subcode: 8, data: '400304e0000001' }] },
  },
  {
    name: 'missing ORIGIN: data is the type code',
    rfc: 'RFC 4271 §6.3, RFC 7606 §3(d)',
    bytes: upd('', `${AS_PATH} ${NEXT_HOP}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 1, subcode: 3, data: '01' }] },
  },
  {
    name: 'missing AS_PATH',
    rfc: 'RFC 4271 §6.3, RFC 7606 §3(d)',
    bytes: upd('', `${ORIGIN} ${NEXT_HOP}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 2, subcode: 3, data: '02' }] },
  },
  {
    name: 'missing NEXT_HOP with IPv4 NLRI',
    rfc: 'RFC 4271 §6.3, RFC 4760 §3, RFC 7606 §3(d)',
    bytes: upd('', `${ORIGIN} ${AS_PATH}`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 3, subcode: 3, data: '03' }] },
  },
  {
    name: 'MULTI_EXIT_DISC of length 3',
    rfc: 'RFC 7606 §7.4',
    bytes: upd('', `${BASE} 800403000001`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 4, subcode: 5, data: '800403000001' }] },
  },
  {
    name: 'LOCAL_PREF of length 2',
    rfc: 'RFC 7606 §7.5',
    bytes: upd('', `${BASE} 4005020064`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 5, subcode: 5, data: '4005020064' }] },
  },
  {
    name: 'COMMUNITIES of length 5',
    rfc: 'RFC 1997, RFC 7606 §7.8',
    bytes: upd('', `${BASE} c008050000000001`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 8, subcode: 5, data: 'c008050000000001' }] },
  },
  {
    name: 'CLUSTER_LIST of length 0',
    rfc: 'RFC 7606 §4, §7.10',
    bytes: upd('', `${BASE} 800a00`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 10, subcode: 5, data: '800a00' }] },
  },
  {
    name: 'EXTENDED_COMMUNITIES of length 7',
    rfc: 'RFC 4360, RFC 7606 §7.14',
    bytes: upd('', `${BASE} c0100700020000000064`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 16, subcode: 5 }] },
  },
  {
    name: 'LARGE_COMMUNITIES of length 8',
    rfc: 'RFC 8092 §5',
    bytes: upd('', `${BASE} c020080000fde900000001`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 32, subcode: 5 }] },
  },
  {
    name: 'attribute length overrunning the Total Path Attribute Length',
    rfc: 'RFC 7606 §4',
    bytes: upd('', `${BASE} c0080800000001`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 8, subcode: 5, data: 'c0080800000001' }] },
  },
  {
    name: 'two octets left after the last attribute (header cut short)',
    rfc: 'RFC 7606 §4',
    bytes: upd('', `${BASE} c008`, NLRI),
    reports: { action: 'treat-as-withdraw', errors: [{ attributeType: 0, subcode: 1, data: '' }] },
  },
  // ---- UPDATE: attribute discard (RFC 7606, RFC 6793) ----
  {
    name: 'ATOMIC_AGGREGATE of length 1',
    rfc: 'RFC 7606 §7.6',
    bytes: upd('', `${BASE} 40060100`, NLRI),
    reports: { action: 'attribute-discard', errors: [{ attributeType: 6, subcode: 5, data: '40060100' }] },
  },
  {
    name: 'AGGREGATOR of length 7 on a 4-octet AS session',
    rfc: 'RFC 7606 §7.7',
    bytes: upd('', `${BASE} c007070000fde9c00002`, NLRI),
    reports: { action: 'attribute-discard', errors: [{ attributeType: 7, subcode: 5 }] },
  },
  {
    name: 'COMMUNITIES twice: the second is discarded',
    rfc: 'RFC 7606 §3(g)',
    bytes: upd('', `${BASE} c00804fde90064 c00804fde900c8`, NLRI),
    reports: { action: 'attribute-discard', errors: [{ attributeType: 8, subcode: 1, data: 'c00804fde900c8' }] },
  },
  {
    name: 'AS4_PATH with a confederation segment from a 2-octet speaker',
    rfc: 'RFC 6793 §6',
    bytes: upd('', `40010100 4002040201fde9 ${NEXT_HOP} c0110603010000fde9`, NLRI),
    options: { fourOctetAs: false },
    reports: { action: 'attribute-discard', errors: [{ attributeType: 17, subcode: 9 }] },
  },
];

describe('malformed messages: RFC 4271 §6, RFC 7606, and friends', () => {
  it('has at least 30 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(30);
  });

  for (const c of cases) {
    it(`${c.name} (${c.rfc})`, () => {
      const bytes = hex(c.bytes);
      if (c.throws) {
        let err: unknown;
        try {
          decodeMessage(bytes, c.options);
        } catch (e) {
          err = e;
        }
        expect(isBgpError(err), String(err)).toBe(true);
        const e = err as BgpError;
        expect(e).toBeInstanceOf(BgpError);
        expect(e.name).toBe('BgpError');
        expect([e.code, e.subcode]).toEqual([c.throws.code, c.throws.subcode]);
        if (c.throws.data !== undefined) expect(toHex(e.data)).toBe(c.throws.data.replace(/\s/g, ''));
        expect(e.toNotification()).toEqual({ type: 'notification', code: e.code, subcode: e.subcode, data: e.data });
        // the stream decoder reports the same error (header errors as soon as the header is in)
        const stream = new MessageDecoder(c.options);
        expect(() => stream.feed(bytes)).toThrow(BgpError);
        expect(() => stream.next()).toThrow(BgpError);
      } else {
        const m = decodeMessage(bytes, c.options);
        expect(m.type).toBe('update');
        if (m.type !== 'update') return;
        expect(m.malformed?.action).toBe(c.reports!.action);
        const got = m.malformed!.errors.map((x) => ({
          attributeType: x.attributeType,
          subcode: x.subcode,
          data: toHex(x.data),
          code: x.code,
        }));
        expect(got.length).toBe(c.reports!.errors.length);
        c.reports!.errors.forEach((want, i) => {
          expect(got[i]!.code).toBe(3);
          expect(got[i]!.attributeType).toBe(want.attributeType);
          expect(got[i]!.subcode).toBe(want.subcode);
          if (want.data !== undefined) expect(got[i]!.data).toBe(want.data);
        });
        // the malformed attribute is not in the result; NLRI is still there for treat-as-withdraw
        expect(m.nlri).toEqual(['198.51.100.0/24']);
      }
    });
  }

  it('the first COMMUNITIES is kept when a second one is discarded', () => {
    const m = decodeMessage(hex(upd('', `${BASE} c00804fde90064 c00804fde900c8`, NLRI)));
    expect(m.type === 'update' && m.attributes.communities).toEqual(['65001:100']);
  });

  it('LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST from an external peer are dropped without error (RFC 7606 §7.5)', () => {
    const bytes = hex(upd('', `${BASE} 40050400000064 80090401020304 800a0401020304`, NLRI));
    const ext = decodeMessage(bytes, { internal: false });
    expect(ext.type === 'update' && [ext.attributes.localPref, ext.attributes.originatorId, ext.malformed]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    const int = decodeMessage(bytes, { internal: true });
    expect(int.type === 'update' && int.attributes.localPref).toBe(100);
  });

  it('AS4_PATH from a 4-octet speaker is discarded silently (RFC 6793 §6)', () => {
    const m = decodeMessage(hex(upd('', `${BASE} c0110602010000fde9`, NLRI)));
    expect(m.type === 'update' && [m.attributes.as4Path, m.malformed]).toEqual([undefined, undefined]);
  });

  it('a withdraw-only UPDATE needs no path attributes (RFC 4271 §4.3)', () => {
    const m = decodeMessage(hex(upd('18c63364', '', '')));
    expect(m.type === 'update' && [m.withdrawn, m.malformed]).toEqual([['198.51.100.0/24'], undefined]);
  });

  it('treat-as-withdraw wins over attribute-discard (RFC 7606 §3(h))', () => {
    const m = decodeMessage(hex(upd('', `40010103 ${AS_PATH} ${NEXT_HOP} 40060100`, NLRI)));
    expect(m.type === 'update' && m.malformed?.action).toBe('treat-as-withdraw');
    expect(m.type === 'update' && m.malformed?.errors.map((e) => e.action)).toEqual([
      'treat-as-withdraw',
      'attribute-discard',
    ]);
  });

  it('a truncated buffer is Bad Message Length with the header length as data', () => {
    const bytes = hex(upd('', BASE, NLRI));
    expect(() => decodeMessage(bytes.subarray(0, bytes.length - 1))).toThrowError(
      expect.objectContaining({ code: 1, subcode: 2 }),
    );
    expect(() => decodeMessage(bytes.subarray(0, 10))).toThrowError(expect.objectContaining({ code: 1, subcode: 2 }));
  });
});
