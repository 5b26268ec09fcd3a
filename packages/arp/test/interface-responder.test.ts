import { FakeTimers } from '@ingot/lab';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  BROADCAST_MAC,
  CodecError,
  DEFAULT_EARLY_ROUNDS_MS,
  type DropReason,
  encodeArpFrame,
  encodeNdpFrame,
  InterfaceResponder,
  type InterfaceResponderOptions,
  ipv6MulticastMac,
  MemorySegment,
  solicitedNodeAddress,
} from '../src/index.js';
import { Client } from './helpers/client.js';

const OUR = '02:00:00:00:00:aa';
const CLIENT = '02:00:00:00:00:01';
const VIP = '192.0.2.10';
const VIP6 = '2001:db8::10';

let seg: MemorySegment;
let timers: FakeTimers;
let client: Client;

function responder(opts: Partial<InterfaceResponderOptions> & { promiscuous?: boolean } = {}): InterfaceResponder {
  const { promiscuous, ...rest } = opts;
  return new InterfaceResponder({
    transport: seg.attach({ name: 'eth0', mac: OUR, promiscuous: !!promiscuous }),
    timers,
    gratuitous: false,
    ...rest,
  });
}

beforeEach(() => {
  seg = new MemorySegment();
  timers = new FakeTimers();
  client = new Client(seg, CLIENT);
});

describe('ARP', () => {
  it('answers a broadcast request for an announced IP, unicast to the requester, with our MAC', () => {
    const r = responder();
    r.announce(VIP);
    client.arpRequest(VIP);
    const [reply] = client.arps();
    expect(client.got).toHaveLength(1);
    expect(reply!.ethernet).toMatchObject({ destination: CLIENT, source: OUR });
    expect(reply!.arp).toEqual({
      operation: 2,
      senderMac: OUR,
      senderIp: VIP,
      targetMac: CLIENT,
      targetIp: '192.0.2.1',
    });
    expect(r.counters.get(VIP)).toEqual({ requestsReceived: 1, responsesSent: 1, gratuitousSent: 0 });
  });

  it('answers a request unicast to our MAC', () => {
    const r = responder();
    r.announce(VIP);
    client.arpRequest(VIP, { destination: OUR });
    expect(client.arps()).toHaveLength(1);
  });

  it('stays silent for IPs it does not announce, and after withdraw', () => {
    const r = responder();
    r.announce(VIP);
    client.arpRequest('192.0.2.11');
    r.withdraw(VIP);
    client.arpRequest(VIP);
    expect(client.got).toHaveLength(0);
    expect(r.stats().notAnnounced).toBe(2);
    expect(r.counters.get('192.0.2.11').requestsReceived).toBe(0);
  });

  it('ignores requests to another unicast MAC even when it sees them', () => {
    const r = responder({ promiscuous: true });
    r.announce(VIP);
    client.arpRequest(VIP, { destination: '02:00:00:00:00:bb' });
    expect(client.got).toHaveLength(0);
    expect(r.stats().foreign).toBe(1);
  });

  it('ignores and counts requests from a broadcast or multicast source (Ethernet source or sender MAC)', () => {
    const r = responder();
    r.announce(VIP);
    const drops: string[] = [];
    r.on('drop', (e) => drops.push(e.reason));
    const port = seg.attach({ name: 'odd', mac: '02:00:00:00:00:55' });
    const request = (source: string, senderMac: string) =>
      port.send(
        encodeArpFrame(
          { destination: BROADCAST_MAC, source },
          { operation: 1, senderMac, senderIp: '192.0.2.1', targetMac: '00:00:00:00:00:00', targetIp: VIP },
        ),
      );
    request(BROADCAST_MAC, CLIENT);
    request('01:00:5e:00:00:fb', CLIENT);
    request(CLIENT, '33:33:00:00:00:01');
    const replies = () => client.arps().filter((f) => f.arp.operation === 2);
    expect(replies()).toHaveLength(0);
    expect(drops).toEqual(['bad-source', 'bad-source', 'bad-source']);
    expect(r.stats()).toMatchObject({ badSource: 3, responsesSent: 0 });
    expect(r.counters.get(VIP).requestsReceived).toBe(0);
    client.arpRequest(VIP); // a unicast requester is still answered
    expect(replies()).toHaveLength(1);
  });

  it('answers ARP probes (sender 0.0.0.0, RFC 5227) to the prober', () => {
    const r = responder();
    r.announce(VIP);
    client.arpRequest(VIP, { senderIp: '0.0.0.0' });
    expect(client.arps()[0]!.arp).toMatchObject({
      operation: 2,
      senderIp: VIP,
      targetIp: '0.0.0.0',
      targetMac: CLIENT,
    });
    expect(client.arps()[0]!.ethernet.destination).toBe(CLIENT);
  });

  it('does not answer ARP replies or gratuitous replies', () => {
    const r = responder();
    r.announce(VIP);
    client.port.send(
      encodeArpFrame(
        { destination: BROADCAST_MAC, source: CLIENT },
        { operation: 2, senderMac: CLIENT, senderIp: VIP, targetMac: BROADCAST_MAC, targetIp: VIP },
      ),
    );
    expect(client.got).toHaveLength(0);
    expect(r.stats().foreign).toBe(1);
  });

  it('drops 802.1Q-tagged requests (they belong to a VLAN interface)', () => {
    const r = responder();
    r.announce(VIP);
    const plain = encodeArpFrame(
      { destination: BROADCAST_MAC, source: CLIENT },
      { operation: 1, senderMac: CLIENT, senderIp: '192.0.2.1', targetMac: BROADCAST_MAC, targetIp: VIP },
    );
    const tagged = new Uint8Array(plain.length + 4);
    tagged.set(plain.subarray(0, 12));
    tagged.set([0x81, 0x00, 0x00, 0x0a], 12);
    tagged.set(plain.subarray(12), 16);
    client.port.send(tagged);
    expect(client.got).toHaveLength(0);
    expect(r.stats().foreign).toBe(1);
  });

  it('respects arp: false', () => {
    const r = responder({ arp: false });
    r.announce(VIP);
    client.arpRequest(VIP);
    expect(client.got).toHaveLength(0);
  });
});

describe('NDP', () => {
  it('answers an NS to the solicited-node group with a solicited NA (S=1, O=0, TLLA) unicast to the SLLA', () => {
    const r = responder();
    r.announce(VIP6);
    client.neighborSolicitation(VIP6);
    const [na] = client.ndps();
    expect(na!.ethernet).toMatchObject({ destination: CLIENT, source: OUR });
    expect(na!.ndp).toMatchObject({
      source: VIP6,
      destination: 'fe80::1',
      hopLimit: 255,
      message: {
        type: 'neighbor-advertisement',
        router: false,
        solicited: true,
        override: false,
        target: VIP6,
        options: [{ type: 'target-lla', mac: OUR }],
      },
    });
    expect(r.counters.get(VIP6)).toEqual({ requestsReceived: 1, responsesSent: 1, gratuitousSent: 0 });
  });

  it('uses the interface link-local address as NA source when given (MetalLB)', () => {
    const r = responder({ ipv6LinkLocal: 'fe80::aa' });
    r.announce(VIP6);
    client.neighborSolicitation(VIP6);
    expect(client.ndps()[0]!.ndp.source).toBe('fe80::aa');
  });

  it('answers a unicast NUD probe without SLLA at the Ethernet source (MetalLB #2920)', () => {
    const r = responder();
    r.announce(VIP6);
    client.neighborSolicitation(VIP6, { source: '2001:db8::1', destination: VIP6, ethDestination: OUR, slla: false });
    const [na] = client.ndps();
    expect(na!.ethernet.destination).toBe(CLIENT);
    expect(na!.ndp.destination).toBe('2001:db8::1');
    expect(na!.ndp.message).toMatchObject({ solicited: true, override: false, target: VIP6 });
  });

  it('answers a DAD probe (source ::) with an NA to ff02::1, S=0, O=1 (RFC 4861 §7.2.4)', () => {
    const r = responder();
    r.announce(VIP6);
    client.neighborSolicitation(VIP6, { source: '::' });
    const [na] = client.ndps();
    expect(na!.ethernet.destination).toBe('33:33:00:00:00:01');
    expect(na!.ndp.destination).toBe('ff02::1');
    expect(na!.ndp.message).toMatchObject({ solicited: false, override: true });
  });

  it('is silent for other targets, wrong groups and after withdraw (and leaves the group)', () => {
    const r = responder();
    r.announce(VIP6);
    client.neighborSolicitation('2001:db8::11');
    expect(client.got).toHaveLength(0);
    r.withdraw(VIP6);
    client.neighborSolicitation(VIP6);
    expect(client.got).toHaveLength(0);
    // The solicited-node MAC is no longer joined: the frame never reached the responder.
    const before = r.stats().framesReceived;
    client.neighborSolicitation(VIP6);
    expect(r.stats().framesReceived).toBe(before);
  });

  it('ignores an NS for an announced target sent to another solicited-node group, even when it sees it', () => {
    const r = responder({ promiscuous: true });
    r.announce(VIP6);
    client.neighborSolicitation(VIP6, { destination: 'ff02::1:ff00:11' });
    client.neighborSolicitation(VIP6, { destination: VIP6, ethDestination: '02:00:00:00:00:bb' });
    expect(client.got).toHaveLength(0);
    expect(r.stats().foreign).toBe(2);
  });

  it('ignores and counts an NS from a multicast Ethernet source or with a multicast source link-layer address', () => {
    const r = responder();
    r.announce(VIP6);
    const port = seg.attach({ name: 'odd', mac: '02:00:00:00:00:55' });
    const group = solicitedNodeAddress(VIP6);
    const ns = (source: string, slla: string) =>
      port.send(
        encodeNdpFrame(
          { destination: ipv6MulticastMac(group), source },
          {
            source: 'fe80::9',
            destination: group,
            message: { type: 'neighbor-solicitation', target: VIP6, options: [{ type: 'source-lla', mac: slla }] },
          },
        ),
      );
    ns('33:33:00:00:00:01', CLIENT);
    ns(CLIENT, 'ff:ff:ff:ff:ff:ff');
    expect(client.got).toHaveLength(0);
    expect(r.stats()).toMatchObject({ badSource: 2, responsesSent: 0 });
    client.neighborSolicitation(VIP6);
    expect(client.ndps()).toHaveLength(1);
  });

  it('joins the solicited-node MAC once per group and keeps it while another IP shares it', () => {
    const r = responder();
    r.announce('2001:db8::1:10');
    r.announce('2001:db8::2:10'); // same low 24 bits → same group
    r.withdraw('2001:db8::1:10');
    client.neighborSolicitation('2001:db8::2:10');
    expect(client.ndps()).toHaveLength(1);
  });
});

describe('malformed and foreign frames are counted and dropped, never thrown', () => {
  it('counts each kind and reports the CodecError', () => {
    const r = responder();
    r.announce(VIP);
    r.announce(VIP6);
    const drops: { reason: DropReason; error?: CodecError }[] = [];
    r.on('drop', (e) => drops.push(e));
    client.port.send(new Uint8Array([...new Array(12).fill(0xff), 0x08, 0x06, 0, 1, 8])); // truncated ARP
    const bad = encodeArpFrame(
      { destination: BROADCAST_MAC, source: CLIENT },
      { operation: 1, senderMac: CLIENT, senderIp: '192.0.2.1', targetMac: BROADCAST_MAC, targetIp: VIP },
    ).slice();
    bad[18] = 8; // hlen 8
    client.port.send(bad);
    const ns = encodeNdpFrame(
      { destination: '33:33:ff:00:00:10', source: CLIENT },
      {
        source: 'fe80::1',
        destination: 'ff02::1:ff00:10',
        message: { type: 'neighbor-solicitation', target: VIP6, options: [] },
      },
    ).slice();
    ns[ns.length - 1] = ns[ns.length - 1]! ^ 0xff; // break the checksum
    client.port.send(ns);
    const hop = encodeNdpFrame(
      { destination: '33:33:ff:00:00:10', source: CLIENT },
      {
        source: 'fe80::1',
        destination: 'ff02::1:ff00:10',
        hopLimit: 64,
        message: { type: 'neighbor-solicitation', target: VIP6, options: [] },
      },
    );
    client.port.send(hop);
    client.port.send(new Uint8Array([...new Array(12).fill(0xff), 0x08, 0x00, 0x45])); // IPv4: foreign
    expect(client.got).toHaveLength(0);
    expect(r.stats()).toMatchObject({ malformed: 4, foreign: 1 });
    expect(drops.map((d) => d.error?.code)).toEqual([
      'truncated',
      'bad-address-length',
      'bad-checksum',
      'bad-hop-limit',
      undefined,
    ]);
    expect(drops.every((d) => d.error === undefined || d.error instanceof CodecError)).toBe(true);
  });

  it('survives a transport whose send throws: counts the error and keeps answering', () => {
    const t = seg.attach({ name: 'eth0', mac: OUR });
    let fail = true;
    const send = t.send.bind(t);
    t.send = (f) => {
      if (fail) throw new Error('ENOBUFS');
      send(f);
    };
    const r = new InterfaceResponder({ transport: t, timers, gratuitous: false });
    const errors: Error[] = [];
    r.on('error', (e) => errors.push(e.error));
    r.announce(VIP);
    client.arpRequest(VIP);
    fail = false;
    client.arpRequest(VIP);
    expect(errors).toHaveLength(1);
    expect(r.stats().sendErrors).toBe(1);
    expect(client.arps()).toHaveLength(1);
    expect(r.counters.get(VIP)).toMatchObject({ requestsReceived: 2, responsesSent: 1 });
  });

  it('rejects a non-IP with a TypeError', () => {
    const r = responder();
    expect(() => r.announce('192.0.2.300')).toThrow(TypeError);
  });
});

describe('gratuitous announcements (timing on fake timers)', () => {
  it('IPv4, MetalLB schedule (earlyMs: []): a round at once, then every 1.1 s until 5 s: 5 rounds', () => {
    const r = responder({ gratuitous: { earlyMs: [] } });
    const observer = new Client(seg, '02:00:00:00:00:77');
    r.announce(VIP);
    const times: number[] = [];
    const sizes: number[] = [];
    const tick = () => {
      if (observer.got.length > 0) {
        times.push(timers.now());
        sizes.push(observer.got.length);
        for (const f of observer.arps()) {
          expect(f.ethernet.destination).toBe(BROADCAST_MAC);
          expect(f.arp).toMatchObject({ senderMac: OUR, senderIp: VIP, targetIp: VIP, targetMac: BROADCAST_MAC });
        }
        expect(observer.arps().map((f) => f.arp.operation)).toEqual([1, 2]);
        observer.clear();
      }
    };
    tick();
    for (let t = 0; t < 10_000; t += 100) {
      timers.advance(100);
      tick();
    }
    expect(times).toEqual([0, 1100, 2200, 3300, 4400]);
    expect(sizes).toEqual([2, 2, 2, 2, 2]);
    expect(r.counters.get(VIP).gratuitousSent).toBe(10);
    expect(timers.size).toBe(0);
  });

  it('keeps the absolute 1.1 s schedule when timers fire late (event-loop delay does not add up)', () => {
    const late = {
      now: () => timers.now(),
      setTimeout: (fn: () => void, ms: number) => timers.setTimeout(fn, ms + 200),
      clearTimeout: (h: unknown) => timers.clearTimeout(h),
    };
    const r = responder({ gratuitous: { earlyMs: [] }, timers: late });
    const observer = new Client(seg, '02:00:00:00:00:77');
    const at: number[] = [];
    r.on('gratuitous', () => at.push(timers.now()));
    r.announce(VIP);
    timers.advance(10_000);
    // Each tick is 200 ms late, but the next one is aimed at start + k × 1.1 s: still 5 rounds within 5 s.
    expect(at).toEqual([0, 1300, 2400, 3500, 4600]);
    expect(observer.arps()).toHaveLength(10);
  });

  it('sends one round per tick when timers fire a little early (Node timers vs performance.now())', () => {
    // libuv rounds its loop clock to whole milliseconds, so a 1100 ms timer can run at 1099.6 ms on performance.now().
    const early = {
      now: () => timers.now(),
      setTimeout: (fn: () => void, ms: number) => timers.setTimeout(fn, Math.max(0, ms - 0.5)),
      clearTimeout: (h: unknown) => timers.clearTimeout(h),
    };
    const r = responder({ gratuitous: { earlyMs: [] }, timers: early });
    const at: number[] = [];
    r.on('gratuitous', () => at.push(timers.now()));
    r.announce(VIP);
    timers.advance(10_000);
    expect(at).toEqual([0, 1099.5, 2199.5, 3299.5, 4399.5]);
    expect(r.counters.get(VIP).gratuitousSent).toBe(10);
  });

  it('one round per tick whatever the start time: no floating-point double round (CI saw 4.399 s and 4.401 s)', () => {
    // At these starts `(start + k × 1100 - start) / 1100` is a hair below k in floating point; each once re-sent a
    // regular round 2 ms after itself when the timer fired a fraction of a millisecond early.
    for (const start of [1534.467199488798, 12391.409652388053, 128975.93042725309]) {
      timers = new FakeTimers();
      timers.advance(start);
      const early = {
        now: () => timers.now(),
        setTimeout: (fn: () => void, ms: number) => timers.setTimeout(fn, Math.max(0, ms - 0.5)),
        clearTimeout: (h: unknown) => timers.clearTimeout(h),
      };
      const r = responder({ gratuitous: {}, timers: early });
      const at: number[] = [];
      r.on('gratuitous', () => at.push(Math.ceil(timers.now() - start)));
      r.announce(VIP);
      timers.advance(10_000);
      expect(at, `start ${start}`).toEqual([0, 50, 150, 350, 700, 1100, 2200, 3300, 4400]);
      r.close();
    }
  });

  it('IPv6: unsolicited NA to ff02::1 with O=1, S=0 per round', () => {
    const r = responder({ gratuitous: {} });
    const observer = new Client(seg, '02:00:00:00:00:77');
    r.announce(VIP6);
    timers.advance(6000);
    const nas = observer.ndps();
    expect(nas).toHaveLength(9);
    for (const na of nas) {
      expect(na.ethernet.destination).toBe('33:33:00:00:00:01');
      expect(na.ndp).toMatchObject({
        destination: 'ff02::1',
        message: {
          solicited: false,
          override: true,
          router: false,
          target: VIP6,
          options: [{ type: 'target-lla', mac: OUR }],
        },
      });
    }
    expect(r.counters.get(VIP6).gratuitousSent).toBe(9);
  });

  it('announcing again during a burst extends it by 5 s without an extra round', () => {
    const r = responder({ gratuitous: { earlyMs: [] } });
    r.announce(VIP);
    timers.advance(3000);
    expect(r.counters.get(VIP).gratuitousSent).toBe(6); // 0, 1.1, 2.2
    r.announce(VIP);
    expect(r.counters.get(VIP).gratuitousSent).toBe(6);
    timers.advance(10_000);
    // Rounds at 0 … 7.7 s (until 8 s): 8 rounds.
    expect(r.counters.get(VIP).gratuitousSent).toBe(16);
  });

  it('default shape: a dense start (0, 50, 150, 350, 700 ms), then every 1.1 s until 5 s', () => {
    const r = responder({ gratuitous: {} });
    const at: number[] = [];
    r.on('gratuitous', () => at.push(timers.now()));
    r.announce(VIP);
    timers.advance(10_000);
    expect(at).toEqual([0, ...DEFAULT_EARLY_ROUNDS_MS, 1100, 2200, 3300, 4400]);
    expect(r.counters.get(VIP).gratuitousSent).toBe(18);
    expect(timers.size).toBe(0);
  });

  it('early rounds at or beyond the interval are ignored; duplicates and order do not matter', () => {
    const r = responder({
      gratuitous: { intervalMs: 1000, durationMs: 2500, earlyMs: [400, 100, 100, 1000, 1500, 0] },
    });
    const at: number[] = [];
    r.on('gratuitous', () => at.push(timers.now()));
    r.announce(VIP);
    timers.advance(10_000);
    expect(at).toEqual([0, 100, 400, 1000, 2000]);
  });

  it('timers firing late skip the early rounds they missed instead of sending them back to back', () => {
    const late = {
      now: () => timers.now(),
      setTimeout: (fn: () => void, ms: number) => timers.setTimeout(fn, ms + 120),
      clearTimeout: (h: unknown) => timers.clearTimeout(h),
    };
    const r = responder({ gratuitous: {}, timers: late });
    const at: number[] = [];
    r.on('gratuitous', () => at.push(timers.now()));
    r.announce(VIP);
    timers.advance(10_000);
    // Aimed at 50 → runs at 170 (the 150 round is past), then at 350 → 470, 700 → 820, 1100 → 1220 …
    expect(at).toEqual([0, 170, 470, 820, 1220, 2320, 3420, 4520]);
  });

  it('withdraw stops the burst at once: not one more frame for that IP, the others go on', () => {
    const r = responder({ gratuitous: {} });
    const observer = new Client(seg, '02:00:00:00:00:77');
    r.announce(VIP);
    r.announce('192.0.2.11');
    timers.advance(1500);
    expect(r.counters.get(VIP).gratuitousSent).toBe(12); // 0, 50, 150, 350, 700, 1100
    observer.clear();
    r.withdraw(VIP);
    for (let t = 0; t < 10_000; t += 10) timers.advance(10);
    expect(observer.arps().filter((f) => f.arp.senderIp === VIP)).toEqual([]);
    expect(observer.arps().filter((f) => f.arp.senderIp === '192.0.2.11')).toHaveLength(6); // 2.2, 3.3, 4.4 s
    expect(r.counters.get(VIP).gratuitousSent).toBe(12);
    expect(timers.size).toBe(0);
  });

  it('withdraw during each early round of a burst: zero frames for that IP afterwards, whatever the moment', () => {
    for (const at of [0, 1, 49, 50, 51, 149, 150, 700, 1099, 1100, 1101, 4399, 4400]) {
      seg = new MemorySegment();
      timers = new FakeTimers();
      const r = responder({ gratuitous: {}, reannounceIntervalMs: 300 });
      const observer = new Client(seg, '02:00:00:00:00:77');
      r.announce(VIP);
      timers.advance(at);
      r.withdraw(VIP);
      observer.clear();
      timers.advance(10_000);
      expect(observer.got, `withdrawn at ${at} ms`).toEqual([]);
    }
  });

  it('reannounce() sends a round now, even mid-burst, and restarts the window (MetalLB #584)', () => {
    const r = responder({ gratuitous: { earlyMs: [] } });
    r.announce(VIP);
    r.announce(VIP6);
    timers.advance(10_000);
    const before = r.counters.snapshot();
    r.reannounce();
    expect(r.counters.get(VIP).gratuitousSent).toBe(before[VIP]!.gratuitousSent + 2);
    expect(r.counters.get(VIP6).gratuitousSent).toBe(before[VIP6]!.gratuitousSent + 1);
    r.reannounce(VIP);
    expect(r.counters.get(VIP).gratuitousSent).toBe(before[VIP]!.gratuitousSent + 4);
    timers.advance(10_000);
    expect(r.counters.get(VIP).gratuitousSent).toBe(before[VIP]!.gratuitousSent + 4 + 8);
  });

  it('optional periodic re-announcement keeps FDBs fresh (MetalLB #2910)', () => {
    const r = responder({ gratuitous: false, reannounceIntervalMs: 30_000 });
    r.announce(VIP);
    timers.advance(29_999);
    expect(r.counters.get(VIP).gratuitousSent).toBe(0);
    timers.advance(1);
    expect(r.counters.get(VIP).gratuitousSent).toBe(2);
    timers.advance(60_000);
    expect(r.counters.get(VIP).gratuitousSent).toBe(6);
  });

  it('close() cancels every timer and closes the transport', async () => {
    const r = responder({ gratuitous: {}, reannounceIntervalMs: 1000 });
    r.announce(VIP);
    client.clear();
    await r.close();
    expect(timers.size).toBe(0);
    client.arpRequest(VIP);
    expect(client.got).toHaveLength(0);
  });
});
