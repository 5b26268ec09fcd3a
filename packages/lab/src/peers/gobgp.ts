import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execCommand, tail } from '../command.js';
import type { LabHost } from '../host.js';
import {
  canonicalAddress,
  canonicalPrefix,
  communityString,
  familyOf,
  keepaliveFor,
  normalizeOrigin,
  parseCommunity,
  parseLargeCommunity,
  pickNextHop,
  sortRoutes,
} from './normalize.js';
import { firstExited, neighborFamilies, ownAddress, type PeerDriver } from './peer-base.js';
import type { AnnounceOptions, PeerOptions, PeerRoute, PeerSession } from './types.js';

let nextPort = 0;

/** A gRPC API port for gobgpd, unique within this process (each namespace has its own loopback). */
export function gobgpApiPort(): number {
  nextPort += 1;
  return 50051 + (nextPort % 10000);
}

const q = (s: string) => JSON.stringify(s);

/**
 * gobgpd.toml for a lab peer: accept every route, export only locally added ones (`route-type = "local"`; an
 * as-path "^$" condition matches nothing in GoBGP 3.10). Announced routes are added after start with the CLI.
 */
export function gobgpConfig(opts: PeerOptions): string {
  const rid = opts.routerId ?? opts.host.ipv4;
  const L: string[] = ['[global.config]', `  as = ${opts.asn}`, `  router-id = ${q(rid)}`, ''];
  L.push('[[policy-definitions]]', '  name = "local-only"', '  [[policy-definitions.statements]]');
  L.push('    [policy-definitions.statements.conditions.bgp-conditions]', '      route-type = "local"');
  L.push('    [policy-definitions.statements.actions]', '      route-disposition = "accept-route"', '');
  L.push('[global.apply-policy.config]', '  export-policy-list = ["local-only"]');
  L.push('  default-export-policy = "reject-route"', '  default-import-policy = "accept-route"', '');
  for (const n of opts.neighbors) {
    L.push('[[neighbors]]', '  [neighbors.config]', `    neighbor-address = ${q(n.address)}`, `    peer-as = ${n.asn}`);
    if (n.password) L.push(`    auth-password = ${q(n.password)}`);
    L.push('  [neighbors.transport.config]', `    local-address = ${q(ownAddress(opts.host, familyOf(n.address)))}`);
    if (n.passive) L.push('    passive-mode = true');
    L.push('  [neighbors.timers.config]', '    connect-retry = 1');
    if (n.holdTime !== undefined) {
      L.push(`    hold-time = ${n.holdTime}`, `    keepalive-interval = ${keepaliveFor(n.holdTime)}`);
    }
    if (n.multihop !== undefined) {
      L.push('  [neighbors.ebgp-multihop.config]', '    enabled = true', `    multihop-ttl = ${n.multihop}`);
    }
    if (n.ttlSecurity) L.push('  [neighbors.ttl-security.config]', '    enabled = true', '    ttl-min = 255');
    if (n.gracefulRestart) {
      L.push('  [neighbors.graceful-restart.config]', '    enabled = true', '    restart-time = 120');
    }
    if (n.addPath) L.push('  [neighbors.add-paths.config]', '    receive = true', '    send-max = 8');
    for (const af of neighborFamilies(n)) {
      L.push('  [[neighbors.afi-safis]]', '    [neighbors.afi-safis.config]', `      afi-safi-name = "${af}-unicast"`);
      if (n.gracefulRestart) L.push('    [neighbors.afi-safis.mp-graceful-restart.config]', '      enabled = true');
      if (n.addPath) L.push('    [neighbors.afi-safis.add-paths.config]', '      receive = true', '      send-max = 8');
    }
    L.push('');
  }
  if (opts.extraConfig) L.push(opts.extraConfig);
  return `${L.join('\n')}\n`;
}

/** `gobgp global rib add` arguments announcing one route. */
export function gobgpAnnounceArgs(a: AnnounceOptions, defaultNextHop: string): string[] {
  const af = familyOf(a.prefix);
  const args = ['global', 'rib', 'add', '-a', af, a.prefix, 'nexthop', a.nextHop ?? defaultNextHop];
  if (a.communities?.length) args.push('community', a.communities.map((c) => parseCommunity(c).join(':')).join(','));
  if (a.largeCommunities?.length) {
    args.push('large-community', a.largeCommunities.map((c) => parseLargeCommunity(c).join(':')).join(','));
  }
  if (a.med !== undefined) args.push('med', String(a.med));
  if (a.localPref !== undefined) args.push('local-pref', String(a.localPref));
  return args;
}

const GOBGP_STATES: Record<string, string> = {
  '0': 'Unknown',
  '1': 'Idle',
  '2': 'Connect',
  '3': 'Active',
  '4': 'OpenSent',
  '5': 'OpenConfirm',
  '6': 'Established',
  unknown: 'Unknown',
  idle: 'Idle',
  connect: 'Connect',
  active: 'Active',
  opensent: 'OpenSent',
  openconfirm: 'OpenConfirm',
  established: 'Established',
};

interface GobgpNeighbor {
  conf?: { neighbor_address?: string };
  state?: { neighbor_address?: string; session_state?: number | string };
  timers?: { state?: { uptime?: { seconds?: number } | number } };
}

/** Sessions from `gobgp neighbor -j`. */
export function parseGobgpNeighbors(json: string, nowMs = Date.now()): Record<string, PeerSession> {
  const list = JSON.parse(json || '[]') as GobgpNeighbor[];
  const out: Record<string, PeerSession> = {};
  for (const n of list ?? []) {
    const addr = n.state?.neighbor_address ?? n.conf?.neighbor_address;
    if (!addr) continue;
    const raw = String(n.state?.session_state ?? 0).toLowerCase();
    const s: PeerSession = { state: GOBGP_STATES[raw] ?? raw };
    const up = n.timers?.state?.uptime;
    const upSeconds = typeof up === 'number' ? up : up?.seconds;
    if (s.state === 'Established' && typeof upSeconds === 'number' && upSeconds > 0) {
      // GoBGP reports the time the session came up (Unix seconds).
      s.uptimeMs = Math.max(0, nowMs - upSeconds * 1000);
    }
    out[canonicalAddress(addr)] = s;
  }
  return out;
}

interface GobgpAttr {
  type: number;
  as_paths?: { asns?: number[] }[];
  nexthop?: string;
  linklocal_nexthop?: string;
  metric?: number;
  communities?: number[];
  value?: number | { ASN?: number; LocalData1?: number; LocalData2?: number }[];
}
interface GobgpPath {
  nlri?: { prefix?: string };
  attrs?: GobgpAttr[];
  'source-id'?: string;
  'neighbor-ip'?: string;
}

/** Received routes from `gobgp global rib -a ipv4|ipv6 -j` (locally added routes are left out). */
export function parseGobgpRib(json: string): PeerRoute[] {
  const doc = JSON.parse(json || '{}') as Record<string, GobgpPath[]>;
  const out: PeerRoute[] = [];
  for (const [prefix, paths] of Object.entries(doc ?? {})) {
    for (const p of paths) {
      const peer = p['neighbor-ip'];
      if (!peer || peer === '<nil>' || peer === '0.0.0.0' || peer === '::') continue;
      const r: PeerRoute = {
        prefix: canonicalPrefix(p.nlri?.prefix ?? prefix),
        nextHop: '',
        asPath: [],
        communities: [],
        largeCommunities: [],
        peer: canonicalAddress(peer),
      };
      const hops: (string | undefined)[] = [];
      for (const at of p.attrs ?? []) {
        switch (at.type) {
          case 1: {
            const o = normalizeOrigin(typeof at.value === 'number' ? at.value : undefined);
            if (o) r.origin = o;
            break;
          }
          case 2:
            r.asPath = (at.as_paths ?? []).flatMap((s) => s.asns ?? []);
            break;
          case 3:
          case 14:
            hops.push(at.nexthop, at.linklocal_nexthop);
            break;
          case 4:
            if (at.metric !== undefined) r.med = at.metric;
            break;
          case 5:
            if (typeof at.value === 'number') r.localPref = at.value;
            break;
          case 8:
            r.communities = (at.communities ?? []).map(communityString);
            break;
          case 32:
            if (Array.isArray(at.value)) {
              r.largeCommunities = at.value.map((v) => `${v.ASN ?? 0}:${v.LocalData1 ?? 0}:${v.LocalData2 ?? 0}`);
            }
            break;
        }
      }
      r.nextHop = pickNextHop(hops);
      out.push(r);
    }
  }
  return sortRoutes(out);
}

/** Start gobgpd (foreground) in the host's namespace with its gRPC API on the namespace's 127.0.0.1:`port`. */
export async function startGobgp(opts: PeerOptions, dir: string, host: LabHost): Promise<PeerDriver> {
  const conf = join(dir, 'gobgpd.toml');
  writeFileSync(conf, gobgpConfig(opts));
  const check = await execCommand('gobgpd', ['-d', '-f', conf, '-t', 'toml'], { timeoutMs: 20_000 });
  if (check.code !== 0)
    throw new Error(`lab: gobgpd rejected its config (gobgpd -d):\n${check.stderr || check.stdout}`);
  const port = gobgpApiPort();
  const proc = host.spawn('gobgpd', [
    '-f',
    conf,
    '-t',
    'toml',
    '-p',
    '--api-hosts',
    `127.0.0.1:${port}`,
    '--pprof-disable',
  ]);
  const gobgp = async (...args: string[]) => {
    const r = await host.exec('gobgp', ['-u', '127.0.0.1', '-p', String(port), ...args], { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(`lab: gobgp ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  const driver: PeerDriver = {
    async sessions() {
      return parseGobgpNeighbors(await gobgp('neighbor', '-j'));
    },
    async ready() {
      for (const a of opts.announce ?? []) await gobgp(...gobgpAnnounceArgs(a, ownAddress(host, familyOf(a.prefix))));
    },
    async routes() {
      const v4 = parseGobgpRib(await gobgp('global', 'rib', '-a', 'ipv4', '-j'));
      const v6 = parseGobgpRib(await gobgp('global', 'rib', '-a', 'ipv6', '-j'));
      return sortRoutes([...v4, ...v6]);
    },
    command: (cli) => gobgp(...cli.split(/\s+/).filter(Boolean)),
    async logs() {
      return tail(proc.stdout() + proc.stderr(), 3000);
    },
    exited: () => firstExited([proc]),
    async stop() {
      await proc.stop();
    },
  };
  return driver;
}
