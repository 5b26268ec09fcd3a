import { compileLabelSelector, type LabelSelector, type Prefix, parseAddressEntry } from '@ingot/allocator';
import type { BGPAdvertisement, ConfigIssue, IngotConfig, IPAddressPool } from './resources.js';

/** A node as advertisement node selectors see it. */
interface NodeLabels {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * MetalLB's per-pool BGPAdvertisement rules (`validateBGPAdvPerPool`), run once the pools are valid:
 * - an advertisement's aggregation length must not be shorter than the widest CIDR block of any address entry of a
 *   pool it applies to (else the advertised prefix would cover addresses outside the pool);
 * - two advertisements of one pool that would announce the same prefixes (same aggregation lengths for the pool's
 *   families) to a common peer (or all peers) from a common node must not give different `localPref`s. Advertisements
 *   with `serviceSelectors` are not compared, as in MetalLB.
 *
 * Node selectors are resolved against `nodes`, as MetalLB resolves them against the cluster's Node objects. With no
 * node known, two advertisements share a node when either has no `nodeSelectors` or both have an identical selector.
 * Issues go to `issues`, on the later advertisement.
 */
export function checkBgpAdvertisements(config: IngotConfig, nodes: readonly NodeLabels[], issues: ConfigIssue[]): void {
  const attached = new Map<string, BGPAdvertisement[]>();
  for (const adv of config.bgpAdvertisements) {
    for (const pool of poolsOf(adv, config.pools)) {
      checkAggregation(adv, pool, issues);
      const earlier = attached.get(pool.name) ?? [];
      if (adv.serviceSelectors.length === 0) {
        const clash = earlier.find(
          (other) => other.serviceSelectors.length === 0 && !compatibleLocalPref(adv, other, pool, nodes),
        );
        if (clash)
          issues.push({
            resource: `BGPAdvertisement/${adv.name}`,
            field: 'spec.localPref',
            reason:
              `invalid local preference ${adv.localPref}: BGPAdvertisement/${clash.name} already gives the same ` +
              `prefixes of pool ${JSON.stringify(pool.name)} local preference ${clash.localPref} toward a common ` +
              'peer from a common node',
          });
      }
      earlier.push(adv);
      attached.set(pool.name, earlier);
    }
  }
}

/** The pools an advertisement applies to, in configuration order: named ones and label-selected ones, or all. */
function poolsOf(adv: BGPAdvertisement, pools: readonly IPAddressPool[]): IPAddressPool[] {
  if (adv.ipAddressPools.length === 0 && adv.ipAddressPoolSelectors.length === 0) return [...pools];
  return pools.filter((p) => adv.ipAddressPools.includes(p.name) || matchesAny(adv.ipAddressPoolSelectors, p.labels));
}

/** Each address entry's blocks (ranges summarized to CIDRs), as the allocator parses them. */
function entryBlocks(pool: IPAddressPool): { entry: string; blocks: Prefix[] }[] {
  return pool.addresses.flatMap((entry) => {
    const parsed = parseAddressEntry(entry);
    return parsed.ok && parsed.prefixes.length > 0 ? [{ entry, blocks: parsed.prefixes }] : [];
  });
}

function checkAggregation(adv: BGPAdvertisement, pool: IPAddressPool, issues: ConfigIssue[]): void {
  for (const { entry, blocks } of entryBlocks(pool)) {
    const v6 = blocks[0]?.family === 6;
    const length = v6 ? adv.aggregationLengthV6 : adv.aggregationLength;
    const widest = Math.min(...blocks.map((b) => b.length));
    if (length < widest) {
      issues.push({
        resource: `BGPAdvertisement/${adv.name}`,
        field: v6 ? 'spec.aggregationLengthV6' : 'spec.aggregationLength',
        reason:
          `invalid aggregation length ${length}: prefix ${widest} in pool ${JSON.stringify(pool.name)} is more ` +
          `specific than the aggregation length for addresses ${entry}`,
      });
      return;
    }
  }
}

/** MetalLB's `BGPAdvertisementsHaveCompatibleLocalPref`, for two advertisements of `pool`. */
function compatibleLocalPref(
  a: BGPAdvertisement,
  b: BGPAdvertisement,
  pool: IPAddressPool,
  nodes: readonly NodeLabels[],
): boolean {
  if (a.localPref === b.localPref) return true;
  if (aggregationDiffers(a, b, pool)) return true;
  if (a.peers.length > 0 && b.peers.length > 0 && !a.peers.some((p) => b.peers.includes(p))) return true;
  return !shareNode(a.nodeSelectors, b.nodeSelectors, nodes);
}

/** True when the two advertisements announce different prefixes for every family the pool has. */
function aggregationDiffers(a: BGPAdvertisement, b: BGPAdvertisement, pool: IPAddressPool): boolean {
  const families = new Set(entryBlocks(pool).map(({ blocks }) => blocks[0]?.family));
  const v4 = families.has(4);
  const v6 = families.has(6);
  if (!v4 && !v6) return true;
  const differ4 = a.aggregationLength !== b.aggregationLength;
  const differ6 = a.aggregationLengthV6 !== b.aggregationLengthV6;
  if (v4 && v6) return differ4 && differ6;
  return v4 ? differ4 : differ6;
}

function shareNode(a: readonly LabelSelector[], b: readonly LabelSelector[], nodes: readonly NodeLabels[]): boolean {
  if (nodes.length > 0) return nodes.some((n) => matchesAllOrAny(a, n.labels) && matchesAllOrAny(b, n.labels));
  if (a.length === 0 || b.length === 0) return true;
  const texts = new Set(a.map((s) => JSON.stringify(s)));
  return b.some((s) => texts.has(JSON.stringify(s)));
}

/** An empty selector list selects every node. */
function matchesAllOrAny(selectors: readonly LabelSelector[], labels: Readonly<Record<string, string>>): boolean {
  return selectors.length === 0 || matchesAny(selectors, labels);
}

function matchesAny(selectors: readonly LabelSelector[], labels: Readonly<Record<string, string>>): boolean {
  return selectors.some((s) => {
    const compiled = compileLabelSelector(s);
    return compiled.ok && compiled.matches(labels);
  });
}
