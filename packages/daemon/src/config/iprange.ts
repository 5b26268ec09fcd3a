import { parseIp } from '@ingot/allocator';
import type { FieldReader } from './field-reader.js';
import type { IngotConfig, IPAddressPool, L2Advertisement } from './resources.js';

/** Name of the pool and advertisement of an IPRange document without `metadata.name`. */
export const DEFAULT_IPRANGE_NAME = 'metallb';

/** Result of {@link parseIprange}: the entries, or one message per problem (the charm's texts). */
export type ParseIprangeResult = { ok: true; items: string[] } | { ok: false; errors: string[] };

// Python's str.isspace() set, which the charm strips: JavaScript's \s plus the information separators U+001C-U+001F
const WHITESPACE = /[\s\x1c-\x1f]/gu;
const DECIMAL = /^\d+$/;

/** `A-B` with both ends IP addresses of one family and A <= B (A-A allowed). */
function validRange(item: string): boolean {
  const dash = item.indexOf('-');
  const start = parseIp(item.slice(0, dash));
  const end = parseIp(item.slice(dash + 1));
  return start !== undefined && end !== undefined && start.family === end.family && start.value <= end.value;
}

/** A CIDR with an explicit decimal prefix length and no host bits set (Python's strict `ip_network`). */
function validCidr(item: string): boolean {
  const slash = item.indexOf('/');
  if (slash < 0) return false;
  const ip = parseIp(item.slice(0, slash));
  const length = item.slice(slash + 1);
  if (ip === undefined || !DECIMAL.test(length)) return false;
  const bits = ip.family === 4 ? 32 : 128;
  const prefix = Number(length);
  if (prefix > bits) return false;
  const hostMask = (1n << BigInt(bits - prefix)) - 1n;
  return (ip.value & hostMask) === 0n;
}

/**
 * Parses a Charmed MetalLB `iprange` value exactly as the charm does: every whitespace character is removed (even inside
 * an address), the rest is split on `,`, and each entry must be `A-B` (exactly one `-`, two IPv4 or IPv6 addresses,
 * `A-A` allowed) or a CIDR with an explicit `/length` and no host bits set. Entries are kept verbatim and in order;
 * IPv4 and IPv6 may be mixed in one value. Going beyond the charm (whose pools MetalLB would reject later), a range
 * whose start is after its end or whose ends are of different families is rejected too, as are addresses MetalLB
 * cannot parse (IPv6 zones, IPv4 with leading zeros).
 *
 * Messages are the charm's: `Invalid iprange: iprange must not be empty` and
 * `Invalid iprange: <item> is not a valid CIDR or ip range` (one per bad entry).
 * @example
 * ```ts
 * parseIprange('192.168.10.0/24, 192.168.9.1-192.168.9.5,fc00:f853:ccd:e799::/124');
 * // { ok: true, items: ['192.168.10.0/24', '192.168.9.1-192.168.9.5', 'fc00:f853:ccd:e799::/124'] }
 * parseIprange('192.168.1.5/24');
 * // { ok: false, errors: ['Invalid iprange: 192.168.1.5/24 is not a valid CIDR or ip range'] }
 * ```
 */
export function parseIprange(value: string): ParseIprangeResult {
  const compact = value.replace(WHITESPACE, '');
  if (compact === '') return { ok: false, errors: ['Invalid iprange: iprange must not be empty'] };
  const items = compact.split(',');
  const errors = items
    .filter((item) => !(item.split('-').length === 2 ? validRange(item) : validCidr(item)))
    .map((item) => `Invalid iprange: ${item} is not a valid CIDR or ip range`);
  return errors.length > 0 ? { ok: false, errors } : { ok: true, items };
}

/**
 * The resources an IPRange document stands for, as the charm creates them: one IPAddressPool with `addresses` = the
 * entries, and one L2Advertisement of the same name announcing that pool, every other field at MetalLB's default.
 */
export function iprangeResources(
  name: string,
  items: readonly string[],
): { pool: IPAddressPool; advertisement: L2Advertisement } {
  return {
    pool: { name, labels: {}, addresses: [...items], autoAssign: true, avoidBuggyIPs: false },
    advertisement: {
      name,
      ipAddressPools: [name],
      ipAddressPoolSelectors: [],
      nodeSelectors: [],
      serviceSelectors: [],
      interfaces: [],
      preferredNodeSelectors: [],
    },
  };
}

/**
 * Reads a `kind: IPRange` document (`ingot.dev/v1alpha1`, the Charmed MetalLB `iprange` shortcut) and adds its pool and
 * L2 advertisement to `config`. `spec.iprange` is required (a configuration file states its addresses; the charm's default
 * `192.168.1.240-192.168.1.247` is not assumed); problems are recorded on `r` at `spec.iprange` with the charm's
 * messages, and name clashes with other pools or advertisements at `metadata.name`.
 * @param name - metadata.name, or {@link DEFAULT_IPRANGE_NAME} when absent
 */
export function addIpRange(r: FieldReader, name: string, config: IngotConfig): void {
  const raw = r.get('spec.iprange');
  if (raw === undefined || raw === null) {
    r.fail('spec.iprange', 'is required');
    return;
  }
  const value = r.string('spec.iprange');
  if (value === undefined) return;
  const parsed = parseIprange(value);
  if (!parsed.ok) {
    for (const error of parsed.errors) r.fail('spec.iprange', error);
    return;
  }
  const { pool, advertisement } = iprangeResources(name, parsed.items);
  const clash = (kind: string) =>
    r.fail(
      'metadata.name',
      `duplicate ${kind} name (an IPRange makes an IPAddressPool and an L2Advertisement of its name)`,
    );
  if (config.pools.some((p) => p.name === name)) clash('IPAddressPool');
  else config.pools.push(pool);
  if (config.l2Advertisements.some((a) => a.name === name)) clash('L2Advertisement');
  else config.l2Advertisements.push(advertisement);
}
