import { afterEach, describe, expect, it, vi } from 'vitest';
import { Daemon, type IngotConfig, parseConfig } from '../src/index.js';
import { createLogger } from '../src/logger.js';
import type { AnnouncementPlan } from '../src/speaker/announcement-plan.js';
import { FastFailover, heartbeatPairs } from '../src/speaker/fast-failover.js';
import { layer2Pool } from './fixtures/config-documents.js';
import { FakeHeartbeatLink } from './fixtures/fake-heartbeat-link.js';

const l2 = (ip: string, node: string, successor?: string) => ({
  service: 'demo/web',
  ip,
  node,
  interfaces: [],
  ...(successor ? { successor } : {}),
});

function setup(self: string, plan: AnnouncementPlan) {
  const link = new FakeHeartbeatLink();
  const alive = new Set(['a', 'b', 'c']);
  const lines: string[] = [];
  const reconcile = vi.fn();
  const reannounce = vi.fn();
  const ff = new FastFailover({
    self,
    link,
    addressOf: (name) => ({ name, host: '192.0.2.1', port: 7947 }),
    swimAlive: (n) => alive.has(n),
    plan: () => plan,
    reconcile,
    reannounce,
    log: createLogger({ write: (l) => lines.push(l), level: 'debug' }),
    holdMs: 1000,
    refreshMs: 1_000_000,
  });
  return { link, alive, lines, reconcile, reannounce, ff };
}

const value = (ff: FastFailover, name: string, outcome?: string) =>
  ff.metrics().find((m) => m.name === name && (outcome === undefined || m.labels.outcome === outcome))?.value;

let open: FastFailover[] = [];
afterEach(() => {
  for (const f of open) f.close();
  open = [];
  vi.useRealTimers();
});

describe('heartbeatPairs', () => {
  it('sends to the successors of the IPs a node owns and watches the owners of the IPs it succeeds', () => {
    const plan = {
      l2: [
        l2('198.51.100.1', 'a', 'b'),
        l2('198.51.100.2', 'a', 'c'),
        l2('198.51.100.3', 'b', 'a'),
        l2('198.51.100.4', 'c'),
      ],
      bgp: [],
      skipped: [],
    };
    expect(heartbeatPairs(plan, 'a')).toEqual({ sendTo: ['b', 'c'], watch: ['b'] });
    expect(heartbeatPairs(plan, 'b')).toEqual({ sendTo: ['a'], watch: ['a'] });
    expect(heartbeatPairs(plan, 'c')).toEqual({ sendTo: [], watch: ['a'] });
    expect(heartbeatPairs(undefined, 'a')).toEqual({ sendTo: [], watch: [] });
  });
});

describe('FastFailover', () => {
  const plan = { l2: [l2('198.51.100.1', 'a', 'b')], bgp: [], skipped: [] };

  it('lost owner: excluded, re-planned, told; SWIM dropping it confirms the takeover', () => {
    const t = setup('b', plan);
    open.push(t.ff);
    t.ff.refresh();
    expect(t.link.peers.at(-1)).toEqual({ sendTo: [], watch: ['a'] });
    t.link.emit('lost', 'a', 120);
    expect(t.ff.excluded('a')).toBe(true);
    expect(t.reconcile).toHaveBeenCalledTimes(1);
    expect(t.link.notices).toEqual([['a', 'takeover']]);
    expect(t.lines.some((l) => l.includes('fast takeover') && l.includes('"path":"heartbeat"'))).toBe(true);
    expect(value(t.ff, 'ingot_layer2_fast_takeovers_pending')).toBe(1);
    t.alive.delete('a');
    t.ff.refresh();
    expect(t.ff.excluded('a')).toBe(false);
    expect(value(t.ff, 'ingot_layer2_fast_takeovers_total', 'confirmed')).toBe(1);
    expect(value(t.ff, 'ingot_layer2_fast_takeovers_total', 'refuted')).toBe(0);
    // a recovery after the confirmation changes nothing
    t.link.emit('recovered', 'a', 900);
    expect(t.reconcile).toHaveBeenCalledTimes(1);
  });

  it('an owner heard again backs the takeover out: withdrawn, told "released", counted refuted; the owner stays watched meanwhile', () => {
    const t = setup('b', plan);
    open.push(t.ff);
    t.link.emit('lost', 'a', 120);
    // the plan without a names b the owner: a must stay watched so its return is noticed
    const taken = { l2: [l2('198.51.100.1', 'b', 'c')], bgp: [], skipped: [] };
    const t2 = setup('b', taken);
    open.push(t2.ff);
    t2.link.emit('lost', 'a', 120);
    t2.ff.refresh();
    expect(t2.link.peers.at(-1)).toEqual({ sendTo: ['c'], watch: ['a'] });
    t.link.emit('recovered', 'a', 40);
    expect(t.ff.excluded('a')).toBe(false);
    expect(t.reconcile).toHaveBeenCalledTimes(2);
    expect(t.link.notices).toEqual([
      ['a', 'takeover'],
      ['a', 'released'],
    ]);
    expect(value(t.ff, 'ingot_layer2_fast_takeovers_total', 'refuted')).toBe(1);
  });

  it('SWIM still listing the owner after the hold time backs the takeover out', () => {
    vi.useFakeTimers();
    const t = setup('b', plan);
    open.push(t.ff);
    t.link.emit('lost', 'a', 120);
    vi.advanceTimersByTime(999);
    expect(t.ff.excluded('a')).toBe(true);
    vi.advanceTimersByTime(1);
    expect(t.ff.excluded('a')).toBe(false);
    expect(value(t.ff, 'ingot_layer2_fast_takeovers_total', 'refuted')).toBe(1);
  });

  it('a loss report for a member SWIM already dropped is ignored; a "released" notice re-announces', () => {
    const t = setup('b', plan);
    open.push(t.ff);
    t.alive.delete('a');
    t.link.emit('lost', 'a', 120);
    expect(t.ff.excluded('a')).toBe(false);
    expect(t.reconcile).not.toHaveBeenCalled();
    t.link.emit('notice', 'takeover', 'c');
    expect(t.reannounce).not.toHaveBeenCalled();
    t.link.emit('notice', 'released', 'c');
    expect(t.reannounce).toHaveBeenCalledTimes(1);
  });
});

describe('FastFailover: graceful handover (the leaving notice)', () => {
  const plan = { l2: [l2('198.51.100.1', 'a', 'b')], bgp: [], skipped: [] };
  const counts = (ff: FastFailover) =>
    Object.fromEntries(
      ['confirmed', 'refuted', 'handover'].map((o) => [o, value(ff, 'ingot_layer2_fast_takeovers_total', o)]),
    );

  it('a leaving owner is left out at once and stays out, whatever its leftover frames and the hold time; SWIM dropping it counts a handover', () => {
    vi.useFakeTimers();
    const t = setup('b', plan);
    open.push(t.ff);
    t.link.emit('notice', 'leaving', 'a');
    expect(t.ff.excluded('a')).toBe(true);
    expect(t.reconcile).toHaveBeenCalledTimes(1);
    expect(
      t.lines.some((l) => l.includes('fast handover: the owner is stopping') && l.includes('"path":"handover"')),
    ).toBe(true);
    expect(t.lines.some((l) => l.includes('owner silent'))).toBe(false); // not logged as a loss takeover
    expect(t.link.notices).toEqual([]); // the owner is not told "takeover": it gave the IPs up itself
    expect(value(t.ff, 'ingot_layer2_fast_takeovers_pending')).toBe(1);
    // its heartbeats stop: a loss report changes nothing; a copy of the notice neither
    t.link.emit('lost', 'a', 130);
    t.link.emit('notice', 'leaving', 'a');
    // no hold time for a handover
    vi.advanceTimersByTime(5000);
    expect(t.ff.excluded('a')).toBe(true);
    expect(t.reconcile).toHaveBeenCalledTimes(1);
    expect(counts(t.ff)).toEqual({ confirmed: 0, refuted: 0, handover: 0 });
    t.alive.delete('a');
    t.ff.refresh();
    expect(t.ff.excluded('a')).toBe(false);
    expect(counts(t.ff)).toEqual({ confirmed: 0, refuted: 0, handover: 1 });
    expect(value(t.ff, 'ingot_layer2_fast_takeovers_pending')).toBe(0);
    expect(t.lines.some((l) => l.includes('fast handover confirmed'))).toBe(true);
  });

  it('a provisional takeover of an owner that then says leaving becomes a handover: no hold-time back-out, no refutation', () => {
    vi.useFakeTimers();
    const t = setup('b', plan);
    open.push(t.ff);
    t.link.emit('lost', 'a', 120);
    t.link.emit('notice', 'leaving', 'a');
    expect(t.reconcile).toHaveBeenCalledTimes(1); // already re-planned by the takeover
    vi.advanceTimersByTime(5000);
    expect(t.ff.excluded('a')).toBe(true);
    expect(counts(t.ff).refuted).toBe(0);
    expect(t.link.notices).toEqual([['a', 'takeover']]);
  });

  it('the owner heard from a new boot (restarted before SWIM dropped it) ends the handover without a refutation', () => {
    const t = setup('b', plan);
    open.push(t.ff);
    t.link.emit('notice', 'leaving', 'a');
    t.link.emit('recovered', 'a', 0);
    expect(t.ff.excluded('a')).toBe(false);
    expect(t.reconcile).toHaveBeenCalledTimes(2);
    expect(t.link.notices).toEqual([]);
    expect(counts(t.ff)).toEqual({ confirmed: 0, refuted: 0, handover: 0 });
  });

  it('a leaving notice from a member SWIM already dropped is ignored', () => {
    const t = setup('b', plan);
    open.push(t.ff);
    t.alive.delete('a');
    t.link.emit('notice', 'leaving', 'a');
    expect(t.ff.excluded('a')).toBe(false);
    expect(t.reconcile).not.toHaveBeenCalled();
  });

  it('leave(): tells every successor of the IPs this node owns, in copies, once; no pairs are set afterwards', async () => {
    const owned = {
      l2: [l2('198.51.100.1', 'a', 'b'), l2('198.51.100.2', 'a', 'c'), l2('198.51.100.3', 'b', 'a')],
      bgp: [],
      skipped: [],
    };
    const t = setup('a', owned);
    open.push(t.ff);
    t.ff.refresh();
    const pairsBefore = t.link.peers.length;
    expect(await t.ff.leave()).toEqual(['b', 'c']);
    expect(t.link.left).toEqual([{ to: ['b', 'c'], copies: 3 }]);
    expect(await t.ff.leave()).toEqual([]);
    expect(t.link.left).toHaveLength(1);
    t.ff.refresh();
    expect(t.link.peers).toHaveLength(pairsBefore);
    // while stopping, a peer's leaving notice is not acted on
    t.link.emit('notice', 'leaving', 'b');
    expect(t.ff.excluded('b')).toBe(false);
    expect(
      t.lines.some((l) => l.includes('successors took our layer2 IPs over') && l.includes('"successors":["b","c"]')),
    ).toBe(true);
  });

  it('leave(): a successor that does not acknowledge is logged at warn (the gossip leave still tells it); no IPs, no notice', async () => {
    const owned = { l2: [l2('198.51.100.1', 'a', 'b'), l2('198.51.100.2', 'a', 'c')], bgp: [], skipped: [] };
    const t = setup('a', owned);
    open.push(t.ff);
    t.link.acknowledging = ['b'];
    expect(await t.ff.leave()).toEqual(['b']);
    expect(
      t.lines.some((l) => l.includes('not every successor acknowledged') && l.includes('"acknowledged":["b"]')),
    ).toBe(true);
    const none = setup('c', { l2: [l2('198.51.100.1', 'a', 'b')], bgp: [], skipped: [] });
    open.push(none.ff);
    expect(await none.ff.leave()).toEqual([]);
    expect(none.link.left).toEqual([]);
  });
});

describe('Daemon standbyLayer2 (fast profile, data path local)', () => {
  const parsed = parseConfig(
    `${layer2Pool('198.51.100.10-198.51.100.13')}${['a', 'b', 'c', 'd']
      .map(
        (n, i) =>
          `apiVersion: v1\nkind: Service\nmetadata: { name: ${n}, namespace: demo }\nspec: { type: LoadBalancer, clusterIPs: [203.0.113.${i + 1}], ports: [{ port: 80 }] }\n`,
      )
      .join('---\n')}`,
  );
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const config = parsed.config as IngotConfig;

  function run(standby: boolean) {
    const delivered: string[][] = [];
    const announced: string[] = [];
    const daemon = new Daemon({
      nodeName: 'n2',
      log: createLogger({ write: () => {} }),
      layer2: { announce: (ip) => void announced.push(ip), withdraw: () => {} },
      bgp: { setPeers: () => {}, announce: () => {}, withdraw: () => {} },
      members: () => ['n1', 'n2', 'n3'].map((name) => ({ name, labels: {} })),
      localDelivery: { sync: (ips) => void delivered.push([...ips].sort()) },
      ...(standby ? { standbyLayer2: true } : {}),
    });
    daemon.applyConfig(config);
    return { daemon, delivered, announced };
  }

  it('delivers the IPs this node succeeds in advance (without announcing them); off by default', () => {
    const on = run(true);
    const plan = on.daemon.announcementPlan()?.l2 ?? [];
    const owned = plan.filter((a) => a.node === 'n2').map((a) => a.ip);
    const succeeded = plan.filter((a) => a.successor === 'n2').map((a) => a.ip);
    expect(succeeded.length, 'pick other names: n2 succeeds no IP').toBeGreaterThan(0);
    expect(on.delivered.at(-1)).toEqual([...owned, ...succeeded].sort());
    expect(on.announced.sort()).toEqual(owned.sort());
    expect(run(false).delivered.at(-1)).toEqual([...owned].sort());
  });
});

describe('FastFailover metrics: the heartbeat silence limit', () => {
  it('exports the thread’s widest silence limit in seconds (a gauge)', () => {
    const t = setup('b', { l2: [l2('198.51.100.1', 'a', 'b')], bgp: [], skipped: [] });
    open.push(t.ff);
    expect(value(t.ff, 'ingot_heartbeat_silence_limit_seconds')).toBe(0.1);
  });
});
