import { createResponder, setAnswerThreadPriority } from '@ingot/arp';
import type { Layer2Backend } from '../daemon.js';
import type { Logger } from '../logger.js';

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
}

/** Starts an `@ingot/arp` Responder on the node's interfaces (CAP_NET_RAW), logging interface changes. */
export async function startLiveLayer2(options: LiveLayer2Options): Promise<Layer2Backend> {
  const { log } = options;
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
  await responder.ready();
  return responder;
}
