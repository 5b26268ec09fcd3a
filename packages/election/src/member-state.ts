/**
 * Member state changes of a {@link Membership}: suspicion (Lifeguard's dynamic timeout with confirmations), alive
 * (joins, refutations, updates, memberlist's name-conflict rule), dead and left, and refuting accusations about this
 * member. The membership lends it what it needs ({@link MemberStateHost}).
 */
import type { Awareness } from './awareness.js';
import type { BroadcastQueue } from './broadcast-queue.js';
import type { Clock } from './clock.js';
import type { Address, AliveMessage, DeadMessage, Message, SuspectMessage } from './codec.js';
import { type ProtocolConfig, suspicionBounds } from './config.js';
import {
  type LogEntry,
  type Member,
  type MembershipEvents,
  type MembershipStats,
  type Node,
  sameLabels,
} from './membership-types.js';
import type { Prober } from './probe.js';
import type { RateLimitedLog } from './rate-limited-log.js';
import { Suspicion } from './suspicion.js';
import type { GossipWire } from './wire.js';

/** What state changes need from their membership (internal). */
export interface MemberStateHost {
  readonly name: string;
  readonly config: Readonly<ProtocolConfig>;
  readonly stats: MembershipStats;
  readonly self: Node;
  readonly awareness: Awareness;
  readonly clock: Clock;
  readonly queue: BroadcastQueue;
  readonly prober: Prober;
  readonly warnings: RateLimitedLog;
  readonly wire: GossipWire;
  node(name: string): Node | undefined;
  addNode(name: string, n: Node): void;
  isClosed(): boolean;
  isLeaving(): boolean;
  isLive(n: Node): boolean;
  liveCount(): number;
  random(): number;
  timeout(fn: () => void, ms: number): void;
  send(to: Address, messages: Message[], piggyback?: boolean): void;
  aliveMessage(n: Node): AliveMessage;
  broadcastAlive(node?: Node): void;
  gossipSoon(): void;
  recordSize(): void;
  snapshot(n: Node): Member;
  log(level: LogEntry['level'], msg: string, fields?: Record<string, unknown>): void;
  emit<E extends keyof MembershipEvents>(event: E, member: Member): void;
}

/** Member state changes for one membership. */
export class MemberState {
  /** @param h - the membership's view */
  constructor(private readonly h: MemberStateHost) {}

  private refute(accusedIncarnation: number, accuser?: string): void {
    if (this.h.isLeaving() || this.h.isClosed()) return;
    this.h.self.incarnation = Math.max(this.h.self.incarnation, accusedIncarnation) + 1;
    this.h.awareness.apply(1);
    this.h.stats.refutations++;
    this.h.log('info', 'refuting suspicion about self', { incarnation: this.h.self.incarnation, accuser });
    this.h.broadcastAlive();
    const acc = accuser === undefined ? undefined : this.h.node(accuser);
    if (acc && acc !== this.h.self) this.h.send(acc.address, [this.h.aliveMessage(this.h.self)], false);
  }

  /**
   * Someone suspects us or declared us dead. At our incarnation or above: refute. Below it, the accuser missed our last
   * refutation: send it our current alive directly (no new incarnation needed).
   */
  private accused(incarnation: number, accuser: string): void {
    if (this.h.isLeaving() || this.h.isClosed()) return;
    if (incarnation >= this.h.self.incarnation) {
      this.refute(incarnation, accuser);
      return;
    }
    // re-queue our alive (fresh transmit count, so it rides on our next packets, the ack included) and tell the accuser
    this.h.broadcastAlive();
    const acc = this.h.node(accuser);
    if (acc && acc !== this.h.self) this.h.send(acc.address, [this.h.aliveMessage(this.h.self)], false);
  }

  /**
   * The member a suspect or dead message accuses, if the message can change it: undefined when it accuses this node
   * (answered here), names an unknown member, is older than the member's incarnation, or the member is already dead or
   * gone.
   */
  private accusedMember(m: SuspectMessage | DeadMessage): Node | undefined {
    const n = this.h.node(m.node);
    if (n === this.h.self) {
      this.accused(m.incarnation, m.from);
      return undefined;
    }
    if (!n || m.incarnation < n.incarnation) return undefined;
    if (n.status === 'dead' || n.status === 'left') return undefined;
    return n;
  }

  onSuspect(m: SuspectMessage): void {
    const n = this.accusedMember(m);
    if (!n) return;
    const bytes = this.h.wire.encode(m);
    if (n.status === 'suspect') {
      if (n.suspicion?.confirm(m.from)) {
        this.h.queue.push(`suspect:${m.node}:${m.from}`, m.node, bytes);
        this.h.gossipSoon();
      }
      return;
    }
    const live = this.h.liveCount();
    const { minMs, maxMs, k } = suspicionBounds(this.h.config, live);
    n.incarnation = m.incarnation;
    n.status = 'suspect';
    n.statusSince = this.h.clock.now();
    n.suspicion = new Suspicion(m.from, k, minMs, maxMs, this.h.clock, () => {
      // one 0 ms hop first: a refutation already waiting in the socket buffer wins
      this.h.timeout(() => {
        if (n.status !== 'suspect' || n.incarnation !== m.incarnation) return;
        this.onDead({ type: 'dead', incarnation: m.incarnation, node: n.name, from: this.h.name });
      }, 0);
    });
    if (m.from === this.h.name) this.h.stats.suspicionsRaised++;
    this.h.queue.push(`suspect:${m.node}:${m.from}`, m.node, bytes);
    this.h.gossipSoon();
    this.h.log('info', 'member suspect', { member: n.name, incarnation: m.incarnation, from: m.from });
    this.h.emit('suspect', this.h.snapshot(n));
    // Confirmation probing: a few members re-probe a freshly suspected member at once. If it is down they confirm
    // (shrinking everyone's timer to the minimum); if it is up, the suspect piggybacked on their ping lets it refute.
    if (
      m.from !== this.h.name &&
      !this.h.isLeaving() &&
      !this.h.prober.probing.has(n.name) &&
      this.h.config.suspicionConfirmers > 0
    ) {
      const p = Math.min(1, this.h.config.suspicionConfirmers / Math.max(1, live - 2));
      if (this.h.random() < p) this.h.prober.probe(n);
    }
  }

  onAlive(m: AliveMessage): void {
    if (m.node === this.h.name) {
      if (this.h.isLeaving()) return;
      const differs =
        m.address.host !== this.h.self.address.host ||
        m.address.port !== this.h.self.address.port ||
        !sameLabels(m.labels, this.h.self.labels);
      if (m.incarnation > this.h.self.incarnation || (m.incarnation === this.h.self.incarnation && differs)) {
        this.refute(m.incarnation);
      }
      return;
    }
    const n = this.h.node(m.node);
    if (n && this.h.isLive(n) && (m.address.host !== n.address.host || m.address.port !== n.address.port)) {
      // memberlist's "Conflicting address": a live member's name claimed from another address is refused (and logged),
      // so a duplicate or forged name cannot make the member's address flap. Once it is dead or left, a restart on a new
      // address is accepted.
      this.h.stats.nameConflicts++;
      if (this.h.warnings.admit(`conflict:${m.node}`, this.h.clock.now()) !== undefined) {
        this.h.log('warn', 'name conflict: refused a live member name claimed from another address', {
          member: m.node,
          known: `${n.address.host}:${n.address.port}`,
          claimed: `${m.address.host}:${m.address.port}`,
          status: n.status,
        });
      }
      return;
    }
    if (!n) {
      const fresh: Node = {
        name: m.node,
        address: { ...m.address },
        labels: Object.freeze({ ...m.labels }),
        incarnation: m.incarnation,
        status: 'alive',
        statusSince: this.h.clock.now(),
      };
      this.h.addNode(m.node, fresh);
      this.h.prober.add(m.node);
      this.h.broadcastAlive(fresh);
      this.h.recordSize();
      this.h.log('info', 'member joined', { member: m.node, address: m.address, incarnation: m.incarnation });
      this.h.emit('join', this.h.snapshot(fresh));
      return;
    }
    if (m.incarnation <= n.incarnation) return;
    const was = n.status;
    const changed =
      m.address.host !== n.address.host || m.address.port !== n.address.port || !sameLabels(m.labels, n.labels);
    n.incarnation = m.incarnation;
    n.address = { ...m.address };
    n.labels = Object.freeze({ ...m.labels });
    n.suspicion?.cancel();
    n.suspicion = undefined;
    n.status = 'alive';
    if (was !== 'alive') n.statusSince = this.h.clock.now();
    this.h.broadcastAlive(n);
    if (was === 'dead' || was === 'left') {
      this.h.prober.readd(n.name);
      this.h.recordSize();
      this.h.log('info', 'member rejoined', { member: n.name, incarnation: n.incarnation });
      this.h.emit('join', this.h.snapshot(n));
      return;
    }
    if (was === 'suspect') {
      this.h.gossipSoon();
      this.h.log('info', 'member refuted suspicion', { member: n.name, incarnation: n.incarnation });
      this.h.emit('alive', this.h.snapshot(n));
    }
    if (changed) this.h.emit('update', this.h.snapshot(n));
  }

  onDead(m: DeadMessage): void {
    const n = this.accusedMember(m);
    if (!n) return;
    const left = m.from === m.node;
    n.suspicion?.cancel();
    n.suspicion = undefined;
    n.incarnation = m.incarnation;
    n.status = left ? 'left' : 'dead';
    n.statusSince = this.h.clock.now();
    this.h.queue.invalidateNode(n.name);
    this.h.queue.push(`state:${n.name}`, n.name, this.h.wire.encode(m));
    this.h.gossipSoon();
    this.h.recordSize();
    this.h.log('info', left ? 'member left' : 'member declared dead', {
      member: n.name,
      incarnation: m.incarnation,
      from: m.from,
    });
    this.h.emit(left ? 'leave' : 'dead', this.h.snapshot(n));
  }
}
