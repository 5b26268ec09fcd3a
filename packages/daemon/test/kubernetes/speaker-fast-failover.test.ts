// The Kubernetes speaker's `fast` failover profile (--failover fast), wired with fakes: a fake API server, a fake
// layer-2 backend and gossip membership, and the real FastFailover over a fake heartbeat link (the thread's verdicts
// are emitted by hand). What is checked: the heartbeat starts with the speaker's plan, key and priority; an owner the
// heartbeat reports lost is left out of the plan's members, so this speaker (its successor) announces its IPs, and is
// put back when heard again; the metrics are on the speaker's /metrics; SIGTERM's order is withdraw, leave, close.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { dryRunBgp } from '../../src/backends/dry-run.js';
import type { Layer2Backend } from '../../src/daemon.js';
import { KubernetesDaemon } from '../../src/kubernetes/kubernetes-daemon.js';
import { KubernetesSpeakerRole, type SpeakerParts } from '../../src/kubernetes/speaker-role.js';
import { createLogger } from '../../src/logger.js';
import type { MembershipSource } from '../../src/membership-source.js';
import type { NodeInfo } from '../../src/speaker/announcement-plan.js';
import { FastFailover, type StartFastFailoverOptions } from '../../src/speaker/fast-failover.js';
import { FakeHeartbeatLink, heartbeatStats } from '../fixtures/fake-heartbeat-link.js';
import { freeTcpPort } from '../fixtures/loopback-port.js';
import { FakeApiServer, type FakeObject } from './fake-api-server.js';
import { startWithKubeconfig } from './fake-kubeconfig.js';

const NS = 'metallb-system';
const NODES = ['node-a', 'node-b', 'node-c'];
/** This speaker: in MetalLB's order for these IPs, the successor of most of node-a's. */
const SELF = 'node-c';
const IPS = Array.from({ length: 8 }, (_, i) => `192.0.2.${80 + i}`);

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function service(name: string, ip: string): FakeObject {
  return {
    metadata: { name, namespace: 'default' },
    spec: { type: 'LoadBalancer', clusterIPs: ['198.51.100.10'], ports: [{ protocol: 'TCP', port: 80 }] },
    status: { loadBalancer: { ingress: [{ ip }] } },
  };
}

function endpoints(name: string): FakeObject {
  return {
    metadata: { name: `${name}-x`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.51.100.77'], conditions: { ready: true }, nodeName: 'node-a' }],
  };
}

/** A speaker `node-c` with --failover fast (or `gossip`) against a fake API server holding eight layer-2 IPs. */
async function startSpeaker(failover: 'fast' | 'gossip') {
  const server = new FakeApiServer();
  server.apply('ipaddresspools', { metadata: { name: 'p', namespace: NS }, spec: { addresses: ['192.0.2.80/29'] } });
  server.apply('l2advertisements', { metadata: { name: 'l2', namespace: NS }, spec: {} });
  for (const n of NODES) server.apply('nodes', { metadata: { name: n, labels: { 'kubernetes.io/hostname': n } } });
  IPS.forEach((ip, i) => {
    server.apply('services', service(`web-${i}`, ip));
    server.apply('endpointslices', endpoints(`web-${i}`));
  });
  const { dir, kubeconfig } = await startWithKubeconfig(server, cleanups, 'ingot-fast-k8s-');
  const secretFile = join(dir, 'secretkey');
  writeFileSync(secretFile, 'sixteen-byte-key-for-tests\n');

  const calls: string[] = [];
  const announced = new Set<string>();
  const layer2: Layer2Backend = {
    announce: (ip) => void announced.add(ip),
    withdraw: (ip) => {
      announced.delete(ip);
      calls.push(`withdraw ${ip}`);
    },
    reannounce: () => void calls.push('reannounce'),
    close: async () => void calls.push('layer2 close'),
  };
  const live = new Set(NODES);
  const membership: MembershipSource = {
    members: (): NodeInfo[] => [...live].map((name) => ({ name, labels: {} })),
    view: () => [...live].map((name, i) => ({ name, state: 'alive', address: `192.0.2.${i + 1}:7946` })),
    setLabels: () => {},
    join: async () => 0,
    close: async () => void calls.push('leave'),
    metrics: () => [],
    advertised: '192.0.2.1:7946',
    wire: 'memberlist',
  };
  const link = new FakeHeartbeatLink({
    stats: () =>
      heartbeatStats({
        framesSent: 7,
        bytesSent: 392,
        framesReceived: 5,
        bytesReceived: 280,
        watcher: { heartbeats: 5, lost: 1 },
      }),
    onLeave: (peers) => void calls.push(`leaving ${peers.join(',')}`),
  });
  const started: StartFastFailoverOptions[] = [];
  let failoverMade: FastFailover | undefined;
  const log = createLogger({ level: 'error', write: () => {} });
  const parts: SpeakerParts = {
    createBackends: async (o) => ({ layer2, bgp: dryRunBgp(o.log) }),
    startMembership: async () => membership,
    startFastFailover: async (o) => {
      started.push(o);
      const failover = new FastFailover({
        self: o.self,
        link,
        addressOf: (name) => ({ name, host: '192.0.2.9', port: 7947 }),
        swimAlive: (name) => o.membership.members().some((m) => m.name === name),
        plan: o.plan,
        reconcile: o.reconcile,
        reannounce: o.reannounce,
        log: o.log,
        refreshMs: 1_000_000,
      });
      failoverMade = failover;
      return {
        failover,
        close: async () => {
          failover.close();
          calls.push('heartbeat close');
        },
      };
    },
  };
  const metricsBind = `127.0.0.1:${await freeTcpPort()}`;
  const daemon = new KubernetesDaemon({
    kubeconfig,
    namespace: NS,
    role: 'speaker',
    node: SELF,
    speaker: {
      labels: {},
      backends: { announce: 'dry-run', interfaces: [], realtimePriority: 20, bgp: { routerId: '192.0.2.1' } },
      memberlist: { bind: '192.0.2.1:7946', join: [], secretFile, insecurePlaintext: false },
      failover,
      parts,
    },
    controller: {},
    metricsBind,
    log,
  });
  await daemon.start();
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await daemon.stop();
  };
  cleanups.push(stop);
  const mode = daemon.kubernetesMode;
  if (!mode?.daemon) throw new Error('no speaker daemon');
  const speakerDaemon = mode.daemon;
  await waitFor('the plan', () => (speakerDaemon.announcementPlan()?.l2.length ?? 0) === IPS.length);
  const metrics = async () => (await fetch(`http://${metricsBind}/metrics`)).text();
  return {
    daemon,
    plan: () => speakerDaemon.announcementPlan(),
    announced,
    calls,
    live,
    link,
    started,
    failover: () => failoverMade,
    metrics,
    stop,
  };
}

describe('Kubernetes speaker: --failover fast', () => {
  it('starts the heartbeat on the speaker plan, key and priority; a lost owner is taken over and given back', async () => {
    const s = await startSpeaker('fast');
    expect(s.started).toHaveLength(1);
    const o = s.started[0] as StartFastFailoverOptions;
    expect(o).toMatchObject({ self: SELF, secret: 'sixteen-byte-key-for-tests', realtimePriority: 20 });
    expect(o.plan()).toBe(s.plan());
    o.reannounce();
    expect(s.calls).toContain('reannounce');

    // An IP another node owns and this node succeeds, and the IPs this node announces before the takeover.
    const before = s.plan()?.l2 ?? [];
    const succeeded = before.find((a) => a.successor === SELF && a.node !== SELF);
    if (!succeeded) throw new Error(`${SELF} succeeds no IP: ${JSON.stringify(before)}`);
    const owner = succeeded.node;
    const ownersIps = before.filter((a) => a.node === owner && a.successor === SELF).map((a) => a.ip);
    await waitFor('own IPs announced', () => before.filter((a) => a.node === SELF).every((a) => s.announced.has(a.ip)));
    for (const ip of ownersIps) expect(s.announced.has(ip)).toBe(false);

    // The heartbeat thread reports the owner lost: it leaves the plan's members (SWIM still lists it) and this
    // speaker announces its IPs at once, and tells it.
    s.link.emit('lost', owner, 130);
    expect(s.failover()?.excluded(owner)).toBe(true);
    for (const ip of ownersIps) expect(s.announced.has(ip), ip).toBe(true);
    expect(s.plan()?.l2.some((a) => a.node === owner)).toBe(false);
    expect(s.link.notices).toContainEqual([owner, 'takeover']);
    const text = await s.metrics();
    expect(text).toMatch(/^ingot_layer2_fast_takeovers_pending 1$/m);
    expect(text).toMatch(/^ingot_heartbeat_frames_sent_total 7$/m);

    // Heard again: back into the plan, its IPs withdrawn here, and told so.
    s.link.emit('recovered', owner, 40);
    expect(s.failover()?.excluded(owner)).toBe(false);
    for (const ip of ownersIps) expect(s.announced.has(ip), ip).toBe(false);
    expect(s.link.notices).toContainEqual([owner, 'released']);
    expect(await s.metrics()).toMatch(/^ingot_layer2_fast_takeovers_total\{outcome="refuted"\} 1$/m);
  }, 30_000);

  it('SIGTERM order: every layer-2 IP withdrawn, `leaving` to their successors, the leave, the backend, the heartbeat', async () => {
    const s = await startSpeaker('fast');
    const own = (s.plan()?.l2 ?? []).filter((a) => a.node === SELF).map((a) => a.ip);
    expect(own.length).toBeGreaterThan(0);
    await waitFor('own IPs announced', () => own.every((ip) => s.announced.has(ip)));
    s.calls.length = 0;
    await s.stop();
    const leave = s.calls.indexOf('leave');
    expect(leave).toBeGreaterThan(1);
    // Withdrawn first; then the successors of those IPs are told `leaving` on the heartbeat path; then the leave.
    const successors = [...new Set((s.plan()?.l2 ?? []).filter((a) => a.node === SELF).map((a) => a.successor))];
    expect(s.calls.slice(0, leave - 1).sort()).toEqual(own.map((ip) => `withdraw ${ip}`).sort());
    expect(s.calls[leave - 1]).toBe(`leaving ${successors.sort().join(',')}`);
    expect(s.calls.indexOf('layer2 close')).toBeGreaterThan(leave);
    expect(s.calls.indexOf('heartbeat close')).toBeGreaterThan(s.calls.indexOf('layer2 close'));
  }, 30_000);

  it('gossip profile: no heartbeat, no fast metrics, every live member in the plan', async () => {
    const s = await startSpeaker('gossip');
    expect(s.started).toHaveLength(0);
    expect(await s.metrics()).not.toContain('ingot_heartbeat_');
    expect(new Set(s.plan()?.l2.map((a) => a.node))).toEqual(new Set(NODES));
  }, 30_000);

  it('refuses fast without gossip membership, naming the flag', () => {
    const log = createLogger({ level: 'error', write: () => {} });
    expect(
      () =>
        new KubernetesSpeakerRole({
          node: SELF,
          labels: {},
          backends: { announce: 'dry-run', interfaces: [], bgp: { routerId: '192.0.2.1' } },
          failover: 'fast',
          log,
        }),
    ).toThrow(/--failover fast needs gossip membership \(--memberlist-bind\)/);
  });
});
