import { type AnswerThreadStatus, answerThreadStatus, createResponder, setAnswerThreadPriority } from '@ingot/arp';
import type { Layer2Backend } from '../daemon.js';
import type { Logger } from '../logger.js';
import { type MetricSample, renderMetrics } from '../metrics.js';

/** Options of {@link startLiveLayer2}. */
export interface LiveLayer2Options {
  /** Interfaces to answer on; empty = every interface except MetalLB's excluded names. */
  interfaces: readonly string[];
  /**
   * SCHED_FIFO priority (1-99) for the answer thread, where ARP requests are answered (the event loop, which answers
   * NDP and runs everything else, keeps its normal priority): lower and steadier reply latency under load. Needs
   * CAP_SYS_NICE (or systemd LimitRTPRIO); without it the daemon warns and answers at normal priority. Off when absent.
   */
  realtimePriority?: number;
  /** Logger. */
  log: Logger;
  /** Reads the answer thread's state (default `@ingot/arp`'s {@link answerThreadStatus}; tests replace it). */
  threadStatus?: () => AnswerThreadStatus;
}

/** Where ARP and NDP are answered, for `ingot status`. */
export interface Layer2Status {
  /** `answer-thread`: off the event loop; `event-loop`: the answer thread failed, the event loop answers everything. */
  answering: 'answer-thread' | 'event-loop';
  /** The answer thread's state, failures since start, and the last failure. */
  answerThread: AnswerThreadStatus;
}

/**
 * The `/readyz` lines for a layer-2 status: one when ARP and NDP are answered on the event loop because the answer
 * thread failed (still serving, so readiness is unchanged, but slower and at the event loop's mercy).
 * @param status - what {@link LiveLayer2Backend.status} returned, or anything else a backend reports (ignored)
 */
export function layer2ReadyNotes(status: object | undefined): string[] {
  const s = status as Partial<Layer2Status> | undefined;
  if (s?.answering !== 'event-loop') return [];
  const last = s.answerThread?.lastError;
  return [`layer2: answer thread failed${last ? ` (${last})` : ''}; ARP and NDP are answered on the event loop`];
}

/** The live layer-2 backend: the responder, plus where it answers (for `ingot status` and `/metrics`). */
export interface LiveLayer2Backend extends Layer2Backend {
  /** Where ARP and NDP are answered now. */
  status(): Layer2Status;
}

/** Samples of the answer thread's health: `ingot_layer2_answer_thread_up` and `ingot_layer2_answer_thread_failures_total`. */
export function answerThreadMetrics(s: AnswerThreadStatus): MetricSample[] {
  return [
    { name: 'ingot_layer2_answer_thread_up', labels: {}, value: s.state === 'running' ? 1 : 0 },
    { name: 'ingot_layer2_answer_thread_failures_total', labels: {}, value: s.failures },
  ];
}

/**
 * Starts an `@ingot/arp` Responder on the node's interfaces (CAP_NET_RAW), logging interface changes, and a failing
 * answer thread (the responder then answers on the event loop: slower under load, nothing unanswered) at warn level,
 * once per failure.
 */
export async function startLiveLayer2(options: LiveLayer2Options): Promise<LiveLayer2Backend> {
  const { log } = options;
  const threadStatus = options.threadStatus ?? answerThreadStatus;
  if (options.realtimePriority !== undefined) {
    // Set before the first socket opens, so the answer thread is raised as soon as it starts (and again if it restarts).
    setAnswerThreadPriority({ priority: options.realtimePriority }, (rt, thread) => {
      if (rt.ok) {
        log.info('layer2 answering at real-time priority', { policy: 'SCHED_FIFO', priority: rt.priority, thread });
      } else log.warn('layer2 answering at normal priority', { reason: rt.reason, thread });
    });
  }
  const responder = createResponder({ interfaces: options.interfaces.length > 0 ? [...options.interfaces] : 'all' });
  responder.on('interface-added', (e) => log.info('layer2 serving interface', { ...e }));
  responder.on('interface-removed', (e) => log.info('layer2 stopped serving interface', { ...e }));
  let reported = 0;
  responder.on('error', (e) => {
    const failures = threadStatus().failures;
    if ((e.error as { syscall?: string }).syscall !== 'answer-thread' || failures === reported) return;
    reported = failures;
    log.warn('layer2 answer thread failed; answering ARP and NDP on the event loop', {
      interface: e.interface,
      error: e.error.message,
      failures,
    });
  });
  await responder.ready();
  const status = (): Layer2Status => {
    const answerThread = threadStatus();
    return { answering: answerThread.state === 'failed' ? 'event-loop' : 'answer-thread', answerThread };
  };
  return {
    announce: (ip, o) => responder.announce(ip, o),
    withdraw: (ip) => responder.withdraw(ip),
    reannounce: () => responder.reannounce(),
    close: () => responder.close(),
    metrics: () => responder.metrics() + renderMetrics(answerThreadMetrics(threadStatus())),
    status,
  };
}
