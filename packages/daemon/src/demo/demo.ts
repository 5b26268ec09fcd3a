import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_SERVICES, fleetConfig, frrConfig, type NodeSpec } from './demo-config.js';
import { mustRun, NetnsCluster, type NetnsProcess, runCommand } from './netns.js';

/** The least of a logger the demo uses (the daemon's logger and pino both fit). */
export interface DemoLog {
  debug(msg: string): void;
  warn(msg: string): void;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** Diagnostics (process output on failure, commands). */
  log: DemoLog;
  /** Narration: one human-readable line per call, without the newline. */
  out: (line: string) => void;
  /** After the narration, keep the cluster running until SIGINT/SIGTERM (to explore it with `ip netns exec`). */
  keep?: boolean;
  /** The `ingot` CLI script to run in each node. @default process.argv[1] (the running `ingot`) */
  cli?: string;
  /** Run an FRR router and BGP to it: true, false, or 'auto' (when /usr/lib/frr/zebra and bgpd exist). @default 'auto' */
  frr?: boolean | 'auto';
  /** Upper bound for each waiting step, in milliseconds. @default 30 000 */
  stepTimeoutMs?: number;
}

const FRR_DIR = '/usr/lib/frr';
const NODES: NodeSpec[] = [1, 2, 3].map((i) => ({ name: `node-${i}`, ip: `192.0.2.${i}` }));
const CLIENT_IP = '192.0.2.100';
const ROUTER_IP = '192.0.2.254';
const STATUS_PORT = 7472;
const POOL = '198.51.100.0/28';

/** Thrown when the demo is interrupted (SIGINT/SIGTERM). */
class Interrupted extends Error {}

/** What one node's daemon reports: per service its IPs and, for layer 2, the owner node. */
interface ServiceView {
  ips: string[];
  owner?: string;
}

/** Missing prerequisites, as readable lines (empty when the demo can run). */
export function demoPrerequisites(): string[] {
  const problems: string[] = [];
  if (process.platform !== 'linux') problems.push('a Linux machine (network namespaces)');
  if (process.getuid?.() !== 0 && !hasNetAdmin()) problems.push('root (or CAP_NET_ADMIN + CAP_NET_RAW): run with sudo');
  if (!onPath('ip')) problems.push('the `ip` command (apt-get install iproute2)');
  return problems;
}

/**
 * `ingot demo`: builds a throw-away cluster of network namespaces on a bridge (three nodes 192.0.2.1-3, a client
 * 192.0.2.100 and, when FRR is installed, a router 192.0.2.254 running zebra + bgpd), runs `ingot run` in each node
 * with one bundled fleet configuration, and narrates: services getting IPs, the client reaching them over HTTP, the
 * router's BGP routes, a SIGKILL of the owner node and the IP moving, the client succeeding again. Everything it
 * started is stopped by PID and every namespace deleted at the end, on error and on SIGINT/SIGTERM.
 * Resolves with the exit code: 0 when every step succeeded, 1 otherwise, 130 when interrupted.
 */
export async function runDemo(options: DemoOptions): Promise<number> {
  const { out, log } = options;
  const problems = demoPrerequisites();
  if (problems.length > 0) {
    out(`ingot demo needs ${problems.join('; ')}.`);
    return 1;
  }
  const cli = options.cli ?? process.argv[1];
  if (!cli || !existsSync(cli)) {
    out(`ingot demo: cannot find the ingot CLI script (${cli ?? 'none'}) to run in the nodes.`);
    return 1;
  }
  const stepMs = options.stepTimeoutMs ?? 30_000;
  const frrWanted = options.frr ?? 'auto';
  const frrPresent = existsSync(join(FRR_DIR, 'zebra')) && existsSync(join(FRR_DIR, 'bgpd')) && onPath('vtysh');
  if (frrWanted === true && !frrPresent) {
    out(`ingot demo: FRR requested but ${FRR_DIR}/zebra, ${FRR_DIR}/bgpd or vtysh is missing (apt-get install frr).`);
    return 1;
  }
  const withFrr = frrWanted === true || (frrWanted === 'auto' && frrPresent);
  const t0 = Date.now();
  const say = (line: string) => out(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${line}`);

  const cluster = new NetnsCluster('ingot-demo');
  const dir = mkdtempSync(join(tmpdir(), 'ingot-demo-'));
  let interrupted = false;
  const wakers = new Set<() => void>();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping`);
    for (const w of [...wakers]) w();
  };
  const onExit = () => {
    cluster.destroySync();
    rmSync(dir, { recursive: true, force: true });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('SIGHUP', onSignal);
  process.on('exit', onExit);
  /** Sleeps `ms`, throwing {@link Interrupted} at once on SIGINT/SIGTERM. */
  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (interrupted) return reject(new Interrupted());
      const wake = () => {
        clearTimeout(timer);
        wakers.delete(wake);
        if (interrupted) reject(new Interrupted());
        else resolve();
      };
      const timer = setTimeout(wake, ms);
      wakers.add(wake);
    });
  /** Polls `probe` every `everyMs` until it returns a value; throws `what` after the step timeout. */
  const until = async <T>(what: string, probe: () => Promise<T | undefined>, everyMs = 200): Promise<T> => {
    const deadline = Date.now() + stepMs;
    for (;;) {
      const v = await probe();
      if (v !== undefined) return v;
      if (Date.now() > deadline) throw new Error(`timed out after ${stepMs / 1000} s waiting for ${what}`);
      await sleep(everyMs);
    }
  };

  const daemons = new Map<string, NetnsProcess>();
  let code = 0;
  try {
    say(`building a throw-away cluster: namespaces ${cluster.stem}-*`);
    const ns = await buildCluster(cluster, withFrr);
    say(
      `bridge ${ns.lan}; nodes ${NODES.map((n) => `${n.name} ${n.ip}`).join(', ')}; client ${CLIENT_IP}` +
        (withFrr ? `; router ${ROUTER_IP} (FRR)` : ' (no FRR installed: layer 2 only)'),
    );

    // Configuration: one fleet file for the three nodes (a Node document each, the shared resources).
    const configFile = join(dir, 'ingot.yaml');
    writeFileSync(
      configFile,
      fleetConfig(NODES, { bgpPeer: withFrr ? ROUTER_IP : undefined, statusPort: STATUS_PORT }),
    );
    const check = await runCommand(process.execPath, [cli, 'validate', configFile]);
    if (check.code !== 0) throw new Error(`the bundled configuration is invalid:\n${check.stdout}${check.stderr}`);
    say(
      `configuration ${configFile}: pool ${POOL}, L2Advertisement${withFrr ? ', BGPPeer + BGPAdvertisement' : ''}, ` +
        `services ${DEMO_SERVICES.join(', ')}`,
    );

    let frr: Frr | undefined;
    if (withFrr) frr = await startFrr(cluster, ns.router!, dir);
    // The client: one Node.js process in the client namespace that makes the HTTP requests (no curl needed).
    const client = new HttpProber(cluster, ns.client);
    for (const node of NODES) {
      const nodeNs = ns.nodes[node.name]!;
      cluster.spawn(nodeNs, `http ${node.name}`, process.execPath, ['-e', httpServerScript(node.name)]);
      const proc = cluster.spawn(nodeNs, node.name, process.execPath, [
        cli,
        'run',
        '--config',
        configFile,
        '--node',
        node.name,
      ]);
      daemons.set(node.name, proc);
      say(`started ingot on ${node.name} (pid ${proc.pid})`);
    }

    const observe = (node: NodeSpec) => observeNode(client, node);
    // 1. Services get IPs, the same on every node, with one layer-2 owner each.
    const views = await until('every service to get an IP on every node', async () => {
      for (const [name, proc] of daemons)
        if (proc.exited()) throw new Error(`ingot on ${name} exited:\n${tail(proc.output())}`);
      const all = await Promise.all(NODES.map(observe));
      const first = all[0];
      if (!first || all.some((v) => !v)) return undefined;
      for (const svc of DEMO_SERVICES) {
        const ips = first.get(svc)?.ips.join(',');
        if (!ips || all.some((v) => v?.get(svc)?.ips.join(',') !== ips)) return undefined;
        if (!ownerOf(all, svc)) return undefined;
      }
      return all;
    });
    for (const svc of DEMO_SERVICES)
      say(`service ${svc} got ${views[0]!.get(svc)!.ips.join(', ')}; layer-2 owner ${ownerOf(views, svc)}`);

    // 2. The client reaches every service IP over HTTP.
    const web = DEMO_SERVICES[0]!;
    const webIp = views[0]!.get(web)!.ips[0]!;
    for (const svc of DEMO_SERVICES) {
      const ip = views[0]!.get(svc)!.ips[0]!;
      const r = await until(`the client to reach ${ip}`, () => client.get(ip, 2));
      say(`client ${CLIENT_IP} -> http://${ip}/ : HTTP ${r.status}, answered by ${r.body}`);
    }

    // 3. The router's view over BGP.
    if (frr) {
      const ips = DEMO_SERVICES.map((s) => `${views[0]!.get(s)!.ips[0]}/32`);
      const routes = await until('FRR to learn every service prefix from the three nodes', async () => {
        const r = await frr!.routes();
        return ips.every((p) => (r.get(p)?.length ?? 0) === NODES.length) ? r : undefined;
      });
      for (const p of ips) say(`router (FRR) learned ${p} via ${routes.get(p)!.join(', ')}`);
    }

    // 4. Kill the owner of the first service; time the IP moving.
    const before = await until('the client to reach the first service', () => client.get(webIp, 2));
    const victim = daemons.get(before.body);
    if (!victim) throw new Error(`unexpected answer ${JSON.stringify(before.body)} from ${webIp}`);
    say(`${before.body} answers ${webIp}: SIGKILL its ingot (pid ${victim.pid})`);
    const killedAt = performance.now();
    cluster.kill(victim, 'SIGKILL');
    const after = await until(
      `another node to answer ${webIp}`,
      async () => {
        const r = await client.get(webIp, 0.5);
        return r && r.body !== before.body ? r : undefined;
      },
      50,
    );
    const moved = performance.now() - killedAt;
    say(
      `${webIp} moved to ${after.body}: the client got HTTP ${after.status} ${(moved / 1000).toFixed(2)} s after the kill`,
    );
    const survivors = NODES.filter((n) => n.name !== before.body);
    for (const svc of DEMO_SERVICES) {
      const ip = views[0]!.get(svc)!.ips[0]!;
      const r = await until(`the client to reach ${ip} again`, () => client.get(ip, 2));
      say(`client ${CLIENT_IP} -> http://${ip}/ : HTTP ${r.status}, answered by ${r.body} (after the kill)`);
    }
    const now = await until('the survivors to agree on new owners', async () => {
      const all = await Promise.all(survivors.map(observe));
      const settled = DEMO_SERVICES.every((s) => {
        const owner = ownerOf(all, s);
        return owner !== undefined && owner !== before.body;
      });
      return all.every((v) => v) && settled ? all : undefined;
    });
    for (const svc of DEMO_SERVICES) say(`service ${svc}: layer-2 owner now ${ownerOf(now, svc)}`);
    if (frr) {
      const routes = await until(
        `FRR to drop the routes via ${before.body}`,
        async () => {
          const r = await frr!.routes();
          const victimIp = NODES.find((n) => n.name === before.body)!.ip;
          return [...r.values()].every((hops) => !hops.includes(victimIp)) && r.size > 0 ? r : undefined;
        },
        500,
      );
      for (const [p, hops] of routes) say(`router (FRR) now has ${p} via ${hops.join(', ')}`);
    }
    say('demo finished: every step succeeded');

    if (options.keep) {
      say(`keeping the cluster; try: ip netns exec ${ns.client} curl http://${webIp}/   (Ctrl-C to clean up)`);
      for (;;) await sleep(3_600_000);
    }
  } catch (e) {
    if (e instanceof Interrupted || interrupted) code = 130;
    else {
      code = 1;
      say(`demo failed: ${e instanceof Error ? e.message : String(e)}`);
      for (const [name, proc] of daemons)
        log.warn(`ingot on ${name} (pid ${proc.pid}) output:\n${tail(proc.output())}`);
    }
  } finally {
    const procs = cluster.running().length;
    const spaces = cluster.namespaces.length;
    const errors = await cluster.destroy();
    rmSync(dir, { recursive: true, force: true });
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('SIGHUP', onSignal);
    process.off('exit', onExit);
    if (errors.length > 0) {
      say(`cleanup problems:\n${errors.join('\n')}`);
      code = code || 1;
    } else say(`cleaned up: stopped ${procs} processes, deleted ${spaces} namespaces`);
  }
  return code;
}

/** Namespaces of the demo cluster. */
interface ClusterNamespaces {
  lan: string;
  client: string;
  router?: string;
  nodes: Record<string, string>;
}

async function buildCluster(cluster: NetnsCluster, withRouter: boolean): Promise<ClusterNamespaces> {
  const lan = await cluster.addNamespace('lan');
  const hosts: { role: string; ip: string }[] = [
    ...NODES.map((n, i) => ({ role: `n${i + 1}`, ip: n.ip })),
    { role: 'client', ip: CLIENT_IP },
    ...(withRouter ? [{ role: 'router', ip: ROUTER_IP }] : []),
  ];
  const names = await Promise.all(hosts.map((h) => cluster.addNamespace(h.role)));
  const batch = ['link add br0 type bridge', 'link set br0 up'];
  hosts.forEach((h, i) => {
    batch.push(`link add p-${h.role} type veth peer name eth0 netns ${names[i]}`);
    batch.push(`link set p-${h.role} master br0`, `link set p-${h.role} up`);
  });
  await cluster.ipBatch(lan, batch);
  await Promise.all(
    hosts.map(async (h, i) => {
      const ns = names[i]!;
      await cluster.ipBatch(ns, [`addr add ${h.ip}/24 dev eth0`, 'link set eth0 up']);
      // Nodes: never answer ARP for an address that is not on the asking interface (the service IPs live on lo).
      if (h.role.startsWith('n'))
        await cluster.sysctl(ns, ['net.ipv4.conf.all.arp_ignore=1', 'net.ipv4.conf.all.arp_announce=2']);
    }),
  );
  // The client reaches the pool on the link (ARP), as a host on the same segment would.
  const client = names[NODES.length]!;
  await cluster.ipBatch(client, [`route add ${POOL} dev eth0`]);
  return {
    lan,
    client,
    ...(withRouter ? { router: names[NODES.length + 1]! } : {}),
    nodes: Object.fromEntries(NODES.map((n, i) => [n.name, names[i]!])),
  };
}

/** A node's view from its `GET /status` (undefined while it does not answer). */
async function observeNode(client: HttpProber, node: NodeSpec): Promise<Map<string, ServiceView> | undefined> {
  const status = await client.get(`${node.ip}:${STATUS_PORT}/status`, 1);
  if (status?.status !== 200) return undefined;
  try {
    return parseStatus(JSON.parse(status.body));
  } catch {
    return undefined;
  }
}

/** Services of a `GET /status` document: IPs and the layer-2 owner of the first IP (`owners`). */
export function parseStatus(doc: unknown): Map<string, ServiceView> {
  const views = new Map<string, ServiceView>();
  const services = (doc as { services?: unknown }).services;
  if (!Array.isArray(services)) return views;
  for (const s of services as { service?: string; ips?: string[]; owners?: Record<string, string> }[]) {
    if (!s.service) continue;
    const v = views.get(s.service) ?? { ips: [] };
    for (const ip of s.ips ?? []) if (!v.ips.includes(ip)) v.ips.push(ip);
    const owner = v.ips[0] ? s.owners?.[v.ips[0]] : undefined;
    if (owner) v.owner = owner;
    views.set(s.service, v);
  }
  return views;
}

/**
 * The layer-2 owner of `service` when the views that name one agree. */
function ownerOf(views: (Map<string, ServiceView> | undefined)[], service: string): string | undefined {
  const owners = new Set(views.map((v) => v?.get(service)?.owner).filter((o): o is string => !!o));
  return owners.size === 1 ? [...owners][0] : undefined;
}

/** The client's request loop: reads `{ id, url, ms }` lines, answers `{ id, status, body }` or `{ id, error }`. */
const PROBER_SCRIPT = `
const http = require('node:http');
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  const q = JSON.parse(line);
  let done = false;
  const reply = (r) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    process.stdout.write(JSON.stringify({ id: q.id, ...r }) + '\\n');
  };
  const req = http.get(q.url, { agent: false }, (res) => {
    let body = '';
    res.setEncoding('utf8');
    res.on('data', (d) => { body += d; });
    res.on('end', () => reply({ status: res.statusCode, body }));
    res.on('error', (e) => reply({ error: e.message }));
  });
  req.on('error', (e) => reply({ error: e.message }));
  const timer = setTimeout(() => { req.destroy(); reply({ error: 'timeout' }); }, q.ms);
});
`;

/** HTTP GETs made from inside a namespace by one long-lived Node.js process. */
class HttpProber {
  private readonly proc: NetnsProcess;
  private readonly pending = new Map<number, (r: { status?: number; body?: string }) => void>();
  private nextId = 1;
  private buffer = '';

  constructor(cluster: NetnsCluster, ns: string) {
    this.proc = cluster.spawn(ns, 'client', process.execPath, ['-e', PROBER_SCRIPT], { stdin: true });
    this.proc.child.stdout?.on('data', (d: Buffer) => {
      this.buffer += d.toString();
      for (let i = this.buffer.indexOf('\n'); i >= 0; i = this.buffer.indexOf('\n')) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 1);
        try {
          const r = JSON.parse(line) as { id: number; status?: number; body?: string };
          this.pending.get(r.id)?.(r);
          this.pending.delete(r.id);
        } catch {
          // not ours
        }
      }
    });
  }

  /** GET http://<target> (`host[:port][/path]`); undefined on error or after `timeoutS` seconds. */
  get(target: string, timeoutS: number): Promise<{ status: number; body: string } | undefined> {
    if (this.proc.exited()) return Promise.reject(new Error(`the client process exited:\n${tail(this.proc.output())}`));
    const id = this.nextId++;
    const ms = Math.round(timeoutS * 1000);
    const url = target.includes('/') ? `http://${target}` : `http://${target}/`;
    return new Promise((resolve) => {
      const guard = setTimeout(() => {
        this.pending.delete(id);
        resolve(undefined);
      }, ms + 2000);
      this.pending.set(id, (r) => {
        clearTimeout(guard);
        resolve(r.status ? { status: r.status, body: (r.body ?? '').trim() } : undefined);
      });
      this.proc.child.stdin?.write(`${JSON.stringify({ id, url, ms })}\n`);
    });
  }
}

/** An HTTP server on port 80 answering every request with the node's name. */
function httpServerScript(name: string): string {
  return (
    `require('node:http').createServer((q, s) => { s.writeHead(200, { connection: 'close' }); ` +
    `s.end(${JSON.stringify(`${name}\n`)}); }).listen(80);` +
    `process.on('SIGTERM', () => process.exit(0));`
  );
}

/** The demo's FRR router: per service prefix the next hops it learned. */
interface Frr {
  routes(): Promise<Map<string, string[]>>;
}

async function startFrr(cluster: NetnsCluster, ns: string, dir: string): Promise<Frr> {
  const frrDir = join(dir, 'frr');
  await mustRun('mkdir', ['-m', '0755', frrDir]);
  writeFileSync(join(frrDir, 'zebra.conf'), `hostname demo-router\nlog file ${join(frrDir, 'zebra.log')}\n`);
  writeFileSync(join(frrDir, 'bgpd.conf'), frrConfig(NODES, ROUTER_IP, join(frrDir, 'bgpd.log')));
  await mustRun('chown', ['-R', 'frr:frr', frrDir]);
  await mustRun('chmod', ['0755', dir]);
  const common = ['-z', join(frrDir, 'zserv.api'), '--vty_socket', frrDir, '-u', 'frr', '-g', 'frr', '-P', '0'];
  const zebra = cluster.spawn(ns, 'zebra', join(FRR_DIR, 'zebra'), [
    '-f',
    join(frrDir, 'zebra.conf'),
    '-i',
    join(frrDir, 'zebra.pid'),
    ...common,
  ]);
  const deadline = Date.now() + 10_000;
  while (!existsSync(join(frrDir, 'zserv.api'))) {
    if (zebra.exited() || Date.now() > deadline) throw new Error(`zebra did not start:\n${tail(zebra.output())}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  cluster.spawn(ns, 'bgpd', join(FRR_DIR, 'bgpd'), [
    '-f',
    join(frrDir, 'bgpd.conf'),
    '-i',
    join(frrDir, 'bgpd.pid'),
    ...common,
  ]);
  return {
    async routes() {
      const r = await runCommand('vtysh', ['--vty_socket', frrDir, '-d', 'bgpd', '-c', 'show bgp ipv4 unicast json'], {
        timeoutMs: 10_000,
      });
      const routes = new Map<string, string[]>();
      if (r.code !== 0) return routes;
      try {
        const doc = JSON.parse(r.stdout) as { routes?: Record<string, { nexthops?: { ip?: string }[] }[]> };
        for (const [prefix, paths] of Object.entries(doc.routes ?? {})) {
          const hops = paths.flatMap((p) => (p.nexthops ?? []).map((h) => h.ip ?? '')).filter(Boolean);
          routes.set(prefix, [...new Set(hops)].sort());
        }
      } catch {
        // not ready yet
      }
      return routes;
    },
  };
}

function tail(text: string, max = 3000): string {
  return text.length <= max ? text : `...${text.slice(-max)}`;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(':')
    .concat(['/usr/sbin', '/sbin'])
    .some((d) => d && existsSync(join(d, cmd)));
}

function hasNetAdmin(): boolean {
  try {
    const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    return m?.[1] !== undefined && (BigInt(`0x${m[1]}`) & (1n << 12n)) !== 0n;
  } catch {
    return false;
  }
}
