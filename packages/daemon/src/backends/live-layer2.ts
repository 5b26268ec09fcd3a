import { createResponder, raiseRealtimePriority } from '@ingot/arp';
import type { Layer2Backend } from '../daemon.js';
import type { Logger } from '../logger.js';

/** Options of {@link startLiveLayer2}. */
export interface LiveLayer2Options {
  /** Interfaces to answer on; empty = every interface except MetalLB's excluded names. */
  interfaces: readonly string[];
  /**
   * SCHED_FIFO priority (1-99) for the daemon's main thread, where ARP/NDP requests are answered: lower and steadier
   * reply latency under load. Needs CAP_SYS_NICE (or systemd LimitRTPRIO); without it the daemon warns and runs at
   * normal priority. Off when absent.
   */
  realtimePriority?: number;
  /** Logger. */
  log: Logger;
}

/** Starts an `@ingot/arp` Responder on the node's interfaces (CAP_NET_RAW), logging interface changes. */
export async function startLiveLayer2(options: LiveLayer2Options): Promise<Layer2Backend> {
  const { log } = options;
  const responder = createResponder({ interfaces: options.interfaces.length > 0 ? [...options.interfaces] : 'all' });
  responder.on('interface-added', (e) => log.info('layer2 serving interface', { ...e }));
  responder.on('interface-removed', (e) => log.info('layer2 stopped serving interface', { ...e }));
  await responder.ready();
  if (options.realtimePriority !== undefined) {
    const rt = raiseRealtimePriority({ priority: options.realtimePriority });
    if (rt.ok) log.info('layer2 answering at real-time priority', { policy: 'SCHED_FIFO', priority: rt.priority });
    else log.warn('layer2 answering at normal priority', { reason: rt.reason });
  }
  return responder;
}
