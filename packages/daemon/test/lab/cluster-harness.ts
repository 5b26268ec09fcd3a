// A three-node ingot cluster in namespaces, for the daemon's end-to-end lab tests: createLan(4) gives node-1..node-3
// (hosts 1-3, 192.0.2.1-3 / 2001:db8:0:1::1-3) and a client (host 4); the LAN's router namespace (192.0.2.254) can
// run FRR. Every node runs the http-server.mjs script (200 + its node name) and `ingot run --config FILE --node NAME`,
// all nodes reading one fleet file: three `kind: Node` documents followed by the resources a test sets.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type BgpPeer,
  createLan,
  type LabHost,
  type LabProcess,
  type Lan,
  type PeerOptions,
  pollUntil,
  startPeer,
} from '@ingot/lab';
import { afterAll, beforeAll } from 'vitest';

/** The daemon's built command line. */
export const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));
/** The nodes' HTTP server. */
export const HTTP_SERVER = fileURLToPath(new URL('./http-server.mjs', import.meta.url));
/** Node names, host i+1 of the LAN each. */
export const NODE_NAMES = ['node-1', 'node-2', 'node-3'] as const;
/** Shared memberlist secret of the fleet file. */
export const MEMBERLIST_SECRET = 'ingot-lab-memberlist-secret';
/** Port of each node's status server (`statusAddress: <node ip>:7472`). */
export const STATUS_PORT = 7472;
/** The router's (FRR's) LAN address. */
export const ROUTER_IPV4 = '192.0.2.254';
/** Prefixes the client routes onto the LAN, so it resolves service IPs with ARP/NDP on the segment. */
export const CLIENT_ONLINK_ROUTES = ['198.51.100.0/24', '203.0.113.0/24', '2001:db8:100::/48'];

/** One service in `GET /status` (see notes/daemon-standalone.md). */
export interface ServiceStatus {
  service: string;
  ips: string[];
  pool?: string;
  protocol?: string;
  /** Layer 2: the owner node of each IP. */
  owners?: Record<string, string>;
  reason?: string;
  announcedHere?: boolean;
}

/** `GET /status` of a node. */
export interface NodeStatus {
  node: string;
  version?: string;
  leader?: string;
  config: { loaded: boolean; stale: boolean; source?: string; issues?: unknown[] };
  services: ServiceStatus[];
  peers?: { name: string; address?: string; state: string }[];
  members?: { name: string; state: string }[];
  assignments?: { generation: number; writer: string };
}

/** Outcome of one client HTTP request. */
export interface HttpResult {
  /** True on HTTP 200. */
  ok: boolean;
  /** HTTP status, 0 when no response. */
  code: number;
  /** Response body, trimmed (the serving node's name). */
  body: string;
  /** curl's exit code and stderr when it failed. */
  error?: string;
}

/** One node of the cluster. */
export interface ClusterNode {
  readonly name: string;
  readonly host: LabHost;
  /** Its state directory (persisted assignments), kept across restarts. */
  readonly stateDirectory: string;
  /** The running daemon, if any. */
  daemon: LabProcess | undefined;
  /** Every daemon process ever started on the node (for logs after a restart). */
  readonly history: LabProcess[];
  /** The HTTP server. */
  http: LabProcess | undefined;
}

/** Options of {@link createCluster}. */
export interface ClusterOptions {
  /** Tag in the namespace names. */
  name?: string;
  /** Run FRR in the router namespace: true = iBGP AS 64512 with the three nodes as neighbours; or explicit options. */
  frr?: boolean | Omit<PeerOptions, 'host'>;
  /** Ports each node's HTTP server listens on. @default [80] */
  httpPorts?: number[];
  /** Labels per node name, written into the Node documents. */
  nodeLabels?: Record<string, Record<string, string>>;
  /** Resources (YAML documents) written after the Node documents before the daemons start. */
  resources?: string;
  /** Start the daemons (default true). */
  start?: boolean;
  /** Daemon log level. @default 'info' */
  logLevel?: 'debug' | 'info';
  /** `spec.memberlist.wire` of every Node document (absent: the default, memberlist's). */
  wire?: 'ingot' | 'memberlist';
  /** `spec.dataPath` of every Node document. @default 'local' */
  dataPath?: 'local' | 'interface';
  /** `spec.failover` of every Node document (absent: the default, gossip). */
  failover?: 'gossip' | 'fast';
}

/** The default FRR set-up: iBGP, AS 64512, the three nodes as neighbours (hold time 9 s). */
export function defaultFrrOptions(): Omit<PeerOptions, 'host'> {
  return {
    asn: 64512,
    routerId: ROUTER_IPV4,
    neighbors: NODE_NAMES.map((_, i) => ({ address: `192.0.2.${i + 1}`, asn: 64512, holdTime: 9 })),
  };
}

/** The Node document of node `index` (0-based) in the fleet file. */
export function nodeDocument(
  index: number,
  dir: string,
  labels: Record<string, string> = {},
  wire?: 'ingot' | 'memberlist',
  dataPath: 'local' | 'interface' = 'local',
  failover?: 'gossip' | 'fast',
): string {
  const ip = `192.0.2.${index + 1}`;
  const seeds = NODE_NAMES.map((_, i) => `192.0.2.${i + 1}:7946`).filter((_, i) => i !== index);
  return [
    'apiVersion: ingot.dev/v1alpha1',
    'kind: Node',
    'metadata:',
    `  name: ${NODE_NAMES[index]}`,
    `  labels: ${JSON.stringify(labels)}`,
    'spec:',
    '  announce: live',
    '  interfaces: [eth0]',
    '  memberlist:',
    `    bindAddress: ${ip}:7946`,
    `    join: [${seeds.join(', ')}]`,
    `    secret: ${MEMBERLIST_SECRET}`,
    ...(wire ? [`    wire: ${wire}`] : []),
    '  bgp:',
    `    routerID: ${ip}`,
    `    sourceAddress: ${ip}`,
    `  statusAddress: ${ip}:${STATUS_PORT}`,
    `  stateDirectory: ${join(dir, 'state', NODE_NAMES[index] as string)}`,
    `  dataPath: ${dataPath}`,
    ...(failover ? [`  failover: ${failover}`] : []),
    '',
  ].join('\n');
}

/** A running three-node cluster with a client and a router. */
export class Cluster {
  /** The nodes, node-1..node-3. */
  readonly nodes: ClusterNode[];
  /** Host 4: curl runs here. */
  readonly client: LabHost;
  /** The LAN's router namespace (FRR runs here when asked). */
  readonly router: LabHost;
  /** FRR, when started. */
  frr: BgpPeer | undefined;
  /** The shared fleet file. */
  readonly configFile: string;
  /** Resources currently written after the Node documents. */
  resources = '';

  constructor(
    readonly lan: Lan,
    readonly dir: string,
    private readonly opts: ClusterOptions,
  ) {
    this.client = lan.hosts[3] as LabHost;
    this.router = lan.router;
    this.configFile = join(dir, 'ingot.yaml');
    this.nodes = NODE_NAMES.map((name, i) => ({
      name,
      host: lan.hosts[i] as LabHost,
      stateDirectory: join(dir, 'state', name),
      daemon: undefined,
      history: [],
      http: undefined,
    }));
  }

  /** The node called `name`. */
  node(name: string): ClusterNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${JSON.stringify(name)} (body of an HTTP reply was expected to name one)`);
    return n;
  }

  /** Nodes whose daemon runs. */
  running(): ClusterNode[] {
    return this.nodes.filter((n) => n.daemon !== undefined && n.daemon.exitCode() === undefined);
  }

  /** The fleet file's text for `resources`. */
  fleetText(resources: string): string {
    const docs = this.nodes.map((n, i) =>
      nodeDocument(
        i,
        this.dir,
        this.opts.nodeLabels?.[n.name] ?? {},
        this.opts.wire,
        this.opts.dataPath,
        this.opts.failover,
      ),
    );
    return `${[...docs, resources.trim()].filter(Boolean).join('---\n')}\n`;
  }

  /** Rewrites the fleet file in place (same inode: the daemons watch the file) with the Node documents + `resources`. */
  setResources(resources: string): void {
    this.resources = resources;
    this.writeRaw(this.fleetText(resources));
  }

  /** Writes `text` as the whole fleet file (e.g. an invalid one), in place. */
  writeRaw(text: string): void {
    writeFileSync(this.configFile, text);
  }

  /** Starts the daemon of `name` (it must not be running) and waits until its status says a config is loaded. */
  async startNode(name: string, timeoutMs = 20_000): Promise<void> {
    const n = this.node(name);
    if (n.daemon && n.daemon.exitCode() === undefined) throw new Error(`${name}: daemon already running`);
    const proc = n.host.spawn(process.execPath, [
      CLI,
      'run',
      '--config',
      this.configFile,
      '--node',
      name,
      '--log-level',
      this.opts.logLevel ?? 'info',
    ]);
    n.daemon = proc;
    n.history.push(proc);
    await pollUntil(
      async () => {
        if (proc.exitCode() !== undefined) throw new Error(`${name}: daemon exited with ${proc.exitCode()}`);
        const s = await this.status(name);
        return s?.config.loaded ? true : undefined;
      },
      timeoutMs,
      () => `${name}: daemon status never reported a loaded configuration\n${this.logTail(name)}`,
      150,
    );
  }

  /** Starts every daemon that is not running. */
  async startAll(timeoutMs = 30_000): Promise<void> {
    await Promise.all(
      this.nodes.filter((n) => !this.running().includes(n)).map((n) => this.startNode(n.name, timeoutMs)),
    );
  }

  /**
   * Stops the daemon of `name` with `signal`: SIGKILL returns at once after the process is gone; SIGTERM waits for
   * the daemon's own exit (SIGKILL only after `graceMs`). Resolves with its exit code (null when killed by a signal).
   */
  async stopNode(name: string, signal: 'SIGKILL' | 'SIGTERM' = 'SIGTERM', graceMs = 5_000): Promise<number | null> {
    const proc = this.node(name).daemon;
    if (!proc || proc.exitCode() !== undefined) return proc?.exitCode() ?? null;
    proc.kill(signal);
    try {
      return await proc.waitExit(graceMs);
    } catch {
      proc.kill('SIGKILL');
      await proc.waitExit(5_000);
      throw new Error(`${name}: daemon did not exit within ${graceMs} ms of ${signal}\n${this.logTail(name)}`);
    }
  }

  /** Makes sure every daemon runs (restarting stopped ones) and all see each other as members. */
  async ensureAllRunning(timeoutMs = 30_000): Promise<void> {
    await this.startAll(timeoutMs);
    await this.waitMembers(NODE_NAMES.length, timeoutMs);
  }

  /** Waits until every running node's status lists `count` alive members. */
  async waitMembers(count: number, timeoutMs = 20_000): Promise<void> {
    await pollUntil(
      async () => {
        for (const n of this.running()) {
          const s = await this.status(n.name);
          const alive = (s?.members ?? []).filter((m) => m.state === 'alive').length;
          if (alive < count) return undefined;
        }
        return true;
      },
      timeoutMs,
      async () => `members never reached ${count}: ${JSON.stringify(await this.allStatus('members'))}`,
      200,
    );
  }

  /** `GET /status` of a node over the LAN (from the client); undefined when it does not answer JSON. */
  async status(name: string): Promise<NodeStatus | undefined> {
    const text = await this.fetchFromClient(`http://${this.node(name).host.ipv4}:${STATUS_PORT}/status`);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text) as NodeStatus;
    } catch {
      return undefined;
    }
  }

  /** `GET /metrics` of a node (Prometheus text), or undefined. */
  metrics(name: string): Promise<string | undefined> {
    return this.fetchFromClient(`http://${this.node(name).host.ipv4}:${STATUS_PORT}/metrics`);
  }

  /** Value of an unlabelled metric on a node, or undefined. */
  async metric(name: string, metric: string): Promise<number | undefined> {
    const text = await this.metrics(name);
    const m = text === undefined ? null : new RegExp(`^${metric}(?:\\{\\})? (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : undefined;
  }

  private async fetchFromClient(url: string): Promise<string | undefined> {
    const r = await this.client.exec('curl', ['-s', '-f', '-m', '2', url], { timeoutMs: 5_000 });
    return r.code === 0 ? r.stdout : undefined;
  }

  /** A field of every running node's status, for failure messages. */
  async allStatus(field?: keyof NodeStatus): Promise<Record<string, unknown>> {
    const out: Record<string, unknown> = {};
    for (const n of this.running()) {
      const s = await this.status(n.name);
      out[n.name] = field ? s?.[field] : s;
    }
    return out;
  }

  /**
   * Waits until every running node reports `service` (`ns/name`) with IPs (`count` of them when given) and all agree;
   * returns the IPs.
   */
  async waitServiceIps(service: string, opts: { count?: number; timeoutMs?: number } = {}): Promise<string[]> {
    return pollUntil(
      async () => {
        let agreed: string[] | undefined;
        const running = this.running();
        if (running.length === 0) return undefined;
        for (const n of running) {
          const s = await this.status(n.name);
          const ips = s?.services.find((x) => x.service === service)?.ips ?? [];
          if (ips.length === 0 || (opts.count !== undefined && ips.length !== opts.count)) return undefined;
          if (agreed && JSON.stringify(agreed) !== JSON.stringify(ips)) return undefined;
          agreed = ips;
        }
        return agreed;
      },
      opts.timeoutMs ?? 20_000,
      async () => `service ${service} never got agreed IPs: ${JSON.stringify(await this.serviceViews(service))}`,
      200,
    );
  }

  /** What each running node's status says about `service`. */
  async serviceViews(service: string): Promise<Record<string, ServiceStatus | undefined>> {
    const out: Record<string, ServiceStatus | undefined> = {};
    for (const n of this.running())
      out[n.name] = (await this.status(n.name))?.services.find((x) => x.service === service);
    return out;
  }

  /** One HTTP GET from the client (`curl -m timeoutS`). */
  async get(ip: string, port = 80, timeoutS = 2): Promise<HttpResult> {
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const r = await this.client.exec(
      'curl',
      ['-s', '-g', '-m', String(timeoutS), '-o', '-', '-w', '\n%{http_code}', `http://${host}:${port}/`],
      { timeoutMs: timeoutS * 1000 + 5_000 },
    );
    const lines = r.stdout.replace(/\n$/, '').split('\n');
    const code = Number(lines.pop() ?? 0) || 0;
    const body = lines.join('\n').trim();
    const result: HttpResult = { ok: code === 200, code, body };
    if (r.code !== 0) result.error = `curl exit ${r.code}: ${r.stderr.trim()}`;
    return result;
  }

  /** Polls the client's GET until a 200 whose body (serving node) satisfies `accept`; returns that node's name. */
  async waitServed(
    ip: string,
    accept: (node: string) => boolean = () => true,
    opts: { port?: number; timeoutMs?: number } = {},
  ): Promise<string> {
    let last: HttpResult | undefined;
    return pollUntil(
      async () => {
        last = await this.get(ip, opts.port ?? 80, 1);
        return last.ok && accept(last.body) ? last.body : undefined;
      },
      opts.timeoutMs ?? 20_000,
      async () =>
        `client never got an accepted 200 from ${ip}:${opts.port ?? 80}; last ${JSON.stringify(last)}; ` +
        `client neighbours: ${(await this.client.exec('ip', ['neigh', 'show'])).stdout.trim()}`,
      100,
    );
  }

  /**
   * Starts a client that GETs `http://ip:port/` back to back for `durationMs` (one request at a time, `gapMs` between
   * them, 3 s timeout, so a lost SYN shows as TCP's 1 s retransmission). `result()` waits for it and returns every
   * request; `stop()` ends it early (SIGTERM: it finishes the request in flight, then writes them; SIGKILL after 10 s).
   */
  startClientLoop(
    ip: string,
    durationMs: number,
    port = 80,
    gapMs = 5,
  ): { result: () => Promise<ClientRequest[]>; stop: () => Promise<void> } {
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const proc = this.client.spawn(process.execPath, [
      '--input-type=module',
      '-e',
      CLIENT_LOOP,
      `http://${host}:${port}/`,
      String(durationMs),
      String(gapMs),
    ]);
    return {
      result: async () => {
        await proc.waitExit(durationMs + 10_000);
        return JSON.parse(proc.stdout());
      },
      stop: async () => {
        proc.kill('SIGTERM');
        await proc.waitExit(10_000).catch(() => proc.kill('SIGKILL'));
      },
    };
  }

  /** Structured log records of a node (every run of its daemon, oldest first). */
  logs(name: string): Record<string, unknown>[] {
    return jsonLogRecords(this.node(name).history);
  }

  /** The last lines of a node's daemon output, for failure messages. */
  logTail(name: string, chars = 3000): string {
    const p = this.node(name).daemon;
    if (!p) return `${name}: no daemon started`;
    const text = `${p.stdout()}${p.stderr()}`;
    return `--- ${name} daemon (pid ${p.pid}, exit ${p.exitCode()}) ---\n${text.slice(-chars)}`;
  }

  /** Every node's log tail. */
  allLogs(chars = 2000): string {
    return this.nodes.map((n) => this.logTail(n.name, chars)).join('\n');
  }

  /** Addresses on a node's lo (the daemon's local data path adds owned service IPs there). */
  async loAddresses(name: string): Promise<string[]> {
    const out = await this.node(name).host.run('ip', ['-j', 'addr', 'show', 'dev', 'lo']);
    const [link] = JSON.parse(out) as { addr_info?: { local: string }[] }[];
    return (link?.addr_info ?? []).map((a) => a.local);
  }

  /** Stops everything and removes the temp directory. */
  async destroy(): Promise<void> {
    try {
      await this.lan.destroy();
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** One request of {@link Cluster.startClientLoop}: start (ms epoch), duration, HTTP status (0: none), body or error. */
export interface ClientRequest {
  t: number;
  ms: number;
  code: number;
  body?: string;
  error?: string;
}

/**
 * The client loop of {@link Cluster.startClientLoop} (node -e, ESM; argv: url, duration in ms, gap in ms): until the
 * duration is over or SIGTERM, then every request as JSON on stdout.
 */
const CLIENT_LOOP = `
import http from 'node:http';
const [url, duration, gap] = process.argv.slice(1);
const until = Date.now() + Number(duration);
const out = [];
let stop = false;
process.on('SIGTERM', () => { stop = true; });
while (!stop && Date.now() < until) {
  const t = Date.now();
  const r = await new Promise((resolve) => {
    const req = http.get(url, { agent: false, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ code: res.statusCode, body: body.trim() }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ code: 0, error: e.message }));
  });
  out.push({ t, ms: Date.now() - t, ...r });
  await new Promise((resolve) => setTimeout(resolve, Number(gap)));
}
process.stdout.write(JSON.stringify(out));
`;

/** Builds the LAN, client routes, HTTP servers, FRR (if asked), writes the fleet file and starts the daemons. */
export async function createCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const lan = await createLan(4, { name: opts.name ?? 'cluster' });
  const dir = mkdtempSync(join(tmpdir(), 'ingot-cluster-'));
  const cluster = new Cluster(lan, dir, opts);
  return setUpOrDestroy(cluster, async () => {
    for (const n of cluster.nodes) mkdirSync(n.stateDirectory, { recursive: true });
    for (const route of CLIENT_ONLINK_ROUTES)
      await cluster.client.run('ip', [route.includes(':') ? '-6' : '-4', 'route', 'add', route, 'dev', 'eth0']);
    const ports = (opts.httpPorts ?? [80]).map(String);
    await Promise.all(
      cluster.nodes.map(async (n) => {
        n.http = n.host.spawn(process.execPath, [HTTP_SERVER, n.name, ...ports]);
        for (const p of ports) await n.http.waitOutput(new RegExp(`listening ${n.name} ${p}\\b`), 10_000);
      }),
    );
    if (opts.frr) {
      const frrOpts = opts.frr === true ? defaultFrrOptions() : opts.frr;
      cluster.frr = await startPeer('frr', { host: cluster.router, ...frrOpts });
    }
    cluster.setResources(opts.resources ?? '');
    if (opts.start !== false) await cluster.ensureAllRunning();
  });
}

/** The JSON log records in the output of `runs` (oldest first); other and partial lines are skipped. */
export function jsonLogRecords(runs: readonly LabProcess[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const p of runs) {
    for (const line of `${p.stdout()}\n${p.stderr()}`.split('\n')) {
      if (!line.startsWith('{')) continue;
      try {
        out.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // a partial line
      }
    }
  }
  return out;
}

/** A lab a harness builds: its daemons' logs, and a teardown that removes everything. */
export interface HarnessLab {
  allLogs(): string;
  destroy(): Promise<void>;
}

/** Runs `setUp` and returns `lab`; if `setUp` throws, destroys `lab` and adds its logs to the error. */
export async function setUpOrDestroy<T extends HarnessLab>(lab: T, setUp: () => Promise<void>): Promise<T> {
  try {
    await setUp();
    return lab;
  } catch (e) {
    const logs = lab.allLogs();
    await lab.destroy().catch(() => {});
    if (e instanceof Error) e.message += `\n${logs}`;
    throw e;
  }
}

/** `create` in beforeAll (within `timeoutMs`), destroy in afterAll; returns a getter (throws, naming `what`, outside). */
export function useHarnessLab<T extends HarnessLab>(
  create: () => Promise<T>,
  timeoutMs: number,
  what: string,
): () => T {
  let value: T | undefined;
  beforeAll(async () => {
    value = await create();
  }, timeoutMs);
  afterAll(async () => {
    const v = value;
    value = undefined;
    await v?.destroy();
  }, 60_000);
  return () => {
    if (!value) throw new Error(`${what} used outside its suite`);
    return value;
  };
}

/** createCluster in beforeAll, destroy in afterAll; returns a getter. */
export function useCluster(opts: ClusterOptions = {}): () => Cluster {
  return useHarnessLab(() => createCluster(opts), 120_000, 'cluster');
}

/** A v1 Service document for the fleet file. */
export function serviceDoc(s: {
  name: string;
  namespace?: string;
  family?: 'IPv4' | 'IPv6' | 'dual';
  ports?: number[];
  annotations?: Record<string, string>;
  labels?: Record<string, string>;
  externalTrafficPolicy?: 'Cluster' | 'Local';
  endpointNodes?: string[];
  selector?: Record<string, string>;
}): string {
  const family = s.family ?? 'IPv4';
  const clusterIPs =
    family === 'IPv4'
      ? ['203.0.113.200']
      : family === 'IPv6'
        ? ['2001:db8:ff::200']
        : ['203.0.113.200', '2001:db8:ff::200'];
  const lines = [
    'apiVersion: v1',
    'kind: Service',
    'metadata:',
    `  name: ${s.name}`,
    `  namespace: ${s.namespace ?? 'demo'}`,
  ];
  if (s.labels) lines.push(`  labels: ${JSON.stringify(s.labels)}`);
  if (s.annotations) lines.push(`  annotations: ${JSON.stringify(s.annotations)}`);
  lines.push(
    'spec:',
    '  type: LoadBalancer',
    `  clusterIPs: ${JSON.stringify(clusterIPs)}`,
    `  ipFamilyPolicy: ${family === 'dual' ? 'RequireDualStack' : 'SingleStack'}`,
    `  ports: ${JSON.stringify((s.ports ?? [80]).map((port) => ({ port, protocol: 'TCP' })))}`,
    `  externalTrafficPolicy: ${s.externalTrafficPolicy ?? 'Cluster'}`,
  );
  if (s.selector) lines.push(`  selector: ${JSON.stringify(s.selector)}`);
  if (s.endpointNodes) lines.push('status:', `  endpointNodes: ${JSON.stringify(s.endpointNodes)}`);
  return `${lines.join('\n')}\n`;
}

/** An IPAddressPool document. */
export function poolDoc(name: string, addresses: string[], extra: { autoAssign?: boolean } = {}): string {
  const spec: Record<string, unknown> = { addresses };
  if (extra.autoAssign !== undefined) spec.autoAssign = extra.autoAssign;
  return `apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: { name: ${name} }\nspec: ${JSON.stringify(spec)}\n`;
}

/** An L2Advertisement on eth0 for `pools`. */
export function l2AdvertisementDoc(name: string, pools: string[]): string {
  return `apiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: { name: ${name} }\nspec: ${JSON.stringify({ ipAddressPools: pools, interfaces: ['eth0'] })}\n`;
}

/** Joins YAML documents. */
export function docs(...parts: string[]): string {
  return parts.map((p) => p.trim()).join('\n---\n');
}
