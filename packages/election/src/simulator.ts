import { type Clock, seededRandom, type TimerHandle } from './clock.js';
import type { Address } from './codec.js';
import { Membership, type MembershipOptions } from './membership.js';
import type { Transport, TransportHandlers } from './transport.js';

interface Event {
  at: number;
  seq: number;
  fn: (() => void) | undefined;
}

/**
 * A virtual clock: timers run only when {@link VirtualClock.advance} moves time forward, in (time, creation) order, so
 * runs are exactly reproducible.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private heap: Event[] = [];

  /** Current virtual time in ms (starts at 0). */
  now(): number {
    return this.t;
  }

  /** Schedules `fn` at `now() + ms` (virtual). */
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const e: Event = { at: this.t + Math.max(0, ms), seq: this.seq++, fn };
    this.push(e);
    return e;
  }

  /** Cancels a timer from {@link VirtualClock.setTimeout}. */
  clearTimeout(handle: TimerHandle): void {
    if (handle && typeof handle === 'object') (handle as Event).fn = undefined;
  }

  /** Runs every timer due up to `now() + ms`, then sets the time there. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const top = this.heap[0];
      if (!top || top.at > end) break;
      this.pop();
      this.t = top.at;
      const fn = top.fn;
      top.fn = undefined;
      fn?.();
    }
    this.t = end;
  }

  private less(a: Event, b: Event): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: Event): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** Network conditions of a {@link Simulation}. */
export interface SimulationOptions {
  /** PRNG seed for the network and every member (default 1). */
  seed?: number;
  /** One-way delay, fixed part (default 0.2 ms). */
  delayMs?: number;
  /** One-way delay, uniform random extra (default 0.3 ms). */
  jitterMs?: number;
  /** Probability that any datagram is dropped (default 0). */
  loss?: number;
}

/** A member inside a {@link Simulation}. */
export interface SimNode {
  name: string;
  address: Address;
  membership: Membership;
  /** True after {@link SimNode.kill}. */
  readonly killed: boolean;
  /** True while paused. */
  readonly paused: boolean;
  /** Crash: stop everything without a word (like SIGKILL). */
  kill(): void;
  /** Freeze (like SIGSTOP): timers and arriving datagrams wait until resume. */
  pause(): void;
  /** Resume after a pause (like SIGCONT): overdue timers and queued datagrams run now. */
  resume(): void;
}

class SimHost implements SimNode {
  killed = false;
  paused = false;
  handlers: TransportHandlers | undefined;
  backlog: (() => void)[] = [];
  membership!: Membership;
  constructor(
    readonly sim: Simulation,
    readonly name: string,
    readonly address: Address,
  ) {}

  /** Run now, or after resume if paused; never if killed. */
  run(fn: () => void): void {
    if (this.killed) return;
    if (this.paused) this.backlog.push(fn);
    else fn();
  }
  kill(): void {
    this.killed = true;
    this.backlog = [];
    void this.membership.close();
  }
  pause(): void {
    this.paused = true;
  }
  resume(): void {
    if (!this.paused || this.killed) return;
    this.paused = false;
    const work = this.backlog;
    this.backlog = [];
    for (const fn of work) {
      if (this.killed) break;
      fn();
    }
  }
}

/**
 * A deterministic in-memory network with a virtual clock for running many {@link Membership} instances in one process:
 * delay and jitter, random loss (global or per receiving node), partitions, crashed and paused nodes. Everything,
 * including each member's randomness, derives from the seed.
 */
export class Simulation {
  /** The shared virtual clock. */
  readonly clock = new VirtualClock();
  private readonly rand: () => number;
  private readonly hosts = new Map<string, SimHost>();
  private readonly byAddress = new Map<string, SimHost>();
  private readonly nodeLoss = new Map<string, number>();
  private group = new Map<string, number>();
  private readonly cuts = new Set<string>();
  private seedCounter: number;
  private readonly delayMs: number;
  private readonly jitterMs: number;
  /** Global datagram loss probability; change at any time. */
  loss: number;
  /** Datagrams delivered and dropped so far. */
  readonly counters = { delivered: 0, dropped: 0, bytes: 0 };

  /** @param options - seed and network conditions */
  constructor(options: SimulationOptions = {}) {
    const seed = options.seed ?? 1;
    this.rand = seededRandom(seed);
    this.seedCounter = seed * 7919;
    this.delayMs = options.delayMs ?? 0.2;
    this.jitterMs = options.jitterMs ?? 0.3;
    this.loss = options.loss ?? 0;
  }

  /**
   * Adds a member (started, not joined). Addresses are 198.51.100.x then 203.0.113.x, port 7946.
   * @param name - member name
   * @param options - membership overrides (transport, clock and random are supplied)
   */
  addNode(name: string, options: Partial<Omit<MembershipOptions, 'transport' | 'clock'>> = {}): SimNode {
    const i = this.hosts.size + 1;
    const host = i <= 254 ? `198.51.100.${i}` : `203.0.113.${i - 254}`;
    if (i > 508) throw new Error('simulation supports at most 508 nodes');
    const address = { host, port: 7946 };
    const simHost = new SimHost(this, name, address);
    const transport = this.transportFor(simHost);
    const clock = this.clockFor(simHost);
    simHost.membership = new Membership({
      random: seededRandom(this.seedCounter++),
      ...options,
      name,
      transport,
      clock,
    }).start();
    this.hosts.set(name, simHost);
    this.byAddress.set(`${host}:7946`, simHost);
    return simHost;
  }

  /**
   * Replaces a killed (or stopped) member by a fresh process with the same name and address (a restart).
   * @param name - the member to restart
   * @param options - membership overrides for the new instance
   */
  restartNode(name: string, options: Partial<Omit<MembershipOptions, 'transport' | 'clock'>> = {}): SimNode {
    const old = this.hosts.get(name);
    if (!old) throw new Error(`no node ${name}`);
    if (!old.killed) old.kill();
    const simHost = new SimHost(this, name, old.address);
    simHost.membership = new Membership({
      random: seededRandom(this.seedCounter++),
      ...options,
      name,
      transport: this.transportFor(simHost),
      clock: this.clockFor(simHost),
    }).start();
    this.hosts.set(name, simHost);
    this.byAddress.set(`${old.address.host}:${old.address.port}`, simHost);
    return simHost;
  }

  /** Looks a member up by name. */
  node(name: string): SimNode {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no node ${name}`);
    return h;
  }

  /** Every member ever added (restarted ones by their latest instance). */
  nodes(): SimNode[] {
    return [...this.hosts.values()];
  }

  /** Sets a loss probability for datagrams arriving at one member (like an nftables ingress drop). */
  setNodeLoss(name: string, loss: number): void {
    if (loss > 0) this.nodeLoss.set(name, loss);
    else this.nodeLoss.delete(name);
  }

  /** Splits the network: members in different groups cannot reach each other; unlisted members form group 0. */
  partition(groups: readonly (readonly string[])[]): void {
    this.group = new Map();
    groups.forEach((g, i) => {
      for (const n of g) this.group.set(n, i + 1);
    });
  }

  /** Removes any partition and restores cut links. */
  heal(): void {
    this.group = new Map();
    this.cuts.clear();
  }

  /** Cuts the link between two members in both directions (each can still reach everyone else). */
  cutLink(a: string, b: string): void {
    this.cuts.add(`${a}\u0000${b}`);
    this.cuts.add(`${b}\u0000${a}`);
  }

  /** Advances virtual time by `ms`. */
  run(ms: number): void {
    this.clock.advance(ms);
  }

  /**
   * Advances in `stepMs` steps until `pred()` holds or `timeoutMs` passed.
   * @returns the virtual time spent, or -1 on timeout
   */
  runUntil(pred: () => boolean, timeoutMs: number, stepMs = 1): number {
    const start = this.clock.now();
    while (this.clock.now() - start < timeoutMs) {
      if (pred()) return this.clock.now() - start;
      this.clock.advance(stepMs);
    }
    return pred() ? this.clock.now() - start : -1;
  }

  /** Joins every member to the first one and runs until all see everyone alive (or throws after `timeoutMs`). */
  joinAll(timeoutMs = 30_000): void {
    const all = this.nodes().filter((n) => !n.killed);
    const seed = all[0]!;
    for (const n of all.slice(1)) n.membership.join([seed.address]).catch(() => {});
    const t = this.runUntil(() => all.every((n) => n.membership.usableMembers().length === all.length), timeoutMs, 10);
    if (t < 0) throw new Error('cluster did not converge');
  }

  private reachable(a: SimHost, b: SimHost): boolean {
    return (
      (this.group.get(a.name) ?? 0) === (this.group.get(b.name) ?? 0) && !this.cuts.has(`${a.name}\u0000${b.name}`)
    );
  }

  private delay(): number {
    return this.delayMs + this.rand() * this.jitterMs;
  }

  private transportFor(h: SimHost): Transport {
    return {
      address: h.address,
      listen: (handlers) => {
        h.handlers = handlers;
      },
      close: async () => {},
      send: (to, data) => {
        if (h.killed || h.paused) return;
        const dst = this.byAddress.get(`${to.host}:${to.port}`);
        const loss = Math.max(this.loss, dst ? (this.nodeLoss.get(dst.name) ?? 0) : 0);
        if (!dst || !this.reachable(h, dst) || this.rand() < loss) {
          this.counters.dropped++;
          return;
        }
        this.counters.delivered++;
        this.counters.bytes += data.length;
        const copy = data.slice();
        this.clock.setTimeout(() => {
          if (dst.killed || !this.reachable(h, dst)) return;
          dst.run(() => dst.handlers?.packet(copy, h.address));
        }, this.delay());
      },
      exchange: (to, data, timeoutMs, callback) => {
        let done = false;
        const finish = (err: Error | undefined, reply?: Uint8Array) => {
          if (done) return;
          done = true;
          h.run(() => callback(err, reply));
        };
        this.clock.setTimeout(() => finish(new Error('exchange timed out')), timeoutMs);
        const dst = this.byAddress.get(`${to.host}:${to.port}`);
        if (!dst || !this.reachable(h, dst)) return; // SYN lost: the timer fails it
        if (dst.killed) {
          this.clock.setTimeout(() => finish(new Error('connection refused')), 2 * this.delay());
          return;
        }
        const copy = data.slice();
        this.clock.setTimeout(() => {
          if (dst.killed || !this.reachable(h, dst)) return;
          dst.run(() => {
            const reply = dst.handlers?.exchange(copy, h.address);
            if (!reply) {
              finish(new Error('closed without reply'));
              return;
            }
            this.clock.setTimeout(() => finish(undefined, reply.slice()), this.delay());
          });
        }, 3 * this.delay());
      },
    };
  }

  private clockFor(h: SimHost): Clock {
    const clock = this.clock;
    // A timer may be cleared while its callback waits in a paused node's backlog: the flag covers that case.
    return {
      now: () => clock.now(),
      setTimeout: (fn, ms) => {
        const handle: { cancelled: boolean; inner?: TimerHandle } = { cancelled: false };
        handle.inner = clock.setTimeout(() => h.run(() => !handle.cancelled && fn()), ms);
        return handle;
      },
      clearTimeout: (handle) => {
        const t = handle as { cancelled: boolean; inner?: TimerHandle };
        t.cancelled = true;
        clock.clearTimeout(t.inner);
      },
    };
  }
}
