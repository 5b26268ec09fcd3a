// Memory probe for bench/kubernetes.mjs --heap DIR: preloaded into each Ingot process (`node --import`), it samples
// process.memoryUsage() every 100 ms and keeps the latest and the largest of each field (RSS, V8 heap total and used,
// external, array buffers), written to $INGOT_MEMORY_PROBE/memory.json once a second; on SIGUSR2 it writes the file
// at once and a V8 heap snapshot beside it (heap-<n>.heapsnapshot, then memory.json names it). Nothing else uses it;
// without the variable it does nothing.
import { writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const dir = process.env.INGOT_MEMORY_PROBE;
if (dir) {
  const fields = ['rss', 'heapTotal', 'heapUsed', 'external', 'arrayBuffers'];
  const peak = Object.fromEntries(fields.map((f) => [f, 0]));
  let latest = process.memoryUsage();
  const snapshots = [];
  const sample = () => {
    latest = process.memoryUsage();
    for (const f of fields) peak[f] = Math.max(peak[f], latest[f]);
  };
  const spaces = () =>
    Object.fromEntries(
      v8.getHeapSpaceStatistics().map((s) => [s.space_name, { size: s.space_size, used: s.space_used_size }]),
    );
  /** The heap spaces just before the last snapshot (writing one collects garbage first). */
  let beforeSnapshot;
  const save = () => {
    const now = { at: Date.now(), latest, peak, spaces: spaces(), snapshots, beforeSnapshot };
    writeFileSync(`${dir}/memory.json`, JSON.stringify(now));
  };
  setInterval(sample, 100).unref();
  setInterval(save, 1000).unref();
  process.on('SIGUSR2', () => {
    sample();
    beforeSnapshot = { memory: latest, spaces: spaces() };
    const file = `${dir}/heap-${snapshots.length}.heapsnapshot`;
    v8.writeHeapSnapshot(file);
    snapshots.push(file);
    save();
  });
}
