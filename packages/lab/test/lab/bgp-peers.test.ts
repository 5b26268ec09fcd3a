import { describe, expect, it } from 'vitest';
import {
  type BgpPeer,
  createLan,
  createPair,
  fault,
  type LabHost,
  labSuite,
  type PeerRoute,
  startPeer,
  useTopology,
} from '../../src/index.js';

const BGP_TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra', 'bird', 'birdc', 'gobgpd', 'gobgp', 'exabgp'];

const byPrefix = (routes: PeerRoute[], prefix: string) => routes.find((r) => r.prefix === prefix);
const has =
  (...prefixes: string[]) =>
  (routes: PeerRoute[]) =>
    prefixes.every((p) => byPrefix(routes, p));

labSuite('lab BGP peers (real daemons)', { tools: BGP_TOOLS }, () => {
  describe('BIRD (active) <-> GoBGP (passive), eBGP over IPv4 and IPv6', () => {
    const lab = useTopology(() => createPair({ name: 'birdgo' }));
    let bird: BgpPeer;
    let gobgp: BgpPeer;

    it('establishes both sessions', async () => {
      const { a, b } = lab();
      gobgp = await startPeer('gobgp', {
        host: b,
        asn: 64512,
        neighbors: [
          { address: a.ipv4, asn: 64513, passive: true },
          { address: a.ipv6, asn: 64513, passive: true },
        ],
        announce: [{ prefix: '203.0.113.0/24', communities: ['64512:7'], largeCommunities: ['64512:1:2'], med: 5 }],
      });
      bird = await startPeer('bird', {
        host: a,
        asn: 64513,
        neighbors: [
          { address: b.ipv4, asn: 64512 },
          { address: b.ipv6, asn: 64512 },
        ],
        announce: [
          {
            prefix: '198.51.100.1/32',
            communities: ['64513:100', 'no-export'],
            largeCommunities: ['64513:1:2'],
            med: 10,
          },
          { prefix: '2001:db8:100::1/128', communities: ['64513:100'] },
        ],
      });
      await gobgp.waitEstablished(a.ipv4, 20_000);
      await gobgp.waitEstablished(a.ipv6, 20_000);
      await bird.waitEstablished(b.ipv4);
      const s = await gobgp.sessions();
      expect(s[a.ipv4]?.state).toBe('Established');
      expect(s[a.ipv4]?.uptimeMs).toBeGreaterThanOrEqual(0);
    }, 60_000);

    it('GoBGP receives BIRD routes with their attributes (IPv4 and IPv6)', async () => {
      const { a } = lab();
      const routes = await gobgp.waitRoutes(has('198.51.100.1/32', '2001:db8:100::1/128'));
      expect(byPrefix(routes, '198.51.100.1/32')).toEqual({
        prefix: '198.51.100.1/32',
        nextHop: a.ipv4,
        asPath: [64513],
        communities: ['64513:100', '65535:65281'],
        largeCommunities: ['64513:1:2'],
        med: 10,
        origin: 'igp',
        peer: a.ipv4,
      });
      expect(byPrefix(routes, '2001:db8:100::1/128')).toMatchObject({
        nextHop: a.ipv6,
        asPath: [64513],
        communities: ['64513:100'],
        peer: a.ipv6,
      });
      expect(await gobgp.routes('ipv4')).toHaveLength(1);
    }, 40_000);

    it('BIRD receives the GoBGP route and GoBGP never echoes BIRD routes back', async () => {
      const { b } = lab();
      const routes = await bird.waitRoutes(has('203.0.113.0/24'));
      expect(byPrefix(routes, '203.0.113.0/24')).toMatchObject({
        nextHop: b.ipv4,
        asPath: [64512],
        communities: ['64512:7'],
        largeCommunities: ['64512:1:2'],
        med: 5,
        peer: b.ipv4,
      });
      expect(routes.map((r) => r.prefix)).not.toContain('198.51.100.1/32');
      expect(await bird.command('show protocols')).toMatch(/peer_0\s+BGP/);
    }, 40_000);
  });

  describe('FRR (passive) <-> ExaBGP (active), eBGP over IPv4 and IPv6', () => {
    const lab = useTopology(() => createPair({ name: 'frrexa' }));
    let frr: BgpPeer;
    let exa: BgpPeer;

    it('establishes both sessions and FRR receives ExaBGP routes', async () => {
      const { a, b } = lab();
      frr = await startPeer('frr', {
        host: b,
        asn: 64512,
        neighbors: [
          { address: a.ipv4, asn: 64513, passive: true },
          { address: a.ipv6, asn: 64513, passive: true },
        ],
        announce: [{ prefix: '203.0.113.0/24', communities: ['64512:7'] }, { prefix: '2001:db8:ff::/48' }],
      });
      exa = await startPeer('exabgp', {
        host: a,
        asn: 64513,
        neighbors: [
          { address: b.ipv4, asn: 64512 },
          { address: b.ipv6, asn: 64512 },
        ],
        announce: [
          { prefix: '198.51.100.1/32', communities: ['64513:100'], largeCommunities: ['64513:1:2'], med: 10 },
          { prefix: '2001:db8:100::1/128', communities: ['64513:100'] },
        ],
      });
      await frr.waitEstablished(a.ipv4);
      await frr.waitEstablished(a.ipv6);
      const routes = await frr.waitRoutes(has('198.51.100.1/32', '2001:db8:100::1/128'));
      expect(byPrefix(routes, '198.51.100.1/32')).toEqual({
        prefix: '198.51.100.1/32',
        nextHop: a.ipv4,
        asPath: [64513],
        communities: ['64513:100'],
        largeCommunities: ['64513:1:2'],
        med: 10,
        origin: 'igp',
        peer: a.ipv4,
      });
      expect(byPrefix(routes, '2001:db8:100::1/128')).toMatchObject({ nextHop: a.ipv6, peer: a.ipv6 });
      // FRR installed the route in its namespace's kernel table (zebra runs next to bgpd).
      expect(await b.run('ip', ['route', 'show', '198.51.100.1'])).toContain(`via ${a.ipv4}`);
    }, 45_000);

    it('ExaBGP records the FRR routes (IPv4 and IPv6)', async () => {
      const { b } = lab();
      const routes = await exa.waitRoutes(has('203.0.113.0/24', '2001:db8:ff::/48'));
      expect(byPrefix(routes, '203.0.113.0/24')).toMatchObject({
        nextHop: b.ipv4,
        asPath: [64512],
        communities: ['64512:7'],
        peer: b.ipv4,
      });
      expect(byPrefix(routes, '2001:db8:ff::/48')?.peer).toBe(b.ipv6);
      // FRR exports only its own routes: ExaBGP (no loop detection) would record an echo.
      expect(routes.map((r) => r.prefix).sort()).toEqual(['2001:db8:ff::/48', '203.0.113.0/24']);
    }, 40_000);

    it('ExaBGP API commands announce and withdraw routes at run time', async () => {
      expect(await exa.command('announce route 198.51.100.9/32 next-hop self community [64513:9]')).toBe('done');
      const routes = await frr.waitRoutes(has('198.51.100.9/32'));
      expect(byPrefix(routes, '198.51.100.9/32')?.communities).toEqual(['64513:9']);
      expect(await exa.command('withdraw route 198.51.100.9/32 next-hop self')).toBe('done');
      await frr.waitRoutes((r) => !byPrefix(r, '198.51.100.9/32'));
      expect(await frr.command('show bgp summary')).toContain('64513');
    }, 40_000);
  });

  describe('FRR <-> BIRD with options: MD5 password, hold time, graceful restart, iBGP', () => {
    const lab = useTopology(() => createPair({ name: 'frrbird' }));

    it('negotiates hold 9 s over an MD5-signed iBGP session and carries LOCAL_PREF', async () => {
      const { a, b } = lab();
      const opts = { password: 's3cret', holdTime: 9, gracefulRestart: true };
      const frr = await startPeer('frr', {
        host: b,
        asn: 64512,
        neighbors: [{ address: a.ipv4, asn: 64512, passive: true, ...opts }],
      });
      const bird = await startPeer('bird', {
        host: a,
        asn: 64512,
        neighbors: [{ address: b.ipv4, asn: 64512, ...opts }],
        announce: [{ prefix: '198.51.100.7/32', localPref: 250, med: 3 }],
      });
      await frr.waitEstablished(a.ipv4);
      const nb = JSON.parse(await frr.command('show bgp neighbors json'))[a.ipv4];
      expect(nb.bgpTimerHoldTimeMsecs).toBe(9000);
      expect(nb.gracefulRestartInfo.localGrMode).toBe('Restart');
      expect(nb.neighborCapabilities.gracefulRestart).toBe('advertisedAndReceived');
      const [route] = await frr.waitRoutes(has('198.51.100.7/32'));
      expect(route).toMatchObject({ prefix: '198.51.100.7/32', asPath: [], localPref: 250, med: 3, nextHop: a.ipv4 });
      expect((await bird.sessions())[b.ipv4]?.state).toBe('Established');
      await Promise.all([bird.stop(), frr.stop()]);
    }, 45_000);

    it('with a wrong MD5 password the session never comes up; with the right one it does', async () => {
      const { a, b } = lab();
      const frr = await startPeer('frr', {
        host: b,
        asn: 64520,
        neighbors: [{ address: a.ipv6, asn: 64521, passive: true, password: 'right' }],
      });
      const wrong = await startPeer('bird', {
        host: a,
        asn: 64521,
        neighbors: [{ address: b.ipv6, asn: 64520, password: 'wrong' }],
      });
      await expect(frr.waitEstablished(a.ipv6, 4000)).rejects.toThrow(/timed out.*Established/s);
      await wrong.stop();
      const right = await startPeer('bird', {
        host: a,
        asn: 64521,
        neighbors: [{ address: b.ipv6, asn: 64520, password: 'right' }],
      });
      await frr.waitEstablished(a.ipv6);
      await Promise.all([right.stop(), frr.stop()]);
    }, 45_000);
  });

  /** FRR on b (passive) learns `prefix` from BIRD on a over one address family; resolves once FRR holds it. */
  async function frrLearnsFromBird(
    a: LabHost,
    b: LabHost,
    o: { family: 'ipv4' | 'ipv6'; asns: [frr: number, bird: number]; holdTime: number; prefix: string },
  ): Promise<BgpPeer> {
    const frr = await startPeer('frr', {
      host: b,
      asn: o.asns[0],
      neighbors: [{ address: a[o.family], asn: o.asns[1], passive: true, holdTime: o.holdTime }],
    });
    await startPeer('bird', {
      host: a,
      asn: o.asns[1],
      neighbors: [{ address: b[o.family], asn: o.asns[0], holdTime: o.holdTime }],
      announce: [{ prefix: o.prefix }],
    });
    await frr.waitRoutes(has(o.prefix));
    return frr;
  }

  describe('fault injection against a real session (FRR receiver, BIRD speaker)', () => {
    const lab = useTopology(() => createPair({ name: 'bgpfault' }));

    it('link down drops the session and routes at once; link up restores them', async () => {
      const { a, b } = lab();
      const frr = await frrLearnsFromBird(a, b, {
        family: 'ipv4',
        asns: [64512, 64513],
        holdTime: 9,
        prefix: '198.51.100.1/32',
      });
      const t0 = Date.now();
      await fault.linkDown(a);
      await frr.waitRoutes((r) => r.length === 0, 5000);
      const down = Date.now() - t0;
      expect((await frr.sessions())[a.ipv4]?.state).not.toBe('Established');
      await fault.linkUp(a);
      await frr.waitRoutes(has('198.51.100.1/32'), 20_000);
      console.info(`[lab] FRR link-down detection ${down} ms, recovery ${Date.now() - t0 - down} ms`);
    }, 45_000);
  });

  describe('partition against a real session (FRR receiver, BIRD speaker, IPv6)', () => {
    const lab = useTopology(() => createPair({ name: 'bgppart' }));

    it('a partition is detected by the hold timer and heals', async () => {
      const { a, b } = lab();
      const frr = await frrLearnsFromBird(a, b, {
        family: 'ipv6',
        asns: [64530, 64531],
        holdTime: 3,
        prefix: '2001:db8:200::/48',
      });
      const t0 = Date.now();
      await fault.partition(b);
      await frr.waitRoutes((r) => !byPrefix(r, '2001:db8:200::/48'), 10_000);
      const detect = Date.now() - t0;
      expect(detect).toBeGreaterThan(1000);
      expect((await fault.counters(b)).dropped).toBeGreaterThan(0);
      await fault.heal(b);
      await frr.waitRoutes(has('2001:db8:200::/48'), 20_000);
      console.info(`[lab] hold-timer (3 s) detection ${detect} ms, recovery ${Date.now() - t0 - detect} ms`);
    }, 60_000);
  });
});

labSuite('lab BGP peers: every option renders a config the daemon accepts', { tools: BGP_TOOLS }, () => {
  const lab = useTopology(() => createPair({ name: 'bgpopts' }));
  const kinds = ['frr', 'bird', 'gobgp', 'exabgp'] as const;

  for (const kind of kinds) {
    it(`${kind} starts with passwords, timers, multihop, GTSM, graceful restart, add-path and attributes`, async () => {
      const { b } = lab();
      const peer = await startPeer(kind, {
        host: b,
        asn: 64512,
        routerId: '192.0.2.2',
        neighbors: [
          { address: '192.0.2.1', asn: 64513, password: 'pw', holdTime: 9, gracefulRestart: true, addPath: true },
          { address: '192.0.2.3', asn: 64514, passive: true, ttlSecurity: true },
          { address: '2001:db8:0:1::1', asn: 64515, multihop: 3, families: ['ipv6'] },
        ],
        announce: [
          {
            prefix: '198.51.100.0/24',
            communities: ['64512:1', 'no-export'],
            largeCommunities: ['64512:2:3'],
            med: 7,
            localPref: 150,
          },
          { prefix: '2001:db8:100::/48', communities: ['64512:4'] },
        ],
      });
      const sessions = await peer.sessions();
      expect(Object.keys(sessions).sort()).toEqual(['192.0.2.1', '192.0.2.3', '2001:db8:0:1::1']);
      expect(Object.values(sessions).every((s) => s.state !== 'Established')).toBe(true);
      expect(await peer.routes()).toEqual([]);
      await peer.stop();
      await peer.stop(); // idempotent
    });
  }

  it('a broken extraConfig fails startPeer with the daemon error and the generated config', async () => {
    const { b } = lab();
    const opts = { host: b, asn: 64512, neighbors: [{ address: '192.0.2.1', asn: 64513 }] };
    await expect(
      startPeer('frr', { ...opts, extraConfig: 'router bgp 64512\n neighbor 192.0.2.1 bogus-knob' }),
    ).rejects.toThrow(/bogus-knob[\s\S]*generated config/);
    await expect(startPeer('bird', { ...opts, extraConfig: 'protocol nonsense {' })).rejects.toThrow(/bird rejected/);
    await expect(startPeer('gobgp', { ...opts, extraConfig: '[global.bogus]\n  x = 1' })).rejects.toThrow(/gobgpd/);
    await expect(startPeer('exabgp', { ...opts, extraConfig: 'neighbor {' })).rejects.toThrow(/exabgp/i);
  });
});

labSuite('lab BGP peers: FRR acceptAny on a bridged LAN', { tools: BGP_TOOLS }, () => {
  const lab = useTopology(() => createLan(2, { name: 'anyasn' }));

  it('accepts ExaBGP speakers with different ASNs from the subnet without per-neighbor config', async () => {
    const { router, hosts } = lab();
    const frr = await startPeer('frr', { host: router, asn: 64512, neighbors: [], acceptAny: true });
    await Promise.all(
      hosts.map((h, i) =>
        startPeer('exabgp', {
          host: h,
          asn: 64601 + i,
          neighbors: [{ address: router.ipv4, asn: 64512 }],
          announce: [{ prefix: '198.51.100.100/32' }],
        }),
      ),
    );
    const routes = await frr.waitRoutes((r) => r.filter((x) => x.prefix === '198.51.100.100/32').length === 2);
    expect(routes.map((r) => [r.peer, r.asPath])).toEqual([
      [hosts[0]!.ipv4, [64601]],
      [hosts[1]!.ipv4, [64602]],
    ]);
    const sessions = await frr.sessions();
    expect(sessions[hosts[0]!.ipv4]?.state).toBe('Established');
  });
});

labSuite('lab BGP peers: one daemon per namespace', { tools: BGP_TOOLS }, () => {
  const lab = useTopology(() => createPair({ name: 'onepeer' }));

  it('refuses a second peer in the same namespace until the first one stops', async () => {
    const { a, b } = lab();
    const first = await startPeer('bird', { host: b, asn: 64512, neighbors: [{ address: a.ipv4, asn: 64513 }] });
    await expect(
      startPeer('gobgp', { host: b, asn: 64512, neighbors: [{ address: a.ipv4, asn: 64513 }] }),
    ).rejects.toThrow(/a bird peer already runs in netns .*port 179/);
    const other = await startPeer('gobgp', { host: a, asn: 64513, neighbors: [{ address: b.ipv4, asn: 64512 }] });
    await first.stop();
    const second = await startPeer('gobgp', { host: b, asn: 64512, neighbors: [{ address: a.ipv4, asn: 64513 }] });
    await Promise.all([second.stop(), other.stop()]);
  }, 30_000);
});
