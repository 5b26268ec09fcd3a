import { raiseRealtimePriority } from '@ingot/arp';
import {
  type HeartbeatIsolation,
  type HeartbeatNoticeKind,
  type HeartbeatPeer,
  type HeartbeatStats,
  HeartbeatThread,
  Keyring,
  metallbSecretKey,
} from '@ingot/election';
import { parseHostPort } from '../host-port.js';
import type { Logger } from '../logger.js';
import type { MembershipSource } from '../membership-source.js';
import type { MetricSample } from '../metrics.js';
import type { AnnouncementPlan } from './announcement-plan.js';

/**
 * Layer-2 failover profile: `gossip` (default) moves a killed owner's IPs when SWIM declares it dead (about 0.55 s);
 * `fast` adds the per-pair heartbeat (issue 17): the successor of an IP takes it over provisionally once the owner's
 * heartbeats stopped and it did not answer a direct probe (about 0.12 s), and SWIM keeps the last word.
 */
export type FailoverProfile = 'gossip' | 'fast';

/** The heartbeat thread as {@link FastFailover} uses it (`@ingot/election`'s HeartbeatThread; tests pass a fake). */
export interface HeartbeatLink {
  /** Heartbeats to `sendTo`, watching `watch`. */
  setPeers(sendTo: readonly HeartbeatPeer[], watch: readonly HeartbeatPeer[]): void;
  /** Tells a peer this node took its IPs over, or gave them back. */
  notify(peer: HeartbeatPeer, kind: 'takeover' | 'released'): void;
  /**
   * Graceful stop: no more heartbeats; `leaving` to each peer, in `copies` datagrams, resent until acknowledged;
   * resolves with the peers that acknowledged.
   */
  leave(peers: readonly HeartbeatPeer[], copies: number): Promise<string[]>;
  /** Subscribes to the thread's events. */
  on(event: 'lost' | 'recovered', fn: (owner: string, ms: number) => void): unknown;
  /** Subscribes to notices from peers. */
  on(event: 'notice', fn: (kind: HeartbeatNoticeKind, from: string) => void): unknown;
  /** Counters. */
  stats(): HeartbeatStats;
}

/** Options of {@link FastFailover}. */
export interface FastFailoverOptions {
  /** This node's name. */
  self: string;
  /** The heartbeat thread. */
  link: HeartbeatLink;
  /** A member's heartbeat address (its gossip host, gossip port + 1), or undefined when unknown. */
  addressOf: (name: string) => HeartbeatPeer | undefined;
  /** Whether SWIM lists `name` as a live (alive or suspect) member. */
  swimAlive: (name: string) => boolean;
  /** The last announcement plan (computed without the owners taken over). */
  plan: () => AnnouncementPlan | undefined;
  /** Re-plans the announcements (after a takeover or a back-out). */
  reconcile: () => void;
  /** Sends a gratuitous round for every IP this node announces (when a peer gave this node's IPs back). */
  reannounce: () => void;
  /** Logger. */
  log: Logger;
  /**
   * A provisional takeover SWIM has not confirmed (the owner still a live member, its heartbeats still absent) is
   * backed out after this long: SWIM decides membership. @default 5000
   */
  holdMs?: number;
  /** How often the plan is checked for new pairs, in ms. @default 25 */
  refreshMs?: number;
  /** Copies of the `leaving` notice sent back to back to each successor on a graceful stop. @default 3 */
  leavingCopies?: number;
}

/** Computes the heartbeat pairs of `self` from a plan: successors of the IPs it owns, owners of the IPs it succeeds. */
export function heartbeatPairs(
  plan: AnnouncementPlan | undefined,
  self: string,
): { sendTo: string[]; watch: string[] } {
  const sendTo = new Set<string>();
  const watch = new Set<string>();
  for (const a of plan?.l2 ?? []) {
    if (a.node === self && a.successor !== undefined) sendTo.add(a.successor);
    else if (a.successor === self) watch.add(a.node);
  }
  return { sendTo: [...sendTo].sort(), watch: [...watch].sort() };
}

/** An owner left out of the plan: `loss` (its heartbeats stopped: provisional) or `handover` (it said `leaving`). */
interface Taken {
  path: 'loss' | 'handover';
  at: number;
  /** The hold timer of a `loss` takeover (a handover has none: the owner itself gave the IPs up). */
  timer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The `fast` failover profile, on the main thread: keeps the heartbeat thread's pairs in line with the announcement
 * plan, and turns its verdicts into provisional takeovers. An owner the thread reports lost is left out of the members
 * the plan is computed from ({@link FastFailover.excluded}), so this node (its successor) announces its IPs at once;
 * the exclusion ends when SWIM no longer lists the owner (confirmed), or when the owner is heard again or SWIM still
 * lists it after {@link FastFailoverOptions.holdMs} (refuted: this node withdraws and tells the owner, which
 * re-announces). An owner stopping gracefully says `leaving` ({@link FastFailover.leave}): it is left out the same way
 * at once (a handover), and only SWIM dropping it or its restart (a new boot heard) ends that; its leftover heartbeats
 * and acks do not.
 */
export class FastFailover {
  private readonly taken = new Map<string, Taken>();
  private readonly counts = { confirmed: 0, refuted: 0, handover: 0 };
  /** This node said `leaving` (graceful stop): no more pairs. */
  private leaving = false;
  private lastPlan: AnnouncementPlan | undefined;
  private lastPairs = '';
  private readonly refresher: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(private readonly options: FastFailoverOptions) {
    const { link } = options;
    link.on('lost', (owner, ms) => this.lost(owner, ms));
    link.on('recovered', (owner, ms) => {
      if (this.taken.get(owner)?.path === 'handover') this.returned(owner);
      else this.backOut(owner, `heard again after ${Math.round(ms)} ms`);
    });
    link.on('notice', (kind, from) => {
      if (kind === 'leaving') this.handover(from);
      else if (kind === 'takeover') {
        options.log.warn('a peer took this node’s layer2 IPs over (heartbeat path); it backs out on hearing us', {
          peer: from,
        });
      } else {
        options.log.info('a peer gave this node’s layer2 IPs back; re-announcing', { peer: from });
        options.reannounce();
      }
    });
    this.refresher = setInterval(() => this.refresh(), options.refreshMs ?? 25);
    this.refresher.unref?.();
  }

  /** Whether `name` is left out of the plan's members (taken over provisionally). */
  excluded(name: string): boolean {
    return this.taken.has(name);
  }

  /**
   * Re-checks the pairs against the last plan and ends the takeovers SWIM confirmed (the owner is no longer a live
   * member). Runs every {@link FastFailoverOptions.refreshMs}; call it after a reconcile to apply at once.
   */
  refresh(): void {
    if (this.closed || this.leaving) return;
    for (const [owner, t] of [...this.taken]) {
      if (this.options.swimAlive(owner)) continue;
      this.end(owner);
      if (t.path === 'handover') {
        this.counts.handover++;
        this.options.log.info('fast handover confirmed: SWIM no longer lists the owner', {
          owner,
          afterMs: Date.now() - t.at,
        });
      } else {
        this.counts.confirmed++;
        this.options.log.info('fast takeover confirmed: SWIM no longer lists the owner', { owner });
      }
    }
    const plan = this.options.plan();
    if (plan === this.lastPlan && this.lastPairs !== '') return;
    this.lastPlan = plan;
    const { sendTo, watch } = heartbeatPairs(plan, this.options.self);
    // Owners taken over stay watched: hearing them again is how a wrong takeover is backed out.
    const watched = [...new Set([...watch, ...this.taken.keys()])].sort();
    const peers = (names: string[]) =>
      names.map((n) => this.options.addressOf(n)).filter((p): p is HeartbeatPeer => p !== undefined);
    const key = JSON.stringify([peers(sendTo), peers(watched)]);
    if (key === this.lastPairs) return;
    this.lastPairs = key;
    this.options.link.setPeers(peers(sendTo), peers(watched));
    this.options.log.debug('heartbeat pairs', { sendTo, watch: watched });
  }

  private lost(owner: string, silentMs: number): void {
    if (this.closed || this.taken.has(owner) || !this.options.swimAlive(owner)) return;
    const timer = setTimeout(() => {
      if (this.options.swimAlive(owner)) this.backOut(owner, `SWIM still lists it after ${this.holdMs} ms`);
    }, this.holdMs);
    timer.unref?.();
    this.taken.set(owner, { path: 'loss', at: Date.now(), timer });
    this.options.log.warn('fast takeover: owner silent on the heartbeat path; taking its layer2 IPs over', {
      owner,
      silentMs: Math.round(silentMs),
      path: 'heartbeat',
    });
    this.options.reconcile();
    const peer = this.options.addressOf(owner);
    if (peer) this.options.link.notify(peer, 'takeover');
    this.refresh();
  }

  /**
   * The owner says it stops owning its IPs (graceful stop, after its own withdrawal and before its gossip leave): left
   * out of the plan at once. Ignored once SWIM dropped it (the plan has moved on already) or while this node stops. A
   * provisional takeover of the same owner becomes a handover (no hold time: the owner gave the IPs up itself).
   */
  private handover(owner: string): void {
    if (this.closed || this.leaving || !this.options.swimAlive(owner)) return;
    const before = this.taken.get(owner);
    if (before?.path === 'handover') return;
    clearTimeout(before?.timer);
    this.taken.set(owner, { path: 'handover', at: Date.now(), timer: undefined });
    this.options.log.info('fast handover: the owner is stopping; taking its layer2 IPs over', {
      owner,
      path: 'handover',
    });
    if (!before) this.options.reconcile();
    this.refresh();
  }

  /** An owner that said `leaving` was heard from a new boot before SWIM dropped it: it restarted and plans again. */
  private returned(owner: string): void {
    if (this.closed) return;
    this.end(owner);
    this.options.log.info('fast handover ended: the owner restarted before SWIM dropped it', { owner });
    this.options.reconcile();
    this.refresh();
  }

  private backOut(owner: string, why: string): void {
    // A handover is not backed out: the owner said it stopped owning (its leftover heartbeats say nothing).
    if (this.closed || this.taken.get(owner)?.path !== 'loss') return;
    this.end(owner);
    this.counts.refuted++;
    this.options.log.warn('fast takeover refuted: the owner is alive; giving its layer2 IPs back', { owner, why });
    this.options.reconcile();
    const peer = this.options.addressOf(owner);
    if (peer) this.options.link.notify(peer, 'released');
    this.refresh();
  }

  private end(owner: string): void {
    clearTimeout(this.taken.get(owner)?.timer);
    this.taken.delete(owner);
  }

  private get holdMs(): number {
    return this.options.holdMs ?? 5000;
  }

  /**
   * Graceful stop of this node, after its layer-2 withdrawal and before its gossip leave: stops the heartbeats and
   * sends `leaving` to every successor of the IPs it owned in the last plan, so they take them over at once instead of
   * waiting for the leave to spread. Resolves once every successor acknowledged (its main thread has handled the
   * notice, so the gossip leave that follows cannot overtake it) or the heartbeat thread gave up waiting (300 ms). No
   * pairs are set afterwards. Only the first call sends.
   * @returns the successors that acknowledged
   */
  async leave(): Promise<string[]> {
    if (this.closed || this.leaving) return [];
    this.leaving = true;
    const { sendTo } = heartbeatPairs(this.options.plan(), this.options.self);
    const peers = sendTo.map((n) => this.options.addressOf(n)).filter((p): p is HeartbeatPeer => p !== undefined);
    if (peers.length === 0) return [];
    const began = Date.now();
    const acked = await this.options.link.leave(peers, this.options.leavingCopies ?? 3);
    const fields = { successors: peers.map((p) => p.name), acknowledged: acked, ms: Date.now() - began };
    if (acked.length === peers.length)
      this.options.log.info('fast handover: the successors took our layer2 IPs over', fields);
    else
      this.options.log.warn('fast handover: not every successor acknowledged; the gossip leave will tell them', fields);
    return acked;
  }

  /**
   * `ingot_layer2_fast_takeovers_total{outcome}` (`confirmed`, `refuted`, `handover`),
   * `ingot_layer2_fast_takeovers_pending`, and the heartbeat thread's counters (`ingot_heartbeat_*`).
   */
  metrics(): MetricSample[] {
    const s = this.options.link.stats();
    const w = s.watcher;
    return [
      { name: 'ingot_layer2_fast_takeovers_total', labels: { outcome: 'confirmed' }, value: this.counts.confirmed },
      { name: 'ingot_layer2_fast_takeovers_total', labels: { outcome: 'refuted' }, value: this.counts.refuted },
      { name: 'ingot_layer2_fast_takeovers_total', labels: { outcome: 'handover' }, value: this.counts.handover },
      { name: 'ingot_layer2_fast_takeovers_pending', labels: {}, value: this.taken.size },
      { name: 'ingot_heartbeat_frames_sent_total', labels: {}, value: s.framesSent },
      { name: 'ingot_heartbeat_bytes_sent_total', labels: {}, value: s.bytesSent },
      { name: 'ingot_heartbeat_frames_received_total', labels: {}, value: s.framesReceived },
      { name: 'ingot_heartbeat_bytes_received_total', labels: {}, value: s.bytesReceived },
      ...Object.entries(s.rejected).map(([reason, value]) => ({
        name: 'ingot_heartbeat_rejected_total',
        labels: { reason },
        value,
      })),
      { name: 'ingot_heartbeat_sequence_gaps_total', labels: {}, value: w.seqGaps },
      { name: 'ingot_heartbeat_late_ticks_total', labels: {}, value: w.lateTicks },
      { name: 'ingot_heartbeat_silence_limit_seconds', labels: {}, value: s.silenceLimitMs / 1000 },
      { name: 'ingot_heartbeat_probe_rounds_total', labels: { result: 'answered' }, value: w.confirmedAlive },
      { name: 'ingot_heartbeat_probe_rounds_total', labels: { result: 'unanswered' }, value: w.lost },
    ];
  }

  /** Stops refreshing; pending takeovers are dropped (the process is stopping). */
  close(): void {
    this.closed = true;
    clearInterval(this.refresher);
    for (const owner of [...this.taken.keys()]) this.end(owner);
  }
}

/**
 * The heartbeat's UDP port for a gossip port: the next one (a member's heartbeat address is its gossip address with
 * the port plus one).
 */
export function heartbeatPort(gossipPort: number): number {
  return gossipPort + 1;
}

/** Options of {@link startFastFailover}. */
export interface StartFastFailoverOptions {
  /** This node's name. */
  self: string;
  /** The running gossip membership (addresses, and who SWIM lists as live). */
  membership: MembershipSource;
  /** The memberlist secret: heartbeats are sealed with the same key as gossip. Absent = plaintext. */
  secret?: string;
  /** The last announcement plan. */
  plan: () => AnnouncementPlan | undefined;
  /** Re-plans the announcements. */
  reconcile: () => void;
  /** Sends a gratuitous round for every announced IP. */
  reannounce: () => void;
  /** Logger. */
  log: Logger;
  /** SCHED_FIFO priority for the heartbeat thread (the daemon's `--realtime-priority`). @default 10 */
  realtimePriority?: number;
  /**
   * Where the heartbeat loop runs (`@ingot/election`'s HeartbeatIsolation): `process`, a small Node process of its own
   * (about 15 MB of its own; on an overloaded machine its longest stalls were a third of a worker thread's inside the busy daemon),
   * or `thread`. @default 'process'
   */
  isolation?: HeartbeatIsolation;
  /** Raises a thread's priority (default `@ingot/arp`'s raiseRealtimePriority; tests replace it). */
  raisePriority?: typeof raiseRealtimePriority;
}

/**
 * Heartbeat timing (interval 10 ms): with the thread at real-time priority, 10 silent intervals and a 20 ms probe
 * round (about 0.12 s); at normal priority, where a loaded machine may not run the thread for 100 ms, 20 intervals
 * and 50 ms (about 0.25 s). The silence limit widens after stalls heard from an owner (twice the longest recent gap),
 * up to `maxMissLimit` intervals: 0.3 s and 0.4 s, still well below SWIM's detection (about 0.55 s).
 */
export const HEARTBEAT_TIMING = {
  realtime: { intervalMs: 10, missLimit: 10, maxMissLimit: 30, confirmIntervals: 2 },
  normal: { intervalMs: 10, missLimit: 20, maxMissLimit: 40, confirmIntervals: 5 },
} as const;

/** A running `fast` failover profile: the heartbeat thread and its main-thread side. */
export interface RunningFastFailover {
  /** The main-thread side (exclusions, metrics, {@link FastFailover.leave} on a graceful stop). */
  readonly failover: FastFailover;
  /** Stops the thread. */
  close(): Promise<void>;
}

/**
 * Starts the `fast` failover profile: the heartbeat thread bound to the gossip address with the port plus one, sealed
 * with the memberlist key, and a {@link FastFailover} fed by the membership.
 */
export async function startFastFailover(o: StartFastFailoverOptions): Promise<RunningFastFailover> {
  const own = parseHostPort(o.membership.advertised);
  const start = (timing: (typeof HEARTBEAT_TIMING)[keyof typeof HEARTBEAT_TIMING]) =>
    HeartbeatThread.start({
      name: o.self,
      host: own.host,
      port: heartbeatPort(own.port),
      ...timing,
      ...(o.secret !== undefined ? { keyring: new Keyring([metallbSecretKey(o.secret)]) } : {}),
      isolation: o.isolation ?? 'process',
    });
  // The short timing only when the thread runs at real-time priority: else start again with the longer one.
  let thread = await start(HEARTBEAT_TIMING.realtime);
  const priority = o.realtimePriority ?? 10;
  const rt =
    thread.threadId === undefined
      ? ({ ok: false, reason: 'no thread id' } as const)
      : (o.raisePriority ?? raiseRealtimePriority)({ priority, thread: thread.threadId });
  const timing = rt.ok ? 'realtime' : 'normal';
  if (!rt.ok) {
    await thread.close();
    thread = await start(HEARTBEAT_TIMING.normal);
    o.log.warn('heartbeat thread at normal priority: failover after about 0.25 s instead of 0.12 s', {
      reason: rt.reason,
    });
  }
  thread.on('error', (err) =>
    o.log.error('heartbeat thread failed; failover falls back to gossip', { error: err.message }),
  );
  o.log.info('failover profile fast: per-pair heartbeat', {
    address: `${own.host.includes(':') ? `[${own.host}]` : own.host}:${thread.port}`,
    encrypted: o.secret !== undefined,
    isolation: o.isolation ?? 'process',
    ...(thread.threadId !== undefined ? { tid: thread.threadId } : {}),
    timing,
    ...HEARTBEAT_TIMING[timing],
    ...(rt.ok ? { policy: 'SCHED_FIFO', priority } : {}),
  });
  const failover = new FastFailover({
    self: o.self,
    link: thread,
    addressOf: (name) => {
      const m = o.membership.view().find((v) => v.name === name);
      if (!m) return undefined;
      const a = parseHostPort(m.address);
      return { name, host: a.host, port: heartbeatPort(a.port) };
    },
    swimAlive: (name) => o.membership.members().some((m) => m.name === name),
    plan: o.plan,
    reconcile: o.reconcile,
    reannounce: o.reannounce,
    log: o.log,
  });
  return {
    failover,
    close: async () => {
      failover.close();
      await thread.close();
    },
  };
}
