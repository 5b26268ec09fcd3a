// The layer-2 benchmarks' lab (bench/failover.mjs, bench/soak.mjs): N nodes (3 by default, `--nodes` in both scripts,
// 2 to 32), a client and a router on one bridged segment (node-i = 192.0.2.i, client = 192.0.2.253, router br0 =
// 192.0.2.254), every node running the daemon from one fleet file (Node documents, dataPath: local) and a tiny HTTP
// server that answers with its node name. IPv4 services on pool 198.51.100.0/28, which the client routes on-link.
// Needs root and iproute2.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
/** The daemon: the built one, or INGOT_BENCH_CLI (e.g. a copy of the built packages, when others rebuild meanwhile). */
export const CLI = process.env.INGOT_BENCH_CLI ?? here('../dist/cli.js');
export const HTTP_SERVER = here('../test/lab/http-server.mjs');
/** Node counts the lab supports: node-i is 192.0.2.i, so every node stays below the client and the router. */
export const MIN_NODES = 2;
export const MAX_NODES = 32;
/** The client's address: above every node's (192.0.2.1 to 192.0.2.MAX_NODES), below the router's. */
export const CLIENT_IP = '192.0.2.253';
export const ROUTER_IP = '192.0.2.254';
export const SECRET = 'ingot-bench-memberlist-secret';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const sh = (cmd, ...a) =>
  execFileSync(cmd, a, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
export const inNs = (ns, cmd, ...a) => sh('ip', 'netns', 'exec', ns, cmd, ...a);

/**
 * The node count from a `--nodes` option value: an integer from MIN_NODES to MAX_NODES, else an error naming the
 * range. The lab's nodes are `node-1` ... `node-N` at 192.0.2.1 ... 192.0.2.N.
 */
export function parseNodeCount(value) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < MIN_NODES || n > MAX_NODES)
    throw new Error(`--nodes must be an integer from ${MIN_NODES} to ${MAX_NODES}, not ${JSON.stringify(value)}`);
  return n;
}

/** Exits when the daemon is not built, or (printing a skip record) without root. */
export function checkPrerequisites(benchmark) {
  if (!existsSync(CLI)) {
    console.error('build first: cd packages/daemon && npx tsup');
    process.exit(1);
  }
  if (process.getuid?.() !== 0) {
    console.log(JSON.stringify({ package: '@ingot/daemon', benchmark, skipped: 'needs root for namespaces' }));
    process.exit(0);
  }
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export async function waitFor(what, fn, timeoutMs = 30_000, intervalMs = 100) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Records of a child's JSON log at or after t0 (ms), parsed, with `t` the record's time. */
export function logsSince(child, t0) {
  const out = [];
  for (const line of child.out.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const r = JSON.parse(line);
      const t = typeof r.ts === 'string' ? Date.parse(r.ts) : typeof r.time === 'number' ? r.time : Number.NaN;
      if (t >= t0) out.push({ ...r, t });
    } catch {
      // partial line
    }
  }
  return out;
}

/** A metric in Prometheus text, summed over its label sets that contain `labels` (text); 0 when absent. */
export function sumMetric(text, metric, labels = '') {
  let sum = 0;
  for (const m of text.matchAll(new RegExp(`^${metric}(?:\\{([^}]*)\\})? (\\S+)$`, 'gm')))
    if ((m[1] ?? '').includes(labels)) sum += Number(m[2]);
  return sum;
}

/** The fleet file's service documents: `count` IPv4 LoadBalancer services demo/web, demo/web2, ... */
export function serviceDocs(count = 1) {
  return Array.from(
    { length: count },
    (_, i) => `apiVersion: v1
kind: Service
metadata: { name: web${i === 0 ? '' : i + 1}, namespace: demo }
spec: { type: LoadBalancer, clusterIPs: [203.0.113.${200 + i}], ports: [{ port: 80 }] }
`,
  ).join('---\n');
}

/**
 * Creates the lab's state (namespaces are made by `buildLan`, removed at process exit, SIGINT and SIGTERM).
 * @param tag - namespace stem prefix (unique per run with the pid)
 * @param options - `nodes` the node count (default 3, see parseNodeCount), `logLevel` of the daemons, `nodeArgv` extra
 *   node arguments before the CLI (e.g. `--import x.mjs`)
 */
export function createL2Lab(tag, options = {}) {
  // `nodes` present but undefined (a `--nodes` without a value) is an error, not the default.
  const count = 'nodes' in options ? parseNodeCount(options.nodes) : 3;
  /** The nodes' names, `node-1` ... `node-N`; node-i's namespace is HOSTS[i - 1], its address nodeIp(name). */
  const NODES = Array.from({ length: count }, (_, i) => `node-${i + 1}`);
  const nodeIp = (name) => `192.0.2.${NODES.indexOf(name) + 1}`;
  const stem = `${tag}${process.pid.toString(36)}`;
  const ROUTER = `${stem}-r`;
  const HOSTS = NODES.map((_, i) => `${stem}-n${i + 1}`);
  const CLIENT = `${stem}-c`;
  const dir = mkdtempSync(join(tmpdir(), `ingot-${tag}-`));
  const configFile = join(dir, 'ingot.yaml');
  const children = new Set();
  const daemons = new Map();

  function cleanup() {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const ns of [ROUTER, ...HOSTS, CLIENT]) {
      try {
        sh('ip', 'netns', 'del', ns);
      } catch {
        // not created
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  process.on('exit', cleanup);
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

  /** Starts a long-running command in a namespace, collecting its output. */
  function start(ns, cmd, argv) {
    const child = spawn('ip', ['netns', 'exec', ns, cmd, ...argv], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.out = '';
    child.stdout.on('data', (d) => {
      child.out += d;
      if (child.out.length > 4_000_000) child.out = child.out.slice(-2_000_000);
    });
    child.stderr.on('data', (d) => {
      child.out += d;
    });
    child.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
    children.add(child);
    child.on('exit', () => children.delete(child));
    return child;
  }

  function buildLan() {
    const sysctls = [
      'net.ipv6.conf.all.accept_dad=0',
      'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.all.keep_addr_on_down=1',
      'net.ipv6.conf.default.keep_addr_on_down=1',
    ];
    const link = (ns, port, ip, ip6) => {
      sh('ip', '-n', ROUTER, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
      sh('ip', '-n', ROUTER, 'link', 'set', port, 'master', 'br0');
      sh('ip', '-n', ROUTER, 'link', 'set', port, 'up');
      sh('ip', '-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0');
      sh('ip', '-n', ns, 'addr', 'add', `${ip6}/64`, 'dev', 'eth0', 'nodad');
      sh('ip', '-n', ns, 'link', 'set', 'eth0', 'up');
    };
    for (const ns of [ROUTER, ...HOSTS, CLIENT]) {
      sh('ip', 'netns', 'add', ns);
      inNs(ns, 'sysctl', '-qw', ...sysctls);
      sh('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    }
    sh('ip', '-n', ROUTER, 'link', 'add', 'br0', 'type', 'bridge');
    HOSTS.forEach((ns, i) => {
      link(ns, `p${i + 1}`, `192.0.2.${i + 1}`, `2001:db8:0:1::${i + 1}`);
    });
    link(CLIENT, 'pc', CLIENT_IP, '2001:db8:0:1::fd');
    sh('ip', '-n', ROUTER, 'addr', 'add', `${ROUTER_IP}/24`, 'dev', 'br0');
    sh('ip', '-n', ROUTER, 'link', 'set', 'br0', 'up');
    sh('ip', '-n', CLIENT, 'route', 'add', '198.51.100.0/24', 'dev', 'eth0');
  }

  /** The fleet file: one Node document per node with `failover`, the l2 pool and advertisement, `services` services. */
  function fleetFile(failover = 'gossip', services = 1) {
    const nodeDocs = NODES.map((name, i) => {
      const ip = nodeIp(name);
      const seeds = NODES.filter((_, j) => j !== i).map((other) => `${nodeIp(other)}:7946`);
      const state = join(dir, 'state', name);
      mkdirSync(state, { recursive: true });
      return `apiVersion: ingot.dev/v1alpha1
kind: Node
metadata: { name: ${name} }
spec:
  announce: live
  interfaces: [eth0]
  memberlist: { bindAddress: "${ip}:7946", join: ${JSON.stringify(seeds)}, secret: ${SECRET} }
  bgp: { routerID: ${ip}, sourceAddress: ${ip} }
  statusAddress: "${ip}:7472"
  stateDirectory: ${state}
  dataPath: local
  failover: ${failover}
`;
    });
    const resources = `apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: { name: l2 }
spec: { addresses: [198.51.100.0/28] }
---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: { name: l2 }
spec: { ipAddressPools: [l2], interfaces: [eth0] }
---
${serviceDocs(services)}`;
    return `${[...nodeDocs, resources].join('---\n')}`;
  }

  /** Starts each node's HTTP server (answers with the node name on port 80). */
  async function startHttpServers() {
    for (const [i, name] of NODES.entries()) {
      const http = start(HOSTS[i], process.execPath, [HTTP_SERVER, name, '80']);
      await waitFor(`${name} http server`, () => http.out.includes('listening'), 10_000, 50);
    }
  }

  function startDaemon(name) {
    const i = NODES.indexOf(name);
    const child = start(HOSTS[i], process.execPath, [
      ...(options.nodeArgv ?? []),
      CLI,
      'run',
      '--config',
      configFile,
      '--node',
      name,
      '--log-level',
      options.logLevel ?? 'info',
    ]);
    daemons.set(name, child);
    return child;
  }

  const fromClient = (name, path) => inNs(CLIENT, 'curl', '-s', '-f', '-m', '1', `http://${nodeIp(name)}:7472${path}`);

  async function status(name) {
    try {
      return JSON.parse(fromClient(name, '/status'));
    } catch {
      return undefined;
    }
  }

  /** `name`'s /metrics text (three tries: a busy daemon may miss one), or undefined. */
  async function metricsText(name) {
    for (let i = 0; i < 3; i++) {
      try {
        return inNs(CLIENT, 'curl', '-s', '-f', '-m', '3', `http://${nodeIp(name)}:7472/metrics`);
      } catch {
        await sleep(200);
      }
    }
    return undefined;
  }

  return {
    NODES,
    nodeIp,
    HOSTS,
    CLIENT,
    dir,
    configFile,
    daemons,
    cleanup,
    start,
    buildLan,
    fleetFile,
    startHttpServers,
    startDaemon,
    status,
    metricsText,
  };
}
