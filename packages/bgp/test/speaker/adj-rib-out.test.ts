import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../src/codec/index.js';
import type { UpdateMessage } from '../../src/codec/types.js';
import { AdjRibOut, type Announcement, announcementKey, type ExportContext } from '../../src/speaker/index.js';

const ann = (options: Announcement['options'] = {}): Announcement => ({ key: announcementKey(options), options });

const EBGP: ExportContext = {
  localAsn: 65001,
  internal: false,
  families: ['ipv4', 'ipv6'],
  codec: { fourOctetAs: true },
  peerAddress: '192.0.2.2',
  localAddress: '192.0.2.1',
};

function decodeAll(msgs: Uint8Array[], ctx = EBGP): UpdateMessage[] {
  return msgs.map((m) => decodeMessage(m, ctx.codec) as UpdateMessage);
}

function table(entries: [string, Announcement][]) {
  return new Map(entries);
}

const v4 = (n: number) => `198.18.${(n >> 8) & 255}.${n & 255}/32`;

describe('AdjRibOut', () => {
  it('groups prefixes with identical attributes and packs them: 10,000 /32s in at most 15 UPDATEs of ≤ 4096 octets', () => {
    const rib = new AdjRibOut();
    rib.reset(EBGP);
    const a = ann({ communities: ['65001:1'] });
    const t = table(Array.from({ length: 10_000 }, (_, i) => [v4(i), a] as [string, Announcement]));
    const res = rib.flush(t);
    expect(res.announced).toBe(10_000);
    expect(res.messages.length).toBeLessThanOrEqual(15);
    expect(Math.max(...res.messages.map((m) => m.length))).toBeLessThanOrEqual(4096);
    const updates = decodeAll(res.messages);
    expect(updates.flatMap((u) => u.nlri).length).toBe(10_000);
    expect(updates[0]?.attributes).toMatchObject({
      origin: 'igp',
      asPath: [{ type: 'sequence', asns: [65001] }],
      nextHop: '192.0.2.1',
      communities: ['65001:1'],
    });
    expect(updates[0]?.attributes.localPref).toBeUndefined();
    expect(rib.size).toBe(10_000);
  });

  it('uses 65535-octet UPDATEs when extended messages are negotiated', () => {
    const rib = new AdjRibOut();
    const ctx = { ...EBGP, codec: { fourOctetAs: true, extendedMessages: true } };
    rib.reset(ctx);
    const a = ann();
    const res = rib.flush(table(Array.from({ length: 10_000 }, (_, i) => [v4(i), a] as [string, Announcement])));
    expect(res.messages.length).toBe(1);
  });

  it('sends only the difference: a change, a withdrawal, and nothing for an unchanged table', () => {
    const rib = new AdjRibOut();
    rib.reset(EBGP);
    const a = ann({ med: 1 });
    const b = ann({ med: 2 });
    const t = table([
      ['198.51.100.1/32', a],
      ['198.51.100.2/32', a],
      ['198.51.100.3/32', a],
    ]);
    expect(rib.flush(t).announced).toBe(3);
    expect(rib.pending).toBe(false);
    t.set('198.51.100.2/32', b);
    t.delete('198.51.100.3/32');
    const changes = new Map([
      ['198.51.100.2/32', a],
      ['198.51.100.3/32', a],
      ['198.51.100.1/32', a], // touched but unchanged
    ]);
    const res = rib.flush(t, changes);
    const ups = decodeAll(res.messages);
    expect(res).toMatchObject({ announced: 1, withdrawn: 1 });
    expect(ups[0]?.withdrawn).toEqual(['198.51.100.3/32']); // withdrawals first
    expect(ups[1]).toMatchObject({ nlri: ['198.51.100.2/32'], attributes: { med: 2 } });
    expect(rib.flush(t, new Map()).messages).toEqual([]);
    expect(rib.size).toBe(2);
  });

  it('packs withdrawals of both families within the size limit', () => {
    const rib = new AdjRibOut();
    rib.reset(EBGP);
    const a = ann();
    const t = table(Array.from({ length: 3000 }, (_, i) => [v4(i), a] as [string, Announcement]));
    t.set('2001:db8::1/128', a);
    rib.flush(t);
    const res = rib.flush(new Map(), new Map([...t.entries()]));
    expect(res.withdrawn).toBe(3001);
    expect(Math.max(...res.messages.map((m) => m.length))).toBeLessThanOrEqual(4096);
    const ups = decodeAll(res.messages);
    expect(ups.flatMap((u) => u.withdrawn).length).toBe(3000);
    expect(ups.flatMap((u) => u.attributes.mpUnreach?.withdrawn ?? [])).toEqual(['2001:db8::1/128']);
    expect(res.messages.length).toBeLessThanOrEqual(5);
    expect(rib.size).toBe(0);
  });

  it('iBGP: LOCAL_PREF (default 100) and an empty AS_PATH', () => {
    const rib = new AdjRibOut();
    rib.reset({ ...EBGP, internal: true });
    const res = rib.flush(
      table([
        ['198.51.100.1/32', ann({ localPref: 250 })],
        ['198.51.100.2/32', ann()],
      ]),
    );
    const ups = decodeAll(res.messages);
    const lp = Object.fromEntries(ups.flatMap((u) => u.nlri.map((p) => [p, u.attributes.localPref])));
    expect(lp).toEqual({ '198.51.100.1/32': 250, '198.51.100.2/32': 100 });
    expect(ups[0]?.attributes.asPath).toEqual([]);
  });

  it('toward a 2-octet peer: AS_TRANS in AS_PATH and the real AS in AS4_PATH (RFC 6793)', () => {
    const rib = new AdjRibOut();
    const ctx: ExportContext = { ...EBGP, localAsn: 4_200_000_001, codec: { fourOctetAs: false }, families: ['ipv4'] };
    rib.reset(ctx);
    const [msg] = rib.flush(table([['198.51.100.1/32', ann()]])).messages;
    expect(msg).toBeDefined();
    const u = decodeMessage(msg as Uint8Array, { fourOctetAs: false }) as UpdateMessage;
    expect(u.attributes.asPath).toEqual([{ type: 'sequence', asns: [23456] }]);
    expect(u.attributes.as4Path).toEqual([{ type: 'sequence', asns: [4_200_000_001] }]);
  });

  it('IPv6: MP_REACH with the session global address and link-local; IPv4-mapped over an IPv4 session', () => {
    const rib = new AdjRibOut();
    rib.reset({ ...EBGP, localAddress: '2001:db8:0:1::1', linkLocal6: 'fe80::1' });
    const msgs = rib.flush(table([['2001:db8:100::1/128', ann()]])).messages;
    expect(msgs.length).toBe(1); // no stray empty IPv4 UPDATE next to the MP_REACH one
    const ups = decodeAll(msgs);
    expect(ups[0]?.attributes.mpReach).toMatchObject({
      afi: 2,
      nextHop: '2001:db8:0:1::1',
      linkLocalNextHop: 'fe80::1',
      nlri: ['2001:db8:100::1/128'],
    });
    const rib4 = new AdjRibOut();
    rib4.reset(EBGP);
    const u4 = decodeAll(rib4.flush(table([['2001:db8:100::1/128', ann()]])).messages);
    expect(u4[0]?.attributes.mpReach?.nextHop).toMatch(/^::ffff:(192\.0\.2\.1|c000:201)$/);
    expect(u4[0]?.attributes.mpReach?.linkLocalNextHop).toBeUndefined();
  });

  it('honours an explicit next hop, the peers filter, and negotiated families', () => {
    const rib = new AdjRibOut();
    rib.reset({ ...EBGP, families: ['ipv4'] });
    const res = rib.flush(
      table([
        ['198.51.100.1/32', ann({ nextHop: '192.0.2.99' })],
        ['198.51.100.2/32', ann({ peers: ['192.0.2.77'] })],
        ['2001:db8::1/128', ann()],
      ]),
    );
    const ups = decodeAll(res.messages);
    expect(ups.flatMap((u) => u.nlri)).toEqual(['198.51.100.1/32']);
    expect(ups[0]?.attributes.nextHop).toBe('192.0.2.99');
  });

  it('ADD-PATH send: one path per next hop (path identifiers 1, 2, 3); a dropped next hop withdraws only its path', () => {
    const ctx: ExportContext = {
      ...EBGP,
      internal: true,
      localAsn: 65001,
      codec: { fourOctetAs: true, addPath: { ipv4Unicast: true, ipv6Unicast: true } },
    };
    const rib = new AdjRibOut();
    rib.reset(ctx);
    const three = ann({ nextHop: '192.0.2.11', nextHops: ['192.0.2.12', '2001:db8::13', '192.0.2.13'] });
    const t = table([
      ['198.51.100.1/32', three],
      ['2001:db8:1::1/128', ann({ nextHop: '2001:db8::11', nextHops: ['2001:db8::12'] })],
    ]);
    const ups = decodeAll(rib.flush(t).messages, ctx);
    const v4Paths = ups.flatMap((u) => u.nlri.map((p, i) => [u.nlriPathIds?.[i], p, u.attributes.nextHop]));
    // the IPv6 next hop of an IPv4 route is skipped, its path identifier (3) with it
    expect(v4Paths.sort()).toEqual([
      [1, '198.51.100.1/32', '192.0.2.11'],
      [2, '198.51.100.1/32', '192.0.2.12'],
      [4, '198.51.100.1/32', '192.0.2.13'],
    ]);
    const v6Paths = ups.flatMap((u) => {
      const mp = u.attributes.mpReach;
      return (mp?.nlri ?? []).map((p, i) => [mp?.pathIds?.[i], p, mp?.nextHop]);
    });
    expect(v6Paths.sort()).toEqual([
      [1, '2001:db8:1::1/128', '2001:db8::11'],
      [2, '2001:db8:1::1/128', '2001:db8::12'],
    ]);
    expect(rib.size).toBe(2);
    t.set('198.51.100.1/32', ann({ nextHop: '192.0.2.11', nextHops: ['192.0.2.12'] }));
    const res = rib.flush(t, new Map([['198.51.100.1/32', three]]));
    const change = decodeAll(res.messages, ctx);
    expect(change.map((u) => [u.withdrawn, u.withdrawnPathIds, u.nlri])).toEqual([[['198.51.100.1/32'], [4], []]]);
    expect(rib.size).toBe(2);
  });

  it('without ADD-PATH negotiated only the first next hop goes out, with no path identifier', () => {
    const rib = new AdjRibOut();
    rib.reset(EBGP);
    const ups = decodeAll(
      rib.flush(table([['198.51.100.1/32', ann({ nextHop: '192.0.2.11', nextHops: ['192.0.2.12'] })]])).messages,
    );
    expect(ups.map((u) => [u.nlri, u.nlriPathIds, u.attributes.nextHop])).toEqual([
      [['198.51.100.1/32'], undefined, '192.0.2.11'],
    ]);
  });

  it('re-sends one family on ROUTE-REFRESH and produces End-of-RIB markers', () => {
    const rib = new AdjRibOut();
    rib.reset(EBGP);
    const t = table([
      ['198.51.100.1/32', ann()],
      ['2001:db8::1/128', ann()],
    ]);
    rib.flush(t);
    rib.resend('ipv6');
    const res = rib.flush(t);
    expect(res.announced).toBe(1);
    expect(decodeAll(res.messages)[0]?.attributes.mpReach?.nlri).toEqual(['2001:db8::1/128']);
    const eor = decodeAll(rib.endOfRib());
    expect(eor[0]).toMatchObject({ withdrawn: [], nlri: [] });
    expect(eor[1]?.attributes.mpUnreach).toMatchObject({ afi: 2, safi: 1, withdrawn: [] });
  });
});
