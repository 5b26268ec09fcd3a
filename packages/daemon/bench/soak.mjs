// Soak of the `fast` failover profile (issue 17): N daemons (`--nodes`, 3 by default) with `failover: fast` and several
// layer-2 services on one segment (bench/l2-lab.mjs), 10 % random loss on every host's ingress, nodes and client
// (nftables netdev drop; this kernel has no netem), and a busy daemon: each daemon process preloads
// bench/busy-load.mjs (a CPU-bound task on its event loop, garbage pressure, a 200 ms block every 5 s). Nothing is
// killed, so every heartbeat takeover is a false failover; the target is zero. Also counted: SWIM's own false deaths
// (`member dead` records), heartbeat probe rounds the owner answered (near misses: k intervals silent, then answered),
// late watcher ticks, sequence gaps (lost heartbeats), the widest silence limit at the end, and the heartbeat
// bandwidth per member. --hogs N adds an overloaded machine: N processes outside the lab that burn CPU and make
// garbage for the whole soak (each ends itself a minute after the soak's end at the latest, and is killed by PID).
//
// Usage: node bench/soak.mjs [--nodes 3] [--duration-s 600] [--loss 10] [--services 6] [--busy-ms 40]
//                            [--garbage-mb-s 50] [--stall-ms 200] [--hogs 0] [--json]
// Needs root, iproute2, nftables and the built daemon (npx tsup).
import { execFileSync, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkPrerequisites, createL2Lab, inNs, logsSince, sh, sleep, sumMetric, waitFor } from './l2-lab.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const DURATION_S = Number(opt('duration-s', '600'));
const LOSS = Number(opt('loss', '10'));
const SERVICES = Number(opt('services', '6'));
const AS_JSON = args.includes('--json');
const HOGS = Number(opt('hogs', '0'));
process.env.INGOT_SOAK_BUSY_MS = opt('busy-ms', '40');
process.env.INGOT_SOAK_GARBAGE_MB_S = opt('garbage-mb-s', '50');
process.env.INGOT_SOAK_STALL_MS = opt('stall-ms', '200');

checkPrerequisites('soak');
const BUSY = fileURLToPath(new URL('./busy-load.mjs', import.meta.url));
/** --nodes: the lab's node count (2 to 32). */
const lab = createL2Lab('igsk', { nodes: opt('nodes', '3'), nodeArgv: ['--import', BUSY] });
const { NODES, HOSTS, CLIENT, configFile, daemons, startDaemon, status } = lab;

const table = 'ingot_soak_loss';
const lossRuleset = (percent) =>
  `table netdev ${table} {\n  chain in {\n    type filter hook ingress device "eth0" priority 0; policy accept;\n` +
  `    numgen random mod 100 < ${Math.round(percent)} counter drop\n  }\n}\n`;

function setLoss(percent) {
  for (const ns of [...HOSTS, CLIENT]) {
    try {
      inNs(ns, 'nft', 'delete', 'table', 'netdev', table);
    } catch {
      // none yet
    }
    if (percent > 0)
      execFileSync('ip', ['netns', 'exec', ns, 'nft', '-f', '-'], { input: lossRuleset(percent), timeout: 10_000 });
  }
}

/** The counters of one node that the soak compares before and after (from one /metrics read). */
async function snapshot(name) {
  const text = await lab.metricsText(name);
  if (text === undefined) throw new Error(`${name}: /metrics unreadable`);
  const m = (metric, labels) => sumMetric(text, metric, labels);
  return {
    confirmed: m('ingot_layer2_fast_takeovers_total', 'outcome="confirmed"'),
    refuted: m('ingot_layer2_fast_takeovers_total', 'outcome="refuted"'),
    pending: m('ingot_layer2_fast_takeovers_pending'),
    bytesSent: m('ingot_heartbeat_bytes_sent_total'),
    framesSent: m('ingot_heartbeat_frames_sent_total'),
    bytesReceived: m('ingot_heartbeat_bytes_received_total'),
    answered: m('ingot_heartbeat_probe_rounds_total', 'result="answered"'),
    unanswered: m('ingot_heartbeat_probe_rounds_total', 'result="unanswered"'),
    lateTicks: m('ingot_heartbeat_late_ticks_total'),
    silenceLimitS: m('ingot_heartbeat_silence_limit_seconds'),
    seqGaps: m('ingot_heartbeat_sequence_gaps_total'),
  };
}

/** --hogs: processes in the root namespace that burn CPU and make garbage (no network), bounded in time. */
const hogs = [];
const HOG = `const end = Date.now() + ${(DURATION_S + 60) * 1000}; let keep = []; let x = 0;
while (Date.now() < end) { for (let i = 0; i < 2e5; i++) x += Math.sqrt(i); keep.push(new Array(2e4).fill(x)); if (keep.length > 50) keep = []; }`;
function startHogs() {
  for (let i = 0; i < HOGS; i++) hogs.push(spawn(process.execPath, ['-e', HOG], { stdio: 'ignore' }));
}
function stopHogs() {
  for (const h of hogs.splice(0)) if (h.exitCode === null) h.kill('SIGKILL');
}

async function converged() {
  return waitFor(
    'a converged cluster',
    async () => {
      for (const name of NODES) {
        const s = await status(name);
        if (!s?.config?.loaded) return undefined;
        if ((s.members ?? []).filter((m) => m.state === 'alive').length !== NODES.length) return undefined;
        const owned = (s.services ?? []).filter((x) => x.ips?.[0] && x.owners?.[x.ips[0]]);
        if (owned.length !== SERVICES) return undefined;
      }
      return true;
    },
    60_000,
    200,
  );
}

async function main() {
  lab.buildLan();
  await lab.startHttpServers();
  writeFileSync(configFile, lab.fleetFile('fast', SERVICES));
  for (const name of NODES) startDaemon(name);
  await converged();
  await sleep(2000); // pairs set up, bursts over
  const plan = await status(NODES[0]);
  const owners = Object.fromEntries((plan?.services ?? []).map((x) => [x.service, x.owners?.[x.ips?.[0]]]));
  const before = Object.fromEntries(await Promise.all(NODES.map(async (n) => [n, await snapshot(n)])));
  setLoss(LOSS);
  startHogs();
  const t0 = Date.now();
  const end = t0 + DURATION_S * 1000;
  if (!AS_JSON)
    console.error(
      `soak: ${NODES.length} nodes, ${DURATION_S} s, ${LOSS} % loss on every host, ${SERVICES} services (owners ${JSON.stringify(owners)}), busy daemons (${process.env.INGOT_SOAK_BUSY_MS} ms/100 ms, ${process.env.INGOT_SOAK_GARBAGE_MB_S} MB/s garbage, ${process.env.INGOT_SOAK_STALL_MS} ms block every 5 s)${HOGS > 0 ? `, ${HOGS} CPU/garbage hogs on the machine` : ''}`,
    );
  while (Date.now() < end) {
    await sleep(Math.min(30_000, end - Date.now()));
    for (const [name, d] of daemons)
      if (d.exitCode !== null || d.signalCode !== null) throw new Error(`${name} exited: ${d.out.slice(-2000)}`);
    if (!AS_JSON) {
      const takeovers = NODES.map(
        (n) =>
          logsSince(daemons.get(n), t0).filter((r) => String(r.msg).startsWith('fast takeover: owner silent')).length,
      );
      console.error(
        `  +${Math.round((Date.now() - t0) / 1000)} s: heartbeat takeovers so far ${takeovers.reduce((a, b) => a + b, 0)}`,
      );
    }
  }
  const seconds = (Date.now() - t0) / 1000;
  setLoss(0);
  stopHogs();
  const after = Object.fromEntries(await Promise.all(NODES.map(async (n) => [n, await snapshot(n)])));
  const perNode = NODES.map((n) => {
    const d = Object.fromEntries(
      Object.keys(after[n]).map((k) => [
        k,
        after[n][k] - (k === 'pending' || k === 'silenceLimitS' ? 0 : before[n][k]),
      ]),
    );
    const logs = logsSince(daemons.get(n), t0);
    return {
      node: n,
      heartbeatTakeovers: logs.filter((r) => String(r.msg).startsWith('fast takeover: owner silent')).length,
      refuted: d.refuted,
      confirmed: d.confirmed,
      pending: after[n].pending,
      swimDeaths: logs.filter((r) => r.msg === 'member dead').length,
      probeRoundsAnswered: d.answered,
      lateTicks: d.lateTicks,
      silenceLimitMsAtEnd: Math.round(d.silenceLimitS * 1000),
      seqGaps: d.seqGaps,
      heartbeatBytesSentPerS: Math.round(d.bytesSent / seconds),
      heartbeatDatagramsSentPerS: Math.round(d.framesSent / seconds),
      heartbeatBytesReceivedPerS: Math.round(d.bytesReceived / seconds),
    };
  });
  const falseFailovers = perNode.reduce((n, x) => n + x.heartbeatTakeovers, 0);
  // Each false takeover with what the successor logged: the owner, when, the silence it measured, and how it ended.
  const takeovers = NODES.flatMap((n) =>
    logsSince(daemons.get(n), t0)
      .filter((r) => String(r.msg).startsWith('fast takeover'))
      .map((r) => ({
        node: n,
        atS: Math.round((r.t - t0) / 100) / 10,
        owner: r.owner,
        event: String(r.msg).startsWith('fast takeover refuted')
          ? `refuted: ${r.why}`
          : String(r.msg).startsWith('fast takeover confirmed')
            ? 'confirmed'
            : `taken after ${r.silentMs} ms silent`,
      })),
  );
  const summary = {
    package: '@ingot/daemon',
    benchmark: 'soak of failover: fast (false failovers under loss and a busy daemon)',
    nodes: NODES.length,
    durationS: Math.round(seconds),
    lossPercent: LOSS,
    hogs: HOGS,
    services: SERVICES,
    busy: {
      busyMsPer100: Number(process.env.INGOT_SOAK_BUSY_MS),
      garbageMBs: Number(process.env.INGOT_SOAK_GARBAGE_MB_S),
      stallMsEvery5s: Number(process.env.INGOT_SOAK_STALL_MS),
    },
    cpus: Number(sh('nproc').trim()),
    loadavg: sh('cat', '/proc/loadavg').trim(),
    falseFailovers,
    target: 0,
    perNode,
    takeovers,
  };
  if (!AS_JSON) {
    console.log(
      `\nsoak ${NODES.length} nodes, ${summary.durationS} s at ${LOSS} % loss, busy daemons${HOGS > 0 ? `, ${HOGS} hogs` : ''}: false failovers (heartbeat takeovers) ${falseFailovers} (target 0); load ${summary.loadavg}`,
    );
    console.log(
      '| node | heartbeat takeovers | refuted | SWIM deaths | probe rounds answered | late ticks | silence limit at end ms | lost heartbeats (seq gaps) | heartbeat B/s sent | datagrams/s sent | B/s received |',
    );
    console.log('|---|---|---|---|---|---|---|---|---|---|---|');
    for (const x of perNode)
      console.log(
        `| ${x.node} | ${x.heartbeatTakeovers} | ${x.refuted} | ${x.swimDeaths} | ${x.probeRoundsAnswered} | ${x.lateTicks} | ${x.silenceLimitMsAtEnd} | ${x.seqGaps} | ${x.heartbeatBytesSentPerS} | ${x.heartbeatDatagramsSentPerS} | ${x.heartbeatBytesReceivedPerS} |`,
      );
  }
  console.log(JSON.stringify(summary));
  for (const d of daemons.values()) d.kill('SIGTERM');
  await Promise.all([...daemons.values()].map((d) => Promise.race([d.exited, sleep(5000)])));
}

main()
  .then(() => process.exit(0))
  .catch((e) => {
    stopHogs();
    console.error(e instanceof Error ? e.stack : e);
    for (const [name, d] of daemons) console.error(`--- ${name} ---\n${d.out.slice(-3000)}`);
    process.exit(1);
  });
