// Speaker benchmark (needs root and FRR, BIRD, GoBGP, ExaBGP; builds on the built ../dist/index.js).
//
//   node bench/speaker.mjs            # everything (about 3-5 minutes)
//   BENCH_N=10000 BENCH_RX=frr BENCH_SENDERS=ours,exabgp node bench/speaker.mjs
//   BENCH_SKIP=latency,rss ...        # skip parts: table, latency, rss
//   BENCH_RUNS=3 ...                  # repeat the table cases, report the median
//
// 1. Table transfer: time from Established (as the receiver sees it) until the receiver holds all N /32s
//    (198.18.0.0/15, BGP payload only), our speaker vs BIRD, FRR and ExaBGP as senders, receivers FRR and GoBGP.
//    UPDATE count as FRR counts it (messageStats.updatesRecv; End-of-RIB included).
// 2. Latency of single changes: announce() → UPDATE written (our side) and → route in FRR's kernel FIB (ip monitor).
// 3. RSS of our speaker holding 100,000 prefixes advertised to 4 GoBGP peers.
// Every case is bounded by a timeout; a failed case is reported and the run continues.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadLab, startOurs, withTimeout } from './lab-harness.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const DIST = join(here, '../dist/index.js');

if (process.getuid?.() !== 0) {
  console.log('bench/speaker.mjs: needs root (network namespaces); skipped');
  process.exit(0);
}
if (!existsSync(DIST)) {
  console.error('bench/speaker.mjs: build first (npx tsup)');
  process.exit(1);
}

const env = (k, d) => (process.env[k] ?? d).split(',').filter(Boolean);
const N_LIST = env('BENCH_N', '10000,100000').map(Number);
const RECEIVERS = env('BENCH_RX', 'frr,gobgp');
const SENDERS = env('BENCH_SENDERS', 'ours,bird,frr,exabgp');
const SKIP = new Set(env('BENCH_SKIP', ''));
const LATENCY_SAMPLES = Number(process.env.BENCH_LATENCY_SAMPLES ?? 1000);
const LATENCY_BUDGET_MS = Number(process.env.BENCH_LATENCY_BUDGET_MS ?? 60_000);
const CASE_TIMEOUT_MS = 120_000;
const RUNS = Number(process.env.BENCH_RUNS ?? 1); // table cases: repetitions, the median is reported
const US = 64513;
const RX_AS = 64512;

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const lab = await loadLab();

function prefixes(n, base = [198, 18, 0, 0]) {
  const start = ((base[0] << 24) | (base[1] << 16) | (base[2] << 8) | base[3]) >>> 0;
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const x = (start + i) >>> 0;
    out[i] = `${x >>> 24}.${(x >>> 16) & 255}.${(x >>> 8) & 255}.${x & 255}/32`;
  }
  return out;
}

/** Receiver view of the session with `addr`: { established, accepted, updates }. */
async function rxView(rx, addr) {
  if (rx.kind === 'frr') {
    const doc = JSON.parse(await rx.command('show bgp neighbors json'));
    const n = doc[addr];
    if (!n) return { established: false, accepted: 0 };
    return {
      established: n.bgpState === 'Established',
      accepted: n.addressFamilyInfo?.ipv4Unicast?.acceptedPrefixCounter ?? 0,
      updates: n.messageStats?.updatesRecv,
    };
  }
  const list = JSON.parse(await rx.command('neighbor -j'));
  const n = list.find((x) => x.state?.neighbor_address === addr || x.conf?.neighbor_address === addr);
  if (!n) return { established: false, accepted: 0 };
  const st = n.state?.session_state;
  const accepted = (n.afi_safis ?? []).reduce((s, f) => s + (f.state?.accepted ?? 0), 0);
  return { established: st === 6 || st === 'established' || st === 'ESTABLISHED', accepted };
}

/**
 * Polls the receiver every ~10 ms until it holds all N. The Established instant is FRR's own (its log line, in µs);
 * GoBGP logs whole seconds, so there it is the first poll that sees Established. The end is the first poll that sees N
 * accepted: a poll costs 10-30 ms (vtysh / gobgp CLI), which bounds the resolution.
 */
async function measureConverge(rx, addr, n, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let tEst;
  let last;
  while (Date.now() < deadline) {
    const t0 = now();
    last = await rxView(rx, addr);
    const t1 = now();
    const t = (t0 + t1) / 2;
    if (last.established && tEst === undefined) tEst = t;
    if (tEst !== undefined && last.accepted >= n) {
      // FRR's message counter may lag the prefix count by a poll: read it once more.
      if (rx.kind === 'frr') {
        last = await rxView(rx, addr);
        const logged = frrEstablishedAt(rx, addr);
        if (process.env.BENCH_DEBUG)
          console.log(
            `    poll-seen Established - logged = ${logged === undefined ? '?' : (tEst - logged).toFixed(1)} ms`,
          );
        tEst = logged ?? tEst;
      }
      return { converge: (t - tEst) / 1000, updates: last.updates };
    }
    await sleep(10);
  }
  throw new Error(`receiver holds ${last?.accepted ?? 0}/${n} (established: ${tEst !== undefined})`);
}

async function startReceiver(kind, host, peerAddr) {
  return lab.startPeer(kind, {
    host,
    asn: RX_AS,
    neighbors: [{ address: peerAddr, asn: US, passive: true, families: ['ipv4'] }],
    startTimeoutMs: 30_000,
    // microsecond log timestamps: FRR's "%ADJCHANGE ... Up" line gives the Established instant
    ...(kind === 'frr' ? { extraConfig: 'log timestamp precision 6' } : {}),
  });
}

/** FRR's own Established instant (epoch ms) for `addr`, from bgpd.log, or undefined. */
function frrEstablishedAt(rx, addr) {
  const file = join(rx.dir, 'bgpd.log');
  if (!existsSync(file)) return undefined;
  let at;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^(\d{4})\/(\d\d)\/(\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) .*ADJCHANGE: neighbor (\S+?)(\(|\s).* Up/.exec(line);
    if (!m || m[6] !== addr) continue;
    at = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}`).getTime() + Number(m[5]) / 1000;
  }
  return at;
}

async function startSender(kind, host, peerAddr, n) {
  const list = prefixes(n);
  if (kind === 'ours') {
    const ours = await startOurs(host, { asn: US, routerId: host.ipv4 });
    await ours.request('announceRange', { base: '198.18.0.0', count: n, options: {} });
    await ours.request('addPeer', { options: { address: peerAddr, asn: RX_AS, families: ['ipv4'] } });
    return { stop: () => ours.close(), ours };
  }
  const neighbors = [{ address: peerAddr, asn: RX_AS, families: ['ipv4'] }];
  if (kind === 'frr') {
    // `network` lines directly (the lab's announce option adds one route-map per prefix).
    const extraConfig = [
      `router bgp ${US}`,
      ' address-family ipv4 unicast',
      ...list.map((p) => `  network ${p}`),
      ' exit-address-family',
      'exit',
    ].join('\n');
    const p = await lab.startPeer('frr', { host, asn: US, neighbors, extraConfig, startTimeoutMs: 90_000 });
    return { stop: () => p.stop() };
  }
  const p = await lab.startPeer(kind, {
    host,
    asn: US,
    neighbors,
    announce: list.map((prefix) => ({ prefix })),
    startTimeoutMs: 90_000,
  });
  return { stop: () => p.stop() };
}

const results = [];

async function tableCase(rxKind, sender, n) {
  const pair = await lab.createPair({ name: `bn${sender.slice(0, 3)}` });
  let rx;
  let tx;
  try {
    rx = await startReceiver(rxKind, pair.b, pair.a.ipv4);
    tx = await startSender(sender, pair.a, pair.b.ipv4, n);
    const r = await measureConverge(rx, pair.a.ipv4, n, CASE_TIMEOUT_MS);
    let updates = r.updates;
    let sendMs;
    if (tx.ours) {
      const peers = await tx.ours.request('peers');
      if (updates === undefined) updates = peers[0]?.counters.updatesSent;
      // our own side: Established → the whole table and End-of-RIB handed to the socket
      const est = await tx.ours.waitEvent((e) => e.event === 'established', 1000);
      const sent = await tx.ours.waitEvent((e) => e.event === 'sent' && e.endOfRib, 1000);
      sendMs = sent.at - est.at;
    }
    results.push({ rx: rxKind, sender, n, converge: r.converge, updates, sendMs });
    console.log(
      `  ${sender.padEnd(6)} -> ${rxKind.padEnd(5)} N=${String(n).padStart(6)}: ${r.converge.toFixed(3)} s, ${updates ?? '?'} UPDATEs` +
        (sendMs === undefined ? '' : ` (our side: table written ${sendMs.toFixed(1)} ms after Established)`),
    );
  } catch (err) {
    results.push({ rx: rxKind, sender, n, error: err.message.split('\n')[0] });
    console.log(`  ${sender} -> ${rxKind} N=${n}: FAILED ${err.message.split('\n').slice(0, 8).join('\n    ')}`);
  } finally {
    await tx?.stop().catch(() => {});
    await rx?.stop().catch(() => {});
    await pair.destroy();
  }
}

function pct(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latencyCase() {
  const pair = await lab.createPair({ name: 'bnlat' });
  let rx;
  let ours;
  let mon;
  try {
    rx = await startReceiver('frr', pair.b, pair.a.ipv4);
    ours = await startOurs(pair.a, { asn: US, routerId: pair.a.ipv4 });
    await ours.request('addPeer', { options: { address: pair.b.ipv4, asn: RX_AS, families: ['ipv4'] } });
    await ours.waitEvent((e) => e.event === 'established', 30_000);
    await sleep(1500); // let FRR's initial processing settle
    // Watch route installs in FRR's namespace (zebra → kernel FIB).
    mon = spawn('ip', ['-n', pair.b.ns, 'monitor', 'route'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const seen = new Map();
    let buf = '';
    mon.stdout.on('data', (d) => {
      const t = now();
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop() ?? '';
      for (const l of lines) {
        const m = /^(198\.18\.\d+\.\d+) /.exec(l);
        if (m && !seen.has(m[1])) seen.set(m[1], t);
      }
    });
    await sleep(300);
    const wire = [];
    const fib = [];
    const list = prefixes(LATENCY_SAMPLES, [198, 18, 200, 0]);
    const t0 = Date.now();
    for (const p of list) {
      if (Date.now() - t0 > LATENCY_BUDGET_MS) break;
      const addr = p.slice(0, -3);
      const sentEv = ours.waitEvent((e) => e.event === 'sent' && e.announced === 1, 5000);
      const { at } = await ours.request('announce', { prefix: p, options: {} });
      const sent = await sentEv;
      wire.push(sent.at - at);
      const deadline = Date.now() + 5000;
      while (!seen.has(addr) && Date.now() < deadline) await sleep(0.2);
      if (!seen.has(addr)) throw new Error(`${p} never reached FRR's FIB`);
      fib.push(seen.get(addr) - at);
    }
    wire.sort((x, y) => x - y);
    fib.sort((x, y) => x - y);
    const row = {
      samples: wire.length,
      wireP50: pct(wire, 50),
      wireP99: pct(wire, 99),
      fibP50: pct(fib, 50),
      fibP99: pct(fib, 99),
      timeBounded: wire.length < LATENCY_SAMPLES,
    };
    results.push({ latency: row });
    console.log(
      `  ${row.samples} single changes: announce→UPDATE written p50 ${row.wireP50.toFixed(2)} ms p99 ${row.wireP99.toFixed(2)} ms; ` +
        `announce→FRR FIB p50 ${row.fibP50.toFixed(1)} ms p99 ${row.fibP99.toFixed(1)} ms${row.timeBounded ? ' (time-bounded)' : ''}`,
    );
  } catch (err) {
    results.push({ latency: { error: err.message } });
    console.log(`  latency: FAILED ${err.message}`);
  } finally {
    mon?.kill('SIGTERM');
    await ours?.close().catch(() => {});
    await rx?.stop().catch(() => {});
    await pair.destroy();
  }
}

async function rssCase() {
  const lan = await lab.createLan(5, { name: 'bnrss' });
  const peers = [];
  let ours;
  try {
    const [me, ...others] = lan.hosts;
    const receivers = others.slice(0, 4);
    for (const h of receivers) peers.push(await startReceiver('gobgp', h, me.ipv4));
    ours = await startOurs(me, { asn: US, routerId: me.ipv4 });
    const base = (await ours.request('memory')).rss;
    await ours.request('announceRange', { base: '198.18.0.0', count: 100_000, options: { communities: ['64513:1'] } });
    const tableOnly = (await ours.request('memory')).rss;
    for (const h of receivers) {
      await ours.request('addPeer', { options: { address: h.ipv4, asn: RX_AS, families: ['ipv4'] } });
    }
    await withTimeout(
      (async () => {
        for (;;) {
          const ps = await ours.request('peers');
          if (ps.length === 4 && ps.every((p) => p.counters.prefixesAdvertised === 100_000)) return;
          await sleep(200);
        }
      })(),
      CASE_TIMEOUT_MS,
      'rss: 4 peers × 100k',
    );
    // and the receivers really hold them
    for (const [i, p] of peers.entries()) {
      await withTimeout(
        (async () => {
          while ((await rxView(p, me.ipv4)).accepted < 100_000) await sleep(200);
        })(),
        CASE_TIMEOUT_MS,
        `rss: GoBGP ${i} holding 100k`,
      );
    }
    const full = (await ours.request('memory')).rss;
    const afterGc = await ours.request('memory', { gc: true });
    const row = {
      baseMB: base / 2 ** 20,
      tableMB: tableOnly / 2 ** 20,
      fourPeersMB: full / 2 ** 20,
      fourPeersAfterGcMB: afterGc.rss / 2 ** 20,
      heapUsedMB: afterGc.heapUsed / 2 ** 20,
    };
    results.push({ rss: row });
    console.log(
      `  RSS: ${row.baseMB.toFixed(1)} MB empty, ${row.tableMB.toFixed(1)} MB with 100k prefixes, ` +
        `${row.fourPeersMB.toFixed(1)} MB advertised to 4 peers (${row.fourPeersAfterGcMB.toFixed(1)} MB after a full GC, ` +
        `heap in use ${row.heapUsedMB.toFixed(1)} MB)`,
    );
  } catch (err) {
    results.push({ rss: { error: err.message } });
    console.log(`  rss: FAILED ${err.message}`);
  } finally {
    await ours?.close().catch(() => {});
    for (const p of peers) await p.stop().catch(() => {});
    await lan.destroy();
  }
}

/**
 * The library alone, in a fresh process: 100,000 prefixes advertised to 4 peers over an in-memory transport that
 * answers the OPEN and discards the rest (no IPC, no test harness, no kernel socket buffers).
 */
function rssInProcessCase() {
  const script = `
    import v8 from 'node:v8'; import vm from 'node:vm'; import { EventEmitter } from 'node:events';
    v8.setFlagsFromString('--expose_gc'); const gc = vm.runInNewContext('gc');
    const { BgpSpeaker } = await import(${JSON.stringify(pathToFileURL(DIST).href)});
    const { createOpen, encodeMessage, MessageDecoder } = await import(${JSON.stringify(pathToFileURL(join(dirname(DIST), 'codec.js')).href)});
    class Sock extends EventEmitter {
      constructor(n) { super(); this.n = n; this.localAddress = '192.0.2.1'; this.remoteAddress = '192.0.2.2'; this.dec = new MessageDecoder(); }
      write(b) {
        if (this.opened) return true;
        this.dec.push(b);
        for (let m = this.dec.next(); m; m = this.dec.next()) if (m.type === 'open') {
          this.opened = true;
          queueMicrotask(() => {
            this.emit('data', encodeMessage(createOpen({ asn: 64512, bgpId: '192.0.2.' + (10 + this.n), extendedMessages: true })));
            this.emit('data', encodeMessage({ type: 'keepalive' }));
          });
        }
        return true;
      }
      end() {} destroy() {}
    }
    gc(); const base = process.memoryUsage().rss;
    let n = 0;
    const s = new BgpSpeaker({ asn: 64513, routerId: '192.0.2.1', dial: async () => new Sock(n++) });
    const o = { communities: ['64513:1'] };
    for (let i = 0; i < 100000; i++) s.announce('198.' + (18 + (i >> 16)) + '.' + ((i >> 8) & 255) + '.' + (i & 255) + '/32', o);
    for (let p = 0; p < 4; p++) s.addPeer({ address: '192.0.2.' + (20 + p), asn: 64512, families: ['ipv4'] });
    while (!s.peers.every((p) => p.counters.prefixesAdvertised === 100000)) await new Promise((r) => setTimeout(r, 50));
    const rss = process.memoryUsage().rss; gc(); const m = process.memoryUsage();
    console.log(JSON.stringify({ baseMB: base / 2 ** 20, fourPeersMB: rss / 2 ** 20, afterGcMB: m.rss / 2 ** 20, heapUsedMB: m.heapUsed / 2 ** 20 }));
    process.exit(0);
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  try {
    const row = JSON.parse(r.stdout.trim().split('\n').pop());
    results.push({ rssInProcess: row });
    console.log(
      `  in-process: ${row.baseMB.toFixed(1)} MB empty, ${row.fourPeersMB.toFixed(1)} MB with 100k prefixes advertised to 4 ` +
        `peers (${row.afterGcMB.toFixed(1)} MB after a full GC, heap in use ${row.heapUsedMB.toFixed(1)} MB)`,
    );
  } catch {
    console.log(`  in-process: FAILED ${r.stderr || r.error?.message}`);
  }
}

process.on('SIGINT', () => {
  lab.cleanupAllSync?.();
  process.exit(130);
});

console.log('# @ingot/bgp speaker benchmark (shared 2-core machine: timings are noisy)');
if (!SKIP.has('table')) {
  console.log('## Table transfer: Established → receiver holds all N /32s');
  for (let run = 0; run < RUNS; run++) {
    for (const rxKind of RECEIVERS) for (const n of N_LIST) for (const s of SENDERS) await tableCase(rxKind, s, n);
  }
}
if (!SKIP.has('latency')) {
  console.log('## Single-change latency (our speaker → FRR)');
  await latencyCase();
}
if (!SKIP.has('rss')) {
  console.log('## Memory: 100,000 prefixes advertised to 4 peers (GoBGP in namespaces; then the library alone)');
  await rssCase();
  rssInProcessCase();
}

// Summary table (median over runs) with ratios against the references in the same run.
const median = (xs) => {
  const v = xs.filter((x) => typeof x === 'number').sort((a, b) => a - b);
  return v.length === 0 ? undefined : v[Math.floor((v.length - 1) / 2)];
};
const table = [];
for (const r of results.filter((x) => x.sender)) {
  if (table.some((t) => t.rx === r.rx && t.n === r.n && t.sender === r.sender)) continue;
  const same = results.filter((x) => x.rx === r.rx && x.n === r.n && x.sender === r.sender);
  const ok = same.filter((x) => !x.error);
  table.push({
    rx: r.rx,
    n: r.n,
    sender: r.sender,
    converge: median(ok.map((x) => x.converge)),
    all: ok.map((x) => x.converge.toFixed(2)).join(' '),
    updates: median(ok.map((x) => x.updates)),
    error: ok.length === 0 ? same[0]?.error : undefined,
  });
}
if (table.length > 0) {
  console.log('\n| receiver | N | sender | converge (s), median | runs | UPDATEs | ours faster by |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of table) {
    const ours = table.find((x) => x.rx === r.rx && x.n === r.n && x.sender === 'ours');
    const ratio =
      r.sender !== 'ours' && ours?.converge && r.converge ? `${(r.converge / ours.converge).toFixed(1)}×` : '';
    const conv = r.error ? `failed: ${r.error}` : r.converge.toFixed(3);
    console.log(`| ${r.rx} | ${r.n} | ${r.sender} | ${conv} | ${r.all} | ${r.updates ?? ''} | ${ratio} |`);
  }
}
console.log(`\nJSON ${JSON.stringify(results)}`);
