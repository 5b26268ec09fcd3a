import { createLan, type LabHost, labSuite, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { has, SpeakerChild } from './speaker-harness.js';

// Weighted ECMP: two of our speakers (n1, n2) announce the same /32 with the link bandwidth extended community in the
// ratio 3:1 (as two nodes with three and one serving endpoints would); FRR with maximum-paths and its default
// 'bgp bestpath bandwidth' installs one multipath route whose kernel next-hop weights are 3:1, and with the L4 multipath
// hash a client's 400 connections through the router split 75/25 between the two nodes (each serves the /32 on lo).

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra', 'sysctl'];
const US = 64513;
const FRR_AS = 64512;
const V4 = '198.51.100.10/32';
const VIP = '198.51.100.10';
const MBIT = 125_000; // bytes per second
const REQUESTS = 400;

/** An HTTP server on VIP:8080 in `host` answering with `name` on a fresh connection each time. */
function serve(host: LabHost, name: string) {
  const code = `require('node:http').createServer((q, s) => { s.setHeader('connection', 'close'); s.end(${JSON.stringify(name)}); }).listen(8080, ${JSON.stringify(VIP)}, () => console.log('listening'));`;
  return host.spawn(process.execPath, ['-e', code]);
}

/** REQUESTS sequential requests from `client`, each on a new TCP connection (new source port); answers counted. */
async function spread(client: LabHost): Promise<Record<string, number>> {
  const code = `
const http = require('node:http');
const counts = {};
const one = () => new Promise((resolve, reject) => {
  const req = http.get({ host: ${JSON.stringify(VIP)}, port: 8080, agent: false, timeout: 2000 }, (res) => {
    let body = ''; res.on('data', (d) => (body += d)); res.on('end', () => { counts[body] = (counts[body] ?? 0) + 1; resolve(); });
  });
  req.on('timeout', () => req.destroy(new Error('timeout'))); req.on('error', reject);
});
(async () => { for (let i = 0; i < ${REQUESTS}; i++) await one(); console.log(JSON.stringify(counts)); })().catch((e) => { console.error(e.message); process.exit(1); });`;
  const out = await client.run(process.execPath, ['-e', code], { timeoutMs: 60_000 });
  return JSON.parse(out.trim().split('\n').pop() as string) as Record<string, number>;
}

labSuite('weighted ECMP with link bandwidth vs FRR', { tools: TOOLS }, () => {
  const lab = useTopology(() => createLan(3, { name: 'wecmp' }));

  it('FRR installs the two next hops with weights 3:1, and 400 connections through it split 75/25', async () => {
    const { router, hosts } = lab();
    const [n1, n2, client] = hosts as [LabHost, LabHost, LabHost];
    // The router forwards with the L4 hash and sends no redirects (the client must keep going through it).
    for (const s of [
      'net.ipv4.ip_forward=1',
      'net.ipv4.fib_multipath_hash_policy=1',
      'net.ipv4.conf.all.send_redirects=0',
      `net.ipv4.conf.${router.ifname}.send_redirects=0`,
    ]) {
      await router.run('sysctl', ['-qw', s]);
    }
    await client.run('ip', ['route', 'add', V4, 'via', router.ipv4]);
    await client.run('sysctl', ['-qw', 'net.ipv4.conf.all.accept_redirects=0']);
    const frr = await startPeer('frr', {
      host: router,
      asn: FRR_AS,
      neighbors: [
        { address: n1.ipv4, asn: US, passive: true, holdTime: 9 },
        { address: n2.ipv4, asn: US, passive: true, holdTime: 9 },
      ],
      extraConfig: [
        'router bgp 64512',
        ' address-family ipv4 unicast',
        '  maximum-paths 4',
        ' exit-address-family',
        'exit',
      ].join('\n'),
    });
    const speakers: SpeakerChild[] = [];
    const servers = [];
    try {
      for (const [host, endpoints, name] of [
        [n1, 3, 'n1'],
        [n2, 1, 'n2'],
      ] as const) {
        await host.run('ip', ['addr', 'add', `${VIP}/32`, 'dev', 'lo']);
        const server = serve(host, name);
        servers.push(server);
        await server.waitOutput(/listening/, 10_000);
        const us = await SpeakerChild.start(host, { asn: US, routerId: host.ipv4 }, [
          { address: router.ipv4, asn: FRR_AS, families: ['ipv4'], holdTime: 9 },
        ]);
        speakers.push(us);
        await us.waitEstablished(router.ipv4, 20_000);
        await us.request('announce', { prefix: V4, options: { nextHop: host.ipv4, linkBandwidth: endpoints * MBIT } });
      }
      await frr.waitRoutes((r) => r.filter((x) => x.prefix === V4).length === 2, 15_000);
      /** n1:n2 kernel weight ratio once `ok(ratio)` holds (or the deadline passes). */
      const ratio = async (ok: (r: number) => boolean) => {
        let weights: Record<string, number> = {};
        let r = Number.NaN;
        const deadline = Date.now() + 15_000;
        while (Date.now() < deadline) {
          const routes = JSON.parse(await router.run('ip', ['-j', 'route', 'show', V4])) as {
            nexthops?: { gateway: string; weight?: number }[];
          }[];
          weights = Object.fromEntries((routes[0]?.nexthops ?? []).map((h) => [h.gateway, h.weight ?? 1]));
          r = (weights[n1.ipv4] ?? Number.NaN) / (weights[n2.ipv4] ?? Number.NaN);
          if (ok(r)) break;
          await new Promise((res) => setTimeout(res, 200));
        }
        console.log(`kernel next-hop weights on FRR: ${JSON.stringify(weights)}`);
        return r;
      };
      const threeToOne = await ratio((r) => r > 2.9 && r < 3.1);
      expect(threeToOne).toBeGreaterThan(2.9);
      expect(threeToOne).toBeLessThan(3.1);
      expect(has(V4)(await frr.routes('ipv4'))).toBe(true);

      const counts = await spread(client);
      const share = (counts.n1 ?? 0) / REQUESTS;
      console.log(`${REQUESTS} connections through FRR: ${JSON.stringify(counts)} (n1 ${(share * 100).toFixed(1)} %)`);
      expect((counts.n1 ?? 0) + (counts.n2 ?? 0)).toBe(REQUESTS);
      expect(Math.abs(share - 0.75)).toBeLessThanOrEqual(0.075); // within ±10 % of 75/25

      // Control: the weights follow the community (n1 down to one endpoint: 1:1)
      await speakers[0]?.request('announce', { prefix: V4, options: { nextHop: n1.ipv4, linkBandwidth: MBIT } });
      expect(await ratio((r) => r === 1)).toBe(1);
    } finally {
      for (const s of speakers) await s.close();
      for (const s of servers) await s.stop();
      await frr.stop();
    }
  }, 120_000);
});
