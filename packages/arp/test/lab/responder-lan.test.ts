import { createLan, type LabHost, labSuite } from '@ingot/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, type ResponderChild, startResponder } from './harness.js';

const VIP = '192.0.2.100';
const VIP6 = '2001:db8:0:1::100';

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

labSuite('arp responder takeover on a bridge LAN', { tools: ['ping'] }, () => {
  let lan: Awaited<ReturnType<typeof createLan>>;
  let router: LabHost;
  let n1: LabHost;
  let n2: LabHost;
  let r1: ResponderChild | undefined;
  let r2: ResponderChild | undefined;

  beforeAll(async () => {
    assertBuilt();
    lan = await createLan(2);
    router = lan.router;
    [n1, n2] = lan.hosts as [LabHost, LabHost];
    for (const h of [n1, n2]) {
      await h.run('ip', ['addr', 'add', `${VIP}/32`, 'dev', 'lo']);
      await h.run('ip', ['addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
      await h.run('sysctl', ['-qw', 'net.ipv4.conf.all.arp_ignore=1', `net.ipv4.conf.${h.ifname}.arp_ignore=1`]);
    }
  });

  afterAll(async () => {
    await r1?.close();
    await r2?.close();
    await lan?.destroy();
  });

  const neigh = async (ip: string) => {
    const out = await router.run('ip', [ip.includes(':') ? '-6' : '-4', 'neigh', 'show', ip, 'dev', router.ifname]);
    return /lladdr ([0-9a-f:]{17})/.exec(out)?.[1];
  };

  it('the client learns node 1 by asking', async () => {
    r1 = await startResponder(n1, { interfaces: [n1.ifname], scanIntervalMs: 0 });
    await r1.announce(VIP);
    await r1.announce(VIP6);
    await router.run('ping', ['-c', '1', '-W', '2', VIP]);
    await router.run('ping', ['-6', '-c', '1', '-W', '2', VIP6]);
    expect(await neigh(VIP)).toBe(n1.mac);
    expect(await neigh(VIP6)).toBe(n1.mac);
  });

  it("node 2 takes over: the client's neighbour entries move to node 2's MAC through the gratuitous burst alone", async () => {
    // Node 1 dies without a word (SIGKILL): only node 2's gratuitous ARP / unsolicited NA can move the client.
    r1!.proc.kill('SIGKILL');
    // Default interface selection ('all' with MetalLB's exclude list) picks eth0 and skips lo.
    // Node 2 answers on its answer thread: the takeover must not depend on the receive path.
    r2 = await startResponder(n2, { scanIntervalMs: 500, transportOptions: { receiveMode: 'thread' } });
    expect(r2.interfaces).toEqual([n2.ifname]);
    const t0 = Date.now();
    await r2.announce(VIP);
    await r2.announce(VIP6);
    const mac4 = await waitFor(
      'IPv4 entry to move',
      async () => ((await neigh(VIP)) === n2.mac ? n2.mac : undefined),
      4000,
    );
    const mac6 = await waitFor(
      'IPv6 entry to move',
      async () => ((await neigh(VIP6)) === n2.mac ? n2.mac : undefined),
      4000,
    );
    expect([mac4, mac6]).toEqual([n2.mac, n2.mac]);
    expect(Date.now() - t0).toBeLessThan(4000);
    const s = await r2.stats();
    expect(s.counters[VIP]!.gratuitousSent).toBeGreaterThanOrEqual(2);
    expect(s.counters[VIP6]!.gratuitousSent).toBeGreaterThanOrEqual(1);
    // Traffic to the service now reaches node 2.
    const p = await router.run('ping', ['-c', '2', '-i', '0.2', '-W', '2', VIP]);
    expect(p).toMatch(/ 0% packet loss/);
  });

  it('reacts to interfaces appearing and disappearing (sysfs polling)', async () => {
    await n2.run('ip', ['link', 'add', 'ethx0', 'type', 'veth', 'peer', 'name', 'ethx1']);
    await n2.run('ip', ['link', 'set', 'ethx0', 'up']);
    await n2.run('ip', ['link', 'set', 'ethx1', 'up']);
    const added = await r2!.proc.waitMessage((m) => m?.event === 'interface-added' && m.interface === 'ethx0', 5000);
    expect(added.arp).toBe(true);
    await n2.run('ip', ['link', 'del', 'ethx0']);
    const removed = await r2!.proc.waitMessage(
      (m) => m?.event === 'interface-removed' && m.interface === 'ethx0',
      5000,
    );
    expect(removed.reason).toBe('gone');
  });
});
