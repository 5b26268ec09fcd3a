/**
 * A service's assignment (its IPs and their pool): the core daemon reports assignments, the standalone mode's
 * assignment table replicates them; both find the type here.
 * @module
 */

/** One service's assignment: the IPs the controller gave it and their pool. */
export interface Assignment {
  /** IPs in status order (`[v4, v6]` for dual stack). */
  ips: string[];
  /** The pool that served them. */
  pool?: string;
}

/** Do two tables hold the same assignments (ignoring versions)? */
export function sameAssignments(a: Record<string, Assignment>, b: Record<string, Assignment>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => {
    const x = a[k];
    const y = b[k];
    return !!x && !!y && x.pool === y.pool && x.ips.length === y.ips.length && x.ips.every((ip, i) => ip === y.ips[i]);
  });
}
