import type { Agent as HttpAgent } from 'node:http';
import type { AgentOptions, Agent as HttpsAgent } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

/** The `@kubernetes/client-node` module (1.4, ESM). */
export type KubeClientModule = typeof import('@kubernetes/client-node');

let loading: Promise<KubeClientModule> | undefined;

/**
 * Loads `@kubernetes/client-node` on first use, so importing `@ingot/daemon` for standalone use does not pay for the
 * Kubernetes client (about a second to import) and CommonJS consumers are not forced to load an ES module.
 */
export function loadKubeClient(): Promise<KubeClientModule> {
  loading ??= import('@kubernetes/client-node');
  return loading;
}

/** The `User-Agent` Ingot's requests carry unless {@link shareConnections} is given another. */
export const DEFAULT_USER_AGENT = 'ingot';

/** Options of {@link shareConnections}. */
export interface ShareConnectionsOptions {
  /** The `User-Agent` header of every request (API calls and watches). @default 'ingot' */
  userAgent?: string;
}

/** What {@link shareConnections} installed on a KubeConfig. */
interface Shared {
  key: string;
  agent?: HttpsAgent | HttpAgent;
  userAgent: string;
}

const SHARED = Symbol.for('ingot.kube.sharedConnections');

/** The private parts of `KubeConfig` 1.4 that {@link shareConnections} wraps (every request goes through both). */
interface KubeConfigInternals {
  createAgent(cluster: unknown, agentOptions: AgentOptions): HttpsAgent | HttpAgent;
  applyOptions(opts: { headers?: Record<string, unknown> }): Promise<void>;
  [SHARED]?: Shared;
}

/**
 * Makes every request made through `kubeConfig` (API clients from `makeApiClient`, `Watch`, informers' lists) share
 * one keep-alive agent, and carry a `User-Agent`. `@kubernetes/client-node` 1.4 builds a new `https.Agent` (without
 * keep-alive) for each request, so each request costs a TCP connection and a TLS handshake; with this, requests reuse
 * idle connections. HTTP/1.1 has one request per connection at a time, so each open watch holds a connection of its
 * own and concurrent requests open more: the agent keeps them for reuse rather than closing them.
 *
 * The agent is rebuilt when the TLS material changes (for instance rotated client certificate files); connections of
 * the old one finish what they carry. Idempotent: a second call only updates the user agent when given one.
 * Returns `kubeConfig`.
 */
export function shareConnections(kubeConfig: KubeConfig, options: ShareConnectionsOptions = {}): KubeConfig {
  const kc = kubeConfig as unknown as KubeConfigInternals;
  const existing = kc[SHARED];
  if (existing) {
    if (options.userAgent) existing.userAgent = options.userAgent;
    return kubeConfig;
  }
  const shared: Shared = {
    key: '',
    userAgent: options.userAgent ?? DEFAULT_USER_AGENT,
  };
  const createAgent = kc.createAgent.bind(kc);
  const applyOptions = kc.applyOptions.bind(kc);
  kc.createAgent = (cluster, agentOptions) => {
    const key = agentKey(cluster, agentOptions);
    if (key !== shared.key) {
      // Plain agents and the proxy agents (hpagent, socks) all take keepAlive through their options.
      shared.agent = createAgent(cluster, { ...agentOptions, keepAlive: true });
      shared.key = key;
    }
    return shared.agent as HttpsAgent | HttpAgent;
  };
  kc.applyOptions = async (opts) => {
    await applyOptions(opts);
    opts.headers = { ...opts.headers, 'User-Agent': shared.userAgent };
  };
  kc[SHARED] = shared;
  return kubeConfig;
}

/** The agent `shareConnections` installed (for tests and metrics), or undefined. */
export function sharedAgentOf(kubeConfig: KubeConfig): HttpsAgent | HttpAgent | undefined {
  return (kubeConfig as unknown as KubeConfigInternals)[SHARED]?.agent;
}

/** Identifies the TLS material and endpoint an agent was made for (contents, not file names). */
function agentKey(cluster: unknown, o: AgentOptions): string {
  const c = cluster as { server?: string; proxyUrl?: string } | undefined;
  const text = (v: unknown) =>
    v === undefined || v === null ? '' : Buffer.isBuffer(v) ? v.toString('base64') : JSON.stringify(v);
  return [
    c?.server,
    c?.proxyUrl,
    text(o.ca),
    text(o.cert),
    text(o.key),
    text(o.pfx),
    text(o.passphrase),
    String(o.rejectUnauthorized),
    o.servername,
  ].join('\u0000');
}
