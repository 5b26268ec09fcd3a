import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BgpFsm, FakeClock, type FsmEvent, type FsmStateName, seededRandom } from '../../src/speaker/index.js';

// Random event sequences (with time passing in between) against invariants of the RFC 4271 FSM.

type E = FsmEvent<{ id: number }, string>;

const event: fc.Arbitrary<E> = fc.oneof(
  fc.constantFrom<E>(
    { type: 'ManualStart' },
    { type: 'ManualStop' },
    { type: 'AutomaticStart' },
    { type: 'ManualStartPassive' },
    { type: 'AutomaticStartPassive' },
    { type: 'AutomaticStop', subcode: 1 },
    { type: 'TcpConnectionValid' },
    { type: 'TcpCrInvalid' },
    { type: 'TcpCrAcked' },
    { type: 'TcpConnectionConfirmed' },
    { type: 'TcpConnectionFails' },
    { type: 'OpenCollisionDump' },
    { type: 'KeepAliveMsg' },
    { type: 'UpdateMsg', update: 'u' },
    { type: 'RouteRefreshMsg', message: {} },
    { type: 'NotifMsg', notification: { code: 6, subcode: 2 } },
    { type: 'NotifMsgVerErr', notification: { code: 2, subcode: 1 } },
    { type: 'BgpHeaderErr', error: { code: 1, subcode: 1 } },
    { type: 'BgpOpenMsgErr', error: { code: 2, subcode: 2 } },
    { type: 'UpdateMsgErr', error: { code: 3, subcode: 1 } },
  ),
  fc.integer({ min: 0, max: 300 }).map((holdTime): E => ({ type: 'BgpOpen', open: { id: 1 }, holdTime })),
);

const step = fc.tuple(event, fc.integer({ min: 0, max: 120_000 }));

describe('BgpFsm properties', () => {
  it('never throws; stops every timer and all I/O once back in Idle; arms timers consistently with its state', () => {
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 40 }),
        fc.constantFrom(0, 3, 9, 90),
        fc.constantFrom(0, 2),
        (steps, holdTime, delayOpenTime) => {
          const clock = new FakeClock();
          let idleCalls = 0;
          let afterIdle = 0;
          const touch = () => {
            if (idleCalls > 0) afterIdle++;
          };
          const fsm = new BgpFsm<{ id: number }, string>(
            {
              connect: touch,
              drop: () => {},
              sendOpen: touch,
              sendKeepalive: touch,
              sendNotification: touch,
              established: touch,
              update: touch,
              idle: () => {
                idleCalls++;
              },
            },
            { clock, random: seededRandom(9), holdTime, delayOpenTime },
          );
          const seen: FsmStateName[] = [];
          for (const [e, wait] of steps) {
            fsm.handle(e);
            clock.advance(wait);
            const s = fsm.state;
            seen.push(s.name);
            if (s.name === 'Idle') {
              expect(fsm.holdTimer.running).toBe(false);
              expect(fsm.keepaliveTimer.running).toBe(false);
              expect(fsm.connectRetryTimer.running).toBe(false);
              expect(fsm.delayOpenTimer.running).toBe(false);
            }
            if (s.name === 'Established' || s.name === 'OpenConfirm') {
              expect(fsm.holdTimer.running).toBe(s.holdTime > 0);
              expect(s.holdTime === 0 || s.holdTime >= 3).toBe(true);
              expect(s.holdTime).toBeLessThanOrEqual(holdTime);
            }
          }
          expect(idleCalls).toBeLessThanOrEqual(1);
          expect(afterIdle).toBe(0);
          if (fsm.finished) expect(clock.pending).toBe(0);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
