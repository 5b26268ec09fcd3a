import { createPair, labSuite, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { BGP_POOL_YAML, spawnLiveDaemon, useConfigFile } from './live-daemon.js';

// The daemon with a BGPPeer `interface` (BGP unnumbered) against FRR's `neighbor veth-b interface`, on a link with only
// link-local addresses: the daemon finds FRR by its router advertisements, the session comes up between the two
// link-local addresses, and the Service's IPv4 address reaches FRR's kernel table with our link-local as an IPv6 next hop
// (RFC 8950). Deleting the Service from the configuration withdraws it.

const SERVICE_IP = '203.0.113.5';
/** FRR's connect retry (1 s) and RA interval (10 s) plus slack for a loaded 2-core machine. */
const WAIT_MS = 40_000;

const config = (withService: boolean) => `${BGP_POOL_YAML}apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: { name: tor }
spec: { myASN: 64513, dynamicASN: external, interface: veth-a, holdTime: 9s }
${
  withService
    ? `---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: demo }
spec: { type: LoadBalancer, clusterIPs: [198.51.100.10], loadBalancerIP: ${SERVICE_IP}, ports: [{ port: 80 }] }
`
    : ''
}`;

labSuite(
  'ingot run --announce live: BGPPeer interface (unnumbered) against FRR',
  { tools: ['ip', 'vtysh', 'bgpd', 'zebra'] },
  () => {
    const lab = useTopology(() => createPair({ name: 'dunnum' }));
    const writeConfig = useConfigFile('ingot-daemon-unnumbered-');

    it('peers over link-local only and FRR installs the Service IPv4 address via inet6; removing the Service withdraws it', async () => {
      const { a, b } = lab();
      await Promise.all([a, b].map((h) => h.run('ip', ['addr', 'flush', 'dev', h.ifname, 'scope', 'global'])));
      const ours = JSON.parse(await a.run('ip', ['-j', '-6', 'addr', 'show', 'dev', a.ifname, 'scope', 'link']))[0]
        ?.addr_info?.[0]?.local as string;
      expect(ours).toMatch(/^fe80:/);
      const configFile = writeConfig(config(true));
      const n = ` neighbor ${b.ifname}`;
      const frr = await startPeer('frr', {
        host: b,
        asn: 64512,
        // startPeer wants one address neighbour: a passive one, never contacted (documentation range)
        neighbors: [{ address: '192.0.2.254', asn: 64599, passive: true }],
        extraConfig: [
          'router bgp 64512',
          `${n} interface remote-as external`,
          `${n} timers 3 9`,
          `${n} timers connect 1`,
          ' address-family ipv4 unicast',
          `  neighbor ${b.ifname} activate`,
          `  neighbor ${b.ifname} route-map IN in`,
          ' exit-address-family',
          'exit',
        ].join('\n'),
      });
      const daemon = spawnLiveDaemon(a, configFile, '192.0.2.1');
      const route = async (pred: (out: string) => boolean) => {
        const deadline = Date.now() + WAIT_MS;
        for (;;) {
          const out = await b.run('ip', ['route', 'show', `${SERVICE_IP}/32`]);
          if (pred(out)) return out;
          if (Date.now() > deadline)
            throw new Error(`route ${SERVICE_IP}: ${out.trim()}\n--- daemon ---\n${daemon.stderr().slice(-3000)}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      };
      try {
        expect(await route((out) => out.includes('via inet6'))).toContain(`via inet6 ${ours} dev ${b.ifname}`);
        expect(daemon.stderr()).toMatch(/"msg":"bgp unnumbered neighbour found"/);
        writeConfig(config(false));
        daemon.kill('SIGHUP');
        await route((out) => out.trim() === '');
      } finally {
        await daemon.stop('SIGTERM');
        await frr.stop();
      }
    }, 120_000);
  },
);
