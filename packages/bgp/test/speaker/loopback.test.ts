import { afterEach, describe, expect, it } from 'vitest';
import { type BgpPeer, BgpSpeaker, type NotificationEvent } from '../../src/speaker/index.js';
import { until } from '../helpers/until.js';

// Our speaker against our own speaker over real TCP on loopback: A listens on 127.0.0.1, B on 127.0.0.2. Loopback is
// not a valid BGP next hop (the codec treats such routes as withdrawn, RFC 7606), so B advertises documentation-range
// next hops (BGP payload only: nothing is ever sent to them).
const A = '127.0.0.1';
const B = '127.0.0.2';
const NH = { nextHop4: '192.0.2.2', nextHop6: '2001:db8::2' };
const PORT = 17900 + (process.pid % 1000);

const speakers: BgpSpeaker[] = [];
afterEach(async () => {
  await Promise.all(speakers.splice(0).map((s) => s.close()));
});

function speaker(address: string, asn: number, listen = true): BgpSpeaker {
  const s = new BgpSpeaker({ asn, routerId: address, ...(listen ? { listen: { host: address, port: PORT } } : {}) });
  speakers.push(s);
  return s;
}

const established = (p: BgpPeer) => until(() => p.state === 'Established');

/** A passive receiver (A) and an active sender (B). */
async function pair(opts: { asnA?: number; asnB?: number; a?: object; b?: object } = {}) {
  const asnA = opts.asnA ?? 65001;
  const asnB = opts.asnB ?? 65002;
  const a = speaker(A, asnA);
  const b = speaker(B, asnB);
  await a.listening();
  await b.listening();
  const rx = a.addPeer({ address: B, asn: asnB, passive: true, exposeRoutes: true, ...opts.a });
  const tx = b.addPeer({ address: A, asn: asnA, port: PORT, localAddress: B, ...NH, ...opts.b });
  await established(rx);
  await established(tx);
  return { a, b, rx, tx };
}

const received = (p: BgpPeer) => new Map(p.receivedRoutes().map((r) => [r.prefix, r.attributes]));

describe('speaker ↔ speaker over loopback TCP', () => {
  it('establishes, announces IPv4 and IPv6 with attributes, changes, withdraws', async () => {
    const { b, rx, tx } = await pair();
    expect(tx.session).toMatchObject({
      fourOctetAs: true,
      extendedMessages: true,
      routeRefresh: true,
      internal: false,
    });
    expect(tx.session?.families).toEqual(['ipv4', 'ipv6']);
    b.announce('198.51.100.1/32', { communities: ['65002:1'], largeCommunities: ['65002:1:2'], med: 7, localPref: 9 });
    b.announce('2001:db8:100::1', { communities: ['65002:6'] });
    await until(() => rx.counters.prefixesReceived === 2);
    const r = received(rx);
    expect(r.get('198.51.100.1/32')).toMatchObject({
      origin: 'igp',
      asPath: [{ type: 'sequence', asns: [65002] }],
      nextHop: '192.0.2.2',
      med: 7,
      communities: ['65002:1'],
      largeCommunities: ['65002:1:2'],
    });
    expect(r.get('198.51.100.1/32')?.localPref).toBeUndefined(); // eBGP
    expect(r.get('2001:db8:100::1/128')?.mpReach).toMatchObject({ afi: 2, nextHop: '2001:db8::2' });

    b.announce('198.51.100.1/32', { med: 8 });
    await until(() => received(rx).get('198.51.100.1/32')?.med === 8);
    expect(received(rx).get('198.51.100.1/32')?.communities).toBeUndefined();
    expect(b.withdraw('198.51.100.1/32')).toBe(true);
    expect(b.withdraw('198.51.100.1/32')).toBe(false);
    await until(() => rx.counters.prefixesReceived === 1);
    expect(tx.counters.prefixesAdvertised).toBe(1);
  });

  it('sends the whole table then End-of-RIB for each family when the session comes up', async () => {
    const a = speaker(A, 65001);
    const b = speaker(B, 65002);
    await a.listening();
    for (let i = 0; i < 50; i++) b.announce(`198.51.100.${i}/32`);
    b.announce('2001:db8::5/128');
    const eors: string[] = [];
    const rx = a.addPeer({ address: B, asn: 65002, passive: true });
    rx.on('update', (u) => {
      if (u.nlri.length === 0 && u.withdrawn.length === 0 && !u.attributes.mpReach) {
        eors.push(u.attributes.mpUnreach ? `afi${u.attributes.mpUnreach.afi}` : 'afi1');
      }
    });
    b.addPeer({ address: A, asn: 65001, port: PORT, localAddress: B, ...NH });
    await until(() => eors.length === 2);
    expect(rx.counters.prefixesReceived).toBe(51);
    expect(eors.sort()).toEqual(['afi1', 'afi2']);
  });

  it('packs 10,000 /32s with identical attributes into at most 15 UPDATEs (4096-octet messages)', async () => {
    const { b, rx, tx } = await pair({ b: { extendedMessages: false } });
    const before = tx.counters.updatesSent;
    for (let i = 0; i < 10_000; i++) b.announce(`198.18.${i >> 8}.${i & 255}/32`, { communities: ['65002:1'] });
    await until(() => rx.counters.prefixesReceived === 10_000, 10_000);
    expect(tx.counters.updatesSent - before).toBeLessThanOrEqual(15);
    // Withdrawals are packed too, within the size limit.
    const w0 = tx.counters.updatesSent;
    for (let i = 0; i < 10_000; i++) b.withdraw(`198.18.${i >> 8}.${i & 255}/32`);
    await until(() => rx.counters.prefixesReceived === 0, 10_000);
    expect(tx.counters.updatesSent - w0).toBeLessThanOrEqual(15);
  });

  it('coalesces a burst of calls in one turn and sends nothing for a no-op', async () => {
    const { b, rx, tx } = await pair();
    const before = tx.counters.updatesSent;
    b.announce('198.51.100.1/32', { med: 1 });
    b.announce('198.51.100.1/32', { med: 2 });
    b.announce('198.51.100.2/32', { med: 2 });
    b.withdraw('198.51.100.2/32');
    await until(() => rx.counters.prefixesReceived === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(tx.counters.updatesSent - before).toBe(1);
    expect(received(rx).get('198.51.100.1/32')?.med).toBe(2);
    b.announce('198.51.100.1/32', { med: 2 }); // unchanged
    await new Promise((r) => setTimeout(r, 50));
    expect(tx.counters.updatesSent - before).toBe(1);
  });

  it('sends LOCAL_PREF (default 100) and an empty AS_PATH on iBGP only', async () => {
    const { b, rx } = await pair({ asnA: 65001, asnB: 65001 });
    b.announce('198.51.100.1/32', { localPref: 300 });
    b.announce('198.51.100.2/32');
    await until(() => rx.counters.prefixesReceived === 2);
    const r = received(rx);
    expect(r.get('198.51.100.1/32')).toMatchObject({ localPref: 300, asPath: [] });
    expect(r.get('198.51.100.2/32')?.localPref).toBe(100);
  });

  it('a 4-octet AS reaches a 4-octet peer as is', async () => {
    const { b, rx } = await pair({ asnB: 4_200_000_000 });
    b.announce('198.51.100.1/32');
    await until(() => rx.counters.prefixesReceived === 1);
    expect(received(rx).get('198.51.100.1/32')?.asPath).toEqual([{ type: 'sequence', asns: [4_200_000_000] }]);
  });

  it('resolves a connection collision (both sides active) to exactly one session', async () => {
    const a = speaker(A, 65001);
    const b = speaker(B, 65002);
    await a.listening();
    await b.listening();
    const notes: NotificationEvent[] = [];
    const pa = a.addPeer({ address: B, asn: 65002, port: PORT, localAddress: A });
    const pb = b.addPeer({ address: A, asn: 65001, port: PORT, localAddress: B, ...NH });
    pa.on('notification', (n) => notes.push(n));
    pb.on('notification', (n) => notes.push(n));
    await established(pa);
    await established(pb);
    await new Promise((r) => setTimeout(r, 200));
    expect(pa.state).toBe('Established');
    expect(pb.state).toBe('Established');
    // Either there was no collision, or it was resolved with Cease / Connection Collision Resolution.
    for (const n of notes) expect([n.code, n.subcode]).toEqual([6, 7]);
    // Higher BGP identifier (B) keeps the connection it initiated.
    if (notes.length > 0) expect(pb.session?.direction).toBe('outgoing');
    b.announce('198.51.100.9/32');
    await until(() => pa.counters.prefixesReceived === 1);
  });

  it('tears the session down with Cease / Maximum Number of Prefixes when the peer sends too many', async () => {
    const { b, rx, tx } = await pair({ a: { maxPrefix: 5 } });
    const got: NotificationEvent[] = [];
    tx.on('notification', (n) => got.push(n));
    for (let i = 0; i < 6; i++) b.announce(`198.51.100.${i}/32`);
    await until(() => got.length > 0);
    expect(got[0]).toMatchObject({ direction: 'received', code: 6, subcode: 1 });
    // Data: AFI 1, SAFI 1, limit 5 (RFC 4486).
    expect([...(got[0]?.data ?? [])]).toEqual([0, 1, 1, 0, 0, 0, 5]);
    expect(rx.counters.prefixesReceived).toBe(0);
  });

  it('close() sends Cease / Administrative Shutdown; removePeer sends Peer De-configured', async () => {
    const { a, b, tx } = await pair();
    const got: NotificationEvent[] = [];
    tx.on('notification', (n) => got.push(n));
    a.removePeer(B);
    await until(() => got.length > 0);
    expect(got[0]).toMatchObject({ direction: 'received', code: 6, subcode: 3 });
    const rx2 = a.addPeer({ address: B, asn: 65002, passive: true });
    await established(rx2);
    await established(tx);
    await a.close('maintenance');
    await until(() => got.length > 1);
    expect(got[1]).toMatchObject({ direction: 'received', code: 6, subcode: 2 });
    expect(new TextDecoder().decode(got[1]?.data?.subarray(1))).toBe('maintenance');
    void b;
  });

  it('reset() sends Cease / Administrative Reset and the session comes back with the full table', async () => {
    const { b, rx, tx } = await pair({ b: { backoff: { initialMs: 50, maxMs: 100 } } });
    b.announce('198.51.100.1/32');
    await until(() => rx.counters.prefixesReceived === 1);
    const got: NotificationEvent[] = [];
    rx.on('notification', (n) => got.push(n));
    tx.reset('config change');
    await until(() => got.length > 0);
    expect(got[0]).toMatchObject({ direction: 'received', code: 6, subcode: 4 });
    await until(() => tx.counters.established === 2 && rx.state === 'Established');
    await until(() => rx.counters.prefixesReceived === 1);
  });

  it.runIf(process.platform === 'linux')('TCP MD5: the right key establishes, a wrong key never does', async () => {
    const a = speaker(A, 65001);
    const b = speaker(B, 65002);
    await a.listening();
    const rx = a.addPeer({ address: B, asn: 65002, passive: true, password: 'right' });
    const bad = b.addPeer({ address: A, asn: 65001, port: PORT, localAddress: B, password: 'wrong', ...NH });
    await new Promise((r) => setTimeout(r, 1500));
    expect(rx.counters.established + bad.counters.established).toBe(0);
    b.removePeer(A);
    const good = b.addPeer({ address: A, asn: 65001, port: PORT, localAddress: B, password: 'right', ...NH });
    await established(good);
    await established(rx);
  });

  it('answers a ROUTE-REFRESH by re-sending the family and End-of-RIB', async () => {
    const { b, rx, tx } = await pair();
    b.announce('198.51.100.1/32');
    b.announce('2001:db8::1/128');
    await until(() => rx.counters.prefixesReceived === 2);
    const before = tx.counters.prefixesAnnounced;
    const conn = (rx as unknown as { current?: { sendMessage(m: object): number } }).current;
    conn?.sendMessage({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
    await until(() => tx.counters.routeRefreshes === 1);
    await until(() => tx.counters.prefixesAnnounced === before + 1);
  });
});
