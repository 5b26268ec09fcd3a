import http from 'node:http';
import https from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';
import { KubeAccess } from './kube-access.js';
import { shareConnections } from './kube-client.js';

/** Cluster access: Ingot's own {@link KubeAccess}, or a `@kubernetes/client-node` `KubeConfig`. */
export type KubeEndpoint = KubeAccess | KubeConfig;

/**
 * An API error answer (status 4xx or 5xx). Carries what {@link statusCodeOf} and {@link retryAfterMs} read
 * (`statusCode`, `headers`), as `@kubernetes/client-node`'s errors do, and the server's `Status` object as `body`.
 */
export class KubeApiError extends Error {
  constructor(
    /** The HTTP status. */
    readonly statusCode: number,
    /** The response headers (`retry-after` among them). */
    readonly headers: http.IncomingHttpHeaders,
    /** The decoded body (a `Status` object), or the text when it was not JSON. */
    readonly body: unknown,
    method: string,
    path: string,
  ) {
    const message = (body as { message?: unknown } | undefined)?.message;
    super(`${method} ${path}: HTTP ${statusCode}${typeof message === 'string' ? `: ${message}` : ''}`);
    this.name = 'KubeApiError';
  }
}

/** One request of a {@link KubeHttp}. */
export interface KubeRequest {
  /** HTTP method. */
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** The path below the server URL, e.g. `/api/v1/services`. */
  path: string;
  /** Query parameters (undefined values are left out). */
  query?: Readonly<Record<string, string | number | boolean | undefined>>;
  /** A JSON body. */
  body?: unknown;
  /** The body's content type. @default 'application/json' (merge patches: 'application/merge-patch+json') */
  contentType?: string;
}

/** Options of {@link KubeHttp}. */
export interface KubeHttpOptions {
  /**
   * Requests in flight at once; more wait their turn (watches are not counted: they are not made here). The default
   * leaves room beside the controller's 16 concurrent status writes for its Events. @default 24
   */
  maxInFlight?: number;
  /** How long resolved credentials and TLS material are reused before the kubeconfig is asked again. @default 10000 */
  credentialsTtlMs?: number;
  /** Per-request timeout. @default 60000 */
  timeoutMs?: number;
}

/** What a request is sent with: TLS material, authentication headers and the shared keep-alive agent. */
type Resolved = https.RequestOptions & { at: number };

/**
 * Plain-JSON requests to the API server: the answer is `JSON.parse`d and returned as is (no typed model, no copy),
 * which is all the daemon needs for the few resources it reads and writes. Requests use the kubeconfig's shared
 * keep-alive agent ({@link shareConnections}: connections are reused, no handshake per request), carry its
 * credentials (re-read every `credentialsTtlMs`, so rotated tokens and certificates are picked up), and at most
 * `maxInFlight` are in flight at once (HTTP/1.1: each in-flight request holds a kept-alive connection, so this also
 * bounds the connections writes open). An error answer is thrown as a {@link KubeApiError}.
 */
export class KubeHttp {
  private resolved: Resolved | undefined;
  private resolving: Promise<Resolved> | undefined;
  private inFlight = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly server: URL;

  constructor(
    private readonly kubeConfig: KubeEndpoint,
    private readonly options: KubeHttpOptions = {},
  ) {
    if (!(kubeConfig instanceof KubeAccess)) shareConnections(kubeConfig);
    const server = kubeConfig.getCurrentCluster()?.server;
    if (!server) throw new Error('the kubeconfig names no cluster server');
    this.server = new URL(server);
  }

  /** Sends one request and resolves with its decoded JSON answer (undefined for an empty body). */
  async request<T = unknown>(req: KubeRequest): Promise<T> {
    await this.slot();
    try {
      return await this.send<T>(req, await this.credentials());
    } finally {
      this.release();
    }
  }

  private async slot(): Promise<void> {
    if (this.inFlight < Math.max(1, this.options.maxInFlight ?? 24)) {
      this.inFlight++;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.inFlight--;
  }

  private async credentials(): Promise<Resolved> {
    const ttl = this.options.credentialsTtlMs ?? 10_000;
    if (this.resolved && Date.now() - this.resolved.at < ttl) return this.resolved;
    this.resolving ??= (async () => {
      try {
        const opts: https.RequestOptions = { headers: {} };
        // CA, client certificate and key, `rejectUnauthorized`, the Authorization header (token, token file, exec
        // plugins, ...), the User-Agent, and the shared keep-alive agent.
        await this.kubeConfig.applyToHTTPSOptions(opts);
        this.resolved = { ...opts, at: Date.now() };
        return this.resolved;
      } finally {
        this.resolving = undefined;
      }
    })();
    return this.resolving;
  }

  /**
   * Opens a watch (`GET path?watch=true&...`): each line of the answer is parsed as JSON and given to `onEvent`
   * (a line that is not JSON is skipped); `done` is called once, with null when the server ended the watch, with the
   * error otherwise (a {@link KubeApiError} for an error answer, an Error when aborted). Watches are not counted in
   * `maxInFlight` and have no request timeout (each holds its connection for minutes; callers bound them). Resolves
   * once the server answered (or the watch failed), with a way to abort it.
   */
  async watch(
    path: string,
    query: Readonly<Record<string, string | number | boolean | undefined>>,
    onEvent: (event: { type?: string; object?: unknown }) => void,
    done: (err: unknown) => void,
  ): Promise<{ abort(): void }> {
    const req: KubeRequest = { method: 'GET', path, query: { watch: true, ...query } };
    let finished = false;
    let answered: () => void = () => {};
    const finish = (err: unknown) => {
      if (finished) return;
      finished = true;
      answered();
      done(err);
    };
    let base: Resolved;
    try {
      base = await this.credentials();
    } catch (err) {
      finish(err);
      return { abort: () => {} };
    }
    const secure = this.server.protocol === 'https:';
    const answer = new Promise<void>((resolve) => {
      answered = resolve;
    });
    const request = (secure ? https : http).request(this.requestOptions(req, base, undefined, 0), (res) => {
      answered();
      const status = res.statusCode ?? 0;
      res.setEncoding('utf8');
      if (status !== 200) {
        let text = '';
        res.on('data', (c: string) => {
          if (text.length < 65_536) text += c;
        });
        res.on('end', () => finish(new KubeApiError(status, res.headers, parseBody(text), req.method, path)));
        res.on('error', finish);
        return;
      }
      let pending = '';
      res.on('data', (chunk: string) => {
        pending += chunk;
        let nl = pending.indexOf('\n');
        while (nl >= 0 && !finished) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          nl = pending.indexOf('\n');
          if (line === '') continue;
          let event: unknown;
          try {
            event = JSON.parse(line);
          } catch {
            continue;
          }
          if (event && typeof event === 'object') onEvent(event as { type?: string; object?: unknown });
        }
      });
      res.on('end', () => finish(null));
      res.on('error', finish);
      res.on('close', () => finish(res.complete ? null : new Error(`watch ${path} closed`)));
    });
    request.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
    request.on('error', finish);
    request.end();
    await answer;
    return {
      abort: () => {
        finish(new Error(`watch ${path} aborted`));
        request.destroy();
      },
    };
  }

  private send<T>(req: KubeRequest, base: Resolved): Promise<T> {
    const secure = this.server.protocol === 'https:';
    const payload = req.body === undefined ? undefined : JSON.stringify(req.body);
    const options = this.requestOptions(req, base, payload, this.options.timeoutMs ?? 60_000);
    return new Promise<T>((resolve, reject) => {
      const request = (secure ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const body = parseBody(Buffer.concat(chunks).toString('utf8'));
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(body as T);
          else reject(new KubeApiError(status, res.headers, body, req.method, req.path));
        });
      });
      request.on('timeout', () => request.destroy(new Error(`${req.method} ${req.path} timed out`)));
      request.on('error', reject);
      request.end(payload);
    });
  }

  private requestOptions(
    req: KubeRequest,
    base: Resolved,
    payload: string | undefined,
    timeout: number,
  ): https.RequestOptions {
    const secure = this.server.protocol === 'https:';
    let path = `${this.server.pathname.replace(/\/$/, '')}${req.path}`;
    const query = Object.entries(req.query ?? {}).filter(([, v]) => v !== undefined);
    if (query.length > 0)
      path += `?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}`;
    const headers: http.OutgoingHttpHeaders = {
      ...(base.headers as http.OutgoingHttpHeaders),
      accept: 'application/json',
    };
    if (payload !== undefined) {
      headers['content-type'] = req.contentType ?? 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const { at: _at, ...tls } = base;
    return {
      ...tls,
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: this.server.port || (secure ? 443 : 80),
      method: req.method,
      path,
      headers,
      ...(timeout > 0 ? { timeout } : {}),
    };
  }
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Merge patches (`application/merge-patch+json`). */
export const MERGE_PATCH = 'application/merge-patch+json';
