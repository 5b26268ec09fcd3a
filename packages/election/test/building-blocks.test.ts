import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Awareness, BroadcastQueue, Suspicion, seededRandom, VirtualClock } from '../src/index.js';

describe('VirtualClock', () => {
  it('runs timers in (time, creation) order, only when advanced, and honours clearTimeout', () => {
    const c = new VirtualClock();
    const seen: string[] = [];
    c.setTimeout(() => seen.push('b@10'), 10);
    c.setTimeout(() => seen.push('a@5'), 5);
    const h = c.setTimeout(() => seen.push('cleared'), 7);
    c.setTimeout(() => seen.push('c@10'), 10);
    c.clearTimeout(h);
    c.advance(4);
    expect(seen).toEqual([]);
    c.advance(6);
    expect(seen).toEqual(['a@5', 'b@10', 'c@10']);
    expect(c.now()).toBe(10);
    c.setTimeout(() => c.setTimeout(() => seen.push('nested@10'), 0), 0);
    c.advance(0);
    expect(seen.at(-1)).toBe('nested@10');
  });
});

describe('seededRandom', () => {
  it('is deterministic per seed and stays in [0, 1)', () => {
    const a = seededRandom(5);
    const b = seededRandom(5);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(seededRandom(6)()).not.toBe(seededRandom(5)());
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

describe('Awareness', () => {
  it('clamps to [0, max-1] and scales timeouts by score + 1', () => {
    const a = new Awareness(8);
    a.apply(-3);
    expect(a.score).toBe(0);
    a.apply(20);
    expect(a.score).toBe(7);
    expect(a.scale(40)).toBe(320);
  });
});

describe('Suspicion', () => {
  it('fires at max with no confirmation, at min once k distinct confirmations arrive', () => {
    const c = new VirtualClock();
    let fired = -1;
    const s = new Suspicion('a', 2, 400, 2400, c, () => {
      fired = c.now();
    });
    expect(s.confirm('a')).toBe(false); // the accuser does not confirm itself
    c.advance(1000);
    expect(s.confirm('b')).toBe(true);
    expect(s.confirm('b')).toBe(false);
    expect(s.confirmations).toBe(1);
    c.advance(137); // 1000 + 137 < 1138
    expect(fired).toBe(-1);
    c.advance(1);
    expect(fired).toBe(1138);
    const c2 = new VirtualClock();
    let f2 = -1;
    new Suspicion('a', 2, 400, 2400, c2, () => {
      f2 = c2.now();
    });
    c2.advance(3000);
    expect(f2).toBe(2400);
  });
  it('fires immediately when confirmations arrive after min has already passed, and cancel stops it', () => {
    const c = new VirtualClock();
    let fired = -1;
    const s = new Suspicion('a', 2, 400, 2400, c, () => {
      fired = c.now();
    });
    c.advance(500);
    s.confirm('b');
    s.confirm('c');
    c.advance(0);
    expect(fired).toBe(500);
    let other = false;
    const t = new Suspicion('a', 0, 400, 2400, c, () => {
      other = true;
    });
    t.cancel();
    c.advance(5000);
    expect(other).toBe(false);
  });
});

describe('BroadcastQueue', () => {
  it('sends fewest-transmits first, newest first, drops at the limit, replaces by key, invalidates by node', () => {
    const q = new BroadcastQueue();
    q.push('k1', 'n1', Uint8Array.of(1));
    q.push('k2', 'n2', Uint8Array.of(2));
    expect(q.take(1400, 2).map((b) => b[0])).toEqual([2, 1]);
    q.push('k3', 'n3', Uint8Array.of(3));
    expect(q.take(1400, 2).map((b) => b[0])).toEqual([3, 2, 1]);
    expect(q.length).toBe(1); // k1 and k2 reached the limit of 2
    q.push('k3', 'n3', Uint8Array.of(33));
    expect(q.take(1400, 5).map((b) => b[0])).toEqual([33]);
    q.push('k4', 'n3', Uint8Array.of(4));
    q.invalidateNode('n3');
    expect(q.length).toBe(0);
  });
  it('never exceeds the byte budget or the count (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 2000 }),
        (sizes, budget) => {
          const q = new BroadcastQueue();
          for (const [i, n] of sizes.entries()) q.push(`k${i}`, `n${i}`, new Uint8Array(n));
          const out = q.take(budget, 3, 10);
          expect(out.reduce((s, b) => s + b.length, 0)).toBeLessThanOrEqual(budget);
          expect(out.length).toBeLessThanOrEqual(10);
        },
      ),
    );
  });
});
