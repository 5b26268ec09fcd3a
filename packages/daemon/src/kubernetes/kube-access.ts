import { readFileSync } from 'node:fs';
import https from 'node:https';
import { homedir } from 'node:os';
import { delimiter, dirname, isAbsolute, join, resolve } from 'node:path';
import { parse } from 'yaml';

/** Where a service account's token, CA and namespace are mounted in a pod. */
export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** What a `users[].user` of a kubeconfig needs that {@link KubeAccess} does not do itself. */
export class UnsupportedKubeConfigError extends Error {
  constructor(
    /** The field that needs `@kubernetes/client-node` (`exec`, `auth-provider`, ...). */
    readonly field: string,
  ) {
    super(`kubeconfig user uses ${field}, which Ingot's own loader does not handle`);
    this.name = 'UnsupportedKubeConfigError';
  }
}

/** A file name or inline base64 data, as kubeconfigs give CA, certificates and keys. */
interface Material {
  file?: string;
  data?: string;
}

/** What a {@link KubeAccess} was built from (paths already absolute). */
export interface KubeAccessSpec {
  /** The API server URL (`https://host:port`, `http://` for a plain proxy). */
  server: string;
  /** The CA bundle to trust. */
  ca?: Material;
  /** `insecure-skip-tls-verify`. */
  insecureSkipTlsVerify?: boolean;
  /** `tls-server-name`. */
  tlsServerName?: string;
  /** A bearer token. */
  token?: string;
  /** A file holding the bearer token, re-read for each credentials refresh (projected tokens rotate). */
  tokenFile?: string;
  /** A client certificate. */
  clientCertificate?: Material;
  /** The client certificate's key. */
  clientKey?: Material;
  /** The context's namespace. */
  namespace?: string;
}

/**
 * The cluster access the daemon needs (the API server URL, TLS material, credentials) without
 * `@kubernetes/client-node`: it offers the two methods `KubeHttp` uses of a client-node `KubeConfig`
 * (`getCurrentCluster`, `applyToHTTPSOptions`), so either can be given. Files (token, CA, certificate, key) are read
 * on each `applyToHTTPSOptions` (KubeHttp caches the answer for its credentials TTL), so rotated ones are picked up;
 * requests share one keep-alive agent, rebuilt when the TLS material changes.
 */
export class KubeAccess {
  private agent: https.Agent | undefined;
  private agentKey = '';

  constructor(
    /** What this access was built from. */
    readonly spec: KubeAccessSpec,
  ) {}

  /** The cluster, as client-node's `KubeConfig.getCurrentCluster()` answers (only `server` is used). */
  getCurrentCluster(): { server: string; skipTLSVerify: boolean } {
    return { server: this.spec.server, skipTLSVerify: this.spec.insecureSkipTlsVerify === true };
  }

  /** Sets `ca`, `cert`, `key`, `rejectUnauthorized`, `servername`, the `Authorization` header and the shared agent. */
  async applyToHTTPSOptions(opts: https.RequestOptions): Promise<void> {
    const s = this.spec;
    const headers = { ...(opts.headers as Record<string, string> | undefined) };
    const token = s.tokenFile ? readFileSync(s.tokenFile, 'utf8').trim() : s.token;
    if (token) headers.Authorization = `Bearer ${token}`;
    opts.headers = headers;
    const tls: https.AgentOptions = {};
    const ca = read(s.ca);
    if (ca) tls.ca = ca;
    const cert = read(s.clientCertificate);
    const key = read(s.clientKey);
    if (cert) tls.cert = cert;
    if (key) tls.key = key;
    if (s.insecureSkipTlsVerify) tls.rejectUnauthorized = false;
    if (s.tlsServerName) tls.servername = s.tlsServerName;
    Object.assign(opts, tls);
    if (this.spec.server.startsWith('https:')) {
      const k = [ca, cert, key].map((b) => b?.toString('base64') ?? '').join('\u0000');
      if (!this.agent || k !== this.agentKey) {
        this.agent = new https.Agent({ ...tls, keepAlive: true });
        this.agentKey = k;
      }
      opts.agent = this.agent;
    }
  }
}

function read(m: Material | undefined): Buffer | undefined {
  if (m?.data) return Buffer.from(m.data, 'base64');
  if (m?.file) return readFileSync(m.file);
  return undefined;
}

/** In-cluster access: the pod's service account (token file re-read, CA) and `KUBERNETES_SERVICE_HOST`/`_PORT`. */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set');
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim();
  } catch {
    namespace = undefined;
  }
  return new KubeAccess({
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ca: { file: join(dir, 'ca.crt') },
    tokenFile: join(dir, 'token'),
    ...(namespace ? { namespace } : {}),
  });
}

type Named<T> = { name?: string } & T;

/**
 * Reads a kubeconfig's current context (`current-context`, or `context` to choose another): the cluster's `server`,
 * `certificate-authority(-data)`, `insecure-skip-tls-verify`, `tls-server-name`, and the user's `token`,
 * `tokenFile`, `client-certificate(-data)`, `client-key(-data)`. Relative file names are relative to the kubeconfig's
 * directory. Throws {@link UnsupportedKubeConfigError} for a user with `exec`, `auth-provider` or `username`
 * (callers fall back to client-node's loader), and a plain Error naming what is missing otherwise.
 */
export function kubeConfigAccess(text: string, file: string, context?: string): KubeAccess {
  const doc = (parse(text) ?? {}) as Record<string, unknown>;
  if (typeof doc !== 'object') throw new Error(`${file}: not a kubeconfig`);
  const find = <T>(list: unknown, name: unknown, what: string): T => {
    const entry = (Array.isArray(list) ? (list as Named<Record<string, unknown>>[]) : []).find((e) => e?.name === name);
    if (!entry) throw new Error(`${file}: ${what} ${JSON.stringify(name)} not found`);
    return (entry[what] ?? {}) as T;
  };
  const current = context ?? doc['current-context'];
  if (typeof current !== 'string' || current === '') throw new Error(`${file}: no current-context`);
  const ctx = find<{ cluster?: string; user?: string; namespace?: string }>(doc.contexts, current, 'context');
  const cluster = find<Record<string, unknown>>(doc.clusters, ctx.cluster, 'cluster');
  const user = ctx.user === undefined ? {} : find<Record<string, unknown>>(doc.users, ctx.user, 'user');
  for (const field of ['exec', 'auth-provider', 'username', 'as', 'impersonate']) {
    if (user[field] !== undefined) throw new UnsupportedKubeConfigError(field);
  }
  if (cluster['proxy-url'] !== undefined) throw new UnsupportedKubeConfigError('proxy-url');
  const server = cluster.server;
  if (typeof server !== 'string' || server === '') throw new Error(`${file}: cluster ${ctx.cluster} has no server`);
  const base = dirname(resolve(file));
  const path = (v: unknown) => (typeof v === 'string' && v !== '' ? (isAbsolute(v) ? v : join(base, v)) : undefined);
  const material = (fileKey: string, dataKey: string, from: Record<string, unknown>): Material | undefined => {
    const data = from[dataKey];
    if (typeof data === 'string' && data !== '') return { data };
    const f = path(from[fileKey]);
    return f ? { file: f } : undefined;
  };
  const spec: KubeAccessSpec = { server };
  const ca = material('certificate-authority', 'certificate-authority-data', cluster);
  if (ca) spec.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) spec.insecureSkipTlsVerify = true;
  if (typeof cluster['tls-server-name'] === 'string') spec.tlsServerName = cluster['tls-server-name'];
  if (typeof user.token === 'string' && user.token !== '') spec.token = user.token;
  const tokenFile = path(user.tokenFile);
  if (tokenFile) spec.tokenFile = tokenFile;
  const cert = material('client-certificate', 'client-certificate-data', user);
  const key = material('client-key', 'client-key-data', user);
  if (cert) spec.clientCertificate = cert;
  if (key) spec.clientKey = key;
  if (typeof ctx.namespace === 'string') spec.namespace = ctx.namespace;
  return new KubeAccess(spec);
}

/**
 * The kubeconfig file {@link loadKubeAccess} reads without an explicit one: `$KUBECONFIG` when it names one file,
 * else `~/.kube/config`. Undefined when `$KUBECONFIG` lists several (client-node merges them).
 */
export function defaultKubeConfigFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter((p) => p !== '');
  if (list.length > 1) return undefined;
  return list[0] ?? join(env.HOME ?? homedir(), '.kube', 'config');
}
