import { describe, expect, it } from 'vitest';
import { CodecError, seededRandom, systemClock } from '../src/index.js';

describe('seededRandom', () => {
  it('repeats a sequence for a seed and differs between seeds', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const c = seededRandom(43);
    const sa = Array.from({ length: 20 }, () => a());
    expect(Array.from({ length: 20 }, () => b())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c())).not.toEqual(sa);
  });

  it('stays in [0, 1) and spreads over it', () => {
    const r = seededRandom(1);
    const buckets = new Array<number>(10).fill(0);
    let outside = 0;
    for (let i = 0; i < 100_000; i++) {
      const x = r();
      if (!(x >= 0 && x < 1)) outside++;
      else buckets[Math.floor(x * 10)]!++;
    }
    expect(outside).toBe(0);
    // 10,000 expected per bucket; a fair source is within ±5 % far beyond 6 sigma (sigma ≈ 95)
    for (const n of buckets) expect(Math.abs(n - 10_000)).toBeLessThan(500);
  });
});

describe('systemClock', () => {
  it('fires a timer once and cancels another', async () => {
    const fired: string[] = [];
    const t = systemClock.setTimeout(() => fired.push('cancelled'), 1);
    systemClock.clearTimeout(t);
    const start = systemClock.now();
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 5));
    expect(systemClock.now() - start).toBeGreaterThanOrEqual(4);
    expect(fired).toEqual([]);
  });
});

describe('CodecError', () => {
  it('carries code and offset, and subclasses keep instanceof', () => {
    class DemoError extends CodecError<'truncated'> {}
    const e = new DemoError('truncated', 'header needs 12 bytes, 3 left', 7);
    expect(e).toBeInstanceOf(CodecError);
    expect(e).toBeInstanceOf(Error);
    expect(e.code).toBe('truncated');
    expect(e.offset).toBe(7);
    expect(e.message).toBe('header needs 12 bytes, 3 left (at byte 7)');
    expect(e.name).toBe('CodecError');
    expect(new CodecError('x', 'no offset').message).toBe('no offset');
  });
});
