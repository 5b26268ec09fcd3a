import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatCommand, PollAbort, pollUntil, tail } from '../command.js';
import { type LabHost, NamespaceHost } from '../host.js';
import { type LabProcess, wrapProcess } from '../lab-process.js';
import { trackDir, untrackDir } from '../registry.js';
import {
  type Endpoint,
  type KubeRequestOptions,
  type KubeResponse,
  objectPath,
  type ResourceInfo,
  sendRequest,
} from './api-client.js';
import { requireBuiltTool } from './binaries.js';
import { makeClusterPki } from './pki.js';
import { Discovery, type KubeObject } from './resources.js';

/** Options of {@link startKubernetes}. */
export interface KubernetesOptions {
  /**
   * Run etcd and kube-apiserver in this host's namespace: the API server listens on every address there (port 6443)
   * and advertises `host.ipv4`, so daemons in other namespaces of the same LAN reach it at `https://<ipv4>:6443`. The
   * test process reaches it through a Unix socket forwarder. Default: the root namespace's loopback, on free ports.
   */
  host?: LabHost;
  /** `--service-cluster-ip-range` (default '203.0.113.128/25'; a documentation range, never routed in the lab). */
  serviceClusterIpRange?: string;
  /**
   * kube-apiserver's watch cache (default true, as in every real cluster). With it, watches are served from the API
   * server's own window of recent events, so an etcd compaction alone does not make a watch from an old
   * resourceVersion fail; after a restart the cache starts afresh and such a watch gets 410 Gone. With false, every
   * watch reads etcd and gets 410 Gone as soon as its resourceVersion is compacted.
   */
  watchCache?: boolean;
  /** Extra kube-apiserver flags, appended after the lab's own (a later flag wins). */
  apiServerArgs?: readonly string[];
  /** How long to wait for `/readyz` (default 180 s: a cold start on a busy 2-core machine takes 10-30 s). */
  startTimeoutMs?: number;
}

/** Options of {@link LabKubernetes.apply}. */
export interface ApplyOptions {
  /** Server-side apply field manager (default 'ingot-lab'). */
  fieldManager?: string;
  /** Apply to a subresource, e.g. 'status' (a Node's conditions, a Service's load balancer status). */
  subresource?: string;
  /** Bearer token (default the admin token). */
  token?: string;
}

/** A running etcd + kube-apiserver; see {@link startKubernetes}. */
export interface LabKubernetes {
  /** The API server's URL as daemons see it, e.g. 'https://192.0.2.10:6443' or 'https://127.0.0.1:40123'. */
  readonly server: string;
  /** PEM of the CA that signed the serving certificate (what kubeconfigs trust). */
  readonly caPem: string;
  /** A static token of user 'lab-admin' in group system:masters. */
  readonly adminToken: string;
  /** Path of a kubeconfig with {@link LabKubernetes.adminToken}. */
  readonly adminKubeconfig: string;
  /** The cluster's temporary directory (certificates, etcd data, kubeconfigs); removed by stop(). */
  readonly dir: string;
  /** The current kube-apiserver process (a new one after {@link LabKubernetes.restartApiServer}). */
  apiServer(): LabProcess;
  /** The etcd process. */
  etcd(): LabProcess;
  /** Write a kubeconfig for `token` (server, CA data, token) and return its path. */
  kubeconfigFor(token: string, name?: string): string;
  /**
   * A token of ServiceAccount `namespace/name` from the TokenRequest API (valid `expirationSeconds`, default 24 h).
   * The namespace and the ServiceAccount are created first when missing (there is no controller-manager).
   */
  serviceAccountToken(namespace: string, name: string, opts?: { expirationSeconds?: number }): Promise<string>;
  /**
   * Server-side apply each object in order (force, field manager 'ingot-lab'), resolving with what the server
   * returned. The resource is found by discovery; after a CustomResourceDefinition it waits until the CRD is
   * Established, so its custom resources can follow in the same call. Throws on the first non-2xx answer.
   */
  apply(objects: KubeObject | readonly KubeObject[], opts?: ApplyOptions): Promise<KubeObject[]>;
  /** Delete an object (resolves with the HTTP status: 200/202, or 404 when it was not there). */
  delete(object: KubeObject, opts?: { token?: string }): Promise<number>;
  /**
   * One HTTP request to the API server as admin (or `opts.token`). Never throws on an HTTP status: look at
   * `status`. Objects are sent as JSON.
   */
  request(method: string, path: string, body?: unknown, opts?: KubeRequestOptions): Promise<KubeResponse>;
  /** kube-apiserver's Prometheus text from /metrics. */
  metrics(): Promise<string>;
  /** Stop kube-apiserver (SIGTERM) and start it again with the same flags; resolves once /readyz is ok. */
  restartApiServer(): Promise<void>;
  /**
   * Compact etcd up to its current revision (the gRPC gateway's /v3/kv/compaction, physical), so reading an older
   * resourceVersion from etcd gets 410 Gone: at once for an exact list, for a watch once the API server's watch cache
   * no longer holds it (after {@link LabKubernetes.restartApiServer}, or always with `watchCache: false`). Resolves
   * with the revision compacted to.
   */
  compactEtcd(): Promise<number>;
  /** Stop kube-apiserver, etcd and the forwarder by PID and remove the directory. Idempotent. */
  stop(): Promise<void>;
}

const FORWARDER = fileURLToPath(new URL('./socket-forwarder.mjs', import.meta.url));

/** A free TCP port on 127.0.0.1 (bound, read, closed: a small race with other processes, acceptable in tests). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('lab: no free port'))));
    });
  });
}

/**
 * Start a real Kubernetes control plane for lab tests: etcd and kube-apiserver from the lab's build cache
 * (packages/lab/go/build-tools.sh), serving TLS with a certificate from a throwaway CA, a static admin token,
 * ServiceAccount signing keys, `--authorization-mode=Node,RBAC` and a documentation-range service CIDR. There is no
 * controller-manager, scheduler or kubelet: tests create Nodes, EndpointSlices and ServiceAccounts themselves.
 * Resolves once `/readyz` answers ok. Every process is tracked by PID and killed on stop(), when the host's topology
 * is destroyed, or at process exit; on a failure while starting, whatever started is stopped before the error
 * (which carries the processes' output) is thrown.
 */
export async function startKubernetes(options: KubernetesOptions = {}): Promise<LabKubernetes> {
  const etcdBin = requireBuiltTool('etcd');
  const apiServerBin = requireBuiltTool('kube-apiserver');
  const host = options.host;
  const dir = mkdtempSync(join(tmpdir(), 'ingot-kube-'));
  trackDir(dir);
  const procs: LabProcess[] = [];
  const start = (cmd: string, args: string[]): LabProcess => {
    let p: LabProcess;
    if (host) p = host.spawn(cmd, args);
    else {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      p = wrapProcess(child, formatCommand(cmd, args));
    }
    procs.push(p);
    return p;
  };
  const stopAll = async () => {
    await Promise.all(procs.splice(0).map((p) => p.stop()));
    rmSync(dir, { recursive: true, force: true });
    untrackDir(dir);
  };

  try {
    const ports = host
      ? { etcd: 2379, etcdPeer: 2380, api: 6443 }
      : { etcd: await freePort(), etcdPeer: await freePort(), api: await freePort() };
    const address = host ? host.ipv4 : '127.0.0.1';
    const server = `https://${address}:${ports.api}`;
    const serviceRange = options.serviceClusterIpRange ?? '203.0.113.128/25';
    const pki = await makeClusterPki(dir, ['127.0.0.1', address, firstServiceIp(serviceRange)]);
    const adminToken = randomBytes(24).toString('hex');
    writeFileSync(join(dir, 'tokens.csv'), `${adminToken},lab-admin,lab-admin-uid,"system:masters"\n`, {
      mode: 0o600,
    });

    const etcdUrl = `http://127.0.0.1:${ports.etcd}`;
    const peerUrl = `http://127.0.0.1:${ports.etcdPeer}`;
    const etcd = start(etcdBin, [
      '--name=lab',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=lab=${peerUrl}`,
      '--log-level=warn',
      '--unsafe-no-fsync',
    ]);

    let apiEndpoint: Endpoint = { host: '127.0.0.1', port: ports.api };
    let etcdEndpoint: Endpoint = { host: '127.0.0.1', port: ports.etcd };
    if (host) {
      const apiSock = join(dir, 'apiserver.sock');
      const etcdSock = join(dir, 'etcd.sock');
      const fwd = host.fork(FORWARDER, [`${apiSock}=127.0.0.1:${ports.api}`, `${etcdSock}=127.0.0.1:${ports.etcd}`]);
      procs.push(fwd);
      await fwd.waitMessage((m) => m?.ready === true, 10_000);
      apiEndpoint = { socketPath: apiSock };
      etcdEndpoint = { socketPath: etcdSock };
    }

    const apiArgs = [
      `--etcd-servers=${etcdUrl}`,
      `--bind-address=${host ? '0.0.0.0' : '127.0.0.1'}`,
      `--advertise-address=${address}`,
      `--secure-port=${ports.api}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--token-auth-file=${join(dir, 'tokens.csv')}`,
      '--authorization-mode=Node,RBAC',
      `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      `--service-cluster-ip-range=${serviceRange}`,
      // A loopback address may not be an Endpoints address: without a namespace nobody could reach it anyway.
      `--endpoint-reconciler-type=${host ? 'lease' : 'none'}`,
      `--cert-dir=${join(dir, 'apiserver-certs')}`,
      '--profiling=false',
      ...(options.watchCache === false ? ['--watch-cache=false'] : []),
      ...(options.apiServerArgs ?? []),
    ];
    const newAgent = () => new https.Agent({ keepAlive: true, ca: pki.caPem, maxSockets: 16 });
    let agent = newAgent();
    const etcdAgent = new http.Agent({ keepAlive: false });
    let apiServer = start(apiServerBin, apiArgs);
    const startTimeoutMs = options.startTimeoutMs ?? 180_000;

    const request = (method: string, path: string, body?: unknown, opts: KubeRequestOptions = {}) =>
      sendRequest(apiEndpoint, { agent, secure: true }, method, path, body, {
        ...opts,
        token: opts.token ?? adminToken,
      });

    const waitReady = async () => {
      await pollUntil(
        async () => {
          for (const p of [etcd, apiServer]) {
            if (p.exitCode() !== undefined)
              throw new PollAbort(`${p.description} exited with ${p.exitCode()}\n${tail(p.stderr(), 4000)}`);
          }
          const r = await request('GET', '/readyz', undefined, { timeoutMs: 5000 });
          return r.status === 200 && r.text.trim() === 'ok' ? true : undefined;
        },
        startTimeoutMs,
        async () => {
          const r = await request('GET', '/readyz?verbose', undefined, { timeoutMs: 5000 }).catch((e) => ({
            text: String(e),
          }));
          return `kube-apiserver /readyz\n${tail(r.text, 3000)}\n--- kube-apiserver ---\n${tail(apiServer.stderr(), 3000)}\n--- etcd ---\n${tail(etcd.stderr(), 2000)}`;
        },
        250,
      );
    };
    await waitReady();

    const kubeconfigFor = (token: string, name = 'user'): string => {
      const file = join(dir, `kubeconfig-${name.replace(/[^\w.-]/g, '_')}-${randomBytes(3).toString('hex')}`);
      const config = {
        apiVersion: 'v1',
        kind: 'Config',
        clusters: [
          { name: 'lab', cluster: { server, 'certificate-authority-data': Buffer.from(pki.caPem).toString('base64') } },
        ],
        users: [{ name, user: { token } }],
        contexts: [{ name: 'lab', context: { cluster: 'lab', user: name } }],
        'current-context': 'lab',
      };
      writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
      return file;
    };
    const adminKubeconfig = kubeconfigFor(adminToken, 'lab-admin');
    const discovery = new Discovery((path) => request('GET', path));

    const apply = async (objects: KubeObject | readonly KubeObject[], opts: ApplyOptions = {}) => {
      const list: readonly KubeObject[] = Array.isArray(objects) ? objects : [objects as KubeObject];
      const out: KubeObject[] = [];
      for (const obj of list) {
        const resource: ResourceInfo = await discovery.resource(obj.apiVersion, obj.kind);
        let path = objectPath(obj.apiVersion, resource, obj.metadata.name, obj.metadata.namespace);
        if (opts.subresource) path += `/${opts.subresource}`;
        const manager = encodeURIComponent(opts.fieldManager ?? 'ingot-lab');
        const r = await request('PATCH', `${path}?fieldManager=${manager}&force=true`, obj, {
          contentType: 'application/apply-patch+yaml',
          ...(opts.token ? { token: opts.token } : {}),
        });
        if (r.status < 200 || r.status >= 300)
          throw new Error(`lab: apply ${obj.kind} ${obj.metadata.name}: HTTP ${r.status}: ${tail(r.text, 2000)}`);
        out.push(r.json());
        if (obj.kind === 'CustomResourceDefinition' && !opts.subresource) await waitEstablished(obj.metadata.name);
      }
      return out;
    };
    const waitEstablished = (name: string) =>
      pollUntil(
        async () => {
          const r = await request('GET', `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
          const conditions: { type: string; status: string }[] = r.json().status?.conditions ?? [];
          return conditions.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
        },
        30_000,
        () => `CRD ${name} to be Established`,
        100,
      );

    let stopping: Promise<void> | undefined;
    const cluster: LabKubernetes = {
      server,
      caPem: pki.caPem,
      adminToken,
      adminKubeconfig,
      dir,
      apiServer: () => apiServer,
      etcd: () => etcd,
      kubeconfigFor,
      request,
      apply,
      async delete(obj, opts = {}) {
        const resource = await discovery.resource(obj.apiVersion, obj.kind);
        const path = objectPath(obj.apiVersion, resource, obj.metadata.name, obj.metadata.namespace);
        const r = await request('DELETE', path, undefined, opts);
        if (r.status !== 200 && r.status !== 202 && r.status !== 404)
          throw new Error(`lab: delete ${obj.kind} ${obj.metadata.name}: HTTP ${r.status}: ${tail(r.text, 2000)}`);
        return r.status;
      },
      async serviceAccountToken(namespace, name, opts = {}) {
        await apply([
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } },
          { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name, namespace } },
        ]);
        const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/serviceaccounts/${encodeURIComponent(name)}/token`;
        const r = await request('POST', path, {
          apiVersion: 'authentication.k8s.io/v1',
          kind: 'TokenRequest',
          spec: { expirationSeconds: opts.expirationSeconds ?? 86_400 },
        });
        if (r.status !== 201 && r.status !== 200)
          throw new Error(`lab: TokenRequest for ${namespace}/${name}: HTTP ${r.status}: ${tail(r.text, 2000)}`);
        const token: unknown = r.json().status?.token;
        if (typeof token !== 'string')
          throw new Error(`lab: TokenRequest answer without a token: ${tail(r.text, 500)}`);
        return token;
      },
      async metrics() {
        const r = await request('GET', '/metrics');
        if (r.status !== 200) throw new Error(`lab: GET /metrics: HTTP ${r.status}: ${tail(r.text, 500)}`);
        return r.text;
      },
      async restartApiServer() {
        const old = apiServer;
        await old.stop();
        procs.splice(procs.indexOf(old), 1);
        agent.destroy(); // its kept-alive connections went with the old server
        agent = newAgent();
        apiServer = start(apiServerBin, apiArgs);
        await waitReady();
      },
      async compactEtcd() {
        const call = async (path: string, body: unknown) => {
          const r = await sendRequest(etcdEndpoint, { agent: etcdAgent, secure: false }, 'POST', path, body, {
            token: '',
          });
          if (r.status !== 200) throw new Error(`lab: etcd ${path}: HTTP ${r.status}: ${tail(r.text, 500)}`);
          return r.json();
        };
        // Any range answer carries the store's current revision in its header.
        const range = await call('/v3/kv/range', { key: Buffer.from('/').toString('base64'), limit: 1 });
        const revision = String(range.header?.revision ?? '');
        if (!/^\d+$/.test(revision))
          throw new Error(`lab: etcd range answer without a revision: ${JSON.stringify(range)}`);
        await call('/v3/kv/compaction', { revision, physical: true });
        return Number(revision);
      },
      stop() {
        stopping ??= (async () => {
          agent.destroy();
          await stopAll();
        })();
        return stopping;
      },
    };
    if (host instanceof NamespaceHost) host.onDestroy(() => cluster.stop());
    return cluster;
  } catch (e) {
    await stopAll().catch(() => {});
    throw e;
  }
}

/** The first usable address of the service range (the `kubernetes` Service's ClusterIP), for the certificate. */
export function firstServiceIp(range: string): string {
  const first = range.split(',')[0] ?? range;
  const [addr, len] = first.split('/');
  if (!addr || !len || !net.isIP(addr)) throw new Error(`lab: bad service range ${range}`);
  if (net.isIPv4(addr)) {
    const n = addr.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
    const mask = Number(len) === 0 ? 0 : (0xffffffff << (32 - Number(len))) >>> 0;
    const ip = ((n & mask) >>> 0) + 1;
    return [24, 16, 8, 0].map((s) => (ip >>> s) & 255).join('.');
  }
  // IPv6: the CIDR's own address with its last group incremented is enough for the ranges tests use (…::/N).
  return addr.endsWith('::') ? `${addr}1` : addr;
}
