// Benchmark responder: answers for VIP on IFACE with the given receive mode until SIGTERM, then prints its stats.
// Usage (in the target namespace): node responder.mjs IFACE VIP MODE
import { createResponder } from '../dist/index.js';

const [iface, vip, mode] = process.argv.slice(2);
const r = createResponder({
  interfaces: [iface],
  scanIntervalMs: 0,
  gratuitous: false,
  transportOptions: { receiveMode: mode },
});
await r.ready();
r.announce(vip);
console.log(JSON.stringify({ ready: true, pid: process.pid, interfaces: r.interfaces() }));
// SIGUSR2: print the counters so far (the benchmark reads them around each flood).
process.on('SIGUSR2', () => {
  console.log(JSON.stringify({ counters: r.counters()[vip], stats: r.stats()[iface] }));
});
process.on('SIGTERM', async () => {
  const out = { counters: r.counters()[vip], stats: r.stats()[iface] };
  await r.close();
  console.log(JSON.stringify(out));
  process.exit(0);
});
