import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isBuggyIp, type Prefix, parseAddressEntry } from '../src/index.js';
import { Occupancy } from '../src/occupancy.js';

const LAYOUTS = [
  ['10.0.0.250-10.0.1.5', '10.0.2.0/30'],
  ['10.0.2.0/30', '10.0.0.250-10.0.1.5', '10.0.1.200/31'],
  ['10.0.0.0/32', '10.0.0.255/32', '10.0.1.0/31'],
  ['10.0.3.0/29'],
];

function prefixesOf(entries: string[]): Prefix[] {
  return entries.flatMap((e) => {
    const r = parseAddressEntry(e);
    if (!r.ok) throw new Error(r.error);
    return r.prefixes;
  });
}

describe('Occupancy (runs bridged across disallowed gaps) against a plain set', () => {
  it('answers nextFree, isOccupied and allows exactly like enumeration, through random occupy/vacate', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...LAYOUTS),
        fc.boolean(),
        fc.array(fc.tuple(fc.boolean(), fc.nat(400)), { maxLength: 150 }),
        (layout, avoidBuggy, steps) => {
          const prefixes = prefixesOf(layout);
          const occ = new Occupancy(prefixes, avoidBuggy);
          const allowed: bigint[] = [];
          for (const p of [...prefixes].sort((a, b) => (a.first < b.first ? -1 : 1))) {
            for (let v = p.first; v <= p.last; v++) if (!(avoidBuggy && isBuggyIp(4, v))) allowed.push(v);
          }
          const used = new Set<bigint>();
          const lo = allowed[0]! - 3n;
          const nextFree = (x: bigint) => allowed.find((v) => v >= x && !used.has(v));
          for (const [occupy, n] of steps) {
            const v = allowed[n % allowed.length]!;
            if (occupy && !used.has(v)) {
              occ.occupy(v);
              used.add(v);
            } else if (!occupy && used.has(v)) {
              occ.vacate(v);
              used.delete(v);
            }
            const probe = lo + BigInt(n % (allowed.length + 600));
            expect(occ.nextFree(probe)).toBe(nextFree(probe));
            expect(occ.allows(probe)).toBe(allowed.includes(probe));
            if (allowed.includes(probe)) expect(occ.isOccupied(probe)).toBe(used.has(probe));
          }
          expect(occ.nextFree(lo)).toBe(nextFree(lo));
          expect(occ.runCount).toBeLessThanOrEqual(used.size);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps one run for a full avoidBuggyIPs /16 (the .255/.0 gaps are bridged)', () => {
    const occ = new Occupancy(prefixesOf(['10.1.0.0/16']), true);
    let v = occ.nextFree(0n);
    let n = 0;
    while (v !== undefined) {
      occ.occupy(v);
      n++;
      v = occ.nextFree(v);
    }
    expect(n).toBe(65536 - 512);
    expect(occ.runCount).toBe(1);
  });
});
