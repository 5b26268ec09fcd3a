// Benchmark responder: answers for VIP on IFACE with the given receive mode until SIGTERM, then prints its stats.
// Usage (in the target namespace): node responder.mjs IFACE VIP MODE [--realtime-priority N [--realtime-cpu C]]
// --realtime-priority: once the responder is up, its main thread raises itself to SCHED_FIFO N with
// raiseRealtimePriority (pinned to CPU C when given), as a daemon would; the result is in the ready line. In receive
// mode `thread` it raises the answer thread instead.
import { answerThreadId, createResponder, raiseRealtimePriority } from '../dist/index.js';

const [iface, vip, mode, ...rest] = process.argv.slice(2);
const opt = (name) => {
  const i = rest.indexOf(`--${name}`);
  return i >= 0 ? Number(rest[i + 1]) : undefined;
};
const rtPriority = opt('realtime-priority');
const rtCpu = opt('realtime-cpu');
const r = createResponder({
  interfaces: [iface],
  scanIntervalMs: 0,
  gratuitous: false,
  transportOptions: { receiveMode: mode },
});
await r.ready();
r.announce(vip);
// In receive mode `thread` the answer thread is the one that answers, so it gets the priority (and the pin).
const thread = mode === 'thread' ? await answerThreadId() : undefined;
const realtime =
  rtPriority === undefined
    ? null
    : raiseRealtimePriority({
        priority: rtPriority,
        ...(rtCpu === undefined ? {} : { cpu: rtCpu }),
        ...(thread === undefined ? {} : { thread }),
      });
console.log(JSON.stringify({ ready: true, pid: process.pid, interfaces: r.interfaces(), realtime }));
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
