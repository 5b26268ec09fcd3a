// Benchmarks for @ingot/election (imports the built ../dist/index.js: run `npx tsup` first, or `npm run bench`).
//
//   node bench/run.mjs            full run (about 4 minutes)
//   node bench/run.mjs --quick    shorter run (about 1 minute), fewer kills and shorter loss runs
//   --sizes=3,10                 only these cluster sizes for the real-UDP detection runs
//   --mixed-only                 only section G (the mixed cluster with real memberlist agents)
//   --wire=ingot                 sections A-D2 on Ingot's own wire instead of the default (memberlist's)
//   --detection-only             only sections A-C (for an A/B of the two wires: run it with and without --wire=ingot)
//
// What it measures, and where:
//   A. detection time (kill → every other member reports dead), p50/p99 over repeated kills, 3/10/50 members,
//      REAL UDP+TCP on 127.0.0.1, all members in THIS ONE Node process (one event loop), AES-256-GCM on, shipped defaults
//      (the default wire, memberlist's; Ingot's own wire is in the simulator in F).
//      A "kill" closes the member's sockets without a leave (what SIGKILL does); the member is then restarted with the
//      same name and port and rejoins (exercising the rejoin path) before the next kill.
//   B. graceful-leave propagation (leave() → every other member reports leave), same setup, 10 members.
//   C. bytes/s per member in a quiet cluster (sent, including IP-less payload only: UDP payload + TCP frames).
//   D. false dead declarations on 5 members with 10 % and 20 % datagram loss:
//      D1 in the deterministic SIMULATOR for 10 minutes of VIRTUAL time per seed;
//      D2 in REAL time on loopback for a shorter run, loss injected by dropping received datagrams in the transport.
//   E. reference in the same run: the same protocol in the simulator with memberlist's DefaultLANConfig timings (what
//      MetalLB ships), plus memberlist's arithmetic for its LAN defaults (peers.md §4.3/4.4), and the ratio to ours.
//   F. memberlist's wire in the simulator: all members Ingot (shipped timings) on memberlist's wire against the same
//      cluster on Ingot's wire, and a mixed cluster on memberlist's wire (half the members on memberlist's LAN timings,
//      standing in for MetalLB speakers) with the victim on either side, against E's memberlist-timed reference.
//   G. a mixed cluster for real (bench/mixed.mjs): 3 Ingot members in this process and 2 hashicorp/memberlist v0.5.1
//      agents (child processes, MetalLB's configuration and key derivation) on 127.0.0.1; SIGKILL an agent, then close an
//      Ingot member, repeatedly: time until every Ingot member and every agent reports the victim dead; against the
//      same kill in a cluster of 3 agents only (memberlist's own timing, the bound for a mixed cluster).
import { loadavg } from 'node:os';
import {
  DEFAULT_CONFIG,
  DEFAULT_WIRE,
  Keyring,
  MEMBERLIST_LAN_CONFIG,
  Membership,
  Simulation,
  suspicionBounds,
  UdpTransport,
} from '../dist/index.js';
import { agentBinary, agentsOnlyDetection, mixedDetection } from './mixed.mjs';

const QUICK = process.argv.includes('--quick');
const MIXED_ONLY = process.argv.includes('--mixed-only');
const DETECTION_ONLY = process.argv.includes('--detection-only');
const LATER = !DETECTION_ONLY; // sections D-G
const WIRE = process.argv.find((a) => a.startsWith('--wire='))?.slice(7);
if (WIRE !== undefined && WIRE !== 'ingot' && WIRE !== 'memberlist') throw new Error('--wire=ingot|memberlist');
const HARD_DEADLINE = Date.now() + (QUICK ? 150_000 : 420_000);
const KEY = new Uint8Array(32).fill(0x5a);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.now();

function pct(samples, p) {
  if (samples.length === 0) return Number.NaN;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
const fmt = (ms) => (Number.isFinite(ms) ? `${Math.round(ms)} ms` : 'n/a');

async function waitFor(pred, timeoutMs) {
  const end = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > end) return false;
    await sleep(5);
  }
  return true;
}

/** Drops a fraction of received datagrams (ingress loss, like the lab's nftables rule). */
function lossy(transport, loss) {
  return {
    get address() {
      return transport.address;
    },
    send: (to, data) => transport.send(to, data),
    exchange: (...a) => transport.exchange(...a),
    close: () => transport.close(),
    listen(handlers) {
      transport.listen({
        packet: (data, from) => {
          if (Math.random() >= loss.value) handlers.packet(data, from);
        },
        exchange: handlers.exchange,
      });
    },
  };
}

async function startMember(name, port = 0, loss) {
  let transport;
  try {
    transport = await UdpTransport.bind({ host: '127.0.0.1', port });
  } catch {
    transport = await UdpTransport.bind({ host: '127.0.0.1', port: 0 });
  }
  const m = new Membership({
    name,
    transport: loss ? lossy(transport, loss) : transport,
    keyring: new Keyring([KEY]),
    ...(WIRE ? { wire: WIRE } : {}),
  });
  m.start();
  return m;
}

async function startCluster(n, loss) {
  const members = [];
  for (let i = 0; i < n; i++) members.push(await startMember(`m${i}`, 0, loss));
  const seed = members[0].local.address;
  // join in batches of 10, retrying: 49 simultaneous encrypted TCP exchanges on a loaded 2-core machine can
  // exceed the TCP timeout
  const joinWithRetry = async (m) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await m.join([seed]);
      } catch (e) {
        if (attempt >= 5) throw e;
        await sleep(200 * attempt);
      }
    }
  };
  for (let i = 1; i < members.length; i += 10) await Promise.all(members.slice(i, i + 10).map(joinWithRetry));
  if (!(await waitFor(() => members.every((m) => m.usableMembers().length === n), 20_000))) {
    throw new Error(`cluster of ${n} did not converge`);
  }
  return members;
}

const totalBytes = (members) => members.reduce((a, m) => a + m.stats.bytesSent, 0);

/** A + C: repeated kills on a real loopback cluster. */
async function detection(n, kills) {
  const members = await startCluster(n);
  await sleep(1500);
  const b0 = totalBytes(members);
  const q0 = now();
  await sleep(5000);
  const bytesPerSec = (totalBytes(members) - b0) / ((now() - q0) / 1000) / n;
  const samples = [];
  const lags = [];
  let falseDead = 0;
  for (let k = 0; k < kills && Date.now() < HARD_DEADLINE; k++) {
    const vi = 1 + (k % (n - 1));
    const victim = members[vi];
    const others = members.filter((m) => m !== victim);
    const seen = new Set();
    let t1 = 0;
    const listeners = others.map((o) => {
      const f = (m) => {
        if (m.name === victim.name) {
          seen.add(o.name);
          t1 = now();
        } else falseDead++;
      };
      o.on('dead', f);
      return [o, f];
    });
    const t0 = now();
    const lagStart = now();
    setImmediate(() => lags.push(now() - lagStart));
    await victim.close();
    const ok = await waitFor(() => seen.size === others.length, 15_000);
    for (const [o, f] of listeners) o.off('dead', f);
    if (ok) samples.push(t1 - t0);
    const port = victim.local.address.port;
    const fresh = await startMember(victim.name, port);
    members[vi] = fresh;
    await fresh.join([members[0].local.address]).catch(() => fresh.join([members[0].local.address]));
    await waitFor(() => members.every((m) => m.members().filter((x) => x.status === 'alive').length === n), 15_000);
    await sleep(300 + Math.random() * 300);
  }
  // B (on the 10-member cluster): graceful leave
  const leaves = [];
  if (n === 10) {
    for (let k = 0; k < (QUICK ? 5 : 10) && Date.now() < HARD_DEADLINE; k++) {
      const vi = 1 + (k % (n - 1));
      const leaver = members[vi];
      const others = members.filter((m) => m !== leaver);
      const seen = new Set();
      let t1 = 0;
      const listeners = others.map((o) => {
        const f = (m) => {
          if (m.name === leaver.name) {
            seen.add(o.name);
            t1 = now();
          }
        };
        o.on('leave', f);
        return [o, f];
      });
      const t0 = now();
      const left = leaver.leave();
      await waitFor(() => seen.size === others.length, 5000);
      for (const [o, f] of listeners) o.off('leave', f);
      if (seen.size === others.length) leaves.push(t1 - t0);
      await left;
      await leaver.close();
      const fresh = await startMember(leaver.name, leaver.local.address.port);
      members[vi] = fresh;
      await fresh.join([members[0].local.address]);
      await waitFor(() => members.every((m) => m.members().filter((x) => x.status === 'alive').length === n), 15_000);
      await sleep(200);
    }
  }
  await Promise.all(members.map((m) => m.close()));
  return { n, samples, bytesPerSec, leaves, falseDead, maxLoopLag: Math.max(0, ...lags) };
}

/** D1: simulator, 5 members, `minutes` of virtual time at `loss`. */
function simFalsePositives(loss, seed, minutes = 10) {
  const sim = new Simulation({ seed });
  for (let i = 0; i < 5; i++) sim.addNode(`n${i}`, WIRE ? { wire: WIRE } : {});
  sim.joinAll();
  sim.run(2000);
  let dead = 0;
  let suspect = 0;
  for (const n of sim.nodes()) {
    n.membership.on('dead', () => dead++);
    n.membership.on('suspect', () => suspect++);
  }
  sim.loss = loss;
  const t = now();
  sim.run(minutes * 60_000);
  return { loss, seed, dead, suspect, wallMs: now() - t };
}

/** D2: real loopback, 5 members, `seconds` at `loss`. */
async function realFalsePositives(lossValue, seconds) {
  const loss = { value: 0 };
  const members = await startCluster(5, loss);
  let dead = 0;
  let suspect = 0;
  for (const m of members) {
    m.on('dead', () => dead++);
    m.on('suspect', () => suspect++);
  }
  loss.value = lossValue;
  await sleep(seconds * 1000);
  loss.value = 0;
  await Promise.all(members.map((m) => m.close()));
  return { loss: lossValue, seconds, dead, suspect };
}

/** E: the same protocol in the simulator with the given timings: kill → dead everywhere (virtual ms). */
function simDetection(n, config, seeds) {
  const out = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const sim = new Simulation({ seed });
    for (let i = 0; i < n; i++) sim.addNode(`n${i}`, config);
    sim.joinAll(120_000);
    sim.run(3000 + ((seed * 137) % 1000));
    const victim = sim.node(`n${seed % n}`);
    victim.kill();
    const others = sim.nodes().filter((x) => x !== victim);
    const t = sim.runUntil(
      () => others.every((o) => o.membership.members().find((m) => m.name === victim.name)?.status === 'dead'),
      120_000,
      5,
    );
    if (t >= 0) out.push(t);
  }
  return out;
}

/** Like simDetection with per-member options: `optionsOf(i)` for member i; the victim is member `victimOf(seed)`. */
function simDetectionWith(n, optionsOf, victimOf, seeds) {
  const out = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const sim = new Simulation({ seed });
    for (let i = 0; i < n; i++) sim.addNode(`n${i}`, optionsOf(i));
    sim.joinAll(120_000);
    sim.run(3000 + ((seed * 137) % 1000));
    const victim = sim.node(`n${victimOf(seed)}`);
    victim.kill();
    const others = sim.nodes().filter((x) => x !== victim);
    const t = sim.runUntil(
      () => others.every((o) => o.membership.members().find((m) => m.name === victim.name)?.status === 'dead'),
      120_000,
      5,
    );
    if (t >= 0) out.push(t);
  }
  return out;
}

/** memberlist LAN arithmetic (peers.md §4.3): wait to be probed + one probe interval + suspicion + dead gossip. */
function memberlistArithmetic(n) {
  const c = MEMBERLIST_LAN_CONFIG;
  const T = c.probeIntervalMs;
  const wait = T / (1 - (1 - 1 / (n - 1)) ** (n - 1));
  const { minMs, maxMs } = suspicionBounds(c, n);
  // memberlist: k = SuspicionMult - 2 confirmations, but k = 0 (timer = min) when n - 2 < k
  const ml = { minMs, maxMs: n - 2 < c.suspicionMult - 2 ? minMs : maxMs };
  const gossip = Math.ceil(Math.log(n) / Math.log(c.gossipNodes)) * c.gossipIntervalMs;
  return { fast: wait + T + ml.minMs + gossip, slow: wait + T + ml.maxMs + gossip };
}

const results = {
  package: '@ingot/election',
  quick: QUICK,
  detection: [],
  simFalsePositives: [],
  realFalsePositives: [],
};
const started = Date.now();
console.log(
  `@ingot/election benchmark (${QUICK ? 'quick' : 'full'}), node ${process.version}, ${new Date().toISOString()}, ` +
    `wire ${WIRE ?? `${DEFAULT_WIRE} (the default)`}, load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
);
console.log('Machine: 2 shared cores, other engineers running builds/tests: timings are noisy.\n');

const plan = QUICK
  ? [
      [3, 6],
      [10, 6],
      [50, 3],
    ]
  : [
      [3, 20],
      [10, 20],
      [50, 10],
    ];
const sizesArg = process.argv.find((a) => a.startsWith('--sizes='));
const sizes = sizesArg ? sizesArg.slice(8).split(',').map(Number) : undefined;
for (const [n, kills] of plan.filter(([n]) => !MIXED_ONLY && (!sizes || sizes.includes(n)))) {
  const r = await detection(n, kills);
  results.detection.push(r);
  console.log(
    `A/C real UDP, ${n} members in one process: ${r.samples.length} kills, detection p50 ${fmt(pct(r.samples, 50))} ` +
      `p99 ${fmt(pct(r.samples, 99))} max ${fmt(Math.max(...r.samples))}; quiet traffic ${Math.round(r.bytesPerSec)} B/s per member; ` +
      `other members falsely declared dead during the run: ${r.falseDead}`,
  );
  if (r.leaves.length) {
    console.log(
      `B   graceful leave, ${n} members: ${r.leaves.length} leaves, p50 ${pct(r.leaves, 50).toFixed(2)} ms ` +
        `p99 ${pct(r.leaves, 99).toFixed(2)} ms`,
    );
  }
}

for (const loss of MIXED_ONLY || !LATER ? [] : [0.1, 0.2]) {
  for (const seed of QUICK ? [1] : [1, 2, 3]) {
    const r = simFalsePositives(loss, seed, 10);
    results.simFalsePositives.push(r);
    console.log(
      `D1 simulator, 5 members, ${loss * 100}% loss, 10 min virtual (seed ${seed}): dead declarations ${r.dead}, ` +
        `suspicions ${r.suspect} (wall ${Math.round(r.wallMs)} ms)`,
    );
  }
}
for (const loss of MIXED_ONLY || !LATER ? [] : [0.1, 0.2]) {
  const secs = QUICK ? 15 : 45;
  const r = await realFalsePositives(loss, secs);
  results.realFalsePositives.push(r);
  console.log(
    `D2 real time, loopback, 5 members, ${loss * 100}% ingress loss for ${secs} s: dead declarations ${r.dead}, suspicions ${r.suspect}`,
  );
}

console.log(
  '\nE   reference in the same run: simulator, same protocol, shipped defaults vs memberlist DefaultLANConfig timings',
);
console.log(
  '    n | ours sim p50/max | memberlist-timed sim p50/max | ratio p50 | memberlist arithmetic (fast conf … none)',
);
results.reference = [];
for (const n of MIXED_ONLY || !LATER ? [] : [3, 10, 50]) {
  const seeds = QUICK ? 3 : n === 50 ? 5 : 10;
  const ours = simDetection(n, {}, seeds);
  const ml = simDetection(n, { ...MEMBERLIST_LAN_CONFIG }, seeds);
  const a = memberlistArithmetic(n);
  const real = results.detection.find((d) => d.n === n);
  results.reference.push({ n, ours, memberlistTimed: ml, arithmetic: a, realP50: pct(real?.samples ?? [], 50) });
  console.log(
    `  ${String(n).padStart(3)} | ${fmt(pct(ours, 50))} / ${fmt(Math.max(...ours))} | ${fmt(pct(ml, 50))} / ${fmt(Math.max(...ml))} | ` +
      `${(pct(ml, 50) / pct(ours, 50)).toFixed(1)}x | ${(a.fast / 1000).toFixed(1)} s … ${(a.slow / 1000).toFixed(1)} s ` +
      `(real-UDP p50 ratio ${(a.fast / pct(real?.samples ?? [], 50)).toFixed(1)}x)`,
  );
}

console.log(
  "\nF   memberlist's wire, simulator: all-Ingot (Ingot wire | memberlist wire) and mixed (half on memberlist LAN timings)",
);
console.log(
  '    n | ingot wire p50/max | memberlist wire p50/max | mixed, Ingot victim | mixed, memberlist-timed victim | E memberlist-timed p50',
);
results.memberlistWire = [];
for (const n of MIXED_ONLY || !LATER ? [] : [10, 50]) {
  const seeds = QUICK ? 3 : n === 50 ? 5 : 10;
  const w0 = now();
  const ingotWire = simDetection(n, { wire: 'ingot' }, seeds);
  const w1 = now();
  const mlWire = simDetection(n, { wire: 'memberlist' }, seeds);
  const w2 = now();
  const mixed = (i) => (i % 2 === 0 ? { wire: 'memberlist' } : { wire: 'memberlist', ...MEMBERLIST_LAN_CONFIG });
  const mixedIngotVictim = simDetectionWith(n, mixed, (seed) => (2 * seed) % n, seeds);
  const mixedMlVictim = simDetectionWith(n, mixed, (seed) => (2 * seed + 1) % n, seeds);
  const ref =
    results.reference.find((r) => r.n === n)?.memberlistTimed ?? simDetection(n, { ...MEMBERLIST_LAN_CONFIG }, seeds);
  const cpu = { ingotWireMs: Math.round(w1 - w0), memberlistWireMs: Math.round(w2 - w1) };
  results.memberlistWire.push({ n, ingotWire, mlWire, mixedIngotVictim, mixedMlVictim, cpu });
  const pm = (xs) => `${fmt(pct(xs, 50))} / ${fmt(Math.max(...xs))}`;
  console.log(
    `  ${String(n).padStart(3)} | ${pm(ingotWire)} | ${pm(mlWire)} (${(pct(mlWire, 50) / pct(ingotWire, 50)).toFixed(2)}x) | ` +
      `${pm(mixedIngotVictim)} | ${pm(mixedMlVictim)} | ${fmt(pct(ref, 50))}`,
  );
  console.log(
    `        wall time of the same simulated runs (codec + protocol CPU): Ingot's wire ${cpu.ingotWireMs} ms, ` +
      `memberlist's ${cpu.memberlistWireMs} ms (${(cpu.memberlistWireMs / cpu.ingotWireMs).toFixed(2)}x)`,
  );
}

console.log(
  '\nG   mixed cluster for real: 3 Ingot members (this process) + 2 hashicorp/memberlist agents, 127.0.0.1, encrypted',
);
const bin = LATER ? agentBinary() : { reason: '--detection-only' };
if (!bin.path) {
  console.log(`    skipped: ${bin.reason}`);
  results.mixed = { skipped: bin.reason };
} else {
  const kills = QUICK ? 3 : 8;
  const gDeadline = Date.now() + (QUICK ? 120_000 : 240_000);
  const mixed = await mixedDetection(bin.path, { ingotCount: 3, agentCount: 2, kills, deadline: gDeadline });
  const reference = await agentsOnlyDetection(bin.path, {
    count: 3,
    kills: QUICK ? 2 : 5,
    deadline: gDeadline + 60_000,
  });
  results.mixed = { ...mixed, agentsOnly: reference };
  const pm = (xs) => `${fmt(pct(xs, 50))} / ${fmt(Math.max(...xs))} (${xs.length})`;
  console.log('    victim → reported dead by | every Ingot member p50/max (kills) | every agent p50/max (kills)');
  console.log(`    SIGKILLed agent          | ${pm(mixed.agentVictim.byIngot)} | ${pm(mixed.agentVictim.byAgents)}`);
  console.log(`    closed Ingot member      | ${pm(mixed.ingotVictim.byIngot)} | ${pm(mixed.ingotVictim.byAgents)}`);
  console.log(`    reference, 3 agents only | - | ${pm(reference)}`);
  const worstMixed = Math.max(...mixed.agentVictim.byAgents, ...mixed.ingotVictim.byAgents);
  console.log(
    `    slowest mixed detection ${fmt(worstMixed)} vs agents-only p50 ${fmt(pct(reference, 50))} ` +
      `(ratio ${(worstMixed / pct(reference, 50)).toFixed(2)}); other members falsely declared dead: ${mixed.falseDead}`,
  );
}

const d = DEFAULT_CONFIG;
console.log(
  `\nShipped defaults: probe ${d.probeIntervalMs} ms / timeout ${d.probeTimeoutMs} ms, k=${d.indirectChecks}, ` +
    `suspicion ${d.suspicionMult}×max(1,log10 n)×interval (min ${suspicionBounds(d, 10).minMs} ms at n≤10, ` +
    `${Math.round(suspicionBounds(d, 50).minMs)} ms at 50), max ×${d.suspicionMaxMult}, gossip ${d.gossipIntervalMs} ms to ${d.gossipNodes}, ` +
    `confirmers ${d.suspicionConfirmers}, push-pull ${d.pushPullIntervalMs / 1000} s`,
);
console.log(
  `Total wall time ${Math.round((Date.now() - started) / 1000)} s, load average at the end ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}`,
);
results.wallSeconds = Math.round((Date.now() - started) / 1000);
console.log(
  JSON.stringify(results, (k, v) =>
    [
      'samples',
      'ours',
      'memberlistTimed',
      'ingotWire',
      'mlWire',
      'mixedIngotVictim',
      'mixedMlVictim',
      'byIngot',
      'byAgents',
      'agentsOnly',
    ].includes(k)
      ? v.map(Math.round)
      : v,
  ),
);
process.exit(0);
