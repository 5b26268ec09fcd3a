import { describe, expect, it } from 'vitest';
import { ConfigError, Keyring, type Member, type SimNode, Simulation } from '../src/index.js';

function cluster(n: number, seed: number, options: ConstructorParameters<typeof Simulation>[0] = {}): Simulation {
  const sim = new Simulation({ seed, ...options });
  for (let i = 0; i < n; i++) sim.addNode(`n${i}`);
  sim.joinAll();
  sim.run(1000);
  return sim;
}

function statusOf(observer: SimNode, name: string): string | undefined {
  return observer.membership.members().find((m) => m.name === name)?.status;
}

/** Kills one member; returns virtual ms until every other member reported it dead (-1 if not within 10 s). */
function killAndTime(sim: Simulation, victim: SimNode): number {
  victim.kill();
  const others = sim.nodes().filter((n) => n !== victim && !n.killed);
  return sim.runUntil(() => others.every((o) => statusOf(o, victim.name) === 'dead'), 10_000, 2);
}

describe('simulation: failure detection with shipped defaults (virtual time)', () => {
  for (const [n, bound, seeds] of [
    [3, 1000, 6],
    [10, 1000, 6],
    [50, 2000, 2],
  ] as const) {
    it(`${n} nodes: a crashed member is dead everywhere within ${bound} ms`, () => {
      for (let seed = 1; seed <= seeds; seed++) {
        const sim = cluster(n, seed);
        const t = killAndTime(sim, sim.node(`n${seed % n}`));
        expect(t, `seed ${seed}`).toBeGreaterThan(0);
        expect(t, `seed ${seed}`).toBeLessThanOrEqual(bound);
        // nobody else was declared dead
        for (const o of sim.nodes()) {
          if (o.killed) continue;
          expect(
            o.membership
              .members()
              .filter((m) => m.status === 'dead')
              .map((m) => m.name),
          ).toEqual([`n${seed % n}`]);
        }
      }
    });
  }

  it('200 nodes: converge, detect a crash everywhere within 3 s, no other member declared dead', () => {
    const sim = cluster(200, 7);
    const t = killAndTime(sim, sim.node('n123'));
    expect(t).toBeGreaterThan(0);
    expect(t).toBeLessThanOrEqual(3000);
    for (const o of sim.nodes()) if (!o.killed) expect(o.membership.clusterView().alive).toBe(199);
    // Wall-clock allowance, not a protocol bound (the bound is the virtual 3 s above): on memberlist's wire, the
    // default, the codec costs about 3x Ingot's (bench F), so this run takes ~20 s alone on a quiet machine and 71 s
    // was seen beside the other test files at load 25.
  }, 180_000);
});

describe('simulation: robustness', () => {
  for (const [seed, loss] of [
    [11, 0.1],
    [12, 0.1],
    [13, 0.2],
  ] as const) {
    it(`5 nodes at ${loss * 100}% loss for 3 virtual minutes: suspicions refuted, zero dead declarations (seed ${seed})`, () => {
      const sim = cluster(5, seed);
      let dead = 0;
      let suspect = 0;
      let refuted = 0;
      for (const n of sim.nodes()) {
        n.membership.on('dead', () => dead++);
        n.membership.on('suspect', () => suspect++);
        n.membership.on('alive', () => refuted++);
      }
      sim.loss = loss;
      sim.run(180_000);
      expect(suspect).toBeGreaterThan(20); // the loss did bite
      expect(refuted).toBeGreaterThan(0);
      expect(dead).toBe(0);
      for (const n of sim.nodes()) expect(n.membership.clusterView().alive).toBe(5);
    });
  }

  it('indirect probes: a member that cannot reach another directly never suspects it', () => {
    const sim = cluster(5, 3);
    let suspects = 0;
    for (const n of sim.nodes()) n.membership.on('suspect', () => suspects++);
    sim.cutLink('n0', 'n1');
    sim.run(30_000);
    expect(suspects).toBe(0);
    expect(sim.node('n0').membership.stats.indirectProbes).toBeGreaterThan(10);
  });

  it('a paused member (SIGSTOP) is declared dead, then refutes and rejoins when resumed', () => {
    const sim = cluster(5, 4);
    const victim = sim.node('n2');
    const joins: string[] = [];
    sim.node('n0').membership.on('join', (m: Member) => joins.push(m.name));
    victim.pause();
    expect(sim.runUntil(() => statusOf(sim.node('n0'), 'n2') === 'dead', 5000, 5)).toBeGreaterThan(0);
    const before = sim
      .node('n0')
      .membership.members()
      .find((m) => m.name === 'n2')!.incarnation;
    victim.resume();
    const t = sim.runUntil(() => sim.nodes().every((n) => statusOf(n, 'n2') === 'alive'), 5000, 5);
    expect(t).toBeGreaterThanOrEqual(0);
    expect(joins).toContain('n2');
    expect(
      sim
        .node('n0')
        .membership.members()
        .find((m) => m.name === 'n2')!.incarnation,
    ).toBeGreaterThan(before);
  });

  it('a short pause (150 ms) raises at most a suspicion, never a death', () => {
    const sim = cluster(5, 5);
    let dead = 0;
    for (const n of sim.nodes()) n.membership.on('dead', () => dead++);
    for (let i = 0; i < 20; i++) {
      sim.node(`n${i % 5}`).pause();
      sim.run(150);
      sim.node(`n${i % 5}`).resume();
      sim.run(3000);
    }
    expect(dead).toBe(0);
  });

  it('partition 3/3: each side declares the other dead; after healing everyone sees all 6 alive', () => {
    const sim = cluster(6, 6);
    sim.partition([
      ['n0', 'n1', 'n2'],
      ['n3', 'n4', 'n5'],
    ]);
    const split = sim.runUntil(
      () =>
        sim.nodes().every((n) => {
          const v = n.membership.clusterView();
          return v.alive === 3 && v.suspect === 0;
        }),
      10_000,
      10,
    );
    expect(split).toBeGreaterThan(0);
    const minority = sim.node('n0').membership.clusterView();
    expect(minority).toMatchObject({ alive: 3, largestRecent: 6, hasMajority: false });
    sim.heal();
    const healed = sim.runUntil(() => sim.nodes().every((n) => n.membership.clusterView().alive === 6), 20_000, 10);
    expect(healed).toBeGreaterThanOrEqual(0);
    for (const n of sim.nodes()) expect(n.membership.members().every((m) => m.status === 'alive')).toBe(true);
  });

  it('split-brain view: the majority side keeps a majority, the minority loses it', () => {
    const sim = cluster(5, 8);
    sim.partition([['n0', 'n1']]);
    sim.runUntil(() => sim.node('n0').membership.clusterView().alive === 2, 10_000, 10);
    sim.runUntil(() => sim.node('n4').membership.clusterView().alive === 3, 10_000, 10);
    expect(sim.node('n0').membership.clusterView()).toMatchObject({ alive: 2, largestRecent: 5, hasMajority: false });
    expect(sim.node('n4').membership.clusterView()).toMatchObject({ alive: 3, largestRecent: 5, hasMajority: true });
  });
});

describe('simulation: lifecycle', () => {
  it('graceful leave is seen everywhere at once (within one network delay)', async () => {
    const sim = cluster(10, 9);
    const leaver = sim.node('n4');
    const seen = new Map<string, number>();
    const t0 = sim.clock.now();
    for (const n of sim.nodes()) {
      n.membership.on('leave', (m: Member) => {
        if (m.name === 'n4') seen.set(n.name, sim.clock.now() - t0);
      });
      n.membership.on('dead', (m: Member) => {
        throw new Error(`${n.name} declared ${m.name} dead`);
      });
    }
    const left = leaver.membership.leave();
    sim.run(100);
    await left;
    expect(seen.size).toBe(9);
    for (const t of seen.values()) expect(t).toBeLessThan(5);
    leaver.kill();
    sim.run(5000);
    for (const n of sim.nodes()) if (n !== leaver) expect(statusOf(n, 'n4')).toBe('left');
  });

  it('a restarted member rejoins with a higher incarnation and is alive everywhere', async () => {
    const sim = cluster(5, 10);
    const victim = sim.node('n3');
    expect(killAndTime(sim, victim)).toBeGreaterThan(0);
    const deadInc = sim
      .node('n0')
      .membership.members()
      .find((m) => m.name === 'n3')!.incarnation;
    const rejoins: string[] = [];
    for (const n of sim.nodes()) n.membership.on('join', (m: Member) => rejoins.push(`${n.name}:${m.name}`));
    const fresh = sim.restartNode('n3');
    const joined = fresh.membership.join([sim.node('n0').address]);
    const t = sim.runUntil(() => sim.nodes().every((n) => statusOf(n, 'n3') === 'alive'), 5000, 5);
    await joined;
    expect(t).toBeGreaterThanOrEqual(0);
    expect(t).toBeLessThan(500);
    expect(fresh.membership.local.incarnation).toBeGreaterThan(deadInc);
    expect(rejoins.filter((r) => r.endsWith(':n3')).length).toBe(4);
    expect(fresh.membership.usableMembers().length).toBe(5);
  });

  it('labels are carried on join and updates reach everyone', () => {
    const sim = new Simulation({ seed: 12 });
    sim.addNode('a', { labels: { zone: 'z1' } });
    sim.addNode('b');
    sim.addNode('c');
    sim.joinAll();
    expect(
      sim
        .node('c')
        .membership.members()
        .find((m) => m.name === 'a')!.labels,
    ).toEqual({ zone: 'z1' });
    const updates: string[] = [];
    for (const n of sim.nodes()) n.membership.on('update', (m: Member) => updates.push(`${n.name}:${m.labels.zone}`));
    sim.node('a').membership.setLabels({ zone: 'z2', rack: 'r7' });
    sim.run(500);
    expect(updates.sort()).toEqual(['a:z2', 'b:z2', 'c:z2']);
    expect(
      sim
        .node('b')
        .membership.members()
        .find((m) => m.name === 'a')!.labels,
    ).toEqual({ zone: 'z2', rack: 'r7' });
    expect(() =>
      sim.node('a').membership.setLabels({ big: 'x'.repeat(250), big2: 'y'.repeat(250), big3: 'z' }),
    ).toThrow(/512/);
  });

  it('a member whose join failed keeps retrying its seeds and joins when one comes up', async () => {
    const sim = new Simulation({ seed: 16 });
    const a = sim.addNode('a');
    const b = sim.addNode('b');
    sim.partition([['a'], ['b']]); // the seed is unreachable at first
    const join = b.membership.join([a.address]);
    sim.run(6000);
    await expect(join).rejects.toThrow(/no seed answered/);
    expect(a.membership.usableMembers()).toEqual(['a']);
    sim.heal();
    const t = sim.runUntil(
      () => b.membership.usableMembers().length === 2 && a.membership.usableMembers().length === 2,
      5000,
      10,
    );
    expect(t).toBeGreaterThanOrEqual(0);
  });

  it('join skips its own address, so every member can share one seed list', async () => {
    const sim = new Simulation({ seed: 17 });
    const nodes = ['a', 'b', 'c'].map((n) => sim.addNode(n));
    const seeds = nodes.map((n) => n.address);
    const counts = nodes.map((n) => n.membership.join(seeds));
    sim.run(2000);
    expect(await Promise.all(counts)).toEqual([2, 2, 2]);
    expect(await sim.node('a').membership.join([sim.node('a').address])).toBe(0);
    for (const n of nodes) expect(n.membership.usableMembers()).toEqual(['a', 'b', 'c']);
  });

  it('rejects oversized or malformed labels with a ConfigError naming labels', () => {
    const sim = new Simulation({ seed: 18 });
    const a = sim.addNode('a');
    expect(() => a.membership.setLabels({ k: 'v'.repeat(256) })).toThrow(/labels/);
    expect(() => a.membership.setLabels({ '': 'v' })).toThrow(ConfigError);
    expect(() => sim.addNode('b', { labels: { n: 1 as unknown as string } })).toThrow(ConfigError);
  });

  it('forgets dead members after deadRetentionMs', () => {
    const sim = new Simulation({ seed: 13 });
    for (let i = 0; i < 4; i++) sim.addNode(`n${i}`, { deadRetentionMs: 5000 });
    sim.joinAll();
    killAndTime(sim, sim.node('n3'));
    expect(sim.node('n0').membership.members().length).toBe(4);
    sim.run(8000);
    expect(
      sim
        .node('n0')
        .membership.members()
        .map((m) => m.name),
    ).toEqual(['n0', 'n1', 'n2']);
  });

  it('encrypted cluster: a member with the wrong key never joins, its packets fail authentication', async () => {
    const good = new Keyring([new Uint8Array(32).fill(1)]);
    const sim = new Simulation({ seed: 14 });
    for (let i = 0; i < 3; i++) sim.addNode(`n${i}`, { keyring: good });
    sim.joinAll();
    const intruder = sim.addNode('bad', { keyring: new Keyring([new Uint8Array(32).fill(2)]) });
    const join = intruder.membership.join([sim.node('n0').address]);
    sim.run(3000);
    await expect(join).rejects.toThrow(/no seed answered/);
    const plain = sim.addNode('plain');
    const join2 = plain.membership.join([sim.node('n1').address]);
    sim.run(3000);
    await expect(join2).rejects.toThrow(/no seed answered/);
    for (const n of ['n0', 'n1', 'n2']) expect(sim.node(n).membership.usableMembers()).toEqual(['n0', 'n1', 'n2']);
    expect(sim.node('n0').membership.stats.authFailures).toBeGreaterThan(0);
    expect(sim.node('n1').membership.stats.plaintextRejected).toBeGreaterThan(0);
  });

  it('local health rises on a member that loses most of what it receives (Lifeguard awareness)', () => {
    const sim = cluster(5, 15);
    sim.setNodeLoss('n0', 0.6);
    let max = 0;
    for (let i = 0; i < 100; i++) {
      sim.run(100);
      max = Math.max(max, sim.node('n0').membership.healthScore);
    }
    expect(max).toBeGreaterThan(0);
    sim.setNodeLoss('n0', 0);
    sim.run(10_000);
    expect(sim.node('n0').membership.healthScore).toBe(0);
  });

  it('is deterministic for a seed', () => {
    const run = () => {
      const sim = cluster(8, 21, { loss: 0.05 });
      sim.run(10_000);
      return sim.nodes().map((n) => JSON.stringify(n.membership.stats));
    };
    expect(run()).toEqual(run());
  });
});
