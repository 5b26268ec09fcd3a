// Benchmark of @ingot/net's IP text against ip-address (the design card's address library) in the same run, printing
// the ratio: parse and print 20,000 IPv4 and 20,000 IPv6 addresses. Median CPU time of 30 rounds after 5 warm-up rounds
// (process.cpuUsage: waiting for a core on a shared machine is left out). Run: cd packages/net && npx tsup &&
// node bench/run.mjs (bounded: a few seconds).
import { Address4, Address6 } from 'ip-address';
import { canonicalIp, formatIp, parseIp } from '../dist/index.js';

const N = 20_000;
const v4 = Array.from({ length: N }, (_, i) => `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`);
const v6 = Array.from({ length: N }, (_, i) => `2001:DB8:0:0:${(i >> 12).toString(16)}::${(i & 0xfff).toString(16)}`);
const sink = [];

function measure(fn) {
  for (let i = 0; i < 5; i++) fn();
  const cpu = [];
  for (let r = 0; r < 30; r++) {
    sink.length = 0;
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  cpu.sort((a, b) => a - b);
  return cpu[cpu.length >> 1];
}

const rows = [];
for (const [family, texts] of [
  ['IPv4', v4],
  ['IPv6', v6],
]) {
  const ours = measure(() => {
    for (const t of texts) sink.push(formatIp(parseIp(t)));
  });
  const reference = measure(() => {
    for (const t of texts) sink.push(family === 'IPv4' ? new Address4(t).correctForm() : new Address6(t).correctForm());
  });
  const canonical = measure(() => {
    for (const t of texts) sink.push(canonicalIp(t));
  });
  rows.push({
    op: `parse + print ${N.toLocaleString('en')} ${family}`,
    ours_ms: ours.toFixed(2),
    canonicalIp_ms: canonical.toFixed(2),
    ip_address_ms: reference.toFixed(2),
    ns_per_address: ((ours * 1e6) / N).toFixed(0),
    ratio: `${(reference / ours).toFixed(1)}× faster`,
  });
}
console.log(
  `@ingot/net IP text vs ip-address, node ${process.version} (shared machine: figures are noisy, the ratio less so)`,
);
console.table(rows);
console.log(JSON.stringify({ bench: 'net-ip-text', node: process.version, rows }));
