/**
 * IPAddressPool definitions and their validation with MetalLB's rules and texts (`internal/config/config.go`
 * `poolsFor`, `addressPoolFromCR`, `addressPoolServiceAllocationsFromCR`).
 */
import { type AddressEntryResult, formatPrefix, type Prefix, parseAddressEntry, prefixCapacity } from './cidr.js';
import { describeValue, goQuote, PoolValidationError, type PoolValidationErrorCode } from './errors.js';
import {
  compileLabelSelector,
  type LabelMatcher,
  type LabelSelector,
  type Labels,
  requirementString,
  selectorString,
} from './label-selector.js';
import { OrderedMap } from './ordered-map.js';

/** `spec.serviceAllocation` of an IPAddressPool. */
export interface ServiceAllocationSpec {
  /** Lower number = higher priority; 0 or unset = lowest (negative numbers are treated as 0). */
  readonly priority?: number;
  /** Namespaces whose services may use the pool. */
  readonly namespaces?: readonly string[];
  /** Namespace label selectors, resolved against the namespaces given to `setPools`. */
  readonly namespaceSelectors?: readonly LabelSelector[];
  /** Service label selectors (OR across selectors). */
  readonly serviceSelectors?: readonly LabelSelector[];
}

/** An IPAddressPool, as in MetalLB's CRD `spec` plus its name. */
export interface PoolSpec {
  /** Pool name (`metadata.name`). */
  readonly name: string;
  /** CIDRs (`192.0.2.0/24`), ranges (`192.0.2.10 - 192.0.2.20`), IPv4 and IPv6 mixed. A single address is a /32 or /128. */
  readonly addresses: readonly string[];
  /** Default true. False: never chosen automatically; an explicit pool or IP still works. */
  readonly autoAssign?: boolean;
  /** Default false. Never hand out IPv4 .0 and .255, and treat them as outside the pool. */
  readonly avoidBuggyIPs?: boolean;
  /** Restricts the pool to some services and sets its priority. */
  readonly serviceAllocation?: ServiceAllocationSpec;
}

/** A namespace known to the caller, used to resolve `namespaceSelectors`. */
export interface NamespaceInfo {
  /** Namespace name. */
  readonly name: string;
  /** Its labels. */
  readonly labels?: Labels;
}

/** The compiled `serviceAllocation` of a pool. */
export interface ServiceAllocation {
  /** Priority, ≥ 0 (0 = lowest). */
  readonly priority: number;
  /** Allowed namespaces (names given plus names resolved from selectors). */
  readonly namespaces: ReadonlySet<string>;
  /** True when the pool is restricted by namespace (names or selectors were given). */
  readonly namespaceRestricted: boolean;
  /** Service selectors; a priority-only allocation holds one match-everything selector. */
  readonly serviceSelectors: readonly LabelMatcher[];
}

/** A validated pool. */
export interface ParsedPool {
  /** Pool name. */
  readonly name: string;
  /** Its prefixes in configuration order (ranges summarized). */
  readonly prefixes: readonly Prefix[];
  /** `autoAssign`. */
  readonly autoAssign: boolean;
  /** `avoidBuggyIPs`. */
  readonly avoidBuggyIPs: boolean;
  /** Compiled `serviceAllocation`, or undefined when absent. */
  readonly serviceAllocation: ServiceAllocation | undefined;
  /** Exact usable addresses per family (bigint, never clamped). */
  readonly capacity: { readonly ipv4: bigint; readonly ipv6: bigint };
}

function fail(code: PoolValidationErrorCode, pool: string, field: string, message: string): never {
  throw new PoolValidationError(code, pool, field, message);
}

/** Wraps an error of one pool as `poolsFor` does. */
function poolFail(code: PoolValidationErrorCode, pool: string, field: string, inner: string): never {
  fail(code, pool, field, `parsing address pool ${pool}: ${inner}`);
}

function checkSelectorList(pool: string, field: string, kind: string, list: unknown): readonly LabelSelector[] {
  if (list === undefined) return [];
  if (!Array.isArray(list)) poolFail('INVALID_FIELD', pool, field, `${kind} must be a list`);
  const seen = new Set<string>();
  list.forEach((sel: LabelSelector, i) => {
    if (sel === null || typeof sel !== 'object')
      poolFail('INVALID_SELECTOR', pool, `${field}[${i}]`, `${kind} entries must be objects`);
    const exprs = sel.matchExpressions ?? [];
    if (Array.isArray(exprs)) {
      const seenExpr = new Set<string>();
      for (const r of exprs) {
        if (r === null || typeof r !== 'object') continue;
        const values = Array.isArray(r.values) ? r.values : [];
        const seenValues = new Set<unknown>();
        for (const v of values) {
          if (seenValues.has(v)) {
            poolFail(
              'DUPLICATE',
              pool,
              `${field}[${i}]`,
              `duplicate definition of match expression value in label selector ${goQuote(describeValue(v))}`,
            );
          }
          seenValues.add(v);
        }
        const rs = requirementString(r);
        if (seenExpr.has(rs))
          poolFail('DUPLICATE', pool, `${field}[${i}]`, `duplicate definition of match expressions ${goQuote(rs)}`);
        seenExpr.add(rs);
      }
    }
    const s = selectorString(sel);
    if (seen.has(s)) poolFail('DUPLICATE', pool, `${field}[${i}]`, `duplicate definition of ${kind} ${goQuote(s)}`);
    seen.add(s);
  });
  return list;
}

function compileServiceAllocation(
  name: string,
  spec: ServiceAllocationSpec,
  namespaces: readonly NamespaceInfo[],
): ServiceAllocation {
  const base = 'spec.serviceAllocation';
  if (spec === null || typeof spec !== 'object')
    poolFail('INVALID_FIELD', name, base, 'serviceAllocation must be an object');
  const prio = spec.priority ?? 0;
  if (typeof prio !== 'number' || !Number.isInteger(prio)) {
    poolFail('INVALID_FIELD', name, `${base}.priority`, 'priority must be an integer');
  }
  const names = spec.namespaces ?? [];
  if (!Array.isArray(names) || names.some((n) => typeof n !== 'string')) {
    poolFail('INVALID_FIELD', name, `${base}.namespaces`, 'namespaces must be a list of strings');
  }
  const nsSet = new Set<string>();
  for (const n of names) {
    if (nsSet.has(n)) poolFail('DUPLICATE', name, `${base}.namespaces`, 'duplicate definition in namespaces field');
    nsSet.add(n);
  }
  const priority = Math.max(prio, 0);
  const nsSels = spec.namespaceSelectors ?? [];
  const svcSels = spec.serviceSelectors ?? [];
  if (nsSet.size === 0 && (nsSels as unknown[]).length === 0 && (svcSels as unknown[]).length === 0) {
    return { priority, namespaces: nsSet, namespaceRestricted: false, serviceSelectors: [() => true] };
  }
  const nsList = checkSelectorList(name, `${base}.namespaceSelectors`, 'namespaceSelectors', spec.namespaceSelectors);
  const svcList = checkSelectorList(name, `${base}.serviceSelectors`, 'serviceSelectors', spec.serviceSelectors);
  nsList.forEach((sel, i) => {
    const c = compileLabelSelector(sel);
    if (!c.ok) {
      poolFail(
        'INVALID_SELECTOR',
        name,
        `${base}.namespaceSelectors[${i}]`,
        `${c.error}\ninvalid namespace label selector ${selectorString(sel)} in ip pool ${name}`,
      );
    }
    for (const ns of namespaces) if (c.matches(ns.labels ?? {})) nsSet.add(ns.name);
  });
  const serviceSelectors = svcList.map((sel, i) => {
    const c = compileLabelSelector(sel);
    if (!c.ok) {
      poolFail(
        'INVALID_SELECTOR',
        name,
        `${base}.serviceSelectors[${i}]`,
        `${c.error}\ninvalid service label selector ${selectorString(sel)} in ip pool ${name}`,
      );
    }
    return c.matches;
  });
  return { priority, namespaces: nsSet, namespaceRestricted: names.length > 0 || nsList.length > 0, serviceSelectors };
}

function parsePool(spec: PoolSpec, namespaces: readonly NamespaceInfo[], index: number): ParsedPool {
  if (spec === null || typeof spec !== 'object') fail('INVALID_FIELD', '', `pools[${index}]`, 'pool must be an object');
  const name = spec.name;
  if (name !== undefined && typeof name !== 'string')
    fail('INVALID_FIELD', '', `pools[${index}].name`, 'pool name must be a string');
  if (!name) poolFail('MISSING_NAME', '', 'metadata.name', 'missing pool name');
  if (spec.autoAssign !== undefined && typeof spec.autoAssign !== 'boolean') {
    poolFail('INVALID_FIELD', name, 'spec.autoAssign', 'autoAssign must be a boolean');
  }
  if (spec.avoidBuggyIPs !== undefined && typeof spec.avoidBuggyIPs !== 'boolean') {
    poolFail('INVALID_FIELD', name, 'spec.avoidBuggyIPs', 'avoidBuggyIPs must be a boolean');
  }
  const addresses = spec.addresses;
  if (addresses !== undefined && !Array.isArray(addresses)) {
    poolFail('INVALID_FIELD', name, 'spec.addresses', 'addresses must be a list of strings');
  }
  if (addresses === undefined || addresses.length === 0)
    poolFail('NO_ADDRESSES', name, 'spec.addresses', 'pool has no prefixes defined');
  const avoidBuggyIPs = spec.avoidBuggyIPs ?? false;
  const prefixes: Prefix[] = [];
  addresses.forEach((entry, i) => {
    if (typeof entry !== 'string')
      poolFail('INVALID_FIELD', name, `spec.addresses[${i}]`, 'addresses must be a list of strings');
    const r: AddressEntryResult = parseAddressEntry(entry);
    if (!r.ok) {
      poolFail(
        'INVALID_CIDR',
        name,
        `spec.addresses[${i}]`,
        `invalid CIDR ${goQuote(entry)} in pool ${goQuote(name)}: ${r.error}`,
      );
    }
    prefixes.push(...r.prefixes);
  });
  const serviceAllocation =
    spec.serviceAllocation === undefined
      ? undefined
      : compileServiceAllocation(name, spec.serviceAllocation, namespaces);
  let ipv4 = 0n;
  let ipv6 = 0n;
  for (const p of prefixes) {
    if (p.family === 4) ipv4 += prefixCapacity(p, avoidBuggyIPs);
    else ipv6 += prefixCapacity(p, avoidBuggyIPs);
  }
  return {
    name,
    prefixes,
    autoAssign: spec.autoAssign ?? true,
    avoidBuggyIPs,
    serviceAllocation,
    capacity: { ipv4, ipv6 },
  };
}

function overlaps(a: Prefix, b: Prefix): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/**
 * Checks the CIDRs of a new pool against every CIDR defined before (in this pool or earlier pools), as MetalLB's
 * `poolsFor` does, naming the earliest-defined CIDR it overlaps. O(log n) per CIDR on the valid path.
 */
class OverlapChecker {
  private readonly defined: { p: Prefix }[] = [];
  private readonly index = [new OrderedMap<bigint>(), new OrderedMap<bigint>()];

  add(pool: ParsedPool): void {
    for (const p of pool.prefixes) {
      const idx = this.index[p.family === 4 ? 0 : 1]!;
      const below = idx.floor(p.last);
      if (below !== undefined && below.value >= p.first) {
        const m = this.defined.find((d) => overlaps(p, d.p))!;
        fail(
          'OVERLAP',
          pool.name,
          'spec.addresses',
          `CIDR ${goQuote(formatPrefix(p))} in pool ${goQuote(pool.name)} overlaps with already defined CIDR ${goQuote(formatPrefix(m.p))}`,
        );
      }
      idx.set(p.first, p.last);
      this.defined.push({ p });
    }
  }
}

/**
 * Validates and compiles a set of pools exactly as MetalLB does, in order: each pool's own fields (name, addresses,
 * serviceAllocation), then name uniqueness, then overlaps of its CIDRs with every CIDR defined before them.
 * @param specs - the pools
 * @param namespaces - namespaces with labels, to resolve `namespaceSelectors` (optional)
 * @throws PoolValidationError with MetalLB's text on the first problem
 */
export function parsePools(specs: readonly PoolSpec[], namespaces: readonly NamespaceInfo[] = []): ParsedPool[] {
  if (!Array.isArray(specs)) fail('INVALID_FIELD', '', 'pools', 'pools must be a list');
  const out: ParsedPool[] = [];
  const names = new Set<string>();
  const overlapChecker = new OverlapChecker();
  specs.forEach((spec, i) => {
    const pool = parsePool(spec, namespaces, i);
    if (names.has(pool.name))
      fail('DUPLICATE_POOL', pool.name, 'metadata.name', `duplicate definition of pool ${goQuote(pool.name)}`);
    names.add(pool.name);
    overlapChecker.add(pool);
    out.push(pool);
  });
  return out;
}
