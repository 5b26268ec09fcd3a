import { createLan, labSuite, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { BGP_POOL_YAML, spawnLiveDaemon, useConfigFile } from './live-daemon.js';

// The daemon with a BFDProfile in echoMode (echoInterval 200 ms × 3) against FRR's bfdd with echo-mode: BFD comes up
// with the Echo function running on both sides (FRR's Echo packets come back to it through the node's kernel), and
// dropping only forwarded UDP 3785 on the router (nftables) loses the daemon's Echo packets: its session goes Down
// with diagnostic 2 (Echo Function Failed) and the BGP session ends with Cease / BFD Down, while Control packets still
// flow. The node needs net.ipv4.ip_forward=1 and accept_local=1 (docs/configuration.md, BFDProfile echoMode).

const ECHO_MS = 200;
/** Lateness allowed beyond echo interval × 3 on a loaded 2-core CI machine. */
const SLACK_MS = 2000;

const CONFIG = `${BGP_POOL_YAML}apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: echo }
spec: { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoMode: true, echoInterval: ${ECHO_MS} }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.254, holdTime: 30s, bfdProfile: echo }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { type: LoadBalancer, clusterIPs: [198.51.100.10], ports: [{ port: 80 }] }
`;

interface FrrCounters {
  'echo-packet-input'?: number;
}

labSuite(
  'ingot run --announce live: BFDProfile echoMode against FRR bfdd echo-mode',
  { tools: ['ip', 'sysctl', 'nft', 'vtysh', 'bgpd', 'zebra', 'bfdd'] },
  () => {
    const lab = useTopology(() => createLan(1, { name: 'dbfdecho' }));
    const writeConfig = useConfigFile('ingot-daemon-bfd-echo-');

    it('Echo runs on both sides; dropping the Echo path takes the session Down with diagnostic 2 and ends BGP', async () => {
      const { router, hosts } = lab();
      const node = hosts[0]!;
      await node.run('sysctl', [
        '-qw',
        'net.ipv4.ip_forward=1',
        'net.ipv4.conf.all.accept_local=1',
        'net.ipv4.conf.all.send_redirects=0',
      ]);
      await router.run('sysctl', ['-qw', 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.send_redirects=0']);
      const configFile = writeConfig(CONFIG);
      const frr = await startPeer('frr', {
        host: router,
        asn: 64512,
        neighbors: [
          {
            address: node.ipv4,
            asn: 64513,
            passive: true,
            holdTime: 30,
            bfd: { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3, echoInterval: ECHO_MS },
          },
        ],
      });
      const daemon = spawnLiveDaemon(node, configFile, node.ipv4);
      const frrEchoIn = async () =>
        (JSON.parse(await frr.command('show bfd peers counters json')) as FrrCounters[])[0]?.['echo-packet-input'] ?? 0;
      try {
        await frr.waitEstablished(node.ipv4, 20_000);
        await daemon.waitOutput(/"state":"Up"[^\n]*"msg":"bfd session state"/, 20_000);
        expect(daemon.stderr()).not.toMatch(/BFD echo with [^\n]* is off/);
        // FRR's Echo runs and comes back through the node's kernel
        const before = await frrEchoIn();
        await new Promise((r) => setTimeout(r, 3000));
        const after = await frrEchoIn();
        console.log(`daemon BFD echo ${ECHO_MS} ms: FRR echo packets back in 3 s: ${after - before}`);
        expect(after - before).toBeGreaterThanOrEqual(5); // 15 when on time
        expect(daemon.stderr()).not.toMatch(/"diagnostic":2/);

        await router.run('nft', ['add', 'table', 'inet', 'echoblock']);
        await router.run('nft', [
          'add chain inet echoblock echofwd { type filter hook forward priority 0 ; policy accept ; }',
        ]);
        await router.run('nft', ['add rule inet echoblock echofwd udp dport 3785 drop']);
        const t0 = Date.now();
        await daemon.waitOutput(
          /"state":"Down"[^\n]*"diagnostic":2[^\n]*"msg":"bfd session state"|"msg":"bfd session state"[^\n]*"state":"Down"[^\n]*"diagnostic":2/,
          3 * ECHO_MS + SLACK_MS,
        );
        console.log(
          `daemon BFD echo path dropped → Down with diagnostic 2 seen in the log after ${Date.now() - t0} ms`,
        );
        await daemon.waitOutput(/"subcode":10[^\n]*"msg":"bgp notification"/, 5000);
      } finally {
        await daemon.stop('SIGTERM');
        await frr.stop();
      }
    }, 90_000);
  },
);
