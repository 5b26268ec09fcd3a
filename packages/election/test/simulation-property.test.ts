import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Simulation } from '../src/index.js';

type Fault =
  | { kind: 'kill'; who: number }
  | { kind: 'pause'; who: number; ms: number }
  | { kind: 'partition'; cut: number }
  | { kind: 'loss'; p: number }
  | { kind: 'leave'; who: number }
  | { kind: 'labels'; who: number; v: number };

const fault: fc.Arbitrary<Fault> = fc.oneof(
  fc.record({ kind: fc.constant('kill' as const), who: fc.nat() }),
  fc.record({ kind: fc.constant('pause' as const), who: fc.nat(), ms: fc.integer({ min: 50, max: 3000 }) }),
  fc.record({ kind: fc.constant('partition' as const), cut: fc.nat() }),
  fc.record({ kind: fc.constant('loss' as const), p: fc.constantFrom(0, 0.05, 0.1, 0.2) }),
  fc.record({ kind: fc.constant('leave' as const), who: fc.nat() }),
  fc.record({ kind: fc.constant('labels' as const), who: fc.nat(), v: fc.nat(9) }),
);

describe('simulation property: after arbitrary faults heal, the survivors converge', () => {
  it('every running member sees exactly the running members alive, with the latest labels', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 3, max: 7 }),
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.tuple(fault, fc.integer({ min: 0, max: 2000 })), { minLength: 1, maxLength: 6 }),
        async (n, seed, faults) => {
          const sim = new Simulation({ seed });
          for (let i = 0; i < n; i++) sim.addNode(`n${i}`);
          sim.joinAll();
          const gone = new Set<string>();
          const labels = new Map<string, string>();
          const leaving: Promise<void>[] = [];
          for (const [f, gap] of faults) {
            const running = sim.nodes().filter((x) => !gone.has(x.name));
            if (running.length <= 2) break;
            const pick = (k: number) => running[k % running.length]!;
            switch (f.kind) {
              case 'kill':
                gone.add(pick(f.who).name);
                pick(f.who).kill();
                break;
              case 'pause': {
                const x = pick(f.who);
                x.pause();
                sim.run(f.ms);
                x.resume();
                break;
              }
              case 'partition': {
                const names = running.map((x) => x.name);
                const k = 1 + (f.cut % (names.length - 1));
                sim.partition([names.slice(0, k), names.slice(k)]);
                break;
              }
              case 'loss':
                sim.loss = f.p;
                break;
              case 'leave': {
                const x = pick(f.who);
                gone.add(x.name);
                leaving.push(x.membership.leave().then(() => x.kill()));
                break;
              }
              case 'labels':
                pick(f.who).membership.setLabels({ v: String(f.v) });
                labels.set(pick(f.who).name, String(f.v));
                break;
            }
            sim.run(gap);
          }
          sim.heal();
          sim.loss = 0;
          sim.run(200);
          await Promise.all(leaving);
          const running = sim.nodes().filter((x) => !gone.has(x.name));
          const names = running.map((x) => x.name).sort();
          const converged = () =>
            running.every((x) => {
              const live = x.membership.members().filter((m) => m.status === 'alive');
              return (
                live.length === names.length &&
                live.every((m) => names.includes(m.name) && (labels.get(m.name) ?? undefined) === m.labels.v)
              );
            });
          const t = sim.runUntil(converged, 60_000, 50);
          if (t < 0) {
            const views = running.map(
              (x) =>
                `${x.name}: ${x.membership
                  .members()
                  .map((m) => `${m.name}=${m.status}@${m.incarnation}`)
                  .join(' ')}`,
            );
            throw new Error(`no convergence within 60 s virtual:\n${views.join('\n')}`);
          }
          // gone members are not alive anywhere
          for (const x of running) {
            for (const g of gone)
              expect(x.membership.members().find((m) => m.name === g)?.status ?? 'dead').not.toBe('alive');
          }
        },
      ),
      { numRuns: Number(process.env.ELECTION_PROPERTY_RUNS ?? 25) },
    );
  }, 120_000);
});
