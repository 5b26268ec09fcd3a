import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BgpPeer, createPair, type LabHost, type LabProcess, labSuite, startPeer, useTopology } from '@ingot/lab';
import { describe, expect, it } from 'vitest';
import { SpeakerChild } from './speaker-harness.js';

// BFD against FRR's bfdd: sessions come up with either side passive; at 50 ms × 3 the session holds (FRR's bfdd
// advertises a 1 s Required Min RX until Up, then Polls for 50 ms: our next packet must follow at 50 ms, or FRR times
// out right after every Up and the BGP session flaps); and a frozen bfdd (SIGSTOP) is detected by our BFD, which ends
// the BGP session with Cease / BFD Down so FRR removes our route from its kernel table. Times are taken from SIGSTOP
// to our BFD Down event (the child's clock) and to the route's deletion in FRR's namespace (ip -ts monitor).

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra', 'bfdd'];
const US = 64513;
const FRR_AS = 64512;
const V4 = '198.51.100.10/32';
const MULT = 3;
/** Repetitions per interval: small and bounded. */
const REPS: Record<number, number> = { 300: 3, 50: 3 };
/**
 * Lateness allowed beyond the protocol's own bound: one more detection time, and at least 500 ms, for a loaded 2-core
 * CI machine (our child's timers, FRR's bgpd and zebra all run late there). The test proves BFD, not the 30 s hold
 * timer, ends the session and makes FRR withdraw the route; the tight p50/p99 figures are the benchmark's:
 * `cd packages/bgp && node bench/bfd.mjs`.
 */
const slackMs = (interval: number) => Math.max(MULT * interval, 500);
/**
 * Our reconnect after the BFD Down tear-down: FRR's own, 1 s (`timers connect 1`), not faster. FRR's bgpd does not
 * gate a new session on BFD (only `bfd strict` would), so a reconnect within ~100 ms, with FRR's bfdd still stopped,
 * re-established the session and re-sent the route before zebra had deleted it (seen in bench/bfd.mjs at 50 ms): the
 * measurement would race FRR's own route removal.
 */
const RECONNECT = { initialMs: 1000, maxMs: 2000 };
/** How long the 50 ms session is watched for flaps. */
const STABLE_MS = 10_000;

interface FrrBfdPeer {
  peer: string;
  status: string;
  'receive-interval'?: number;
  'transmit-interval'?: number;
}

async function frrBfdPeers(frr: BgpPeer): Promise<FrrBfdPeer[]> {
  return JSON.parse(await frr.command('show bfd peers json')) as FrrBfdPeer[];
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] as number;
};

/** Route deletions of `prefix` seen by `ip -ts monitor route` in `host`, as wall-clock ms. */
function watchDeletions(host: LabHost, prefix: string): { proc: LabProcess; deletions: () => number[] } {
  const proc = host.spawn('ip', ['-ts', 'monitor', 'route']);
  const address = prefix.split('/')[0] as string;
  return {
    proc,
    deletions: () =>
      proc
        .stdout()
        .split('\n')
        .filter((l) => l.includes('Deleted') && l.includes(` ${address} `))
        .map((l) => Date.parse((/^\[([^\]]+)\]/.exec(l) ?? [])[1] ?? '')),
  };
}

/** FRR passive on `b` and our speaker child on `a` connecting to it, both with BFD at `interval` ms × MULT. */
async function startBfdPair(a: LabHost, b: LabHost, interval: number): Promise<{ frr: BgpPeer; us: SpeakerChild }> {
  const bfd = { receiveInterval: interval, transmitInterval: interval, detectMultiplier: MULT };
  const frr = await startPeer('frr', {
    host: b,
    asn: FRR_AS,
    neighbors: [{ address: a.ipv4, asn: US, passive: true, holdTime: 30, bfd }],
  });
  const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4 }, [
    { address: b.ipv4, asn: FRR_AS, families: ['ipv4'], holdTime: 30, bfd, backoff: RECONNECT },
  ]);
  return { frr, us };
}

labSuite('BFD vs FRR bfdd', { tools: TOOLS }, () => {
  describe('sessions come up both ways', () => {
    const lab = useTopology(() => createPair({ name: 'bfdup' }));

    it('IPv4: FRR passive, we active; IPv6: we passive, FRR active; both Up on both sides', async () => {
      const { a, b } = lab();
      const frr = await startPeer('frr', {
        host: b,
        asn: FRR_AS,
        neighbors: [
          { address: a.ipv4, asn: US, passive: true, holdTime: 9, bfd: { passive: true } },
          { address: a.ipv6, asn: US, holdTime: 9, bfd: {} },
        ],
      });
      const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4, listen: true }, [
        { address: b.ipv4, asn: FRR_AS, families: ['ipv4'], holdTime: 9, bfd: {} },
        { address: b.ipv6, asn: FRR_AS, families: ['ipv6'], holdTime: 9, passive: true, bfd: { passive: true } },
      ]);
      try {
        await us.waitEvent((e) => e.event === 'bfd' && e.address === b.ipv4 && e.state === 'Up', 20_000);
        await us.waitEvent((e) => e.event === 'bfd' && e.address === b.ipv6 && e.state === 'Up', 20_000);
        await frr.waitEstablished(a.ipv4, 20_000);
        await frr.waitEstablished(a.ipv6, 20_000);
        const deadline = Date.now() + 10_000;
        let peers = await frrBfdPeers(frr);
        while (peers.filter((p) => p.status === 'up').length < 2 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          peers = await frrBfdPeers(frr);
        }
        expect(peers.map((p) => [p.peer, p.status]).sort()).toEqual(
          [
            [a.ipv4, 'up'],
            [a.ipv6, 'up'],
          ].sort(),
        );
      } finally {
        await us.close();
        await frr.stop();
      }
    }, 60_000);
  });

  describe(`at 50 ms × ${MULT}`, () => {
    const lab = useTopology(() => createPair({ name: 'bfdhold' }));

    it(`the session holds for ${STABLE_MS / 1000} s: no BFD flap, no BGP re-establishment loop`, async () => {
      const { a, b } = lab();
      const { frr, us } = await startBfdPair(a, b, 50);
      try {
        const up = await us.waitEvent((e) => e.event === 'bfd' && e.address === b.ipv4 && e.state === 'Up', 20_000);
        await us.waitEstablished(b.ipv4, 20_000);
        const from = up.at as number;
        const established = (await us.peers())[0]?.counters.established;
        await new Promise((r) => setTimeout(r, STABLE_MS));
        const events = us.proc
          .messages()
          .map((m) => m as Record<string, unknown>)
          .filter((e) => typeof e.at === 'number' && e.at > from);
        const downs = events.filter((e) => e.event === 'bfd' && e.state === 'Down');
        const peer = (await us.peers())[0];
        const frrBfd = (await frrBfdPeers(frr))[0];
        console.log(
          `BFD 50 ms × ${MULT} vs FRR over ${STABLE_MS / 1000} s: ${downs.length} BFD Down, established ${established} → ${peer?.counters.established}`,
        );
        // The bug this guards against (our next packet still on the 1 s pre-Up schedule after FRR's Poll) reset the
        // session every ~200 ms: ≥ 40 times in 10 s. Up to two are allowed: at 150 ms detection a stall of our child
        // or of FRR on a loaded 2-core CI machine is BFD doing its job (seen once, load average 9: FRR's Down, then
        // ours 0.9 s later), not a flap; quiet runs show none.
        expect(downs.length, JSON.stringify(downs)).toBeLessThanOrEqual(2);
        expect((peer?.counters.established ?? 0) - (established ?? 0)).toBeLessThanOrEqual(2);
        // and it is (still, or again after such a reset) Up at 50 ms on FRR's side, Established on ours
        const deadline = Date.now() + 10_000;
        let now = { bgp: peer?.state, frr: frrBfd };
        while (!(now.bgp === 'Established' && now.frr?.status === 'up') && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 200));
          now = { bgp: (await us.peers())[0]?.state, frr: (await frrBfdPeers(frr))[0] };
        }
        expect(now.bgp).toBe('Established');
        expect(now.frr?.status).toBe('up');
        expect(now.frr?.['receive-interval']).toBe(50);
        expect(now.frr?.['transmit-interval']).toBe(50);
      } finally {
        await us.close();
        await frr.stop();
      }
    }, 60_000);
  });

  for (const interval of Object.keys(REPS).map(Number)) {
    describe(`SIGSTOP of FRR's bfdd at ${interval} ms × ${MULT}`, () => {
      const lab = useTopology(() => createPair({ name: `bfd${interval}` }));

      it(`is detected within ${MULT} × ${interval} ms and FRR withdraws the route within that + 100 ms`, async () => {
        const { a, b } = lab();
        const { frr, us } = await startBfdPair(a, b, interval);
        const monitor = watchDeletions(b, V4);
        const state = async () => {
          const bfdState = await us.request<{ state: string; detectionTimeUs?: number } | undefined>('bfd', {
            address: b.ipv4,
          });
          const peer = (await us.peers())[0];
          const frrBfd = (await frrBfdPeers(frr))[0]?.status;
          const route = (await b.run('ip', ['route', 'show', V4])).trim() !== '';
          const ok =
            bfdState?.state === 'Up' &&
            bfdState.detectionTimeUs === MULT * interval * 1000 &&
            peer?.state === 'Established' &&
            frrBfd === 'up' &&
            route;
          return { ok, bfd: bfdState, bgp: peer?.state, established: peer?.counters.established, frrBfd, route };
        };
        const pid = Number(readFileSync(join(frr.dir, 'bfdd.pid'), 'utf8').trim());
        const detect: number[] = [];
        const withdraw: number[] = [];
        try {
          await us.request('announce', { prefix: V4, options: {} });
          for (let rep = 0; rep < REPS[interval]!; rep++) {
            // Settled: BFD Up at the configured interval on both sides, BGP Established, the route in FRR's kernel
            // table, and the same session still up a second later (after a SIGCONT FRR's bfdd reports its own
            // timeout to bgpd, which resets the session once more).
            const deadline = Date.now() + 30_000;
            for (;;) {
              const before = await state();
              if (before.ok) {
                await new Promise((r) => setTimeout(r, 1000));
                const again = await state();
                if (again.ok && again.established === before.established) break;
              }
              if (Date.now() > deadline) throw new Error(`rep ${rep}: not settled: ${JSON.stringify(before)}`);
              await new Promise((r) => setTimeout(r, 100));
            }
            const seen = monitor.deletions().length;
            const t0 = performance.timeOrigin + performance.now();
            const after = (e: Record<string, unknown>) => typeof e.at === 'number' && e.at >= t0; // not an event of the setup
            const down = us.waitEvent(
              (e) => e.event === 'bfd' && e.address === b.ipv4 && e.state === 'Down' && after(e),
              10_000,
            );
            const cease = us.waitEvent((e) => e.event === 'notification' && e.direction === 'sent' && after(e), 10_000);
            process.kill(pid, 'SIGSTOP');
            try {
              const [ev, n] = await Promise.all([down, cease]).catch((err: Error) => {
                const events = us.proc.messages().filter((m) => ((m as { at?: number }).at ?? 0) >= t0 - 2000);
                throw new Error(`rep ${rep}: ${err.message}; events since shortly before: ${JSON.stringify(events)}`);
              });
              expect([n.code, n.subcode]).toEqual([6, 10]); // Cease / BFD Down (RFC 9384)
              expect(ev.diagnostic).toBe(1); // Control Detection Time Expired
              detect.push((ev.at as number) - t0);
              const until = Date.now() + 5000;
              while (monitor.deletions().length === seen && Date.now() < until)
                await new Promise((r) => setTimeout(r, 10));
              const deleted = monitor.deletions()[seen];
              expect(deleted, 'FRR removed the route from its kernel table').toBeDefined();
              withdraw.push((deleted as number) - t0);
            } finally {
              process.kill(pid, 'SIGCONT');
            }
          }
          const line = (name: string, xs: number[]) =>
            `${name} p50 ${pct(xs, 50).toFixed(1)} ms, p99 ${pct(xs, 99).toFixed(1)} ms (n=${xs.length}: ${xs.map((x) => x.toFixed(0)).join(' ')})`;
          console.log(
            `BFD ${interval} ms × ${MULT} vs FRR bfdd: ${line('detected', detect)}; ${line('route withdrawn on FRR', withdraw)}`,
          );
          for (const d of detect) expect(d).toBeLessThanOrEqual(MULT * interval + slackMs(interval));
          for (const w of withdraw) expect(w).toBeLessThanOrEqual(MULT * interval + 100 + slackMs(interval));
        } finally {
          await monitor.proc.stop();
          await us.close();
          await frr.stop();
        }
      }, 120_000);
    });
  }
});
