/**
 * SWIM probing for a {@link Membership}: the probe round over a shuffled order, direct ping with the buddy-system
 * suspect, indirect pings with nacks after the (health-scaled) probe timeout, the verdict at the interval's end, and
 * answering other members' indirect pings. The membership lends it what it needs ({@link ProbeHost}).
 */
import type { Awareness } from './awareness.js';
import type { Address, Message, SuspectMessage } from './codec.js';
import type { ProtocolConfig } from './config.js';
import type { MembershipStats, Node, Pending } from './membership-types.js';

/** What probing needs from its membership (internal). */
export interface ProbeHost {
  readonly name: string;
  readonly config: Readonly<ProtocolConfig>;
  readonly stats: MembershipStats;
  readonly self: Node;
  readonly awareness: Awareness;
  /** Probes waiting for an ack, by sequence number (the membership routes acks and nacks here). */
  readonly pending: Map<number, Pending>;
  node(name: string): Node | undefined;
  isClosed(): boolean;
  isLeaving(): boolean;
  isLive(n: Node): boolean;
  others(filter: (n: Node) => boolean): Node[];
  sample(candidates: Node[], k: number): Node[];
  random(): number;
  nextSeq(): number;
  timeout(fn: () => void, ms: number): void;
  /** A timeout whose verdict waits one more 0 ms hop (see Membership). */
  verdict(fn: () => void, ms: number): void;
  onSuspect(m: SuspectMessage): void;
  send(to: Address, messages: Message[], piggyback?: boolean): void;
}

/** Probing for one membership. */
export class Prober {
  /** Members being probed now. */
  readonly probing = new Set<string>();
  private probeOrder: string[] = [];
  private probeIndex = 0;
  private regularProbeBusy = false;

  /** @param h - the membership's view */
  constructor(private readonly h: ProbeHost) {}

  /** A new member takes a random place in the probe order. */
  add(name: string): void {
    this.probeOrder.splice(Math.floor(this.h.random() * (this.probeOrder.length + 1)), 0, name);
  }

  /** A member that came back is probed again (appended unless already in the order). */
  readd(name: string): void {
    if (!this.probeOrder.includes(name)) this.probeOrder.push(name);
  }

  probeTick(): void {
    if (this.regularProbeBusy || this.h.isLeaving()) return;
    const target = this.nextProbeTarget();
    if (!target) return;
    this.regularProbeBusy = true;
    this.probe(target, () => {
      this.regularProbeBusy = false;
    });
  }

  private nextProbeTarget(): Node | undefined {
    for (let tries = 0; tries <= this.probeOrder.length + 1; tries++) {
      if (this.probeIndex >= this.probeOrder.length) {
        this.probeOrder = this.h.others(() => true).map((n) => n.name);
        for (let i = this.probeOrder.length - 1; i > 0; i--) {
          const j = Math.floor(this.h.random() * (i + 1));
          [this.probeOrder[i], this.probeOrder[j]] = [this.probeOrder[j]!, this.probeOrder[i]!];
        }
        this.probeIndex = 0;
        if (this.probeOrder.length === 0) return undefined;
      }
      const n = this.h.node(this.probeOrder[this.probeIndex++]!);
      if (n && n !== this.h.self && this.h.isLive(n) && !this.probing.has(n.name)) return n;
    }
    return undefined;
  }

  /**
   * One SWIM probe round: direct ping (with the buddy-system suspect piggybacked when the target is suspect), then after
   * the (health-scaled) probe timeout indirect pings through k members, and at the (health-scaled) interval end the
   * verdict. A failure raises or confirms a suspicion.
   */
  probe(target: Node, done?: (ok: boolean) => void): void {
    const seq = this.h.nextSeq();
    const c = this.h.config;
    const incarnation = target.incarnation;
    let finished = false;
    let nacks = 0;
    let expectedNacks = 0;
    this.h.stats.probes++;
    this.probing.add(target.name);
    const finish = (ok: boolean) => {
      if (finished) return;
      finished = true;
      this.h.pending.delete(seq);
      this.probing.delete(target.name);
      if (ok) {
        this.h.awareness.apply(-1);
        // It answered, yet we still suspect it at the same incarnation: its refutation got lost. Ping it again soon;
        // the ping carries the suspicion, the ack carries its current alive.
        if (target.status === 'suspect' && target.incarnation === incarnation) {
          this.h.timeout(() => {
            if (target.status === 'suspect' && !this.probing.has(target.name) && !this.h.isLeaving())
              this.probe(target);
          }, c.probeTimeoutMs);
        }
      } else {
        this.h.awareness.apply(expectedNacks > 0 ? Math.max(0, expectedNacks - nacks) : 1);
        this.h.stats.probeFailures++;
        if (!this.h.isClosed() && !this.h.isLeaving() && this.h.node(target.name) === target && this.h.isLive(target)) {
          this.h.onSuspect({ type: 'suspect', incarnation, node: target.name, from: this.h.name });
        }
      }
      done?.(ok);
    };
    this.h.pending.set(seq, { ack: () => finish(true), nack: () => nacks++ });
    const ping: Message[] = [{ type: 'ping', seq, target: target.name, source: this.h.name }];
    if (target.status === 'suspect') {
      ping.push({ type: 'suspect', incarnation: target.incarnation, node: target.name, from: this.h.name });
    }
    this.h.send(target.address, ping);
    this.h.verdict(() => {
      if (finished) return;
      const helpers = this.h.sample(
        this.h.others((n) => n.status === 'alive' && n !== target),
        c.indirectChecks,
      );
      expectedNacks = helpers.length;
      for (const h of helpers) {
        this.h.stats.indirectProbes++;
        this.h.send(h.address, [
          {
            type: 'ping-req',
            seq,
            target: target.name,
            targetAddress: target.address,
            source: this.h.name,
            nack: true,
          },
        ]);
      }
    }, this.h.awareness.scale(c.probeTimeoutMs));
    this.h.verdict(() => finish(false), this.h.awareness.scale(c.probeIntervalMs));
  }

  /** Probes `target` for another member and forwards the ack (or a nack after the probe timeout). */
  indirectProbe(origSeq: number, target: string, targetAddress: Address, requester: Address, nack: boolean): void {
    if (target === this.h.name) {
      this.h.send(requester, [{ type: 'ack', seq: origSeq }]);
      return;
    }
    const seq = this.h.nextSeq();
    let finished = false;
    this.h.pending.set(seq, {
      ack: () => {
        if (finished) return;
        finished = true;
        this.h.pending.delete(seq);
        this.h.send(requester, [{ type: 'ack', seq: origSeq }]);
      },
      nack: () => {},
    });
    this.h.send(targetAddress, [{ type: 'ping', seq, target, source: this.h.name }]);
    this.h.verdict(() => {
      if (finished) return;
      finished = true;
      this.h.pending.delete(seq);
      if (nack) this.h.send(requester, [{ type: 'nack', seq: origSeq }]);
    }, this.h.config.probeTimeoutMs);
  }
}
