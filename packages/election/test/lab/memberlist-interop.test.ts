// Ingot members on the memberlist wire and real hashicorp/memberlist v0.5.1 agents (configured as MetalLB's speakers)
// in one cluster, in namespaces with real UDP/TCP. Build first: packages/lab/go/build-tools.sh memberlist-agent and
// (cd packages/election && npx tsup).
import {
  createLan,
  fault,
  labSuite,
  type MemberlistAgent,
  pollUntil,
  startMemberlistAgent,
  useTopology,
} from '@ingot/lab';
import { afterEach, expect, it } from 'vitest';
import { metallbSecretKey } from '../../src/keyring.js';
import { MemberChild } from './member-harness.js';

const SECRET = 'c2VjcmV0LXNlY3JldC0xMg'; // 22 characters, as MetalLB's controller creates it
const KEY_HEX = Buffer.from(metallbSecretKey(SECRET)).toString('hex');

async function ingotSees(m: MemberChild, expected: Record<string, string>, timeoutMs = 15_000): Promise<void> {
  await pollUntil(
    async () => {
      const seen = Object.fromEntries((await m.members()).map((x) => [x.name, x.status]));
      return Object.entries(expected).every(([n, s]) => seen[n] === s) ? true : undefined;
    },
    timeoutMs,
    async () => `${m.name} sees ${JSON.stringify(expected)}; it sees ${JSON.stringify(await m.members())}`,
    50,
  );
}

async function agentSees(a: MemberlistAgent, names: string[], timeoutMs = 15_000): Promise<void> {
  await pollUntil(
    async () => {
      const seen = (await a.members()).map((m) => m.node).sort();
      return JSON.stringify(seen) === JSON.stringify([...names].sort()) ? true : undefined;
    },
    timeoutMs,
    async () => `${a.name} sees ${names}; it sees ${(await a.members()).map((m) => m.node)}`,
    100,
  );
}

labSuite(
  'election: Ingot members and hashicorp/memberlist agents in one cluster',
  { tools: ['ip', 'memberlist-agent'] },
  () => {
    const lab = useTopology(() => createLan(4, { name: 'mlx' }));
    // Every test stops what it started (by PID), so the next one can bind port 7946 again.
    const running: { proc: { stop(): Promise<void> } }[] = [];
    const track = <T extends MemberChild | MemberlistAgent>(x: T): T => {
      running.push({ proc: 'proc' in x ? x.proc : x.process });
      return x;
    };
    afterEach(async () => {
      await Promise.all(running.splice(0).map((r) => r.proc.stop()));
    });

    it('plaintext: joins both ways, meta and labels cross intact, graceful leave is seen as leave both ways', async () => {
      const [h1, h2, h3, h4] = lab().hosts;
      if (!h1 || !h2 || !h3 || !h4) throw new Error('four hosts');
      const opts = { wire: 'memberlist' };
      const x = track(await startMemberlistAgent(h3, { name: 'x', meta: 'zone=x' }));
      const a = track(await MemberChild.start('a', h1, { options: { ...opts, labels: { zone: 'a' } } }));
      await a.request('join', { seeds: [{ host: h3.ipv4, port: 7946 }] }); // Ingot joins an agent
      const y = track(await startMemberlistAgent(h4, { name: 'y', join: [`${h1.ipv4}:7946`] })); // an agent joins Ingot
      await y.waitEvent((e) => e.event === 'joined');
      const b = track(await MemberChild.start('b', h2, { options: { ...opts, labels: { zone: 'b', rack: '2' } } }));
      await b.request('join', { seeds: [{ host: h4.ipv4, port: 7946 }] });
      const all = { a: 'alive', b: 'alive', x: 'alive', y: 'alive' };
      await ingotSees(a, all);
      await ingotSees(b, all);
      await agentSees(x, ['a', 'b', 'x', 'y']);
      await agentSees(y, ['a', 'b', 'x', 'y']);

      const xOnB = (await b.request<{ name: string; labels: Record<string, string> }[]>('members')).find(
        (m) => m.name === 'x',
      );
      expect(xOnB?.labels).toEqual({ zone: 'x' });
      const bOnX = (await x.members()).find((m) => m.node === 'b');
      expect(bOnX?.meta).toBe('rack=2\nzone=b');
      expect(bOnX?.vsn).toEqual([1, 5, 2, 0, 0, 0]);
      await a.request('setLabels', { labels: { zone: 'a2' } });
      await x.waitEvent((e) => e.event === 'update' && e.node === 'a' && e.meta === 'zone=a2');
      await x.setMeta('zone=x2');
      await pollUntil(
        async () =>
          (await b.request<{ name: string; labels: Record<string, string> }[]>('members')).find((m) => m.name === 'x')
            ?.labels.zone === 'x2' || undefined,
        10_000,
        () => 'b sees x meta zone=x2',
      );

      const t0 = Date.now();
      await y.leave();
      await ingotSees(a, { y: 'left' }, 3_000);
      await ingotSees(b, { y: 'left' }, 3_000);
      const from = x.events().length;
      await b.request('leave');
      const left = await x.waitEvent((e) => e.event === 'leave' && e.node === 'b', 3_000, from);
      console.log(
        `memberlist interop: agent leave seen as 'left' by Ingot within ${Date.now() - t0} ms; ` +
          `Ingot leave seen by the agent ${left.t - t0} ms after the agent's`,
      );
      await agentSees(x, ['a', 'x']);
      await ingotSees(a, { b: 'left', x: 'alive' });
      await a.request('close');
      await b.request('close');
    }, 90_000);

    it('encrypted with MetalLB key derivation: joins, SIGKILL detected both ways (times printed), a wrong key never joins', async () => {
      const [h1, h2, h3, h4] = lab().hosts;
      const router = lab().router;
      if (!h1 || !h2 || !h3 || !h4) throw new Error('four hosts');
      const opts = { wire: 'memberlist' };
      const x = track(await startMemberlistAgent(h3, { name: 'x', secret: SECRET }));
      const y = track(await startMemberlistAgent(h4, { name: 'y', secret: SECRET, join: [`${h3.ipv4}:7946`] }));
      const a = track(await MemberChild.start('a', h1, { keys: [KEY_HEX], options: opts }));
      const b = track(await MemberChild.start('b', h2, { keys: [KEY_HEX], options: opts }));
      await a.request('join', { seeds: [{ host: h3.ipv4, port: 7946 }] });
      await b.request('join', { seeds: [{ host: h1.ipv4, port: 7946 }] });
      const all = { a: 'alive', b: 'alive', x: 'alive', y: 'alive' };
      await ingotSees(a, all);
      await ingotSees(b, all);
      await agentSees(x, ['a', 'b', 'x', 'y']);
      await agentSees(y, ['a', 'b', 'x', 'y']);

      const w = track(await startMemberlistAgent(router, { name: 'w', secret: 'a-different-secret-000' }));
      await expect(w.join([`${h1.ipv4}:7946`])).rejects.toThrow();
      await expect(w.join([`${h3.ipv4}:7946`])).rejects.toThrow();
      expect((await a.members()).map((m) => m.name).sort()).toEqual(['a', 'b', 'x', 'y']);
      expect((await a.request<{ authFailures: number }>('stats')).authFailures).toBeGreaterThan(0);

      const tKillAgent = Date.now();
      y.process.kill('SIGKILL');
      await ingotSees(a, { y: 'dead' }, 30_000);
      const ingotDetect = (a.find('dead', 'y', tKillAgent)?.t ?? Date.now()) - tKillAgent;
      await ingotSees(b, { y: 'dead' }, 30_000);
      const from = x.events().length;
      const tKillIngot = Date.now();
      b.proc.kill('SIGKILL');
      const seen = await x.waitEvent((e) => e.event === 'leave' && e.node === 'b', 30_000, from);
      console.log(
        `memberlist interop (encrypted): SIGKILLed agent declared dead by an Ingot member after ${ingotDetect} ms; ` +
          `SIGKILLed Ingot member declared dead by an agent after ${seen.t - tKillIngot} ms`,
      );
      await agentSees(x, ['a', 'x']);
      await a.request('close');
    }, 120_000);

    it('rotated keys: an agent on the old key and one on the new join Ingot members holding both; a partition heals', async () => {
      const [h1, h2, h3, h4] = lab().hosts;
      if (!h1 || !h2 || !h3 || !h4) throw new Error('four hosts');
      const OLD = 'old-secret-rotation-01';
      const NEW = 'new-secret-rotation-02';
      const hex = (s: string) => Buffer.from(metallbSecretKey(s)).toString('hex');
      // Ingot members seal with the new key and open both; agent x still seals with the old key (and holds the new one),
      // agent y has only the new key.
      const a = track(
        await MemberChild.start('a', h1, { keys: [hex(NEW), hex(OLD)], options: { wire: 'memberlist' } }),
      );
      const b = track(
        await MemberChild.start('b', h2, { keys: [hex(NEW), hex(OLD)], options: { wire: 'memberlist' } }),
      );
      const x = track(await startMemberlistAgent(h3, { name: 'x', secret: OLD, extraSecrets: [NEW] }));
      const y = track(await startMemberlistAgent(h4, { name: 'y', secret: NEW }));
      await a.request('join', { seeds: [{ host: h3.ipv4, port: 7946 }] });
      await b.request('join', { seeds: [{ host: h1.ipv4, port: 7946 }] });
      await y.join([`${h2.ipv4}:7946`]);
      const all = { a: 'alive', b: 'alive', x: 'alive', y: 'alive' };
      await ingotSees(a, all);
      await ingotSees(b, all);
      await agentSees(x, ['a', 'b', 'x', 'y']);

      // Partition b (drop everything on its interface) until the others declare it dead, then heal.
      const t0 = Date.now();
      await fault.partition(h2);
      try {
        await ingotSees(a, { b: 'dead' }, 30_000);
        await pollUntil(
          async () => ((await x.members()).some((m) => m.node === 'b') ? undefined : true),
          30_000,
          () => 'x drops b',
        );
      } finally {
        await fault.heal(h2);
      }
      const tHeal = Date.now();
      await ingotSees(a, all, 60_000);
      await ingotSees(b, all, 60_000);
      await agentSees(x, ['a', 'b', 'x', 'y'], 60_000);
      console.log(
        `memberlist interop (rotation, partition): b dead everywhere ${tHeal - t0} ms after the partition; ` +
          `everyone sees everyone alive ${Date.now() - tHeal} ms after the heal`,
      );
    }, 180_000);
  },
);
