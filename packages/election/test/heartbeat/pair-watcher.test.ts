import { describe, expect, it } from 'vitest';
import type { HeartbeatFrame } from '../../src/heartbeat/frame.js';
import { PairWatcher, type WatcherAction } from '../../src/heartbeat/pair-watcher.js';

const H = 10;
const K = 10;
const opts = { intervalMs: H, missLimit: K, confirmMs: 2 * H, probeEveryMs: H };
const hb = (seq: number, boot = 1000, sender = 'aaaaaaaaaaaaaaaa'): HeartbeatFrame => ({
  type: 'heartbeat',
  sender,
  boot,
  seq,
});
const ack = (nonce: number, sender = 'aaaaaaaaaaaaaaaa'): HeartbeatFrame => ({
  type: 'ack',
  sender,
  boot: 1000,
  seq: nonce,
});
const O = 'aaaaaaaaaaaaaaaa';

/** Runs ticks every H ms from `from` to `to` (inclusive), collecting actions. */
function ticks(w: PairWatcher, from: number, to: number): WatcherAction[] {
  const out: WatcherAction[] = [];
  for (let t = from; t <= to; t += H) out.push(...w.tick(t));
  return out;
}

/** A watcher that has heard seq 1..n from O, one per interval, the last at time n*H. */
function heard(n: number): PairWatcher {
  const w = new PairWatcher(opts, 100);
  w.watch([O]);
  for (let s = 1; s <= n; s++) {
    w.receive(hb(s), s * H);
    w.tick(s * H);
  }
  return w;
}

describe('PairWatcher', () => {
  it('never declares an owner it has not heard yet (waiting)', () => {
    const w = new PairWatcher(opts);
    w.watch([O]);
    expect(ticks(w, 0, 5000)).toEqual([]);
    expect(w.state(O)).toEqual({ kind: 'waiting' });
  });

  it('k silent intervals -> probe; no answer within the confirmation -> lost; a heartbeat -> recovered', () => {
    const w = heard(5); // last heartbeat at 50
    expect(ticks(w, 60, 140)).toEqual([]); // 90 ms silent: fewer than k intervals
    expect(w.tick(150)).toEqual([{ kind: 'probe', owner: O, nonce: 101 }]);
    expect(w.state(O)?.kind).toBe('confirming');
    expect(w.tick(160)).toEqual([{ kind: 'probe', owner: O, nonce: 101 }]); // probe again each interval
    expect(w.tick(170)).toEqual([{ kind: 'lost', owner: O, silentMs: 120 }]);
    expect(ticks(w, 180, 1000)).toEqual([]); // lost once, not again
    expect(w.receive(hb(6), 1005)).toEqual([{ kind: 'recovered', owner: O, lostMs: 835 }]);
    expect(w.state(O)).toMatchObject({ kind: 'watching', lastAt: 1005, seq: 6 });
    expect(w.stats).toMatchObject({ lost: 1, recovered: 1, confirmations: 1 });
  });

  it('an ack to the current probe (or a heartbeat) during confirmation cancels it', () => {
    const w = heard(5);
    const [probe] = ticks(w, 60, 150);
    expect(probe).toMatchObject({ kind: 'probe' });
    expect(w.receive(ack(999), 152)).toEqual([]); // wrong nonce: ignored, counted stale
    expect(w.state(O)?.kind).toBe('confirming');
    expect(w.receive(ack((probe as { nonce: number }).nonce), 153)).toEqual([]);
    expect(w.state(O)).toMatchObject({ kind: 'watching', lastAt: 153 });
    expect(ticks(w, 160, 250)).toEqual([]);
    expect(w.stats).toMatchObject({ confirmedAlive: 1, stale: 1, lost: 0 });
    // and a heartbeat in the next confirmation round
    expect(w.tick(260)).toMatchObject([{ kind: 'probe' }]);
    w.receive(hb(6), 262);
    expect(ticks(w, 270, 350)).toEqual([]);
    expect(w.stats.lost).toBe(0);
  });

  it('late wake-up: the time the watcher itself was stalled is not counted as silence; the silence before it is', () => {
    const w = heard(5); // last heartbeat at 50
    // silent 50..100 on time (50 ms counted), then the watcher thread stalls from 100 to 400: 290 ms late
    expect(ticks(w, 60, 100)).toEqual([]);
    expect(w.tick(400)).toEqual([]);
    expect(w.stats.lateTicks).toBe(1);
    expect(w.state(O)).toMatchObject({ kind: 'watching', lastAt: 340 }); // 50 + 290: 60 ms of silence counted
    // the owner stays silent: k intervals of counted silence at 440, then the probe round of 20 ms
    expect(ticks(w, 410, 430)).toEqual([]);
    expect(w.tick(440)).toMatchObject([{ kind: 'probe' }]);
    expect(ticks(w, 450, 460)).toMatchObject([{ kind: 'probe' }, { kind: 'lost', silentMs: 120 }]);
  });

  it('a tick only slightly late (within one interval) counts normally', () => {
    const w = heard(5);
    expect(ticks(w, 60, 80)).toEqual([]);
    expect(w.tick(99)).toEqual([]); // 19 ms after the previous tick: on time
    expect(w.stats.lateTicks).toBe(0);
    expect(ticks(w, 109, 139)).toEqual([]);
    expect(w.tick(150)).toMatchObject([{ kind: 'probe' }]);
  });

  it('a late tick during confirmation moves the probe deadline by the lateness (the answer may have been unread)', () => {
    const w = heard(5);
    ticks(w, 60, 150); // probe at 150, deadline 170
    expect(w.state(O)).toMatchObject({ kind: 'confirming', deadline: 170 });
    expect(w.tick(300)).toMatchObject([{ kind: 'probe' }]); // 140 ms late: deadline 310, probed again
    expect(w.state(O)).toMatchObject({ kind: 'confirming', deadline: 310 });
    w.receive(ack((w.state(O) as { nonce: number }).nonce), 302);
    expect(w.state(O)).toMatchObject({ kind: 'watching', lastAt: 302 });
    expect(w.stats.lost).toBe(0);
  });

  it('sequence: jumps count lost datagrams (still heard), replays and older boots are dropped, a new boot is accepted', () => {
    const w = heard(5);
    w.receive(hb(9), 60); // 6, 7, 8 lost on the way
    expect(w.stats.seqGaps).toBe(3);
    expect(w.state(O)).toMatchObject({ kind: 'watching', seq: 9, lastAt: 60 });
    // replays of old heartbeats do not keep a dead owner alive
    for (let t = 70; t <= 200; t += H) w.receive(hb(8), t);
    w.receive(hb(9), 75);
    w.receive(hb(100, 999), 80); // an older boot
    expect(w.stats.stale).toBe(16);
    expect(ticks(w, 70, 150)).toEqual([]);
    expect(w.tick(160)).toMatchObject([{ kind: 'probe' }]);
    // a restarted owner (larger boot, sequence from 1) is heard
    w.receive(hb(1, 2000), 165);
    expect(w.state(O)).toMatchObject({ kind: 'watching', boot: 2000, seq: 1 });
    // a stalled sender resumes at +1 after a gap: heard, no gap counted
    w.receive(hb(2, 2000), 166);
    expect(w.stats.seqGaps).toBe(3);
  });

  it('watch() forgets owners no longer watched and keeps the state of the others', () => {
    const B = 'bbbbbbbbbbbbbbbb';
    const w = heard(5);
    w.watch([O, B]);
    expect(w.state(B)).toEqual({ kind: 'waiting' });
    expect(w.state(O)?.kind).toBe('watching');
    w.watch([B]);
    expect(w.state(O)).toBeUndefined();
    expect(w.receive(hb(7), 70)).toEqual([]);
    expect(ticks(w, 60, 2000)).toEqual([]);
  });

  describe('adaptive silence limit (maxSilenceMs)', () => {
    const adaptive = { ...opts, maxSilenceMs: 40 * H, gapWindowMs: 1000 };
    /** Heard seq 1..5 every interval (last at 50), then seq 6 after a gap of `gap` ms. */
    function afterGap(gap: number): PairWatcher {
      const w = new PairWatcher(adaptive, 100);
      w.watch([O]);
      for (let s = 1; s <= 5; s++) {
        w.receive(hb(s), s * H);
        w.tick(s * H);
      }
      ticks(w, 60, 50 + gap - H);
      w.receive(hb(6), 50 + gap);
      return w;
    }

    it('gaps of a few lost heartbeats keep the limit at k intervals: a silent owner is probed after 100 ms', () => {
      const w = afterGap(4 * H); // three heartbeats lost in a row
      expect(w.silenceLimit(O, 90)).toBe(K * H);
      expect(ticks(w, 90, 180)).toEqual([]);
      expect(w.tick(190)).toMatchObject([{ kind: 'probe' }]);
    });

    it('a stall heard from the owner (a 90 ms gap) widens the limit to twice it: a 150 ms silence is no probe', () => {
      const w = afterGap(90); // seq 6 at 140
      expect(w.silenceLimit(O, 140)).toBe(180);
      expect(ticks(w, 150, 310)).toEqual([]); // 170 ms silent
      w.receive(hb(7), 310); // heard again, never probed: that 170 ms gap widens the limit to 340
      expect(w.stats.confirmations).toBe(0);
      expect(w.silenceLimit(O, 310)).toBe(340);
      // then silent for good: probed 340 ms after the last heartbeat, lost after the 20 ms round
      expect(ticks(w, 320, 640)).toEqual([]);
      expect(w.tick(650)).toMatchObject([{ kind: 'probe' }]);
      expect(ticks(w, 660, 670)).toMatchObject([{ kind: 'probe' }, { kind: 'lost', silentMs: 360 }]);
    });

    it('never waits longer than maxSilenceMs, and narrows back to k intervals one to two windows after the stall', () => {
      const w = afterGap(90); // limit 180
      ticks(w, 150, 300);
      w.receive(hb(7), 310); // a 170 ms gap: limit 340
      ticks(w, 320, 640);
      w.receive(hb(8), 645); // a 335 ms gap: twice would be 670, capped
      expect(w.silenceLimit(O, 645)).toBe(40 * H);
      // heard every interval from then on: a gap is remembered for the rest of its window (here from 20, the first
      // gap heard) and the whole next one (from 1020), then forgotten (at 2020)
      const hear = (from: number, to: number) => {
        for (let t = from; t <= to; t += H) {
          w.receive(hb(9 + (t - 650) / H), t);
          w.tick(t);
        }
      };
      hear(650, 1900);
      expect(w.silenceLimit(O, 1900)).toBe(40 * H);
      hear(1910, 2700);
      expect(w.silenceLimit(O, 2700)).toBe(K * H);
      expect(w.widestSilenceLimit(2700)).toBe(K * H);
      expect(w.stats.confirmations).toBe(0);
    });

    it('a near miss (silent k intervals, then the probe answered) widens the limit too', () => {
      const w = new PairWatcher(adaptive, 100);
      w.watch([O]);
      for (let s = 1; s <= 5; s++) {
        w.receive(hb(s), s * H);
        w.tick(s * H);
      }
      expect(ticks(w, 60, 150)).toMatchObject([{ kind: 'probe', nonce: 101 }]);
      w.receive(ack(101), 155); // 105 ms after the last heartbeat
      expect(w.stats.confirmedAlive).toBe(1);
      expect(w.silenceLimit(O, 155)).toBe(210);
    });

    it('without maxSilenceMs the limit is fixed whatever the gaps', () => {
      const w = heard(5);
      w.receive(hb(6), 140);
      expect(w.silenceLimit(O, 140)).toBe(K * H);
      expect(w.widestSilenceLimit(140)).toBe(K * H);
    });
  });
});
