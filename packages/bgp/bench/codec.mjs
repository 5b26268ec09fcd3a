// Codec benchmark: encode (packUpdates) and decode (decodeMessage, and MessageDecoder over a TCP-like stream) of a
// 100,000-prefix IPv4 table (/32s from 198.18.0.0/15 sharing attributes) and of 10,000 IPv6 /64s, next to a plain copy
// of the same bytes in the same run as the floor. Prints a table, then one JSON line. Bounded: each measurement runs
// for about BENCH_MS of wall time (default 700 ms, at least 3 rounds). Build first: npx tsup.
import { decodeMessage, encodeMessage, MessageDecoder, packUpdates } from '../dist/codec.js';

const BENCH_MS = Number(process.env.BENCH_MS ?? 700);

/**
 * Runs `fn` repeatedly for about BENCH_MS of wall time (at least 3 rounds, after 2 warm-up rounds) and returns the
 * median per-round CPU time of this process (process.cpuUsage: user + system, all threads) and the mean wall time,
 * in ms. CPU time leaves out the time spent waiting for a core, which dominates wall time on a loaded shared machine.
 */
function measure(fn) {
  for (let i = 0; i < 2; i++) fn();
  const cpu = [];
  const start = process.hrtime.bigint();
  let elapsed = 0;
  while (cpu.length < 3 || elapsed < BENCH_MS) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    elapsed = Number(process.hrtime.bigint() - start) / 1e6;
  }
  cpu.sort((a, b) => a - b);
  return { cpu: cpu[cpu.length >> 1], wall: elapsed / cpu.length };
}

function ipv4Table(n) {
  const base = (198 << 24) | (18 << 16);
  const out = new Array(n);
  for (let i = 0; i < n; i++) {
    const ip = (base >>> 0) + i;
    out[i] = `${ip >>> 24}.${(ip >>> 16) & 255}.${(ip >>> 8) & 255}.${ip & 255}/32`;
  }
  return out;
}

function ipv6Table(n) {
  const out = new Array(n);
  for (let i = 0; i < n; i++) out[i] = `2001:db8:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}::/64`;
  return out;
}

const attributes = {
  origin: 'igp',
  asPath: [{ type: 'sequence', asns: [64512] }],
  nextHop: '192.0.2.1',
  med: 0,
  communities: ['64512:100', 'no-export'],
  largeCommunities: ['64512:1:2'],
};
const options = { fourOctetAs: true, ipv6NextHop: '2001:db8:0:1::1' };

function run(name, prefixes) {
  const messages = packUpdates(attributes, prefixes, options);
  const bytes = messages.reduce((s, m) => s + m.length, 0);
  // correctness check before timing
  let count = 0;
  for (const m of messages) {
    const d = decodeMessage(m, options);
    count += d.nlri.length + (d.attributes.mpReach?.nlri.length ?? 0);
  }
  if (count !== prefixes.length) throw new Error(`${name}: decoded ${count} of ${prefixes.length} prefixes`);
  const stream = new Uint8Array(bytes);
  let off = 0;
  for (const m of messages) {
    stream.set(m, off);
    off += m.length;
  }

  let sink = 0;
  const encodeMs = measure(() => {
    sink += packUpdates(attributes, prefixes, options).length;
  });
  const decodedMessages = messages.map((m) => decodeMessage(m, options));
  const encodeMessageMs = measure(() => {
    for (const m of decodedMessages) sink += encodeMessage(m, options).length;
  });
  const decodeMs = measure(() => {
    for (const m of messages) sink += decodeMessage(m, options).type.length;
  });
  const streamMs = measure(() => {
    const dec = new MessageDecoder(options);
    for (let i = 0; i < stream.length; i += 65536) {
      dec.push(stream.subarray(i, i + 65536));
      for (let m = dec.next(); m !== null; m = dec.next()) sink += m.type.length;
    }
  });
  const copyMs = measure(() => {
    for (const m of messages) sink += new Uint8Array(m).length;
  });
  if (sink === 0) throw new Error('unreachable');
  const row = (op, t) => ({
    table: name,
    op,
    cpuMs: +t.cpu.toFixed(3),
    wallMs: +t.wall.toFixed(3),
    prefixesPerSec: Math.round(prefixes.length / (t.cpu / 1000)),
    mbPerSec: +(bytes / 1e6 / (t.cpu / 1000)).toFixed(1),
    xCopy: +(t.cpu / copyMs.cpu).toFixed(1),
  });
  return {
    name,
    prefixes: prefixes.length,
    messages: messages.length,
    bytes,
    rows: [
      row('encode (packUpdates)', encodeMs),
      row('encode (encodeMessage)', encodeMessageMs),
      row('decode (decodeMessage)', decodeMs),
      row('decode (MessageDecoder stream)', streamMs),
      row('copy (floor)', copyMs),
    ],
  };
}

const results = [run('ipv4 /32 x 100000', ipv4Table(100_000)), run('ipv6 /64 x 10000', ipv6Table(10_000))];
console.log(
  `@ingot/bgp codec benchmark, node ${process.version}: rates use this process's CPU time (median round), so waiting ` +
    'for a core on a shared machine is not counted; wall time is shown too. Figures from a loaded machine are noisy.',
);
for (const r of results) {
  console.log(`\n${r.name}: ${r.messages} UPDATEs, ${r.bytes} bytes`);
  console.log('operation                        cpu ms/table  wall ms   prefixes/s      MB/s   x copy');
  for (const x of r.rows)
    console.log(
      `${x.op.padEnd(32)} ${x.cpuMs.toFixed(2).padStart(12)} ${x.wallMs.toFixed(2).padStart(8)} ${String(x.prefixesPerSec).padStart(12)} ${x.mbPerSec.toFixed(1).padStart(9)} ${x.xCopy.toFixed(1).padStart(8)}`,
    );
}
const v4 = results[0].rows;
const target = 2_000_000;
const rowOf = (op) => v4.find((r) => r.op === op);
const ok =
  rowOf('encode (packUpdates)').prefixesPerSec >= target && rowOf('decode (decodeMessage)').prefixesPerSec >= target;
console.log(`\ntarget >= ${target} IPv4 prefixes/s encoded and decoded: ${ok ? 'met' : 'NOT met'}`);
console.log(JSON.stringify({ bench: 'codec', node: process.version, target, targetMet: ok, results }));
