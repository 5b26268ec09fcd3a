import { describe, expect, it } from 'vitest';
import { Backoff, FakeClock, jitter, seededRandom, Timer } from '../../src/speaker/index.js';

describe('Backoff', () => {
  it('doubles from the initial delay up to the cap, jittered by 0.75-1.0, and resets', () => {
    const b = new Backoff(seededRandom(7), { initialMs: 1000, maxMs: 8000 });
    const delays = Array.from({ length: 7 }, () => b.next());
    const bases = [1000, 2000, 4000, 8000, 8000, 8000, 8000];
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0.75 * (bases[i] ?? 0));
      expect(d).toBeLessThanOrEqual(bases[i] ?? 0);
    });
    expect(b.attempts).toBe(7);
    b.reset();
    expect(b.next()).toBeLessThanOrEqual(1000);
  });

  it('rejects nonsensical settings', () => {
    expect(() => new Backoff(Math.random, { initialMs: 10, maxMs: 5 })).toThrow(RangeError);
    expect(() => new Backoff(Math.random, { factor: 0.5 })).toThrow(RangeError);
  });

  it('spreads a fleet: 1000 draws of the first delay cover the jitter band', () => {
    const r = seededRandom(3);
    const xs = Array.from({ length: 1000 }, () => new Backoff(r).next());
    expect(Math.min(...xs)).toBeLessThan(760);
    expect(Math.max(...xs)).toBeGreaterThan(990);
  });
});

describe('jitter and Timer on the fake clock', () => {
  it('jitter stays within [0.75, 1.0] of the interval', () => {
    expect(jitter(1000, () => 0)).toBe(750);
    expect(jitter(1000, () => 0.999999)).toBeCloseTo(1000, 2);
  });

  it('fires in time order, restarts and stops', () => {
    const clock = new FakeClock(100);
    const fired: string[] = [];
    const a = new Timer('a', clock, () => fired.push(`a@${clock.now()}`));
    const b = new Timer('b', clock, () => fired.push(`b@${clock.now()}`));
    a.start(50);
    b.start(20);
    expect(a.remaining).toBe(50);
    clock.advance(30);
    a.start(50); // restart at t=130 → due 180
    clock.advance(100);
    expect(fired).toEqual(['b@120', 'a@180']);
    a.start(10);
    a.stop();
    expect(a.running).toBe(false);
    expect(clock.runNext()).toBe(false);
    expect(clock.pending).toBe(0);
  });
});
