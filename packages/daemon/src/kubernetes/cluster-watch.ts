import type {
  Informer,
  KubeConfig,
  KubernetesListObject,
  KubernetesObject,
  ObjectCache,
  Watch,
} from '@kubernetes/client-node';
import { EventEmitter } from 'eventemitter3';
import type { Logger } from '../logger.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { type KubeClientModule, loadKubeClient } from './kube-client.js';
import {
  type KubeObject,
  METALLB_RESOURCE_TYPES,
  type MetalLbResourceType,
  objectKey,
  toPlain,
} from './kube-objects.js';

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
  kubeConfig: KubeConfig;
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
}

interface Watched {
  resource: WatchedResource;
  path: string;
  kind?: string;
  apiVersion?: string;
  informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  failures: number;
  synced: boolean;
  retryTimer?: NodeJS.Timeout;
}

/**
 * Lists and watches (with `@kubernetes/client-node` informers) MetalLB's configuration CRs in its namespace, every
 * Service, and Nodes and Namespaces; keeps them cached and reports each change. A failed list or watch is retried with
 * exponential backoff, resuming from the last resourceVersion seen (re-listing after `410 Gone`).
 */
export class ClusterWatch extends EventEmitter<ClusterWatchEvents> {
  private readonly watched: Watched[] = [];
  private watchForInformers: Watch | undefined;
  private stopped = false;

  constructor(private readonly options: ClusterWatchOptions) {
    super();
  }

  /** Starts every informer; resolves once each has listed its resources successfully (errors are retried). */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.watched.length === 0) this.createInformers(await loadKubeClient());
    await Promise.all(this.watched.map((w) => this.startOne(w)));
  }

  private boundedWatch(k8s: KubeClientModule): Watch {
    this.watchForInformers ??= boundedWatchFor(k8s, this.options.kubeConfig, this.options.watchTimeoutSeconds ?? 300);
    return this.watchForInformers;
  }

  private createInformers(k8s: KubeClientModule): void {
    const kc = this.options.kubeConfig;
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const ns = this.options.namespace;
    for (const type of METALLB_RESOURCE_TYPES) {
      this.add(
        k8s,
        'config',
        crPath(type, ns),
        () => custom.listNamespacedCustomObject({ ...crRef(type), namespace: ns }),
        type,
      );
    }
    this.add(k8s, 'service', '/api/v1/services', () => core.listServiceForAllNamespaces());
    if (this.options.nodes !== false) this.add(k8s, 'node', '/api/v1/nodes', () => core.listNode());
    if (this.options.namespaces !== false) this.add(k8s, 'namespace', '/api/v1/namespaces', () => core.listNamespace());
    if (this.options.endpointSlices) {
      const discovery = kc.makeApiClient(k8s.DiscoveryV1Api);
      this.add(k8s, 'endpointslice', '/apis/discovery.k8s.io/v1/endpointslices', () =>
        discovery.listEndpointSliceForAllNamespaces(),
      );
    }
    if (this.options.secrets)
      this.add(k8s, 'secret', `/api/v1/namespaces/${encodeURIComponent(ns)}/secrets`, () =>
        core.listNamespacedSecret({ namespace: ns }),
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

  /** One cached Service, or undefined. */
  service(namespace: string, name: string): KubeObject | undefined {
    return this.watched.find((w) => w.resource === 'service')?.informer.get(name, namespace) as KubeObject | undefined;
  }

  private list(resource: WatchedResource): KubeObject[] {
    return this.watched.filter((w) => w.resource === resource).flatMap((w) => [...w.informer.list()] as KubeObject[]);
  }

  private add(
    k8s: KubeClientModule,
    resource: WatchedResource,
    path: string,
    list: () => Promise<unknown>,
    type?: MetalLbResourceType,
  ): void {
    // Lists are turned into plain JSON so cached objects have one shape whether they came from a list or a watch.
    const listFn = async () => toPlain((await list()) as KubernetesListObject<KubernetesObject>);
    const informer = new k8s.ListWatch<KubernetesObject>(path, this.boundedWatch(k8s), listFn, false);
    const w: Watched = {
      resource,
      path,
      informer,
      failures: 0,
      synced: false,
      ...(type ? { kind: type.kind, apiVersion: `${type.group}/${type.version}` } : {}),
    };
    for (const verb of ['add', 'update', 'delete'] as const) {
      informer.on(verb, (obj) => this.emit('change', resource, verb, obj as KubeObject));
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
        w.retryTimer = setTimeout(resolve, backoffDelay(w.failures - 1, this.options.retry));
      });
    }
  }

  private failed(w: Watched, err: unknown): void {
    if (this.stopped) return; // stop() aborts the watches
    w.failures++;
    const e = err as { message?: string; statusCode?: number; code?: number };
    const status = e?.statusCode ?? e?.code;
    this.options.log.warn('kubernetes list/watch failed; retrying', {
      path: w.path,
      error: e?.message ?? String(err),
      status,
      attempt: w.failures,
      ...(status === 404 && w.resource === 'config' ? { hint: "are MetalLB's CRDs installed?" } : {}),
      ...(status === 403 ? { hint: 'the service account lacks list/watch permission (RBAC)' } : {}),
    });
    if (!w.synced) return; // startOne retries the first list itself
    clearTimeout(w.retryTimer);
    w.retryTimer = setTimeout(
      () => {
        if (this.stopped) return;
        const before = w.failures;
        void w.informer.start().then(() => {
          if (!this.stopped && w.failures === before) w.failures = 0;
        });
      },
      backoffDelay(w.failures - 1, this.options.retry),
    );
  }
}

/** The informers' watch, with a server-side timeout and a client-side guard (see `watchTimeoutSeconds`). */
function boundedWatchFor(k8s: KubeClientModule, kubeConfig: KubeConfig, timeoutSeconds: number): Watch {
  const inner = new k8s.Watch(kubeConfig);
  const bounded = Object.create(inner) as Watch;
  bounded.watch = async (path, queryParams, callback, done) => {
    const seconds = Math.round(timeoutSeconds * (1 + Math.random()));
    let finished = false;
    let guard: NodeJS.Timeout | undefined;
    const controller = await inner.watch(path, { ...queryParams, timeoutSeconds: seconds }, callback, (err) => {
      finished = true;
      clearTimeout(guard);
      done(err);
    });
    if (!finished) {
      guard = setTimeout(() => controller.abort(), (seconds + 30) * 1000);
      guard.unref();
    }
    return controller;
  };
  return bounded;
}

function crRef(type: MetalLbResourceType): { group: string; version: string; plural: string } {
  return { group: type.group, version: type.version, plural: type.plural };
}

function crPath(type: MetalLbResourceType, namespace: string): string {
  return `/apis/${type.group}/${type.version}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`;
}
