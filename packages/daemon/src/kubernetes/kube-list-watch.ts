import type { KubeHttp } from './kube-http.js';
import type { KubeObject } from './kube-objects.js';
import type { KubeList } from './kube-rest.js';

/** A list answer as {@link JsonListWatch} needs it: the items and the snapshot's resourceVersion. */
export type ListAnswer = Pick<KubeList, 'items' | 'metadata'>;

/** Options of {@link JsonListWatch}. */
export interface JsonListWatchOptions {
  /** The collection's path, e.g. `/api/v1/services`. */
  path: string;
  /** The watches' transport. */
  http: KubeHttp;
  /** Reads the whole collection (paginated by the caller). */
  list: () => Promise<ListAnswer>;
  /** Each watch asks the server to end it after this many seconds (the caller randomises it). */
  timeoutSeconds: () => number;
  /** A watch silent this many seconds beyond its own timeout is aborted (a connection dead without a FIN). @default 30 */
  guardSeconds?: number;
  /** Called for each watch request made. */
  onWatch?: () => void;
  /** Called for each watch event received (bookmarks and errors included), before it is applied. */
  onEvent?: (type: string, obj: KubeObject | undefined) => void;
  /** Applied to each object of a watch event before it is cached. */
  transform?: (obj: KubeObject) => KubeObject;
}

type Verb = 'add' | 'update' | 'delete';

/**
 * A cache of one collection kept by list and watch in plain JSON over {@link KubeHttp} (the behaviour of
 * `@kubernetes/client-node` 1.4's `ListWatch`, without it): `start()` lists (when it has no resourceVersion to resume
 * from), reports objects added, changed (another resourceVersion) and gone since its cache, then watches from the
 * list's resourceVersion with bookmarks (`allowWatchBookmarks`), each event updating the cache and being reported.
 * A watch the server ends is resumed from the last resourceVersion seen (bookmarks included); `410 Gone` (an
 * `ERROR` event or the answer) clears it so the next round lists again. Any other failure is reported to the `error`
 * listeners and stops it; the caller calls `start()` again (with its backoff) to resume.
 */
export class JsonListWatch {
  private objects = new Map<string, Map<string, KubeObject>>();
  private readonly listeners: Record<Verb | 'error', ((arg: never) => void)[]> = {
    add: [],
    update: [],
    delete: [],
    error: [],
  };
  private resourceVersion = '';
  private stopped = false;
  private request: { abort(): void } | undefined;
  private guard: NodeJS.Timeout | undefined;
  /** Bumped by each round, so the `done` of an aborted watch does not start another. */
  private round = 0;

  constructor(private readonly options: JsonListWatchOptions) {}

  /** Lists (unless resuming) and opens the watch; resolves once the watch request is made or the list failed. */
  async start(): Promise<void> {
    this.stopped = false;
    await this.next(null);
  }

  /** Aborts the watch; nothing restarts until {@link start}. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort();
  }

  /** Listens to objects added, updated or deleted, or to failures. */
  on(verb: Verb, listener: (obj: KubeObject) => void): void;
  on(verb: 'error', listener: (err: unknown) => void): void;
  on(verb: Verb | 'error', listener: ((obj: KubeObject) => void) | ((err: unknown) => void)): void {
    this.listeners[verb].push(listener as (arg: never) => void);
  }

  /** One cached object. */
  get(name: string, namespace?: string): KubeObject | undefined {
    return this.objects.get(namespace ?? '')?.get(name);
  }

  /** Every cached object. */
  list(): KubeObject[] {
    const out: KubeObject[] = [];
    for (const byName of this.objects.values()) out.push(...byName.values());
    return out;
  }

  /** The resourceVersion the next watch resumes from ('' when it will list). */
  latestResourceVersion(): string {
    return this.resourceVersion;
  }

  private emit(verb: Verb | 'error', arg: unknown): void {
    for (const listener of this.listeners[verb].slice()) (listener as (a: unknown) => void)(arg);
  }

  private abort(): void {
    clearTimeout(this.guard);
    const request = this.request;
    this.request = undefined;
    this.round++;
    request?.abort();
  }

  private async next(err: unknown): Promise<void> {
    this.abort();
    if (err) {
      if ((err as { statusCode?: number }).statusCode === 410) this.resourceVersion = '';
      else {
        this.emit('error', err);
        return;
      }
    }
    if (this.stopped) return;
    if (!this.resourceVersion) {
      let list: ListAnswer;
      try {
        list = await this.options.list();
      } catch (e) {
        this.emit('error', e);
        return;
      }
      if (this.stopped) return;
      this.replace(list.items ?? []);
      this.resourceVersion = list.metadata?.resourceVersion ?? '';
    }
    const round = ++this.round;
    const seconds = this.options.timeoutSeconds();
    this.options.onWatch?.();
    const request = await this.options.http.watch(
      this.options.path,
      { resourceVersion: this.resourceVersion || undefined, allowWatchBookmarks: true, timeoutSeconds: seconds },
      (event) => {
        if (round === this.round) this.apply(event.type ?? '', event.object as KubeObject | undefined);
      },
      (e) => {
        if (round === this.round) void this.next(e);
      },
    );
    if (round !== this.round) {
      request.abort(); // stopped or finished while it was being made
      return;
    }
    this.request = request;
    this.guard = setTimeout(
      () => {
        if (round === this.round) request.abort();
      },
      (seconds + (this.options.guardSeconds ?? 30)) * 1000,
    );
    this.guard.unref();
  }

  private apply(type: string, raw: KubeObject | undefined): void {
    this.options.onEvent?.(type, raw);
    if (!raw || typeof raw !== 'object') return;
    if (type === 'ERROR') {
      if ((raw as { code?: number }).code === 410) this.resourceVersion = '';
      return; // the server ends the watch after an ERROR event
    }
    const obj = this.options.transform ? this.options.transform(raw) : raw;
    if (type === 'ADDED' || type === 'MODIFIED') this.put(obj);
    else if (type === 'DELETED') this.remove(obj);
    else if (type !== 'BOOKMARK') return;
    this.resourceVersion = obj.metadata?.resourceVersion ?? this.resourceVersion;
  }

  private put(obj: KubeObject): void {
    const ns = obj.metadata?.namespace ?? '';
    const name = obj.metadata?.name ?? '';
    let byName = this.objects.get(ns);
    if (!byName) {
      byName = new Map();
      this.objects.set(ns, byName);
    }
    const found = byName.get(name);
    byName.set(name, obj);
    if (!found) this.emit('add', obj);
    else if (
      found.metadata?.resourceVersion === undefined ||
      found.metadata.resourceVersion !== obj.metadata?.resourceVersion
    )
      this.emit('update', obj);
  }

  private remove(obj: KubeObject): void {
    const ns = obj.metadata?.namespace ?? '';
    const byName = this.objects.get(ns);
    if (!byName?.delete(obj.metadata?.name ?? '')) return;
    if (byName.size === 0) this.objects.delete(ns);
    this.emit('delete', obj);
  }

  /** A fresh list: objects gone since are deleted, the others added or updated. */
  private replace(items: KubeObject[]): void {
    const fresh = new Set(items.map((o) => `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`));
    for (const old of this.list()) {
      if (!fresh.has(`${old.metadata?.namespace ?? ''}/${old.metadata?.name ?? ''}`)) this.remove(old);
    }
    for (const obj of items) this.put(obj);
  }
}
