import { type BgpPeer, createPair, type LabHost, labSuite, startPeer, useTopology } from '@ingot/lab';
import { describe, expect, it } from 'vitest';
import { SpeakerChild } from './speaker-harness.js';

// The BFD Echo function (RFC 5880 §6.4, RFC 5881 §4) against FRR's bfdd with `echo-mode`: both sides advertise a
// Required Min Echo RX Interval, so both send Echo packets (to themselves, through the other's forwarding plane) once
// Up; then dropping only the forwarded UDP 3785 in FRR's namespace (nftables) loses our Echo packets while the Control
// packets still flow, and our session goes Down with diagnostic 2 (Echo Function Failed).
//
// Each side loops the other's Echo packets back in its kernel: both namespaces get net.ipv4.ip_forward=1; ours also
// net.ipv4.conf.all.accept_local=1 (our own returning Echo packet has our address as its source).

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra', 'bfdd', 'nft'];
const US = 64513;
const FRR_AS = 64512;
/**
 * 200 ms, not 50: at 50 ms × 3 one 150 ms stall of our child's event loop on a loaded CI machine fires the Echo
 * detection timer right after the late Echo transmission (a true Echo failure, as far as the protocol can tell), and
 * the steady-state check below would see it. Echo's mechanics do not depend on the rate; 50 ms ran the same here.
 */
const ECHO_MS = 200;
/** The steady-state window, ms, and the fewest Echo round trips expected in it (20 when on time). */
const WINDOW_MS = 4000;
const MIN_ECHOES = 8;
const MULT = 3;
/** Lateness allowed beyond echo interval × Detect Mult on a loaded 2-core CI machine (timers run late there). */
const SLACK_MS = 2000;
const RECONNECT = { initialMs: 1000, maxMs: 2000 };

interface BfdStatus {
  state: string;
  diagnostic: number;
  echoIntervalUs: number;
  counters: { sent: number; received: number; echoSent: number; echoReceived: number };
}

interface FrrBfdCounters {
  peer: string;
  'echo-packet-input'?: number;
  'echo-packet-output'?: number;
}

async function sysctl(host: LabHost, ...settings: string[]): Promise<void> {
  await host.run('sysctl', ['-qw', ...settings]);
}

async function frrJson<T>(frr: BgpPeer, cmd: string): Promise<T> {
  return JSON.parse(await frr.command(cmd)) as T;
}

async function waitFor<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await get();
  while (!ok(v)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 200));
    v = await get();
  }
  return v;
}

labSuite('BFD Echo vs FRR bfdd', { tools: TOOLS }, () => {
  describe(`echo-mode at ${ECHO_MS} ms × ${MULT}`, () => {
    const lab = useTopology(() => createPair({ name: 'bfdecho' }));

    it('runs on both sides; losing only the Echo path takes our session Down with diagnostic 2', async () => {
      const { a, b } = lab();
      await sysctl(
        a,
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.accept_local=1',
        'net.ipv4.conf.all.send_redirects=0',
      );
      await sysctl(b, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0');
      const bfd = { receiveInterval: 300, transmitInterval: 300, detectMultiplier: MULT };
      const frr = await startPeer('frr', {
        host: b,
        asn: FRR_AS,
        neighbors: [{ address: a.ipv4, asn: US, passive: true, holdTime: 30, bfd: { ...bfd, echoInterval: ECHO_MS } }],
      });
      const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4 }, [
        {
          address: b.ipv4,
          asn: FRR_AS,
          families: ['ipv4'],
          holdTime: 30,
          bfd: { ...bfd, echoInterval: ECHO_MS },
          backoff: RECONNECT,
        },
      ]);
      const status = () => us.request<BfdStatus | undefined>('bfd', { address: b.ipv4 });
      const frrCounters = async () =>
        (await frrJson<FrrBfdCounters[]>(frr, 'show bfd peers counters json')).find((p) => p.peer === a.ipv4);
      try {
        await us.waitEvent((e) => e.event === 'bfd' && e.address === b.ipv4 && e.state === 'Up', 20_000);
        // Our Echo runs (FRR advertises a Required Min Echo RX) and comes back through FRR's kernel.
        const first = await waitFor('our echo running', status, (s) => (s?.echoIntervalUs ?? 0) > 0);
        expect(first?.echoIntervalUs).toBe(ECHO_MS * 1000);
        const before = await status();
        const frrBefore = await frrCounters();
        await new Promise((r) => setTimeout(r, WINDOW_MS));
        const after = await status();
        const frrAfter = await frrCounters();
        console.log(
          `BFD echo vs FRR over ${WINDOW_MS / 1000} s: ours sent ${(after?.counters.echoSent ?? 0) - (before?.counters.echoSent ?? 0)}, back ${(after?.counters.echoReceived ?? 0) - (before?.counters.echoReceived ?? 0)}; FRR echo in/out ${JSON.stringify(frrAfter)}`,
        );
        expect(after?.state).toBe('Up');
        // an echo every 150–200 ms: ≥ 20 in the window when on time; MIN_ECHOES leaves room for a loaded machine
        expect((after?.counters.echoReceived ?? 0) - (before?.counters.echoReceived ?? 0)).toBeGreaterThanOrEqual(
          MIN_ECHOES,
        );
        // FRR's Echo runs too: its echo packets come back to it through our kernel
        expect((frrAfter?.['echo-packet-input'] ?? 0) - (frrBefore?.['echo-packet-input'] ?? 0)).toBeGreaterThanOrEqual(
          MIN_ECHOES,
        );

        // Drop only forwarded UDP 3785 in FRR's namespace: our Echo packets are lost, Control packets (3784) pass.
        await b.run('nft', ['add', 'table', 'inet', 'echoblock']);
        await b.run('nft', [
          'add chain inet echoblock echofwd { type filter hook forward priority 0 ; policy accept ; }',
        ]);
        const receivedAtBlock = (await status())?.counters.received ?? 0;
        await b.run('nft', ['add rule inet echoblock echofwd udp dport 3785 drop']);
        const blocked = Date.now();
        const rules = await b.run('nft', ['list', 'table', 'inet', 'echoblock']);
        expect(rules).toContain('udp dport 3785 drop');
        const down = await us.waitEvent(
          (e) => e.event === 'bfd' && e.address === b.ipv4 && e.state === 'Down' && (e.at as number) >= blocked - 50,
          ECHO_MS * MULT + SLACK_MS + 5000,
        );
        const took = (down.at as number) - blocked;
        console.log(`echo path blocked → BFD Down (diagnostic ${down.diagnostic}) after ${took} ms`);
        expect(down.diagnostic).toBe(2);
        expect(took).toBeLessThanOrEqual(ECHO_MS * MULT + SLACK_MS);
        // Control packets still flow (the session keeps receiving them, so it is not a control detection timeout)
        await new Promise((r) => setTimeout(r, 1500));
        expect((await status())?.counters.received ?? 0).toBeGreaterThan(receivedAtBlock);
      } finally {
        await us.close();
        await frr.stop();
      }
    }, 90_000);
  });
});
