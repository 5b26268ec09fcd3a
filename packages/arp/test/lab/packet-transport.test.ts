import { fileURLToPath } from 'node:url';
import { createPair, type LabHost, type LabProcess, labSuite } from '@ingot/lab';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertBuilt, scapy } from './harness.js';

const CHILD = fileURLToPath(new URL('./transport-child.mjs', import.meta.url));
const GROUP = '33:33:ff:00:01:00';

/**
 * Starts transport-child.mjs as root stripped of every capability but CAP_NET_RAW (bounding set), or of all of them
 * when `caps` is false. Staying uid 0 keeps the package files readable wherever CI cloned the repository.
 */
function startChild(host: LabHost, mode: string, caps = true): LabProcess {
  return host.spawn('setpriv', [
    `--bounding-set=-all${caps ? ',+net_raw' : ''}`,
    process.execPath,
    CHILD,
    host.ifname,
    mode,
  ]);
}

function frames(p: LabProcess): string[] {
  return p
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('{"frame"'))
    .map((l) => JSON.parse(l).frame as string);
}

function command(p: LabProcess, line: string): void {
  p.child.stdin?.write(`${line}\n`);
}

labSuite('AF_PACKET transport (koffi) in a namespace', { tools: ['scapy'] }, () => {
  let pair: Awaited<ReturnType<typeof createPair>>;
  let a: LabHost;
  let b: LabHost;

  beforeAll(async () => {
    assertBuilt();
    pair = await createPair();
    a = pair.a;
    b = pair.b;
  });
  afterAll(async () => pair?.destroy());

  it('fails with EPERM without CAP_NET_RAW, and ENODEV for a missing interface', async () => {
    const p = startChild(a, 'auto', false);
    await p.waitOutput(/"error"/, 10_000);
    expect(p.stdout()).toContain('"code":"EPERM"');
    const q = a.spawn(process.execPath, [CHILD, 'nope0', 'auto']);
    await q.waitOutput(/"error"/, 10_000);
    expect(q.stdout()).toContain('"code":"ENODEV"');
  });

  for (const mode of ['uv-stream', 'poll-worker', 'thread']) {
    describe(`receive mode ${mode}`, () => {
      it('with only CAP_NET_RAW: receives ARP and NS only (kernel BPF filter), joins and leaves groups, sends, survives a link flap, closes cleanly', async () => {
        const p = startChild(a, mode);
        await p.waitOutput(/"ready":true/, 10_000);
        expect(p.stdout()).toContain(`"mode":"${mode}"`);
        expect(p.stdout()).toContain('"capEff":"0000000000002000"'); // CAP_NET_RAW (bit 13) and nothing else
        expect(p.stdout()).toContain(`"mac":"${a.mac}"`);
        command(p, `join ${GROUP}`);
        await p.waitOutput(/"ok":"join"/, 5000);
        expect(await a.run('ip', ['maddr', 'show', 'dev', a.ifname])).toContain(GROUP);
        await scapy(
          b,
          `
s = "${b.mac}"
sendp([
  Ether(dst="ff:ff:ff:ff:ff:ff", src=s)/ARP(op=1, hwsrc=s, psrc="${b.ipv4}", pdst="192.0.2.77"),                        # 1 ARP: in
  Ether(dst="${GROUP}", src=s)/IPv6(src="${b.ipv6}", dst="ff02::1:ff00:100")/ICMPv6ND_NS(tgt="2001:db8:0:1::100"),     # 2 NS: in
  Ether(dst="33:33:00:00:00:01", src=s)/IPv6(src="${b.ipv6}", dst="ff02::1")/ICMPv6ND_NA(tgt="${b.ipv6}"),             # NA: filtered
  Ether(dst="${a.mac}", src=s)/IP(src="${b.ipv4}", dst="${a.ipv4}")/UDP(dport=9),                                     # IPv4: filtered
  Ether(dst="ff:ff:ff:ff:ff:ff", src=s)/Dot1Q(vlan=10)/ARP(op=1, hwsrc=s, psrc="${b.ipv4}", pdst="192.0.2.78"),        # tagged: filtered
  Ether(dst="ff:ff:ff:ff:ff:ff", src=s)/ARP(op=1, hwsrc=s, psrc="${b.ipv4}", pdst="192.0.2.79"),                        # 3 ARP: in
], iface="${b.ifname}")
`,
        );
        const arpTo = (f: string, tpaHex: string) => f.slice(24, 28) === '0806' && f.slice(76, 84) === tpaHex;
        const end = Date.now() + 3000;
        while (!frames(p).some((f) => arpTo(f, 'c000024f')) && Date.now() < end) {
          await new Promise((r) => setTimeout(r, 50));
        }
        const got = frames(p);
        const seen = JSON.stringify(got);
        // The kernel of b may add its own ARP/NS traffic; ours is recognisable by target addresses.
        expect(
          got.some((f) => arpTo(f, 'c000024d')),
          seen,
        ).toBe(true); // 192.0.2.77
        expect(
          got.some((f) => f.slice(24, 28) === '86dd' && f.slice(108, 110) === '87'),
          seen,
        ).toBe(true); // NS
        expect(
          got.some((f) => f.slice(24, 28) === '86dd' && f.slice(108, 110) === '88'),
          seen,
        ).toBe(false); // no NA
        expect(
          got.some((f) => f.slice(24, 28) === '0800'),
          seen,
        ).toBe(false); // no IPv4
        expect(
          got.some((f) => f.includes('c000024e')),
          seen,
        ).toBe(false); // no tagged ARP (192.0.2.78), tagged or not
        expect(
          got.some((f) => arpTo(f, 'c000024f')),
          seen,
        ).toBe(true); // 192.0.2.79
        command(p, `leave ${GROUP}`);
        await p.waitOutput(/"ok":"leave"/, 5000);
        expect(await a.run('ip', ['maddr', 'show', 'dev', a.ifname])).not.toContain(GROUP);
        // Send a gratuitous ARP request from the transport (a GARP reply with THA != SHA would hit the 1 s ARP
        // locktime of b's fresh entry); b's kernel takes it and its neighbour entry moves to a's MAC.
        const arp = `ffffffffffff${a.mac.replace(/:/g, '')}08060001080006040001${a.mac.replace(/:/g, '')}c0000264ffffffffffffc0000264`;
        await b.run('ip', [
          'neigh',
          'replace',
          '192.0.2.100',
          'lladdr',
          '02:00:00:00:00:01',
          'dev',
          b.ifname,
          'nud',
          'stale',
        ]);
        command(p, `send ${arp}`);
        await p.waitOutput(/"ok":"send"/, 5000);
        const end2 = Date.now() + 3000;
        let neigh = '';
        while (Date.now() < end2) {
          neigh = await b.run('ip', ['neigh', 'show', '192.0.2.100', 'dev', b.ifname]);
          if (neigh.includes(a.mac)) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        expect(neigh).toContain(a.mac);
        // A link flap (ENETDOWN on the socket) must not stop reception: the transport recovers by itself.
        await a.run('ip', ['link', 'set', a.ifname, 'down']);
        await a.run('ip', ['link', 'set', a.ifname, 'up']);
        await new Promise((r) => setTimeout(r, 300));
        await scapy(
          b,
          `sendp(Ether(dst="ff:ff:ff:ff:ff:ff", src="${b.mac}")/ARP(op=1, hwsrc="${b.mac}", psrc="${b.ipv4}", pdst="192.0.2.80"), iface="${b.ifname}")`,
        );
        const end3 = Date.now() + 3000;
        while (!frames(p).some((f) => arpTo(f, 'c0000250')) && Date.now() < end3)
          await new Promise((r) => setTimeout(r, 50));
        expect(frames(p).some((f) => arpTo(f, 'c0000250'))).toBe(true);
        command(p, 'close');
        await p.waitOutput(/"closed":true/, 5000);
        const closeMs = JSON.parse(
          p
            .stdout()
            .split('\n')
            .find((l) => l.includes('"closed"'))!,
        ).ms;
        expect(closeMs).toBeLessThan(500);
        // The process must exit on its own: no socket handle or worker poll left behind.
        const exited = await new Promise<boolean>((res) => {
          if (p.child.exitCode !== null) return res(true);
          const timer = setTimeout(() => res(false), 3000);
          p.child.once('exit', () => {
            clearTimeout(timer);
            res(true);
          });
        });
        expect(exited).toBe(true);
      });
    });
  }
});
