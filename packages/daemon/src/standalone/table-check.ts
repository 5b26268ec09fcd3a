import { isIP } from 'node:net';
import { AllocationError, Allocator } from '@ingot/allocator';
import type { IngotConfig, ServiceResource } from '../config/resources.js';
import { familyOf, serviceInfo, withClusterFamilies } from '../controller/service-controller.js';
import type { AssignmentTable } from './assignment-table.js';

/** Why one entry of a table is not allowed by the configuration. */
export interface TableProblem {
  /** Service key `namespace/name`. */
  service: string;
  /** The reason, e.g. the allocator's error. */
  reason: string;
}

/**
 * Checks every assignment of `table` against `config` with the allocator's own rules (MetalLB's `Assign`): each IP
 * parses, lies in a configured pool, and that pool is the one the entry names; the pool's `serviceAllocation` admits
 * the service; at most one IP per family; the IPs' families fit the service's (as the controller's convergence
 * demands); and no IP is held by two services unless MetalLB's sharing rules (same sharing key, same backend) allow
 * it. Services the configuration does not list are checked as services that share nothing.
 * @returns the problems, empty when the table is allowed
 */
export function checkTable(table: Pick<AssignmentTable, 'services'>, config: IngotConfig): TableProblem[] {
  const allocator = new Allocator();
  allocator.setPools(config.pools);
  const known = new Map<string, ServiceResource>(config.services.map((s) => [s.key, s]));
  const problems: TableProblem[] = [];
  for (const [service, entry] of Object.entries(table.services)) {
    const svc = known.get(service);
    const reason = checkEntry(allocator, service, entry.ips, entry.pool, svc);
    if (reason !== undefined) problems.push({ service, reason });
  }
  return problems;
}

function checkEntry(
  allocator: Allocator,
  key: string,
  ips: readonly string[],
  pool: string | undefined,
  svc: ServiceResource | undefined,
): string | undefined {
  if (ips.length === 0) return undefined;
  const bad = ips.find((ip) => isIP(ip) === 0);
  if (bad !== undefined) return `invalid IP ${JSON.stringify(bad)}`;
  if (svc) {
    const family = familyOf(ips);
    const full = withClusterFamilies(svc);
    const clusterFamily = familyOf(full.clusterIPs);
    const dualPrefer = clusterFamily === 'dual' && svc.ipFamilyPolicy === 'PreferDualStack';
    if (family === undefined || (family !== clusterFamily && !dualPrefer))
      return `IPs ${ips.join(',')} do not fit the service's IP families`;
  }
  try {
    allocator.assign(key, ips, svc ? serviceInfo(withClusterFamilies(svc)) : undefined);
  } catch (err) {
    if (err instanceof AllocationError) return err.message;
    return `rejected: ${(err as Error).message}`;
  }
  const actual = allocator.poolOf(key);
  if (pool !== actual) return `IPs are in pool ${JSON.stringify(actual)}, the table names ${JSON.stringify(pool)}`;
  return undefined;
}
