// End to end, configuration and allocation: the fleet file is rewritten while three ingot nodes run. A pool and a
// service added live get served; an invalid file is rejected (status stale, metallb_k8s_client_config_stale_bool 1)
// while traffic continues; sharing (metallb.io/allow-shared-ip), requested IPs (metallb.io/loadBalancerIPs) and the pool
// annotation (metallb.io/address-pool) behave as MetalLB's; a restart of every node keeps every IP.
import { labSuite, pollUntil, sleep } from '@ingot/lab';
import { beforeEach, expect, it } from 'vitest';
import { type Cluster, docs, l2AdvertisementDoc, poolDoc, serviceDoc, useCluster } from './cluster-harness.js';

const POOL_A = docs(poolDoc('a', ['198.51.100.0/28']), l2AdvertisementDoc('a', ['a']));
const POOL_B = docs(poolDoc('b', ['198.51.100.32/28'], { autoAssign: false }), l2AdvertisementDoc('b', ['b']));
const A1 = serviceDoc({ name: 'a1' });
const B1 = serviceDoc({ name: 'b1', annotations: { 'metallb.io/address-pool': 'b' } });

/** Every service's IPs as every running node reports them (they must agree). */
async function assignments(c: Cluster): Promise<Record<string, string[]>> {
  let agreed: string | undefined;
  let table: Record<string, string[]> = {};
  for (const n of c.running()) {
    const s = await c.status(n.name);
    const mine = Object.fromEntries((s?.services ?? []).map((x) => [x.service, x.ips]));
    const text = JSON.stringify(Object.entries(mine).sort());
    if (agreed !== undefined && agreed !== text)
      throw new Error(`nodes disagree: ${JSON.stringify(await c.allStatus('services'))}`);
    agreed = text;
    table = mine;
  }
  return table;
}

labSuite('ingot cluster: configuration reload, allocation annotations, restart', { tools: ['ip', 'curl'] }, () => {
  const cluster = useCluster({ name: 'cfg', resources: docs(POOL_A, A1), httpPorts: [80, 8080] });
  beforeEach(() => cluster().ensureAllRunning(), 60_000);

  it('a pool and a service added live get served', async () => {
    const c = cluster();
    const [a1] = await c.waitServiceIps('demo/a1', { count: 1 });
    expect(a1).toBe('198.51.100.0');
    await c.waitServed(a1 as string);
    c.setResources(docs(POOL_A, POOL_B, A1, B1));
    // b1 names pool b (autoAssign: false), so it comes from b despite free addresses in a.
    expect(await c.waitServiceIps('demo/b1', { count: 1 })).toEqual(['198.51.100.32']);
    for (const [node, view] of Object.entries(await c.serviceViews('demo/b1'))) expect(view?.pool, node).toBe('b');
    await c.waitServed('198.51.100.32');
    expect((await c.get(a1 as string)).ok).toBe(true);
  }, 90_000);

  it('an invalid file is rejected (stale status and metric) while traffic continues', async () => {
    const c = cluster();
    c.setResources(docs(POOL_A, POOL_B, A1, B1));
    const before = await pollUntil(
      async () => {
        const t = await assignments(c);
        return t['demo/a1']?.length && t['demo/b1']?.length ? t : undefined;
      },
      20_000,
      () => 'services a1 and b1 never both got IPs',
    );
    c.writeRaw(c.fleetText(docs(POOL_A, POOL_B, A1, B1, poolDoc('broken', ['not-an-address']))));
    await pollUntil(
      async () => {
        for (const n of c.running()) if (!(await c.status(n.name))?.config.stale) return undefined;
        return true;
      },
      15_000,
      async () => `not every node reports a stale configuration: ${JSON.stringify(await c.allStatus('config'))}`,
    );
    for (const n of c.running()) {
      const s = await c.status(n.name);
      expect(s?.config.loaded, n.name).toBe(true);
      expect(JSON.stringify(s?.config.issues ?? []), n.name).toContain('broken');
      expect(await c.metric(n.name, 'metallb_k8s_client_config_stale_bool'), n.name).toBe(1);
    }
    // The last good configuration stays in force: same IPs, still served.
    expect(await assignments(c)).toEqual(before);
    for (const ip of [...(before['demo/a1'] ?? []), ...(before['demo/b1'] ?? [])]) {
      const r = await c.get(ip);
      expect(r, ip).toMatchObject({ ok: true });
    }
    // A valid file clears the flag.
    c.setResources(docs(POOL_A, POOL_B, A1, B1));
    await pollUntil(
      async () => {
        for (const n of c.running())
          if ((await c.metric(n.name, 'metallb_k8s_client_config_stale_bool')) !== 0) return undefined;
        return true;
      },
      15_000,
      async () => `stale flag not cleared: ${JSON.stringify(await c.allStatus('config'))}`,
    );
  }, 90_000);

  it("sharing, requested IPs and the pool annotation behave as MetalLB's", async () => {
    const c = cluster();
    const shared = { 'metallb.io/allow-shared-ip': 'team-x' };
    c.setResources(
      docs(
        POOL_A,
        POOL_B,
        A1,
        // Same sharing key, disjoint ports: one IP.
        serviceDoc({ name: 'share-80', annotations: shared, ports: [80] }),
        serviceDoc({ name: 'share-8080', annotations: shared, ports: [8080] }),
        // Same key but an overlapping port: must not join them.
        serviceDoc({ name: 'share-clash', annotations: shared, ports: [80] }),
        // Another key: its own IP.
        serviceDoc({ name: 'other-key', annotations: { 'metallb.io/allow-shared-ip': 'team-y' }, ports: [8080] }),
        // A requested IP.
        serviceDoc({ name: 'pinned', annotations: { 'metallb.io/loadBalancerIPs': '198.51.100.9' } }),
        // The same IP requested without sharing: AllocationFailed, no IP.
        serviceDoc({ name: 'pinned-clash', annotations: { 'metallb.io/loadBalancerIPs': '198.51.100.9' } }),
        // A requested IP outside the named pool: not served from a.
        serviceDoc({
          name: 'wrong-pool',
          annotations: { 'metallb.io/loadBalancerIPs': '198.51.100.33', 'metallb.io/address-pool': 'a' },
        }),
      ),
    );
    const [s80] = await c.waitServiceIps('demo/share-80', { count: 1 });
    expect(await c.waitServiceIps('demo/share-8080', { count: 1 })).toEqual([s80]);
    const [clash] = await c.waitServiceIps('demo/share-clash', { count: 1 });
    const [other] = await c.waitServiceIps('demo/other-key', { count: 1 });
    expect(clash).not.toBe(s80);
    expect(other).not.toBe(s80);
    expect(other).not.toBe(clash);
    expect(await c.waitServiceIps('demo/pinned', { count: 1 })).toEqual(['198.51.100.9']);
    // Both services on the shared IP are reachable on their ports through one owner.
    const owner80 = await c.waitServed(s80 as string, undefined, { port: 80 });
    const owner8080 = await c.waitServed(s80 as string, undefined, { port: 8080 });
    expect(owner8080).toBe(owner80);
    await c.waitServed('198.51.100.9');
    // Give the controller time, then the conflicting requests must still have no IP.
    await sleep(2_000);
    const table = await assignments(c);
    expect(table['demo/pinned-clash'] ?? []).toEqual([]);
    expect(table['demo/wrong-pool'] ?? []).toEqual([]);
    // Every address handed out is unique unless shared under one key.
    const owners = new Map<string, string[]>();
    for (const [svc, ips] of Object.entries(table))
      for (const ip of ips) owners.set(ip, [...(owners.get(ip) ?? []), svc]);
    for (const [ip, svcs] of owners)
      if (svcs.length > 1) expect([ip, svcs.sort()]).toEqual([s80, ['demo/share-80', 'demo/share-8080']]);
  }, 90_000);

  it('a restart of every node (SIGTERM, then SIGKILL) keeps every IP', async () => {
    const c = cluster();
    c.setResources(docs(POOL_A, POOL_B, A1, B1, serviceDoc({ name: 'second' })));
    await c.waitServiceIps('demo/second', { count: 1 });
    // A service added first in the file after the others hold IPs: a fresh allocation in file order would give it
    // 198.51.100.0, so only the persisted assignments can keep the IPs as they are.
    const late = serviceDoc({ name: 'late' });
    c.setResources(docs(POOL_A, POOL_B, late, A1, B1, serviceDoc({ name: 'second' })));
    const [lateIp] = await c.waitServiceIps('demo/late', { count: 1 });
    expect(lateIp).not.toBe('198.51.100.0');
    const before = await assignments(c);
    expect(Object.keys(before).length).toBeGreaterThanOrEqual(4);

    const codes = await Promise.all(c.nodes.map((n) => c.stopNode(n.name, 'SIGTERM')));
    expect(codes).toEqual([0, 0, 0]);
    await c.startAll();
    await c.waitMembers(3);
    for (const [svc, ips] of Object.entries(before)) expect(await c.waitServiceIps(svc), svc).toEqual(ips);
    expect(await assignments(c)).toEqual(before);
    for (const ip of Object.values(before).flat()) await c.waitServed(ip);

    // A crash of every node (SIGKILL, no chance to write anything on the way out) keeps them too.
    expect(await Promise.all(c.nodes.map((n) => c.stopNode(n.name, 'SIGKILL')))).toEqual([null, null, null]);
    await c.startAll();
    await c.waitMembers(3);
    for (const [svc, ips] of Object.entries(before)) expect(await c.waitServiceIps(svc), svc).toEqual(ips);
    expect(await assignments(c)).toEqual(before);
    for (const ip of Object.values(before).flat()) await c.waitServed(ip);
  }, 90_000);
});
