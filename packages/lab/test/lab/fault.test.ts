import { describe, expect, it } from 'vitest';
import { createLan, createPair, fault, type LabHost, labSuite, useTopology } from '../../src/index.js';

/** Parse iputils ping's summary line. */
function pingStats(out: string): { sent: number; received: number } {
  const m = /(\d+) packets transmitted, (\d+) received/.exec(out);
  if (!m) throw new Error(`no ping summary in: ${out}`);
  return { sent: Number(m[1]), received: Number(m[2]) };
}

labSuite('lab fault injection', { tools: ['ip', 'nft', 'ping'] }, () => {
  describe('on a veth pair', () => {
    const lab = useTopology(() => createPair({ name: 'fault' }));

    it('50% ingress loss measurably drops frames', async () => {
      const { a, b } = lab();
      // Resolve neighbours first: with ARP under loss, a queues pings behind an unresolved entry and drops the overflow
      // itself, which b's ingress counter never sees.
      await a.run('ping', ['-c', '1', '-W', '2', b.ipv4]);
      await fault.loss(b, 50);
      try {
        // 200 echo requests, 5 ms apart: the requests arriving on b lose about half.
        const r = await a.exec('ping', ['-c', '200', '-i', '0.005', '-W', '1', '-q', b.ipv4], { timeoutMs: 30_000 });
        const { sent, received } = pingStats(r.stdout);
        const { dropped } = await fault.counters(b);
        expect(sent).toBe(200);
        expect(received).toBeGreaterThan(40);
        expect(received).toBeLessThan(160);
        expect(dropped).toBeGreaterThanOrEqual(200 - received);
      } finally {
        await fault.heal(b);
      }
      expect(await fault.counters(b)).toEqual({ dropped: 0 });
      await a.run('ping', ['-c', '1', '-W', '2', b.ipv4]);
    });

    it('partition drops everything, heal restores it, and loss can be replaced', async () => {
      const { a, b } = lab();
      await fault.loss(b, 10);
      await fault.partition(b);
      const cut = await a.exec('ping', ['-c', '3', '-i', '0.05', '-W', '1', b.ipv4]);
      expect(pingStats(cut.stdout).received).toBe(0);
      const cut6 = await a.exec('ping', ['-6', '-c', '2', '-i', '0.05', '-W', '1', b.ipv6]);
      expect(pingStats(cut6.stdout).received).toBe(0);
      expect((await fault.counters(b)).dropped).toBeGreaterThanOrEqual(3);
      await fault.heal(b);
      await fault.heal(b); // idempotent
      await a.run('ping', ['-c', '1', '-W', '2', b.ipv4]);
      await a.run('ping', ['-6', '-c', '1', '-W', '2', b.ipv6]);
    });

    it('link down stops traffic; link up restores IPv4 and IPv6 (addresses kept)', async () => {
      const { a, b } = lab();
      await fault.linkDown(a);
      const down = await a.exec('ping', ['-c', '1', '-W', '1', b.ipv4]);
      expect(down.code).not.toBe(0);
      const state = JSON.parse(await b.run('ip', ['-j', 'link', 'show', 'dev', b.ifname]));
      expect(state[0].flags).toContain('NO-CARRIER');
      await fault.linkUp(a);
      await a.run('ping', ['-c', '1', '-W', '3', b.ipv4]);
      await a.run('ping', ['-6', '-c', '1', '-W', '3', b.ipv6]);
    });
  });

  describe('on a bridged LAN', () => {
    const lab = useTopology(() => createLan(2, { name: 'faultlan' }));

    it("a partition of the router's br0 cuts the router off but not host-to-host traffic", async () => {
      const { router, hosts } = lab();
      const [h1, h2] = hosts as [LabHost, LabHost];
      await h1.run('ping', ['-c', '1', '-W', '2', h2.ipv4]); // learn neighbours first
      await fault.partition(router);
      try {
        const toRouter = await h1.exec('ping', ['-c', '2', '-i', '0.1', '-W', '1', router.ipv4]);
        expect(toRouter.code).not.toBe(0);
        await h1.run('ping', ['-c', '2', '-i', '0.1', '-W', '2', h2.ipv4]);
        await h2.run('ping', ['-6', '-c', '1', '-W', '2', h1.ipv6]);
      } finally {
        await fault.heal(router);
      }
      await h1.run('ping', ['-c', '1', '-W', '2', router.ipv4]);
    });

    it('loss on one host drops only what arrives at that host', async () => {
      const { router, hosts } = lab();
      const [h1, h2] = hosts as [LabHost, LabHost];
      await fault.partition(h2);
      try {
        expect((await router.exec('ping', ['-c', '1', '-W', '1', h2.ipv4])).code).not.toBe(0);
        await router.run('ping', ['-c', '1', '-W', '2', h1.ipv4]);
      } finally {
        await fault.heal(h2);
      }
    });
  });
});
