import { closeSync, constants, existsSync, openSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pollUntil, tail } from '../command.js';
import type { LabHost } from '../host.js';
import {
  canonicalAddress,
  canonicalPrefix,
  communityString,
  familyOf,
  normalizeOrigin,
  parseCommunity,
  parseLargeCommunity,
  pickNextHop,
  sortRoutes,
} from './normalize.js';
import { firstExited, neighborFamilies, ownAddress, type PeerDriver } from './peer-base.js';
import type { AnnounceOptions, PeerOptions, PeerRoute, PeerSession } from './types.js';

/** The API process shipped with this package (Debian python3, stdlib only). */
export const EXABGP_SINK = fileURLToPath(new URL('./exabgp-sink.py', import.meta.url));

/** Debian's interpreter (the `python3` on PATH may be a pyenv shim without ExaBGP's modules). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** ExaBGP `route` line attributes for an announcement. */
export function exabgpRouteAttributes(a: AnnounceOptions): string {
  let s = ` next-hop ${a.nextHop ?? 'self'}`;
  if (a.communities?.length) s += ` community [${a.communities.map((c) => parseCommunity(c).join(':')).join(' ')}]`;
  if (a.largeCommunities?.length) {
    s += ` large-community [${a.largeCommunities.map((c) => parseLargeCommunity(c).join(':')).join(' ')}]`;
  }
  if (a.localPref !== undefined) s += ` local-preference ${a.localPref}`;
  if (a.med !== undefined) s += ` med ${a.med}`;
  return s;
}

/** exabgp.conf for a lab peer: the JSON sink process plus one neighbor block per neighbor with static routes. */
export function exabgpConfig(opts: PeerOptions, dir: string, sink = EXABGP_SINK): string {
  const rid = opts.routerId ?? opts.host.ipv4;
  const L: string[] = ['process lab {', `  run ${SYSTEM_PYTHON} ${sink} ${dir};`, '  encoder json;', '}'];
  for (const n of opts.neighbors) {
    const tf = familyOf(n.address);
    const fams = neighborFamilies(n);
    L.push(`neighbor ${n.address} {`, `  router-id ${rid};`, `  local-address ${ownAddress(opts.host, tf)};`);
    L.push(`  local-as ${opts.asn};`, `  peer-as ${n.asn};`);
    L.push(`  family { ${fams.map((f) => `${f} unicast;`).join(' ')} }`);
    L.push('  api { processes [ lab ]; receive { parsed; update; } neighbor-changes; }');
    if (n.passive) L.push('  passive true;');
    if (n.password) L.push(`  md5-password "${n.password.replace(/"/g, '\\"')}";`);
    if (n.holdTime !== undefined) L.push(`  hold-time ${n.holdTime};`);
    if (n.multihop !== undefined) L.push(`  outgoing-ttl ${n.multihop};`);
    if (n.ttlSecurity) L.push('  incoming-ttl 255;');
    const caps: string[] = [];
    if (n.gracefulRestart) caps.push('graceful-restart 120;');
    if (n.addPath) caps.push('add-path send/receive;');
    if (caps.length) L.push(`  capability { ${caps.join(' ')} }`);
    const mine = (opts.announce ?? []).filter((a) => fams.includes(familyOf(a.prefix)));
    if (mine.length) {
      L.push('  static {', ...mine.map((a) => `    route ${a.prefix}${exabgpRouteAttributes(a)};`), '  }');
    }
    L.push('}');
  }
  if (opts.extraConfig) L.push(opts.extraConfig);
  return `${L.join('\n')}\n`;
}

interface SinkState {
  sessions?: Record<string, string>;
  rib?: Record<string, Record<string, { family?: string; 'next-hop'?: string; attribute?: Record<string, unknown> }>>;
  acks?: string[];
}

/** Sessions from the sink's state.json, for the configured neighbors (Idle until ExaBGP reports them). */
export function parseExabgpSessions(state: SinkState, neighbors: string[]): Record<string, PeerSession> {
  const out: Record<string, PeerSession> = {};
  for (const n of neighbors) out[canonicalAddress(n)] = { state: 'Idle' };
  for (const [peer, st] of Object.entries(state.sessions ?? {})) {
    out[canonicalAddress(peer)] = {
      state: st === 'Established' ? 'Established' : st === 'connected' ? 'OpenSent' : 'Idle',
    };
  }
  return out;
}

/** Received routes from the sink's state.json. */
export function parseExabgpRib(state: SinkState): PeerRoute[] {
  const out: PeerRoute[] = [];
  for (const [peer, table] of Object.entries(state.rib ?? {})) {
    for (const [prefix, e] of Object.entries(table)) {
      const at = (e.attribute ?? {}) as {
        'as-path'?: (number | number[])[];
        'as-set'?: number[];
        community?: [number, number][];
        'large-community'?: [number, number, number][];
        'local-preference'?: number;
        med?: number;
        origin?: string;
      };
      const r: PeerRoute = {
        prefix: canonicalPrefix(prefix),
        nextHop: pickNextHop((e['next-hop'] ?? '').split(/[\s,]+/)),
        asPath: [...(at['as-path'] ?? []).flat(), ...(at['as-set'] ?? [])],
        communities: (at.community ?? []).map(communityString),
        largeCommunities: (at['large-community'] ?? []).map((c) => c.join(':')),
        peer: canonicalAddress(peer),
      };
      if (at['local-preference'] !== undefined) r.localPref = at['local-preference'];
      if (at.med !== undefined) r.med = at.med;
      const o = normalizeOrigin(at.origin);
      if (o) r.origin = o;
      out.push(r);
    }
  }
  return sortRoutes(out);
}

/** Environment for ExaBGP: run as root, log to `dir`, no CLI pipes, bind only when some neighbor is passive. */
export function exabgpEnvironment(opts: PeerOptions, dir: string): Record<string, string> {
  const passive = opts.neighbors.some((n) => n.passive);
  const binds = [
    ...new Set(opts.neighbors.filter((n) => n.passive).map((n) => ownAddress(opts.host, familyOf(n.address)))),
  ];
  return {
    'exabgp.daemon.user': 'root',
    'exabgp.daemon.daemonize': 'false',
    'exabgp.daemon.pid': join(dir, 'exabgp.pid'),
    'exabgp.log.destination': join(dir, 'exabgp.log'),
    'exabgp.log.level': 'INFO',
    'exabgp.api.cli': 'false',
    'exabgp.api.ack': 'true',
    'exabgp.tcp.bind': passive ? binds.join(' ') : '',
    'exabgp.tcp.port': '179',
  };
}

/** Start ExaBGP (foreground, root) with the lab sink as its API process. */
export async function startExabgp(opts: PeerOptions, dir: string, host: LabHost): Promise<PeerDriver> {
  const conf = join(dir, 'exabgp.conf');
  writeFileSync(conf, exabgpConfig(opts, dir));
  const proc = host.spawn(SYSTEM_PYTHON, ['/usr/sbin/exabgp', conf], { env: exabgpEnvironment(opts, dir) });
  const statePath = join(dir, 'state.json');
  const readState = (): SinkState => (existsSync(statePath) ? JSON.parse(readFileSync(statePath, 'utf8')) : {});
  const neighbors = opts.neighbors.map((n) => n.address);
  let queue: Promise<unknown> = Promise.resolve();
  return {
    async sessions() {
      if (!existsSync(statePath)) {
        if (proc.exitCode() !== undefined) throw new Error(`exabgp exited (${proc.exitCode()})`);
        throw new Error('exabgp API process not running yet');
      }
      return parseExabgpSessions(readState(), neighbors);
    },
    async routes() {
      return parseExabgpRib(readState());
    },
    command(cli) {
      // One command at a time: answers are matched to commands by their order.
      const run = queue.then(async () => {
        const before = readState().acks?.length ?? 0;
        const fd = openSync(join(dir, 'commands'), constants.O_WRONLY | constants.O_NONBLOCK);
        try {
          writeSync(fd, `${cli.replace(/\n/g, ' ')}\n`);
        } finally {
          closeSync(fd);
        }
        return pollUntil(
          async () => readState().acks?.[before],
          10_000,
          () => `ExaBGP's answer to '${cli}'`,
          50,
        );
      });
      queue = run.catch(() => undefined);
      return run;
    },
    async logs() {
      const p = join(dir, 'exabgp.log');
      const log = existsSync(p) ? tail(readFileSync(p, 'utf8'), 3000) : '(no exabgp.log)';
      return `${log}\n[stdout+stderr]\n${tail(proc.stdout() + proc.stderr(), 2000)}`;
    },
    exited: () => firstExited([proc]),
    async stop() {
      await proc.stop();
    },
  };
}
