import { capture, createPair, type LabHost, labSuite, tsharkJson } from '@ingot/lab';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { assertBuilt, type ResponderChild, scapy, startResponder } from './harness.js';

const VIP = '192.0.2.100';
const VIP6 = '2001:db8:0:1::100';

// Every receive path a responder can run on: the event loop's (uv-stream) and the answer thread's.
for (const receiveMode of ['uv-stream', 'thread'] as const)
  labSuite(
    `arp responder on a veth pair vs arping, ndisc6, ping, scapy, tcpdump (receive mode ${receiveMode})`,
    { tools: ['arping', 'ndisc6', 'ping', 'scapy', 'tcpdump', 'tshark'] },
    () => {
      let pair: Awaited<ReturnType<typeof createPair>>;
      let owner: LabHost;
      let client: LabHost;
      let r: ResponderChild | undefined;

      beforeAll(async () => {
        assertBuilt();
        pair = await createPair();
        owner = pair.a;
        client = pair.b;
        // MetalLB's VIP recipe: the service IP lives on lo of the owner, and the kernel must not answer ARP for it.
        await owner.run('ip', ['addr', 'add', `${VIP}/32`, 'dev', 'lo']);
        await owner.run('ip', ['addr', 'add', `${VIP6}/128`, 'dev', 'lo']);
        await owner.run('sysctl', [
          '-qw',
          'net.ipv4.conf.all.arp_ignore=1',
          `net.ipv4.conf.${owner.ifname}.arp_ignore=1`,
        ]);
      });

      afterAll(async () => {
        await r?.close();
        await pair?.destroy();
      });

      it("the owner's kernel does not answer for the service IPs on its own", async () => {
        const a = await client.exec('arping', ['-I', client.ifname, '-c', '2', '-w', '3', VIP]);
        expect(a.code).toBe(1);
        expect(a.stdout).toMatch(/Received 0 response/);
        const n = await client.exec('ndisc6', ['-1', '-r', '1', '-w', '500', VIP6, client.ifname]);
        expect(n.code).not.toBe(0);
      });

      it('arping gets replies carrying the responder MAC for an announced IP, none for others', async () => {
        r = await startResponder(owner, {
          interfaces: [owner.ifname],
          scanIntervalMs: 0,
          transportOptions: { receiveMode },
        });
        expect(r.interfaces).toEqual([owner.ifname]);
        expect(r.macs[owner.ifname]).toBe(owner.mac);
        await r.announce(VIP);
        await r.announce(VIP6);
        const a = await client.run('arping', ['-I', client.ifname, '-c', '3', '-w', '5', VIP]);
        expect(a).toMatch(/Received 3 response/);
        const macs = [...a.matchAll(/\[([0-9A-F:]{17})\]/g)].map((m) => m[1]!.toLowerCase());
        expect(macs).toEqual([owner.mac, owner.mac, owner.mac]);
        const other = await client.exec('arping', ['-I', client.ifname, '-c', '2', '-w', '3', '192.0.2.101']);
        expect(other.stdout).toMatch(/Received 0 response/);
        const s = await r.stats();
        expect(s.counters[VIP]).toMatchObject({ requestsReceived: 3, responsesSent: 3 });
        expect(s.counters['192.0.2.101']).toBeUndefined();
        expect(s.stats[owner.ifname]!.notAnnounced).toBeGreaterThanOrEqual(2);
      });

      it('ndisc6 resolves the announced IPv6 address to the responder MAC', async () => {
        const out = await client.run('ndisc6', ['-1', '-r', '3', VIP6, client.ifname]);
        expect(out.toLowerCase()).toContain(`target link-layer address: ${owner.mac}`);
        const s = await r!.stats();
        expect(s.counters[VIP6]!.responsesSent).toBeGreaterThanOrEqual(1);
      });

      it('a client pinging the service IPs gets answers, its neighbour entries name the responder MAC', async () => {
        const p4 = await client.run('ping', ['-c', '2', '-i', '0.2', '-W', '2', VIP]);
        expect(p4).toMatch(/ 0% packet loss/);
        const p6 = await client.run('ping', ['-6', '-c', '2', '-i', '0.2', '-W', '2', VIP6]);
        expect(p6).toMatch(/ 0% packet loss/);
        const n4 = await client.run('ip', ['neigh', 'show', VIP, 'dev', client.ifname]);
        expect(n4).toContain(`lladdr ${owner.mac}`);
        const n6 = await client.run('ip', ['-6', 'neigh', 'show', VIP6, 'dev', client.ifname]);
        expect(n6).toContain(`lladdr ${owner.mac}`);
      });

      it('answers a unicast NUD probe without a source link-layer option (MetalLB #2920) and an ARP probe', async () => {
        const out = await scapy(
          client,
          `
ns = Ether(dst="${owner.mac}", src="${client.mac}")/IPv6(src="${client.ipv6}", dst="${VIP6}", hlim=255)/ICMPv6ND_NS(tgt="${VIP6}")
a = srp1(ns, iface="${client.ifname}", timeout=2, filter="icmp6 and ip6[40] == 136")
print("NA", a[ICMPv6ND_NA].S, a[ICMPv6ND_NA].O, a[ICMPv6NDOptDstLLAddr].lladdr, a[Ether].dst, a[IPv6].dst)
p = Ether(dst="ff:ff:ff:ff:ff:ff", src="${client.mac}")/ARP(op=1, hwsrc="${client.mac}", psrc="0.0.0.0", pdst="${VIP}")
b = srp1(p, iface="${client.ifname}", timeout=2, filter="arp")
print("ARP", b[ARP].op, b[ARP].hwsrc, b[ARP].pdst, b[Ether].dst)
dad = Ether(dst="33:33:ff:00:01:00", src="${client.mac}")/IPv6(src="::", dst="ff02::1:ff00:100", hlim=255)/ICMPv6ND_NS(tgt="${VIP6}")
# The answer goes to ff02::1, which srp1 does not match to a request from ::, so sniff for it.
sn = AsyncSniffer(iface="${client.ifname}", filter="icmp6 and ip6[40] == 136", count=1, timeout=3)
sn.start()
time.sleep(0.5)
sendp(dad, iface="${client.ifname}")
sn.join()
c = sn.results[0]
print("DAD", c[ICMPv6ND_NA].S, c[ICMPv6ND_NA].O, c[IPv6].dst, c[Ether].dst, c[ICMPv6NDOptDstLLAddr].lladdr)
`,
        );
        expect(out).toContain(`NA 1 0 ${owner.mac} ${client.mac} ${client.ipv6}`);
        expect(out).toContain(`ARP 2 ${owner.mac} 0.0.0.0 ${client.mac}`);
        // Duplicate Address Detection for the service IP is defended: NA to all-nodes, S=0, O=1.
        expect(out).toContain(`DAD 0 1 ff02::1 33:33:00:00:00:01 ${owner.mac}`);
      });

      it('drops and counts malformed frames crafted with scapy, and keeps answering', async () => {
        const before = (await r!.stats()).stats[owner.ifname]!;
        await scapy(
          client,
          `
e = Ether(dst="ff:ff:ff:ff:ff:ff", src="${client.mac}")
frames = [
  Ether(dst="ff:ff:ff:ff:ff:ff", src="${client.mac}", type=0x0806)/Raw(bytes.fromhex("00010800060400")),  # truncated ARP
  e/ARP(op=1, hwlen=8, hwsrc=b"\\x02"*8, psrc="192.0.2.2", pdst="${VIP}"), # hardware length 8
  Ether(dst="33:33:ff:00:01:00", src="${client.mac}")/IPv6(src="${client.ipv6}", dst="ff02::1:ff00:100", hlim=64)/ICMPv6ND_NS(tgt="${VIP6}"),    # hop limit 64
  Ether(dst="33:33:ff:00:01:00", src="${client.mac}")/IPv6(src="${client.ipv6}", dst="ff02::1:ff00:100")/ICMPv6ND_NS(tgt="${VIP6}", cksum=0x1234), # bad checksum
  Ether(dst="33:33:ff:00:01:00", src="${client.mac}")/IPv6(src="${client.ipv6}", dst="ff02::1:ff00:100", plen=200)/ICMPv6ND_NS(tgt="${VIP6}"),     # payload length past the end
]
sendp(frames, iface="${client.ifname}")
`,
        );
        // Give the responder a moment to drain.
        let after = before;
        for (let i = 0; i < 20 && after.malformed - before.malformed < 5; i++) {
          await new Promise((res) => setTimeout(res, 100));
          after = (await r!.stats()).stats[owner.ifname]!;
        }
        const { drops } = await r!.stats();
        expect(after.malformed - before.malformed, JSON.stringify(drops)).toBe(5);
        expect(drops).toMatchObject({
          'arp:truncated': 1,
          'arp:bad-address-length': 1,
          'icmpv6:bad-hop-limit': 1,
          'icmpv6:bad-checksum': 1,
          'ipv6:bad-payload-length': 1,
        });
        const again = await client.run('arping', ['-I', client.ifname, '-c', '1', '-w', '3', VIP]);
        expect(again).toMatch(/Received 1 response/);
      });

      it('sends the gratuitous burst on the wire: request + reply at once, 4 early rounds, then every 1.1 s for 5 s', async () => {
        const cap = capture(client, { filter: 'arp' });
        await cap.ready;
        await r!.announce('192.0.2.102');
        await new Promise((res) => setTimeout(res, 6500));
        const pcap = await cap.stop();
        const pkts = await tsharkJson(pcap, 'arp.src.proto_ipv4 == 192.0.2.102 && arp.dst.proto_ipv4 == 192.0.2.102');
        // biome-ignore lint/suspicious/noExplicitAny: tshark JSON
        const frames = pkts.map((p: any) => ({
          t: Number(p._source.layers.frame['frame.time_epoch']),
          op: Number(p._source.layers.arp['arp.opcode']),
          sha: p._source.layers.arp['arp.src.hw_mac'],
          tha: p._source.layers.arp['arp.dst.hw_mac'],
          dst: p._source.layers.eth['eth.dst'],
        }));
        // Nine rounds of request + reply: 0, 50, 150, 350, 700 ms, then MetalLB's 1.1, 2.2, 3.3, 4.4 s. A heavily loaded
        // machine can delay the last tick past the 5 s window, so eight rounds are tolerated.
        const ops = frames.map((f) => f.op);
        const t0 = frames[0]?.t ?? 0;
        const seen = JSON.stringify(frames.map((f) => [f.op, +(f.t - t0).toFixed(3), f.sha]));
        expect(ops.length === 18 || ops.length === 16, seen).toBe(true);
        expect(ops).toEqual(ops.map((_, i) => (i % 2 === 0 ? 1 : 2)));
        for (const f of frames)
          expect(f).toMatchObject({ sha: owner.mac, tha: 'ff:ff:ff:ff:ff:ff', dst: 'ff:ff:ff:ff:ff:ff' });
        const rounds = frames.filter((f) => f.op === 1).map((f) => f.t - t0);
        // The dense start: four rounds within the first 0.9 s; then the regular rounds 0.8-2 s apart, median ≈ 1.1 s.
        expect(
          rounds.slice(1, 5).every((t) => t > 0.02 && t < 0.9),
          seen,
        ).toBe(true);
        const regular = rounds.slice(5);
        expect(regular[0], seen).toBeGreaterThan(0.9);
        const gaps = regular.slice(1).map((t, i) => t - regular[i]!);
        for (const g of gaps) {
          expect(g).toBeGreaterThan(0.8);
          expect(g).toBeLessThan(2);
        }
        const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)]!;
        expect(median).toBeGreaterThan(1.0);
        expect(median).toBeLessThan(1.3);
        await r!.withdraw('192.0.2.102');
      });

      // Only the answer thread can do this: on the event loop the replies wait until it is free.
      if (receiveMode === 'thread')
        it('answers ARP and NDP on the answer thread while the event loop is blocked for 5 s', async () => {
          const before = (await r!.stats()).counters;
          const blocked = r!.block(5000);
          await blocked.started; // the child's event loop is stuck from here for 5 s
          const t0 = performance.now();
          const a = await client.run('arping', ['-I', client.ifname, '-c', '3', '-w', '5', VIP]);
          const arpingMs = performance.now() - t0;
          const n = await client.exec('ndisc6', ['-1', '-r', '1', '-w', '500', VIP6, client.ifname]);
          const endedMs = performance.now() - t0;
          await blocked.done;
          expect(a).toMatch(/Received 3 response/);
          // arping sends a probe a second and stops at the third reply: ~2 s, within the 5 s the event loop was stuck.
          expect(arpingMs).toBeLessThan(2700);
          const rtts = [...a.matchAll(/ ([\d.]+)ms/g)].map((m) => Number(m[1]));
          expect(rtts).toHaveLength(3);
          for (const rtt of rtts) expect(rtt).toBeLessThan(100);
          // ndisc6 waits 500 ms for its one solicitation: answered, still inside the blocked window.
          expect(n.code, n.stdout + n.stderr).toBe(0);
          expect(n.stdout.toLowerCase()).toContain(owner.mac.toLowerCase());
          expect(endedMs).toBeLessThan(4900); // both answered while the loop was still stuck
          const after = (await r!.stats()).counters;
          expect(after[VIP]!.responsesSent - before[VIP]!.responsesSent).toBe(3);
          expect(after[VIP6]!.responsesSent - before[VIP6]!.responsesSent).toBe(1);
        });

      it('stops answering after withdraw; exposes MetalLB metric names', async () => {
        await r!.withdraw(VIP);
        const a = await client.exec('arping', ['-I', client.ifname, '-c', '2', '-w', '3', VIP]);
        expect(a.stdout).toMatch(/Received 0 response/);
        const s = await r!.stats();
        expect(s.metrics).toMatch(
          new RegExp(`metallb_layer2_responses_sent\\{ip="${VIP.replace(/\./g, '\\.')}"\\} \\d+`),
        );
        expect(s.metrics).toContain(`metallb_layer2_gratuitous_sent{ip="${VIP6}"}`);
      });
    },
  );
