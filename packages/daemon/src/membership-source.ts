import { isIP } from 'node:net';
import { type Address, Keyring, Membership, metallbSecretKey, UdpTransport } from '@ingot/election';
import type { Logger } from './logger.js';
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
  /** MetalLB's memberlist secret; the key is derived as MetalLB does. Without it gossip is plaintext. */
  secret?: string;
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
  /** Leaves gracefully and closes the sockets. */
  close(): Promise<void>;
}

/** One member as `ingot status` shows it. */
export interface MemberView {
  /** Member (node) name. */
  name: string;
  /** `alive`, `suspect`, `dead` or `left`. */
  state: string;
  /** Gossip address `host:port`. */
  address: string;
}

/** Parses `host:port` or `[v6]:port`. */
export function parseHostPort(text: string): Address {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:]+):(\d+)$/.exec(text);
  if (!m || isIP(m[1] as string) === 0 || Number(m[2]) > 65535)
    throw new Error(`invalid address ${JSON.stringify(text)}: expected host:port`);
  return { host: m[1] as string, port: Number(m[2]) };
}

/** Starts SWIM membership with `@ingot/election`, joins the seeds, and reports changes. */
export async function startMembership(options: MembershipSourceOptions): Promise<MembershipSource> {
  const bind = parseHostPort(options.bind);
  const transport = await UdpTransport.bind(bind);
  const membership = new Membership({
    name: options.name,
    transport,
    labels: options.labels,
    ...(options.secret ? { keyring: new Keyring([metallbSecretKey(options.secret)]) } : {}),
    log: (e) => (e.level === 'warn' ? options.log.warn(e.msg, e) : options.log.debug(e.msg, e)),
  });
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
        .map((m) => ({ name: m.name, labels: { ...m.labels } })),
    view: () =>
      membership.members().map((m) => ({
        name: m.name,
        state: m.status,
        address: m.address.host.includes(':')
          ? `[${m.address.host}]:${m.address.port}`
          : `${m.address.host}:${m.address.port}`,
      })),
    setLabels: (labels) => membership.setLabels(labels),
    close: () => membership.stop(),
  };
}
