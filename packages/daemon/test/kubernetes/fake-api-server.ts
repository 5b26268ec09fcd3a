import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A stored object (plain JSON as the API server would return it). */
export type FakeObject = {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    resourceVersion?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  [k: string]: unknown;
};

/** One write the fake server accepted (or refused with 409). */
export interface RecordedWrite {
  method: string;
  path: string;
  contentType: string;
  body: unknown;
  status: number;
}

interface WatchEvent {
  rv: number;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: FakeObject;
}

interface Collection {
  /** `ns/name` → object. */
  objects: Map<string, FakeObject>;
  history: WatchEvent[];
  watchers: Set<{ res: ServerResponse; namespace?: string; bookmarks: boolean }>;
  kind: string;
  apiVersion: string;
}

/** Collections the fake serves, by the path segment after `/api/v1/` or `/apis/metallb.io/VERSION/`. */
const COLLECTIONS: Record<string, { kind: string; apiVersion: string; namespaced: boolean }> = {
  services: { kind: 'Service', apiVersion: 'v1', namespaced: true },
  nodes: { kind: 'Node', apiVersion: 'v1', namespaced: false },
  namespaces: { kind: 'Namespace', apiVersion: 'v1', namespaced: false },
  ipaddresspools: { kind: 'IPAddressPool', apiVersion: 'metallb.io/v1beta1', namespaced: true },
  l2advertisements: { kind: 'L2Advertisement', apiVersion: 'metallb.io/v1beta1', namespaced: true },
  bgpadvertisements: { kind: 'BGPAdvertisement', apiVersion: 'metallb.io/v1beta1', namespaced: true },
  bgppeers: { kind: 'BGPPeer', apiVersion: 'metallb.io/v1beta2', namespaced: true },
  communities: { kind: 'Community', apiVersion: 'metallb.io/v1beta1', namespaced: true },
  bfdprofiles: { kind: 'BFDProfile', apiVersion: 'metallb.io/v1beta1', namespaced: true },
  leases: { kind: 'Lease', apiVersion: 'coordination.k8s.io/v1', namespaced: true },
  secrets: { kind: 'Secret', apiVersion: 'v1', namespaced: true },
  endpointslices: { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', namespaced: true },
};

/**
 * A small in-memory Kubernetes API server for tests: list and watch (newline-delimited JSON events carrying
 * resourceVersions) for Services, Nodes, Namespaces and MetalLB's CRs; GET, merge PATCH (with the resourceVersion
 * precondition) and PUT of Services and their status; POST of Events. Every write is recorded.
 */
export class FakeApiServer {
  private server: Server | undefined;
  private rv = 100;
  private readonly collections = new Map<string, Collection>();
  /** Writes (PUT/PATCH/POST), in order. */
  readonly writes: RecordedWrite[] = [];
  /** Events posted. */
  readonly events: FakeObject[] = [];
  /** Number of upcoming service status writes to refuse with 409 Conflict. */
  conflictsToInject = 0;
  /** Number of upcoming list requests (GET of a collection without `watch`) to fail with 500. */
  listFailuresToInject = 0;
  /** When true, every watch that resumes from a resourceVersion gets `410 Gone` (an ERROR event) once per collection. */
  expireWatches = false;
  private readonly expired = new Set<string>();
  /** Requests seen: `METHOD path?query`. */
  readonly requests: string[] = [];
  /** `User-Agent` of each request, in the order of {@link requests}. */
  readonly userAgents: string[] = [];
  /** Bearer token of each request ('' without one), in the order of {@link requests}. */
  readonly tokens: string[] = [];
  /** Number of upcoming requests (other than watches) to refuse with `429 Too Many Requests` and `Retry-After`. */
  throttleToInject = 0;
  /** The `Retry-After` (seconds) of injected 429s. */
  retryAfterSeconds = 1;
  /** When true, a list continued with a token gets `410 Gone` (the token expired), once. */
  expireContinue = false;
  /** TCP connections accepted. */
  connections = 0;
  /** TLS handshakes completed (with the `tls` option). */
  tlsHandshakes = 0;

  /**
   * @param options.tls Serve HTTPS with this key and certificate (PEM): what a real API server does, here so a test
   *   can count connections and handshakes and inject faults at once.
   */
  constructor(private readonly options: { tls?: { key: string; cert: string } } = {}) {
    for (const [plural, info] of Object.entries(COLLECTIONS))
      this.collections.set(plural, {
        objects: new Map(),
        history: [],
        watchers: new Set(),
        kind: info.kind,
        apiVersion: info.apiVersion,
      });
  }

  /** Listens on 127.0.0.1, a random port; returns `http://127.0.0.1:PORT` (`https://` with the `tls` option). */
  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: Error) => {
        res.writeHead(500).end(JSON.stringify({ kind: 'Status', message: err.message }));
      });
    };
    const tls = this.options.tls;
    this.server = tls ? createTlsServer({ key: tls.key, cert: tls.cert }, handler) : createServer(handler);
    this.server.on('connection', () => this.connections++);
    this.server.on('secureConnection', () => this.tlsHandshakes++);
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `${tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Closes watches and the listener. */
  async stop(): Promise<void> {
    for (const c of this.collections.values()) for (const w of c.watchers) w.res.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  /** Ends every open watch (clients are expected to re-watch from their last resourceVersion). */
  dropWatches(): void {
    for (const c of this.collections.values()) {
      for (const w of c.watchers) w.res.end();
      c.watchers.clear();
    }
  }

  /** Sends a BOOKMARK event with the current resourceVersion to every watch that asked for bookmarks. */
  bookmark(): void {
    const object = { kind: 'Bookmark', metadata: { resourceVersion: String(this.rv) } };
    for (const c of this.collections.values())
      for (const w of c.watchers)
        if (w.bookmarks) w.res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { ...object, kind: c.kind } })}\n`);
  }

  /** Advances the resourceVersion without changing anything watched (as writes to other resources do). */
  advance(by: number): number {
    this.rv += by;
    return this.rv;
  }

  /** Creates or replaces an object (as a user's `kubectl apply` would), notifying watchers. */
  apply(plural: string, obj: FakeObject): FakeObject {
    const c = this.collection(plural);
    const key = `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
    const existing = c.objects.get(key);
    const stored: FakeObject = structuredClone(obj);
    stored.apiVersion = c.apiVersion;
    stored.kind = c.kind;
    stored.metadata.uid = existing?.metadata.uid ?? `uid-${plural}-${key}`;
    if (existing && stored.status === undefined && existing.status !== undefined) stored.status = existing.status;
    this.store(c, key, stored, existing ? 'MODIFIED' : 'ADDED');
    return stored;
  }

  /** Deletes an object, notifying watchers. */
  remove(plural: string, name: string, namespace?: string): void {
    const c = this.collection(plural);
    const key = `${namespace ?? ''}/${name}`;
    const existing = c.objects.get(key);
    if (!existing) return;
    c.objects.delete(key);
    this.rv++;
    const deleted = structuredClone(existing);
    deleted.metadata.resourceVersion = String(this.rv);
    this.emit(c, { rv: this.rv, type: 'DELETED', object: deleted });
  }

  /** The stored object, or undefined. */
  get(plural: string, name: string, namespace?: string): FakeObject | undefined {
    return this.collection(plural).objects.get(`${namespace ?? ''}/${name}`);
  }

  /** The IPs in a service's `status.loadBalancer.ingress`. */
  ingressIps(name: string, namespace: string): string[] {
    const svc = this.get('services', name, namespace) as
      | { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } }
      | undefined;
    return (svc?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
  }

  private collection(plural: string): Collection {
    const c = this.collections.get(plural);
    if (!c) throw new Error(`unknown collection ${plural}`);
    return c;
  }

  private store(c: Collection, key: string, obj: FakeObject, type: 'ADDED' | 'MODIFIED'): void {
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    c.objects.set(key, obj);
    this.emit(c, { rv: this.rv, type, object: structuredClone(obj) });
  }

  private emit(c: Collection, event: WatchEvent): void {
    c.history.push(event);
    for (const w of c.watchers) {
      if (w.namespace !== undefined && event.object.metadata.namespace !== w.namespace) continue;
      w.res.write(`${JSON.stringify({ type: event.type, object: event.object })}\n`);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    this.requests.push(`${req.method} ${url.pathname}${url.search}`);
    this.userAgents.push(req.headers['user-agent'] ?? '');
    this.tokens.push((req.headers.authorization ?? '').replace(/^Bearer /, ''));
    const isWatch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    if (!isWatch && this.throttleToInject > 0) {
      this.throttleToInject--;
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': String(this.retryAfterSeconds) });
      res.end(JSON.stringify({ kind: 'Status', code: 429, reason: 'TooManyRequests', message: 'injected throttle' }));
      return;
    }
    const m =
      /^\/api\/v1(?:\/namespaces\/([^/]+))?\/([a-z0-9]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(url.pathname) ??
      /^\/apis\/(?:metallb\.io\/v1beta[12]|coordination\.k8s\.io\/v1|discovery\.k8s\.io\/v1)(?:\/namespaces\/([^/]+))?\/([a-z0-9]+)(?:\/([^/]+))?(?:\/(status))?$/.exec(
        url.pathname,
      );
    if (!m) return this.send(res, 404, { kind: 'Status', code: 404, message: `no route ${url.pathname}` });
    const [, namespace, plural, name, sub] = m as unknown as [
      string,
      string | undefined,
      string,
      string | undefined,
      string | undefined,
    ];
    if (plural === 'events' && req.method === 'POST') {
      const body = JSON.parse(await readBody(req)) as FakeObject;
      this.events.push(body);
      this.writes.push({
        method: 'POST',
        path: url.pathname,
        contentType: req.headers['content-type'] ?? '',
        body,
        status: 201,
      });
      return this.send(res, 201, body);
    }
    const c = this.collections.get(plural);
    if (!c) return this.send(res, 404, { kind: 'Status', code: 404, message: `no collection ${plural}` });
    if (name === undefined && req.method === 'POST') {
      const body = JSON.parse(await readBody(req)) as FakeObject;
      const key = `${namespace ?? ''}/${body.metadata.name}`;
      const record: RecordedWrite = { method: 'POST', path: url.pathname, contentType: '', body, status: 201 };
      this.writes.push(record);
      if (c.objects.has(key)) {
        record.status = 409;
        return this.send(res, 409, { kind: 'Status', code: 409, reason: 'AlreadyExists' });
      }
      const stored = structuredClone(body);
      stored.metadata.namespace = namespace;
      this.store(c, key, stored, 'ADDED');
      return this.send(res, 201, stored);
    }
    if (name === undefined) {
      if (req.method !== 'GET') return this.send(res, 405, {});
      const watch = url.searchParams.get('watch');
      if (watch === 'true' || watch === '1') return this.watch(c, url, res, namespace);
      if (this.listFailuresToInject > 0) {
        this.listFailuresToInject--;
        return this.send(res, 500, { kind: 'Status', code: 500, message: 'injected list failure' });
      }
      const all = [...c.objects.entries()]
        .filter(([, o]) => namespace === undefined || o.metadata.namespace === namespace)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      // Pages (`limit`, `continue`) as the API server serves them: every page from the snapshot of the first.
      const limit = Number(url.searchParams.get('limit') || '0');
      const token = url.searchParams.get('continue');
      let start = 0;
      let snapshotRv = this.rv;
      if (token) {
        if (this.expireContinue) {
          this.expireContinue = false;
          return this.send(res, 410, { kind: 'Status', code: 410, reason: 'Expired', message: 'continue expired' });
        }
        const parsed = JSON.parse(Buffer.from(token, 'base64').toString()) as { rv: number; after: string };
        snapshotRv = parsed.rv;
        start = all.findIndex(([key]) => key > parsed.after);
        if (start < 0) start = all.length;
      }
      const page = limit > 0 ? all.slice(start, start + limit) : all.slice(start);
      const lastKey = page.at(-1)?.[0];
      const more = limit > 0 && start + page.length < all.length && lastKey !== undefined;
      const next = more
        ? Buffer.from(JSON.stringify({ rv: snapshotRv, after: lastKey })).toString('base64')
        : undefined;
      return this.send(res, 200, {
        kind: `${c.kind}List`,
        apiVersion: c.apiVersion,
        metadata: { resourceVersion: String(snapshotRv), ...(next ? { continue: next } : {}) },
        items: page.map(([, o]) => o),
      });
    }
    const key = `${namespace ?? ''}/${name}`;
    const existing = c.objects.get(key);
    if (!existing) return this.send(res, 404, { kind: 'Status', code: 404, reason: 'NotFound', message: 'not found' });
    if (req.method === 'GET') return this.send(res, 200, existing);
    if (req.method !== 'PATCH' && req.method !== 'PUT') return this.send(res, 405, {});
    const text = await readBody(req);
    const body = JSON.parse(text) as FakeObject;
    const record: RecordedWrite = {
      method: req.method,
      path: url.pathname,
      contentType: req.headers['content-type'] ?? '',
      body,
      status: 200,
    };
    this.writes.push(record);
    const precondition = body.metadata?.resourceVersion;
    const injected = sub === 'status' && this.conflictsToInject > 0;
    if (injected) this.conflictsToInject--;
    if (injected || (precondition !== undefined && precondition !== existing.metadata.resourceVersion)) {
      record.status = 409;
      return this.send(res, 409, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'Conflict',
        code: 409,
        message:
          'Operation cannot be fulfilled: the object has been modified; please apply your changes to the latest version and try again',
      });
    }
    let next: FakeObject;
    if (req.method === 'PUT') {
      next = structuredClone(existing);
      if (sub === 'status') next.status = body.status;
      else next = { ...body, status: existing.status } as FakeObject;
    } else {
      if (!String(record.contentType).startsWith('application/merge-patch+json')) {
        record.status = 415;
        return this.send(res, 415, { kind: 'Status', code: 415, message: `unsupported patch ${record.contentType}` });
      }
      const patch = structuredClone(body) as Record<string, unknown>;
      if (sub === 'status') delete patch.spec;
      else delete patch.status;
      next = mergePatch(existing, patch) as FakeObject;
    }
    next.metadata = { ...next.metadata, name: existing.metadata.name, uid: existing.metadata.uid };
    if (existing.metadata.namespace !== undefined) next.metadata.namespace = existing.metadata.namespace;
    this.store(c, key, next, 'MODIFIED');
    return this.send(res, 200, next);
  }

  private watch(c: Collection, url: URL, res: ServerResponse, namespace: string | undefined): void {
    const from = Number(url.searchParams.get('resourceVersion') || '0');
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    if (this.expireWatches && from > 0 && !this.expired.has(c.kind)) {
      // What an API server does when the resourceVersion was compacted away: an ERROR event, then the end.
      this.expired.add(c.kind);
      const status = { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Expired', code: 410 };
      res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      return;
    }
    for (const e of c.history) {
      if (e.rv <= from) continue;
      if (namespace !== undefined && e.object.metadata.namespace !== namespace) continue;
      res.write(`${JSON.stringify({ type: e.type, object: e.object })}\n`);
    }
    const bookmarks = url.searchParams.get('allowWatchBookmarks') === 'true';
    const watcher = { res, bookmarks, ...(namespace !== undefined ? { namespace } : {}) };
    c.watchers.add(watcher);
    // Like the API server, end the watch after timeoutSeconds (the client resumes from its last resourceVersion).
    const timeout = Number(url.searchParams.get('timeoutSeconds') || '0');
    const timer = timeout > 0 ? setTimeout(() => res.end(), timeout * 1000) : undefined;
    res.on('close', () => {
      clearTimeout(timer);
      c.watchers.delete(watcher);
    });
  }

  private send(res: ServerResponse, status: number, body: unknown): void {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }
}

/** RFC 7386 JSON merge patch. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return structuredClone(patch);
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? structuredClone(target as Record<string, unknown>)
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
