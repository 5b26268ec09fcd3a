import { isIP } from 'node:net';

/** Splits `host:port` / `[v6]:port` (a bare IP has no port); undefined when malformed. */
function split(text: string): { host: string; port: string } | undefined {
  if (isIP(text) !== 0) return { host: text, port: '' };
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  return m ? { host: m[1] as string, port: m[2] as string } : undefined;
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';
const isLoopback = (host: string) =>
  isIP(host) === 4 ? host.startsWith('127.') : host === '::1' || host === '0:0:0:0:0:0:0:1';

/**
 * Why `statusAddress` cannot serve `/assignments` to the other members of a gossip cluster reaching this node at
 * `memberlistAddress` (the memberlist advertise address, else its bind address; `host:port` or a bare IP), or undefined
 * when it can: a loopback status address while gossip runs on another address (no peer reaches it), or a wildcard
 * status address whose concrete host cannot be told (the memberlist address is a wildcard too, or of the other
 * family). Without gossip every address is fine.
 */
export function statusAddressProblem(statusAddress: string, memberlistAddress: string | undefined): string | undefined {
  const status = split(statusAddress);
  const member = memberlistAddress === undefined ? undefined : split(memberlistAddress);
  if (!status || !member) return undefined;
  if (isLoopback(status.host) && !isLoopback(member.host))
    return `${statusAddress} is a loopback address: the other members could not fetch assignments from it; use the memberlist host (${member.host})`;
  if (isWildcard(status.host)) {
    if (isWildcard(member.host))
      return `${statusAddress} is a wildcard and so is the memberlist address: the members could not tell where to fetch assignments; set memberlist.advertiseAddress, or bind one of them to this node's address`;
    if (status.host === '0.0.0.0' && isIP(member.host) === 6)
      return `${statusAddress} listens on IPv4 only, but the memberlist host ${member.host} is IPv6`;
  }
  return undefined;
}

/**
 * The `host:port` other members fetch `/assignments` from: `statusAddress` itself, or, when it is a wildcard, the
 * memberlist host (advertised, else bound) with the status port (a wildcard is never gossiped: every peer would fetch
 * from itself).
 */
export function advertisedStatusAddress(statusAddress: string, memberlistAddress: string | undefined): string {
  const status = split(statusAddress);
  const member = memberlistAddress === undefined ? undefined : split(memberlistAddress);
  if (!status || !member || !isWildcard(status.host) || isWildcard(member.host)) return statusAddress;
  return member.host.includes(':') ? `[${member.host}]:${status.port}` : `${member.host}:${status.port}`;
}
