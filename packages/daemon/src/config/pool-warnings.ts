import { type Family, parseAddressEntry, parseCidr } from '@ingot/allocator';
import type { ConfigIssue, IPAddressPool } from './resources.js';

/** Address blocks no service should get: MetalLB accepts them in a pool, Ingot warns (docs/configuration.md). */
const SPECIAL_BLOCKS: ReadonlyArray<readonly [string, string]> = [
  ['0.0.0.0/8', '"this network" addresses (0.0.0.0/8)'],
  ['127.0.0.0/8', 'loopback addresses (127.0.0.0/8)'],
  ['169.254.0.0/16', 'link-local addresses (169.254.0.0/16)'],
  ['224.0.0.0/4', 'multicast addresses (224.0.0.0/4)'],
  ['240.0.0.0/4', 'reserved addresses (240.0.0.0/4, with the broadcast address 255.255.255.255)'],
  ['::/128', 'the unspecified address (::)'],
  ['::1/128', 'the loopback address (::1)'],
  ['::ffff:0:0/96', 'IPv4-mapped IPv6 addresses (::ffff:0:0/96)'],
  ['fe80::/10', 'link-local addresses (fe80::/10)'],
  ['ff00::/8', 'multicast addresses (ff00::/8)'],
];

const BLOCKS = SPECIAL_BLOCKS.map(([cidr, what]) => {
  const p = parseCidr(cidr);
  if (!p) throw new Error(`bad built-in block ${cidr}`);
  return { family: p.family as Family, first: p.first, last: p.last, what };
});

/**
 * Warnings for pool entries that hold addresses a service should never get: a whole address family (`0.0.0.0/0`,
 * `::/0`), loopback, link-local, multicast, reserved/broadcast, the unspecified address and IPv4-mapped IPv6. MetalLB
 * accepts such pools and would assign and announce those addresses; Ingot accepts them too (a MetalLB configuration
 * keeps working) and warns, one warning per entry and kind of block.
 */
export function poolAddressWarnings(pools: readonly IPAddressPool[]): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  for (const pool of pools) {
    pool.addresses.forEach((entry, i) => {
      const parsed = parseAddressEntry(entry);
      if (!parsed.ok) return;
      const warn = (what: string) =>
        warnings.push({
          resource: `IPAddressPool/${pool.name}`,
          field: `spec.addresses[${i}]`,
          reason: `${JSON.stringify(entry)} includes ${what}: services would get them and they would be announced`,
        });
      if (parsed.prefixes.some((p) => p.length === 0))
        warn(`every ${parsed.prefixes[0]?.family === 6 ? 'IPv6' : 'IPv4'} address`);
      for (const block of BLOCKS) {
        const hit = parsed.prefixes.some(
          (p) => p.family === block.family && p.first <= block.last && p.last >= block.first,
        );
        if (hit) warn(block.what);
      }
    });
  }
  return warnings;
}
