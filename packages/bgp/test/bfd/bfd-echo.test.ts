import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { neighbourMac } from '../../src/bfd/bfd-echo-socket.js';
import {
  BFD_ECHO_LENGTH,
  BfdDiagnostic,
  BfdSession,
  type BfdSessionOptions,
  decodeBfdControl,
  decodeBfdEcho,
  encodeBfdEcho,
  encodeBfdEchoDatagram,
  FakeClock,
  seededRandom,
} from '../../src/internal.js';

/**
 * Two sessions joined by a control wire and, for each, an echo path (the remote's forwarding plane sending our Echo
 * packets back after 2 ms); the test can cut either. Echo payloads each side sent are logged with their time.
 */
function pair(a: Partial<BfdSessionOptions> = {}, b: Partial<BfdSessionOptions> = {}) {
  const clock = new FakeClock(0);
  const wire = { control: true, echo: { a: true, b: true } };
  const echoes: { from: 'a' | 'b'; at: number }[] = [];
  const sessions: { a?: BfdSession; b?: BfdSession } = {};
  const make = (name: 'a' | 'b', o: Partial<BfdSessionOptions>, peer: 'a' | 'b', disc: number) => {
    const { echo, ...rest } = o;
    return new BfdSession({
      localDiscriminator: disc,
      clock,
      random: seededRandom(disc),
      send: (bytes) => {
        const packet = decodeBfdControl(bytes);
        if (wire.control) clock.setTimeout(() => sessions[peer]?.receive(packet), 1);
      },
      ...(echo
        ? {
            echo: {
              interval: echo.interval,
              send: (payload: Uint8Array) => {
                echoes.push({ from: name, at: clock.now() });
                if (wire.echo[name]) clock.setTimeout(() => sessions[name]?.receiveEcho(payload.slice()), 2);
              },
            },
          }
        : {}),
      ...rest,
    });
  };
  sessions.a = make('a', a, 'b', 11);
  sessions.b = make('b', b, 'a', 22);
  return { clock, wire, echoes, a: sessions.a, b: sessions.b };
}

const noSend = () => {};

describe('BFD Echo function (RFC 5880 §6.4, §6.8.9)', () => {
  it('runs only when Up and both sides allow it, at the larger of the two echo intervals', () => {
    const { clock, a, b, echoes } = pair(
      { echo: { interval: 50, send: noSend }, transmitInterval: 300 },
      { echo: { interval: 80, send: noSend }, transmitInterval: 300 },
    );
    a.start();
    b.start();
    expect(echoes).toHaveLength(0); // not Up yet
    clock.advance(3000);
    expect(a.state.name).toBe('Up');
    expect(a.echoIntervalUs).toBe(80_000);
    expect(b.echoIntervalUs).toBe(80_000);
    expect(a.echoDetectionTimeUs).toBe(240_000);
    const fromA = echoes.filter((e) => e.from === 'a' && e.at >= 1000).map((e) => e.at);
    const gaps = fromA.slice(1).map((t, i) => t - fromA[i]!);
    expect(gaps.length).toBeGreaterThan(10);
    for (const g of gaps) {
      expect(g).toBeGreaterThanOrEqual(60);
      expect(g).toBeLessThanOrEqual(80);
    }
    expect(a.counters.echoReceived).toBeGreaterThan(10);
    expect(a.state.diagnostic).toBe(BfdDiagnostic.NONE);
  });

  it('does not run when the remote advertises Required Min Echo RX 0, and we advertise 0 without echo', () => {
    const { clock, a, b, echoes } = pair({ echo: { interval: 50, send: noSend } }, {});
    a.start();
    b.start();
    clock.advance(3000);
    expect(a.state.name).toBe('Up');
    expect(a.echoIntervalUs).toBe(0);
    expect(echoes).toHaveLength(0);
    // b has no echo: it advertised 0; a advertised its interval, but b sends none
    expect(b.echoIntervalUs).toBe(0);
  });

  it('losing only the echo path takes the session Down with diagnostic 2 after echo interval × Detect Mult', () => {
    const { clock, a, b, wire } = pair(
      { echo: { interval: 50, send: noSend }, detectMultiplier: 3 },
      { echo: { interval: 50, send: noSend } },
    );
    a.start();
    b.start();
    clock.advance(3000);
    expect(a.state.name).toBe('Up');
    const downs: [number, number][] = [];
    a.on('down', (diag) => downs.push([clock.now(), diag]));
    const bDowns: number[] = [];
    b.on('down', (diag) => bDowns.push(diag));
    const cut = clock.now();
    wire.echo.a = false; // only a's echoes are lost: b's path and the control packets still work
    clock.advance(1000);
    expect(downs.length).toBeGreaterThanOrEqual(1);
    const [at, diag] = downs[0]!;
    expect(diag).toBe(BfdDiagnostic.ECHO_FUNCTION_FAILED);
    // the last echo came back at most one interval (+2 ms path) before the cut; detection is 3 × 50 ms after it
    expect(at - cut).toBeGreaterThan(150 - 50 - 2);
    expect(at - cut).toBeLessThanOrEqual(150);
    expect(bDowns[0]).toBe(BfdDiagnostic.NEIGHBOR_SIGNALED_SESSION_DOWN); // b was told by a's Down
    // control packets still flow: with the echo path back, both come back Up and stay
    wire.echo.a = true;
    clock.advance(5000);
    expect(a.state.name).toBe('Up');
    expect(b.state.name).toBe('Up');
  });

  it('stops (without failing) when the remote withdraws its Required Min Echo RX, or when we turn Echo off', () => {
    const { clock, a, b, echoes } = pair(
      { echo: { interval: 50, send: noSend } },
      { echo: { interval: 50, send: noSend } },
    );
    const downs: number[] = [];
    a.on('down', (d) => downs.push(d));
    a.start();
    b.start();
    clock.advance(3000);
    expect(a.echoIntervalUs).toBe(50_000);
    // b no longer loops echoes back: it advertises 0 from its next packet; a stops sending and does not fail
    b.setEcho(undefined);
    clock.advance(1000);
    expect(a.echoIntervalUs).toBe(0);
    const stoppedAt = clock.now();
    clock.advance(2000);
    expect(echoes.filter((e) => e.from === 'a' && e.at > stoppedAt)).toHaveLength(0);
    expect(downs).toEqual([]);
    expect(a.state.name).toBe('Up');
    // and a turning its own Echo off stops it too
    a.setEcho(undefined);
    expect(a.echoIntervalUs).toBe(0);
    expect(() => a.setEcho({ interval: 5, send: noSend })).toThrow(RangeError);
  });

  it('an echo path that never loops back fails the session (no echo ever returned)', () => {
    const { clock, a, b, wire } = pair(
      { echo: { interval: 50, send: noSend } },
      { echo: { interval: 50, send: noSend } },
    );
    wire.echo = { a: false, b: false };
    const diags: number[] = [];
    a.on('down', (diag) => diags.push(diag));
    a.start();
    b.start();
    clock.advance(3000);
    expect(diags.length).toBeGreaterThanOrEqual(1);
    expect(diags.every((d) => d === BfdDiagnostic.ECHO_FUNCTION_FAILED)).toBe(true);
  });

  it('refuses echoes that are not ours or arrive while echo is inactive, without effect', () => {
    const { clock, a, b } = pair({ echo: { interval: 50, send: noSend } }, { echo: { interval: 50, send: noSend } });
    expect(a.receiveEcho(encodeBfdEcho({ discriminator: 11, sequence: 1 }))).toBe('echo-inactive');
    a.start();
    b.start();
    clock.advance(3000);
    expect(a.receiveEcho(encodeBfdEcho({ discriminator: 22, sequence: 1 }))).toBe('wrong-discriminator');
    expect(a.receiveEcho(new Uint8Array(3))).toBe('bad-echo');
    expect(a.receiveEcho(encodeBfdEcho({ discriminator: 11, sequence: 9 }))).toBeUndefined();
    a.stop();
    expect(a.receiveEcho(encodeBfdEcho({ discriminator: 11, sequence: 9 }))).toBe('echo-inactive');
  });

  it('rejects an echo interval outside 10..60000 ms', () => {
    const make = (interval: number) =>
      new BfdSession({ localDiscriminator: 1, send: noSend, echo: { interval, send: noSend } });
    expect(() => make(9)).toThrow(RangeError);
    expect(() => make(60_001)).toThrow(RangeError);
    expect(() => make(10)).not.toThrow();
  });
});

describe('BFD Echo payload codec', () => {
  it('round-trips, also from a sliced buffer with trailing bytes', () => {
    const bytes = encodeBfdEcho({ discriminator: 0xdeadbeef, sequence: 0xffffffff });
    expect(bytes.length).toBe(BFD_ECHO_LENGTH);
    const big = new Uint8Array(40);
    big.set(bytes, 7);
    expect(decodeBfdEcho(big.subarray(7, 30))).toEqual({ discriminator: 0xdeadbeef, sequence: 0xffffffff });
  });

  it('refuses short, foreign, wrong-version and zero-discriminator payloads with typed errors', () => {
    const good = encodeBfdEcho({ discriminator: 5, sequence: 1 });
    const reason = (b: Uint8Array) => {
      try {
        decodeBfdEcho(b);
        return 'ok';
      } catch (err) {
        expect((err as Error).name).toBe('BfdEchoError');
        return (err as { reason: string }).reason;
      }
    };
    expect(reason(good.subarray(0, 15))).toBe('truncated');
    const foreign = good.slice();
    foreign[0] = 0;
    expect(reason(foreign)).toBe('bad-magic');
    const version = good.slice();
    version[4] = 2;
    expect(reason(version)).toBe('bad-version');
    const zero = good.slice();
    zero.fill(0, 8, 12);
    expect(reason(zero)).toBe('zero-discriminator');
  });

  it('never throws anything but BfdEchoError on arbitrary bytes (fuzz)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 8 }), (bytes, skip) => {
        try {
          const p = decodeBfdEcho(bytes.subarray(Math.min(skip, bytes.length)));
          expect(p.discriminator).toBeGreaterThan(0);
        } catch (err) {
          expect((err as Error).name).toBe('BfdEchoError');
        }
      }),
    );
  });

  it('wraps the payload in IPv4/UDP to ourselves: port 3785, TTL 255, valid checksums', () => {
    const payload = encodeBfdEcho({ discriminator: 7, sequence: 3 });
    const d = encodeBfdEchoDatagram(Uint8Array.of(192, 0, 2, 1), 49200, payload, 0x1234);
    const dv = new DataView(d.buffer);
    expect(d.length).toBe(20 + 8 + 16);
    expect(d[0]).toBe(0x45);
    expect(d[8]).toBe(255);
    expect(d[9]).toBe(17);
    expect([...d.subarray(12, 16)]).toEqual([192, 0, 2, 1]);
    expect([...d.subarray(16, 20)]).toEqual([192, 0, 2, 1]);
    expect(dv.getUint16(20)).toBe(49200);
    expect(dv.getUint16(22)).toBe(3785);
    const fold = (words: number) => {
      let s = words;
      while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
      return s;
    };
    let ip = 0;
    for (let i = 0; i < 20; i += 2) ip += dv.getUint16(i);
    expect(fold(ip)).toBe(0xffff);
    let udp = 0xc000 + 0x0201 + 0xc000 + 0x0201 + 17 + 24;
    for (let i = 20; i < d.length; i += 2) udp += dv.getUint16(i);
    expect(fold(udp)).toBe(0xffff);
    expect(decodeBfdEcho(d.subarray(28))).toEqual({ discriminator: 7, sequence: 3 });
  });
});

describe('BFD Echo neighbour MAC (/proc/net/arp)', () => {
  const arp = [
    'IP address       HW type     Flags       HW address            Mask     Device',
    '192.0.2.2        0x1         0x2         0a:1b:2c:3d:4e:5f     *        veth-a',
    '192.0.2.3        0x1         0x0         00:00:00:00:00:00     *        veth-a',
    '192.0.2.4        0x1         0x2         zz:1b:2c:3d:4e:5f     *        veth-a',
    'short line',
  ].join('\n');

  it('finds complete entries on the device only, and refuses malformed ones', () => {
    expect([...(neighbourMac('192.0.2.2', 'veth-a', arp) ?? [])]).toEqual([0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f]);
    expect(neighbourMac('192.0.2.2', 'eth0', arp)).toBeUndefined();
    expect(neighbourMac('192.0.2.3', 'veth-a', arp)).toBeUndefined(); // incomplete
    expect(neighbourMac('192.0.2.4', 'veth-a', arp)).toBeUndefined(); // not hex
    expect(neighbourMac('192.0.2.9', 'veth-a', '')).toBeUndefined();
  });
});
