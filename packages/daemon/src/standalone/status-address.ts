import { isIP } from 'node:net';

/** Splits `host:port` / `[v6]:port`; undefined when malformed. */
function split(text: string): { host: string; port: string } | undefined {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  return m ? { host: m[1] as string, port: m[2] as string } : undefined;
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';
const isLoopback = (host: string) =>
  isIP(host) === 4 ? host.startsWith('127.') : host === '::1' || host === '0:0:0:0:0:0:0:1';

/**
 * Why `statusAddress` cannot serve `/assignments` to the other members of a gossip cluster bound on `memberlistBind`,
 * or undefined when it can: a loopback status address while gossip runs on another address (no peer reaches it), or a
 * wildcard status address whose concrete host cannot be told (the memberlist bind is a wildcard too, or of the other
 * family). Without gossip every address is fine.
 */
export function statusAddressProblem(statusAddress: string, memberlistBind: string | undefined): string | undefined {
  const status = split(statusAddress);
  const member = memberlistBind === undefined ? undefined : split(memberlistBind);
  if (!status || !member) return undefined;
  if (isLoopback(status.host) && !isLoopback(member.host))
    return `${statusAddress} is a loopback address: the other members could not fetch assignments from it; use the memberlist host (${member.host})`;
  if (isWildcard(status.host)) {
    if (isWildcard(member.host))
      return `${statusAddress} is a wildcard and so is memberlist.bindAddress: the members could not tell where to fetch assignments; bind one of them to this node's address`;
    if (status.host === '0.0.0.0' && isIP(member.host) === 6)
      return `${statusAddress} listens on IPv4 only, but the memberlist host ${member.host} is IPv6`;
  }
  return undefined;
}

/**
 * The `host:port` other members fetch `/assignments` from: `statusAddress` itself, or, when it is a wildcard, the
 * memberlist host with its port (a wildcard is never gossiped: every peer would fetch from itself).
 */
export function advertisedStatusAddress(statusAddress: string, memberlistBind: string | undefined): string {
  const status = split(statusAddress);
  const member = memberlistBind === undefined ? undefined : split(memberlistBind);
  if (!status || !member || !isWildcard(status.host) || isWildcard(member.host)) return statusAddress;
  return member.host.includes(':') ? `[${member.host}]:${status.port}` : `${member.host}:${status.port}`;
}
