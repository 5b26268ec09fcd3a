// Kubernetes-mode benchmark (issue 11): Ingot's controller and speakers against a real kube-apiserver + etcd from the
// lab (@ingot/lab startKubernetes: TLS, RBAC, ServiceAccount tokens), each daemon a separate `ingot run --kubernetes`
// process with its own ServiceAccount.
//
// Per scenario (1,000 and 10,000 Services by default, 100 Node objects, 3 speakers):
//   - assignment: time from the first Service creation until every Service has its IP in status.loadBalancer.ingress
//     (the bench watches the Services; creation alone, the API server's write floor, is printed beside it);
//   - steady state: API requests per second from the controller and from each speaker, counted by kube-apiserver
//     itself (apiserver_flowcontrol_dispatched_requests_total of one FlowSchema per ServiceAccount), split by the
//     processes' own counters into watch (re)starts and everything else; status writes made;
//   - change propagation: a label change on a Service until every speaker's informer has it (each speaker's
//     ingot_k8s_watch_last_event_* metrics give its receive time), p50/p99 over --changes changes;
//   - resident memory (VmRSS, and VmHWM the peak) of each process, kube-apiserver and etcd included.
// Reference measured in the same run: MetalLB's controller reconciles Services one at a time and writes one status
// update each; the bench times serial status updates on the same server (Services of another loadBalancerClass) and
// prints what N of them take next to Ingot's figure, with the ratio.
//
// Usage: node bench/kubernetes.mjs [--services 1000,10000] [--nodes 100] [--speakers 3] [--changes 100]
//          [--steady-seconds 30] [--reference 200] [--create-concurrency 16] [--timeout-seconds 600] [--json]
//          [--profile DIR]  (each Ingot process writes a V8 CPU profile to DIR/<name>/, summarised at the end)
//          [--cli PATH]  (the daemon's cli.js to run; default this package's dist/cli.js)
//          [--node-options STR]  (NODE_OPTIONS of each Ingot process; default the image's, from the Dockerfile)
//          [--heap DIR]  (each Ingot process samples its memory (bench/memory-probe.mjs): RSS, V8 heap and external,
//                         latest and peak, printed with the memory figures; the controller's V8 heap snapshot after the
//                         steady state is summarised by constructor; files under DIR/<services>/<name>-<start>/)
//          [--fake]   (the test fake API server instead of the real one: plain HTTP, no RBAC/APF; for testing the
//                      bench itself; its figures say nothing about a real cluster)
// Needs the built daemon (npx tsup) and, without --fake, the lab's Kubernetes build (packages/lab/go/build-tools.sh).
// Every loop is bounded in count and in time (--timeout-seconds per phase).
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { register } from 'node:module';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';

register('./ts-hooks.mjs', import.meta.url);

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
/** The daemon run: the package's build, or with `--cli PATH` another build (e.g. one commit against another). */
const CLI = opt('cli', here('../dist/cli.js'));
/** The V8 options the image runs the daemon with (the Dockerfile's `ENV NODE_OPTIONS="..."`). */
const IMAGE_NODE_OPTIONS = /^ENV NODE_OPTIONS="([^"]*)"/m.exec(readFileSync(here('../Dockerfile'), 'utf8'))?.[1] ?? '';
/** Each Ingot process runs with these (`--node-options STR` to compare others; '' for V8's defaults). */
const NODE_OPTIONS = opt('node-options', IMAGE_NODE_OPTIONS);
const SERVICES = opt('services', '1000,10000').split(',').map(Number);
const NODES = Number(opt('nodes', '100'));
const SPEAKERS = Number(opt('speakers', '3'));
const CHANGES = Number(opt('changes', '100'));
const STEADY_S = Number(opt('steady-seconds', '30'));
const REFERENCE = Number(opt('reference', '200'));
const CREATE_CONCURRENCY = Number(opt('create-concurrency', '16'));
const TIMEOUT_MS = Number(opt('timeout-seconds', '600')) * 1000;
const FAKE = args.includes('--fake');
const AS_JSON = args.includes('--json');
/** With `--profile DIR`: each Ingot process writes a V8 CPU profile there (node --cpu-prof), one directory per process. */
const PROFILE_DIR = opt('profile', undefined);
/** With `--heap DIR`: each Ingot process runs bench/memory-probe.mjs, writing its memory figures (and heap snapshots) there. */
const HEAP_DIR = opt('heap', undefined);
/** Process starts per name, so a restarted controller's probe files do not overwrite the first one's. */
const STARTS = new Map();
const NS = 'metallb-system';
/** The scenario running (its Service count), for phases that check every Service. */
const SERVICES_NOW = { count: 0 };
const BENCH_NS = 'bench';
const REF_NS = 'bench-ref';
const REF_CLASS = 'bench.example/reference';
// Service CIDR and pool in documentation ranges: 10,000 Services need more addresses than the IPv4 ones hold.
const SERVICE_CIDR = '2001:db8:5::/108';
const POOL = '2001:db8:100::/112';

const log = (...a) => process.stderr.write(`${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => performance.timeOrigin + performance.now();

async function until(what, fn, timeoutMs = TIMEOUT_MS, everyMs = 50) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A keep-alive JSON client for the bench's own (admin) requests. */
function client(server, token, ca) {
  const secure = server.startsWith('https:');
  const agent = secure ? new https.Agent({ keepAlive: true, ca }) : new http.Agent({ keepAlive: true });
  const base = new URL(server);
  const request = (method, path, body, contentType = 'application/json') =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const headers = { accept: 'application/json', authorization: `Bearer ${token}` };
      if (payload !== undefined) Object.assign(headers, { 'content-type': contentType });
      const req = (secure ? https : http).request(
        { host: base.hostname, port: base.port, method, path, headers, agent, timeout: 60_000 },
        (res) => {
          const chunks = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString();
            let json;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ status: res.statusCode, json, text });
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  /**
   * Streams a watch; calls onEvent(type, object); resolves with a stop function once the response started. A watch the
   * server ends (kube-apiserver closes watchers that fall behind, e.g. a bench starved of CPU on a loaded machine) is
   * opened again: without a resourceVersion the server first sends every existing object as ADDED, so nothing that
   * happened meanwhile is missed by callers that keep sets.
   */
  const watch = (path, onEvent) => {
    let current;
    let stopped = false;
    const open = () =>
      once(path, onEvent, () => {
        if (stopped) return;
        log(`bench: the server ended the watch ${path}; watching again`);
        open()
          .then((stop) => {
            current = stop;
          })
          .catch((err) => log(`bench: re-watch failed: ${err.message}`));
      });
    return open().then((stop) => {
      current = stop;
      return () => {
        stopped = true;
        current();
      };
    });
  };
  const once = (path, onEvent, onEnd) =>
    new Promise((resolve, reject) => {
      const req = (secure ? https : http).request(
        { host: base.hostname, port: base.port, path, headers: { authorization: `Bearer ${token}` }, agent },
        (res) => {
          if (res.statusCode !== 200) return reject(new Error(`watch ${path}: HTTP ${res.statusCode}`));
          let buf = '';
          res.on('data', (c) => {
            buf += c;
            for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
              const line = buf.slice(0, i);
              buf = buf.slice(i + 1);
              if (line.trim()) {
                const e = JSON.parse(line);
                onEvent(e.type, e.object);
              }
            }
          });
          res.on('error', () => {});
          res.on('close', onEnd);
          resolve(() => req.destroy());
        },
      );
      req.on('error', reject);
      req.end();
    });
  return { request, watch, close: () => agent.destroy() };
}

async function must(r, what) {
  const res = await r;
  if (res.status < 200 || res.status > 299)
    throw new Error(`bench: ${what}: HTTP ${res.status}: ${res.text.slice(0, 500)}`);
  return res.json;
}

/** Runs `fn` over `items` with at most `concurrency` in flight. */
async function pool(items, concurrency, fn) {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat; NaN when it is gone. */
function cpuSecondsOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of stat(5), in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return Number.NaN;
  }
}

/** The sum and count of a histogram's samples whose labels contain every one of `labels`. */
function histogram(m, name, labels) {
  const pick = (suffix) =>
    [...m]
      .filter(([k]) => k.startsWith(`${name}_${suffix}{`) && labels.every((l) => k.includes(l)))
      .reduce((a, [, v]) => a + v, 0);
  return { sum: pick('sum'), count: pick('count') };
}

function memoryOf(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0);
    return { rssMB: kb('VmRSS') / 1024, peakMB: kb('VmHWM') / 1024 };
  } catch {
    return { rssMB: Number.NaN, peakMB: Number.NaN };
  }
}

/** Prometheus text → Map of `name{labels}` → value (the whole sample line as key). */
function parseMetrics(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const sum = (m, re) => [...m].filter(([k]) => re.test(k)).reduce((a, [, v]) => a + v, 0);
const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

// ---------------------------------------------------------------------------------------------------------- clusters

/** The real control plane: { server, token, ca, tokenFor(sa), kubeconfigFor, setup(objects), apiServerMetrics, pids, stop }. */
async function realCluster() {
  const lab = await import('@ingot/lab');
  const k = await lab.startKubernetes({ serviceClusterIpRange: SERVICE_CIDR });
  const api = client(k.server, k.adminToken, k.caPem);
  return {
    server: k.server,
    api,
    kubeconfigFor: async (sa) => k.kubeconfigFor(await k.serviceAccountToken(NS, sa), sa),
    setup: (objects) => k.apply(objects),
    apiServerMetrics: async () => parseMetrics(await k.metrics()),
    pids: () => ({ 'kube-apiserver': k.apiServer().pid, etcd: k.etcd().pid }),
    stop: async () => {
      api.close();
      await k.stop();
    },
  };
}

/** The test fake server, attributing requests by bearer token (its metrics mimic the FlowSchema counter). */
async function fakeCluster() {
  const { FakeApiServer } = await import('../test/kubernetes/fake-api-server.ts');
  const fake = new FakeApiServer();
  const server = await fake.start();
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const dir = mkdtempSync('/tmp/ingot-bench-');
  const api = client(server, 'admin');
  const plural = {
    Namespace: 'namespaces',
    Node: 'nodes',
    IPAddressPool: 'ipaddresspools',
    L2Advertisement: 'l2advertisements',
  };
  return {
    server,
    api,
    kubeconfigFor: async (sa) => {
      const path = `${dir}/${sa}.kubeconfig`;
      writeFileSync(
        path,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'fake', cluster: { server, 'insecure-skip-tls-verify': true } }],
          users: [{ name: sa, user: { token: sa } }],
          contexts: [{ name: 'fake', context: { cluster: 'fake', user: sa } }],
          'current-context': 'fake',
        }),
      );
      return path;
    },
    setup: async (objects) => {
      for (const o of objects) if (plural[o.kind]) fake.apply(plural[o.kind], o);
    },
    apiServerMetrics: async () => {
      const counts = new Map();
      for (const t of fake.tokens) {
        const key = `apiserver_flowcontrol_dispatched_requests_total{flow_schema="ingot-bench-${t}"}`;
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
      return counts;
    },
    pids: () => ({}),
    stop: async () => {
      api.close();
      await fake.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------------------- setup

function deployObjects() {
  const dir = here('../deploy');
  const docs = (file) =>
    parseAllDocuments(readFileSync(file, 'utf8'))
      .map((d) => d.toJS())
      .filter(Boolean);
  const crds = readdirSync(`${dir}/crds`).flatMap((f) => docs(`${dir}/crds/${f}`));
  return { namespace: docs(`${dir}/namespace.yaml`), crds, rbac: docs(`${dir}/rbac.yaml`) };
}

function flowSchema(sa, precedence) {
  return {
    apiVersion: 'flowcontrol.apiserver.k8s.io/v1',
    kind: 'FlowSchema',
    metadata: { name: `ingot-bench-${sa}` },
    spec: {
      priorityLevelConfiguration: { name: 'workload-high' },
      matchingPrecedence: precedence,
      distinguisherMethod: { type: 'ByUser' },
      rules: [
        {
          subjects: [{ kind: 'ServiceAccount', serviceAccount: { name: sa, namespace: NS } }],
          resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'], clusterScope: true, namespaces: ['*'] }],
          nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
        },
      ],
    },
  };
}

function node(i) {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: `node-${String(i).padStart(3, '0')}`, labels: { 'kubernetes.io/hostname': `node-${i}` } },
  };
}

function lbService(name, namespace, cls, index = 0) {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: {
      // The real API server allocates cluster IPs; the fake does not.
      ...(FAKE ? { clusterIPs: [`2001:db8:5::${(index + 1).toString(16)}`] } : {}),
      type: 'LoadBalancer',
      // No NodePorts: 10,000 Services would exhaust the default range (30000-32767).
      allocateLoadBalancerNodePorts: false,
      ipFamilies: ['IPv6'],
      ports: [{ protocol: 'TCP', port: 80 }],
      selector: { app: name },
      ...(cls ? { loadBalancerClass: cls } : {}),
    },
  };
}

/** Who runs: the controller and `SPEAKERS` speakers, each a ServiceAccount of its own. */
const processNames = () => ['ingot-controller', ...Array.from({ length: SPEAKERS }, (_, i) => `ingot-speaker-${i}`)];

async function setUp(cluster) {
  const names = processNames();
  if (!FAKE) {
    const deploy = deployObjects();
    await cluster.setup([...deploy.namespace, ...deploy.crds]);
    // The shipped RBAC, its speaker bindings extended to one ServiceAccount per bench speaker.
    const speakers = names.filter((n) => n.startsWith('ingot-speaker-'));
    const rbac = deploy.rbac.map((o) =>
      (o.kind === 'RoleBinding' || o.kind === 'ClusterRoleBinding') && o.roleRef?.name === 'ingot-speaker'
        ? { ...o, subjects: speakers.map((name) => ({ kind: 'ServiceAccount', name, namespace: NS })) }
        : o,
    );
    await cluster.setup([
      ...rbac,
      ...speakers.map((name) => ({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace: NS } })),
      ...names.map((n, i) => flowSchema(n, 500 + i)),
    ]);
  }
  await cluster.setup([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: BENCH_NS } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: REF_NS } },
    {
      apiVersion: 'metallb.io/v1beta1',
      kind: 'IPAddressPool',
      metadata: { name: 'bench', namespace: NS },
      spec: { addresses: [POOL] },
    },
    { apiVersion: 'metallb.io/v1beta1', kind: 'L2Advertisement', metadata: { name: 'bench', namespace: NS }, spec: {} },
  ]);
  // Nodes, Ready (kubelet would report it; there is none).
  const nodes = Array.from({ length: NODES }, (_, i) => node(i));
  await pool(nodes, CREATE_CONCURRENCY, async (n) => {
    if (FAKE) {
      await cluster.setup([{ ...n, status: { conditions: [{ type: 'Ready', status: 'True' }] } }]);
      return;
    }
    await must(cluster.api.request('POST', '/api/v1/nodes', n), `create ${n.metadata.name}`);
    await must(
      cluster.api.request(
        'PATCH',
        `/api/v1/nodes/${n.metadata.name}/status`,
        {
          status: {
            conditions: [
              { type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() },
            ],
          },
        },
        'application/merge-patch+json',
      ),
      `status of ${n.metadata.name}`,
    );
  });
}

/** Starts `ingot run --kubernetes` for each name; resolves once each serves metrics with a configuration loaded. */
async function startProcesses(cluster, names) {
  const procs = [];
  for (const name of names) {
    const kubeconfig = await cluster.kubeconfigFor(name);
    const port = await freePort();
    const speaker = name.startsWith('ingot-speaker-');
    const argv = [
      CLI,
      'run',
      '--kubeconfig',
      kubeconfig,
      '--namespace',
      NS,
      '--log-level',
      'warn',
      '--log-format',
      'json',
    ];
    argv.push('--role', speaker ? 'speaker' : 'controller', '--metrics-bind', `127.0.0.1:${port}`);
    if (speaker) argv.push('--node', `node-${name.split('-').pop().padStart(3, '0')}`);
    const node = PROFILE_DIR ? ['--cpu-prof', '--cpu-prof-dir', `${PROFILE_DIR}/${name}`] : [];
    const start = (STARTS.get(name) ?? 0) + 1;
    STARTS.set(name, start);
    const probeDir = HEAP_DIR ? `${HEAP_DIR}/${SERVICES_NOW.count}/${name}-${start}` : undefined;
    const env = { ...process.env, NODE_OPTIONS };
    if (probeDir) {
      mkdirSync(probeDir, { recursive: true });
      node.push('--import', new URL('./memory-probe.mjs', import.meta.url).href);
      env.INGOT_MEMORY_PROBE = probeDir;
    }
    const child = spawn(process.execPath, [...node, ...argv], { stdio: ['ignore', 'ignore', 'pipe'], env });
    let stderr = '';
    child.stderr.on('data', (c) => {
      stderr = (stderr + c).slice(-4000);
    });
    procs.push({ name, child, port, probeDir, stderr: () => stderr });
  }
  for (const p of procs)
    await until(
      `${p.name} healthy`,
      async () => {
        if (p.child.exitCode !== null) throw new Error(`bench: ${p.name} exited ${p.child.exitCode}: ${p.stderr()}`);
        return (await scrape(p).catch(() => undefined))?.get('metallb_k8s_client_config_loaded_bool') === 1;
      },
      120_000,
      100,
    );
  return procs;
}

async function scrape(p) {
  const r = await fetch(`http://127.0.0.1:${p.port}/metrics`);
  return parseMetrics(await r.text());
}

// ---------------------------------------------------------------------------------------------------------- phases

/** Serial status writes, one after the other (MetalLB's controller: one reconcile at a time, one update each). */
async function referenceWrites(cluster) {
  const names = Array.from({ length: REFERENCE }, (_, i) => `ref-${i}`);
  await pool(names, CREATE_CONCURRENCY, (n) =>
    must(
      cluster.api.request(
        'POST',
        `/api/v1/namespaces/${REF_NS}/services`,
        lbService(n, REF_NS, REF_CLASS, Number(n.slice(4))),
      ),
      `create ${n}`,
    ),
  );
  // One reconcile at a time, one status update each; its IPAllocated Event goes to a second worker, as client-go's
  // event broadcaster posts them beside the reconciles. Done when both are.
  const events = [];
  let eventsDone = Promise.resolve();
  const postEvents = async () => {
    while (events.length > 0) {
      const e = events.shift();
      await must(cluster.api.request('POST', `/api/v1/namespaces/${REF_NS}/events`, e), 'reference event');
    }
  };
  // Timed as Ingot is: until the bench's own watch has seen every status.
  const seen = new Set();
  const stop = await cluster.api.watch(`/api/v1/namespaces/${REF_NS}/services?watch=true`, (type, obj) => {
    if (type === 'MODIFIED' && obj.status?.loadBalancer?.ingress?.[0]?.ip) seen.add(obj.metadata.name);
  });
  const started = now();
  for (const [i, n] of names.entries()) {
    const ip = `2001:db8:200::${(i + 1).toString(16)}`;
    const svc = await must(
      cluster.api.request(
        'PATCH',
        `/api/v1/namespaces/${REF_NS}/services/${n}/status`,
        { status: { loadBalancer: { ingress: [{ ip }] } } },
        'application/merge-patch+json',
      ),
      `status of ${n}`,
    );
    events.push(referenceEvent(svc, ip));
    if (events.length === 1) eventsDone = eventsDone.then(postEvents);
  }
  await until('the reference statuses seen', () => seen.size >= names.length, TIMEOUT_MS, 5);
  const statusMs = now() - started;
  await eventsDone;
  stop();
  return { statusMsPerService: statusMs / names.length, msPerService: (now() - started) / names.length };
}

function referenceEvent(svc, ip) {
  const at = new Date().toISOString();
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { generateName: `${svc.metadata.name}.`, namespace: REF_NS },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Service',
      name: svc.metadata.name,
      namespace: REF_NS,
      uid: svc.metadata.uid,
      resourceVersion: svc.metadata.resourceVersion,
    },
    reason: 'IPAllocated',
    message: `Assigned IP ["${ip}"]`,
    type: 'Normal',
    source: { component: 'metallb-controller' },
    firstTimestamp: at,
    lastTimestamp: at,
    count: 1,
  };
}

/**
 * Creates `count` Services while no controller runs (creation time: the API server's own floor), then starts the
 * controller and times until every Service has its IP in status (watched by the bench).
 */
async function assignment(cluster, count, others) {
  const assigned = new Set();
  const stop = await cluster.api.watch(`/api/v1/namespaces/${BENCH_NS}/services?watch=true`, (type, obj) => {
    if (type === 'ADDED' || type === 'MODIFIED')
      if (obj.status?.loadBalancer?.ingress?.[0]?.ip) assigned.add(obj.metadata.name);
  });
  try {
    const names = Array.from({ length: count }, (_, i) => `svc-${i}`);
    const createStarted = now();
    await pool(names, CREATE_CONCURRENCY, (n) =>
      must(
        cluster.api.request(
          'POST',
          `/api/v1/namespaces/${BENCH_NS}/services`,
          lbService(n, BENCH_NS, undefined, Number(n.slice(4))),
        ),
        `create ${n}`,
      ),
    );
    const createMs = now() - createStarted;
    if (assigned.size > 0) throw new Error('bench: services got IPs with no controller running');
    const pids = { ...cluster.pids(), ...Object.fromEntries(others.map((p) => [p.name, p.child.pid])) };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuSecondsOf(pid)]));
    const serverBefore = await cluster.apiServerMetrics();
    const started = now();
    const [controller] = await startProcesses(cluster, ['ingot-controller']);
    // Started, caches synced and configuration loaded (its /metrics says so); the full pass runs from here.
    const syncedMs = now() - started;
    try {
      await until(`${count} services assigned (${assigned.size} so far)`, () => assigned.size >= count, TIMEOUT_MS, 20);
    } catch (err) {
      // Not returned to the scenario, which stops only what it knows: stop it here (a timed-out run left it running).
      controller.child.kill('SIGTERM');
      throw err;
    }
    const assignedMs = now() - started;
    // Where the time went: CPU seconds of every process over the phase, and the API server's own latencies.
    const cpu = Object.fromEntries(Object.entries(pids).map(([n, pid]) => [n, cpuSecondsOf(pid) - cpuBefore[n]]));
    cpu['ingot-controller'] = cpuSecondsOf(controller.child.pid);
    const serverAfter = await cluster.apiServerMetrics();
    const delta = (name, labels) => {
      const a = histogram(serverBefore, name, labels);
      const b = histogram(serverAfter, name, labels);
      return { count: b.count - a.count, meanMs: ((b.sum - a.sum) / Math.max(1, b.count - a.count)) * 1000 };
    };
    const server = {
      statusPatch: delta('apiserver_request_duration_seconds', [
        'verb="PATCH"',
        'resource="services"',
        'subresource="status"',
      ]),
      eventPost: delta('apiserver_request_duration_seconds', ['verb="POST"', 'resource="events"']),
      etcdUpdate: delta('etcd_request_duration_seconds', ['operation="update"']),
      etcdCreate: delta('etcd_request_duration_seconds', ['operation="create"']),
    };
    return { controller, createMs, syncedMs, assignedMs, cpu, server };
  } finally {
    stop();
  }
}

/** SIGTERM the controller, start it again over the converged Services: time to its initial load, and writes made. */
async function restart(cluster, controller) {
  controller.child.kill('SIGTERM');
  await new Promise((r) => (controller.child.exitCode === null ? controller.child.once('exit', r) : r()));
  const started = now();
  const [again] = await startProcesses(cluster, ['ingot-controller']);
  // Healthy means configuration loaded; the full pass follows: wait until the allocator holds every Service.
  await until('controller re-claimed every IP', async () => {
    const m = await scrape(again);
    return sum(m, /^metallb_allocator_services_allocated_total/) >= SERVICES_NOW.count;
  });
  const readyMs = now() - started;
  await sleep(3_000);
  const writes = sum(await scrape(again), /^metallb_k8s_client_updates_total/);
  return { proc: again, readyMs, writes };
}

/** Requests kube-apiserver dispatched for each process's ServiceAccount, from its APF counter. */
function dispatched(serverMetrics, name) {
  const prefix = `apiserver_flowcontrol_dispatched_requests_total{`;
  const label = `flow_schema="ingot-bench-${name}"`;
  return [...serverMetrics].filter(([k]) => k.startsWith(prefix) && k.includes(label)).reduce((a, [, v]) => a + v, 0);
}

/**
 * Waits until no process has made a request for 5 s (the controller posts its Events after the statuses), bounded by
 * the phase timeout, then counts every process's requests over `--steady-seconds`.
 */
async function steadyState(cluster, procs) {
  const settleStarted = now();
  let last = procs.map(() => -1);
  let quietSince = now();
  await until(
    'every process quiet for 5 s',
    async () => {
      const m = await cluster.apiServerMetrics();
      const counts = procs.map((p) => dispatched(m, p.name));
      if (counts.some((c, i) => c !== last[i])) quietSince = now();
      last = counts;
      return now() - quietSince >= 5_000;
    },
    TIMEOUT_MS,
    1_000,
  );
  const settleMs = now() - settleStarted;
  const snap = async () => ({
    at: now(),
    server: await cluster.apiServerMetrics(),
    own: await Promise.all(procs.map(scrape)),
  });
  const a = await snap();
  await sleep(STEADY_S * 1000);
  const b = await snap();
  const seconds = (b.at - a.at) / 1000;
  return procs.map((p, i) => {
    const served = dispatched(b.server, p.name) - dispatched(a.server, p.name);
    const watches = sum(b.own[i], /^ingot_k8s_watch_requests_total/) - sum(a.own[i], /^ingot_k8s_watch_requests_total/);
    const writes =
      sum(b.own[i], /^metallb_k8s_client_updates_total/) - sum(a.own[i], /^metallb_k8s_client_updates_total/);
    return {
      name: p.name,
      seconds,
      perSecond: served / seconds,
      beyondWatchesPerSecond: (served - watches) / seconds,
      watchStarts: watches,
      writes,
      settleMs,
    };
  });
}

async function propagation(cluster, procs, count) {
  const speakers = procs.filter((p) => p.name.startsWith('ingot-speaker-'));
  const lastSeen = async (p) => {
    const m = await scrape(p);
    return {
      rv: m.get('ingot_k8s_watch_last_event_resource_version{resource="service"}') ?? 0,
      at: (m.get('ingot_k8s_watch_last_event_received_seconds{resource="service"}') ?? 0) * 1000,
    };
  };
  const toAll = [];
  const perSpeaker = [];
  for (let i = 0; i < CHANGES; i++) {
    const name = `svc-${(i * 7919) % Math.min(count, 1000)}`;
    const sent = now();
    const updated = await must(
      cluster.api.request(
        'PATCH',
        `/api/v1/namespaces/${BENCH_NS}/services/${name}`,
        { metadata: { labels: { 'bench-change': String(i) } } },
        'application/merge-patch+json',
      ),
      `change ${name}`,
    );
    const rv = Number(updated.metadata.resourceVersion);
    const seen = await Promise.all(
      speakers.map((p) =>
        until(
          `${p.name} to see rv ${rv}`,
          async () => {
            const s = await lastSeen(p);
            return s.rv >= rv ? s : undefined;
          },
          10_000,
          2,
        ),
      ),
    );
    const lat = seen.map((s) => s.at - sent);
    perSpeaker.push(...lat);
    toAll.push(Math.max(...lat));
    await sleep(20);
  }
  const sorted = (a) => [...a].sort((x, y) => x - y);
  return { toAll: sorted(toAll), perSpeaker: sorted(perSpeaker) };
}

// ---------------------------------------------------------------------------------------------------------- memory

const MB = (bytes) => bytes / 1048576;

/**
 * With --heap: each Ingot process's memory as its probe saw it (latest and peak of RSS, V8 heap, external), and for
 * the controller a V8 heap snapshot (SIGUSR2; writing one collects garbage first, so the heap used after it is what
 * is retained) summarised by constructor.
 */
async function heapFigures(procs) {
  const read = (p) => JSON.parse(readFileSync(`${p.probeDir}/memory.json`, 'utf8'));
  const out = { processes: {}, snapshot: undefined };
  for (const p of procs) {
    if (!p.probeDir || !existsSync(`${p.probeDir}/memory.json`)) continue;
    out.processes[p.name] = read(p);
  }
  const controller = procs.find((p) => p.name === 'ingot-controller' && p.probeDir);
  if (controller) {
    controller.child.kill('SIGUSR2');
    const probe = await until(
      'the controller heap snapshot',
      () => {
        const m = existsSync(`${controller.probeDir}/memory.json`) ? read(controller) : undefined;
        return m?.snapshots.length > 0 ? m : undefined;
      },
      180_000,
      500,
    );
    out.processes[controller.name].afterGc = probe.latest;
    out.processes[controller.name].beforeSnapshot = probe.beforeSnapshot;
    out.snapshot = { file: probe.snapshots[0], rows: heapSnapshotSummary(probe.snapshots[0]) };
  }
  return out;
}

/** Self sizes in a V8 heap snapshot summed by node type and constructor (or string/array/code), largest first. */
function heapSnapshotSummary(file, top = 20) {
  const snap = JSON.parse(readFileSync(file, 'utf8'));
  const fields = snap.snapshot.meta.node_fields;
  const types = snap.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f));
  const by = new Map();
  let total = 0;
  for (let i = 0; i < snap.nodes.length; i += width) {
    const type = types[snap.nodes[i + typeAt]];
    const size = snap.nodes[i + sizeAt];
    total += size;
    const key =
      type === 'object' || type === 'closure' ? `${type} ${snap.strings[snap.nodes[i + nameAt]]}` : `(${type})`;
    const row = by.get(key) ?? { count: 0, bytes: 0 };
    row.count++;
    row.bytes += size;
    by.set(key, row);
  }
  return {
    totalBytes: total,
    top: [...by]
      .sort((a, b) => b[1].bytes - a[1].bytes)
      .slice(0, top)
      .map(([what, r]) => ({ what, ...r })),
  };
}

function printHeap(heap) {
  const f = (m) =>
    `RSS ${MB(m.rss).toFixed(0)}, V8 heap used ${MB(m.heapUsed).toFixed(1)} of ${MB(m.heapTotal).toFixed(1)}, external ${MB(m.external).toFixed(1)} (array buffers ${MB(m.arrayBuffers).toFixed(1)}) MB`;
  const lines = ['  memory probe (process.memoryUsage(), sampled every 100 ms):'];
  for (const [name, m] of Object.entries(heap.processes)) {
    lines.push(`    ${name.padEnd(18)} now:  ${f(m.latest)}`, `    ${''.padEnd(18)} peak: ${f(m.peak)}`);
    if (m.afterGc) lines.push(`    ${''.padEnd(18)} after a full GC (heap snapshot): ${f(m.afterGc)}`);
    if (m.beforeSnapshot)
      lines.push(
        `    ${''.padEnd(18)} V8 spaces before it, size/used MB: ${Object.entries(m.beforeSnapshot.spaces)
          .filter(([, v]) => v.size > 0)
          .map(([k, v]) => `${k.replace(/_space$/, '')} ${MB(v.size).toFixed(1)}/${MB(v.used).toFixed(1)}`)
          .join(', ')}`,
      );
  }
  if (heap.snapshot) {
    lines.push(
      `  controller heap snapshot ${heap.snapshot.file}: ${MB(heap.snapshot.rows.totalBytes).toFixed(1)} MB, by self size:`,
      ...heap.snapshot.rows.top.map(
        (r) => `    ${MB(r.bytes).toFixed(2).padStart(8)} MB ${String(r.count).padStart(8)}  ${r.what}`,
      ),
    );
  }
  process.stdout.write(`${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------------------- main

async function scenario(count) {
  log(
    `== ${count} Services, ${NODES} Nodes, ${SPEAKERS} speakers${FAKE ? ' (FAKE API server)' : ''}; Ingot processes with NODE_OPTIONS=${JSON.stringify(NODE_OPTIONS)}`,
  );
  const cluster = FAKE ? await fakeCluster() : await realCluster();
  const procs = [];
  try {
    SERVICES_NOW.count = count;
    await setUp(cluster);
    procs.push(
      ...(await startProcesses(
        cluster,
        processNames().filter((n) => n !== 'ingot-controller'),
      )),
    );
    const ref = await referenceWrites(cluster);
    log(
      `reference: ${ref.msPerService.toFixed(2)} ms per Service (status update ${ref.statusMsPerService.toFixed(2)} ms)`,
    );
    const { controller, ...a } = await assignment(cluster, count, procs);
    procs.unshift(controller);
    log(`assigned ${count} in ${(a.assignedMs / 1000).toFixed(2)} s (creation ${(a.createMs / 1000).toFixed(2)} s)`);
    const steady = await steadyState(cluster, procs);
    const prop = await propagation(cluster, procs, count);
    const memory = Object.fromEntries([
      ...procs.map((p) => [p.name, memoryOf(p.child.pid)]),
      ...Object.entries(cluster.pids()).map(([n, pid]) => [n, memoryOf(pid)]),
    ]);
    const heap = HEAP_DIR ? await heapFigures(procs) : undefined;
    const r = await restart(cluster, controller);
    procs[0] = r.proc;
    log(`controller restart: every IP re-claimed in ${(r.readyMs / 1000).toFixed(2)} s, ${r.writes} writes`);
    return {
      count,
      reference: ref,
      ...a,
      steady,
      propagation: prop,
      memory,
      ...(heap ? { heap } : {}),
      restart: { readyMs: r.readyMs, writes: r.writes },
    };
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGTERM');
    await Promise.all(
      procs.map((p) => (p.child.exitCode === null ? new Promise((r) => p.child.once('exit', r)) : undefined)),
    );
    await cluster.stop();
  }
}

function print(r) {
  const s = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const serial = r.reference.msPerService * r.count;
  const lines = [
    `\n${r.count} Services, ${NODES} Nodes, ${SPEAKERS} speakers${FAKE ? '  [FAKE API server: not a real figure]' : ''}; Ingot processes with NODE_OPTIONS=${JSON.stringify(NODE_OPTIONS)}`,
    `  controller start to every IP     ${s(r.assignedMs)}  (target < 10 s for 10,000; the Services were created first, in ${s(r.createMs)})`,
    `  MetalLB's model, same server     ${s(serial)}  = ${r.count} x ${r.reference.msPerService.toFixed(2)} ms: one status update at a time, Events beside (measured on ${REFERENCE}; before any client rate limit)`,
    `    of which process start, list and configuration ${s(r.syncedMs)}; the writes ${s(r.assignedMs - r.syncedMs)}`,
    `  ratio MetalLB model / Ingot      ${(serial / r.assignedMs).toFixed(2)}x (writes only: ${(serial / (r.assignedMs - r.syncedMs)).toFixed(2)}x)`,
    `  CPU over that phase (2 cores: ${(r.assignedMs / 1000).toFixed(1)} s of wall time is ${((2 * r.assignedMs) / 1000).toFixed(1)} CPU-s): ${Object.entries(
      r.cpu,
    )
      .map(([n, c]) => `${n} ${c.toFixed(1)} s`)
      .join(', ')}`,
    ...(FAKE
      ? []
      : [
          `  API server over that phase: status patches ${r.server.statusPatch.count} (mean ${r.server.statusPatch.meanMs.toFixed(1)} ms), Events ${r.server.eventPost.count} (mean ${r.server.eventPost.meanMs.toFixed(1)} ms); etcd updates ${r.server.etcdUpdate.count} (mean ${r.server.etcdUpdate.meanMs.toFixed(1)} ms), creates ${r.server.etcdCreate.count} (mean ${r.server.etcdCreate.meanMs.toFixed(1)} ms)`,
        ]),
    `  steady state, after ${s(r.steady[0].settleMs)} to settle (kube-apiserver APF counts per ServiceAccount; target 0/s beyond watches):`,
    ...r.steady.map(
      (x) =>
        `    ${x.name.padEnd(18)} ${x.perSecond.toFixed(3)} req/s, beyond watch starts ${x.beyondWatchesPerSecond.toFixed(3)} req/s, status writes ${x.writes} (over ${x.seconds.toFixed(0)} s)`,
    ),
    `  change -> every speaker          p50 ${pct(r.propagation.toAll, 50).toFixed(1)} ms  p99 ${pct(r.propagation.toAll, 99).toFixed(1)} ms  (target p99 < 100 ms; ${r.propagation.toAll.length} changes)`,
    `  change -> one speaker            p50 ${pct(r.propagation.perSpeaker, 50).toFixed(1)} ms  p99 ${pct(r.propagation.perSpeaker, 99).toFixed(1)} ms`,
    `  controller restart               every IP re-claimed in ${s(r.restart.readyMs)}, ${r.restart.writes} writes (target 0)`,
    '  resident memory after the steady state (target < 150 MB per Ingot process):',
    ...Object.entries(r.memory).map(
      ([n, m]) => `    ${n.padEnd(18)} ${m.rssMB.toFixed(0)} MB (peak ${m.peakMB.toFixed(0)} MB)`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  if (r.heap) printHeap(r.heap);
}

/**
 * The self time of a V8 CPU profile (node --cpu-prof), summed by where the code lives (package, Ingot package or Node
 * internals) and by function: what a process spent its CPU on. Idle time is left out.
 */
function profileSummary(file, top = 12) {
  const prof = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (const [i, id] of prof.samples.entries()) self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  const where = new Map();
  const fn = new Map();
  let busy = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') continue;
    busy += us;
    const place =
      url.match(/node_modules\/((@[^/]+\/)?[^/]+)/)?.[1] ??
      (url.includes('/packages/') ? `@ingot/${url.replace(/.*\/packages\/([^/]+).*/, '$1')}` : url || functionName);
    where.set(place, (where.get(place) ?? 0) + us);
    const name = `${functionName || '(anonymous)'} ${url.replace(/.*node_modules\//, '').replace(/.*\/packages\//, '')}:${lineNumber + 1}`;
    fn.set(name, (fn.get(name) ?? 0) + us);
  }
  const rows = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => `      ${(us / 1000).toFixed(0).padStart(6)} ms  ${k}`);
  return [
    `    busy ${(busy / 1000).toFixed(0)} ms; by place:`,
    ...rows(where),
    '    by function (self time):',
    ...rows(fn),
  ];
}

function printProfiles() {
  for (const name of readdirSync(PROFILE_DIR).sort()) {
    const files = readdirSync(`${PROFILE_DIR}/${name}`).filter((f) => f.endsWith('.cpuprofile'));
    for (const f of files.sort())
      process.stdout.write(
        `  CPU profile of ${name} (${f}):\n${profileSummary(`${PROFILE_DIR}/${name}/${f}`).join('\n')}\n`,
      );
  }
}

// Each scenario's figures are printed as soon as it ends (a later scenario that fails loses only its own).
const results = [];
for (const count of SERVICES) {
  results.push(await scenario(count));
  if (!AS_JSON) print(results.at(-1));
}
if (PROFILE_DIR) printProfiles();
if (AS_JSON) process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
