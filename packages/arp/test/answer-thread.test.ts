import { Script } from 'node:vm';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { ANSWER_THREAD_SOURCE, OffloadTable, SLOTS } from '../src/answer-thread.js';
import { answerArpRequest, COUNTS } from '../src/answer-thread-worker.js';
import {
  type ArpOffload,
  type ArpOffloadCounts,
  encodeArpFrame,
  encodeArpReplyFrame,
  type FrameTransport,
  formatIPv4,
  formatMac,
  InterfaceResponder,
  isArpIPv4Request,
  Layer2Counters,
  MemorySegment,
  parseMac,
} from '../src/index.js';
import { sliced } from './helpers/fixtures.js';

const OUR_MAC = '02:00:00:00:00:01';
const ours = parseMac(OUR_MAC);
const ipNumber = (b: Uint8Array) => ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;

describe('answerArpRequest (the answer thread’s fast path)', () => {
  const bytes4 = fc.uint8Array({ minLength: 4, maxLength: 4 });
  const bytes6 = fc.uint8Array({ minLength: 6, maxLength: 6 });
  /** ARP requests with destination broadcast, ours or another MAC; table holding the target or not; sometimes a bit flipped. */
  const request = fc.record({
    dst: fc.oneof(fc.constant('ff:ff:ff:ff:ff:ff'), fc.constant(OUR_MAC), bytes6.map(formatMac)),
    src: bytes6.map(formatMac),
    spa: bytes4.map(formatIPv4),
    tpa: bytes4,
    inTable: fc.boolean(),
    flip: fc.option(fc.record({ at: fc.nat(41), bit: fc.integer({ min: 0, max: 7 }) }), { nil: undefined }),
    tail: fc.uint8Array({ maxLength: 20 }),
  });

  it('answers exactly what the event loop would answer, byte for byte, and nothing else (sliced buffers)', () => {
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
        const table = new Map<number, number>(r.inTable ? [[ipNumber(frame.subarray(38, 42)), 7]] : []);
        const out = new Uint8Array(42);
        const view = sliced(frame);
        const slot = answerArpRequest(view, view.length, ours, table, out);
        const dstOk =
          frame.subarray(0, 6).every((b) => b === 0xff) || frame.subarray(0, 6).every((b, i) => b === ours[i]);
        const eventLoopAnswers = isArpIPv4Request(frame) && dstOk && table.has(ipNumber(frame.subarray(38, 42)));
        expect(slot).toBe(eventLoopAnswers ? 7 : -1);
        if (eventLoopAnswers) {
          answers++;
          expect([...out]).toEqual([...encodeArpReplyFrame(frame, ours)]);
        }
      }),
      { numRuns: 2000 },
    );
    expect(answers).toBeGreaterThan(200); // the generator reaches the answering case often
  });

  it('never throws and never answers random bytes, whatever their length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.nat(80), (frame, length) => {
        const n = Math.min(length, frame.length);
        const slot = answerArpRequest(frame, n, ours, new Map(), new Uint8Array(42));
        expect(slot).toBe(-1);
      }),
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
    expect(answerArpRequest(f, 41, ours, table, new Uint8Array(42))).toBe(-1);
    expect(answerArpRequest(f, 42, ours, table, new Uint8Array(42))).toBe(0);
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
      const per: Array<[number, number, number]> = [];
      const totals: ArpOffloadCounts = table.collect((ip, req, resp) => per.push([ip, req, resp]));
      return { per, totals };
    };
    return { table, posted, answer, collect };
  };

  it('gives each address a slot, tells the thread, and reports deltas per address and in total', () => {
    const { table, posted, answer, collect } = setup();
    expect(table.add(0xc000020a)).toBe(true);
    expect(table.add(0xc000020b)).toBe(true);
    expect(posted).toEqual([
      { op: 'add', ip: 0xc000020a, slot: 0 },
      { op: 'add', ip: 0xc000020b, slot: 1 },
    ]);
    answer(0);
    answer(0);
    answer(1, false);
    expect(collect()).toEqual({
      per: [
        [0xc000020a, 2, 2],
        [0xc000020b, 1, 0],
      ],
      totals: { answered: 3, sent: 2, sendErrors: 1 },
    });
    expect(collect()).toEqual({ per: [], totals: { answered: 0, sent: 0, sendErrors: 0 } });
    expect(table.totals()).toEqual({ answered: 3, sent: 2, sendErrors: 1 });
    table.remove(0xc000020a);
    table.remove(0xc000020a); // once
    expect(posted.slice(2)).toEqual([{ op: 'remove', ip: 0xc000020a }]);
    answer(0); // a request answered just before the thread applied the removal still counts
    expect(collect().per).toEqual([[0xc000020a, 1, 1]]);
    expect(table.add(0xc000020a)).toBe(true); // back on its own slot
    expect(posted.at(-1)).toEqual({ op: 'add', ip: 0xc000020a, slot: 0 });
  });

  it('when full, reuses a slot withdrawn over a second ago, reporting its last counts under the old address', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    try {
      const { table, answer, collect } = setup();
      for (let i = 0; i < SLOTS; i++) expect(table.add(i + 1)).toBe(true);
      expect(table.add(0xc0000201)).toBe(false); // full: the event loop answers this one
      table.remove(5); // slot 4
      answer(4);
      expect(table.add(0xc0000201)).toBe(false); // withdrawn too recently
      vi.advanceTimersByTime(1001);
      expect(table.add(0xc0000201)).toBe(true);
      answer(4);
      expect(collect().per).toEqual([
        [5, 1, 1],
        [0xc0000201, 1, 1],
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
  /** A memory-segment transport that also offers an ARP offload which records calls and reports set counts. */
  const offloaded = () => {
    const seg = new MemorySegment();
    const inner = seg.attach({ name: 'eth0', mac: OUR_MAC });
    const added = new Set<number>();
    let pending: Array<[number, number, number]> = [];
    let totals: ArpOffloadCounts = { answered: 0, sent: 0, sendErrors: 0 };
    const offload: ArpOffload = {
      add: (ip) => {
        added.add(ip);
        return true;
      },
      remove: (ip) => {
        added.delete(ip);
      },
      collect: (each) => {
        for (const [ip, req, resp] of pending) each(ip, req, resp);
        pending = [];
        const t = totals;
        totals = { answered: 0, sent: 0, sendErrors: 0 };
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
      arpOffload: offload,
    };
    const answered = (ip: number, n: number) => {
      pending.push([ip, n, n]);
      totals = { answered: totals.answered + n, sent: totals.sent + n, sendErrors: 0 };
    };
    return { transport, added, answered };
  };

  it('registers IPv4 addresses (not IPv6) and folds what the offload answered into counters and stats', async () => {
    const { transport, added, answered } = offloaded();
    const r = new InterfaceResponder({ transport, gratuitous: false });
    r.announce('192.0.2.10');
    r.announce('2001:db8::10');
    expect([...added]).toEqual([0xc000020a]);
    answered(0xc000020a, 4);
    expect(r.counters.get('192.0.2.10')).toEqual({ requestsReceived: 4, responsesSent: 4, gratuitousSent: 0 });
    answered(0xc000020a, 1);
    expect(r.stats()).toMatchObject({ framesReceived: 5, responsesSent: 5 });
    r.withdraw('192.0.2.10');
    expect(added.size).toBe(0);
    answered(0xc000020a, 2); // answered before the withdrawal reached the thread: collected at close
    await r.close();
    expect(r.counters.get('192.0.2.10').responsesSent).toBe(7);
  });

  it('leaves ARP to the event loop when ARP is disabled', async () => {
    const { transport, added } = offloaded();
    const r = new InterfaceResponder({ transport, gratuitous: false, arp: false });
    r.announce('192.0.2.10');
    expect(added.size).toBe(0);
    await r.close();
  });
});
