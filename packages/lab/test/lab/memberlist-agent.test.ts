import { expect, it } from 'vitest';
import { createLan, labSuite, livePids, startMemberlistAgent, useTopology } from '../../src/index.js';

labSuite(
  'memberlist agent (hashicorp/memberlist v0.5.1, MetalLB speaker configuration)',
  { tools: ['memberlist-agent'] },
  () => {
    const lab = useTopology(() => createLan(3, { name: 'mla' }));

    it('three agents join with a MetalLB secret, meta crosses, SIGKILL is detected, leave is seen', async () => {
      const [h1, h2, h3] = lab().hosts;
      if (!h1 || !h2 || !h3) throw new Error('three hosts');
      const secret = 'c2VjcmV0LXNlY3JldC0xMg';
      const a1 = await startMemberlistAgent(h1, { name: 'n1', secret, meta: 'zone=a' });
      const a2 = await startMemberlistAgent(h2, { name: 'n2', secret, join: [a1.address] });
      const a3 = await startMemberlistAgent(h3, { name: 'n3', secret, join: [a1.address] });
      // A wrong key never joins.
      const wrong = await startMemberlistAgent(lab().router, { name: 'x', secret: 'another-secret-value-1' });
      await expect(wrong.join([a1.address])).rejects.toThrow(/join/i);

      for (const a of [a1, a2, a3]) {
        await a.waitEvent((e) => e.event === 'join' && e.node === 'n3');
      }
      const members = await a3.members();
      expect(members.map((m) => m.node).sort()).toEqual(['n1', 'n2', 'n3']);
      expect(members.find((m) => m.node === 'n1')?.meta).toBe('zone=a');
      expect(members.find((m) => m.node === 'n1')?.vsn).toEqual([1, 5, 2, 0, 0, 0]);

      await a1.setMeta('zone=b');
      await a2.waitEvent((e) => e.event === 'update' && e.node === 'n1' && e.meta === 'zone=b');

      const from = a1.events().length;
      const killedAt = Date.now();
      const pid = a3.process.pid;
      a3.process.kill('SIGKILL');
      const dead = await a1.waitEvent((e) => e.event === 'leave' && e.node === 'n3', 30_000, from);
      console.log(`memberlist agent: SIGKILLed n3 declared dead by n1 after ${dead.t - killedAt} ms`);
      expect(livePids()).not.toContain(pid);

      const from2 = a1.events().length;
      await a2.leave();
      const left = await a1.waitEvent((e) => e.event === 'leave' && e.node === 'n2', 5_000, from2);
      expect(left.node).toBe('n2');
    }, 60_000);
  },
);
