import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { createOpen, encodeMessage, MessageDecoder } from '../../src/codec/index.js';
import type { BgpMessage, CodecOptions, NotificationMessage, UpdateMessage } from '../../src/codec/types.js';
import {
  type BgpPeer,
  type BgpSocket,
  BgpSpeaker,
  FakeClock,
  type PeerOptions,
  seededRandom,
} from '../../src/speaker/index.js';

// Deterministic session tests: an in-memory socket pair, a scripted remote speaker built from the codec, and a fake clock.

class MemSocket extends EventEmitter implements BgpSocket {
  other: MemSocket | undefined;
  destroyed = false;
  constructor(
    readonly localAddress: string,
    readonly remoteAddress: string,
  ) {
    super();
  }
  write(data: Uint8Array): boolean {
    const o = this.other;
    if (this.destroyed || !o) return false;
    const copy = data.slice();
    queueMicrotask(() => {
      if (!o.destroyed) o.emit('data', copy);
    });
    return true;
  }
  end(): void {
    this.destroy();
  }
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    queueMicrotask(() => {
      this.emit('close');
      this.other?.destroy();
    });
  }
}

/** The far end: decodes what we send and sends what the test scripts. */
class Remote {
  readonly received: BgpMessage[] = [];
  readonly decoder = new MessageDecoder({ fourOctetAs: true });
  constructor(readonly sock: MemSocket) {
    sock.on('data', (chunk: Uint8Array) => {
      this.decoder.push(chunk);
      for (let m = this.decoder.next(); m !== null; m = this.decoder.next()) this.received.push(m);
    });
  }
  send(m: BgpMessage, options: CodecOptions = { fourOctetAs: true }): void {
    this.sock.write(encodeMessage(m, options));
  }
  raw(bytes: Uint8Array): void {
    this.sock.write(bytes);
  }
  of<T extends BgpMessage['type']>(type: T): Extract<BgpMessage, { type: T }>[] {
    return this.received.filter((m) => m.type === type) as Extract<BgpMessage, { type: T }>[];
  }
  get closed(): boolean {
    return this.sock.destroyed;
  }
}

const tick = async (n = 3) => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

function setup(peer: Partial<PeerOptions> = {}, failDials = 0) {
  const clock = new FakeClock();
  const remotes: Remote[] = [];
  const dialTimes: number[] = [];
  let failures = failDials;
  const speaker = new BgpSpeaker({
    asn: 65001,
    routerId: '192.0.2.1',
    clock,
    random: seededRandom(42),
    dial: async () => {
      dialTimes.push(clock.now());
      if (failures-- > 0) throw new Error('ECONNREFUSED');
      const ours = new MemSocket('192.0.2.1', '192.0.2.2');
      const theirs = new MemSocket('192.0.2.2', '192.0.2.1');
      ours.other = theirs;
      theirs.other = ours;
      remotes.push(new Remote(theirs));
      return ours;
    },
  });
  const p = speaker.addPeer({ address: '192.0.2.2', asn: 65002, holdTime: 9, families: ['ipv4', 'ipv6'], ...peer });
  return { clock, speaker, peer: p, remotes, dialTimes, last: () => remotes[remotes.length - 1] as Remote };
}

const THEIR_OPEN = (o: Partial<Parameters<typeof createOpen>[0]> = {}) =>
  createOpen({ asn: 65002, bgpId: '192.0.2.2', holdTime: 9, ...o });

async function establish(peer: Partial<PeerOptions> = {}) {
  const s = setup(peer);
  await tick();
  const r = s.last();
  expect(r.of('open')).toHaveLength(1);
  r.send(THEIR_OPEN());
  r.send({ type: 'keepalive' });
  await tick();
  expect(s.peer.state).toBe('Established');
  return { ...s, r };
}

const notification = (r: Remote): NotificationMessage | undefined => r.of('notification')[0];

describe('session: OPEN exchange', () => {
  it('sends an OPEN with our capabilities and reaches Established after OPEN + KEEPALIVE', async () => {
    const { r, peer } = await establish();
    const open = r.of('open')[0];
    expect(open).toMatchObject({ version: 4, myAsn: 65001, holdTime: 9, bgpId: '192.0.2.1' });
    const caps = open?.capabilities.map((c) => c.type);
    expect(caps).toEqual(
      expect.arrayContaining(['multiprotocol', 'route-refresh', 'extended-message', 'four-octet-as']),
    );
    expect(peer.session).toMatchObject({
      holdTime: 9,
      keepaliveTime: 3,
      fourOctetAs: true,
      families: ['ipv4', 'ipv6'],
    });
    // End-of-RIB for both families goes out at once, even with an empty table.
    expect(r.of('update')).toHaveLength(2);
  });

  it('answers a wrong peer AS with OPEN error 2/2', async () => {
    const s = setup();
    await tick();
    s.last().send(THEIR_OPEN({ asn: 65099 }));
    await tick();
    expect(notification(s.last())).toMatchObject({ code: 2, subcode: 2 });
    expect(s.peer.state).not.toBe('Established');
  });

  it('answers an unacceptable hold time with OPEN error 2/6', async () => {
    const s = setup();
    await tick();
    const open = THEIR_OPEN();
    s.last().send({ ...open, holdTime: 2 });
    await tick();
    expect(notification(s.last())).toMatchObject({ code: 2, subcode: 6 });
  });

  it('rejects our own BGP identifier on iBGP with OPEN error 2/3', async () => {
    const s = setup({ asn: 65001 });
    await tick();
    s.last().send(createOpen({ asn: 65001, bgpId: '192.0.2.1', holdTime: 9 }));
    await tick();
    expect(notification(s.last())).toMatchObject({ code: 2, subcode: 3 });
  });

  it('uses AS_TRANS in the OPEN for a 4-octet AS', async () => {
    const clock = new FakeClock();
    let remote: Remote | undefined;
    const speaker = new BgpSpeaker({
      asn: 4_200_000_000,
      routerId: '192.0.2.1',
      clock,
      dial: async () => {
        const a = new MemSocket('192.0.2.1', '192.0.2.2');
        const b = new MemSocket('192.0.2.2', '192.0.2.1');
        a.other = b;
        b.other = a;
        remote = new Remote(b);
        return a;
      },
    });
    speaker.addPeer({ address: '192.0.2.2', asn: 65002 });
    await tick();
    const open = remote?.of('open')[0];
    expect(open?.myAsn).toBe(23456);
    expect(open?.capabilities).toContainEqual({ type: 'four-octet-as', asn: 4_200_000_000 });
  });
});

describe('session: NOTIFICATION for codec errors and RFC 7606', () => {
  it('answers a broken marker with Message Header Error / Connection Not Synchronized', async () => {
    const { r, peer } = await establish();
    const bytes = encodeMessage({ type: 'keepalive' });
    bytes[3] = 0;
    r.raw(bytes);
    await tick();
    expect(notification(r)).toMatchObject({ code: 1, subcode: 1 });
    expect(peer.state).not.toBe('Established');
    expect(peer.counters.notificationsSent).toBe(1);
  });

  it('answers a bad message length with 1/2 and the length as data', async () => {
    const { r } = await establish();
    const bytes = encodeMessage({ type: 'keepalive' });
    bytes[17] = 18; // KEEPALIVE must be 19 octets
    r.raw(bytes);
    await tick();
    expect(notification(r)).toMatchObject({ code: 1, subcode: 2, data: Uint8Array.of(0, 18) });
  });

  it('treats an UPDATE with a malformed ORIGIN as a withdrawal and keeps the session (RFC 7606)', async () => {
    const { r, peer } = await establish({ exposeRoutes: true });
    const update: UpdateMessage = {
      type: 'update',
      withdrawn: [],
      attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65002] }], nextHop: '192.0.2.2' },
      nlri: ['198.51.100.1/32'],
    };
    r.send(update);
    await tick();
    expect(peer.counters.prefixesReceived).toBe(1);
    const bad = encodeMessage({ ...update }, { fourOctetAs: true });
    // ORIGIN is the first attribute: flags, type, length, value at offset 23 + 3.
    expect(bad[24]).toBe(1);
    bad[26] = 7; // invalid ORIGIN value → treat-as-withdraw
    r.raw(bad);
    await tick();
    expect(peer.state).toBe('Established');
    expect(peer.counters.updatesTreatedAsWithdraw).toBe(1);
    expect(peer.counters.prefixesReceived).toBe(0);
    expect(notification(r)).toBeUndefined();
  });

  it('answers an unexpected OPEN in Established with FSM Error 5/3', async () => {
    const { r } = await establish();
    r.send(THEIR_OPEN());
    await tick();
    expect(notification(r)).toMatchObject({ code: 5, subcode: 3 });
  });
});

describe('session: timers on the fake clock', () => {
  it('sends keepalives every ~hold/3 and expires the hold timer of a silent peer', async () => {
    const { r, clock, peer } = await establish();
    const before = r.of('keepalive').length;
    clock.advance(8_999);
    await tick();
    expect(r.of('keepalive').length - before).toBeGreaterThanOrEqual(3);
    expect(peer.state).toBe('Established');
    clock.advance(1);
    await tick();
    expect(notification(r)).toMatchObject({ code: 4, subcode: 0 });
    expect(peer.lastError).toMatchObject({ event: 'HoldTimerExpires', from: 'Established' });
  });

  it('reconnects with exponential backoff and jitter after failures, and resets it once Established', async () => {
    const s = setup({ backoff: { initialMs: 1000, maxMs: 8000 } }, 4);
    await tick();
    for (let i = 0; i < 4; i++) {
      const delay = s.clock.nextDelay() ?? 0;
      s.clock.advance(delay);
      await tick();
    }
    expect(s.dialTimes).toHaveLength(5);
    const gaps = s.dialTimes.slice(1).map((t, i) => t - (s.dialTimes[i] ?? 0));
    const bases = [1000, 2000, 4000, 8000];
    gaps.forEach((g, i) => {
      expect(g).toBeGreaterThanOrEqual(0.75 * (bases[i] ?? 0));
      expect(g).toBeLessThanOrEqual(bases[i] ?? 0);
    });
    const r = s.last();
    r.send(THEIR_OPEN());
    r.send({ type: 'keepalive' });
    await tick();
    expect(s.peer.state).toBe('Established');
    // The session drops: the first retry is back at the initial delay.
    r.sock.destroy();
    await tick();
    expect(s.peer.state).toBe('Idle');
    expect(s.clock.nextDelay()).toBeLessThanOrEqual(1000);
  });
});

describe('session: Adj-RIB-Out over the wire', () => {
  it('sends the table after Established, then only changes; withdraws on removal', async () => {
    const { r, speaker, peer } = await establish();
    speaker.announce('198.51.100.1/32', { med: 3 });
    speaker.announce('2001:db8::1/128', { med: 3 });
    await tick();
    const ups = r.of('update').slice(2);
    expect(ups.flatMap((u) => u.nlri)).toEqual(['198.51.100.1/32']);
    expect(ups.flatMap((u) => u.attributes.mpReach?.nlri ?? [])).toEqual(['2001:db8::1/128']);
    expect(ups.find((u) => u.nlri.length > 0)?.attributes).toMatchObject({ nextHop: '192.0.2.1', med: 3 });
    speaker.withdraw('198.51.100.1/32');
    await tick();
    expect(r.of('update').at(-1)?.withdrawn).toEqual(['198.51.100.1/32']);
    expect(peer.counters.prefixesAdvertised).toBe(1);
  });

  it('ADD-PATH send: advertised with addPath; with the peer receiving, one path per next hop, path ids on the wire', async () => {
    const s = setup({ addPath: true });
    await tick();
    const r = s.last();
    expect(r.of('open')[0]?.capabilities).toContainEqual({
      type: 'add-path',
      families: [
        { afi: 1, safi: 1, sendReceive: 'send' },
        { afi: 2, safi: 1, sendReceive: 'send' },
      ],
    });
    r.send(THEIR_OPEN({ addPath: [{ afi: 1, safi: 1, sendReceive: 'receive' }] })); // IPv4 only
    r.send({ type: 'keepalive' });
    await tick();
    expect(s.peer.state).toBe('Established');
    r.decoder.options = { fourOctetAs: true, addPath: { ipv4Unicast: true } };
    const before = r.of('update').length;
    s.speaker.announce('198.51.100.1/32', { nextHops: ['192.0.2.7', '192.0.2.8'] });
    s.speaker.announce('2001:db8::1/128', { nextHop: '2001:db8::5', nextHops: ['2001:db8::7'] });
    await tick();
    const ups = r.of('update').slice(before);
    const v4 = ups.flatMap((u) => u.nlri.map((p, i) => `${u.nlriPathIds?.[i]} ${p} via ${u.attributes.nextHop}`));
    expect(v4.sort()).toEqual([
      '1 198.51.100.1/32 via 192.0.2.1',
      '2 198.51.100.1/32 via 192.0.2.7',
      '3 198.51.100.1/32 via 192.0.2.8',
    ]);
    // IPv6 was not negotiated for ADD-PATH: one path, no identifier
    const v6 = ups.flatMap((u) => u.attributes.mpReach?.nlri.map((p) => [p, u.attributes.mpReach?.pathIds]) ?? []);
    expect(v6).toEqual([['2001:db8::1/128', undefined]]);
    expect(() => s.speaker.announce('198.51.100.2/32', { nextHops: ['not-an-ip'] })).toThrow(TypeError);
  });

  it('re-sends the table and End-of-RIB on ROUTE-REFRESH', async () => {
    const { r, speaker, peer } = await establish();
    speaker.announce('198.51.100.1/32');
    await tick();
    const n = r.of('update').length;
    r.send({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
    await tick();
    const after = r.of('update').slice(n);
    expect(after.flatMap((u) => u.nlri)).toEqual(['198.51.100.1/32']);
    expect(after.at(-1)).toMatchObject({ nlri: [], withdrawn: [] }); // End-of-RIB
    expect(peer.counters.routeRefreshes).toBe(1);
  });

  it('advertises the graceful restart capability with R and F bits when restarting', async () => {
    const { r } = await establish({ gracefulRestart: { restarting: true, restartTime: 60 } });
    const gr = r.of('open')[0]?.capabilities.find((c) => c.type === 'graceful-restart');
    expect(gr).toMatchObject({
      restarting: true,
      restartTime: 60,
      families: [
        { afi: 1, safi: 1, forwardingPreserved: true },
        { afi: 2, safi: 1, forwardingPreserved: true },
      ],
    });
  });

  it('keeps a restarting peer’s routes as stale (helper) until its End-of-RIB', async () => {
    const s = await establish({ exposeRoutes: true });
    const gr = {
      restarting: false,
      notification: false,
      restartTime: 120,
      families: [{ afi: 1, safi: 1, forwardingPreserved: true }],
    };
    // Re-establish with a peer that advertises graceful restart.
    s.r.sock.destroy();
    await tick();
    s.clock.advance(s.clock.nextDelay() ?? 0);
    await tick();
    let r = s.last();
    r.send(THEIR_OPEN({ gracefulRestart: gr }));
    r.send({ type: 'keepalive' });
    await tick();
    const route = (p: string): UpdateMessage => ({
      type: 'update',
      withdrawn: [],
      attributes: { origin: 'igp', asPath: [{ type: 'sequence', asns: [65002] }], nextHop: '192.0.2.2' },
      nlri: [p],
    });
    r.send(route('198.51.100.1/32'));
    r.send(route('198.51.100.2/32'));
    await tick();
    expect(s.peer.counters.prefixesReceived).toBe(2);
    r.sock.destroy(); // TCP failure, no NOTIFICATION: the peer is restarting
    await tick();
    expect(s.peer.counters.prefixesReceived).toBe(2);
    expect((s.peer as BgpPeer).receivedRoutes().every((x) => x.stale)).toBe(true);
    s.clock.advance(s.clock.nextDelay() ?? 0);
    await tick();
    r = s.last();
    r.send(THEIR_OPEN({ gracefulRestart: { ...gr, restarting: true } }));
    r.send({ type: 'keepalive' });
    r.send(route('198.51.100.1/32'));
    r.send({ type: 'update', withdrawn: [], attributes: {}, nlri: [] }); // End-of-RIB
    await tick();
    expect(s.peer.receivedRoutes().map((x) => [x.prefix, x.stale])).toEqual([['198.51.100.1/32', false]]);
  });
});
