import { isIP } from 'node:net';
import { gossipSecretProblem } from '../membership-secret.js';
import { statusAddressProblem } from '../standalone/status-address.js';
import type { FieldReader } from './field-reader.js';

/** API version of Ingot's own configuration kinds (Node, IPRange). */
export const INGOT_API_VERSION = 'ingot.dev/v1alpha1';

/** Default address of the status/metrics HTTP server (MetalLB's metrics port). */
export const DEFAULT_STATUS_ADDRESS = '127.0.0.1:7472';

/**
 * A `kind: Node` document (`ingot.dev/v1alpha1`): how the standalone daemon runs on one machine. A fleet file may hold
 * one per machine; each daemon uses the document named after its node.
 */
export interface NodeConfig {
  /** metadata.name: the node (memberlist member) name. */
  name: string;
  /** metadata.labels: matched by nodeSelectors, preferredNodeSelectors and the exclusion label. */
  labels: Record<string, string>;
  /** spec.announce: `live` answers ARP/NDP and runs BGP sessions; `dry-run` only logs. Absent = CLI default. */
  announce?: 'live' | 'dry-run';
  /** spec.interfaces: layer-2 interfaces; empty = every interface except MetalLB's excluded names. */
  interfaces: string[];
  /** spec.memberlist: SWIM gossip; absent = single node. */
  memberlist?: {
    /** `host:port` to bind (UDP and TCP). */
    bindAddress: string;
    /** Seeds, `host:port` each. */
    join: string[];
    /** MetalLB memberlist secret, inline (at least 16 bytes). */
    secret?: string;
    /** File holding the secret. */
    secretFile?: string;
    /** Run gossip unencrypted: required when neither secret nor secretFile is set (logged as a warning at start). */
    insecurePlaintext?: boolean;
    /** Address gossiped to the other members, `host` or `host:port` (needed with a wildcard bindAddress). */
    advertiseAddress?: string;
    /** The gossip wire: `memberlist` (default; one cluster with MetalLB's speakers) or `ingot` (Ingot's own). */
    wire?: 'ingot' | 'memberlist';
  };
  /** spec.bgp: node-wide BGP settings. */
  bgp: {
    /** BGP identifier for BGPPeers without `routerID`. */
    routerID?: string;
    /** Local address for sessions whose BGPPeer has no `sourceAddress`. */
    sourceAddress?: string;
  };
  /**
   * spec.statusAddress: HTTP `/metrics`, `/healthz`, `/readyz`, `/status`, `/assignments`. Default: the memberlist host
   * on port 7472 when gossip is configured (peers fetch assignments there), else {@link DEFAULT_STATUS_ADDRESS}.
   */
  statusAddress?: string;
  /**
   * spec.localStatusAddress: a second listener, normally loopback (`127.0.0.1:7473`), for `/metrics`, `/healthz`,
   * `/readyz` and `/status`; the status address then serves only `/assignments` to the other members.
   */
  localStatusAddress?: string;
  /** spec.stateDirectory: where assignments persist across restarts; absent = memory only. */
  stateDirectory?: string;
  /**
   * spec.dataPath: `local` routes owned service IPs to `lo`; `interface` puts the IPs owned over layer 2 on their
   * announcing interface (the kernel answers ARP/NDP), the rest on `lo`; `none` leaves delivery to kube-proxy. Absent
   * = mode default.
   */
  dataPath?: 'local' | 'interface' | 'none';
  /**
   * spec.failover: `gossip` moves a killed owner's layer-2 IPs when SWIM declares it dead; `fast` adds the per-pair
   * heartbeat (UDP, memberlist port + 1) so the successor takes them over in about 0.12 s. Absent = `gossip`. See
   * docs/operations.md, "Failover profiles and data paths".
   */
  failover?: 'gossip' | 'fast';
}

const HOST_PORT = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/;

/** Is `text` a `host:port` (or `[v6]:port`) with an IP host and a port 1..65535? */
export function isHostPort(text: string): boolean {
  const m = HOST_PORT.exec(text);
  const port = Number(m?.[3]);
  return !!m && isIP(m[1] ?? m[2] ?? '') !== 0 && port >= 1 && port <= 65535;
}

/** Reads a `kind: Node` document; problems go to the reader's issue list. */
export function readNodeConfig(r: FieldReader, name: string): NodeConfig {
  const announce = r.string('spec.announce');
  if (announce !== undefined && announce !== 'live' && announce !== 'dry-run')
    r.fail('spec.announce', `must be live or dry-run, got ${JSON.stringify(announce)}`);
  const dataPath = r.string('spec.dataPath');
  if (dataPath !== undefined && dataPath !== 'local' && dataPath !== 'interface' && dataPath !== 'none')
    r.fail('spec.dataPath', `must be local, interface or none, got ${JSON.stringify(dataPath)}`);
  const failover = r.string('spec.failover');
  if (failover !== undefined && failover !== 'gossip' && failover !== 'fast')
    r.fail('spec.failover', `must be gossip or fast, got ${JSON.stringify(failover)}`);
  const address = (path: string, required: boolean): string | undefined => {
    const v = r.string(path, required);
    if (v !== undefined && !isHostPort(v)) r.fail(path, `must be host:port with an IP host, got ${JSON.stringify(v)}`);
    return v;
  };
  const ip = (path: string, family?: 4): string | undefined => {
    const v = r.string(path);
    if (v !== undefined && (family ? isIP(v) !== family : isIP(v) === 0))
      r.fail(path, `must be an ${family ? 'IPv4' : 'IP'} address, got ${JSON.stringify(v)}`);
    return v;
  };
  const node: NodeConfig = {
    name,
    labels: r.stringMap('metadata.labels'),
    interfaces: r.stringList('spec.interfaces', true),
    bgp: {},
  };
  const statusAddress = address('spec.statusAddress', false);
  if (statusAddress) node.statusAddress = statusAddress;
  const localStatusAddress = address('spec.localStatusAddress', false);
  if (localStatusAddress) node.localStatusAddress = localStatusAddress;
  if (announce === 'live' || announce === 'dry-run') node.announce = announce;
  if (dataPath === 'local' || dataPath === 'interface' || dataPath === 'none') node.dataPath = dataPath;
  if (failover === 'gossip' || failover === 'fast') node.failover = failover;
  const routerID = ip('spec.bgp.routerID', 4);
  const sourceAddress = ip('spec.bgp.sourceAddress');
  if (routerID) node.bgp.routerID = routerID;
  if (sourceAddress) node.bgp.sourceAddress = sourceAddress;
  const stateDirectory = r.string('spec.stateDirectory');
  if (stateDirectory !== undefined) {
    if (!stateDirectory.startsWith('/')) r.fail('spec.stateDirectory', 'must be an absolute path');
    node.stateDirectory = stateDirectory;
  }
  if (r.get('spec.memberlist') !== undefined) {
    const bindAddress = address('spec.memberlist.bindAddress', true);
    const join = r.stringList('spec.memberlist.join', true);
    join.forEach((seed, i) => {
      if (!isHostPort(seed))
        r.fail(`spec.memberlist.join[${i}]`, `must be host:port with an IP host, got ${JSON.stringify(seed)}`);
    });
    const secret = r.string('spec.memberlist.secret');
    const secretFile = r.string('spec.memberlist.secretFile');
    if (secret !== undefined && secretFile !== undefined)
      r.fail('spec.memberlist', 'set secret or secretFile, not both');
    const insecurePlaintext = r.boolean('spec.memberlist.insecurePlaintext', false);
    if (secret !== undefined) {
      const problem = gossipSecretProblem(secret);
      if (problem) r.fail('spec.memberlist.secret', problem);
    }
    if (secret === undefined && secretFile === undefined && !insecurePlaintext)
      r.fail(
        'spec.memberlist',
        'set secret or secretFile (MetalLB memberlist secret, at least 16 bytes), or insecurePlaintext: true to run gossip unencrypted',
      );
    const wire = r.string('spec.memberlist.wire');
    if (wire !== undefined && wire !== 'ingot' && wire !== 'memberlist')
      r.fail('spec.memberlist.wire', `must be ingot or memberlist, got ${JSON.stringify(wire)}`);
    const advertiseAddress = r.string('spec.memberlist.advertiseAddress');
    const advertiseHost =
      advertiseAddress === undefined || isIP(advertiseAddress) !== 0
        ? advertiseAddress
        : isHostPort(advertiseAddress)
          ? (HOST_PORT.exec(advertiseAddress)?.[1] ?? HOST_PORT.exec(advertiseAddress)?.[2])
          : undefined;
    if (advertiseAddress !== undefined && (advertiseHost === undefined || /^(0\.0\.0\.0|::)$/.test(advertiseHost)))
      r.fail(
        'spec.memberlist.advertiseAddress',
        `must be this node's IP or IP:port, not a wildcard, got ${JSON.stringify(advertiseAddress)}`,
      );
    const statusProblem =
      statusAddress && bindAddress && isHostPort(statusAddress) && isHostPort(bindAddress)
        ? statusAddressProblem(statusAddress, advertiseHost ?? bindAddress)
        : undefined;
    if (statusProblem) r.fail('spec.statusAddress', statusProblem);
    if (bindAddress)
      node.memberlist = {
        bindAddress,
        join,
        ...(secret !== undefined ? { secret } : {}),
        ...(secretFile !== undefined ? { secretFile } : {}),
        ...(insecurePlaintext ? { insecurePlaintext } : {}),
        ...(advertiseAddress !== undefined ? { advertiseAddress } : {}),
        ...(wire === 'ingot' || wire === 'memberlist' ? { wire } : {}),
      };
  }
  return node;
}

/**
 * Picks a Node document: the one named `nodeName`; with no name, the only document if there is exactly one. Returns
 * undefined when none applies (the daemon then runs on command-line settings alone). The daemon tries its explicit
 * name (`--node`, $NODE_NAME), else the host name, else the only document.
 */
export function selectNode(nodes: readonly NodeConfig[], nodeName: string | undefined): NodeConfig | undefined {
  if (nodeName !== undefined) return nodes.find((n) => n.name === nodeName);
  return nodes.length === 1 ? nodes[0] : undefined;
}
