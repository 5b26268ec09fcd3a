import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChurnSafeMap } from '../src/churn-safe-map.js';

describe('ChurnSafeMap', () => {
  it('behaves like a Map (live entries) through random set/delete sequences, sweeps included', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), { maxLength: 6000 }), (ops) => {
        const m = new ChurnSafeMap<number, string>();
        const ref = new Map<number, string>();
        for (const [set, k] of ops) {
          if (set) {
            m.set(k, `v${k}`);
            ref.set(k, `v${k}`);
          } else {
            expect(m.delete(k)).toBe(ref.delete(k));
          }
          expect(m.size).toBe(ref.size);
          expect(m.get(k)).toBe(ref.get(k));
          expect(m.has(k)).toBe(ref.has(k));
        }
        expect([...m.keys()].sort((a, b) => a - b)).toEqual([...ref.keys()].sort((a, b) => a - b));
        expect([...m.values()].sort()).toEqual([...ref.values()].sort());
      }),
      { numRuns: 30 },
    );
  });

  it('re-inserting a deleted key keeps working after many cycles', () => {
    const m = new ChurnSafeMap<bigint, number>();
    for (let i = 0; i < 5000; i++) m.set(BigInt(i), i);
    for (let r = 0; r < 20000; r++) {
      m.set(99999n, r);
      expect(m.delete(99999n)).toBe(true);
      m.delete(BigInt(r % 5000));
      m.set(BigInt(r % 5000), r);
    }
    expect(m.size).toBe(5000);
    expect(m.get(99999n)).toBeUndefined();
  });
});
