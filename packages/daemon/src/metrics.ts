import { createServer, type Server, type ServerResponse } from 'node:http';
import { parseHostPort } from './host-port.js';

/** One gauge or counter value with its labels. */
export interface MetricSample {
  /** Metric name, e.g. `metallb_speaker_announced`. */
  readonly name: string;
  /** Label values. */
  readonly labels: Readonly<Record<string, string>>;
  /** The value. */
  readonly value: number;
}

/** HELP text and type of the metrics the daemon exports (MetalLB's names). */
const METRIC_INFO: Record<string, { type: 'gauge' | 'counter'; help: string }> = {
  metallb_allocator_addresses_total: { type: 'gauge', help: 'Number of usable IP addresses, per pool' },
  metallb_allocator_ipv4_addresses_total: { type: 'gauge', help: 'Number of usable IPv4 addresses, per pool' },
  metallb_allocator_ipv6_addresses_total: { type: 'gauge', help: 'Number of usable IPv6 addresses, per pool' },
  metallb_allocator_addresses_in_use_total: { type: 'gauge', help: 'Number of IP addresses in use, per pool' },
  metallb_allocator_ipv4_addresses_in_use_total: { type: 'gauge', help: 'Number of IPv4 addresses in use, per pool' },
  metallb_allocator_ipv6_addresses_in_use_total: { type: 'gauge', help: 'Number of IPv6 addresses in use, per pool' },
  metallb_allocator_services_allocated_total: { type: 'gauge', help: 'Number of services with IPs, per pool' },
  metallb_k8s_client_config_loaded_bool: { type: 'gauge', help: '1 if a configuration was ever loaded' },
  metallb_k8s_client_config_stale_bool: { type: 'gauge', help: '1 if running on a stale configuration' },
  metallb_speaker_announced: { type: 'gauge', help: 'Services being announced from this node' },
  metallb_bgp_session_up: { type: 'gauge', help: 'BGP session state (1 is up, 0 is down)' },
  metallb_bgp_updates_total: { type: 'counter', help: 'Number of BGP UPDATE messages sent' },
  metallb_bgp_announced_prefixes_total: { type: 'gauge', help: 'Number of prefixes currently being advertised' },
  ingot_assignments_generation: { type: 'gauge', help: 'Generation of the assignment table in force (standalone)' },
  ingot_assignments_rejected_total: {
    type: 'counter',
    help: 'Replicated or persisted assignment tables refused, by reason (standalone)',
  },
  ingot_reconcile_errors_total: { type: 'counter', help: 'Reconciles that failed with an error (logged)' },
  ingot_members: { type: 'gauge', help: 'Live gossip members, this node included (standalone)' },
  ingot_layer2_answer_thread_up: {
    type: 'gauge',
    help: 'Whether the ARP/NDP answer thread runs (0: failed, the event loop answers)',
  },
  ingot_layer2_answer_thread_failures_total: {
    type: 'counter',
    help: 'Times the ARP/NDP answer thread failed to start or died',
  },
  ingot_gossip_rejected_total: {
    type: 'counter',
    help: 'Gossip packets, messages and TCP connections refused, by reason (auth-failed, plaintext-refused, replayed, stale, oversize, ...)',
  },
};

/** Renders samples in the Prometheus text exposition format (0.0.4), grouped by metric with HELP and TYPE lines. */
export function renderMetrics(samples: readonly MetricSample[]): string {
  const byName = new Map<string, MetricSample[]>();
  for (const s of samples) byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
  const lines: string[] = [];
  for (const [name, list] of byName) {
    const info = METRIC_INFO[name];
    if (info) lines.push(`# HELP ${name} ${info.help}`, `# TYPE ${name} ${info.type}`);
    for (const s of list) {
      const labels = Object.entries(s.labels)
        .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
        .join(',');
      lines.push(`${name}${labels ? `{${labels}}` : ''} ${Number.isFinite(s.value) ? s.value : 0}`);
    }
  }
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

/** What the status server answers. */
export interface StatusRoutes {
  /** `GET /metrics`: Prometheus exposition text. */
  metrics: () => string;
  /** `GET /healthz`: 200 when alive and configured. */
  healthy: () => boolean;
  /** `GET /readyz`: 200 when serving (configuration loaded, initial sync done). @default healthy */
  ready?: () => boolean;
  /**
   * Lines appended to the `/readyz` body: degraded but serving states (e.g. ARP answered on the event loop after the
   * answer thread failed), so a probe's output says so while the status code stays what `ready` decides.
   */
  readyNotes?: () => string[];
  /** `GET /status`: JSON document (`ingot status`). */
  status?: () => unknown;
  /** `GET /assignments`: JSON assignment table (standalone replication). */
  assignments?: () => unknown;
  /** Signs the `/assignments` body: the value of the `x-ingot-signature` header (replication authentication). */
  sign?: (body: string) => string;
  /** Serve only these paths (e.g. `['/assignments']` on the address peers reach); others answer 404. @default all */
  only?: readonly string[];
}

/** A client that has not sent a complete request within this time is disconnected. */
const REQUEST_TIMEOUT_MS = 10_000;
/** Concurrent connections a status server accepts; beyond, new ones are closed at once. */
const MAX_CONNECTIONS = 128;

/**
 * Serves the daemon's HTTP endpoints on `host:port`: `/metrics`, `/healthz`, `/readyz`, and when given `/status` and
 * `/assignments` (JSON).
 */
export async function serveStatus(bind: string, routes: StatusRoutes): Promise<Server> {
  const { host, port } = parseHostPort(bind);
  const probe = (res: ServerResponse, ok: boolean, notes: readonly string[] = []) =>
    res
      .writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' })
      .end([ok ? 'ok' : 'not ready', ...notes].map((line) => `${line}\n`).join(''));
  const json = (res: ServerResponse, value: unknown, sign?: (body: string) => string) => {
    const body = `${JSON.stringify(value, jsonSafe)}\n`;
    res
      .writeHead(200, { 'content-type': 'application/json', ...(sign ? { 'x-ingot-signature': sign(body) } : {}) })
      .end(body);
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (req.method !== 'GET') res.writeHead(405).end();
    else if (routes.only && !routes.only.includes(path)) res.writeHead(404).end();
    else if (path === '/metrics')
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(routes.metrics());
    else if (path === '/healthz') probe(res, routes.healthy());
    else if (path === '/readyz') probe(res, (routes.ready ?? routes.healthy)(), routes.readyNotes?.());
    else if (path === '/status' && routes.status) json(res, routes.status());
    else if (path === '/assignments' && routes.assignments) json(res, routes.assignments(), routes.sign);
    else res.writeHead(404).end();
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  return server;
}

/**
 * Serves `GET /metrics` (Prometheus text) and `GET /healthz` (200 once `healthy()` is true) on `host:port`.
 * @param bind - `host:port`
 * @param collect - returns the current exposition text
 * @param healthy - readiness
 */
export function serveMetrics(bind: string, collect: () => string, healthy: () => boolean): Promise<Server> {
  return serveStatus(bind, { metrics: collect, healthy });
}

function jsonSafe(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}
