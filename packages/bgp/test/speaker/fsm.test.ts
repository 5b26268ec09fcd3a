import { describe, expect, it } from 'vitest';
import {
  BgpFsm,
  FakeClock,
  type FsmEvent,
  type FsmIo,
  type IdleReason,
  isValidHoldTime,
  type NotificationInfo,
  negotiateHoldTime,
  seededRandom,
} from '../../src/speaker/index.js';

type Call =
  | 'connect'
  | 'drop'
  | 'open'
  | 'keepalive'
  | 'established'
  | 'openConfirmed'
  | 'update'
  | 'refresh'
  | 'idle'
  | `notify:${number}/${number}`;

function harness(options: Partial<ConstructorParameters<typeof BgpFsm>[1]> = {}, random = seededRandom(1)) {
  const clock = new FakeClock();
  const calls: Call[] = [];
  const notes: NotificationInfo[] = [];
  let idle: IdleReason | undefined;
  const io: FsmIo<{ id: string }, string> = {
    connect: () => calls.push('connect'),
    drop: () => calls.push('drop'),
    sendOpen: () => calls.push('open'),
    sendKeepalive: () => calls.push('keepalive'),
    sendNotification: (n) => {
      notes.push(n);
      calls.push(`notify:${n.code}/${n.subcode}`);
    },
    openConfirmed: () => calls.push('openConfirmed'),
    established: () => calls.push('established'),
    update: () => calls.push('update'),
    routeRefresh: () => calls.push('refresh'),
    idle: (r) => {
      idle = r;
      calls.push('idle');
    },
  };
  const fsm = new BgpFsm<{ id: string }, string>(io, { clock, random, ...options });
  const take = () => calls.splice(0);
  return { fsm, clock, calls, take, notes, idle: () => idle };
}

const OPEN = (holdTime = 90): FsmEvent<{ id: string }, string> => ({ type: 'BgpOpen', open: { id: 'x' }, holdTime });

/** Drives an active FSM to Established with the given peer hold time. */
function established(holdTime = 90, options: Partial<ConstructorParameters<typeof BgpFsm>[1]> = {}) {
  const h = harness(options);
  h.fsm.handle({ type: 'ManualStart' });
  h.fsm.handle({ type: 'TcpCrAcked' });
  h.fsm.handle(OPEN(holdTime));
  h.fsm.handle({ type: 'KeepAliveMsg' });
  expect(h.fsm.state.name).toBe('Established');
  h.take();
  return h;
}

describe('BgpFsm: the RFC 4271 §8 happy path', () => {
  it('goes Idle → Connect → OpenSent → OpenConfirm → Established with the right side effects and timers', () => {
    const h = harness({ holdTime: 90, connectRetryTime: 5 });
    expect(h.fsm.state.name).toBe('Idle');
    h.fsm.handle({ type: 'ManualStart' });
    expect(h.fsm.state.name).toBe('Connect');
    expect(h.take()).toEqual(['connect']);
    const retry = h.fsm.connectRetryTimer.remaining ?? 0;
    expect(retry).toBeGreaterThanOrEqual(3750);
    expect(retry).toBeLessThanOrEqual(5000);

    h.fsm.handle({ type: 'TcpCrAcked' });
    expect(h.fsm.state.name).toBe('OpenSent');
    expect(h.take()).toEqual(['open']);
    expect(h.fsm.connectRetryTimer.running).toBe(false);
    expect(h.fsm.holdTimer.remaining).toBe(240_000); // "large value" while waiting for the OPEN

    h.fsm.handle(OPEN(30));
    expect(h.fsm.state).toMatchObject({ name: 'OpenConfirm', holdTime: 30, keepaliveTime: 10, peer: { id: 'x' } });
    expect(h.take()).toEqual(['keepalive', 'openConfirmed']);
    expect(h.fsm.holdTimer.remaining).toBe(30_000);
    const ka = h.fsm.keepaliveTimer.remaining ?? 0;
    expect(ka).toBeGreaterThanOrEqual(7500);
    expect(ka).toBeLessThanOrEqual(10_000);

    h.clock.advance(1000);
    h.fsm.handle({ type: 'KeepAliveMsg' });
    expect(h.fsm.state).toMatchObject({ name: 'Established', holdTime: 30, since: 1000 });
    expect(h.take()).toEqual(['established']);
  });

  it('sends jittered keepalives (0.75-1.0 × hold/3) and counts incoming KEEPALIVE/UPDATE as liveness', () => {
    const h = established(30);
    const gaps: number[] = [];
    let last = h.clock.now();
    for (let i = 0; i < 20; i++) {
      h.clock.runNext();
      expect(h.take()).toEqual(['keepalive']);
      gaps.push(h.clock.now() - last);
      last = h.clock.now();
      h.fsm.handle({ type: 'KeepAliveMsg' }); // the peer is alive, the hold timer restarts
    }
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(7500);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(10_000);
    expect(new Set(gaps.map((g) => Math.round(g))).size).toBeGreaterThan(5); // really jittered
    h.fsm.handle({ type: 'UpdateMsg', update: 'u' });
    expect(h.take()).toEqual(['update']);
    expect(h.fsm.holdTimer.remaining).toBe(30_000);
  });

  it('restarts the KeepaliveTimer when we send an UPDATE', () => {
    const h = established(90);
    h.clock.advance(20_000);
    h.fsm.messageSent();
    expect(h.fsm.keepaliveTimer.remaining ?? 0).toBeGreaterThanOrEqual(22_500);
  });

  it('starts passively in Active and sends OPEN when the peer connects', () => {
    const h = harness();
    h.fsm.handle({ type: 'ManualStartPassive' });
    expect(h.fsm.state.name).toBe('Active');
    expect(h.fsm.isPassive).toBe(true);
    expect(h.take()).toEqual([]);
    expect(h.fsm.connectRetryTimer.running).toBe(false); // passive peers never dial
    h.fsm.handle({ type: 'TcpConnectionConfirmed' });
    expect(h.fsm.state.name).toBe('OpenSent');
    expect(h.take()).toEqual(['open']);
  });
});

describe('BgpFsm: timers and failures', () => {
  it('detects a silent peer when the hold timer expires and sends Hold Timer Expired', () => {
    const h = established(9);
    // The peer stops talking; we keep sending keepalives.
    h.clock.advance(8999);
    expect(h.fsm.state.name).toBe('Established');
    h.clock.advance(1);
    expect(h.fsm.state.name).toBe('Idle');
    expect(h.take().filter((c) => c !== 'keepalive')).toEqual(['notify:4/0', 'drop', 'idle']);
    expect(h.idle()).toMatchObject({ event: 'HoldTimerExpires', from: 'Established', sent: { code: 4, subcode: 0 } });
    expect(h.fsm.finished).toBe(true);
    h.fsm.handle({ type: 'ManualStart' });
    expect(h.fsm.state.name).toBe('Idle'); // a finished instance does not restart
  });

  it('expires the large OpenSent hold timer when no OPEN arrives', () => {
    const h = harness();
    h.fsm.handle({ type: 'ManualStart' });
    h.fsm.handle({ type: 'TcpCrAcked' });
    h.take();
    h.clock.advance(240_000);
    expect(h.take()).toEqual(['notify:4/0', 'drop', 'idle']);
  });

  it('retries the connection in Connect when ConnectRetryTimer expires', () => {
    const h = harness({ connectRetryTime: 2 });
    h.fsm.handle({ type: 'ManualStart' });
    h.take();
    h.clock.advance(2000);
    expect(h.fsm.state.name).toBe('Connect');
    expect(h.take()).toEqual(['drop', 'connect']);
  });

  it('goes Idle without NOTIFICATION when the TCP connection fails in Connect', () => {
    const h = harness();
    h.fsm.handle({ type: 'ManualStart' });
    h.take();
    h.fsm.handle({ type: 'TcpConnectionFails', error: new Error('ECONNREFUSED') });
    expect(h.take()).toEqual(['drop', 'idle']);
    expect(h.idle()?.error?.message).toBe('ECONNREFUSED');
  });

  it('falls back to Active when the connection fails in OpenSent, then reconnects on ConnectRetry', () => {
    const h = harness({ connectRetryTime: 3 });
    h.fsm.handle({ type: 'ManualStart' });
    h.fsm.handle({ type: 'TcpCrAcked' });
    h.take();
    h.fsm.handle({ type: 'TcpConnectionFails' });
    expect(h.fsm.state.name).toBe('Active');
    expect(h.take()).toEqual(['drop']);
    h.clock.advance(3000);
    expect(h.fsm.state.name).toBe('Connect');
    expect(h.take()).toEqual(['connect']);
  });

  it('ends an Established session on TCP failure or a received NOTIFICATION, without sending one', () => {
    const a = established();
    a.fsm.handle({ type: 'TcpConnectionFails' });
    expect(a.take()).toEqual(['drop', 'idle']);
    const b = established();
    b.fsm.handle({ type: 'NotifMsg', notification: { code: 6, subcode: 2 } });
    expect(b.take()).toEqual(['drop', 'idle']);
    expect(b.idle()?.received).toEqual({ code: 6, subcode: 2 });
  });
});

describe('BgpFsm: hold time negotiation (RFC 4271 §4.2)', () => {
  it('takes the smaller hold time; rejects 1 and 2 seconds with OPEN error 2/6', () => {
    expect(negotiateHoldTime(90, 30)).toBe(30);
    expect(negotiateHoldTime(9, 180)).toBe(9);
    expect(negotiateHoldTime(90, 0)).toBe(0);
    expect(negotiateHoldTime(90, 1)).toBeUndefined();
    expect(negotiateHoldTime(90, 2)).toBeUndefined();
    expect(isValidHoldTime(0)).toBe(true);
    expect(isValidHoldTime(3)).toBe(true);
    expect(isValidHoldTime(2)).toBe(false);
    expect(isValidHoldTime(65536)).toBe(false);
    expect(() => harness({ holdTime: 2 })).toThrow(RangeError);
  });

  it('sends OPEN error 2/6 for an unacceptable hold time', () => {
    const h = harness();
    h.fsm.handle({ type: 'ManualStart' });
    h.fsm.handle({ type: 'TcpCrAcked' });
    h.take();
    h.fsm.handle(OPEN(2));
    expect(h.take()).toEqual(['notify:2/6', 'drop', 'idle']);
  });

  it('runs no keepalive or hold timer when the negotiated hold time is 0', () => {
    const h = established(0);
    expect(h.fsm.state).toMatchObject({ holdTime: 0, keepaliveTime: 0 });
    expect(h.fsm.holdTimer.running).toBe(false);
    expect(h.fsm.keepaliveTimer.running).toBe(false);
    h.clock.advance(3_600_000);
    expect(h.fsm.state.name).toBe('Established');
    expect(h.take()).toEqual([]);
  });

  it('honours a configured keepalive shorter than hold/3 but never longer', () => {
    expect(established(90, { keepaliveTime: 5 }).fsm.state).toMatchObject({ keepaliveTime: 5 });
    expect(established(9, { keepaliveTime: 60 }).fsm.state).toMatchObject({ keepaliveTime: 3 });
  });
});

describe('BgpFsm: NOTIFICATIONs for errors and unexpected messages', () => {
  it('answers unexpected messages with FSM Error and the RFC 6608 subcode of the state', () => {
    const s = harness();
    s.fsm.handle({ type: 'ManualStart' });
    s.fsm.handle({ type: 'TcpCrAcked' });
    s.take();
    s.fsm.handle({ type: 'KeepAliveMsg' });
    expect(s.take()).toEqual(['notify:5/1', 'drop', 'idle']);

    const c = harness();
    c.fsm.handle({ type: 'ManualStart' });
    c.fsm.handle({ type: 'TcpCrAcked' });
    c.fsm.handle(OPEN());
    c.take();
    c.fsm.handle({ type: 'UpdateMsg', update: 'early' });
    expect(c.take()).toEqual(['notify:5/2', 'drop', 'idle']);

    const e = established();
    e.fsm.handle(OPEN());
    expect(e.take()).toEqual(['notify:5/3', 'drop', 'idle']);
  });

  it('sends the codec error as NOTIFICATION for header, OPEN and UPDATE errors', () => {
    const a = established();
    a.fsm.handle({ type: 'UpdateMsgErr', error: { code: 3, subcode: 1 } });
    expect(a.take()).toEqual(['notify:3/1', 'drop', 'idle']);
    const b = established();
    b.fsm.handle({ type: 'BgpHeaderErr', error: { code: 1, subcode: 2, data: Uint8Array.of(0, 5) } });
    expect(b.take()).toEqual(['notify:1/2', 'drop', 'idle']);
    expect(b.notes[0]?.data).toEqual(Uint8Array.of(0, 5));
    const c = harness();
    c.fsm.handle({ type: 'ManualStart' });
    c.fsm.handle({ type: 'TcpCrAcked' });
    c.take();
    c.fsm.handle({ type: 'BgpOpenMsgErr', error: { code: 2, subcode: 2 } });
    expect(c.take()).toEqual(['notify:2/2', 'drop', 'idle']);
  });

  it('does not answer a version-error NOTIFICATION (event 24)', () => {
    const h = harness();
    h.fsm.handle({ type: 'ManualStart' });
    h.fsm.handle({ type: 'TcpCrAcked' });
    h.take();
    h.fsm.handle({ type: 'NotifMsgVerErr', notification: { code: 2, subcode: 1 } });
    expect(h.take()).toEqual(['drop', 'idle']);
  });

  it('sends Cease with the given subcode on ManualStop / AutomaticStop', () => {
    const a = established();
    a.fsm.handle({ type: 'ManualStop' });
    expect(a.take()).toEqual(['notify:6/2', 'drop', 'idle']);
    const b = established();
    b.fsm.handle({ type: 'ManualStop', subcode: 3 });
    expect(b.take()).toEqual(['notify:6/3', 'drop', 'idle']);
    const c = established();
    c.fsm.handle({ type: 'AutomaticStop', subcode: 1, data: Uint8Array.of(0, 1, 1, 0, 0, 0, 10) });
    expect(c.take()).toEqual(['notify:6/1', 'drop', 'idle']);
    expect(c.notes[0]?.data).toEqual(Uint8Array.of(0, 1, 1, 0, 0, 0, 10));
    // Before an OPEN was sent there is nobody to tell.
    const d = harness();
    d.fsm.handle({ type: 'ManualStart' });
    d.take();
    d.fsm.handle({ type: 'ManualStop' });
    expect(d.take()).toEqual(['drop', 'idle']);
  });

  it('dumps a collided connection with Cease / Connection Collision Resolution', () => {
    const h = harness();
    h.fsm.handle({ type: 'ManualStart' });
    h.fsm.handle({ type: 'TcpCrAcked' });
    h.fsm.handle(OPEN());
    h.take();
    h.fsm.handle({ type: 'OpenCollisionDump' });
    expect(h.take()).toEqual(['notify:6/7', 'drop', 'idle']);
    // In Established it is ignored unless CollisionDetectEstablishedState is set.
    const e = established();
    e.fsm.handle({ type: 'OpenCollisionDump' });
    expect(e.fsm.state.name).toBe('Established');
    const f = established(90, { collisionDetectEstablished: true });
    f.fsm.handle({ type: 'OpenCollisionDump' });
    expect(f.take()).toEqual(['notify:6/7', 'drop', 'idle']);
  });
});

describe('BgpFsm: DelayOpen', () => {
  it('waits DelayOpenTime before sending OPEN', () => {
    const h = harness({ delayOpenTime: 2 });
    h.fsm.handle({ type: 'ManualStart' });
    h.fsm.handle({ type: 'TcpCrAcked' });
    expect(h.fsm.state.name).toBe('Connect');
    expect(h.fsm.delayOpenTimer.remaining).toBe(2000);
    expect(h.take()).toEqual(['connect']);
    h.clock.advance(2000);
    expect(h.fsm.state.name).toBe('OpenSent');
    expect(h.take()).toEqual(['open']);
  });

  it('answers an OPEN received during DelayOpen with OPEN + KEEPALIVE (event 20)', () => {
    const h = harness({ delayOpenTime: 5 });
    h.fsm.handle({ type: 'ManualStartPassive' });
    h.fsm.handle({ type: 'TcpConnectionConfirmed' });
    h.take();
    h.fsm.handle(OPEN(60));
    expect(h.fsm.state).toMatchObject({ name: 'OpenConfirm', holdTime: 60 });
    expect(h.take()).toEqual(['open', 'keepalive', 'openConfirmed']);
    expect(h.fsm.delayOpenTimer.running).toBe(false);
  });

  it('returns to Active when the connection fails during DelayOpen', () => {
    const h = harness({ delayOpenTime: 5 });
    h.fsm.handle({ type: 'ManualStart' });
    h.fsm.handle({ type: 'TcpCrAcked' });
    h.fsm.handle({ type: 'TcpConnectionFails' });
    expect(h.fsm.state.name).toBe('Active');
    expect(h.fsm.connectRetryTimer.running).toBe(true);
  });
});

describe('BgpFsm: route refresh and counters', () => {
  it('passes ROUTE-REFRESH in Established and counts ConnectRetryCounter on failures', () => {
    const h = established();
    h.fsm.handle({ type: 'RouteRefreshMsg', message: {} });
    expect(h.take()).toEqual(['refresh']);
    h.fsm.handle({ type: 'HoldTimerExpires' });
    expect(h.fsm.connectRetries).toBe(1);
  });
});
