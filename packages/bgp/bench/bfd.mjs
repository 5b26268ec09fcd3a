// BFD benchmark (needs root and FRR; builds on the built ../dist/index.js):
//
//   node bench/bfd.mjs                 # 300 ms and 50 ms × 3, 5 repetitions each
//   BENCH_BFD_REPS=10 BENCH_BFD_INTERVALS=50 node bench/bfd.mjs
//
// The same failure, measured the same way, for two BFD speakers in one run:
//   ingot: our speaker (a) announces 198.51.100.10/32 to FRR (b) with BFD;
//   frr:   FRR (a) announces it to FRR (b) with BFD (bfdd on both sides).
// Each repetition SIGSTOPs b's bfdd; a's BFD must detect the silence and end the BGP session, and b then deletes the
// route from its kernel table (ip -ts monitor route in b). Reported: SIGSTOP → route deleted on b (both speakers), and
// for ours also SIGSTOP → our BFD Down event. p50/p99 per speaker and the ingot/frr ratio of the p50s.

import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadLab, startOurs } from './lab-harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
if (process.getuid?.() !== 0) {
  console.log('bench/bfd.mjs: needs root (network namespaces); skipped');
  process.exit(0);
}
if (!existsSync(join(here, '../dist/index.js'))) {
  console.error('bench/bfd.mjs: build first (npx tsup)');
  process.exit(1);
}
if (!existsSync('/usr/lib/frr/bfdd')) {
  console.log('bench/bfd.mjs: needs FRR (apt-get install frr); skipped');
  process.exit(0);
}

const REPS = Number(process.env.BENCH_BFD_REPS ?? 5);
const INTERVALS = (process.env.BENCH_BFD_INTERVALS ?? '300,50').split(',').map(Number);
const MULT = 3;
const US = 64513;
const FRR_A = 64514;
const FRR_B = 64512;
const PREFIX = '198.51.100.10/32';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const wall = () => performance.timeOrigin + performance.now();
const lab = await loadLab();

const pct = (xs, p) => {
  const s = [...xs].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Deletions of PREFIX in `host`'s kernel table, as wall-clock ms (ip -ts prints local time). */
function watchDeletions(host) {
  const proc = host.spawn('ip', ['-ts', 'monitor', 'route']);
  const address = PREFIX.split('/')[0];
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

async function frrBfdUp(frr) {
  const peers = JSON.parse(await frr.command('show bfd peers json'));
  return peers.length > 0 && peers.every((p) => p.status === 'up');
}

/**
 * Repeats: wait until settled (`ready()` true twice, 1 s apart, with BGP not re-established in between), SIGSTOP b's
 * bfdd, wait for the route's deletion on b, SIGCONT. Returns the SIGSTOP → deletion times (and `extra` per rep), and
 * the repetitions lost (no deletion within 10 s: printed with what was seen, counted, not measured).
 */
async function measure(name, b, bfddPid, ready, onStopped) {
  const monitor = watchDeletions(b.host);
  const withdrawn = [];
  const extra = [];
  const lost = [];
  try {
    for (let rep = 0; rep < REPS; rep++) {
      const deadline = Date.now() + 30_000;
      for (;;) {
        const r1 = await ready();
        if (r1.ok) {
          await sleep(1000);
          const r2 = await ready();
          if (r2.ok && r2.generation === r1.generation) break;
        }
        if (Date.now() > deadline) throw new Error(`${name} rep ${rep}: not settled: ${JSON.stringify(r1)}`);
        await sleep(100);
      }
      const seen = monitor.deletions().length;
      const t0 = wall();
      const pending = onStopped?.(t0);
      process.kill(bfddPid, 'SIGSTOP');
      try {
        const until = Date.now() + 10_000;
        while (monitor.deletions().length === seen && Date.now() < until) await sleep(5);
        const deleted = monitor.deletions()[seen];
        if (deleted === undefined) {
          const detected = await pending?.then(
            (ms) => `detected after ${ms.toFixed(0)} ms`,
            (e) => `not detected: ${e.message}`,
          );
          const now = await ready().catch((e) => e.message);
          const context = (await b.explain?.(t0).catch((e) => e.message)) ?? '';
          lost.push(
            `${name} rep ${rep}: the route was not deleted on b within 10 s (${detected ?? ''}; now ${JSON.stringify(now)})${context}`,
          );
          console.log(`  (lost) ${lost.at(-1)}`);
          continue;
        }
        withdrawn.push(deleted - t0);
        if (pending) extra.push(await pending);
      } finally {
        process.kill(bfddPid, 'SIGCONT');
      }
    }
  } finally {
    await monitor.proc.stop();
  }
  return { withdrawn, extra, lost };
}

async function ingotCase(interval) {
  const pair = await lab.createPair({ name: `bfdbi${interval}` });
  const bfd = { receiveInterval: interval, transmitInterval: interval, detectMultiplier: MULT };
  let frr;
  let ours;
  try {
    frr = await lab.startPeer('frr', {
      host: pair.b,
      asn: FRR_B,
      neighbors: [{ address: pair.a.ipv4, asn: US, passive: true, holdTime: 30, bfd }],
    });
    ours = await startOurs(pair.a, { asn: US, routerId: pair.a.ipv4 });
    await ours.request('addPeer', {
      options: {
        address: pair.b.ipv4,
        asn: FRR_B,
        families: ['ipv4'],
        holdTime: 30,
        bfd,
        // FRR's reconnect time (timers connect 1): a faster one re-establishes while FRR's bfdd is stopped (FRR does
        // not gate BGP on BFD) and races FRR's own route removal
        backoff: { initialMs: 1000, maxMs: 2000 },
      },
    });
    await ours.request('announce', { prefix: PREFIX, options: {} });
    const pid = Number(readFileSync(join(frr.dir, 'bfdd.pid'), 'utf8').trim());
    const ready = async () => {
      const s = await ours.request('bfd', { address: pair.b.ipv4 });
      const peer = (await ours.request('peers'))[0];
      const route = (await pair.b.run('ip', ['route', 'show', PREFIX])).trim() !== '';
      const ok =
        s?.state === 'Up' &&
        s.detectionTimeUs === MULT * interval * 1000 &&
        peer?.state === 'Established' &&
        (await frrBfdUp(frr)) &&
        route;
      return { ok, generation: peer?.counters.established };
    };
    const detected = (t0) =>
      ours.waitEvent((e) => e.event === 'bfd' && e.state === 'Down' && e.at >= t0, 10_000).then((e) => e.at - t0);
    // on a failure: our speaker's events around the SIGSTOP and FRR's view of the session
    const explain = async (t0) => {
      const events = ours.proc
        .messages()
        .filter((m) => typeof m?.event === 'string' && m.event !== 'sent' && (m.at ?? t0) >= t0 - 2000)
        .map((m) => ({ ...m, at: m.at === undefined ? undefined : Math.round(m.at - t0), info: undefined }));
      const n = JSON.parse(await frr.command('show bgp neighbors json'))[pair.a.ipv4];
      const route = (await pair.b.run('ip', ['route', 'show', PREFIX])).trim();
      return `; events since t0-2s: ${JSON.stringify(events)}; FRR: ${n?.bgpState} est=${n?.connectionsEstablished} lastReset=${n?.lastResetDueTo}; route now: ${route || 'none'}`;
    };
    return await measure('ingot', { host: pair.b, explain }, pid, ready, detected);
  } finally {
    await ours?.close();
    await frr?.stop();
    await pair.destroy();
  }
}

async function frrCase(interval) {
  const pair = await lab.createPair({ name: `bfdbf${interval}` });
  const bfd = { receiveInterval: interval, transmitInterval: interval, detectMultiplier: MULT };
  let a;
  let b;
  try {
    b = await lab.startPeer('frr', {
      host: pair.b,
      asn: FRR_B,
      neighbors: [{ address: pair.a.ipv4, asn: FRR_A, passive: true, holdTime: 30, bfd }],
    });
    a = await lab.startPeer('frr', {
      host: pair.a,
      asn: FRR_A,
      neighbors: [{ address: pair.b.ipv4, asn: FRR_B, holdTime: 30, bfd }],
      announce: [{ prefix: PREFIX }],
    });
    const pid = Number(readFileSync(join(b.dir, 'bfdd.pid'), 'utf8').trim());
    const ready = async () => {
      const n = JSON.parse(await a.command('show bgp neighbors json'))[pair.b.ipv4] ?? {};
      const route = (await pair.b.run('ip', ['route', 'show', PREFIX])).trim() !== '';
      const ok = n.bgpState === 'Established' && (await frrBfdUp(a)) && (await frrBfdUp(b)) && route;
      return { ok, generation: n.connectionsEstablished };
    };
    return await measure('frr', { host: pair.b }, pid, ready);
  } finally {
    await a?.stop();
    await b?.stop();
    await pair.destroy();
  }
}

process.on('SIGINT', () => {
  lab.cleanupAllSync?.();
  process.exit(130);
});

console.log("# BFD: SIGSTOP of the router's bfdd → the route deleted on the router (shared 2-core machine: noisy)");
const results = [];
const fmt = (xs) => `p50 ${pct(xs, 50).toFixed(1)} ms p99 ${pct(xs, 99).toFixed(1)} ms (n=${xs.length})`;
for (const interval of INTERVALS) {
  const row = { interval, multiplier: MULT };
  try {
    const ingot = await ingotCase(interval);
    const frr = await frrCase(interval);
    Object.assign(row, {
      ingotWithdrawn: ingot.withdrawn,
      ingotDetected: ingot.extra,
      frrWithdrawn: frr.withdrawn,
      ingotLost: ingot.lost.length,
      frrLost: frr.lost.length,
      ratio: pct(ingot.withdrawn, 50) / pct(frr.withdrawn, 50),
    });
    console.log(`## ${interval} ms × ${MULT} (bound ${MULT * interval} ms detection, + 100 ms withdrawal)`);
    const lostOf = (r) => (r.lost.length > 0 ? `; ${r.lost.length} of ${REPS} lost (route not deleted)` : '');
    console.log(`  ingot: detected ${fmt(ingot.extra)}; route deleted on FRR ${fmt(ingot.withdrawn)}${lostOf(ingot)}`);
    console.log(`  frr:   route deleted on FRR ${fmt(frr.withdrawn)}${lostOf(frr)}`);
    console.log(`  ingot/frr (p50 of route deleted): ${row.ratio.toFixed(2)}`);
  } catch (err) {
    console.log(`## ${interval} ms × ${MULT}: FAILED ${err.message}`);
    row.error = err.message;
  }
  results.push(row);
}
console.log(`\nJSON ${JSON.stringify(results)}`);
