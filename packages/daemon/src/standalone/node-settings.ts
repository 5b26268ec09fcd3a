import { readFileSync } from 'node:fs';
import { hostname, networkInterfaces } from 'node:os';
import { DEFAULT_STATUS_ADDRESS, type NodeConfig, selectNode } from '../config/node-config.js';
import type { IngotConfig } from '../config/resources.js';
import { parseHostPort } from '../host-port.js';
import type { Logger } from '../logger.js';
import { advertiseAddress } from '../membership-source.js';

/** Command-line settings of `ingot run`; each one given here wins over the Node document's. */
export interface StandaloneOptions {
  /** Configuration file; absent = the embedded default. */
  configFile?: string;
  /** This node's name (`--node`, else $NODE_NAME); absent = the only Node document, else the host name. */
  nodeName?: string;
  /** `--announce`. */
  announce?: 'live' | 'dry-run';
  /** `--interface` (repeatable). */
  interfaces?: string[];
  /** `--router-id`. */
  routerId?: string;
  /** `--node-label` (merged over the Node document's labels). */
  labels?: Record<string, string>;
  /** `--memberlist-*`. */
  memberlist?: {
    bindAddress: string;
    join: string[];
    secretFile?: string;
    insecurePlaintext?: boolean;
    advertiseAddress?: string;
    /** `--memberlist-wire` (else the Node document's `spec.memberlist.wire`). */
    wire?: 'ingot' | 'memberlist';
  };
  /** `--metrics-bind` / `--status-address`. */
  statusAddress?: string;
  /** `--local-status-address`: a separate (loopback) listener for /metrics /healthz /readyz /status. */
  localStatusAddress?: string;
  /** `--state-dir`. */
  stateDirectory?: string;
  /** `--data-path`. */
  dataPath?: 'local' | 'interface' | 'none';
  /** `--realtime-priority`: SCHED_FIFO priority of the main thread when announcing live. */
  realtimePriority?: number;
  /** `--failover` (else the Node document's `spec.failover`, else `gossip`). */
  failover?: 'gossip' | 'fast';
  /** Logger. */
  log: Logger;
  /** Software version shown in status. */
  version: string;
}

/** Resolves what to run from the command line and the Node document. */
export function resolveNodeSettings(opts: StandaloneOptions, config: IngotConfig) {
  const explicitName = opts.nodeName ?? (process.env.NODE_NAME || undefined);
  // A fleet file holds one Node document per machine: the explicit name, else the host name, else the only document.
  const node: NodeConfig | undefined =
    explicitName !== undefined
      ? selectNode(config.nodes, explicitName)
      : (selectNode(config.nodes, hostname()) ?? selectNode(config.nodes, undefined));
  const name = explicitName ?? node?.name ?? hostname();
  const announce = opts.announce ?? node?.announce ?? 'dry-run';
  // Command-line memberlist flags replace the document's settings; the wire falls back to the document's.
  const nodeWire = node?.memberlist?.wire;
  const memberlist =
    opts.memberlist && nodeWire && !opts.memberlist.wire
      ? { ...opts.memberlist, wire: nodeWire }
      : (opts.memberlist ?? node?.memberlist);
  const memberHost = memberlist ? parseHostPort(memberlist.bindAddress).host : undefined;
  const statusAddress =
    opts.statusAddress ??
    node?.statusAddress ??
    (memberHost ? (memberHost.includes(':') ? `[${memberHost}]:7472` : `${memberHost}:7472`) : DEFAULT_STATUS_ADDRESS);
  const sourceAddress = node?.bgp.sourceAddress;
  const routerId =
    opts.routerId ??
    node?.bgp.routerID ??
    [sourceAddress, memberHost].find((a) => a && !a.includes(':')) ??
    firstIPv4() ??
    '192.0.2.1';
  return {
    node,
    name,
    labels: { ...(node?.labels ?? {}), ...(opts.labels ?? {}) },
    announce,
    interfaces: opts.interfaces && opts.interfaces.length > 0 ? opts.interfaces : (node?.interfaces ?? []),
    memberlist,
    statusAddress,
    statusExplicit: opts.statusAddress !== undefined || node?.statusAddress !== undefined,
    localStatusAddress: opts.localStatusAddress ?? node?.localStatusAddress,
    stateDirectory: opts.stateDirectory ?? node?.stateDirectory,
    dataPath: opts.dataPath ?? node?.dataPath ?? (announce === 'live' ? 'local' : 'none'),
    failover: opts.failover ?? node?.failover ?? 'gossip',
    routerId,
    sourceAddress,
  };
}

function firstIPv4(): string | undefined {
  for (const list of Object.values(networkInterfaces()))
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return undefined;
}

/** What {@link resolveNodeSettings} decided. */
export type NodeSettings = ReturnType<typeof resolveNodeSettings>;

/**
 * Where the other members reach this node's gossip (`host:port`): the advertised address a wildcard bind resolves to,
 * else the bind address (an unresolvable wildcard fails later, in `startMembership`, with the fix to apply).
 */
export function memberlistAddress(ml: { bindAddress: string; advertiseAddress?: string }): string {
  try {
    const a = advertiseAddress(parseHostPort(ml.bindAddress), ml.advertiseAddress);
    return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
  } catch {
    return ml.bindAddress;
  }
}

/** The memberlist secret, inline or from its file (trimmed); undefined when none is set. */
export function readSecret(ml: { secret?: string; secretFile?: string } | undefined): string | undefined {
  if (!ml) return undefined;
  return ml.secret ?? (ml.secretFile ? readFileSync(ml.secretFile, 'utf8').trim() : undefined);
}
