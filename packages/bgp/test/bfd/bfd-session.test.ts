import { describe, expect, it } from 'vitest';
import {
  BFD_SLOW_TX_US,
  type BfdControlPacket,
  BfdDiagnostic,
  BfdSession,
  type BfdSessionOptions,
  BfdState,
  decodeBfdControl,
  encodeBfdControl,
  FakeClock,
  seededRandom,
} from '../../src/internal.js';

/** Two sessions joined by a wire (1 ms delay) the test can cut; every packet is logged with its send time. */
function pair(a: Partial<BfdSessionOptions> = {}, b: Partial<BfdSessionOptions> = {}) {
  const clock = new FakeClock(0);
  const wire = { up: true };
  const log: { from: 'a' | 'b'; at: number; packet: BfdControlPacket }[] = [];
  let sa: BfdSession | undefined;
  let sb: BfdSession | undefined;
  const make = (name: 'a' | 'b', o: Partial<BfdSessionOptions>, peer: () => BfdSession | undefined, disc: number) =>
    new BfdSession({
      localDiscriminator: disc,
      clock,
      random: seededRandom(disc),
      send: (bytes) => {
        const packet = decodeBfdControl(bytes);
        log.push({ from: name, at: clock.now(), packet });
        // 1 ms one-way delay: delivery is never re-entrant, as on a real network
        if (wire.up) clock.setTimeout(() => peer()?.receive(packet), 1);
      },
      ...o,
    });
  sa = make('a', a, () => sb, 11);
  sb = make('b', b, () => sa, 22);
  return { clock, wire, log, a: sa, b: sb };
}

describe('BFD session (RFC 5880 §6.2 state machine)', () => {
  it('two active sessions go Down → Init → Up, poll to the fast interval, and keep it', () => {
    const { clock, a, b, log } = pair({ transmitInterval: 300, receiveInterval: 300 }, { transmitInterval: 300 });
    const states: string[] = [];
    a.on('state', (to, from) => states.push(`${from}>${to}`));
    a.start();
    b.start();
    clock.advance(10);
    expect(a.state.name).toBe('Up');
    expect(b.state.name).toBe('Up');
    expect(states).toEqual(['Down>Init', 'Init>Up']);
    // the first packets (not Up) advertise 1 s (§6.8.3)
    expect(log[0]!.packet.desiredMinTxInterval).toBe(BFD_SLOW_TX_US);
    clock.advance(3000);
    expect(a.pollActive).toBe(false);
    expect(a.transmitIntervalUs).toBe(300_000);
    expect(a.detectionTimeUs).toBe(900_000);
    const fromA = log.filter((l) => l.from === 'a' && l.at >= 1500 && !l.packet.final).map((l) => l.at);
    const gaps = fromA.slice(1).map((t, i) => t - fromA[i]!);
    expect(gaps.length).toBeGreaterThan(3);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(225);
      expect(g).toBeLessThanOrEqual(300);
    }
    expect(a.state.name).toBe('Up');
    expect(a.state.diagnostic).toBe(BfdDiagnostic.NONE);
  });

  it('the link cut is detected once a detection time passes with no packet (diagnostic 1), and both come back', () => {
    const { clock, a, b, wire } = pair(
      { transmitInterval: 50, receiveInterval: 50 },
      { transmitInterval: 50, receiveInterval: 50 },
    );
    a.start();
    b.start();
    clock.advance(3000);
    const downs: [number, number, boolean][] = [];
    a.on('down', (diag, adminDown) => downs.push([clock.now(), diag, adminDown]));
    const cut = clock.now();
    wire.up = false;
    clock.advance(1000);
    expect(downs).toHaveLength(1);
    const [at, diag, remoteAdminDown] = downs[0]!;
    expect(diag).toBe(BfdDiagnostic.CONTROL_DETECTION_TIME_EXPIRED);
    expect(remoteAdminDown).toBe(false);
    // the last packet arrived at most one jittered interval before the cut; detection = 3 × 50 ms after it
    expect(at - cut).toBeGreaterThan(150 - 50);
    expect(at - cut).toBeLessThanOrEqual(150);
    expect(b.state.name).toBe('Down');
    wire.up = true;
    clock.advance(3000);
    expect(a.state.name).toBe('Up');
    expect(b.state.name).toBe('Up');
  });

  it('detection time uses the remote Detect Mult and the larger of our RX and its TX', () => {
    const { clock, a, b } = pair(
      { receiveInterval: 100, detectMultiplier: 3 },
      { transmitInterval: 400, detectMultiplier: 5 },
    );
    a.start();
    b.start();
    clock.advance(5000);
    expect(a.detectionTimeUs).toBe(5 * 400_000);
    expect(b.detectionTimeUs).toBe(3 * 300_000);
    // b sends no faster than a asks to receive
    expect(b.transmitIntervalUs).toBe(400_000);
    expect(a.transmitIntervalUs).toBe(300_000);
  });

  it('passive: sends nothing until it hears the remote; two passive sessions stay silent', () => {
    const one = pair({ passive: true }, { passive: true });
    one.a.start();
    one.b.start();
    one.clock.advance(10_000);
    expect(one.log).toHaveLength(0);
    const two = pair({ passive: true }, {});
    two.a.start();
    two.clock.advance(5000);
    expect(two.log).toHaveLength(0);
    two.b.start();
    two.clock.advance(3000);
    expect(two.a.state.name).toBe('Up');
    expect(two.log.some((l) => l.from === 'a')).toBe(true);
  });

  it('passive goes quiet again after the remote has been silent for a detection time', () => {
    const { clock, a, b, log, wire } = pair({ passive: true }, {});
    a.start();
    b.start();
    clock.advance(3000);
    wire.up = false;
    b.stop();
    clock.advance(5000);
    const lastFromA = log.filter((l) => l.from === 'a').at(-1)!.at;
    clock.advance(5000);
    expect(log.filter((l) => l.from === 'a').at(-1)!.at).toBe(lastFromA);
    expect(a.state).toEqual({ name: 'Down', diagnostic: BfdDiagnostic.CONTROL_DETECTION_TIME_EXPIRED });
  });

  it('remote AdminDown: Down with diagnostic 3, reported as the remote’s choice (RFC 5882 §3.2); back Up after', () => {
    const { clock, a, b } = pair();
    a.start();
    b.start();
    clock.advance(3000);
    const downs: [number, boolean][] = [];
    a.on('down', (d, admin) => downs.push([d, admin]));
    b.setAdminDown(true);
    expect(b.state.name).toBe('AdminDown');
    clock.advance(5);
    expect(a.state.name).toBe('Down');
    expect(downs).toEqual([[BfdDiagnostic.NEIGHBOR_SIGNALED_SESSION_DOWN, true]]);
    clock.advance(10_000);
    expect(a.state.name).toBe('Down');
    b.setAdminDown(false);
    clock.advance(3000);
    expect(a.state.name).toBe('Up');
    expect(b.state.name).toBe('Up');
  });

  it('local AdminDown while Up is reported as an admin choice (diagnostic 7)', () => {
    const { clock, a, b } = pair();
    a.start();
    b.start();
    clock.advance(3000);
    const downs: [number, boolean][] = [];
    a.on('down', (d, admin) => downs.push([d, admin]));
    a.setAdminDown(true);
    expect(downs).toEqual([[BfdDiagnostic.ADMINISTRATIVELY_DOWN, true]]);
  });

  it('remote Down while Up: Down with diagnostic 3, not an admin choice', () => {
    const { clock, a, b } = pair();
    a.start();
    b.start();
    clock.advance(3000);
    const downs: [number, boolean][] = [];
    a.on('down', (d, admin) => downs.push([d, admin]));
    const remote = a.state.name === 'Up' ? a.state.remote : undefined;
    expect(remote?.discriminator).toBe(b.localDiscriminator);
    a.receive({ ...fromB(b, a.localDiscriminator), state: BfdState.DOWN });
    expect(downs).toEqual([[BfdDiagnostic.NEIGHBOR_SIGNALED_SESSION_DOWN, false]]);
  });

  it('answers a Poll at once with Final, outside the transmission timer', () => {
    const sent: BfdControlPacket[] = [];
    const clock = new FakeClock();
    const s = new BfdSession({ localDiscriminator: 5, clock, send: (b) => sent.push(decodeBfdControl(b)) });
    s.start();
    sent.length = 0;
    s.receive({ ...fromB(undefined, 0), poll: true, myDiscriminator: 9 });
    const finals = sent.filter((p) => p.final);
    expect(finals).toHaveLength(1);
    expect(finals[0]!.poll).toBe(false);
    expect(finals[0]!.yourDiscriminator).toBe(9);
  });

  it('discards packets for another discriminator or with authentication, and all packets in AdminDown', () => {
    const clock = new FakeClock();
    const s = new BfdSession({ localDiscriminator: 5, clock, send: () => {} });
    s.start();
    expect(s.receive({ ...fromB(undefined, 6) })).toBe('wrong-discriminator');
    expect(s.receive({ ...fromB(undefined, 0), auth: { type: 2, section: new Uint8Array(24) } })).toBe(
      'authentication',
    );
    expect(s.state.name).toBe('Down');
    s.setAdminDown(true);
    expect(s.receive(fromB(undefined, 0))).toBe('admin-down');
    expect(s.counters.discarded).toBe(3);
    expect(s.receive({ ...fromB(undefined, 5) })).toBe('admin-down');
  });

  it('an increased TX interval while Up applies only after the Poll Sequence ends; a decrease at once', () => {
    const { clock, a, b, wire } = pair(
      { transmitInterval: 100, receiveInterval: 100 },
      { transmitInterval: 100, receiveInterval: 100 },
    );
    a.start();
    b.start();
    clock.advance(3000);
    expect(a.transmitIntervalUs).toBe(100_000);
    wire.up = false; // the Final cannot come back
    a.setIntervals(500, 100);
    expect(a.pollActive).toBe(true);
    expect(a.transmitIntervalUs).toBe(100_000);
    wire.up = true;
    clock.advance(200);
    expect(a.pollActive).toBe(false);
    expect(a.transmitIntervalUs).toBe(500_000);
    a.setIntervals(50, 100);
    expect(a.transmitIntervalUs).toBe(100_000); // b still requires 100 ms between packets it receives
    expect(b.detectionTimeUs).toBe(3 * 500_000);
    clock.advance(150); // a's next packet advertises 50 ms
    expect(b.detectionTimeUs).toBe(3 * 100_000);
  });

  it('does not transmit periodically while the remote requires a Min RX of 0', () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    const s = new BfdSession({ localDiscriminator: 5, clock, send: () => sent.push(clock.now()) });
    s.start();
    s.receive({ ...fromB(undefined, 0), requiredMinRxInterval: 0 });
    const count = sent.length;
    clock.advance(2900); // under the 3 s detection time, after which bfd.RemoteDiscr is forgotten

    expect(sent.length).toBe(count);
    expect(s.transmitIntervalUs).toBe(0);
  });

  it('Detect Mult 1 jitters 10–25 % (§6.8.7), and intervals out of range are refused', () => {
    const clock = new FakeClock();
    const sent: number[] = [];
    const s = new BfdSession({ localDiscriminator: 5, clock, detectMultiplier: 1, send: () => sent.push(clock.now()) });
    s.start();
    clock.advance(30_000);
    const gaps = sent.slice(1).map((t, i) => t - sent[i]!);
    expect(gaps.length).toBeGreaterThan(20);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(750);
      expect(g).toBeLessThanOrEqual(900);
    }
    expect(() => new BfdSession({ localDiscriminator: 0, send: () => {} })).toThrow(RangeError);
    expect(() => new BfdSession({ localDiscriminator: 1, transmitInterval: 0, send: () => {} })).toThrow(/1\.\.60000/);
    expect(() => new BfdSession({ localDiscriminator: 1, detectMultiplier: 256, send: () => {} })).toThrow(RangeError);
  });

  it('a remote that requires 1 s until Up, then Polls for 50 ms (FRR bfdd), gets our packets at 50 ms at once', () => {
    // The lab flap: FRR's bfdd advertises Required Min RX 1 s in Init, Polls with 50 ms once Up and starts its
    // 3 × 50 ms detection timer from our Final. A periodic packet still scheduled at the 1 s interval came too late.
    const clock = new FakeClock(0);
    const sent: { at: number; packet: BfdControlPacket }[] = [];
    const s = new BfdSession({
      localDiscriminator: 5,
      transmitInterval: 50,
      receiveInterval: 50,
      clock,
      random: seededRandom(5),
      send: (b) => sent.push({ at: clock.now(), packet: decodeBfdControl(b) }),
    });
    s.start();
    const frr = (over: Partial<BfdControlPacket>) => s.receive({ ...fromB(undefined, 5), ...over });
    frr({ state: BfdState.INIT, requiredMinRxInterval: 1_000_000 });
    expect(s.state.name).toBe('Up');
    frr({ state: BfdState.UP, poll: true, desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000 });
    frr({ state: BfdState.UP, final: true, desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000 });
    expect(s.transmitIntervalUs).toBe(50_000);
    const final = sent.findLast((p) => p.packet.final);
    expect(final).toBeDefined();
    // FRR keeps sending every 50 ms; our packets must follow at ≤ 50 ms from the Final on
    for (let t = 50; t <= 1000; t += 50) {
      clock.advance(50);
      frr({ state: BfdState.UP, desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000 });
    }
    const times = [final!.at, ...sent.filter((p) => p.at > final!.at && !p.packet.final).map((p) => p.at)];
    const gaps = times.slice(1).map((t, i) => t - times[i]!);
    expect(gaps.length).toBeGreaterThan(15);
    for (const g of gaps) expect(g).toBeLessThanOrEqual(50);
    expect(s.state.name).toBe('Up');
  });

  it('stop() ends transmission and detection', () => {
    const { clock, a, b, log } = pair();
    a.start();
    b.start();
    clock.advance(3000);
    a.stop();
    b.stop();
    const n = log.length;
    clock.advance(10_000);
    expect(log.length).toBe(n);
    expect(clock.pending).toBe(0);
  });
});

/** A Down packet from discriminator 99 addressed to `your`. */
function fromB(_s: BfdSession | undefined, your: number): BfdControlPacket {
  return decodeBfdControl(
    encodeBfdControl({
      diagnostic: 0,
      state: BfdState.DOWN,
      poll: false,
      final: false,
      controlPlaneIndependent: false,
      demand: false,
      detectMultiplier: 3,
      myDiscriminator: 99,
      yourDiscriminator: your,
      desiredMinTxInterval: 1_000_000,
      requiredMinRxInterval: 300_000,
      requiredMinEchoRxInterval: 0,
    }),
  );
}
