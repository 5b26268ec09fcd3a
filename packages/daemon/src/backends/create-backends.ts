import type { BgpBackend, Layer2Backend } from '../daemon.js';
import type { Logger } from '../logger.js';
import { type BgpSpeakerBackendOptions, createBgpSpeakerBackend } from './bgp-speaker-backend.js';
import { dryRunBgp, dryRunLayer2 } from './dry-run.js';
import { startLiveLayer2 } from './live-layer2.js';

/** Options of {@link createBackends}: the same in standalone and Kubernetes mode. */
export interface BackendsOptions {
  /** `live` answers ARP/NDP and runs BGP sessions; `dry-run` only logs what it would do. */
  announce: 'live' | 'dry-run';
  /** Live layer 2: interfaces to answer on; empty = every interface except MetalLB's excluded names. */
  interfaces: readonly string[];
  /** Live layer 2: SCHED_FIFO priority of the answer thread (1-99); absent = normal priority. */
  realtimePriority?: number;
  /** Live BGP: the speaker backend's identity settings (router ID, source address, per-session router ID). */
  bgp: Omit<BgpSpeakerBackendOptions, 'log'>;
  /** Logger; the backends log under `layer2` and `bgp`. */
  log: Logger;
}

/** The two places announcements go. */
export interface Backends {
  /** ARP/NDP answering (or its dry-run log). */
  layer2: Layer2Backend;
  /** BGP sessions (or their dry-run log). */
  bgp: BgpBackend;
}

/**
 * The live or dry-run backends of one daemon. Live layer 2 opens its AF_PACKET sockets here (and fails here without
 * `CAP_NET_RAW`); live BGP opens sessions only once peers are set.
 */
export async function createBackends(options: BackendsOptions): Promise<Backends> {
  const { log } = options;
  if (options.announce !== 'live')
    return { layer2: dryRunLayer2(log.child('layer2')), bgp: dryRunBgp(log.child('bgp')) };
  const layer2 = await startLiveLayer2({
    interfaces: options.interfaces,
    ...(options.realtimePriority !== undefined ? { realtimePriority: options.realtimePriority } : {}),
    log,
  });
  return { layer2, bgp: createBgpSpeakerBackend({ ...options.bgp, log: log.child('bgp') }) };
}
