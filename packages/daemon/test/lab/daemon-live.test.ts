import { createLan, labSuite, pollUntil, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { spawnLiveDaemon, useConfigFile } from './live-daemon.js';

const CONFIG = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: l2 }
spec: { addresses: [192.0.2.100-192.0.2.101] }
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: bgp }
spec: { addresses: [203.0.113.0/28], autoAssign: false }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
spec: { ipAddressPools: [l2], interfaces: [eth0] }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.254, holdTime: 9s }
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: { name: bgp }
spec: { ipAddressPools: [bgp], communities: ['64513:100'] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { type: LoadBalancer, clusterIPs: [198.51.100.10], ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: demo, annotations: { metallb.io/address-pool: bgp } }
spec: { type: LoadBalancer, clusterIPs: [198.51.100.11], ports: [{ port: 443 }] }
`;

labSuite(
  'ingot run --announce live: layer 2 and BGP on a LAN',
  { tools: ['ip', 'arping', 'vtysh', 'bgpd', 'zebra'] },
  () => {
    const lab = useTopology(() => createLan(1, { name: 'daemon' }));
    const writeConfig = useConfigFile('ingot-daemon-');

    it('answers ARP for the allocated IP with its own MAC and advertises the BGP pool IP to FRR', async () => {
      const { router, hosts } = lab();
      const node = hosts[0]!;
      const configFile = writeConfig(CONFIG);
      const frr = await startPeer('frr', {
        host: router,
        asn: 64512,
        neighbors: [{ address: node.ipv4, asn: 64513, passive: true, holdTime: 9 }],
      });
      const daemon = spawnLiveDaemon(node, configFile, node.ipv4, ['--realtime-priority', '5']);
      await daemon.waitOutput(/announcing from node \\"node-1\\" with protocol \\"layer2\\"/, 15_000);
      // As root the answer thread runs at SCHED_FIFO 5 and the event loop (the main thread) at normal priority; chrt
      // reads every thread of the daemon back by its id.
      await daemon.waitOutput(/layer2 answering at real-time priority/, 10_000);
      const policies = await node.exec('sh', [
        '-c',
        `for t in /proc/${daemon.pid}/task/*; do echo "tid \${t##*/}"; chrt -p "\${t##*/}"; done`,
      ]);
      const byThread = policies.stdout.split('tid ').filter(Boolean);
      const fifo5 = byThread.filter((t) => /SCHED_FIFO[\s\S]*priority: 5/.test(t));
      expect(fifo5, policies.stdout).toHaveLength(1);
      expect(fifo5[0]!.startsWith(`${daemon.pid}\n`), policies.stdout).toBe(false);
      expect(
        byThread.find((t) => t.startsWith(`${daemon.pid}\n`)),
        policies.stdout,
      ).toMatch(/SCHED_OTHER/);

      const arping = await router.exec('arping', ['-I', router.ifname, '-c', '3', '-w', '5', '192.0.2.100']);
      expect(arping.code, `${arping.stdout}${arping.stderr}\n--- daemon ---\n${daemon.stderr()}`).toBe(0);
      expect(arping.stdout.toLowerCase()).toContain(node.mac.toLowerCase());
      const unannounced = await router.exec('arping', ['-I', router.ifname, '-c', '2', '-w', '3', '192.0.2.101']);
      expect(unannounced.code).not.toBe(0);

      await frr.waitEstablished(node.ipv4, 20_000);
      const routes = await frr.waitRoutes((r) => r.some((x) => x.prefix === '203.0.113.0/32'), 20_000);
      expect(routes.find((x) => x.prefix === '203.0.113.0/32')).toMatchObject({
        nextHop: node.ipv4,
        asPath: [64513],
        communities: ['64513:100'],
      });

      await daemon.stop('SIGTERM');
      await pollUntil(
        async () => ((await frr.routes()).length === 0 ? true : undefined),
        15_000,
        async () => `routes still in FRR after the daemon stopped: ${JSON.stringify(await frr.routes())}`,
      );
    }, 90_000);
  },
);
