// Issue 17: a node that stops owning an IP sends nothing more for it from that instant. The daemon on a real
// @ingot/arp Responder over an in-memory segment, on fake timers: whether the IP moves to another member or the node
// stops gracefully (Daemon.stopLayer2, called before leaving the cluster), not one more frame leaves for that IP.
import { createResponder, decodeFrame, MemorySegment } from '@ingot/arp';
import { FakeTimers } from '@ingot/lab';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, Daemon, type IngotConfig, type Layer2Backend, parseConfig } from '../src/index.js';
import { layer2Pool } from './fixtures/config-documents.js';

const CONFIG = (() => {
  const r = parseConfig(`${layer2Pool('198.51.100.10-198.51.100.13, "2001:db8:100::10-2001:db8:100::11"')}apiVersion: v1
kind: Service
metadata: { name: a, namespace: demo }
spec: { type: LoadBalancer, clusterIPs: [203.0.113.1], ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: b, namespace: demo }
spec: { type: LoadBalancer, clusterIPs: [203.0.113.2], ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: c, namespace: demo }
spec: { type: LoadBalancer, clusterIPs: ["2001:db8:ff::1"], ipFamilyPolicy: SingleStack, ipFamilies: [IPv6], ports: [{ port: 80 }] }
`);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config as IngotConfig;
})();

const MAC = '02:00:00:00:00:aa';
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

async function node(members: () => { name: string; labels: Record<string, string> }[]) {
  const timers = new FakeTimers();
  const seg = new MemorySegment();
  const responder = createResponder({
    interfaceSource: {
      list: async () => [{ name: 'eth0', index: 2, mac: MAC, flags: 0x1003, type: 1, enslaved: false }],
    },
    transportFactory: (i) => seg.attach({ name: i.name, mac: i.mac }),
    scanIntervalMs: 0,
    timers,
  });
  await responder.ready();
  cleanup = () => responder.close();
  // What leaves the node: every gratuitous ARP / unsolicited NA on the segment, with the IP it is for.
  const wire: { at: number; ip: string }[] = [];
  const observer = seg.attach({ name: 'observer', mac: '02:00:00:00:00:77' });
  observer.receive((f) => {
    const d = decodeFrame(f);
    if (d.kind === 'arp') wire.push({ at: timers.now(), ip: d.arp.senderIp });
    else if (d.kind === 'ndp' && d.ndp.message.type === 'neighbor-advertisement')
      wire.push({ at: timers.now(), ip: d.ndp.message.target });
  });
  const delivered: string[][] = [];
  const layer2: Layer2Backend = responder;
  const daemon = new Daemon({
    nodeName: 'n1',
    log: createLogger({ write: () => {} }),
    layer2,
    bgp: { setPeers: () => {}, announce: () => {}, withdraw: () => {} },
    members,
    localDelivery: { sync: (ips) => void delivered.push([...ips].sort()) },
  });
  return { daemon, responder, timers, wire, delivered };
}

describe('layer-2 handover: the old owner falls silent at once', () => {
  it('graceful stop mid-burst: stopLayer2 withdraws everything, not one more frame, whatever reconciles follow', async () => {
    for (const at of [0, 30, 50, 120, 700, 1100, 3000]) {
      let members = [{ name: 'n1', labels: {} }];
      const n = await node(() => members);
      n.daemon.applyConfig(CONFIG);
      const owned = n.daemon.layer2Announcements().sort();
      expect(owned).toEqual(['198.51.100.10', '198.51.100.11', '2001:db8:100::10']);
      n.timers.advance(at);
      expect(n.wire.length).toBeGreaterThan(0);
      n.wire.length = 0;
      n.daemon.stopLayer2();
      expect(n.daemon.layer2Announcements()).toEqual([]);
      expect(n.responder.announced()).toEqual([]);
      // Membership churn while leaving (a member joins, the config is re-applied): still nothing announced.
      members = [...members, { name: 'n2', labels: {} }];
      n.daemon.reconcile();
      members = [{ name: 'n1', labels: {} }];
      n.daemon.applyConfig(CONFIG);
      n.timers.advance(20_000);
      expect(n.wire, `stopped ${at} ms into the burst`).toEqual([]);
      expect(n.responder.announced()).toEqual([]);
      // The IPs stay delivered locally, for the clients that still point here until the new owner's first round.
      expect(n.delivered.at(-1)).toEqual(owned);
      await cleanup?.();
      cleanup = undefined;
    }
  });

  it('an IP that moves to another member mid-burst: not one more frame for it, the others carry on', async () => {
    let members: { name: string; labels: Record<string, string> }[] = [{ name: 'n1', labels: {} }];
    const n = await node(() => members);
    n.daemon.applyConfig(CONFIG);
    n.timers.advance(100);
    // Members join (a rolling restart brings them back): whatever they win moves away from n1 in this reconcile.
    members = ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => ({ name, labels: {} }));
    n.daemon.reconcile();
    const kept = n.daemon.layer2Announcements();
    const moved = ['198.51.100.10', '198.51.100.11', '2001:db8:100::10'].filter((ip) => !kept.includes(ip));
    expect(moved.length, 'n1 keeps all three IPs: pick other names').toBeGreaterThan(0);
    const t = n.timers.now();
    n.timers.advance(20_000);
    expect(n.wire.filter((w) => w.at > t && moved.includes(w.ip))).toEqual([]);
    for (const ip of kept) expect(n.wire.some((w) => w.at > t && w.ip === ip)).toBe(true);
  });
});

describe('layer-2 handover: the old owner keeps delivering while clients move', () => {
  it('an IP that moves away stays in local delivery for handoverDrainMs, then leaves; one that comes back stays', () => {
    vi.useFakeTimers();
    try {
      let members = [{ name: 'n1', labels: {} }];
      const delivered: string[][] = [];
      const calls: string[] = [];
      const daemon = new Daemon({
        nodeName: 'n1',
        log: createLogger({ write: () => {} }),
        layer2: { announce: (ip) => calls.push(`+${ip}`), withdraw: (ip) => calls.push(`-${ip}`) },
        bgp: { setPeers: () => {}, announce: () => {}, withdraw: () => {} },
        members: () => members,
        localDelivery: { sync: (ips) => void delivered.push([...ips].sort()) },
        handoverDrainMs: 1500,
      });
      daemon.applyConfig(CONFIG);
      const all = daemon.layer2Announcements().sort();
      members = ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => ({ name, labels: {} }));
      daemon.reconcile();
      const kept = daemon.layer2Announcements();
      const moved = all.filter((ip) => !kept.includes(ip));
      expect(moved.length, 'n1 keeps all three IPs: pick other names').toBeGreaterThan(0);
      // Withdrawn from layer 2 at once (nothing more sent), still delivered.
      for (const ip of moved) expect(calls).toContain(`-${ip}`);
      expect(delivered.at(-1)).toEqual(all);
      vi.advanceTimersByTime(1499);
      expect(delivered.at(-1)).toEqual(all);
      vi.advanceTimersByTime(1);
      expect(delivered.at(-1)).toEqual([...kept].sort());
      // Moves away and straight back within the drain time: never leaves local delivery.
      const count = delivered.length;
      members = [{ name: 'n1', labels: {} }];
      daemon.reconcile();
      expect(delivered.at(-1)).toEqual(all);
      members = ['n1', 'n2', 'n3', 'n4', 'n5'].map((name) => ({ name, labels: {} }));
      daemon.reconcile();
      members = [{ name: 'n1', labels: {} }];
      daemon.reconcile();
      vi.advanceTimersByTime(5000);
      expect(delivered.slice(count).every((d) => JSON.stringify(d) === JSON.stringify(all))).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });
});
