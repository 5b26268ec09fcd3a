import { EventEmitter } from 'eventemitter3';
import type { Logger } from '../logger.js';
import type { MetricSample } from '../metrics.js';
import { type BackoffOptions, backoffDelay, retryAfterMs, statusCodeOf } from './backoff.js';
import { type KubeEndpoint, KubeHttp } from './kube-http.js';
import { JsonListWatch } from './kube-list-watch.js';
import { type KubeObject, METALLB_RESOURCE_TYPES, type MetalLbResourceType, objectKey } from './kube-objects.js';
import { type KubeList, rawCoreV1Api, rawCustomObjectsApi, rawDiscoveryV1Api } from './kube-rest.js';
import { LAST_APPLIED_ANNOTATION, projectService } from './service-projection.js';

/** What a change concerns: MetalLB configuration CRs, Services, Nodes or Namespaces. */
export type WatchedResource = 'config' | 'service' | 'node' | 'namespace' | 'secret' | 'endpointslice';

/** Events of a {@link ClusterWatch}. */
export interface ClusterWatchEvents {
  /** An object was added, updated or deleted (after the initial list too). */
  change: (resource: WatchedResource, verb: 'add' | 'update' | 'delete', obj: KubeObject) => void;
}

/** Options of {@link ClusterWatch}. */
export interface ClusterWatchOptions {
  /** Where the API server is and how to authenticate. */
  kubeConfig: KubeEndpoint;
  /** MetalLB's namespace: the configuration CRs are read there only. */
  namespace: string;
  /** Structured logger. */
  log: Logger;
  /** Watch Nodes (the speaker needs them). @default true */
  nodes?: boolean;
  /** Watch Namespaces (for pools' `namespaceSelectors`). @default true */
  namespaces?: boolean;
  /** Watch Secrets in MetalLB's namespace (BGPPeers' `passwordSecret`). @default false */
  secrets?: boolean;
  /** Watch EndpointSlices (`discovery.k8s.io/v1`) in every namespace (the speaker). @default false */
  endpointSlices?: boolean;
  /** Delays between re-list/re-watch attempts after an error. @default 200 ms doubling to 30 s */
  retry?: BackoffOptions;
  /**
   * Each watch asks the API server to end it after this many seconds, times a random factor in [1, 2) (client-go's
   * scheme), and is resumed from its last resourceVersion; one that stays silent 30 s longer is aborted and retried,
   * so a connection that died without a FIN cannot leave the cache stale. @default 300
   */
  watchTimeoutSeconds?: number;
  /**
   * Initial lists (and re-lists after `410 Gone`) are read in pages of this many objects (`limit` and `continue`),
   * as client-go's reflector does, so the API server never builds one huge response. @default 500
   */
  listPageSize?: number;
}

/** Query parameters of one page of a list. */
export interface ListPage {
  /** Objects per page. */
  limit: number;
  /** The previous page's `metadata.continue`. */
  _continue?: string;
}

/** Requests made and events received, per resource, since the watch was created. */
export interface ClusterWatchStats {
  /** List requests (one per page). */
  listRequests: number;
  /** Watch requests (each initial watch, each resumption). */
  watchRequests: number;
  /** Watch events received (ADDED, MODIFIED, DELETED; bookmarks not included). */
  events: number;
  /** Bookmarks received. */
  bookmarks: number;
  /** The resourceVersion of the last event received. */
  lastResourceVersion: string;
  /** When the last event was received (milliseconds since the epoch, sub-millisecond precision). */
  lastEventAt: number;
}

interface Watched {
  resource: WatchedResource;
  path: string;
  kind?: string;
  apiVersion?: string;
  informer: JsonListWatch;
  failures: number;
  /** The delay the last failure's `Retry-After` asked for. */
  retryAfterMs?: number;
  synced: boolean;
  retryTimer?: NodeJS.Timeout;
  stats: ClusterWatchStats;
}

/**
 * Lists and watches (plain JSON over {@link KubeHttp}: {@link JsonListWatch}) MetalLB's configuration CRs in its namespace, every
 * Service, and Nodes and Namespaces; keeps them cached and reports each change. A failed list or watch is retried with
 * exponential backoff, resuming from the last resourceVersion seen (re-listing after `410 Gone`).
 */
export class ClusterWatch extends EventEmitter<ClusterWatchEvents> {
  private readonly watched: Watched[] = [];
  private http: KubeHttp | undefined;
  private stopped = false;

  constructor(private readonly options: ClusterWatchOptions) {
    super();
  }

  /** Starts every informer; resolves once each has listed its resources successfully (errors are retried). */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.watched.length === 0) this.createInformers();
    await Promise.all(this.watched.map((w) => this.startOne(w)));
  }

  private createInformers(): void {
    // Lists and watches in plain JSON (no typed models to build and copy for 10,000 Services), on shared connections.
    const http = new KubeHttp(this.options.kubeConfig);
    this.http = http;
    const core = rawCoreV1Api(http);
    const custom = rawCustomObjectsApi(http);
    const ns = this.options.namespace;
    for (const type of METALLB_RESOURCE_TYPES) {
      this.add(
        'config',
        crPath(type, ns),
        (page) => custom.listNamespacedCustomObject({ ...crRef(type), namespace: ns, ...page }),
        type,
      );
    }
    this.add('service', '/api/v1/services', (page) => core.listServiceForAllNamespaces(page));
    if (this.options.nodes !== false) this.add('node', '/api/v1/nodes', (page) => core.listNode(page));
    if (this.options.namespaces !== false)
      this.add('namespace', '/api/v1/namespaces', (page) => core.listNamespace(page));
    if (this.options.endpointSlices) {
      const discovery = rawDiscoveryV1Api(http);
      this.add('endpointslice', '/apis/discovery.k8s.io/v1/endpointslices', (page) =>
        discovery.listEndpointSliceForAllNamespaces(page),
      );
    }
    if (this.options.secrets)
      this.add('secret', `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets`, (page) =>
        core.listNamespacedSecret({ namespace: ns, ...page }),
      );
  }

  /** Stops every informer and pending retry. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const w of this.watched) clearTimeout(w.retryTimer);
    await Promise.all(this.watched.map((w) => w.informer.stop()));
  }

  /** True once every informer has completed its first list. */
  get synced(): boolean {
    return this.watched.every((w) => w.synced);
  }

  /** The cached configuration CRs (plain JSON with `apiVersion` and `kind`), in validation order, then by name. */
  configObjects(): KubeObject[] {
    return this.watched
      .filter((w) => w.resource === 'config')
      .flatMap((w) =>
        [...w.informer.list()]
          .map((o) => ({ ...(o as KubeObject), apiVersion: w.apiVersion, kind: w.kind }))
          .sort((a, b) => objectKey(a).localeCompare(objectKey(b))),
      );
  }

  /** The cached Services. */
  services(): KubeObject[] {
    return this.list('service');
  }

  /** The cached Nodes. */
  nodes(): KubeObject[] {
    return this.list('node');
  }

  /** The cached Namespaces. */
  namespaces(): KubeObject[] {
    return this.list('namespace');
  }

  /** One cached Secret of MetalLB's namespace, or undefined (always undefined unless `secrets` is set). */
  secret(name: string): KubeObject | undefined {
    return this.watched.find((w) => w.resource === 'secret')?.informer.get(name, this.options.namespace) as
      | KubeObject
      | undefined;
  }

  /** The cached EndpointSlices (empty unless `endpointSlices` is set). */
  endpointSlices(): KubeObject[] {
    return this.list('endpointslice');
  }

  /** True when EndpointSlices are watched. */
  get watchesEndpointSlices(): boolean {
    return this.options.endpointSlices === true;
  }

  /** True when Secrets are watched. */
  get watchesSecrets(): boolean {
    return this.options.secrets === true;
  }

  /** Requests made and events received, per watched resource (configuration CRs summed). */
  stats(): Record<WatchedResource, ClusterWatchStats> {
    const out = {} as Record<WatchedResource, ClusterWatchStats>;
    for (const w of this.watched) {
      const sum = out[w.resource] ?? emptyStats();
      out[w.resource] = sum;
      sum.listRequests += w.stats.listRequests;
      sum.watchRequests += w.stats.watchRequests;
      sum.events += w.stats.events;
      sum.bookmarks += w.stats.bookmarks;
      if (w.stats.lastEventAt > sum.lastEventAt) {
        sum.lastEventAt = w.stats.lastEventAt;
        sum.lastResourceVersion = w.stats.lastResourceVersion;
      }
    }
    return out;
  }

  /**
   * {@link stats} as metric samples: `ingot_k8s_list_requests_total`, `ingot_k8s_watch_requests_total`,
   * `ingot_k8s_watch_events_total`, `ingot_k8s_watch_bookmarks_total`, and the last event's
   * `ingot_k8s_watch_last_event_received_seconds` (epoch seconds) and `ingot_k8s_watch_last_event_resource_version`,
   * each labelled by `resource`. The last two let a benchmark see when a change reached this process.
   */
  metrics(): MetricSample[] {
    return Object.entries(this.stats()).flatMap(([resource, s]) => {
      const labels = { resource };
      return [
        { name: 'ingot_k8s_list_requests_total', labels, value: s.listRequests },
        { name: 'ingot_k8s_watch_requests_total', labels, value: s.watchRequests },
        { name: 'ingot_k8s_watch_events_total', labels, value: s.events },
        { name: 'ingot_k8s_watch_bookmarks_total', labels, value: s.bookmarks },
        { name: 'ingot_k8s_watch_last_event_received_seconds', labels, value: s.lastEventAt / 1000 },
        // resourceVersions are opaque strings; etcd's are integers, which is what a benchmark compares.
        { name: 'ingot_k8s_watch_last_event_resource_version', labels, value: Number(s.lastResourceVersion) || 0 },
      ];
    });
  }

  /** One cached Service, or undefined. */
  service(namespace: string, name: string): KubeObject | undefined {
    return this.watched.find((w) => w.resource === 'service')?.informer.get(name, namespace) as KubeObject | undefined;
  }

  private list(resource: WatchedResource): KubeObject[] {
    return this.watched.filter((w) => w.resource === resource).flatMap((w) => [...w.informer.list()] as KubeObject[]);
  }

  private add(
    resource: WatchedResource,
    path: string,
    list: (page: ListPage) => Promise<unknown>,
    type?: MetalLbResourceType,
  ): void {
    const stats = emptyStats();
    const counted = (page: ListPage) => {
      stats.listRequests++;
      return list(page);
    };
    // Services are cached as the small projection Ingot reads (10,000 of them arrive at once); other objects trimmed.
    const transform = resource === 'service' ? projectService : trimObject;
    const listFn = () => listAllPages(counted, this.options.listPageSize ?? 500, transform);
    const timeout = this.options.watchTimeoutSeconds ?? 300;
    const informer = new JsonListWatch({
      path,
      http: this.http as KubeHttp,
      list: listFn,
      // client-go's scheme: the timeout times a random factor in [1, 2), so watches do not all restart together.
      timeoutSeconds: () => Math.round(timeout * (1 + Math.random())),
      onWatch: () => stats.watchRequests++,
      onEvent: (type, obj) => {
        if (type === 'BOOKMARK') stats.bookmarks++;
        else if (type !== 'ERROR') {
          stats.events++;
          stats.lastEventAt = performance.timeOrigin + performance.now();
          stats.lastResourceVersion = obj?.metadata?.resourceVersion ?? '';
        }
      },
      transform,
    });
    const w: Watched = {
      resource,
      path,
      informer,
      failures: 0,
      synced: false,
      stats,
      ...(type ? { kind: type.kind, apiVersion: `${type.group}/${type.version}` } : {}),
    };
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, (obj) => this.emit('change', resource, verb, obj));
    }
    informer.on('error', (err) => this.failed(w, err));
    this.watched.push(w);
  }

  private async startOne(w: Watched): Promise<void> {
    for (;;) {
      if (this.stopped) return;
      const before = w.failures;
      await w.informer.start();
      if (w.failures === before) {
        w.synced = true;
        w.failures = 0;
        return;
      }
      // The informer reported an error (and stopped): wait, then try again until the first list succeeds.
      await new Promise<void>((resolve) => {
        w.retryTimer = setTimeout(resolve, this.retryDelay(w));
      });
    }
  }

  private failed(w: Watched, err: unknown): void {
    if (this.stopped) return; // stop() aborts the watches
    w.failures++;
    const e = err as { message?: string };
    const status = statusCodeOf(err);
    const retryAfter = retryAfterMs(err);
    if (retryAfter === undefined) delete w.retryAfterMs;
    else w.retryAfterMs = retryAfter;
    this.options.log.warn('kubernetes list/watch failed; retrying', {
      path: w.path,
      error: firstLine(e?.message ?? String(err)),
      status,
      attempt: w.failures,
      ...(retryAfter !== undefined ? { retryAfterMs: retryAfter } : {}),
      ...(status === 404 && w.resource === 'config' ? { hint: "are MetalLB's CRDs installed?" } : {}),
      ...(status === 403 ? { hint: 'the service account lacks list/watch permission (RBAC)' } : {}),
    });
    if (!w.synced) return; // startOne retries the first list itself
    clearTimeout(w.retryTimer);
    w.retryTimer = setTimeout(() => {
      if (this.stopped) return;
      const before = w.failures;
      void w.informer.start().then(() => {
        if (!this.stopped && w.failures === before) w.failures = 0;
      });
    }, this.retryDelay(w));
  }

  /** Exponential backoff, but never sooner than the server's `Retry-After` (429, 5xx). */
  private retryDelay(w: Watched): number {
    return Math.max(backoffDelay(w.failures - 1, this.options.retry), w.retryAfterMs ?? 0);
  }
}

/**
 * Reads a whole list in pages of `pageSize` (`limit`, then `continue` with the token of the previous page), like
 * client-go's pager, and returns it as one plain-JSON list with the resourceVersion of the snapshot (every page
 * comes from the same one). When a continue token has expired (`410 Gone`, the API server compacted the snapshot
 * away), the list is read again in one request, as client-go's pager does. Each item goes through `transform` as its
 * page arrives (default {@link trimObject}), and only what it returns is kept.
 */
export async function listAllPages(
  list: (page: ListPage) => Promise<unknown>,
  pageSize: number,
  transform: (obj: KubeObject) => KubeObject = trimObject,
): Promise<KubeList> {
  // Pages arrive as plain JSON (KubeHttp): each is transformed as it comes and only its items are kept.
  const read = async (page: ListPage) => (await list(page)) as KubeList | undefined;
  const first = (await read({ limit: pageSize })) ?? {};
  // Only the first page's kind is kept from it: its parsed items are not held while the other pages arrive.
  const head: KubeList = {
    ...(first.apiVersion ? { apiVersion: first.apiVersion } : {}),
    ...(first.kind ? { kind: first.kind } : {}),
  };
  const items = (first.items ?? []).map(transform);
  let meta = first.metadata ?? {};
  // Each page must carry a new token; a server repeating one would otherwise loop forever.
  const seen = new Set<string>();
  while (meta.continue) {
    const token = meta.continue;
    if (seen.has(token)) throw new Error(`the API server repeated the continue token of a list (${token})`);
    seen.add(token);
    let next: KubeList;
    try {
      next = (await read({ limit: pageSize, _continue: token })) ?? {};
    } catch (err) {
      if (statusCodeOf(err) !== 410) throw err;
      const full = (await read({ limit: 0 })) ?? {};
      return asList(full, full.metadata ?? {}, (full.items ?? []).map(transform));
    }
    for (const item of next.items ?? []) items.push(transform(item));
    meta = next.metadata ?? {};
  }
  return asList(head, meta, items);
}

function asList(list: KubeList, meta: NonNullable<KubeList['metadata']>, items: KubeObject[]): KubeList {
  return {
    ...(list.apiVersion ? { apiVersion: list.apiVersion } : {}),
    ...(list.kind ? { kind: list.kind } : {}),
    metadata: { ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}) },
    items,
  };
}

/**
 * Drops what no reader of the cache uses and what makes cached objects large (as client-go informers' transforms
 * do): `metadata.managedFields`, kubectl's last-applied copy, and a Node's `status.images`. Mutates and returns `obj`
 * (a freshly parsed object of a list or a watch event).
 */
export function trimObject<T extends KubeObject>(obj: T): T {
  if (!obj || typeof obj !== 'object') return obj;
  const meta = obj.metadata as { managedFields?: unknown; annotations?: Record<string, string> } | undefined;
  if (meta) {
    delete meta.managedFields;
    if (meta.annotations && LAST_APPLIED_ANNOTATION in meta.annotations)
      delete meta.annotations[LAST_APPLIED_ANNOTATION];
  }
  const status = (obj as { status?: { images?: unknown } }).status;
  if (status && typeof status === 'object' && 'images' in status) delete status.images;
  return obj;
}

function emptyStats(): ClusterWatchStats {
  return { listRequests: 0, watchRequests: 0, events: 0, bookmarks: 0, lastResourceVersion: '', lastEventAt: 0 };
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}

function crRef(type: MetalLbResourceType): { group: string; version: string; plural: string } {
  return { group: type.group, version: type.version, plural: type.plural };
}

function crPath(type: MetalLbResourceType, namespace: string): string {
  return `/apis/${type.group}/${type.version}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`;
}
