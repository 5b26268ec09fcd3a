import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLan, labSuite, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { BGP_POOL_YAML, spawnLiveDaemon, useConfigFile } from './live-daemon.js';

// The daemon with a BGPPeer naming a BFDProfile (100 ms × 3) against FRR with bfdd: BFD comes up, and when FRR's bfdd
// is frozen (SIGSTOP) the daemon's BFD ends the session (Cease / BFD Down) so FRR deletes the route from its kernel
// table within 3 × 100 ms + 100 ms, plus one more detection time of slack for whatever CI runs beside it: that still
// tells BFD from the 30 s hold timer. The tight figures (300 ms and 50 ms × 3 beside FRR-to-FRR BFD in the same run)
// are the benchmark's, `cd packages/bgp && node bench/bfd.mjs`; 50 ms sessions flapped under a loaded CI run.

const PREFIX = '203.0.113.0/32';
const INTERVAL_MS = 100;
const SLACK_MS = 3 * INTERVAL_MS;

const CONFIG = `${BGP_POOL_YAML}apiVersion: metallb.io/v1beta1
kind: BFDProfile
metadata: { name: fast }
spec: { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 }
---
apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: router }
spec: { myASN: 64513, peerASN: 64512, peerAddress: 192.0.2.254, holdTime: 30s, bfdProfile: fast }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { type: LoadBalancer, clusterIPs: [198.51.100.10], ports: [{ port: 80 }] }
`;

labSuite(
  'ingot run --announce live: BGPPeer bfdProfile against FRR bfdd',
  { tools: ['ip', 'vtysh', 'bgpd', 'zebra', 'bfdd'] },
  () => {
    const lab = useTopology(() => createLan(1, { name: 'dbfd' }));
    const writeConfig = useConfigFile('ingot-daemon-bfd-');

    it('BFD comes up; a frozen bfdd makes FRR drop the route within 3 × 100 ms + 100 ms (+ one detection time of slack)', async () => {
      const { router, hosts } = lab();
      const node = hosts[0]!;
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
            bfd: { receiveInterval: INTERVAL_MS, transmitInterval: INTERVAL_MS, detectMultiplier: 3 },
          },
        ],
      });
      const daemon = spawnLiveDaemon(node, configFile, node.ipv4);
      const monitor = router.spawn('ip', ['-ts', 'monitor', 'route']);
      const pid = Number(readFileSync(join(frr.dir, 'bfdd.pid'), 'utf8').trim());
      try {
        await frr.waitEstablished(node.ipv4, 20_000);
        await frr.waitRoutes((r) => r.some((x) => x.prefix === PREFIX), 20_000);
        await daemon.waitOutput(/"state":"Up"[^\n]*"msg":"bfd session state"/, 20_000);
        const deadline = Date.now() + 20_000;
        for (;;) {
          const peers = JSON.parse(await frr.command('show bfd peers json')) as {
            status: string;
            'receive-interval': number;
          }[];
          const route = (await router.run('ip', ['route', 'show', PREFIX])).trim() !== '';
          if (peers[0]?.status === 'up' && peers[0]['receive-interval'] === INTERVAL_MS && route) break;
          if (Date.now() > deadline)
            throw new Error(`FRR BFD not up at ${INTERVAL_MS} ms: ${JSON.stringify(peers)}, route ${route}`);
          await new Promise((r) => setTimeout(r, 200));
        }
        await new Promise((r) => setTimeout(r, 1500)); // our side polls down to the profile's interval after Up
        const deleted = () =>
          monitor
            .stdout()
            .split('\n')
            .filter((l) => l.includes('Deleted') && l.includes(' 203.0.113.0 '))
            .map((l) => Date.parse((/^\[([^\]]+)\]/.exec(l) ?? [])[1] ?? ''));
        const t0 = Date.now();
        process.kill(pid, 'SIGSTOP');
        try {
          const until = Date.now() + 5000;
          while (deleted().length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
          const at = deleted()[0];
          expect(at, `route not deleted on FRR\n--- daemon ---\n${daemon.stderr().slice(-3000)}`).toBeDefined();
          console.log(
            `daemon BFD ${INTERVAL_MS} ms × 3: route deleted on FRR ${((at as number) - t0).toFixed(0)} ms after SIGSTOP of bfdd`,
          );
          expect((at as number) - t0).toBeLessThanOrEqual(3 * INTERVAL_MS + 100 + SLACK_MS);
          await daemon.waitOutput(/"subcode":10[^\n]*"msg":"bgp notification"/, 5000);
        } finally {
          process.kill(pid, 'SIGCONT');
        }
      } finally {
        await monitor.stop();
        await daemon.stop('SIGTERM');
        await frr.stop();
      }
    }, 90_000);
  },
);
