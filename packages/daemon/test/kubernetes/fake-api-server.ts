import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
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
  watchers: Set<{ res: ServerResponse; namespace?: string }>;
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

  constructor() {
    for (const [plural, info] of Object.entries(COLLECTIONS))
      this.collections.set(plural, {
        objects: new Map(),
        history: [],
        watchers: new Set(),
        kind: info.kind,
        apiVersion: info.apiVersion,
      });
  }

  /** Listens on 127.0.0.1, a random port; returns `http://127.0.0.1:PORT`. */
  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: Error) => {
        res.writeHead(500).end(JSON.stringify({ kind: 'Status', message: err.message }));
      });
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
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
      const items = [...c.objects.values()].filter(
        (o) => namespace === undefined || o.metadata.namespace === namespace,
      );
      return this.send(res, 200, {
        kind: `${c.kind}List`,
        apiVersion: c.apiVersion,
        metadata: { resourceVersion: String(this.rv) },
        items,
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
    const watcher = { res, ...(namespace !== undefined ? { namespace } : {}) };
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
