// Load for bench/soak.mjs, preloaded into each daemon process (`node --import ./bench/busy-load.mjs dist/cli.js run ...`):
// a CPU-bound task on the daemon's event loop and garbage-collector pressure, so the soak measures the failover profile
// with a busy daemon (issue 17). Never loaded by the daemon itself.
//   INGOT_SOAK_BUSY_MS      event-loop time burnt every 100 ms (default 40: 40 % of the main thread)
//   INGOT_SOAK_GARBAGE_MB_S short-lived allocations per second, some kept 2 s so old-generation GC runs too (default 50)
//   INGOT_SOAK_STALL_MS     a longer block every 5 s, like a big synchronous reconcile or a major GC (default 200)
import { isMainThread } from 'node:worker_threads';

const busyMs = Number(process.env.INGOT_SOAK_BUSY_MS ?? 40);
const garbagePerTick = (Number(process.env.INGOT_SOAK_GARBAGE_MB_S ?? 50) * 1e6) / 10;
const stallMs = Number(process.env.INGOT_SOAK_STALL_MS ?? 200);
const retained = [];
let sink = 0;
const burn = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end) sink += Math.sqrt(sink + 1);
};
// The daemon's main thread only (the event loop the profile must not depend on): a worker thread started with the
// process's execArgv would preload this file too.
if (isMainThread)
  setInterval(() => {
    burn(busyMs);
    // About 64 bytes per small object with a short string.
    const batch = [];
    for (let i = 0; i < garbagePerTick / 64; i++) batch.push({ i, s: `g${i}` });
    retained.push(batch);
    if (retained.length > 20) retained.shift();
  }, 100).unref();
if (isMainThread && stallMs > 0) setInterval(() => burn(stallMs), 5000).unref();
