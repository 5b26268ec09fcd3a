// Mixing with MetalLB's speakers (issue 14), standalone: two ingot daemons on memberlist's wire and a real
// hashicorp/memberlist v0.5.1 agent standing in for a MetalLB speaker on node-3 (same secret, MetalLB's key
// derivation). The three form one membership, both daemons name the same layer-2 owner for every service IP (node-3
// included: MetalLB's speaker would answer those), and when the agent's node dies its IPs move to an ingot node.
// Needs packages/lab/go/build-tools.sh memberlist-agent and the built daemon.
import { labSuite, pollUntil, startMemberlistAgent } from '@ingot/lab';
import { expect, it } from 'vitest';
import { docs, l2AdvertisementDoc, MEMBERLIST_SECRET, poolDoc, serviceDoc, useCluster } from './cluster-harness.js';

const SERVICES = Array.from({ length: 12 }, (_, i) => `web${i}`);
const RESOURCES = docs(
  poolDoc('l2', ['198.51.100.0/27']),
  l2AdvertisementDoc('l2', ['l2']),
  ...SERVICES.map((name) => serviceDoc({ name, family: 'IPv4' })),
);

labSuite(
  "ingot cluster on memberlist's wire with a memberlist agent as a MetalLB speaker",
  { tools: ['ip', 'memberlist-agent'] },
  () => {
    const cluster = useCluster({ name: 'mlw', wire: 'memberlist', start: false, resources: RESOURCES });

    /** Owner of every service IP as each running daemon names it, once both name one for every IP. */
    async function agreedOwners(exclude?: string): Promise<Record<string, string>> {
      const c = cluster();
      return pollUntil(
        async () => {
          const owners: Record<string, string> = {};
          for (const svc of SERVICES) {
            const views = Object.values(await c.serviceViews(`demo/${svc}`));
            if (views.length !== 2) return undefined;
            for (const ip of views[0]?.ips ?? []) {
              const named = views.map((v) => v?.owners?.[ip]);
              if (named.some((o) => o === undefined || o !== named[0] || o === exclude)) return undefined;
              owners[ip] = named[0] as string;
            }
            if ((views[0]?.ips ?? []).length === 0) return undefined;
          }
          return owners;
        },
        30_000,
        async () =>
          `owners never agreed${exclude ? ` without ${exclude}` : ''}: ${JSON.stringify(
            await Promise.all(SERVICES.map((s) => c.serviceViews(`demo/${s}`))),
          )}`,
        250,
      );
    }

    it("one membership; both daemons name the same owner for every IP; the agent node's IPs move when it dies", async () => {
      const c = cluster();
      await c.startNode('node-1');
      await c.startNode('node-2');
      const agent = await startMemberlistAgent(c.node('node-3').host, {
        name: 'node-3',
        secret: MEMBERLIST_SECRET,
        join: ['192.0.2.1:7946'],
      });
      await c.waitMembers(3);
      await pollUntil(
        async () => ((await agent.members()).length === 3 ? true : undefined),
        10_000,
        async () => `agent members: ${JSON.stringify(await agent.members())}`,
      );
      const owners = await agreedOwners();
      const onAgent = Object.entries(owners).filter(([, o]) => o === 'node-3');
      console.info(
        `[memberlist mix] ${Object.keys(owners).length} IPs: node-1 ${Object.values(owners).filter((o) => o === 'node-1').length}, ` +
          `node-2 ${Object.values(owners).filter((o) => o === 'node-2').length}, node-3 (agent) ${onAgent.length}`,
      );
      expect(onAgent.length).toBeGreaterThan(0);

      const t0 = Date.now();
      agent.process.kill('SIGKILL');
      const after = await agreedOwners('node-3');
      console.info(
        `[memberlist mix] agent SIGKILLed: its ${onAgent.length} IPs owned by ingot nodes after ${Date.now() - t0} ms`,
      );
      for (const [ip, o] of Object.entries(owners)) {
        if (o !== 'node-3')
          expect(after[ip], ip).toBe(o); // only the dead node's IPs move
        else expect(['node-1', 'node-2']).toContain(after[ip]);
      }
    }, 120_000);
  },
);
