import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BgpPeer, capture, createPair, labSuite, pollUntil, startPeer, tsharkJson, useTopology } from '@ingot/lab';
import { describe, expect, it } from 'vitest';
import { find, has, lacks, SpeakerChild } from './speaker-harness.js';

const TOOLS = ['ip', 'vtysh', 'bgpd', 'zebra', 'tcpdump', 'tshark'];
const US = 64513;
const FRR_AS = 64512;
const V4 = '198.51.100.10/32';
const V6 = '2001:db8:100::10/128';

/** FRR's own view of one path: `show bgp <af> unicast <prefix> json`. */
async function frrPath(frr: BgpPeer, prefix: string): Promise<Record<string, unknown> | undefined> {
  const af = prefix.includes(':') ? 'ipv6' : 'ipv4';
  const doc = JSON.parse(await frr.command(`show bgp ${af} unicast ${prefix} json`)) as {
    paths?: Record<string, unknown>[];
  };
  return doc.paths?.[0];
}

labSuite('speaker vs FRR', { tools: TOOLS }, () => {
  describe('eBGP, IPv4 + IPv6, us active on IPv4 and passive on IPv6', () => {
    const lab = useTopology(() => createPair({ name: 'spkfrr' }));
    let frr: BgpPeer;
    let us: SpeakerChild;

    it('establishes both sessions', async () => {
      const { a, b } = lab();
      frr = await startPeer('frr', {
        host: b,
        asn: FRR_AS,
        neighbors: [
          { address: a.ipv4, asn: US, passive: true, holdTime: 9, gracefulRestart: true },
          { address: a.ipv6, asn: US, holdTime: 9 },
        ],
      });
      us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4, listen: true }, [
        { address: b.ipv4, asn: FRR_AS, families: ['ipv4'], holdTime: 9, gracefulRestart: true },
        { address: b.ipv6, asn: FRR_AS, families: ['ipv6'], holdTime: 9, passive: true },
      ]);
      await us.waitEstablished(b.ipv4, 20_000);
      await us.waitEstablished(b.ipv6, 20_000);
      await frr.waitEstablished(a.ipv4);
      await frr.waitEstablished(a.ipv6);
      const peers = await us.peers();
      const v4 = peers.find((p) => p.address === b.ipv4);
      expect(v4?.session).toMatchObject({ holdTime: 9, fourOctetAs: true, internal: false, direction: 'outgoing' });
      expect(peers.find((p) => p.address === b.ipv6)?.session).toMatchObject({ direction: 'incoming' });
    }, 40_000);

    it('announces a /32 and a /128 that FRR installs with every attribute', async () => {
      const { a } = lab();
      const options = {
        communities: ['64513:100', 'no-export'],
        largeCommunities: ['64513:1:2'],
        med: 10,
        localPref: 300, // eBGP: must not be sent
      };
      await us.request('announce', { prefix: V4, options });
      await us.request('announce', { prefix: V6, options });
      const routes = await frr.waitRoutes(has(V4, V6), 10_000);
      expect(find(routes, V4)).toMatchObject({
        prefix: V4,
        nextHop: a.ipv4,
        asPath: [US],
        communities: ['64513:100', '65535:65281'],
        largeCommunities: ['64513:1:2'],
        med: 10,
        origin: 'igp',
        peer: a.ipv4,
      });
      expect(find(routes, V4)?.localPref).not.toBe(300);
      expect(find(routes, V6)).toMatchObject({ nextHop: a.ipv6, asPath: [US], med: 10, peer: a.ipv6 });
      // RFC 2545: the link-local next hop of our interface comes along with the global one.
      const path = await frrPath(frr, V6);
      const nexthops = (path?.nexthops ?? []) as { ip: string; scope: string }[];
      expect(nexthops.map((n) => n.scope).sort()).toEqual(['global', 'link-local']);
    }, 20_000);

    it('changes attributes and withdraws, sending only the difference', async () => {
      const before = (await us.peers()).find((p) => p.address === lab().b.ipv4)?.counters.updatesSent ?? 0;
      await us.request('announce', { prefix: V4, options: { communities: ['64513:200'], med: 20 } });
      let routes = await frr.waitRoutes((r) => find(r, V4)?.med === 20, 10_000);
      expect(find(routes, V4)?.communities).toEqual(['64513:200']);
      expect(find(routes, V4)?.largeCommunities).toEqual([]);
      const after = (await us.peers()).find((p) => p.address === lab().b.ipv4)?.counters.updatesSent ?? 0;
      expect(after - before).toBe(1); // one UPDATE for one change
      await us.request('withdraw', { prefix: V4 });
      await us.request('withdraw', { prefix: V6 });
      routes = await frr.waitRoutes(lacks(V4, V6), 10_000);
      expect(routes).toEqual([]);
    }, 20_000);

    it('answers a ROUTE-REFRESH from FRR by re-sending the table', async () => {
      const { a } = lab();
      await us.request('announce', { prefix: V4, options: { med: 5 } });
      await frr.waitRoutes(has(V4), 10_000);
      await frr.command(`clear bgp ipv4 unicast ${a.ipv4} soft in`);
      const ev = await us.waitEvent((e) => e.event === 'routeRefresh' && e.afi === 1, 10_000);
      expect(ev.address).toBe(lab().b.ipv4);
      const peers = await us.peers();
      expect(peers.find((p) => p.address === lab().b.ipv4)?.counters.routeRefreshes).toBeGreaterThanOrEqual(1);
      expect(find(await frr.routes('ipv4'), V4)?.med).toBe(5);
    }, 20_000);

    it('detects a frozen FRR (SIGSTOP) by hold-timer expiry within the hold time, then recovers', async () => {
      const { b } = lab();
      const pid = Number(readFileSync(join(frr.dir, 'bgpd.pid'), 'utf8').trim());
      const t0 = Date.now();
      process.kill(pid, 'SIGSTOP');
      try {
        const down = await us.waitEvent((e) => e.event === 'down' && e.address === b.ipv4, 15_000);
        const elapsed = Date.now() - t0;
        expect((down.reason as { event: string }).event).toBe('HoldTimerExpires');
        // Hold time 9 s counts from FRR's last KEEPALIVE, which came before the SIGSTOP; 1 s margin for a loaded CI box.
        expect(elapsed).toBeLessThanOrEqual(9_000 + 1_000);
        expect(elapsed).toBeGreaterThanOrEqual(5_000); // the last keepalive came at most hold/3 before the stop
      } finally {
        process.kill(pid, 'SIGCONT');
      }
      await us.waitEstablished(b.ipv4, 20_000);
      await frr.waitRoutes(has(V4), 15_000);
    }, 45_000);

    it('graceful restart: our process is killed (-9) and restarted; FRR keeps the route throughout', async () => {
      const { a, b } = lab();
      await frr.waitRoutes(has(V4), 10_000);
      us.proc.kill('SIGKILL');
      await us.proc.waitExit(5000);
      let missing = 0;
      let sawStale = false;
      const watch = (async () => {
        const end = Date.now() + 4000;
        while (Date.now() < end) {
          const p = await frrPath(frr, V4);
          if (!p) missing++;
          else if (p.stale === true) sawStale = true;
          await new Promise((r) => setTimeout(r, 100));
        }
      })();
      await new Promise((r) => setTimeout(r, 1500));
      us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4, listen: true }, [
        {
          address: b.ipv4,
          asn: FRR_AS,
          families: ['ipv4'],
          holdTime: 9,
          gracefulRestart: { restarting: true },
        },
      ]);
      await us.request('announce', { prefix: V4, options: { med: 5 } });
      await us.waitEstablished(b.ipv4, 20_000);
      await watch;
      expect(missing).toBe(0);
      expect(sawStale).toBe(true);
      // After our End-of-RIB the route is fresh again.
      await pollUntil(
        async () => ((await frrPath(frr, V4))?.stale !== true ? true : undefined),
        10_000,
        () => 'route no longer stale',
      );
      expect(find(await frr.routes('ipv4'), V4)?.med).toBe(5);
    }, 45_000);

    it('removing the peer sends Cease / Peer De-configured and FRR withdraws our routes', async () => {
      const { a, b } = lab();
      await us.request('removePeer', { address: b.ipv4 });
      await frr.waitRoutes(lacks(V4), 10_000);
      const log = await frr.logs();
      expect(log).toMatch(/Cease\/Peer Unconfigured|Peer De-configured|6\/3/i);
      await us.close();
      void a;
    }, 20_000);
  });

  describe('iBGP: local preference crosses, next hop is ours', () => {
    const lab = useTopology(() => createPair({ name: 'spkibgp' }));

    it('FRR receives LOCAL_PREF and an empty AS_PATH', async () => {
      const { a, b } = lab();
      const frr = await startPeer('frr', {
        host: b,
        asn: FRR_AS,
        neighbors: [{ address: a.ipv4, asn: FRR_AS, passive: true, families: ['ipv4', 'ipv6'] }],
      });
      const us = await SpeakerChild.start(a, { asn: FRR_AS, routerId: a.ipv4 }, [{ address: b.ipv4, asn: FRR_AS }]);
      try {
        await us.waitEstablished(b.ipv4, 20_000);
        await us.request('announce', { prefix: V4, options: { localPref: 250, communities: ['64512:7'] } });
        await us.request('announce', { prefix: '198.51.100.11/32' });
        await us.request('announce', { prefix: V6, options: { localPref: 150 } });
        const routes = await frr.waitRoutes(has(V4, '198.51.100.11/32', V6), 10_000);
        expect(find(routes, V4)).toMatchObject({
          asPath: [],
          localPref: 250,
          nextHop: a.ipv4,
          communities: ['64512:7'],
        });
        expect(find(routes, '198.51.100.11/32')?.localPref).toBe(100);
        // IPv6 over an IPv4 session: next hop is our IPv4 address 192.0.2.1, IPv4-mapped (::ffff:192.0.2.1).
        expect(a.ipv4).toBe('192.0.2.1');
        expect(find(routes, V6)).toMatchObject({ localPref: 150, nextHop: '::ffff:c000:201' });
      } finally {
        await us.close();
      }
    }, 40_000);
  });

  describe('TCP MD5 (RFC 2385)', () => {
    const lab = useTopology(() => createPair({ name: 'spkmd5' }));

    it('never comes up with a wrong key, comes up with the right key', async () => {
      const { a, b } = lab();
      const frr = await startPeer('frr', {
        host: b,
        asn: FRR_AS,
        neighbors: [{ address: a.ipv4, asn: US, password: 'ingot-md5-key' }],
      });
      const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4, listen: true }, [
        {
          address: b.ipv4,
          asn: FRR_AS,
          password: 'wrong-key',
          families: ['ipv4'],
          backoff: { initialMs: 200, maxMs: 500 },
        },
      ]);
      try {
        // Both sides try (FRR connects to our keyed listener, we connect to FRR): nothing may get through.
        await new Promise((r) => setTimeout(r, 5000));
        expect((await us.peers())[0]?.state).not.toBe('Established');
        expect((await frr.sessions())[a.ipv4]?.state).not.toBe('Established');
        expect((await us.peers())[0]?.counters.established).toBe(0);
        await us.request('removePeer', { address: b.ipv4 });
        await us.request('addPeer', {
          options: { address: b.ipv4, asn: FRR_AS, password: 'ingot-md5-key', families: ['ipv4'] },
        });
        await us.waitEstablished(b.ipv4, 20_000);
        await us.request('announce', { prefix: V4 });
        await frr.waitRoutes(has(V4), 10_000);
      } finally {
        await us.close();
      }
    }, 45_000);
  });

  describe('GTSM (RFC 5082) on connections FRR opens to our listener', () => {
    const lab = useTopology(() => createPair({ name: 'spkgtsm' }));

    it('drops a peer that sends TTL 1, accepts one that sends TTL 255', async () => {
      const { a, b } = lab();
      const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4, listen: true }, [
        { address: b.ipv4, asn: FRR_AS, families: ['ipv4'], passive: true, ttlSecurity: true },
      ]);
      try {
        // FRR without ttl-security sends its eBGP packets with TTL 1: our IP_MINTTL 255 drops them.
        let frr = await startPeer('frr', { host: b, asn: FRR_AS, neighbors: [{ address: a.ipv4, asn: US }] });
        await new Promise((r) => setTimeout(r, 4000));
        expect((await us.peers())[0]?.counters.established).toBe(0);
        expect((await frr.sessions())[a.ipv4]?.state).not.toBe('Established');
        await frr.stop();
        frr = await startPeer('frr', {
          host: b,
          asn: FRR_AS,
          neighbors: [{ address: a.ipv4, asn: US, ttlSecurity: true }],
        });
        await us.waitEstablished(b.ipv4, 20_000);
        await us.request('announce', { prefix: V4 });
        await frr.waitRoutes(has(V4), 10_000);
      } finally {
        await us.close();
      }
    }, 45_000);
  });

  describe('eBGP multihop: our packets carry the configured TTL', () => {
    const lab = useTopology(() => createPair({ name: 'spkttl' }));

    it('establishes with FRR (ebgp-multihop 2) and sends TTL 2 on the wire', async () => {
      const { a, b } = lab();
      const frr = await startPeer('frr', {
        host: b,
        asn: FRR_AS,
        neighbors: [{ address: a.ipv4, asn: US, passive: true, multihop: 2 }],
      });
      const cap = capture(b, { filter: `tcp port 179 and src host ${a.ipv4}` });
      await cap.ready;
      const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4 }, [
        { address: b.ipv4, asn: FRR_AS, families: ['ipv4'], multihop: 2 },
      ]);
      try {
        await us.waitEstablished(b.ipv4, 20_000);
        await us.request('announce', { prefix: V4 });
        await frr.waitRoutes(has(V4), 10_000);
      } finally {
        await us.close();
      }
      const packets = await tsharkJson(await cap.stop(), `ip.src == ${a.ipv4}`);
      const ttls = new Set(packets.map((p) => String(p._source?.layers?.ip?.['ip.ttl'])));
      expect(packets.length).toBeGreaterThan(3);
      expect([...ttls]).toEqual(['2']);
    }, 40_000);
  });

  describe('FRR restarted 20 times', () => {
    const lab = useTopology(() => createPair({ name: 'spkrst' }));

    it('re-establishes every time and FRR gets the full table each time', async () => {
      const { a, b } = lab();
      const us = await SpeakerChild.start(a, { asn: US, routerId: a.ipv4, listen: true }, [
        { address: b.ipv4, asn: FRR_AS, families: ['ipv4'], backoff: { initialMs: 100, maxMs: 400 } },
      ]);
      try {
        await us.request('announceRange', { base: '198.51.100.100', count: 20, options: { med: 1 } });
        for (let i = 0; i < 20; i++) {
          const frr = await startPeer('frr', { host: b, asn: FRR_AS, neighbors: [{ address: a.ipv4, asn: US }] });
          const routes = await frr.waitRoutes((r) => r.length === 20, 15_000);
          expect(routes.every((r) => r.med === 1)).toBe(true);
          await frr.stop();
        }
        const c = (await us.peers())[0]?.counters;
        expect(c?.established).toBe(20);
      } finally {
        await us.close();
      }
    }, 150_000);
  });
});
