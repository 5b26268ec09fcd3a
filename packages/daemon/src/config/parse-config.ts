import { isIP } from 'node:net';
import { PoolValidationError, parsePools } from '@ingot/allocator';
import { LineCounter, parseAllDocuments } from 'yaml';
import { readAddPath } from './add-path.js';
import { readBfdProfile, resolveBfdProfiles } from './bfd-profile.js';
import { checkBgpAdvertisements } from './bgp-advertisement-checks.js';
import { parseDurationMs } from './duration.js';
import { describe, FieldReader } from './field-reader.js';
import { addIpRange, DEFAULT_IPRANGE_NAME } from './iprange.js';
import { INGOT_API_VERSION, readNodeConfig } from './node-config.js';
import { poolAddressWarnings } from './pool-warnings.js';
import type {
  AdvertisementCommon,
  BGPAdvertisement,
  BGPPeer,
  CommunityAlias,
  ConfigIssue,
  IngotConfig,
  IPAddressPool,
  L2Advertisement,
  ServiceResource,
} from './resources.js';
import { locateIssues, type ObjectSource } from './source-positions.js';
import { readEndpointCounts, readWeightedEcmp } from './weighted-ecmp.js';
import { MAX_CONFIG_CHARS, MAX_YAML_DEPTH, yamlDepthProblem } from './yaml-limits.js';

/**
 * Result of {@link parseConfig}: a config when there were no issues, and every issue found. `warnings` (same shape as
 * issues) never make a configuration invalid: they name what MetalLB accepts but is probably a mistake (an
 * advertisement naming a pool or peer that does not exist, a pool holding loopback or multicast addresses, ...).
 */
export type ParseConfigResult =
  | { ok: true; config: IngotConfig; warnings: ConfigIssue[] }
  | { ok: false; issues: ConfigIssue[]; warnings: ConfigIssue[] };

/** Options of {@link parseConfigObjects}. */
export interface ParseConfigOptions {
  /**
   * The cluster's nodes with their labels (Kubernetes mode: the Node objects). Advertisement node selectors are
   * resolved against them, as MetalLB does, to find advertisements whose `localPref`s conflict. Default: the
   * configuration's own `kind: Node` documents.
   */
  nodes?: readonly { name: string; labels: Readonly<Record<string, string>> }[];
}

const UINT32_MAX = 4_294_967_295;
/** Alias expansions allowed per document (the yaml package's default): a billion-laughs document is refused. */
const MAX_ALIAS_COUNT = 100;
/** The object (index into `parseConfigObjects`' `objects`) each issue raised while reading one object is about. */
const issueObjects = new WeakMap<ConfigIssue, number>();
/** Ingot's own kinds, under apiVersion ingot.dev/v1alpha1. */
const INGOT_KINDS = new Set(['Node', 'IPRange']);
const LEGACY_COMMUNITY = /^(\d{1,5}):(\d{1,5})$/;
const LARGE_COMMUNITY = /^large:(\d{1,10}):(\d{1,10}):(\d{1,10})$/;

/**
 * Parses MetalLB configuration resources from YAML (any number of `---`-separated documents, or a `kind: List`), applying
 * MetalLB's defaults and validation. Every problem is reported with its resource, field path and reason; nothing is
 * returned unless the whole configuration is valid. Standalone mode also accepts `kind: Service` documents.
 * Each issue also carries its `line` (of the deepest node that exists on its field path) and `document`.
 */
export function parseConfig(text: string): ParseConfigResult {
  const issues: ConfigIssue[] = [];
  const yamlIssue = (i: number, message: string, line: number | undefined) =>
    issues.push({
      resource: `document ${i + 1}`,
      field: '',
      reason: `invalid YAML: ${message.split('\n')[0]}`,
      ...(line !== undefined ? { line } : {}),
      document: i + 1,
    });
  const lines = new LineCounter();
  if (text.length > MAX_CONFIG_CHARS) {
    yamlIssue(0, `the text is larger than ${MAX_CONFIG_CHARS} characters`, undefined);
    return { ok: false, issues, warnings: [] };
  }
  const deep = yamlDepthProblem(text);
  if (deep) {
    const line = text.slice(0, deep.offset).split('\n').length;
    yamlIssue(deep.document, `collections nested deeper than ${MAX_YAML_DEPTH} levels`, line);
    return { ok: false, issues, warnings: [] };
  }
  const docs = parseAllDocuments(text, { lineCounter: lines });
  const objects: unknown[] = [];
  const sources: ObjectSource[] = [];
  for (const [i, doc] of (Array.isArray(docs) ? docs : [docs]).entries()) {
    if (doc.errors.length > 0) {
      const error = doc.errors[0];
      yamlIssue(i, error?.message ?? 'unknown error', error?.linePos?.[0].line);
      continue;
    }
    let value: unknown;
    try {
      // The yaml package throws here on an alias bomb (more than maxAliasCount expansions) or an unresolved alias.
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (err) {
      const start = doc.contents?.range?.[0];
      yamlIssue(
        i,
        err instanceof Error ? err.message : String(err),
        start === undefined ? undefined : lines.linePos(start).line,
      );
      continue;
    }
    if (value === null || value === undefined) continue;
    const list = value as { kind?: unknown; items?: unknown };
    if (list.kind === 'List' && Array.isArray(list.items)) {
      list.items.forEach((item: unknown, k) => {
        objects.push(item);
        sources.push({ doc, document: i + 1, base: ['items', k] });
      });
    } else {
      objects.push(value);
      sources.push({ doc, document: i + 1, base: [] });
    }
  }
  const result = parseConfigObjects(objects, issues);
  const locate = (list: ConfigIssue[]) =>
    locateIssues(list, objects, sources, lines, (issue) => issueObjects.get(issue), DEFAULT_IPRANGE_NAME);
  if (!result.ok) locate(result.issues);
  locate(result.warnings);
  return result;
}

/**
 * Validates already decoded MetalLB resources (e.g. objects read from the Kubernetes API, with `apiVersion` and `kind`
 * set) with exactly the rules of {@link parseConfig}.
 * @param objects - the resources, in order
 * @param issues - issues found before (e.g. YAML errors), reported along with the new ones
 */
export function parseConfigObjects(
  objects: readonly unknown[],
  issues: ConfigIssue[] = [],
  options: ParseConfigOptions = {},
): ParseConfigResult {
  const warnings: ConfigIssue[] = [];
  const config: IngotConfig = {
    pools: [],
    l2Advertisements: [],
    bgpAdvertisements: [],
    bgpPeers: [],
    communities: [],
    services: [],
    nodes: [],
    bfdProfiles: [],
  };
  objects.forEach((obj, i) => {
    const before = issues.length;
    const warningsBefore = warnings.length;
    readResource(obj, i, config, issues, warnings);
    for (const issue of [...issues.slice(before), ...warnings.slice(warningsBefore)]) issueObjects.set(issue, i);
  });
  if (issues.length === 0) checkPools(config, issues);
  if (issues.length === 0) checkBgpAdvertisements(config, options.nodes ?? config.nodes, issues);
  checkReferences(config, issues, warnings);
  resolveBfdProfiles(config.bgpPeers, config.bfdProfiles ?? [], issues);
  warnings.push(...poolAddressWarnings(config.pools));
  return issues.length > 0 ? { ok: false, issues, warnings } : { ok: true, config, warnings };
}

/** Result of {@link parseServiceObject}. */
export type ParseServiceResult = { ok: true; service: ServiceResource } | { ok: false; issues: ConfigIssue[] };

/** Reads one `v1/Service` object with the rules {@link parseConfig} applies to `kind: Service` documents. */
export function parseServiceObject(obj: unknown): ParseServiceResult {
  const issues: ConfigIssue[] = [];
  const probe = new FieldReader(obj, 'Service', issues);
  const name = probe.string('metadata.name', true);
  if (!name) return { ok: false, issues };
  const service = readService(new FieldReader(obj, `Service/${name}`, issues), name);
  return issues.length > 0 ? { ok: false, issues } : { ok: true, service };
}

function readResource(
  obj: unknown,
  index: number,
  config: IngotConfig,
  issues: ConfigIssue[],
  warnings: ConfigIssue[],
): void {
  const probe = new FieldReader(obj, `document ${index + 1}`, issues);
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) {
    probe.fail('', 'must be a Kubernetes object');
    return;
  }
  const kind = probe.string('kind', true);
  const apiVersion = probe.string('apiVersion', true);
  const name =
    kind === 'IPRange' ? probe.string('metadata.name') || DEFAULT_IPRANGE_NAME : probe.string('metadata.name', true);
  if (!kind || !name) return;
  const r = new FieldReader(obj, `${kind}/${name}`, issues);
  if (INGOT_KINDS.has(kind)) {
    if (apiVersion && apiVersion !== INGOT_API_VERSION)
      r.fail('apiVersion', `must be ${INGOT_API_VERSION}, got ${JSON.stringify(apiVersion)}`);
  } else if (kind !== 'Service' && apiVersion && !/^metallb\.io\/v1beta[12]$/.test(apiVersion)) {
    r.fail('apiVersion', `must be metallb.io/v1beta1 (or v1beta2 for BGPPeer), got ${JSON.stringify(apiVersion)}`);
  }
  const unique = <T extends { name: string }>(list: T[], item: T) => {
    if (list.some((x) => x.name === item.name)) r.fail('metadata.name', `duplicate ${kind} name`);
    else list.push(item);
  };
  switch (kind) {
    case 'IPAddressPool':
      unique(config.pools, readPool(r, name));
      break;
    case 'L2Advertisement':
      unique(config.l2Advertisements, readL2Advertisement(r, name));
      break;
    case 'BGPAdvertisement':
      unique(config.bgpAdvertisements, readBgpAdvertisement(r, name));
      break;
    case 'BGPPeer': {
      const peer = readBgpPeer(r, name, new FieldReader(obj, `BGPPeer/${name}`, warnings));
      if (peer) unique(config.bgpPeers, peer);
      break;
    }
    case 'BFDProfile':
      config.bfdProfiles ??= [];
      unique(config.bfdProfiles, readBfdProfile(r, name));
      break;
    case 'Community':
      for (const alias of readCommunities(r)) {
        if (config.communities.some((c) => c.name === alias.name))
          r.fail('spec.communities', `duplicate community alias ${JSON.stringify(alias.name)}`);
        else config.communities.push(alias);
      }
      break;
    case 'Node':
      unique(config.nodes, readNodeConfig(r, name));
      break;
    case 'IPRange':
      addIpRange(r, name, config);
      break;
    case 'Service': {
      const svc = readService(r, name);
      if (config.services.some((s) => s.key === svc.key)) r.fail('metadata.name', 'duplicate Service');
      else config.services.push(svc);
      break;
    }
    default:
      r.fail(
        'kind',
        `unsupported kind (expected IPAddressPool, L2Advertisement, BGPAdvertisement, BGPPeer, BFDProfile, Community, Service, Node or IPRange)`,
      );
  }
}

function readPool(r: FieldReader, name: string): IPAddressPool {
  const addresses = r.stringList('spec.addresses');
  if (addresses.length === 0) r.fail('spec.addresses', 'must list at least one CIDR or range');
  const pool: IPAddressPool = {
    name,
    labels: r.stringMap('metadata.labels'),
    addresses,
    autoAssign: r.boolean('spec.autoAssign', true),
    avoidBuggyIPs: r.boolean('spec.avoidBuggyIPs', false),
  };
  if (r.get('spec.serviceAllocation') !== undefined) {
    pool.serviceAllocation = {
      priority: r.integer('spec.serviceAllocation.priority', { min: 0, max: 2 ** 31 - 1, fallback: 0 }) ?? 0,
      namespaces: r.stringList('spec.serviceAllocation.namespaces', true),
      namespaceSelectors: r.selectors('spec.serviceAllocation.namespaceSelectors'),
      serviceSelectors: r.selectors('spec.serviceAllocation.serviceSelectors'),
    };
  }
  return pool;
}

function readCommon(r: FieldReader, name: string): AdvertisementCommon {
  return {
    name,
    ipAddressPools: r.stringList('spec.ipAddressPools', true),
    ipAddressPoolSelectors: r.selectors('spec.ipAddressPoolSelectors'),
    nodeSelectors: r.selectors('spec.nodeSelectors'),
    serviceSelectors: r.selectors('spec.serviceSelectors'),
  };
}

function readL2Advertisement(r: FieldReader, name: string): L2Advertisement {
  return {
    ...readCommon(r, name),
    interfaces: r.stringList('spec.interfaces', true),
    preferredNodeSelectors: r.objectList('spec.preferredNodeSelectors', (path, item) => {
      const sub = new FieldReader(item, r.resource, []);
      const weight = sub.integer('weight', { min: 1, max: 100, required: true });
      const pref = item.preference;
      if (weight === undefined) return failAt(r, `${path}.weight`, 'is required and must be an integer from 1 to 100');
      if (pref === null || typeof pref !== 'object' || Array.isArray(pref))
        return failAt(r, `${path}.preference`, 'is required');
      return { weight, preference: r.selectorAt(`${path}.preference`, pref as Record<string, unknown>) };
    }),
  };
}

function readBgpAdvertisement(r: FieldReader, name: string): BGPAdvertisement {
  const common = readCommon(r, name);
  const communities = r.stringList('spec.communities', true);
  communities.forEach((c, i) => {
    const problem = c.includes(':') ? communityProblem(c) : undefined;
    if (problem) r.fail(`spec.communities[${i}]`, problem);
  });
  const aggregationLength = r.integer('spec.aggregationLength', { min: 1, max: 32, fallback: 32 }) ?? 32;
  const aggregationLengthV6 = r.integer('spec.aggregationLengthV6', { min: 1, max: 128, fallback: 128 }) ?? 128;
  // MetalLB: with serviceSelectors, only some services of a prefix would be advertised, so no aggregation.
  if (common.serviceSelectors.length > 0) {
    if (aggregationLength !== 32)
      r.fail('spec.aggregationLength', 'serviceSelectors and aggregationLength are mutually exclusive: keep 32');
    if (aggregationLengthV6 !== 128)
      r.fail('spec.aggregationLengthV6', 'serviceSelectors and aggregationLengthV6 are mutually exclusive: keep 128');
  }
  return {
    ...common,
    aggregationLength,
    aggregationLengthV6,
    localPref: r.integer('spec.localPref', { min: 0, max: UINT32_MAX, fallback: 0 }) ?? 0,
    communities,
    peers: r.stringList('spec.peers', true),
    ...(readWeightedEcmp(r, aggregationLength, aggregationLengthV6) ? { weightedEcmp: true } : {}),
  };
}

/**
 * Reads a BGPPeer.
 * @param w - records warnings about this peer
 */
function readBgpPeer(r: FieldReader, name: string, w: FieldReader): BGPPeer | undefined {
  const myASN = r.integer('spec.myASN', { min: 1, max: UINT32_MAX, required: true });
  const peerASN = r.integer('spec.peerASN', { min: 1, max: UINT32_MAX });
  // dynamicASN (MetalLB's FRR mode): accept whichever AS the peer's OPEN carries, ours (internal) or another (external).
  const dynamic = r.get('spec.dynamicASN');
  let dynamicASN: 'internal' | 'external' | undefined;
  if (dynamic !== undefined && dynamic !== null && dynamic !== '') {
    if (dynamic !== 'internal' && dynamic !== 'external')
      r.fail('spec.dynamicASN', `must be internal or external, got ${JSON.stringify(dynamic)}`);
    else dynamicASN = dynamic;
    if (peerASN !== undefined)
      r.fail('spec.dynamicASN', `both peerASN ${peerASN} and dynamicASN ${JSON.stringify(dynamic)} are set: set one`);
  } else if (peerASN === undefined) r.fail('spec.peerASN', 'is required (or dynamicASN: internal or external)');
  // MetalLB's FRR-only fields: rejected, as its native mode does (DiscardFRROnly), rather than silently not doing
  // what they ask.
  for (const [field, hint] of UNSUPPORTED_PEER_FIELDS) {
    const v = r.get(`spec.${field}`);
    if (v !== undefined && v !== null && v !== '' && v !== false && v !== 0) {
      r.fail(`spec.${field}`, `is not supported by the native BGP speaker${hint}`);
    }
  }
  // localASN: MetalLB's native mode accepts it and opens the session with myASN anyway; so does Ingot, and says so.
  const localASN = r.integer('spec.localASN', { min: 0, max: UINT32_MAX });
  if (localASN)
    w.fail(
      'spec.localASN',
      `ignored: the session announces myASN ${myASN ?? '?'} (localASN is FRR-only; MetalLB's native mode ignores it too)`,
    );
  // BGP unnumbered (FRR's `neighbor IFNAME interface`): exactly one of peerAddress and interface, as MetalLB.
  const iface = r.string('spec.interface') || undefined;
  const peerAddress = r.string('spec.peerAddress', iface === undefined) || undefined;
  if (peerAddress && isIP(peerAddress) === 0)
    r.fail('spec.peerAddress', `invalid IP address ${JSON.stringify(peerAddress)}`);
  if (iface !== undefined) {
    if (peerAddress) r.fail('spec.interface', 'peer has both Address and Interface specified: set one');
    if (!/^[^\s/%]{1,15}$/.test(iface))
      r.fail(
        'spec.interface',
        `must be a network device name (1 to 15 characters, no space, / or %), got ${JSON.stringify(iface)}`,
      );
  }
  const sourceAddress = r.string('spec.sourceAddress');
  if (sourceAddress && isIP(sourceAddress) === 0)
    r.fail('spec.sourceAddress', `invalid IP address ${JSON.stringify(sourceAddress)}`);
  const routerID = r.string('spec.routerID');
  if (routerID && isIP(routerID) !== 4)
    r.fail('spec.routerID', `must be an IPv4 address, got ${JSON.stringify(routerID)}`);
  const timers = readTimers(r, w);
  const connectMs = readDuration(r, 'spec.connectTime');
  if (connectMs !== undefined && (connectMs % 1000 !== 0 || connectMs < 1000 || connectMs > 65_535_000)) {
    r.fail(
      'spec.connectTime',
      `invalid connectTime ${JSON.stringify(r.get('spec.connectTime'))}: must be whole seconds from 1s to 65535s`,
    );
  }
  const ebgpMultiHop = r.boolean('spec.ebgpMultiHop', false);
  if (ebgpMultiHop && myASN !== undefined && (myASN === peerASN || dynamicASN === 'internal'))
    r.fail('spec.ebgpMultiHop', 'invalid ebgpMultiHop parameter set for an ibgp peer');
  const password = r.string('spec.password');
  if (r.get('spec.passwordSecret') !== undefined && password)
    r.fail('spec.passwordSecret', 'can not have both password and passwordSecret');
  if (password && /[\r\n]/.test(password)) r.fail('spec.password', 'contains invalid characters (a line break)');
  const bfdProfile = r.string('spec.bfdProfile');
  const vrf = r.string('spec.vrf');
  if (vrf !== undefined && vrf !== '' && !/^[^\s/]{1,15}$/.test(vrf))
    r.fail('spec.vrf', `must be a network device name (1 to 15 characters, no space or /), got ${JSON.stringify(vrf)}`);
  if (myASN === undefined || (peerASN === undefined && dynamicASN === undefined) || !(peerAddress || iface))
    return undefined;
  if (iface !== undefined && sourceAddress)
    w.fail('spec.sourceAddress', 'ignored with interface: the session runs between the link-local addresses');
  if (iface !== undefined && r.get('spec.disableMP') === true)
    w.fail('spec.disableMP', 'ignored with interface: the session is IPv6 and IPv4 routes need MP-BGP (RFC 8950)');
  return {
    name,
    myASN,
    peerASN: peerASN ?? 0,
    ...(dynamicASN ? { dynamicASN } : {}),
    peerAddress: peerAddress ?? '',
    ...(iface !== undefined ? { interface: iface } : {}),
    ...(sourceAddress && iface === undefined ? { sourceAddress } : {}),
    peerPort: r.integer('spec.peerPort', { min: 1, max: 16384, fallback: 179 }) ?? 179,
    holdTime: timers.holdTime,
    keepaliveTime: timers.keepaliveTime,
    ...(routerID ? { routerID } : {}),
    ...(connectMs !== undefined ? { connectTime: connectMs / 1000 } : {}),
    nodeSelectors: r.selectors('spec.nodeSelectors'),
    ...(password ? { password } : {}),
    enableGracefulRestart: r.boolean('spec.enableGracefulRestart', false),
    ebgpMultiHop,
    ...(bfdProfile ? { bfdProfile } : {}),
    ...(vrf ? { vrf } : {}),
    ...(r.boolean('spec.disableMP', false) && iface === undefined ? { disableMP: true } : {}),
    ...(readAddPath(r) ? { addPath: true } : {}),
  };
}

/**
 * MetalLB's `parseTimers`: only holdTime → keepalive = hold/3; only keepaliveTime → hold = 3 × keepalive; the hold time
 * truncated to whole seconds must be 0 or at least 3 s (so 2.5s is refused, as 2 s); keepalive must not exceed hold.
 * The session uses whole seconds, truncated (as MetalLB's native speaker does); default 90 s / 30 s.
 */
function readTimers(r: FieldReader, w: FieldReader): { holdTime: number; keepaliveTime: number } {
  const holdMs = readDuration(r, 'spec.holdTime');
  const keepaliveMs = readDuration(r, 'spec.keepaliveTime');
  if (holdMs === undefined && keepaliveMs === undefined) return { holdTime: 90, keepaliveTime: 30 };
  const hold = holdMs ?? (keepaliveMs as number) * 3;
  const keepalive = keepaliveMs ?? hold / 3;
  const holdSeconds = Math.trunc(hold / 1000);
  const shown = holdMs === undefined ? `${hold / 1000}s (3 × keepaliveTime)` : JSON.stringify(r.get('spec.holdTime'));
  const field = holdMs === undefined ? 'spec.keepaliveTime' : 'spec.holdTime';
  if (holdSeconds !== 0 && holdSeconds < 3) r.fail(field, `invalid hold time ${shown}: must be 0 or >=3s`);
  else if (holdSeconds === 0 && hold > 0)
    w.fail(field, `hold time ${shown} is 0 in whole seconds: hold timer and keepalives are off, as in MetalLB`);
  if (keepalive > hold)
    r.fail(
      'spec.keepaliveTime',
      `invalid keepaliveTime ${JSON.stringify(r.get('spec.keepaliveTime'))}: must be lower than holdTime ${shown}`,
    );
  return { holdTime: holdSeconds, keepaliveTime: Math.trunc(keepalive / 1000) };
}

/** BGPPeer fields only MetalLB's FRR modes implement, with what to use instead (none left: all are honoured). */
const UNSUPPORTED_PEER_FIELDS: ReadonlyArray<readonly [string, string]> = [];

function readDuration(r: FieldReader, path: string): number | undefined {
  const v = r.get(path);
  if (v === undefined || v === null) return undefined;
  const ms = typeof v === 'string' || typeof v === 'number' ? parseDurationMs(v) : undefined;
  if (ms === undefined)
    r.fail(
      path,
      `invalid duration ${typeof v === 'string' ? JSON.stringify(v) : describe(v)}: expected e.g. 90s or 1m30s`,
    );
  return ms;
}

function readCommunities(r: FieldReader): CommunityAlias[] {
  return r.objectList('spec.communities', (path, item) => {
    const sub = new FieldReader(item, r.resource, []);
    const name = sub.string('name');
    const value = sub.string('value');
    if (!name) return failAt(r, `${path}.name`, 'is required');
    const problem = value ? communityProblem(value) : 'invalid community value "": expected A:B or large:X:Y:Z';
    if (problem || !value) return failAt(r, `${path}.value`, problem ?? 'is required');
    return { name, value };
  });
}

function readService(r: FieldReader, name: string): ServiceResource {
  const namespace = r.string('metadata.namespace') ?? 'default';
  const clusterIPs = r.stringList('spec.clusterIPs');
  const single = r.string('spec.clusterIP');
  if (clusterIPs.length === 0 && single && single !== 'None') clusterIPs.push(single);
  clusterIPs.forEach((ip, i) => {
    if (isIP(ip) === 0) r.fail(`spec.clusterIPs[${i}]`, `invalid IP address ${JSON.stringify(ip)}`);
  });
  const policy = r.string('spec.ipFamilyPolicy') ?? 'SingleStack';
  if (!['SingleStack', 'PreferDualStack', 'RequireDualStack'].includes(policy))
    r.fail(
      'spec.ipFamilyPolicy',
      `must be SingleStack, PreferDualStack or RequireDualStack, got ${JSON.stringify(policy)}`,
    );
  const families = r.stringList('spec.ipFamilies');
  families.forEach((f, i) => {
    if (f !== 'IPv4' && f !== 'IPv6') r.fail(`spec.ipFamilies[${i}]`, `must be IPv4 or IPv6, got ${JSON.stringify(f)}`);
  });
  const etp = r.string('spec.externalTrafficPolicy') ?? 'Cluster';
  if (etp !== 'Cluster' && etp !== 'Local')
    r.fail('spec.externalTrafficPolicy', `must be Cluster or Local, got ${JSON.stringify(etp)}`);
  const loadBalancerIP = r.string('spec.loadBalancerIP');
  return {
    key: `${namespace}/${name}`,
    namespace,
    name,
    labels: r.stringMap('metadata.labels'),
    annotations: r.stringMap('metadata.annotations'),
    type: r.string('spec.type') ?? 'ClusterIP',
    clusterIPs,
    ipFamilyPolicy: policy as ServiceResource['ipFamilyPolicy'],
    ipFamilies: families.filter((f): f is 'IPv4' | 'IPv6' => f === 'IPv4' || f === 'IPv6'),
    ...(loadBalancerIP ? { loadBalancerIP } : {}),
    ports: r.objectList('spec.ports', (path, item) => {
      const sub = new FieldReader(item, r.resource, []);
      const port = sub.integer('port', { min: 1, max: 65535 });
      if (port === undefined) return failAt(r, `${path}.port`, 'is required and must be 1..65535');
      return { protocol: sub.string('protocol') ?? 'TCP', port };
    }),
    selector: r.stringMap('spec.selector'),
    externalTrafficPolicy: etp === 'Local' ? 'Local' : 'Cluster',
    ...(r.get('status.endpointNodes') !== undefined
      ? { endpointNodes: r.stringList('status.endpointNodes', true) }
      : {}),
    ...(r.get('status.endpointCounts') !== undefined ? { endpointCounts: readEndpointCounts(r) } : {}),
  };
}

/** Pool addresses, overlaps within and across pools, selectors: the allocator's validation, with MetalLB's texts. */
function checkPools(config: IngotConfig, issues: ConfigIssue[]): void {
  try {
    parsePools(config.pools);
  } catch (err) {
    if (!(err instanceof PoolValidationError)) throw err;
    issues.push({ resource: `IPAddressPool/${err.pool}`, field: err.field, reason: err.message });
  }
}

/**
 * Cross-resource references. An advertisement naming a pool or BGPPeer that does not exist is accepted with a warning,
 * as MetalLB skips the name (the advertisement then applies to the other names, or to nothing: never to every pool);
 * a community that is neither a value nor an existing alias is an issue.
 */
function checkReferences(config: IngotConfig, issues: ConfigIssue[], warnings: ConfigIssue[]): void {
  const pools = new Set(config.pools.map((p) => p.name));
  const peers = new Set(config.bgpPeers.map((p) => p.name));
  const aliases = new Set(config.communities.map((c) => c.name));
  const check = (kind: string, adv: AdvertisementCommon) => {
    adv.ipAddressPools.forEach((p, i) => {
      if (!pools.has(p))
        warnings.push({
          resource: `${kind}/${adv.name}`,
          field: `spec.ipAddressPools[${i}]`,
          reason: `unknown pool ${JSON.stringify(p)}: skipped, as MetalLB does`,
        });
    });
  };
  for (const adv of config.l2Advertisements) check('L2Advertisement', adv);
  for (const adv of config.bgpAdvertisements) {
    check('BGPAdvertisement', adv);
    adv.peers.forEach((p, i) => {
      if (!peers.has(p))
        warnings.push({
          resource: `BGPAdvertisement/${adv.name}`,
          field: `spec.peers[${i}]`,
          reason: `unknown BGPPeer ${JSON.stringify(p)}: skipped, as MetalLB does`,
        });
    });
    adv.communities.forEach((c, i) => {
      if (!c.includes(':') && !aliases.has(c))
        issues.push({
          resource: `BGPAdvertisement/${adv.name}`,
          field: `spec.communities[${i}]`,
          reason: `unknown community alias ${JSON.stringify(c)}`,
        });
    });
  }
}

/**
 * Why `value` is not a community MetalLB accepts (`community.New`): `A:B` with 16-bit halves, or `large:X:Y:Z` with
 * 32-bit parts; undefined when it is one.
 */
function communityProblem(value: string): string | undefined {
  const legacy = LEGACY_COMMUNITY.exec(value);
  if (legacy)
    return Number(legacy[1]) > 65535 || Number(legacy[2]) > 65535
      ? `invalid community ${JSON.stringify(value)}: each half must be at most 65535`
      : undefined;
  const large = LARGE_COMMUNITY.exec(value);
  if (large)
    return large.slice(1).some((x) => Number(x) > UINT32_MAX)
      ? `invalid large community ${JSON.stringify(value)}: each part must fit 32 bits`
      : undefined;
  return `invalid community ${JSON.stringify(value)}: expected A:B or large:X:Y:Z`;
}

function failAt(r: FieldReader, field: string, reason: string): undefined {
  r.fail(field, reason);
  return undefined;
}
