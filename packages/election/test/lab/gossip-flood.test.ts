// Issue 13 "Resource limits before authentication": 40 TCP connections to a member's gossip port, each announcing and
// sending a frame of 8 MiB - 1 bytes, used to raise its resident memory from 62 MB to 392 MB. Now the frame limit
// (64 KiB before authentication) and the connection caps bound it; the measured growth is printed.
import { fileURLToPath } from 'node:url';
import { createLan, labSuite, pollUntil, sleep, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { MemberChild } from './member-harness.js';

const KEY = 'cd'.repeat(32);
// Ingot's wire: its length-prefixed frames are what the flood announces.
const INGOT = { wire: 'ingot' };
const FLOOD = fileURLToPath(new URL('./tcp-flood.mjs', import.meta.url));
const CONNECTIONS = 40;
const FRAME = (8 << 20) - 1;

interface Memory {
  rss: number;
  transport: { oversize: number; connectionLimit: number; sourceLimit: number; deadline: number };
}

labSuite('election: TCP flood before authentication, in namespaces', { tools: ['ip'] }, () => {
  const lab = useTopology(() => createLan(5, { name: 'flood' }));

  it('40 connections × 8 MiB - 1 raise no member by more than a few MB, and members still converge', async () => {
    const { hosts } = lab();
    const [h1, h2, h3, attacker, late] = hosts as [
      (typeof hosts)[0],
      (typeof hosts)[0],
      (typeof hosts)[0],
      (typeof hosts)[0],
      (typeof hosts)[0],
    ];
    // node-1 runs the shipped limits; node-2 lets one source hold 64 connections, so only the frame limit protects it
    const n1 = await MemberChild.start('node-1', h1, { keys: [KEY], options: INGOT });
    const n2 = await MemberChild.start('node-2', h2, {
      keys: [KEY],
      options: INGOT,
      transport: { maxConnectionsPerSource: 64 },
    });
    const n3 = await MemberChild.start('node-3', h3, { keys: [KEY], options: INGOT });
    const members = [n1, n2, n3];
    for (const m of [n2, n3]) await m.request('join', { seeds: [{ host: h1.ipv4, port: 7946 }] });
    const allAlive = async (ms: MemberChild[], n: number) =>
      pollUntil(
        async () => {
          for (const m of ms)
            if ((await m.members()).filter((x) => x.status === 'alive').length !== n) return undefined;
          return true;
        },
        15_000,
        () => `every member sees ${n} alive`,
        100,
      );
    await allAlive(members, 3);
    await sleep(1000);
    const base = await Promise.all([n1, n2].map((m) => m.request<Memory>('memory')));
    const peak = base.map((b) => b.rss);
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const now = await Promise.all([n1, n2].map((m) => m.request<Memory>('memory')));
        now.forEach((x, i) => {
          peak[i] = Math.max(peak[i]!, x.rss);
        });
        await sleep(100);
      }
    })();
    const since = Date.now();
    const floods = [h1, h2].map((h) => attacker.fork(FLOOD, [h.ipv4, '7946', String(CONNECTIONS), String(FRAME)]));
    // a legitimate member joins while the flood runs
    const n4 = await MemberChild.start('node-4', late, { keys: [KEY], options: INGOT });
    await n4.request('join', { seeds: [{ host: h1.ipv4, port: 7946 }] });
    for (const f of floods) expect(await f.waitExit(30_000)).toBe(0);
    await sleep(500);
    sampling = false;
    await sampler;
    const after = await Promise.all([n1, n2].map((m) => m.request<Memory>('memory')));
    const summaries = floods.map((f) => JSON.parse(f.stdout().trim()) as { connected: number; bytesSent: number });
    const mb = (b: number) => (b / 1048576).toFixed(1);
    for (const [i, name] of ['node-1 (shipped limits)', 'node-2 (64 connections per source)'].entries()) {
      console.log(
        `gossip flood: ${name}: ${CONNECTIONS} connections × ${FRAME} bytes, attacker wrote ${mb(summaries[i]!.bytesSent)} MB; ` +
          `RSS ${mb(base[i]!.rss)} MB before, peak ${mb(peak[i]!)} MB (+${mb(peak[i]! - base[i]!.rss)} MB); ` +
          `refused: ${JSON.stringify(after[i]!.transport)}`,
      );
    }
    // the shipped limits: 8 connections per source are read up to their length prefix, the rest refused at accept
    expect(after[0]!.transport.oversize + after[0]!.transport.sourceLimit).toBe(CONNECTIONS);
    expect(after[0]!.transport.sourceLimit).toBeGreaterThan(0);
    // with the per-source cap lifted, the frame limit alone refuses every connection after 4 bytes
    expect(after[1]!.transport.oversize).toBe(CONNECTIONS);
    // What grows is garbage: each refused connection was read up to a few 64 KiB socket chunks before it was closed
    // (the old code kept every byte: +330 MB). Shipped limits: under 8 MiB; 40 connections from one source: 12 MiB.
    expect(peak[0]! - base[0]!.rss).toBeLessThan(8 << 20);
    expect(peak[1]! - base[1]!.rss).toBeLessThan(12 << 20);
    await allAlive([...members, n4], 4);
    for (const m of [...members, n4]) expect(m.events.filter((e) => e.event === 'dead' && e.t >= since)).toEqual([]);
    await Promise.all([...members, n4].map((m) => m.request('close')));
  }, 120_000);
});
