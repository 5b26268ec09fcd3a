// End to end, layer 2: three ingot nodes, a client and a router on one segment (cluster-harness.ts). The client's HTTP
// GET to a service IP is answered by the node that owns it; killing (SIGKILL) or stopping (SIGTERM) the owner's
// daemon moves the IP, and the client is served again by the new owner. IPv4 and IPv6. A client sending requests
// back to back across the handover never has one black-holed (sent to a node that does not accept the IP yet or any
// more), which would cost it TCP's 1 s SYN retransmission.
import { fault, labSuite, pollUntil, sleep } from '@ingot/lab';
import { beforeEach, expect, it } from 'vitest';
import { docs, l2AdvertisementDoc, poolDoc, serviceDoc, useCluster } from './cluster-harness.js';

const RESOURCES = docs(
  poolDoc('l2', ['198.51.100.0/28', '2001:db8:100::/124']),
  l2AdvertisementDoc('l2', ['l2']),
  serviceDoc({ name: 'web4', family: 'IPv4' }),
  serviceDoc({ name: 'web6', family: 'IPv6' }),
);

const FAMILIES = [
  { family: 'IPv4', service: 'demo/web4', pool: /^198\.51\.100\.([0-9]|1[0-5])$/ },
  { family: 'IPv6', service: 'demo/web6', pool: /^2001:db8:100::[0-9a-f]?$/ },
] as const;

labSuite('ingot cluster: layer 2 service IPs and failover', { tools: ['ip', 'curl'] }, () => {
  const cluster = useCluster({ name: 'l2', resources: RESOURCES });
  beforeEach(() => cluster().ensureAllRunning(), 60_000);

  for (const { family, service, pool } of FAMILIES) {
    it(`${family}: the client's GET to the service IP returns 200 from the owner every node names`, async () => {
      const c = cluster();
      const [ip] = await c.waitServiceIps(service, { count: 1 });
      expect(ip).toMatch(pool);
      const owner = await c.waitServed(ip as string);
      expect(c.nodes.map((n) => n.name)).toContain(owner);
      const views = await c.serviceViews(service);
      for (const [node, view] of Object.entries(views)) {
        expect(view, node).toMatchObject({
          ips: [ip],
          pool: 'l2',
          protocol: 'layer2',
          owners: { [ip as string]: owner },
        });
        expect(view?.announcedHere, node).toBe(node === owner);
      }
      // The local data path: only the owner holds the IP on lo, once a former owner's handover drain (2 s after it
      // withdrew, for clients not yet moved) is over.
      const holders = async () => {
        const out: string[] = [];
        for (const n of c.nodes) if ((await c.loAddresses(n.name)).includes(ip as string)) out.push(n.name);
        return out;
      };
      let held: string[] = [];
      await pollUntil(
        async () => {
          held = await holders();
          return held.length === 1 && held[0] === owner ? true : undefined;
        },
        5_000,
        () => `lo holders of ${ip}: ${held.join(', ')}; owner ${owner}`,
        200,
      );
    }, 90_000);

    it(`${family}: SIGKILL of the owner's daemon -> the client is served through the new owner`, async () => {
      const c = cluster();
      const [ip] = await c.waitServiceIps(service, { count: 1 });
      const owner = await c.waitServed(ip as string);
      await c.stopNode(owner, 'SIGKILL');
      const started = Date.now();
      const next = await c.waitServed(ip as string, (n) => n !== owner, { timeoutMs: 20_000 });
      const elapsed = Date.now() - started;
      expect(next).not.toBe(owner);
      // The assignment does not change; the survivors agree on the new owner.
      expect(await c.waitServiceIps(service, { count: 1 })).toEqual([ip]);
      for (const [node, view] of Object.entries(await c.serviceViews(service)))
        expect(view, node).toMatchObject({ owners: { [ip as string]: next }, announcedHere: node === next });
      console.info(`[l2] ${family} SIGKILL of ${owner}: served by ${next} after ${elapsed} ms`);
    }, 90_000);

    it(`${family}: graceful stop (SIGTERM) of the owner moves the IP`, async () => {
      const c = cluster();
      const [ip] = await c.waitServiceIps(service, { count: 1 });
      const owner = await c.waitServed(ip as string);
      const started = Date.now();
      const code = await c.stopNode(owner, 'SIGTERM');
      expect(code, c.logTail(owner)).toBe(0);
      const next = await c.waitServed(ip as string, (n) => n !== owner, { timeoutMs: 20_000 });
      const elapsed = Date.now() - started;
      expect(next).not.toBe(owner);
      // A graceful stop cleans the local data path up.
      expect(await c.loAddresses(owner), `${owner} lo after SIGTERM\n${c.logTail(owner, 6000)}`).not.toContain(ip);
      expect(await c.waitServiceIps(service, { count: 1 })).toEqual([ip]);
      console.info(`[l2] ${family} SIGTERM of ${owner}: served by ${next} after ${elapsed} ms`);
    }, 90_000);
  }

  for (const signal of ['SIGKILL', 'SIGTERM'] as const) {
    it(`IPv4: no client request is black-holed while the IP moves on ${signal}`, async () => {
      const c = cluster();
      const [ip] = await c.waitServiceIps('demo/web4', { count: 1 });
      const owner = await c.waitServed(ip as string);
      const loop = c.startClientLoop(ip as string, 3_000);
      await sleep(500);
      const t0 = Date.now();
      await c.stopNode(owner, signal);
      const requests = await loop.result();
      const after = requests.filter((r) => r.t + r.ms >= t0);
      const handedOver = after.findIndex((r) => r.code === 200 && r.body !== owner);
      expect(handedOver, `never answered by another node: ${JSON.stringify(after.slice(-5))}`).toBeGreaterThanOrEqual(
        0,
      );
      // Every request around the handover is answered, each quickly: none waited for a SYN retransmission.
      const slow = after.filter((r) => r.code !== 200 || r.ms > 500);
      expect(slow.map((r) => ({ at: r.t - t0, ms: r.ms, code: r.code, body: r.body, error: r.error }))).toEqual([]);
    }, 90_000);
  }

  it('IPv4: when a partition heals, the owner re-announces and the client is served by it again at once', async () => {
    const c = cluster();
    const [ip] = (await c.waitServiceIps('demo/web4', { count: 1 })) as [string];
    const owner = await c.waitServed(ip);
    const other = c.nodes.find((n) => n.name !== owner);
    if (!other) throw new Error('no second node');
    const neighbourOf = async () => (await c.client.exec('ip', ['neigh', 'show', ip])).stdout;
    await c.waitMembers(3); // every node sees the others alive before the cut
    expect(await neighbourOf()).toContain(c.node(owner).host.mac);
    // Let the owner's own gratuitous burst (5 s after it started announcing) end first: it would move the client back
    // by itself and hide whether the re-announce happens.
    const announcedAt = Math.max(
      0,
      ...c
        .logs(owner)
        .filter((r) => String(r.msg).startsWith('announcing from node'))
        .map((r) => Date.parse(String(r.ts))),
    );
    const burstLeft = announcedAt + 5_600 - Date.now();
    if (burstLeft > 0) await sleep(burstLeft);
    // Cut everything arriving at one non-owner node. Alone in its own view, it claims the IP and its gratuitous ARP
    // (its egress still works) moves the client's neighbour entry to it: MetalLB #584's split brain.
    await fault.partition(other.host);
    try {
      await pollUntil(
        async () => {
          // Only a status that answered counts: a failed fetch says nothing about the member.
          const members = (await c.status(owner))?.members;
          if (!members) return undefined;
          const m = members.find((x) => x.name === other.name);
          return m === undefined || m.state === 'dead' || m.state === 'left' ? true : undefined;
        },
        20_000,
        async () => `${owner} never saw ${other.name} dead: ${JSON.stringify(await c.allStatus('members'))}`,
        200,
      );
      await pollUntil(
        async () => ((await neighbourOf()).includes(other.host.mac) ? true : undefined),
        15_000,
        async () => `the isolated ${other.name} never took the client's entry: ${await neighbourOf()}`,
        200,
      );
    } finally {
      await fault.heal(other.host);
    }
    const healed = Date.now();
    // Without a fresh gratuitous round from the owner the client keeps the isolated node's MAC until the entry is
    // probed and fails (delay_first_probe_time 5 s, then unicast probes): well over 4 s. With it: milliseconds.
    expect(await c.waitServed(ip, (n) => n === owner, { timeoutMs: 4_000 })).toBe(owner);
    expect(await neighbourOf()).toContain(c.node(owner).host.mac);
    const reannounced = () =>
      c
        .logs(owner)
        .some(
          (r) =>
            r.msg === 'a member (re)appeared; re-announcing layer2 IPs' && Date.parse(String(r.ts)) >= healed - 2_000,
        );
    await pollUntil(
      async () => (reannounced() ? true : undefined),
      4_000,
      async () =>
        `${owner} never re-announced: ${JSON.stringify(
          c
            .logs(owner)
            .filter((r) => /member|re-announc/.test(String(r.msg)))
            .slice(-12),
        )}`,
      100,
    );
    console.info(`[l2] partition of ${other.name} healed: ${owner} serves again after ${Date.now() - healed} ms`);
  }, 90_000);
});
