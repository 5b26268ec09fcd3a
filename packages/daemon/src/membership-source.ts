import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import {
  type Address,
  DEFAULT_WIRE,
  Keyring,
  Membership,
  metallbSecretKey,
  RateLimitedLog,
  type TransportRejection,
  UdpTransport,
  type WireFormat,
} from '@ingot/election';
import { parseHostPort } from './host-port.js';
import type { Logger } from './logger.js';
import { gossipSecretProblem } from './membership-secret.js';
import type { MetricSample } from './metrics.js';
import type { NodeInfo } from './speaker/announcement-plan.js';

/** Options of {@link startMembership}. */
export interface MembershipSourceOptions {
  /** This node's name. */
  name: string;
  /** This node's labels, gossiped to the others. */
  labels: Record<string, string>;
  /** UDP+TCP address to bind, `host:port` (`[v6]:port` for IPv6). */
  bind: string;
  /** Seeds to join, `host:port` each. */
  join: string[];
  /**
   * MetalLB's memberlist secret (the key is derived as MetalLB does): at least `MIN_SECRET_BYTES` (16) bytes. Set, even
   * empty, means encryption is wanted: an empty or short secret is an error, never plaintext.
   */
  secret?: string;
  /** Without a secret, gossip runs in plaintext only with this explicit opt-in (a warning is logged at start). */
  insecurePlaintext?: boolean;
  /**
   * Address announced to the other members, `host` or `host:port` (port defaults to the bind port). Needed when `bind`
   * is a wildcard (0.0.0.0, ::) and the host has more than one candidate address.
   */
  advertise?: string;
  /**
   * The gossip wire (default `memberlist`, @ingot/election's `DEFAULT_WIRE`): hashicorp/memberlist's, so this node and
   * MetalLB's speakers form one cluster; `ingot` is Ingot's own (replay window; every member Ingot). See
   * @ingot/election's README, "Choosing a wire".
   */
  wire?: WireFormat;
  /** Logger. */
  log: Logger;
  /** Called whenever the set of live members or their labels change. */
  onChange: () => void;
}

/** A running gossip membership, seen as the speaker's list of live nodes. */
export interface MembershipSource {
  /** Live (alive or suspect) members with their labels. */
  members(): NodeInfo[];
  /** Every known member with its state and address, for `ingot status`. */
  view(): MemberView[];
  /** Replaces this node's gossiped labels (node labels plus Ingot's own `ingot.dev/*` ones). */
  setLabels(labels: Record<string, string>): void;
  /** Joins more seeds (`host:port` each), e.g. found later through the API; resolves with how many answered. */
  join(seeds: string[]): Promise<number>;
  /** Leaves gracefully and closes the sockets. */
  close(): Promise<void>;
  /** `ingot_gossip_rejected_total{reason}`: packets, messages and connections refused, by reason. */
  metrics(): MetricSample[];
  /** The gossip address the other members reach this node at (`host:port`). */
  readonly advertised: string;
  /** The wire it speaks (the option, else the default). */
  readonly wire: WireFormat;
}

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::';

/**
 * The address to gossip for a bind address: the bind address itself; for a wildcard, `advertise` (host or host:port),
 * else this host's only non-loopback address of the bind's family (IPv6: global scope only).
 * @throws Error naming the flag and option to set when a wildcard leaves the choice open
 */
export function advertiseAddress(
  bind: Address,
  advertise: string | undefined,
  interfaces: ReturnType<typeof networkInterfaces> = networkInterfaces(),
): Address {
  if (advertise !== undefined) {
    const a = isIP(advertise) !== 0 ? { host: advertise, port: bind.port } : parseHostPort(advertise);
    if (isWildcard(a.host))
      throw new Error(`memberlist advertise address ${advertise} must be this node's address on the cluster network`);
    return a;
  }
  if (!isWildcard(bind.host)) return bind;
  const v6 = bind.host === '::';
  const candidates = Object.values(interfaces)
    .flatMap((list) => list ?? [])
    .filter(
      (a) =>
        !a.internal && (v6 ? a.family === 'IPv6' && !a.address.toLowerCase().startsWith('fe80') : a.family === 'IPv4'),
    )
    .map((a) => a.address);
  const unique = [...new Set(candidates)];
  if (unique.length === 1) return { host: unique[0] as string, port: bind.port };
  throw new Error(
    `--memberlist-bind ${bind.host}:${bind.port} is a wildcard: the other members need this node's own address. ` +
      `Set --memberlist-advertise (Node spec.memberlist.advertiseAddress) to it` +
      (unique.length > 0 ? ` (candidates: ${unique.join(', ')})` : ' (no non-loopback address found)'),
  );
}

const formatAddress = (a: Address) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);

/** One member as `ingot status` shows it. */
export interface MemberView {
  /** Member (node) name. */
  name: string;
  /** `alive`, `suspect`, `dead` or `left`. */
  state: string;
  /** Gossip address `host:port`. */
  address: string;
}

/** Starts SWIM membership with `@ingot/election`, joins the seeds, and reports changes. */
export async function startMembership(options: MembershipSourceOptions): Promise<MembershipSource> {
  const bind = parseHostPort(options.bind);
  const advertised = advertiseAddress(bind, options.advertise);
  if (options.secret !== undefined) {
    const problem = gossipSecretProblem(options.secret);
    if (problem) throw new Error(`memberlist: ${problem}`);
  } else if (!options.insecurePlaintext) {
    throw new Error(
      'memberlist: no secret: set spec.memberlist.secret or secretFile (--memberlist-secret-file), or opt in to unencrypted gossip with spec.memberlist.insecurePlaintext: true (--memberlist-insecure-plaintext)',
    );
  }
  const transportRejections: Record<TransportRejection, number> = {
    oversize: 0,
    'connection-limit': 0,
    'source-limit': 0,
    deadline: 0,
    malformed: 0,
  };
  const warnings = new RateLimitedLog();
  const transport = await UdpTransport.bind({
    ...bind,
    onReject: (reason, from) => {
      transportRejections[reason]++;
      const suppressed = warnings.admit(reason, Date.now());
      if (suppressed !== undefined)
        options.log.warn(`gossip TCP connection refused: ${reason}`, { reason, from: formatAddress(from), suppressed });
    },
  });
  const wire = options.wire ?? DEFAULT_WIRE;
  const membership = new Membership({
    name: options.name,
    transport,
    advertise: advertised,
    labels: options.labels,
    wire,
    ...(options.secret !== undefined ? { keyring: new Keyring([metallbSecretKey(options.secret)]) } : {}),
    log: (e) => (e.level === 'warn' ? options.log.warn(e.msg, e) : options.log.debug(e.msg, e)),
  });
  if (options.secret === undefined)
    options.log.warn(
      'memberlist: gossip is NOT encrypted (insecurePlaintext): any host that reaches the gossip port can join the cluster and serve assignments',
      { bind: options.bind },
    );
  for (const event of ['join', 'leave', 'dead', 'alive', 'update'] as const) {
    membership.on(event, (m) => {
      options.log.info(`member ${event}`, { member: m.name, address: `${m.address.host}:${m.address.port}` });
      options.onChange();
    });
  }
  membership.start();
  if (options.join.length > 0) {
    const joined = await membership.join(options.join.map(parseHostPort)).catch((err: Error) => {
      options.log.warn('join failed; continuing alone until a seed answers', { error: err.message });
      return 0;
    });
    options.log.info('joined cluster', { contacted: joined, members: membership.usableMembers() });
  }
  return {
    members: () =>
      membership
        .members()
        .filter((m) => m.status === 'alive' || m.status === 'suspect')
        .map((m) => ({ name: m.name, labels: { ...m.labels }, address: m.address.host })),
    view: () =>
      membership.members().map((m) => ({
        name: m.name,
        state: m.status,
        address: m.address.host.includes(':')
          ? `[${m.address.host}]:${m.address.port}`
          : `${m.address.host}:${m.address.port}`,
      })),
    setLabels: (labels) => membership.setLabels(labels),
    join: (seeds) => membership.join(seeds.map(parseHostPort)),
    close: () => membership.stop(),
    metrics: () =>
      Object.entries({ ...membership.rejections(), ...transportRejections }).map(([reason, value]) => ({
        name: 'ingot_gossip_rejected_total',
        labels: { reason },
        value,
      })),
    advertised: formatAddress(advertised),
    wire,
  };
}
