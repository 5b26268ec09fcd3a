import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPair, type LabHost, labSuite, startPeer, useTopology } from '@ingot/lab';
import { expect, it } from 'vitest';
import { SpeakerChild } from './speaker-harness.js';

// MetalLB's FRR-mode BGPPeer `interface` (BGP unnumbered) against FRR's `neighbor IFNAME interface`: the link carries
// no IPv4 address and no global IPv6 address, only the kernel's link-local ones. Each side finds the other by its
// router advertisements (FRR: zebra, on bgpd's request; us: LinkLocalDiscovery), the session runs between the two
// link-local addresses, and our IPv4 service prefix reaches FRR's kernel table with an IPv6 next hop (RFC 8950).

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra', 'bfdd'];
const US = 64513;
const FRR_AS = 64512;
const V4 = '198.51.100.0/24';
const V6 = '2001:db8:100::/48';
/** A polling bound: FRR's connect retry (1 s), its RA interval (10 s), plus slack for a loaded 2-core machine. */
const WAIT_MS = 30_000;

/**
 * FRR's unnumbered neighbour on `ifname`, in both families, with the lab's permit-all IN and own-routes-only OUT; with
 * `bfd`, BFD to it with the profile the lab's FRR driver writes for its first neighbour (lab0).
 */
function unnumberedConfig(ifname: string, bfd = false): string {
  const n = ` neighbor ${ifname}`;
  const family = (af: string) => [
    ` address-family ${af} unicast`,
    `  neighbor ${ifname} activate`,
    `  neighbor ${ifname} route-map IN in`,
    `  neighbor ${ifname} route-map OUT out`,
    ' exit-address-family',
  ];
  return [
    `router bgp ${FRR_AS}`,
    `${n} interface remote-as external`,
    `${n} timers 3 9`,
    `${n} timers connect 1`,
    ...(bfd ? [`${n} bfd`, `${n} bfd profile lab0`] : []),
    ...family('ipv4'),
    ...family('ipv6'),
    'exit',
  ].join('\n');
}

/** Leaves only link-local addresses on the host's link (no IPv4, no global IPv6); returns its link-local address. */
async function linkLocalOnly(host: LabHost): Promise<string> {
  await host.run('ip', ['addr', 'flush', 'dev', host.ifname, 'scope', 'global']);
  const deadline = Date.now() + 10_000;
  for (;;) {
    const out = await host.run('ip', ['-j', 'addr', 'show', 'dev', host.ifname]);
    const [link] = JSON.parse(out) as { addr_info: { family: string; local: string; scope: string }[] }[];
    const info = link?.addr_info ?? [];
    expect(info.filter((a) => a.scope === 'global')).toEqual([]);
    const ll = info.find((a) => a.family === 'inet6' && a.scope === 'link')?.local;
    if (ll) return ll;
    if (Date.now() > deadline) throw new Error(`no link-local address on ${host.ifname}: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `ip [-6] route show PREFIX` in `host` (ip needs the family flag for an IPv6 prefix). */
function kernelRoute(host: LabHost, prefix: string): Promise<string> {
  return host.run('ip', [...(prefix.includes(':') ? ['-6'] : []), 'route', 'show', prefix]);
}

/** Polls {@link kernelRoute} until `pred` holds; resolves with the output. */
async function waitKernelRoute(host: LabHost, prefix: string, pred: (out: string) => boolean): Promise<string> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const out = await kernelRoute(host, prefix);
    if (pred(out)) return out;
    if (Date.now() > deadline) throw new Error(`ip route show ${prefix} in ${host.ns}: still ${out.trim()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** BFD timers of the BFD case (ms): FRR's and ours. */
const BFD = { receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 };

/** FRR on `host` with the unnumbered neighbour on its link (and bfdd with profile lab0 when `bfd`). */
function startUnnumberedFrr(host: LabHost, bfd = false) {
  return startPeer('frr', {
    host,
    asn: FRR_AS,
    // startPeer wants one address neighbour: a passive one, never contacted (documentation range, and no route to it
    // on a link without IPv4); with `bfd` it carries the BFD profile, so bfdd runs and lab0 exists
    neighbors: [{ address: '203.0.113.254', asn: 64599, passive: true, ...(bfd ? { bfd: BFD } : {}) }],
    extraConfig: unnumberedConfig(host.ifname, bfd),
  });
}

/** Runs LinkLocalDiscovery in the child on its host's link; resolves with the router's link-local address. */
function discover(child: SpeakerChild): Promise<string> {
  return child.request<string>('discover', { interface: child.host.ifname, timeoutMs: WAIT_MS }, WAIT_MS + 5000);
}

labSuite('BGPPeer interface (unnumbered) vs FRR', { tools: TOOLS }, () => {
  const lab = useTopology(() => createPair({ name: 'unnum' }));

  it('finds FRR by its router advertisements, peers over link-local only, and FRR installs IPv4 via inet6', async () => {
    const { a, b } = lab();
    const [ours, theirs] = await Promise.all([linkLocalOnly(a), linkLocalOnly(b)]);
    const frr = await startUnnumberedFrr(b);
    const child = await SpeakerChild.start(a, { asn: US, routerId: '192.0.2.1' });
    try {
      const found = await discover(child);
      expect(found).toBe(theirs);
      const address = `${found}%${a.ifname}`;
      await child.request('addPeer', {
        options: { address: found, interface: a.ifname, asn: 'external', holdTime: 9, connectTimeoutMs: 2000 },
      });
      await child.waitEstablished(address, WAIT_MS);
      const [peer] = await child.peers();
      expect(peer?.address).toBe(address);
      expect(peer?.session).toMatchObject({ extendedNextHop: true, peerAsn: FRR_AS, families: ['ipv4', 'ipv6'] });
      expect(String(peer?.session?.remoteAddress)).toBe(address);

      await child.request('announce', { prefix: V4, options: {} });
      await child.request('announce', { prefix: V6, options: {} });
      // The IPv4 route's next hop is our link-local address, in the kernel as an IPv6 gateway on the link.
      const route4 = await waitKernelRoute(b, V4, (out) => out.includes('via inet6'));
      expect(route4).toContain(`via inet6 ${ours} dev ${b.ifname}`);
      const route6 = await waitKernelRoute(b, V6, (out) => out.includes('via'));
      expect(route6).toContain(`via ${ours} dev ${b.ifname}`);
      const bgp = JSON.parse(await frr.command(`show bgp ipv4 unicast ${V4} json`)) as {
        paths?: { aspath?: { string?: string }; nexthops?: { ip?: string; afi?: string }[] }[];
      };
      expect(bgp.paths?.[0]?.aspath?.string).toBe(String(US));
      expect(bgp.paths?.[0]?.nexthops?.some((h) => h.afi === 'ipv6' && h.ip === ours)).toBe(true);

      await child.request('withdraw', { prefix: V4 });
      await waitKernelRoute(b, V4, (out) => out.trim() === '');
      // the IPv6 route stays: only the withdrawn prefix went
      expect(await kernelRoute(b, V6)).toContain(`via ${ours}`);
    } finally {
      await child.close();
      await frr.stop();
    }
  }, 120_000);

  it('FRR learns our link-local from our router advertisements and connects to our listener', async () => {
    const { a, b } = lab();
    const [ours, theirs] = await Promise.all([linkLocalOnly(a), linkLocalOnly(b)]);
    const frr = await startUnnumberedFrr(b);
    const child = await SpeakerChild.start(a, { asn: US, routerId: '192.0.2.1', listen: true });
    try {
      expect(await discover(child)).toBe(theirs);
      // passive: we never dial, so the session exists only if FRR found our address (it learns it from our RAs)
      await child.request('addPeer', {
        options: { address: theirs, interface: a.ifname, asn: FRR_AS, holdTime: 9, passive: true },
      });
      const est = await child.waitEstablished(`${theirs}%${a.ifname}`, WAIT_MS);
      expect(est.info).toMatchObject({ direction: 'incoming', extendedNextHop: true });
      await child.request('announce', { prefix: V4, options: {} });
      expect(await waitKernelRoute(b, V4, (out) => out.includes('via inet6'))).toContain(`via inet6 ${ours}`);
    } finally {
      await child.close();
      await frr.stop();
    }
  }, 120_000);

  it('runs BFD to FRR over the link-locals: Up on both sides, and a frozen bfdd ends the session with Cease / BFD Down', async () => {
    const { a, b } = lab();
    const [ours, theirs] = await Promise.all([linkLocalOnly(a), linkLocalOnly(b)]);
    const frr = await startUnnumberedFrr(b, true);
    const child = await SpeakerChild.start(a, { asn: US, routerId: '192.0.2.1' });
    const address = `${theirs}%${a.ifname}`;
    try {
      expect(await discover(child)).toBe(theirs);
      await child.request('addPeer', {
        options: { address: theirs, interface: a.ifname, asn: FRR_AS, holdTime: 9, bfd: BFD },
      });
      await child.waitEstablished(address, WAIT_MS);
      await child.waitEvent((e) => e.event === 'bfd' && e.address === address && e.state === 'Up', WAIT_MS);
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const peers = JSON.parse(await frr.command('show bfd peers json')) as { peer: string; status: string }[];
        const mine = peers.find((p) => p.peer === ours);
        if (mine?.status === 'up') break;
        if (Date.now() > deadline) throw new Error(`FRR's BFD session to ${ours}: ${JSON.stringify(peers)}`);
        await new Promise((r) => setTimeout(r, 200));
      }
      // A functional check, not a timing one (bench/bfd.mjs measures detection): the bound is the hold time.
      const t0 = performance.timeOrigin + performance.now();
      const after = (e: Record<string, unknown>) => typeof e.at === 'number' && e.at >= t0;
      const down = child.waitEvent((e) => e.event === 'bfd' && e.state === 'Down' && after(e), 9000);
      const cease = child.waitEvent((e) => e.event === 'notification' && e.direction === 'sent' && after(e), 9000);
      const pid = Number(readFileSync(join(frr.dir, 'bfdd.pid'), 'utf8').trim());
      process.kill(pid, 'SIGSTOP');
      try {
        const [ev, n] = await Promise.all([down, cease]);
        expect(ev.diagnostic).toBe(1); // Control Detection Time Expired
        expect([n.code, n.subcode]).toEqual([6, 10]); // Cease / BFD Down (RFC 9384)
      } finally {
        process.kill(pid, 'SIGCONT');
      }
    } finally {
      await child.close();
      await frr.stop();
    }
  }, 120_000);
});
