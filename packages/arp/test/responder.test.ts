import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeTimers } from '@ingot/lab';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  createResponder,
  type FrameTransport,
  IFF_BROADCAST,
  IFF_NOARP,
  IFF_UP,
  interfaceEligibility,
  linuxInterfaces,
  METALLB_EXCLUDED_INTERFACES,
  MemorySegment,
  type NetInterface,
  type Responder,
} from '../src/index.js';
import { Client } from './helpers/client.js';

const UP = IFF_UP | IFF_BROADCAST;
let n = 0;
function iface(name: string, over: Partial<NetInterface> = {}): NetInterface {
  n++;
  return {
    name,
    index: n,
    mac: `02:00:00:00:01:${n.toString(16).padStart(2, '0')}`,
    flags: UP,
    type: 1,
    enslaved: false,
    ...over,
  };
}

describe('interface eligibility (MetalLB rules)', () => {
  const all = { explicit: false, exclude: METALLB_EXCLUDED_INTERFACES };
  it('skips the exclude list, down, enslaved, NOARP and non-Ethernet interfaces', () => {
    for (const name of ['docker0', 'veth12', 'lo', 'cali3', 'flannel.1', 'kube-ipvs0', 'cni0', 'lxc9', 'dummy0']) {
      expect(interfaceEligibility(iface(name), all)).toEqual({ eligible: false, reason: 'excluded' });
    }
    expect(interfaceEligibility(iface('eth0', { flags: IFF_BROADCAST }), all)).toMatchObject({ reason: 'down' });
    expect(interfaceEligibility(iface('eth0', { enslaved: true }), all)).toMatchObject({ reason: 'enslaved' });
    expect(interfaceEligibility(iface('eth0', { flags: UP | IFF_NOARP }), all)).toMatchObject({ reason: 'NOARP' });
    expect(interfaceEligibility(iface('wg0', { type: 65534 }), all)).toMatchObject({ eligible: false });
    expect(interfaceEligibility(iface('eth0'), all)).toEqual({ eligible: true, arp: true, ndp: true });
    expect(interfaceEligibility(iface('eth0', { flags: IFF_UP }), all)).toEqual({
      eligible: true,
      arp: false,
      ndp: true,
    });
  });
  it('lets explicitly named interfaces bypass the exclude list, not the other checks', () => {
    const named = { explicit: true, exclude: METALLB_EXCLUDED_INTERFACES };
    expect(interfaceEligibility(iface('veth-a'), named)).toMatchObject({ eligible: true });
    expect(interfaceEligibility(iface('veth-a', { enslaved: true }), named)).toMatchObject({ eligible: false });
  });
});

describe('linuxInterfaces reads sysfs and if_inet6', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ingot-arp-sysfs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  it('parses index, MAC, flags, type, master and the first link-local', async () => {
    const mk = (name: string, files: Record<string, string>, master = false) => {
      mkdirSync(join(dir, 'net', name), { recursive: true });
      for (const [f, v] of Object.entries(files)) writeFileSync(join(dir, 'net', name, f), `${v}\n`);
      if (master) writeFileSync(join(dir, 'net', name, 'master'), '');
    };
    mk('eth0', { ifindex: '2', address: '02:AA:00:00:00:01', flags: '0x1003', type: '1', carrier_changes: '3' });
    mk('eth1', { ifindex: '3', address: '02:aa:00:00:00:02', flags: '0x1003', type: '1' }, true);
    writeFileSync(
      join(dir, 'if_inet6'),
      [
        '20010db8000000010000000000000001 02 40 00 80     eth0',
        'fe8000000000000000aa00fffe000001 02 40 20 80     eth0',
        'fe8000000000000000aa00fffe000002 03 40 20 80     eth1',
      ].join('\n'),
    );
    const list = await linuxInterfaces(join(dir, 'net'), join(dir, 'if_inet6')).list();
    const byName = Object.fromEntries(list.map((i) => [i.name, i]));
    expect(byName.eth0).toEqual({
      name: 'eth0',
      index: 2,
      mac: '02:aa:00:00:00:01',
      flags: 0x1003,
      type: 1,
      enslaved: false,
      ipv6LinkLocal: 'fe80::aa:ff:fe00:1',
      carrierChanges: 3,
    });
    expect(byName.eth1?.enslaved).toBe(true);
  });
});

describe('node-wide responder over in-memory interfaces', () => {
  let current: NetInterface[];
  let segments: Map<string, MemorySegment>;
  let transports: Map<string, FrameTransport>;
  let timers: FakeTimers;
  let r: Responder;

  beforeEach(() => {
    segments = new Map();
    transports = new Map();
    timers = new FakeTimers();
    current = [iface('eth0'), iface('eth1'), iface('docker0'), iface('bond-slave', { enslaved: true })];
  });
  afterEach(async () => r?.close());

  const seg = (name: string) => {
    let s = segments.get(name);
    if (!s) {
      s = new MemorySegment();
      segments.set(name, s);
    }
    return s;
  };

  const start = async (opts: Parameters<typeof createResponder>[0] = {}) => {
    r = createResponder({
      interfaceSource: { list: async () => current.map((i) => ({ ...i })) },
      transportFactory: (i) => {
        const t = seg(i.name).attach({ name: i.name, mac: i.mac });
        transports.set(i.name, t);
        return t;
      },
      timers,
      scanIntervalMs: 0,
      ...opts,
    });
    await r.ready();
    return r;
  };

  it('serves eligible interfaces and answers on each with that interface MAC', async () => {
    await start();
    expect(r.interfaces().sort()).toEqual(['eth0', 'eth1']);
    r.announce('192.0.2.10');
    const c0 = new Client(seg('eth0'), '02:00:00:00:00:01');
    const c1 = new Client(seg('eth1'), '02:00:00:00:00:02');
    c0.clear();
    c0.arpRequest('192.0.2.10');
    c1.arpRequest('192.0.2.10');
    expect(c0.arps()[0]!.arp.senderMac).toBe(current[0]!.mac);
    expect(c1.arps()[0]!.arp.senderMac).toBe(current[1]!.mac);
    expect(r.counters()['192.0.2.10']).toEqual({ requestsReceived: 2, responsesSent: 2, gratuitousSent: 4 });
    const text = r.metrics();
    expect(text).toContain('metallb_layer2_requests_received{ip="192.0.2.10"} 2');
    expect(text).toContain('metallb_layer2_responses_sent{ip="192.0.2.10"} 2');
    expect(text).toContain('metallb_layer2_gratuitous_sent{ip="192.0.2.10"} 4');
  });

  it('re-emits response, drop and gratuitous events of every interface, for listeners added at any time', async () => {
    await start();
    const seen: string[] = [];
    r.on('gratuitous', (e) => seen.push(`gratuitous ${e.interface} ${e.ip} ${e.frames}`));
    r.announce('192.0.2.10');
    const c1 = new Client(seg('eth1'), '02:00:00:00:00:02');
    c1.arpRequest('192.0.2.10'); // no response listener yet: answered, no event
    r.on('response', (e) => seen.push(`response ${e.interface} ${e.ip} ${e.protocol} ${e.to}`));
    r.on('drop', (e) => seen.push(`drop ${e.interface} ${e.reason}`));
    c1.arpRequest('192.0.2.10');
    c1.arpRequest('192.0.2.11');
    expect(seen).toEqual([
      'gratuitous eth0 192.0.2.10 2',
      'gratuitous eth1 192.0.2.10 2',
      'response eth1 192.0.2.10 arp 02:00:00:00:00:02',
      'drop eth1 not-announced',
    ]);
    expect(r.counters()['192.0.2.10']).toMatchObject({ requestsReceived: 2, responsesSent: 2 });
  });

  it('sources NAs from the target by default, from the link-local with naSource: link-local (MetalLB)', async () => {
    current = [iface('eth0', { ipv6LinkLocal: 'fe80::aa' })];
    await start();
    r.announce('2001:db8::10');
    const c0 = new Client(seg('eth0'), '02:00:00:00:00:01');
    c0.neighborSolicitation('2001:db8::10');
    expect(c0.ndps()[0]!.ndp.source).toBe('2001:db8::10');
    await r.close();
    segments.clear();
    await start({ naSource: 'link-local' });
    r.announce('2001:db8::10');
    const c1 = new Client(seg('eth0'), '02:00:00:00:00:01');
    c1.neighborSolicitation('2001:db8::10');
    expect(c1.ndps()[0]!.ndp.source).toBe('fe80::aa');
  });

  it('restricts an IP to named interfaces (L2Advertisement.interfaces)', async () => {
    await start();
    r.announce('192.0.2.10', { interfaces: ['eth1'] });
    const c0 = new Client(seg('eth0'), '02:00:00:00:00:01');
    const c1 = new Client(seg('eth1'), '02:00:00:00:00:02');
    c0.arpRequest('192.0.2.10');
    c1.arpRequest('192.0.2.10');
    expect(c0.got).toHaveLength(0);
    expect(c1.arps()).toHaveLength(1);
    r.announce('192.0.2.10'); // widen: eth0 gets the IP and its gratuitous round
    c0.clear();
    c0.arpRequest('192.0.2.10');
    expect(c0.arps().map((f) => f.ethernet.destination)).toEqual([c0.mac]);
  });

  it('serves only named interfaces when given, bypassing the exclude list', async () => {
    current.push(iface('veth-a'));
    await start({ interfaces: ['veth-a', 'missing0'] });
    expect(r.interfaces()).toEqual(['veth-a']);
  });

  it('reacts to interfaces appearing, going down, changing MAC and disappearing', async () => {
    const added: string[] = [];
    const removed: string[] = [];
    await start({ scanIntervalMs: 1000, gratuitous: {} });
    r.on('interface-added', (e) => added.push(e.interface));
    r.on('interface-removed', (e) => removed.push(`${e.interface}:${e.reason}`));
    r.announce('192.0.2.10');
    const observer = new Client(seg('eth2'), '02:00:00:00:00:09');
    current.push(iface('eth2'));
    timers.advance(1000);
    await r.rescan();
    expect(r.interfaces()).toContain('eth2');
    // The new interface gets the announced IP and its gratuitous burst at once.
    expect(observer.arps().map((f) => f.arp.operation)).toEqual([1, 2]);
    current[0] = { ...current[0]!, flags: IFF_BROADCAST };
    current[1] = { ...current[1]!, mac: '02:00:00:00:0f:0f' };
    await r.rescan();
    current = current.filter((i) => i.name !== 'eth2');
    await r.rescan();
    expect(added).toEqual(['eth2', 'eth1']);
    expect(removed).toEqual(['eth0:down', 'eth1:ifindex or MAC changed', 'eth2:gone']);
    expect(transports.get('eth2')?.closed).toBe(true);
    expect(r.interfaces()).toEqual(['eth1']);
  });

  it('re-announces on an interface whose carrier flapped between two scans', async () => {
    current = [iface('eth0', { carrierChanges: 2 })];
    await start({ gratuitous: false });
    r.announce('192.0.2.10');
    await r.rescan();
    expect(r.counters()['192.0.2.10']?.gratuitousSent ?? 0).toBe(0);
    current[0] = { ...current[0]!, carrierChanges: 4 };
    await r.rescan();
    expect(r.counters()['192.0.2.10']!.gratuitousSent).toBe(2);
    await r.rescan();
    expect(r.counters()['192.0.2.10']!.gratuitousSent).toBe(2);
  });

  it('after withdraw (or narrowing to other interfaces) mid-burst, not one more frame for that IP', async () => {
    await start({ gratuitous: {}, reannounceIntervalMs: 500 });
    const watch = ['eth0', 'eth1'].map((name) => new Client(seg(name), '02:00:00:00:00:77'));
    const forIp = (c: Client, ip: string) => [
      ...c.arps().filter((f) => f.arp.senderIp === ip),
      ...c.ndps().filter((f) => f.ndp.message.type === 'neighbor-advertisement' && f.ndp.message.target === ip),
    ];
    for (const ip of ['192.0.2.10', '192.0.2.11', '2001:db8::10']) r.announce(ip);
    timers.advance(120); // between the 50 and 150 ms rounds
    for (const c of watch) c.clear();
    r.withdraw('192.0.2.10');
    r.withdraw('2001:db8::10');
    r.announce('192.0.2.11', { interfaces: ['eth0'] }); // eth1 stops announcing it
    for (let t = 0; t < 12_000; t += 10) timers.advance(10);
    for (const c of watch) {
      expect(forIp(c, '192.0.2.10')).toEqual([]);
      expect(forIp(c, '2001:db8::10')).toEqual([]);
    }
    expect(forIp(watch[1]!, '192.0.2.11')).toEqual([]);
    expect(forIp(watch[0]!, '192.0.2.11').length).toBeGreaterThan(0);
  });

  it('withdraw, reannounce and close reach every interface', async () => {
    await start({ gratuitous: {} });
    r.announce('2001:db8::10');
    expect(r.announced()).toEqual(['2001:db8::10']);
    timers.advance(10_000);
    const before = r.counters()['2001:db8::10']!.gratuitousSent;
    expect(before).toBe(18); // 9 rounds × 2 interfaces × 1 NA
    r.reannounce();
    expect(r.counters()['2001:db8::10']!.gratuitousSent).toBe(before + 2);
    r.withdraw('2001:db8::10');
    expect(r.announced()).toEqual([]);
    const c0 = new Client(seg('eth0'), '02:00:00:00:00:01');
    c0.neighborSolicitation('2001:db8::10');
    expect(c0.got).toHaveLength(0);
    await r.close();
    expect([...transports.values()].every((t) => t.closed)).toBe(true);
  });
});
