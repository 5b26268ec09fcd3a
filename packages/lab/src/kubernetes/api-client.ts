import http from 'node:http';
import https from 'node:https';

/** How the test process reaches a server: TCP on the root namespace's loopback, or a Unix socket forwarded into a namespace. */
export type Endpoint = { host: string; port: number } | { socketPath: string };

/** A finished HTTP exchange. */
export interface KubeResponse {
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: http.IncomingHttpHeaders;
  /** The body as text. */
  text: string;
  /** The body parsed as JSON (throws with the text when it is not JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects are whatever the server sends
  json(): any;
}

/** Options of one request. */
export interface KubeRequestOptions {
  /** Bearer token (default: the cluster's admin token). */
  token?: string;
  /** Content type of a body (default application/json; server-side apply uses application/apply-patch+yaml). */
  contentType?: string;
  /** Abort after this many milliseconds (default 30 000); a watch with timeoutSeconds ends earlier by itself. */
  timeoutMs?: number;
}

/** Send one request and collect the whole response. `body` objects are sent as JSON, strings as they are. */
export function sendRequest(
  endpoint: Endpoint,
  tls: { agent: https.Agent | http.Agent; secure: boolean },
  method: string,
  path: string,
  body: unknown,
  opts: KubeRequestOptions & { token: string },
): Promise<KubeResponse> {
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  if (payload !== undefined) {
    headers['content-type'] = opts.contentType ?? 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const target = 'socketPath' in endpoint ? { socketPath: endpoint.socketPath, host: '127.0.0.1' } : endpoint;
  const lib = tls.secure ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request({ ...target, method, path, headers, agent: tls.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        clearTimeout(timer);
        const text = Buffer.concat(chunks).toString();
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          text,
          json() {
            try {
              return JSON.parse(text);
            } catch {
              throw new Error(`lab: ${method} ${path}: HTTP ${res.statusCode} body is not JSON: ${text.slice(0, 500)}`);
            }
          },
        });
      });
    });
    const timer = setTimeout(
      () => req.destroy(new Error(`lab: ${method} ${path} timed out after ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    req.end(payload);
  });
}

/** One resource of the discovery documents. */
export interface ResourceInfo {
  /** Plural name used in URLs, e.g. 'services'. */
  name: string;
  /** True when objects live in a namespace. */
  namespaced: boolean;
}

/** The discovery URL prefix of an apiVersion: '/api/v1' for 'v1', '/apis/GROUP/VERSION' otherwise. */
export function apiPrefix(apiVersion: string): string {
  return apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The URL of a named object, from its apiVersion, kind, namespace and name and the resource found by discovery. */
export function objectPath(
  apiVersion: string,
  resource: ResourceInfo,
  name: string,
  namespace: string | undefined,
): string {
  const ns = resource.namespaced ? `/namespaces/${encodeURIComponent(namespace ?? 'default')}` : '';
  return `${apiPrefix(apiVersion)}${ns}/${resource.name}/${encodeURIComponent(name)}`;
}
