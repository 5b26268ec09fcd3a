import type { Server } from 'node:http';
import type { ConfigIssue } from '../config/resources.js';
import type { BgpBackend, Daemon } from '../daemon.js';
import type { Logger } from '../logger.js';
import { type StatusRoutes, serveStatus } from '../metrics.js';

/** What `GET /status` returns and `ingot status` prints. */
export interface StatusDocument {
  /** This node. */
  node: string;
  /** Software version. */
  version: string;
  /** `live` or `dry-run`. */
  announce: string;
  /** The allocating node (controller leader). */
  controller: string | undefined;
  /** Configuration source and state. */
  config: { source: string; loaded: boolean; stale: boolean; issues: ConfigIssue[] };
  /** Version of the assignment table in force. */
  assignments: { generation: number; writer: string };
  /** Services. */
  services: ReturnType<Daemon['status']>;
  /** BGP sessions. */
  peers: ReturnType<NonNullable<BgpBackend['peers']>>;
  /** Members and their states. */
  members: { name: string; state: string; address: string }[];
  /** Service IPs on `lo` (data path `local`). */
  localAddresses: string[];
  /** Live mode: where ARP/NDP are answered (`answering`: `answer-thread`, or `event-loop` after the thread failed). */
  layer2?: object;
}

/** Where {@link serveStandaloneStatus} listens. */
export interface StandaloneStatusAddresses {
  /** The status address (the other members fetch `/assignments` there). */
  statusAddress: string;
  /** A separate (loopback) listener for everything but `/assignments`; absent = all on `statusAddress`. */
  localStatusAddress?: string | undefined;
  /** The status address was chosen (flag or Node document) or gossip needs it: failing to listen is fatal. */
  required: boolean;
}

/**
 * Serves the standalone daemon's HTTP endpoints: `local` (`/metrics`, `/healthz`, `/readyz`, `/status`) and `peer`
 * (`/assignments`) on the status address, or `local` on the local status address and only `/assignments` on the status
 * address. When the default address is taken and nothing requires it, logs a warning and serves nothing.
 * @throws when a required address cannot be listened on (no server is left open)
 */
export async function serveStandaloneStatus(
  at: StandaloneStatusAddresses,
  local: StatusRoutes,
  peer: Pick<StatusRoutes, 'assignments' | 'sign'>,
  log: Logger,
): Promise<Server[]> {
  const servers: Server[] = [];
  try {
    if (at.localStatusAddress) {
      servers.push(await serveStatus(at.localStatusAddress, local));
      servers.push(await serveStatus(at.statusAddress, { ...local, ...peer, only: ['/assignments'] }));
      log.info('serving status', {
        local: at.localStatusAddress,
        paths: ['/metrics', '/healthz', '/readyz', '/status'],
        peers: at.statusAddress,
        peerPaths: ['/assignments'],
      });
    } else {
      servers.push(await serveStatus(at.statusAddress, { ...local, ...peer }));
      log.info('serving status', {
        address: at.statusAddress,
        paths: ['/metrics', '/healthz', '/readyz', '/status', '/assignments'],
      });
    }
  } catch (err) {
    for (const server of servers.splice(0)) server.close();
    if (at.required) throw err;
    log.warn('status server not started (default address unavailable)', {
      address: at.statusAddress,
      error: (err as Error).message,
    });
  }
  return servers;
}
