// Issue 17, the kernel data path (Node spec.dataPath: interface): the layer-2 owner puts the service IP on its
// announcing interface, so the Linux kernel answers ARP and NDP for it (as with keepalived and kube-vip). Three ingot
// nodes and a client on one segment (cluster-harness.ts). The owner's daemon is frozen (SIGSTOP: neither the event
// loop nor the answer thread runs) and arping / ndisc6 from the client are still answered with the owner's MAC: by its
// kernel. After a graceful handover only the new owner answers and the old one holds the IPs on no interface; after
// every daemon stopped, no node holds them anywhere.
import { labSuite, sleep } from '@ingot/lab';
import { expect, it } from 'vitest';
import { type Cluster, docs, l2AdvertisementDoc, poolDoc, serviceDoc, useCluster } from './cluster-harness.js';

const RESOURCES = docs(
  poolDoc('l2', ['198.51.100.0/28', '2001:db8:100::/124']),
  l2AdvertisementDoc('l2', ['l2']),
  serviceDoc({ name: 'web4', family: 'IPv4' }),
  serviceDoc({ name: 'web6', family: 'IPv6' }),
);

/**
 * The MACs that answered `ip` from the client: arping (IPv4) or ndisc6 (IPv6); `first`: stop at the first answer,
 * else every answer to 3 requests (arping) or one solicitation (ndisc6 waits for all).
 */
async function answerers(c: Cluster, ip: string, first = false): Promise<string[]> {
  const opts = { timeoutMs: 10_000 };
  const r = ip.includes(':')
    ? await c.client.exec('ndisc6', [first ? '-1' : '-m', '-n', '-r', '3', '-w', '500', ip, c.client.ifname], opts)
    : await c.client.exec('arping', ['-I', c.client.ifname, '-c', first ? '1' : '3', '-w', '3', ip], opts);
  const macs = (r.stdout.toLowerCase().match(/([0-9a-f]{2}(?::[0-9a-f]{2}){5})/g) ?? []).filter(
    (m) => m !== c.client.mac.toLowerCase(),
  );
  return [...new Set(macs)];
}

/** Where `node` holds `ip` (device names), from `ip -o addr show` in its namespace. */
async function devicesOf(c: Cluster, node: string, ip: string): Promise<string[]> {
  const out = await c.node(node).host.run('ip', ['-o', 'addr', 'show']);
  return out
    .split('\n')
    .filter((l) => l.includes(` ${ip}/`))
    .map((l) => l.split(/\s+/)[1] as string);
}

/**
 * `node`'s devices holding `ip` once they equal `want`, or the last seen after 5 s: a node that just handed an IP over
 * keeps it on `lo` for its drain (2 s).
 */
async function settledDevices(c: Cluster, node: string, ip: string, want: string[]): Promise<string[]> {
  let got = await devicesOf(c, node, ip);
  for (let i = 0; i < 50 && JSON.stringify(got) !== JSON.stringify(want); i++) {
    await sleep(100);
    got = await devicesOf(c, node, ip);
  }
  return got;
}

/** The owner every running node's status names for `ip` of `service`, once they agree. */
async function agreedOwner(c: Cluster, service: string, ip: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const owners = new Set<string | undefined>();
    for (const n of c.running())
      owners.add((await c.status(n.name))?.services.find((s) => s.service === service)?.owners?.[ip]);
    const [only] = owners;
    if (owners.size === 1 && only !== undefined) return only;
    await sleep(100);
  }
  throw new Error(`the nodes never agreed on an owner of ${ip}`);
}

labSuite('ingot cluster: kernel data path (dataPath: interface)', { tools: ['ip', 'curl', 'arping', 'ndisc6'] }, () => {
  const cluster = useCluster({ name: 'l2if', resources: RESOURCES, dataPath: 'interface' });

  it('the owner kernel answers ARP and NDP from eth0; after a handover only the new owner; nothing left after stop', async () => {
    const c = cluster();
    await c.ensureAllRunning();
    const [ip4] = (await c.waitServiceIps('demo/web4', { count: 1 })) as [string];
    const [ip6] = (await c.waitServiceIps('demo/web6', { count: 1 })) as [string];
    const macOf = (node: string) => c.node(node).host.mac.toLowerCase();
    for (const [service, ip] of [
      ['demo/web4', ip4],
      ['demo/web6', ip6],
    ] as const) {
      await c.waitServed(ip);
      const owner = await agreedOwner(c, service, ip);
      for (const n of c.nodes) {
        const want = n.name === owner ? ['eth0'] : [];
        expect(await settledDevices(c, n.name, ip, want), `${ip} on ${n.name} (owner ${owner})`).toEqual(want);
      }
      // Freeze the owner's daemon: what still answers is its kernel. The first answer is taken, long before the
      // others' failure detection (about 0.5 s) could move the IP.
      const pid = c.node(owner).daemon?.pid as number;
      process.kill(pid, 'SIGSTOP');
      let frozen: string[];
      try {
        frozen = await answerers(c, ip, true);
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      expect(frozen, `${ip}: answered while ${owner}'s daemon was stopped`).toEqual([macOf(owner)]);
      await c.waitMembers(3);
      const current = await agreedOwner(c, service, ip);
      expect(current, 'the freeze moved the IP (failure detection)').toBe(owner);

      // Graceful handover: the new owner's kernel answers, the old node holds the IP nowhere once it exited.
      expect(await c.stopNode(owner, 'SIGTERM'), c.logTail(owner)).toBe(0);
      const next = await c.waitServed(ip, (n) => n !== owner, { timeoutMs: 10_000 });
      expect(await devicesOf(c, owner, ip), `${ip} left on ${owner} after its stop`).toEqual([]);
      expect(await devicesOf(c, next, ip)).toEqual(['eth0']);
      expect(await answerers(c, ip), `${ip}: who answers after ${owner} handed over to ${next}`).toEqual([macOf(next)]);
      await c.ensureAllRunning();
    }

    for (const n of c.nodes) expect(await c.stopNode(n.name, 'SIGTERM'), c.logTail(n.name)).toBe(0);
    for (const n of c.nodes)
      for (const ip of [ip4, ip6]) expect(await devicesOf(c, n.name, ip), `${ip} left on ${n.name}`).toEqual([]);
  }, 240_000);
});
