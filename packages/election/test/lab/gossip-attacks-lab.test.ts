// Issue 13 (gossip), between namespaces: sealed datagrams captured on the wire and replayed from another host are
// refused and never answered; a member started elsewhere under a live member's name is refused, with no address flap.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { capture, createLan, labSuite, pollUntil, sleep, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { MemberChild } from './member-harness.js';

const KEY = 'ef'.repeat(32);
// Ingot's wire: the replay window, its sealed envelope and its name-conflict handling are what this attacks.
const INGOT = { wire: 'ingot' };
const REPLAY = fileURLToPath(new URL('./udp-replay.mjs', import.meta.url));

/** UDP payloads of IPv4 Ethernet frames sent to `dst`:`port` in a pcap file (classic pcap, little-endian). */
function udpPayloads(pcap: Buffer, dst: string, port: number): Buffer[] {
  const out: Buffer[] = [];
  if (pcap.readUInt32LE(0) !== 0xa1b2c3d4) throw new Error('not a little-endian pcap');
  for (let off = 24; off + 16 <= pcap.length; ) {
    const caplen = pcap.readUInt32LE(off + 8);
    const frame = pcap.subarray(off + 16, off + 16 + caplen);
    off += 16 + caplen;
    if (frame.length < 42 || frame.readUInt16BE(12) !== 0x0800 || frame[23] !== 17) continue;
    const ihl = (frame[14]! & 0x0f) * 4;
    const ip = [...frame.subarray(30, 34)].join('.');
    const udp = 14 + ihl;
    if (ip !== dst || frame.readUInt16BE(udp + 2) !== port) continue;
    out.push(Buffer.from(frame.subarray(udp + 8, udp + frame.readUInt16BE(udp + 4))));
  }
  return out;
}

labSuite('election: replay and name conflicts between namespaces', { tools: ['ip', 'tcpdump'] }, () => {
  const lab = useTopology(() => createLan(4, { name: 'replay' }));

  it('captured sealed datagrams replayed from another host are refused and never answered; a duplicate name is refused', async () => {
    const { hosts } = lab();
    const [h1, h2, h3, other] = hosts as [(typeof hosts)[0], (typeof hosts)[0], (typeof hosts)[0], (typeof hosts)[0]];
    const ms = [
      await MemberChild.start('node-1', h1, { keys: [KEY], options: INGOT }),
      await MemberChild.start('node-2', h2, { keys: [KEY], options: INGOT }),
      await MemberChild.start('node-3', h3, { keys: [KEY], options: INGOT }),
    ];
    const seed = [{ host: h1.ipv4, port: 7946 }];
    const cap = capture(h2, { filter: 'udp port 7946' });
    await cap.ready;
    for (const m of ms.slice(1)) await m.request('join', { seeds: seed });
    await pollUntil(
      async () => {
        for (const m of ms) if ((await m.members()).filter((x) => x.status === 'alive').length !== 3) return undefined;
        return true;
      },
      15_000,
      () => 'three members alive everywhere',
      100,
    );
    await sleep(1000);
    const payloads = udpPayloads(readFileSync(await cap.stop()), h2.ipv4, 7946);
    expect(payloads.length).toBeGreaterThan(20);
    const file = join(tmpdir(), `ingot-replay-${process.pid}.json`);
    writeFileSync(file, JSON.stringify(payloads.slice(0, 200).map((p) => p.toString('hex'))));
    const before = await ms[1]!.request<{ replayRejected: number; staleRejected: number }>('stats');
    const replay = other.fork(REPLAY, [h2.ipv4, '7946', file]);
    try {
      expect(await replay.waitExit(30_000)).toBe(0);
    } finally {
      rmSync(file, { force: true });
    }
    const result = JSON.parse(replay.stdout().trim()) as { sent: number; replies: number };
    const after = await ms[1]!.request<{ replayRejected: number; staleRejected: number }>('stats');
    console.log(
      `replay: ${result.sent} captured datagrams replayed from ${other.ipv4} to node-2: ${result.replies} replies, ` +
        `${after.replayRejected - before.replayRejected} refused as replayed, ${after.staleRejected - before.staleRejected} as stale`,
    );
    expect(result.replies).toBe(0);
    expect(after.replayRejected - before.replayRejected + after.staleRejected - before.staleRejected).toBe(result.sent);

    // a second "node-2" on another host: refused by everyone, node-2's address never changes
    const since = Date.now();
    const rogue = await MemberChild.start('node-2', other, { keys: [KEY], options: INGOT });
    await rogue.request('join', { seeds: seed }).catch(() => 0);
    await sleep(3000);
    for (const m of [ms[0]!, ms[2]!]) {
      const view = (await m.request<{ name: string; address: { host: string } }[]>('members')).find(
        (x) => x.name === 'node-2',
      );
      expect(view?.address.host).toBe(h2.ipv4);
      expect(m.events.filter((e) => e.event === 'update' && e.member === 'node-2' && e.t >= since)).toEqual([]);
    }
    const conflicts = await ms[0]!.request<{ nameConflicts: number }>('stats');
    expect(conflicts.nameConflicts).toBeGreaterThan(0);
    await Promise.all([...ms, rogue].map((m) => m.request('close')));
  }, 90_000);
});
