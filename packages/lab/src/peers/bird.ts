import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execCommand, tail } from '../command.js';
import type { LabHost } from '../host.js';
import {
  canonicalAddress,
  canonicalPrefix,
  familyOf,
  keepaliveFor,
  normalizeOrigin,
  parseCommunity,
  parseLargeCommunity,
  pickNextHop,
  sortRoutes,
} from './normalize.js';
import { firstExited, neighborFamilies, type PeerDriver } from './peer-base.js';
import type { PeerOptions, PeerRoute, PeerSession } from './types.js';

/** BIRD protocol name of the i-th neighbor. */
export function birdProtocolName(i: number): string {
  return `peer_${i}`;
}

/**
 * bird.conf for a lab peer: `protocol device`, one static protocol per family for announced routes, one BGP
 * protocol per neighbor importing everything and exporting only static routes (with their attributes set in the
 * export filter), `error wait time 1, 5` and `connect delay time 1` so fault tests recover in about a second.
 */
export function birdConfig(opts: PeerOptions, dir: string): string {
  const rid = opts.routerId ?? opts.host.ipv4;
  const L: string[] = [`log "${join(dir, 'bird.log')}" all;`, `router id ${rid};`, 'protocol device { }'];
  const announce = opts.announce ?? [];
  for (const af of ['ipv4', 'ipv6'] as const) {
    const mine = announce.filter((a) => familyOf(a.prefix) === af);
    if (mine.length === 0) continue;
    L.push(`protocol static own_${af} {`, `  ${af};`, ...mine.map((a) => `  route ${a.prefix} blackhole;`), '}');
  }
  const ex: string[] = ['  if source != RTS_STATIC then reject;'];
  for (const a of announce) {
    const sets: string[] = [];
    for (const c of a.communities ?? []) sets.push(`bgp_community.add((${parseCommunity(c).join(',')}));`);
    for (const c of a.largeCommunities ?? [])
      sets.push(`bgp_large_community.add((${parseLargeCommunity(c).join(',')}));`);
    if (a.med !== undefined) sets.push(`bgp_med = ${a.med};`);
    if (a.localPref !== undefined) sets.push(`bgp_local_pref = ${a.localPref};`);
    if (a.nextHop) sets.push(`bgp_next_hop = ${a.nextHop};`);
    if (sets.length > 0) ex.push(`  if net = ${a.prefix} then { ${sets.join(' ')} }`);
  }
  L.push('filter own_out {', ...ex, '  accept;', '}');
  const bfd = opts.neighbors.find((n) => n.bfd)?.bfd;
  if (bfd) {
    const t = `min rx interval ${bfd.receiveInterval ?? 300} ms; min tx interval ${bfd.transmitInterval ?? 300} ms;`;
    L.push(
      `protocol bfd { interface "*" { ${t} multiplier ${bfd.detectMultiplier ?? 3}; passive ${bfd.passive ? 'on' : 'off'}; }; }`,
    );
  }
  opts.neighbors.forEach((n, i) => {
    L.push(`protocol bgp ${birdProtocolName(i)} {`);
    const local = familyOf(n.address) === 'ipv4' ? opts.host.ipv4 : opts.host.ipv6;
    L.push(`  local ${local} as ${opts.asn};`, `  neighbor ${n.address} as ${n.asn};`);
    L.push(n.passive ? '  passive on;' : '  passive off;', '  connect delay time 1;', '  connect retry time 1;');
    L.push('  error wait time 1, 5;');
    if (n.multihop !== undefined) L.push(`  multihop ${n.multihop};`);
    else L.push('  direct;');
    if (n.ttlSecurity) L.push('  ttl security on;');
    if (n.password) L.push(`  password "${n.password.replace(/"/g, '\\"')}";`);
    if (n.holdTime !== undefined) L.push(`  hold time ${n.holdTime};`, `  keepalive time ${keepaliveFor(n.holdTime)};`);
    if (n.gracefulRestart) L.push('  graceful restart on;');
    if (n.bfd) L.push('  bfd on;');
    for (const af of neighborFamilies(n)) {
      const extra = n.addPath ? ' add paths on;' : '';
      const nh =
        af !== familyOf(n.address) ? ` next hop address ${af === 'ipv4' ? opts.host.ipv4 : opts.host.ipv6};` : '';
      L.push(`  ${af} { import all; export filter own_out;${extra}${nh} };`);
    }
    L.push('}');
  });
  if (opts.extraConfig) L.push(opts.extraConfig);
  return `${L.join('\n')}\n`;
}

const BGP_STATES = ['Established', 'OpenConfirm', 'OpenSent', 'Active', 'Connect', 'Idle'];

/** Session states per protocol name from `birdc show protocols`. */
export function parseBirdProtocols(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4 || f[1] !== 'BGP' || !f[0]) continue;
    const info = f.slice(4);
    const state = BGP_STATES.find((s) => info.includes(s)) ?? (info.includes('Passive') ? 'Active' : undefined);
    out[f[0]] = state ?? (f[3] === 'down' ? 'Idle' : (f[3] ?? 'Idle'));
  }
  return out;
}

/**
 * Received routes from `birdc show route all` (BIRD has no JSON). Only routes from the given BGP protocols are
 * kept (`protocols` maps protocol name to neighbor address); BIRD's own default LOCAL_PREF on eBGP is reported as
 * BIRD shows it.
 */
export function parseBirdRoutes(text: string, protocols: Record<string, string>): PeerRoute[] {
  const out: PeerRoute[] = [];
  let prefix: string | undefined;
  let cur: PeerRoute | undefined;
  const hops: string[] = [];
  const finish = () => {
    if (cur) cur.nextHop = pickNextHop(hops);
    hops.length = 0;
  };
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    // Route header: "198.51.100.1/32      unicast [peer_0 05:24:01.123] * (100) [AS64513i]"; continuation lines
    // for more paths of the same prefix start with whitespace and omit the prefix.
    const head = /^(\S+)?\s+\S+\s+\[(\S+)\s[^\]]*\]/.exec(line);
    if (head && !line.startsWith('\t') && !/^\s+\w[\w.]*: /.test(line)) {
      finish();
      if (head[1]?.includes('/')) prefix = head[1];
      const peer = head[2] ? protocols[head[2]] : undefined;
      cur = undefined;
      if (peer && prefix) {
        cur = { prefix: canonicalPrefix(prefix), nextHop: '', asPath: [], communities: [], largeCommunities: [], peer };
        out.push(cur);
      }
      continue;
    }
    if (!cur) continue;
    const kv = /^\s+([\w.]+):\s?(.*)$/.exec(line);
    if (!kv) continue;
    const [, key, value = ''] = kv;
    switch (key) {
      case 'BGP.next_hop':
        hops.push(...value.trim().split(/\s+/));
        break;
      case 'BGP.as_path':
        cur.asPath = (value.match(/\d+/g) ?? []).map(Number);
        break;
      case 'BGP.community':
        cur.communities = [...value.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
        break;
      case 'BGP.large_community':
        cur.largeCommunities = [...value.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map(
          (m) => `${m[1]}:${m[2]}:${m[3]}`,
        );
        break;
      case 'BGP.local_pref':
        cur.localPref = Number(value);
        break;
      case 'BGP.med':
        cur.med = Number(value);
        break;
      case 'BGP.origin': {
        const o = normalizeOrigin(value.trim());
        if (o) cur.origin = o;
        break;
      }
    }
  }
  finish();
  return sortRoutes(out);
}

/** Start `bird -f` (foreground, root) in the host's namespace with its control socket in `dir`. */
export async function startBird(opts: PeerOptions, dir: string, host: LabHost): Promise<PeerDriver> {
  const conf = join(dir, 'bird.conf');
  writeFileSync(conf, birdConfig(opts, dir));
  const ctl = join(dir, 'bird.ctl');
  const check = await execCommand('bird', ['-p', '-c', conf]);
  if (check.code !== 0) throw new Error(`lab: bird rejected its config: ${check.stderr || check.stdout}`);
  const proc = host.spawn('bird', ['-f', '-c', conf, '-s', ctl, '-P', join(dir, 'bird.pid')]);
  const protocols: Record<string, string> = {};
  opts.neighbors.forEach((n, i) => {
    protocols[birdProtocolName(i)] = canonicalAddress(n.address);
  });
  const birdc = async (...args: string[]) => {
    const r = await execCommand('birdc', ['-s', ctl, ...args], { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`lab: birdc ${args.join(' ')} failed (${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout;
  };
  return {
    async sessions() {
      const st = parseBirdProtocols(await birdc('show', 'protocols'));
      const out: Record<string, PeerSession> = {};
      for (const [name, addr] of Object.entries(protocols)) out[addr] = { state: st[name] ?? 'Idle' };
      return out;
    },
    async routes() {
      return parseBirdRoutes(await birdc('show', 'route', 'all'), protocols);
    },
    command: (cli) => birdc(...cli.split(/\s+/).filter(Boolean)),
    async logs() {
      const p = join(dir, 'bird.log');
      const log = existsSync(p) ? tail(readFileSync(p, 'utf8'), 3000) : '(no bird.log)';
      return `${log}\n${proc.stderr() ? `[stderr]\n${tail(proc.stderr(), 2000)}` : ''}`;
    },
    exited: () => firstExited([proc]),
    async stop() {
      await proc.stop();
    },
  };
}
