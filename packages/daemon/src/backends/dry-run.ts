import type { BgpBackend, Layer2Backend } from '../daemon.js';
import type { Logger } from '../logger.js';

/** A layer-2 backend that only logs what it would announce (no privileges needed). */
export function dryRunLayer2(log: Logger): Layer2Backend {
  return {
    announce: (ip, options) =>
      log.info('dry run: would answer ARP/NDP', { ip, interfaces: options?.interfaces ?? 'all' }),
    withdraw: (ip) => log.info('dry run: would stop answering ARP/NDP', { ip }),
  };
}

/** A BGP backend that only logs what it would advertise. */
export function dryRunBgp(log: Logger): BgpBackend {
  return {
    setPeers: (peers) =>
      log.info('dry run: BGP peers', {
        peers: peers.map((p) => `${p.name}=${p.peerAddress}:${p.peerPort} AS${p.peerASN}`),
      }),
    announce: (a) => log.info('dry run: would advertise', { ...a }),
    withdraw: (prefix) => log.info('dry run: would withdraw', { prefix }),
  };
}
