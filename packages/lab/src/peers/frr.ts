import { chownSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execCommand, runCommand, tail } from '../command.js';
import type { LabHost } from '../host.js';
import type { LabProcess } from '../lab-process.js';
import {
  canonicalAddress,
  canonicalPrefix,
  communityString,
  familyOf,
  keepaliveFor,
  networkPrefix,
  normalizeOrigin,
  parseCommunity,
  parseLargeCommunity,
  pickNextHop,
  sortRoutes,
} from './normalize.js';
import { firstExited, neighborFamilies, type PeerDriver, searchableByOthers } from './peer-base.js';
import type { PeerOptions, PeerRoute, PeerSession } from './types.js';

/** Where Debian's FRR daemons live. */
export const FRR_DAEMON_DIR = '/usr/lib/frr';

/**
 * bgpd.conf for a lab peer: accepts every route (IN permit-all), exports only its own (OUT matches an empty AS
 * path, so it never echoes learned routes), `no bgp ebgp-requires-policy`, `no bgp network import-check`,
 * `timers connect 1` per neighbor.
 */
export function frrBgpdConfig(opts: PeerOptions, dir: string, hostname: string): string {
  const rid = opts.routerId ?? opts.host.ipv4;
  const L: string[] = [`hostname ${hostname}`, `log file ${join(dir, 'bgpd.log')} informational`, '!'];
  L.push('bgp as-path access-list LOCAL seq 5 permit ^$', '!');
  L.push('route-map OUT permit 10', ' match as-path LOCAL', 'exit', 'route-map IN permit 10', 'exit', '!');
  const announce = opts.announce ?? [];
  announce.forEach((a, i) => {
    const sets: string[] = [];
    if (a.communities?.length)
      sets.push(` set community ${a.communities.map((c) => parseCommunity(c).join(':')).join(' ')}`);
    if (a.largeCommunities?.length) {
      sets.push(` set large-community ${a.largeCommunities.map((c) => parseLargeCommunity(c).join(':')).join(' ')}`);
    }
    if (a.med !== undefined) sets.push(` set metric ${a.med}`);
    if (a.localPref !== undefined) sets.push(` set local-preference ${a.localPref}`);
    if (a.nextHop) {
      sets.push(
        familyOf(a.nextHop) === 'ipv4' ? ` set ip next-hop ${a.nextHop}` : ` set ipv6 next-hop global ${a.nextHop}`,
      );
    }
    L.push(`route-map ANN${i} permit 10`, ...sets, 'exit');
  });
  L.push('!', `router bgp ${opts.asn}`, ` bgp router-id ${rid}`, ' bgp log-neighbor-changes');
  L.push(' no bgp ebgp-requires-policy', ' no bgp network import-check', ' no bgp default ipv4-unicast');
  for (const n of opts.neighbors) {
    const x = ` neighbor ${n.address}`;
    L.push(`${x} remote-as ${n.asn}`, `${x} timers connect 1`);
    if (n.passive) L.push(`${x} passive`);
    if (n.password) L.push(`${x} password ${n.password}`);
    if (n.holdTime !== undefined) L.push(`${x} timers ${keepaliveFor(n.holdTime)} ${n.holdTime}`);
    if (n.multihop !== undefined) L.push(`${x} ebgp-multihop ${n.multihop}`);
    if (n.ttlSecurity) L.push(`${x} ttl-security hops 1`);
    if (n.gracefulRestart) L.push(`${x} graceful-restart`);
    if (n.bfd) L.push(`${x} bfd`, `${x} bfd profile ${frrBfdProfileName(opts.neighbors.indexOf(n))}`);
  }
  if (opts.acceptAny) {
    const h = opts.host;
    L.push(' neighbor ANY peer-group', ' neighbor ANY remote-as external', ' neighbor ANY timers connect 1');
    L.push(` bgp listen range ${networkPrefix(h.ipv4, h.ipv4PrefixLength)} peer-group ANY`);
    L.push(` bgp listen range ${networkPrefix(h.ipv6, h.ipv6PrefixLength)} peer-group ANY`);
  }
  for (const af of ['ipv4', 'ipv6'] as const) {
    L.push(` address-family ${af} unicast`);
    announce.forEach((a, i) => {
      if (familyOf(a.prefix) === af) L.push(`  network ${a.prefix} route-map ANN${i}`);
    });
    const members = opts.neighbors.filter((n) => neighborFamilies(n).includes(af)).map((n) => n.address);
    if (opts.acceptAny) members.push('ANY');
    for (const m of members) {
      L.push(`  neighbor ${m} activate`, `  neighbor ${m} route-map IN in`, `  neighbor ${m} route-map OUT out`);
      const n = opts.neighbors.find((x) => x.address === m);
      if (n?.addPath) L.push(`  neighbor ${m} addpath-tx-all-paths`);
    }
    L.push(' exit-address-family');
  }
  L.push('exit', '!');
  if (opts.extraConfig) L.push(opts.extraConfig);
  return `${L.join('\n')}\n`;
}

/** The bfdd profile name of the i-th neighbor. */
export function frrBfdProfileName(i: number): string {
  return `lab${i}`;
}

/** bfdd.conf: a profile per neighbor with `bfd` (bgpd's `neighbor … bfd profile` creates the session). */
export function frrBfddConfig(opts: PeerOptions, dir: string, hostname: string): string {
  const L: string[] = [`hostname ${hostname}`, `log file ${join(dir, 'bfdd.log')} informational`, '!', 'bfd'];
  opts.neighbors.forEach((n, i) => {
    if (!n.bfd) return;
    L.push(` profile ${frrBfdProfileName(i)}`);
    L.push(`  detect-multiplier ${n.bfd.detectMultiplier ?? 3}`);
    L.push(
      `  receive-interval ${n.bfd.receiveInterval ?? 300}`,
      `  transmit-interval ${n.bfd.transmitInterval ?? 300}`,
    );
    if (n.bfd.passive) L.push('  passive-mode');
    if (n.bfd.echoInterval !== undefined) {
      L.push(
        '  echo-mode',
        `  echo transmit-interval ${n.bfd.echoInterval}`,
        `  echo receive-interval ${n.bfd.echoInterval}`,
      );
    }
    L.push(' exit');
  });
  L.push('exit', '!');
  return `${L.join('\n')}\n`;
}

/** Sessions from `show bgp neighbors json`. */
export function parseFrrNeighbors(json: string): Record<string, PeerSession> {
  const doc = JSON.parse(json) as Record<string, { bgpState?: string; bgpTimerUpMsec?: number }>;
  const out: Record<string, PeerSession> = {};
  for (const [addr, n] of Object.entries(doc)) {
    if (typeof n !== 'object' || n === null || n.bgpState === undefined) continue;
    const s: PeerSession = { state: n.bgpState };
    if (n.bgpState === 'Established' && typeof n.bgpTimerUpMsec === 'number') s.uptimeMs = n.bgpTimerUpMsec;
    out[canonicalAddress(addr)] = s;
  }
  return out;
}

interface FrrPath {
  peer?: { peerId?: string };
  nexthops?: { ip?: string; scope?: string }[];
  aspath?: { segments?: { type?: string; list?: number[] }[] };
  community?: { list?: string[]; string?: string };
  largeCommunity?: { list?: string[]; string?: string };
  locPrf?: number;
  localpref?: number;
  metric?: number;
  med?: number;
  origin?: string;
  sourced?: boolean;
  local?: boolean;
}

/** Received routes from `show bgp ipv4|ipv6 unicast json detail` (own routes are left out). */
export function parseFrrRoutes(json: string): PeerRoute[] {
  const doc = JSON.parse(json) as {
    routes?: Record<string, (FrrPath & { prefix?: string })[] | { paths?: FrrPath[] }>;
  };
  const out: PeerRoute[] = [];
  for (const [prefix, entry] of Object.entries(doc.routes ?? {})) {
    const paths: FrrPath[] = Array.isArray(entry) ? entry : (entry.paths ?? []);
    for (const p of paths) {
      const peer = p.peer?.peerId;
      if (!peer || peer === '(unspec)' || p.sourced || p.local) continue;
      const r: PeerRoute = {
        prefix: canonicalPrefix(prefix),
        nextHop: pickNextHop((p.nexthops ?? []).map((h) => h.ip)),
        asPath: (p.aspath?.segments ?? []).flatMap((s) => s.list ?? []),
        communities: (p.community?.list ?? []).map(communityString),
        largeCommunities: p.largeCommunity?.list ?? p.largeCommunity?.string?.split(' ').filter(Boolean) ?? [],
        peer: canonicalAddress(peer),
      };
      const lp = p.locPrf ?? p.localpref;
      if (lp !== undefined) r.localPref = lp;
      const med = p.metric ?? p.med;
      if (med !== undefined) r.med = med;
      const origin = normalizeOrigin(p.origin);
      if (origin) r.origin = origin;
      out.push(r);
    }
  }
  return sortRoutes(out);
}

/**
 * Errors in `bgpd -C` (dry run) output. FRR exits 0 even for unknown commands, so the output is scanned. A warning
 * for a per-neighbor `graceful-restart` line ("reset this peer to take effect") is expected at startup and ignored.
 */
export function frrConfigProblems(output: string): string[] {
  return output
    .split('\n')
    .filter((l) =>
      /(Config Failed|No such command|Ambiguous command|Incomplete command|Unknown command) on config line|% (Unknown|Ambiguous|Incomplete) command/.test(
        l,
      ),
    )
    .filter((l) => !/Config Failed on config line \d+:\s+neighbor \S+ graceful-restart\s*$/.test(l));
}

/** Start zebra + bgpd as user frr in the host's namespace, with private vty and zserv sockets in `dir`. */
export async function startFrr(opts: PeerOptions, dir: string, host: LabHost): Promise<PeerDriver> {
  const conf = join(dir, 'bgpd.conf');
  const hostname = host.ns.replace(/[^A-Za-z0-9-]/g, '');
  writeFileSync(conf, frrBgpdConfig(opts, dir, hostname));
  writeFileSync(join(dir, 'zebra.conf'), `hostname ${hostname}\nlog file ${join(dir, 'zebra.log')} informational\n`);
  const bfd = opts.neighbors.some((n) => n.bfd);
  if (bfd) writeFileSync(join(dir, 'bfdd.conf'), frrBfddConfig(opts, dir, hostname));
  const uid = Number((await runCommand('id', ['-u', 'frr'])).trim());
  const gid = Number((await runCommand('id', ['-g', 'frr'])).trim());
  for (const f of ['', 'bgpd.conf', 'zebra.conf', ...(bfd ? ['bfdd.conf'] : [])]) chownSync(join(dir, f), uid, gid);
  if (!searchableByOthers(dir)) {
    throw new Error(`lab: user frr cannot reach ${dir}: every parent directory must be searchable (mode 755)`);
  }
  const common = ['-z', join(dir, 'zserv.api'), '--vty_socket', dir, '-u', 'frr', '-g', 'frr', '-P', '0'];
  const zebra = host.spawn(join(FRR_DAEMON_DIR, 'zebra'), [
    '-f',
    join(dir, 'zebra.conf'),
    '-i',
    join(dir, 'zebra.pid'),
    ...common,
  ]);
  // The dry run (FRR exits 0 even for unknown commands, so its output is scanned) overlaps zebra's startup.
  const dry = await execCommand(
    join(FRR_DAEMON_DIR, 'bgpd'),
    ['-C', '-f', conf, '-i', join(dir, 'dry.pid'), ...common],
    {
      timeoutMs: 20_000,
    },
  );
  const problems = frrConfigProblems(`${dry.stdout}\n${dry.stderr}`);
  if (dry.code !== 0 || problems.length > 0) {
    await zebra.stop();
    throw new Error(`lab: bgpd rejected its config (bgpd -C):\n${problems.join('\n') || dry.stderr || dry.stdout}`);
  }
  const procs: LabProcess[] = [zebra];
  // BFD commands ('show bfd …') go to bfdd, everything else to bgpd.
  const vtysh = (cmd: string) =>
    execCommand('vtysh', ['--vty_socket', dir, '-d', /^\s*(show\s+)?bfd\b/.test(cmd) ? 'bfdd' : 'bgpd', '-c', cmd], {
      timeoutMs: 20_000,
    });
  const logs = async () => {
    const parts: string[] = [];
    for (const f of ['bgpd.log', 'zebra.log', 'bfdd.log']) {
      const p = join(dir, f);
      if (existsSync(p)) parts.push(`[${f}]\n${tail(readFileSync(p, 'utf8'), 3000)}`);
    }
    for (const p of procs) if (p.stderr()) parts.push(`[${p.description} stderr]\n${tail(p.stderr(), 2000)}`);
    return parts.join('\n');
  };
  const driver: PeerDriver = {
    async sessions() {
      const r = await vtysh('show bgp neighbors json');
      if (r.code !== 0) throw new Error(`vtysh: ${r.stderr || r.stdout}`);
      return parseFrrNeighbors(r.stdout);
    },
    async routes() {
      const out: PeerRoute[] = [];
      for (const af of ['ipv4', 'ipv6']) {
        const r = await vtysh(`show bgp ${af} unicast json detail`);
        if (r.code !== 0) throw new Error(`vtysh: ${r.stderr || r.stdout}`);
        out.push(...parseFrrRoutes(r.stdout));
      }
      return sortRoutes(out);
    },
    async command(cli) {
      const r = await vtysh(cli);
      if (r.code !== 0) throw new Error(`lab: vtysh -c '${cli}' failed (${r.code}): ${r.stderr || r.stdout}`);
      return r.stdout;
    },
    logs,
    exited: () => firstExited(procs),
    async stop() {
      await Promise.all(procs.slice(1).map((p) => p.stop()));
      await zebra.stop();
    },
  };
  // zebra first, so bgpd finds the zserv socket (it retries anyway).
  try {
    await waitForFile(join(dir, 'zserv.api'), 10_000, zebra);
  } catch (e) {
    await zebra.stop();
    throw e;
  }
  if (bfd) {
    // bfdd before bgpd, with its control socket in `dir` (the default path is shared by every namespace).
    const bfdArgs = ['-f', join(dir, 'bfdd.conf'), '-i', join(dir, 'bfdd.pid'), '--bfdctl', join(dir, 'bfdd.sock')];
    procs.push(host.spawn(join(FRR_DAEMON_DIR, 'bfdd'), [...bfdArgs, ...common]));
  }
  procs.push(host.spawn(join(FRR_DAEMON_DIR, 'bgpd'), ['-f', conf, '-i', join(dir, 'bgpd.pid'), ...common]));
  return driver;
}

async function waitForFile(path: string, timeoutMs: number, proc: LabProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (proc.exitCode() !== undefined) {
      throw new Error(
        `lab: ${proc.description} exited (${proc.exitCode()}):\n${tail(proc.stderr() + proc.stdout(), 3000)}`,
      );
    }
    if (Date.now() > deadline) throw new Error(`lab: ${path} did not appear within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
