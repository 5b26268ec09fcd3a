import { Script } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { writeArpReply } from '../src/codec/arp-reply.js';
import {
  type AnswerOffload,
  type AnswerOffloadCounts,
  encodeArpFrame,
  encodeNdpFrame,
  type FrameTransport,
  formatIPv4,
  formatIPv6,
  formatMac,
  InterfaceResponder,
  ipv6MulticastMac,
  isArpIPv4Request,
  Layer2Counters,
  MemorySegment,
  type NdpOption,
  parseIPv6,
  parseMac,
  solicitedNodeAddress,
} from '../src/index.js';
import { ANSWER_THREAD_SOURCE, OffloadTable, SLOTS } from '../src/transport/answer-thread.js';
import {
  type AnswerEntry6,
  answerNeighborSolicitation,
  arpRequestSlot,
  COUNTS,
} from '../src/transport/answer-thread-worker.js';
import { sliced } from './helpers/fixtures.js';

const OUR_MAC = '02:00:00:00:00:01';
const ours = parseMac(OUR_MAC);
const ipNumber = (b: Uint8Array) => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
/** Slot 0 when `frame` is sent to broadcast or to us from a unicast source (Ethernet and ARP sender), else -1. */
const slotIfToUs = (frame: Uint8Array) =>
  (frame.subarray(0, 6).every((b) => b === 0xff) || frame.subarray(0, 6).every((b, i) => b === ours[i])) &&
  (frame[6]! & 1) === 0 &&
  (frame[22]! & 1) === 0
    ? 0
    : -1;

/** What the event loop's InterfaceResponder sends for `frame` (promiscuous port: every check is its own). */
const eventLoopReply = (frame: Uint8Array, announced: string[], linkLocal: string | undefined) => {
  const seg = new MemorySegment();
  const port = seg.attach({ name: 'eth0', mac: OUR_MAC, promiscuous: true });
  const peer = seg.attach({ name: 'peer', mac: '02:00:00:00:00:99', promiscuous: true });
  const r = new InterfaceResponder({
    transport: port,
    gratuitous: false,
    ...(linkLocal ? { ipv6LinkLocal: linkLocal } : {}),
  });
  for (const ip of announced) r.announce(ip);
  const sent: Uint8Array[] = [];
  peer.receive((f) => sent.push(f.slice()));
  peer.send(frame);
  void r.close();
  return sent[0];
};

describe('arpRequestSlot + writeArpReply (the answer thread’s ARP fast path)', () => {
  const bytes4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
  const bytes6 = fc.uint8Array({ minLength: 6, maxLength: 6 });
  /** ARP requests with destination broadcast, ours or another MAC; table holding the target or not; sometimes a bit flipped. */
  const request = fc.record({
    dst: fc.oneof(fc.constant('ff:ff:ff:ff:ff:ff'), fc.constant(OUR_MAC), bytes6.map(formatMac)),
    // Mostly unicast requesters (answerable), sometimes any MAC (multicast/broadcast sources must stay unanswered).
    src: fc.oneof(
      { arbitrary: bytes6.map((m) => formatMac(Uint8Array.of(m[0]! & 0xfe, ...m.subarray(1)))), weight: 4 },
      { arbitrary: bytes6.map(formatMac), weight: 1 },
    ),
    spa: bytes4.map(formatIPv4),
    tpa: bytes4,
    inTable: fc.boolean(),
    flip: fc.option(fc.record({ at: fc.nat(41), bit: fc.integer({ min: 0, max: 7 }) }), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 20 }),
  });

  it("answers exactly what the event loop's responder sends, byte for byte, and nothing else (sliced buffers)", () => {
    let answers = 0;
    fc.assert(
      fc.property(request, (r) => {
        const base = encodeArpFrame(
          { destination: r.dst, source: r.src },
          {
            operation: 1,
            senderMac: r.src,
            senderIp: r.spa,
            targetMac: '00:00:00:00:00:00',
            targetIp: formatIPv4(r.tpa),
          },
        );
        const frame = new Uint8Array([...base, ...r.tail]);
        if (r.flip) frame[r.flip.at]! ^= 1 << r.flip.bit;
        const tpa = formatIPv4(frame.subarray(38, 42));
        const table = new Map<number, number>(r.inTable ? [[ipNumber(frame.subarray(38, 42)), 7]] : []);
        const view = sliced(frame);
        const slot = arpRequestSlot(view, view.length, ours, table);
        const expected = eventLoopReply(frame, r.inTable ? [tpa] : [], undefined);
        expect(slot).toBe(expected ? 7 : -1);
        if (expected) {
          answers++;
          const out = new Uint8Array(42);
          writeArpReply(view, ours, out);
          expect([...out]).toEqual([...expected]);
        }
      }),
      { numRuns: 2000 },
    );
    expect(answers).toBeGreaterThan(200); // the generator reaches the answering case often
  });

  it('never throws, and answers random bytes only when they are an ARP request to us, even for a target in the table', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 42, maxLength: 80 }), fc.nat(80), (frame, length) => {
        const n = Math.min(length, frame.length);
        const table = new Map([[ipNumber(frame.subarray(38, 42)), 0]]); // the frame's own target is announced
        const request = n >= 42 && isArpIPv4Request(frame);
        expect(arpRequestSlot(frame, n, ours, table)).toBe(request ? slotIfToUs(frame) : -1);
      }),
    );
  });

  it('never answers a broadcast or multicast requester (Ethernet source or sender MAC), on either path', () => {
    const group = fc.constantFrom('ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '33:33:00:00:00:01', '03:00:00:00:00:00');
    const unicast = fc
      .uint8Array({ minLength: 6, maxLength: 6 })
      .map((b) => formatMac(Uint8Array.of(b[0]! & 0xfe, ...b.subarray(1))));
    fc.assert(
      fc.property(
        fc.oneof(
          fc.record({ src: group, sha: unicast }),
          fc.record({ src: unicast, sha: group }),
          fc.record({ src: group, sha: group }),
        ),
        fc.constantFrom('ff:ff:ff:ff:ff:ff', OUR_MAC),
        ({ src, sha }, dst) => {
          const frame = encodeArpFrame(
            { destination: dst, source: src },
            {
              operation: 1,
              senderMac: sha,
              senderIp: '192.0.2.9',
              targetMac: '00:00:00:00:00:00',
              targetIp: '192.0.2.10',
            },
          );
          const table = new Map([[ipNumber(Uint8Array.of(192, 0, 2, 10)), 0]]);
          expect(arpRequestSlot(sliced(frame), frame.length, ours, table)).toBe(-1);
          expect(eventLoopReply(frame, ['192.0.2.10'], undefined)).toBeUndefined();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ignores what lies beyond the received length', () => {
    const f = encodeArpFrame(
      { destination: 'ff:ff:ff:ff:ff:ff', source: '02:00:00:00:00:09' },
      {
        operation: 1,
        senderMac: '02:00:00:00:00:09',
        senderIp: '192.0.2.9',
        targetMac: '00:00:00:00:00:00',
        targetIp: '192.0.2.10',
      },
    );
    const table = new Map([[ipNumber(Uint8Array.of(192, 0, 2, 10)), 0]]);
    expect(arpRequestSlot(f, 41, ours, table)).toBe(-1);
    expect(arpRequestSlot(f, 42, ours, table)).toBe(0);
  });
});

/** The thread's IPv6 table for these addresses. */
const table6 = (entries: Array<{ ip: string; slot: number; source: string }>) => {
  const t = new Map<number, AnswerEntry6[]>();
  for (const e of entries) {
    const b = parseIPv6(e.ip);
    const key = ((b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!) >>> 0;
    t.set(key, [...(t.get(key) ?? []), { target: b, slot: e.slot, source: parseIPv6(e.source) }]);
  }
  return t;
};
/** Another address with the same last 32 bits. */
const collide = (ip: string) => {
  const b = parseIPv6(ip);
  b[1] = b[1]! ^ 0x55;
  return formatIPv6(b);
};

describe('answerNeighborSolicitation (the answer thread’s NDP fast path)', () => {
  const LINK_LOCAL = 'fe80::1';
  const bytes16 = fc.uint8Array({ minLength: 16, maxLength: 16 });
  const target = bytes16.filter((b) => b[0] !== 0xff).map((b) => formatIPv6(b));
  const ns = fc.record({
    target,
    announced: fc.constantFrom(true, true, true, false),
    linkLocal: fc.boolean(),
    source: fc.oneof(
      fc.constant('::'),
      bytes16.filter((b) => b[0] !== 0xff).map((b) => formatIPv6(b)),
    ),
    ipDst: fc.constantFrom('group', 'group', 'target', 'other'),
    ethDst: fc.constantFrom('ours', 'group', 'group', 'other'),
    slla: fc.option(fc.uint8Array({ minLength: 6, maxLength: 6 }).map(formatMac), { freq: 2, nil: undefined }),
    extra: fc.option(fc.constantFrom<NdpOption>({ type: 'nonce', nonce: new Uint8Array(6).fill(7) }), {
      nil: undefined,
    }),
    hopLimit: fc.constantFrom(255, 255, 255, 64),
    flip: fc.option(fc.record({ at: fc.nat(100), bit: fc.integer({ min: 0, max: 7 }) }), { freq: 3, nil: undefined }),
  });

  it('answers exactly what the event loop would send, byte for byte, and nothing else', () => {
    let answers = 0;
    let dad = 0;
    fc.assert(
      fc.property(ns, (r) => {
        const group = solicitedNodeAddress(r.target);
        const ipDst = r.ipDst === 'group' ? group : r.ipDst === 'target' ? r.target : '2001:db8::77';
        const ethDst =
          r.ethDst === 'ours' ? OUR_MAC : r.ethDst === 'group' ? ipv6MulticastMac(group) : '02:00:00:00:00:42';
        const options: NdpOption[] = [];
        if (r.slla) options.push({ type: 'source-lla', mac: r.slla });
        if (r.extra) options.push(r.extra);
        const frame = encodeNdpFrame(
          { destination: ethDst, source: '02:00:00:00:00:99' },
          {
            source: r.source,
            destination: ipDst,
            hopLimit: r.hopLimit,
            message: { type: 'neighbor-solicitation', target: r.target, options },
          },
        );
        if (r.flip && r.flip.at < frame.length) frame[r.flip.at]! ^= 1 << r.flip.bit;
        const linkLocal = r.linkLocal ? LINK_LOCAL : undefined;
        // The announced target shares its bucket (last 32 bits) with another address, as collisions do.
        const table = r.announced
          ? table6([
              { ip: r.target, slot: 3, source: linkLocal ?? r.target },
              { ip: collide(r.target), slot: 4, source: r.target },
            ])
          : table6([{ ip: collide(r.target), slot: 4, source: r.target }]);
        const out = new Uint8Array(86);
        const view = sliced(frame);
        const slot = answerNeighborSolicitation(view, view.length, ours, table, out);
        const expected = eventLoopReply(frame, r.announced ? [r.target] : [], linkLocal);
        expect(slot).toBe(expected ? 3 : -1);
        if (expected) {
          answers++;
          if (r.source === '::') dad++;
          expect([...out]).toEqual([...expected]);
        }
      }),
      { numRuns: 1500 },
    );
    expect(answers).toBeGreaterThan(60); // the answering case, DAD probes included, is reached often
    expect(dad).toBeGreaterThan(5);
  });

  it('never throws and never answers random bytes, whatever their length', () => {
    const table = table6([{ ip: '2001:db8::10', slot: 0, source: '2001:db8::10' }]);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(120), (frame, length) => {
        expect(answerNeighborSolicitation(frame, Math.min(length, frame.length), ours, table, new Uint8Array(86))).toBe(
          -1,
        );
      }),
    );
  });
});

describe('answer thread source', () => {
  it('compiles as a script on its own (the functions refer to nothing outside themselves)', () => {
    expect(() => new Script(ANSWER_THREAD_SOURCE)).not.toThrow();
    expect(ANSWER_THREAD_SOURCE).not.toMatch(/__vite_ssr|import_|_chunk/);
  });
});

describe('OffloadTable', () => {
  const setup = () => {
    const counts = new BigUint64Array(COUNTS.slotsAt + 2 * SLOTS);
    const posted: unknown[] = [];
    const table = new OffloadTable(counts, (m) => posted.push(m));
    /** What the thread does when it answers `slot` (sent or not). */
    const answer = (slot: number, sent = true) => {
      counts[COUNTS.slotsAt + 2 * slot]! += 1n;
      counts[COUNTS.answered]! += 1n;
      if (sent) {
        counts[COUNTS.slotsAt + 2 * slot + 1]! += 1n;
        counts[COUNTS.sent]! += 1n;
      } else counts[COUNTS.sendErrors]! += 1n;
    };
    const collect = () => {
      const per: Array<[string, number, number]> = [];
      const totals: AnswerOffloadCounts = table.collect((ip, req, resp) => per.push([ip, req, resp]));
      return { per, totals };
    };
    return { table, posted, answer, collect };
  };

  it('gives each address a slot, tells the thread, and reports deltas per address and in total', () => {
    const { table, posted, answer, collect } = setup();
    expect(table.add('192.0.2.10')).toBe(true);
    expect(table.add('2001:db8::10', 'fe80::1')).toBe(true);
    expect(posted).toEqual([
      { op: 'add', ip: 0xc000020a, slot: 0 },
      {
        op: 'add6',
        ip: [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x10],
        slot: 1,
        source: [0xfe, 0x80, ...new Array(13).fill(0), 1],
      },
    ]);
    answer(0);
    answer(0);
    answer(1, false);
    expect(collect()).toEqual({
      per: [
        ['192.0.2.10', 2, 2],
        ['2001:db8::10', 1, 0],
      ],
      totals: { answered: 3, sent: 2, sendErrors: 1, dropped: 0 },
    });
    expect(collect()).toEqual({ per: [], totals: { answered: 0, sent: 0, sendErrors: 0, dropped: 0 } });
    expect(table.totals()).toEqual({ answered: 3, sent: 2, sendErrors: 1, dropped: 0 });
    table.remove('192.0.2.10');
    table.remove('192.0.2.10'); // once
    table.remove('2001:0db8::0010'); // any spelling
    expect(posted.slice(2)).toEqual([
      { op: 'remove', ip: 0xc000020a },
      { op: 'remove6', ip: [0x20, 0x01, 0x0d, 0xb8, ...new Array(11).fill(0), 0x10] },
    ]);
    answer(0); // a request answered just before the thread applied the removal still counts
    expect(collect().per).toEqual([['192.0.2.10', 1, 1]]);
    expect(table.add('192.0.2.10')).toBe(true); // back on its own slot
    expect(posted.at(-1)).toEqual({ op: 'add', ip: 0xc000020a, slot: 0 });
    expect(() => table.add('nope')).toThrow(TypeError);
    expect(() => table.add('2001:db8::11', '192.0.2.1')).toThrow(TypeError);
  });

  it('when full, reuses a slot withdrawn over a second ago, reporting its last counts under the old address', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const { table, answer, collect } = setup();
      const v4 = (i: number) => `198.51.${i >> 8}.${i & 255}`;
      for (let i = 0; i < SLOTS; i++) expect(table.add(v4(i))).toBe(true);
      expect(table.add('192.0.2.1')).toBe(false); // full: the event loop answers this one
      table.remove(v4(4)); // slot 4
      answer(4);
      expect(table.add('192.0.2.1')).toBe(false); // withdrawn too recently
      vi.advanceTimersByTime(1001);
      expect(table.add('192.0.2.1')).toBe(true);
      answer(4);
      expect(collect().per).toEqual([
        [v4(4), 1, 1],
        ['192.0.2.1', 1, 1],
      ]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('Layer2Counters collectors', () => {
  it('runs every collector before each read, until it is removed', () => {
    const c = new Layer2Counters();
    let pending = 2;
    const stop = c.addCollector(() => {
      c.add('192.0.2.1', 'responsesSent', pending);
      pending = 0;
    });
    expect(c.get('192.0.2.1').responsesSent).toBe(2);
    pending = 3;
    expect(c.snapshot()['192.0.2.1']!.responsesSent).toBe(5);
    pending = 1;
    expect(c.prometheus()).toContain('metallb_layer2_responses_sent{ip="192.0.2.1"} 6');
    stop();
    pending = 10;
    expect(c.get('192.0.2.1').responsesSent).toBe(6);
  });
});

describe('InterfaceResponder over a transport with an ARP offload', () => {
  /** A memory-segment transport that also offers an answer offload which records calls and reports set counts. */
  const offloaded = () => {
    const seg = new MemorySegment();
    const inner = seg.attach({ name: 'eth0', mac: OUR_MAC });
    const added = new Map<string, string | undefined>();
    let pending: Array<[string, number, number]> = [];
    let totals: AnswerOffloadCounts = { answered: 0, sent: 0, sendErrors: 0, dropped: 0 };
    const offload: AnswerOffload = {
      add: (ip, naSource) => {
        added.set(ip, naSource);
        return true;
      },
      remove: (ip) => {
        added.delete(ip);
      },
      collect: (each) => {
        for (const [ip, req, resp] of pending) each(ip, req, resp);
        pending = [];
        const t = totals;
        totals = { answered: 0, sent: 0, sendErrors: 0, dropped: 0 };
        return t;
      },
      totals: () => totals,
    };
    const transport: FrameTransport = {
      name: inner.name,
      mac: inner.mac,
      get closed() {
        return inner.closed;
      },
      send: (f) => inner.send(f),
      receive: (h) => inner.receive(h),
      addMembership: (m) => inner.addMembership(m),
      dropMembership: (m) => inner.dropMembership(m),
      stats: () => inner.stats(),
      close: () => inner.close(),
      answerOffload: offload,
    };
    const answered = (ip: string, n: number) => {
      pending.push([ip, n, n]);
      totals = { answered: totals.answered + n, sent: totals.sent + n, sendErrors: 0, dropped: 0 };
    };
    return { transport, added, answered };
  };

  it('registers IPv4 and IPv6 addresses (with the link-local NA source) and folds what the offload answered into counters and stats', async () => {
    const { transport, added, answered } = offloaded();
    const r = new InterfaceResponder({ transport, gratuitous: false, ipv6LinkLocal: 'fe80::1' });
    r.announce('192.0.2.10');
    r.announce('2001:db8::10');
    expect([...added]).toEqual([
      ['192.0.2.10', undefined],
      ['2001:db8::10', 'fe80::1'],
    ]);
    answered('192.0.2.10', 4);
    answered('2001:db8::10', 2);
    expect(r.counters.get('192.0.2.10')).toEqual({ requestsReceived: 4, responsesSent: 4, gratuitousSent: 0 });
    answered('192.0.2.10', 1);
    expect(r.stats()).toMatchObject({ framesReceived: 7, responsesSent: 7 });
    r.withdraw('192.0.2.10');
    expect([...added.keys()]).toEqual(['2001:db8::10']);
    answered('192.0.2.10', 2); // answered before the withdrawal reached the thread: collected at close
    await r.close();
    expect(r.counters.get('192.0.2.10').responsesSent).toBe(7);
    expect(r.counters.get('2001:db8::10').responsesSent).toBe(2);
  });

  it('leaves a protocol to the event loop when it is disabled', async () => {
    const { transport, added } = offloaded();
    const r = new InterfaceResponder({ transport, gratuitous: false, arp: false });
    r.announce('192.0.2.10');
    r.announce('2001:db8::10');
    expect([...added.keys()]).toEqual(['2001:db8::10']);
    await r.close();
    const { transport: t2, added: added2 } = offloaded();
    const r2 = new InterfaceResponder({ transport: t2, gratuitous: false, ndp: false });
    r2.announce('2001:db8::10');
    expect(added2.size).toBe(0);
    await r2.close();
  });
});
