// Issue 17, failover profile `fast` in Kubernetes mode, against a real API server (kube-harness.ts): the speakers run
// the DaemonSet's command line with deploy/components/fast-failover applied (--failover=fast, heartbeat on the
// memberlist port + 1). SIGKILL of the owner's speaker: its successor (the next node in MetalLB's order for the IP)
// takes the IP over through the per-pair heartbeat before SWIM declares the owner dead, and SWIM then confirms it.
// SIGTERM of the owner's speaker: it withdraws, tells its successor `leaving` on the heartbeat path, then leaves, and
// the successor takes the IP over as a handover.
//
// Bounds: the heartbeat declares an owner lost after 10 intervals of 10 ms and a 20 ms probe round (about 0.12 s; 0.25
// s at normal priority), SWIM needs about 0.55 s. The test asserts the path (the takeover logged before SWIM's `member
// dead`) and a generous 10 s for the client to be served by the successor (a loaded 2-core machine, curl once per
// 100 ms with a 1 s timeout); the tight figures are bench/failover.mjs's.
import { sortCandidates } from '@ingot/election';
import { labSuite, pollUntil } from '@ingot/lab';
import { expect, it } from 'vitest';
import { NODE_NAMES } from './cluster-harness.js';
import { type KubeDaemon, type KubeLab, useKubeLab, useLayer2Web } from './kube-harness.js';

/** A labelled metric of a speaker (first match), or undefined. */
async function labelled(l: KubeLab, d: KubeDaemon, metric: string, labels = ''): Promise<number | undefined> {
  const text = await l.metrics(d);
  const m = text === undefined ? null : new RegExp(`^${metric}(?:\\{${labels}\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Time (ms since the epoch) of the first log record of `d` at or after `since` matching `match`. */
function loggedAt(l: KubeLab, d: KubeDaemon, since: number, match: (r: Record<string, unknown>) => boolean) {
  const r = l.logs(d).find((x) => Date.parse(String(x.ts)) >= since && match(x));
  return r ? Date.parse(String(r.ts)) : undefined;
}

/** Waits until the successor receives the owner's heartbeats (the pair is set up on both sides). */
async function pairUp(l: KubeLab, successor: KubeDaemon): Promise<void> {
  const received = async () => (await labelled(l, successor, 'ingot_heartbeat_frames_received_total')) ?? 0;
  const before = await received();
  await pollUntil(
    async () => ((await received()) > before + 50 ? true : undefined),
    30_000,
    () => `${successor.name} never received heartbeats\n${l.logTail(successor)}`,
    200,
  );
}

/** The IP's owner and successor in MetalLB's order (all three speakers live), once the owner serves it. */
async function ownerAndSuccessor(l: KubeLab): Promise<{ ip: string; owner: string; successor: string }> {
  const [ip] = (await l.waitIngress('web')) as [string];
  const [owner, successor] = sortCandidates([...NODE_NAMES], ip) as [string, string];
  // After a restart the owner wins the IP back once it has rejoined: wait for it to serve again.
  expect(await l.waitServed(ip, (n) => n === owner, 30_000)).toBe(owner);
  return { ip, owner, successor };
}

labSuite(
  'Kubernetes mode on a real API server: failover profile fast (components/fast-failover, issue 17)',
  { tools: ['ip', 'curl', 'etcd', 'kube-apiserver', 'openssl'] },
  () => {
    const lab = useKubeLab({ name: 'k8sff', speakerComponents: ['fast-failover'] });
    useLayer2Web(lab);

    it('SIGKILL of the owner speaker: its successor takes the IP over through the heartbeat before SWIM; SWIM confirms', async () => {
      const l = lab();
      expect(l.speakerLine.args).toContain('--failover=fast');
      const { ip, owner, successor } = await ownerAndSuccessor(l);
      const next = l.speaker(successor);
      await pairUp(l, next);
      const t0 = Date.now();
      await l.stop(l.speaker(owner), 'SIGKILL');
      const servedBy = await l.waitServed(ip, (n) => n !== owner, 10_000);
      const servedMs = Date.now() - t0;
      expect(servedBy).toBe(successor);
      const swimDead = (r: Record<string, unknown>) =>
        /^member (dead|leave)$/.test(String(r.msg)) && r.member === owner;
      await pollUntil(
        async () => (loggedAt(l, next, t0, swimDead) !== undefined ? true : undefined),
        30_000,
        () => `SWIM never declared ${owner} dead\n${l.logTail(next)}`,
        100,
      );
      const took = loggedAt(
        l,
        next,
        t0,
        (r) =>
          r.msg === 'fast takeover: owner silent on the heartbeat path; taking its layer2 IPs over' &&
          r.owner === owner &&
          r.path === 'heartbeat',
      );
      const dead = loggedAt(l, next, t0, swimDead) as number;
      expect(took, `no heartbeat takeover logged\n${l.logTail(next)}`).toBeDefined();
      expect(took as number, 'the heartbeat path acted before SWIM').toBeLessThan(dead);
      await pollUntil(
        async () =>
          (await labelled(l, next, 'ingot_layer2_fast_takeovers_total', 'outcome="confirmed"')) === 1
            ? true
            : undefined,
        20_000,
        async () => `takeover never confirmed: ${await l.metrics(next)}`,
        200,
      );
      expect(await l.ingressIps('web')).toEqual([ip]);
      console.log(
        `kubernetes fast failover: SIGKILL of ${owner}'s speaker -> served by ${servedBy} after ${servedMs} ms; ` +
          `heartbeat takeover logged at ${(took as number) - t0} ms, SWIM dead at ${dead - t0} ms`,
      );
    }, 180_000);

    it('SIGTERM of the owner speaker: it tells its successor `leaving`, which takes the IP over as a handover', async () => {
      const l = lab();
      const { ip, owner, successor } = await ownerAndSuccessor(l);
      const next = l.speaker(successor);
      await pairUp(l, next);
      const t0 = Date.now();
      await l.stop(l.speaker(owner), 'SIGTERM');
      expect(l.speaker(owner).proc?.exitCode()).toBe(0);
      const servedBy = await l.waitServed(ip, (n) => n !== owner, 10_000);
      const servedMs = Date.now() - t0;
      expect(servedBy).toBe(successor);
      const told = l.logs(l.speaker(owner)).find(
        (r) =>
          Date.parse(String(r.ts)) >= t0 &&
          // Acknowledged or not (then the gossip leave tells them), the successors told are named.
          /^fast handover: (the successors took|not every successor)/.test(String(r.msg)),
      );
      expect(told?.successors, l.logTail(l.speaker(owner))).toEqual([successor]);
      const handover = loggedAt(
        l,
        next,
        t0,
        (r) => String(r.msg).startsWith('fast handover: the owner is stopping') && r.owner === owner,
      );
      expect(handover, `no handover logged\n${l.logTail(next)}`).toBeDefined();
      console.log(
        `kubernetes fast failover: SIGTERM of ${owner}'s speaker -> served by ${servedBy} after ${servedMs} ms; ` +
          `handover logged at ${(handover as number) - t0} ms`,
      );
    }, 180_000);
  },
);
