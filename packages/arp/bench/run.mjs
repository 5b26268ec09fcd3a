// @ingot/arp benchmark: fixed-rate ARP request floods (5k, 20k, 50k req/s, 5 s each by default) from a neighbour
// namespace against (1) our responder answering for a service IP that only it answers for and (2) the Linux kernel
// answering for its own address on the same interface and (3) the floor of any user-space responder here
// (bench/floor-responder.mjs), in the same run. Reports reply ratio, p50/p99/max latency,
// responder CPU and the latency ratios ours/kernel. Needs root and iproute2 (python3 for --flooder python); build first
// (npx tsup).
// Usage: node bench/run.mjs [--rates 5000,20000,50000] [--duration 5] [--modes floor,thread,uv-stream,poll-worker]
//                           [--responder-nice N | --responder-rt | --self-rt] [--pin] [--node-flags '--trace-gc ...']
//                           [--flooder node|python] [--max-lag-ms 2] [--flood-batch 4] [--catch-up 2] [--spin-us 100]
//                           [--json]
// --flooder: node (default) is bench/arp-flood.mjs, paced: it skips requests more than --max-lag-ms overdue and catches
// up at most at --catch-up × rate, --flood-batch back to back; python is the older bench/arp-flood.py, whose absolute
// schedule catches up in unbounded bursts (150-210k/s at 50k/s on a busy machine).
// --self-rt: the responder calls raiseRealtimePriority({ priority: 10 }) for the thread that answers (with --pin also
// { cpu: 1 }): the answer thread in mode thread, the main thread otherwise, which is what a user of the package gets; --responder-rt applies the same from outside (chrt/taskset).
// --pin: flooder on CPU 0, the responder's main thread on CPU 1 (taskset), for the kernel yardstick and ours alike, so
// the two do not fight for one core; without it the scheduler places them. --responder-rt: SCHED_FIFO 10 for the
// responder's main thread only (as a daemon would set it for itself with sched_setscheduler). --node-flags: extra Node flags for the responder (its
// non-JSON output, e.g. --trace-gc lines, is counted and written to stderr with a timestamp).
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const sh0 = (cmd, ...a) => execFileSync(cmd, a, { encoding: 'utf8' }).trim();
const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const rates = opt('rates', '5000,20000,50000').split(',').map(Number);
const duration = Number(opt('duration', '5'));
// `floor` is the reference for what any user-space responder pays on this machine (bench/floor-responder.mjs: one
// thread blocked in recv, no event loop, no work); the others are our transport's receive modes.
// --ndp: the same with Neighbor Solicitations for IPv6 addresses (the floor responder speaks ARP only).
const ndp = args.includes('--ndp');
const modes = opt('modes', ndp ? 'thread,uv-stream,poll-worker' : 'floor,thread,uv-stream,poll-worker').split(',');
if (ndp && opt('flooder', 'node') !== 'node') {
  console.error('--ndp needs the node flooder');
  process.exit(2);
}
if (ndp && modes.includes('floor')) {
  console.error('--ndp: the floor responder answers ARP only');
  process.exit(2);
}
const FLOOR = 'floor';
const label = (mode) => (mode === FLOOR ? 'floor (blocking recv)' : `ingot ${mode}`);
const asJson = args.includes('--json');
// Scheduling priority of the responder process (nice value, e.g. -10); keepalived runs its VRRP process with real-time
// priority for the same reason: answering ARP must not wait behind unrelated work on a busy node.
const responderNice = Number(opt('responder-nice', '0'));
// --responder-rt: run the responder's main thread under SCHED_FIFO priority 10 (chrt), as keepalived does for VRRP.
// (A SCHED_FIFO flooder was tried and made things worse: spinning between sends at real-time priority starves the
// CPU's ksoftirqd, so requests wait in the backlog queue. The flooder therefore always runs at normal priority.)
const responderRt = args.includes('--responder-rt');
const selfRt = args.includes('--self-rt');
if (selfRt && responderRt) {
  console.error('--self-rt and --responder-rt are alternatives');
  process.exit(2);
}
const RT_PRIORITY = 10;
const flooder = opt('flooder', 'node');
if (flooder !== 'node' && flooder !== 'python') {
  console.error('--flooder node|python');
  process.exit(2);
}
const pacing = ['max-lag-ms', 'catch-up', 'spin-us'].flatMap((n) => (opt(n) === undefined ? [] : [`--${n}`, opt(n)]));
if (opt('flood-batch') !== undefined) pacing.push('--batch', opt('flood-batch'));
const pin = args.includes('--pin');
const cpus = Number(sh0('nproc'));
const FLOODER_CPU = '0';
const RESPONDER_CPU = opt('responder-cpu', String(Math.min(1, cpus - 1)));
const nodeFlags = opt('node-flags', '').split(' ').filter(Boolean);
const PY = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const VIP = ndp ? '2001:db8::100' : '192.0.2.100';
const KERNEL_IP = ndp ? '2001:db8::2' : '192.0.2.2';
// unused by anyone: the targets cache it with the flood's fake MACs
const SRC_IP = ndp ? '2001:db8::250' : '192.0.2.250';

if (!existsSync(here('../dist/index.js'))) {
  console.error('build first: cd packages/arp && npx tsup');
  process.exit(1);
}
if (process.getuid?.() !== 0) {
  console.log(JSON.stringify({ package: '@ingot/arp', skipped: 'needs root for network namespaces' }));
  process.exit(0);
}

const stem = `igb${process.pid.toString(36)}`;
const A = `${stem}-a`;
const B = `${stem}-b`;
const sh = (cmd, ...a) => execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
const inNs = (ns, cmd, ...a) => sh('ip', 'netns', 'exec', ns, cmd, ...a);
let children = [];

function cleanup() {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const ns of [A, B]) {
    try {
      sh('ip', 'netns', 'del', ns);
    } catch {}
  }
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}
process.stdout.on('error', () => {}); // e.g. EPIPE when piped into head: keep going, clean up at the end

function setup() {
  for (const ns of [A, B]) {
    sh('ip', 'netns', 'add', ns);
    inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
  }
  sh('ip', 'link', 'add', 'veth-a', 'netns', A, 'type', 'veth', 'peer', 'name', 'veth-b', 'netns', B);
  inNs(A, 'ip', 'addr', 'add', '192.0.2.1/24', 'dev', 'veth-a');
  inNs(B, 'ip', 'addr', 'add', '192.0.2.2/24', 'dev', 'veth-b');
  inNs(B, 'ip', 'addr', 'add', '192.0.2.100/32', 'dev', 'lo');
  inNs(A, 'ip', 'addr', 'add', '2001:db8::1/64', 'dev', 'veth-a', 'nodad');
  inNs(B, 'ip', 'addr', 'add', '2001:db8::2/64', 'dev', 'veth-b', 'nodad');
  inNs(B, 'ip', 'addr', 'add', '2001:db8::100/128', 'dev', 'lo'); // the kernel answers NS only for veth-b's own
  inNs(B, 'sysctl', '-qw', 'net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.veth-b.arp_ignore=1');
  inNs(A, 'ip', 'link', 'set', 'veth-a', 'up');
  inNs(B, 'ip', 'link', 'set', 'veth-b', 'up');
}

function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // utime + stime, in clock ticks
}
const HZ = Number(sh('getconf', 'CLK_TCK').trim()) || 100;

function flood(target, rate) {
  const common = ['veth-a', target, '--src-ip', SRC_IP, '--rate', String(rate), '--duration', String(duration)];
  if (ndp) common.push('--ndp');
  const out = inNs(
    A,
    ...(pin ? ['taskset', '-c', FLOODER_CPU] : []),
    ...(flooder === 'node'
      ? [process.execPath, here('./arp-flood.mjs'), ...common, ...pacing]
      : [PY, here('./arp-flood.py'), ...common]),
  );
  return JSON.parse(out.trim().split('\n').pop());
}

async function startResponder(mode) {
  const cmd = [
    'netns',
    'exec',
    B,
    'nice',
    '-n',
    String(responderNice),
    process.execPath,
    ...nodeFlags,
    ...(mode === FLOOR
      ? [here('./floor-responder.mjs'), 'veth-b', VIP]
      : [here('./responder.mjs'), 'veth-b', VIP, mode]),
    ...(selfRt ? ['--realtime-priority', String(RT_PRIORITY), ...(pin ? ['--realtime-cpu', RESPONDER_CPU] : [])] : []),
  ];
  const c = spawn('ip', cmd, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(c);
  let buf = '';
  const lines = [];
  c.stdout.on('data', (d) => {
    buf += d;
    let i = buf.indexOf('\n');
    while (i >= 0) {
      const line = buf.slice(0, i);
      if (line.startsWith('{')) lines.push(line);
      else {
        process.stderr.write(`[responder ${(performance.now() / 1000).toFixed(3)}] ${line}\n`);
      }
      buf = buf.slice(i + 1);
      i = buf.indexOf('\n');
    }
  });
  const next = async (ms) => {
    const end = Date.now() + ms;
    while (lines.length === 0) {
      if (Date.now() > end || c.exitCode !== null) throw new Error(`responder (${mode}) did not report`);
      await new Promise((r) => setTimeout(r, 20));
    }
    return JSON.parse(lines.shift());
  };
  const ready = await next(30_000);
  // Pin / raise only the main thread (the one that answers): pinning or SCHED_FIFO-ing the whole process puts V8's
  // helper threads on the same CPU at the same priority, and a main thread that spins on its own incremental-marking
  // task then starves them until RT throttling stops it (measured: 95% CPU, 40-50 ms stalls).
  // --self-rt: the responder did both itself (raiseRealtimePriority); a refusal must not be reported as an RT figure.
  if (selfRt && !ready.realtime?.ok) throw new Error(`responder could not raise itself: ${ready.realtime?.reason}`);
  if (pin && !selfRt) sh('taskset', '-p', '-c', RESPONDER_CPU, String(ready.pid));
  if (responderRt) sh('chrt', '-f', '-p', String(RT_PRIORITY), String(ready.pid));
  return {
    pid: ready.pid,
    snapshot: async () => {
      if (mode === FLOOR) return null; // blocked in recv: it keeps no counters
      process.kill(ready.pid, 'SIGUSR2');
      return next(5000);
    },
    stop: async () => {
      c.kill('SIGTERM');
      if (mode === FLOOR) {
        await new Promise((res) => (c.exitCode !== null || c.signalCode !== null ? res() : c.once('exit', res)));
        children = children.filter((x) => x !== c);
        return null;
      }
      const s = await next(5000);
      children = children.filter((x) => x !== c);
      return s;
    },
  };
}

function pressure() {
  try {
    return /avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1] ?? '?';
  } catch {
    return '?';
  }
}
const loadBefore = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const rows = [];
try {
  setup();
  const kernel = {};
  for (const [mi, mode] of modes.entries()) {
    const r = await startResponder(mode);
    await new Promise((res) => setTimeout(res, 300));
    for (const rate of rates) {
      if (mi === 0) {
        kernel[rate] = flood(KERNEL_IP, rate);
        rows.push({ responder: 'kernel', rate, ...kernel[rate], cpu_pct: null });
      }
      const s0 = await r.snapshot();
      const c0 = cpuTicks(r.pid);
      const t0 = Date.now();
      const res = flood(VIP, rate);
      const cpu = ((cpuTicks(r.pid) - c0) / HZ / ((Date.now() - t0) / 1000)) * 100;
      const s1 = await r.snapshot();
      // What the responder itself saw and answered: tells its losses apart from the flooder's own socket overflows.
      const answered = s1 && (s1.counters?.responsesSent ?? 0) - (s0.counters?.responsesSent ?? 0);
      const kernelDrops = s1 && s1.stats.kernelDrops - s0.stats.kernelDrops;
      rows.push({
        responder: label(mode),
        rate,
        ...res,
        cpu_pct: Math.round(cpu * 10) / 10,
        answered_pct: s1 && Math.round((answered / res.sent) * 100000) / 1000,
        responder_socket_drops: kernelDrops,
      });
    }
    const s = await r.stop();
    if (s) rows.push({ responder: label(mode), summary: s });
  }
} finally {
  cleanup();
}

const kernelLat = Object.fromEntries(rows.filter((r) => r.responder === 'kernel').map((r) => [r.rate, r.lat_us]));
const floorLat = Object.fromEntries(rows.filter((r) => r.responder === label(FLOOR)).map((r) => [r.rate, r.lat_us]));
// Ours and the floor against the kernel; ours against the floor.
const ratioTo = (ref, applies) => (r, p) =>
  !applies(r) || !ref[r.rate]?.[p] ? null : Math.round((r.lat_us[p] / ref[r.rate][p]) * 10) / 10;
const ratio = ratioTo(kernelLat, (r) => r.responder !== 'kernel');
const floorRatio = ratioTo(floorLat, (r) => r.responder.startsWith('ingot'));
const table = rows
  .filter((r) => r.rate !== undefined)
  .map((r) => ({
    responder: r.responder,
    rate: r.rate,
    achieved: r.achieved_pps,
    reply_pct: Math.round(r.reply_ratio * 100000) / 1000,
    p50_us: r.lat_us.p50,
    p99_us: r.lat_us.p99,
    max_us: r.lat_us.max,
    cpu_pct: r.cpu_pct,
    cpu_us_per_reply:
      r.cpu_pct === null || !r.replies
        ? null
        : Math.round((((r.cpu_pct / 100) * 1e6 * duration) / r.replies) * 10) / 10,
    p50_vs_kernel: ratio(r, 'p50'),
    p99_vs_kernel: ratio(r, 'p99'),
    p50_vs_floor: floorRatio(r, 'p50'),
    p99_vs_floor: floorRatio(r, 'p99'),
    rx_drops: r.rx_socket_drops,
    answered_pct: r.answered_pct ?? null,
    responder_drops: r.responder_socket_drops ?? null,
    late_pct: Math.round((r.late_sends / r.sent) * 1000) / 10,
    skipped_pct: r.skipped === undefined ? null : Math.round((r.skipped / r.scheduled) * 1000) / 10,
    send_lag_p99_us: r.send_lag_us?.p99 ?? null,
    flooder_cpu_pct: r.flooder_cpu_pct ?? null,
    slow: r.slow ? `${r.slow.requests} (${r.slow.episodes}, ${r.slow.longest_ms})` : null,
    max_pps_1ms: r.max_pps_1ms,
  }));
const summaries = rows.filter((r) => r.summary);
if (asJson) {
  console.log(JSON.stringify({ package: '@ingot/arp', duration, table, summaries, raw: rows }));
} else {
  console.log(
    `@ingot/arp ${ndp ? 'NDP (Neighbor Solicitation)' : 'ARP'} flood benchmark: ${duration} s per rate, veth pair, ${flooder === 'node' ? `paced node flooder${pacing.length ? ` (${pacing.join(' ')})` : ''}` : 'python flooder'}, responder ${selfRt ? `SCHED_FIFO ${RT_PRIORITY} by raiseRealtimePriority` : responderRt ? `SCHED_FIFO ${RT_PRIORITY} by chrt` : `nice ${responderNice}`}, ${pin ? `pinned (flooder CPU ${FLOODER_CPU}, responder CPU ${RESPONDER_CPU})` : 'unpinned'}${nodeFlags.length ? `, node ${nodeFlags.join(' ')}` : ''}, load ${loadBefore} before / ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} after, CPU pressure ${pressure()}`,
  );
  console.log(
    '| responder | rate req/s | achieved | replies % | p50 µs | p99 µs | max µs | responder CPU % | CPU µs/reply | p50 ours/kernel | p99 ours/kernel | p50 ours/floor | p99 ours/floor | > 200 µs: requests (episodes, longest ms) | flooder rx drops | answered by responder % | responder socket drops | flooder late % | flooder skipped % | flooder send lag p99 µs | flooder CPU % | flooder peak req/s (1 ms) |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const t of table) {
    console.log(
      `| ${t.responder} | ${t.rate} | ${t.achieved} | ${t.reply_pct} | ${t.p50_us} | ${t.p99_us} | ${t.max_us} | ${t.cpu_pct ?? 'n/a (softirq)'} | ${t.cpu_us_per_reply ?? ''} | ${t.p50_vs_kernel ?? ''} | ${t.p99_vs_kernel ?? ''} | ${t.p50_vs_floor ?? ''} | ${t.p99_vs_floor ?? ''} | ${t.slow ?? 'n/a'} | ${t.rx_drops} | ${t.answered_pct ?? 'n/a'} | ${t.responder_drops ?? 'n/a'} | ${t.late_pct} | ${t.skipped_pct ?? 'n/a'} | ${t.send_lag_p99_us ?? 'n/a'} | ${t.flooder_cpu_pct ?? 'n/a'} | ${t.max_pps_1ms} |`,
    );
  }
  for (const s of summaries) console.log(`${s.responder} final stats: ${JSON.stringify(s.summary)}`);
}
