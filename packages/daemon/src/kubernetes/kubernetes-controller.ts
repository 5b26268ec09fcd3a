import type { NamespaceInfo } from '@ingot/allocator';
import { parseServiceObject } from '../config/parse-config.js';
import type { IngotConfig } from '../config/resources.js';
import { type ConvergeResult, ServiceController, type ServiceEvent } from '../controller/service-controller.js';
import type { Logger } from '../logger.js';
import { type BackoffOptions, backoffDelay } from './backoff.js';
import { handlesClass, ingressIps, type KubeObject, objectKey } from './kube-objects.js';
import { serviceEventObject } from './service-events.js';
import { writeServiceState } from './service-status-writer.js';
import type { ServiceWriteApi } from './service-write-api.js';

/** The event source component the controller reports. */
export const CONTROLLER_COMPONENT = 'ingot-controller';

/** Options of {@link KubernetesController}. */
export interface KubernetesControllerOptions {
  /** Where statuses, annotations and events are written. */
  api: ServiceWriteApi;
  /** The cached Services (from the informer). */
  services: () => readonly KubeObject[];
  /** One cached Service by `namespace/name`. */
  service: (key: string) => KubeObject | undefined;
  /** Structured logger. */
  log: Logger;
  /** Only Services with this `spec.loadBalancerClass` are handled; default: only Services without a class. */
  loadBalancerClass?: string;
  /** Delays before a failed pass (or service) is tried again. @default 200 ms doubling to 30 s */
  retry?: BackoffOptions;
  /** Delays between attempts after a status write conflict. @default 50 ms doubling */
  conflictRetry?: BackoffOptions;
  /** Writes in flight at once, in a full pass and for queued changes (decisions are made one by one, in order). @default 16 */
  writeConcurrency?: number;
}

interface Outcome {
  reprocessAll: boolean;
  error: boolean;
}

interface Decided {
  svc: KubeObject;
  result: ConvergeResult | undefined;
}

interface PendingEvent {
  key: string;
  /**
   * The Service as it was decided, only what goes into the Event (name, namespace, uid, resourceVersion): thousands
   * may wait, and the whole cached object they were decided from is replaced in the cache meanwhile.
   */
  ref: KubeObject;
  event: ServiceEvent;
}

/** Events posted at once when no status write is pending. */
const EVENT_CONCURRENCY = 2;
/** Events posted at once while status writes are pending: statuses first, Events still move. */
const EVENT_CONCURRENCY_WHILE_WRITING = 1;
/** Events waiting beyond which new ones are dropped. */
const MAX_QUEUED_EVENTS = 20_000;

/** Queued Service changes decided before their writes start (bounds the work between two looks at a full pass). */
const QUEUE_BATCH = 1_000;

/**
 * MetalLB's controller against the Kubernetes API: converges Services through a {@link ServiceController} and writes
 * back `status.loadBalancer.ingress`, the `metallb.io/ip-allocated-from-pool` annotation and Events (MetalLB's reasons).
 *
 * Restart safety as in MetalLB (`initialLoadPerformed`): nothing is converged before a valid configuration; then a full
 * pass handles Services holding IPs first (most ingress IPs first), so each re-claims its own IPs before any pending
 * Service may allocate; single-Service changes are dropped until one full pass has succeeded. A pass that failed is
 * retried with exponential backoff; one that released IPs (ReprocessAll) is repeated.
 */
export class KubernetesController {
  /** The controller logic and its allocator. */
  readonly controller = new ServiceController();
  private config: IngotConfig | undefined;
  private namespaces: NamespaceInfo[] = [];
  private initialLoad = false;
  private fullPassWanted = false;
  private readonly queue = new Set<string>();
  private readonly changedDuringLoad = new Set<string>();
  /**
   * Per Service: the resourceVersions of the object last converged and of the objects our patches produced, and
   * whether anyone else changed it since. A queued change whose object is one of ours, with no foreign change seen,
   * is the echo of our own write and needs no convergence (no redundant write from a cache that lags our patches).
   */
  private readonly echoes = new Map<string, { own: Set<string>; dirty: boolean }>();
  private running: Promise<void> | undefined;
  private passFailures = 0;
  private passRepeats = 0;
  private passTimer: NodeJS.Timeout | undefined;
  private readonly keyFailures = new Map<string, number>();
  private readonly keyTimers = new Map<string, NodeJS.Timeout>();
  private readonly lastEvent = new Map<string, string>();
  private closed = false;
  private readonly pendingEvents: PendingEvent[] = [];
  private eventsPosting = 0;
  /** Batches of status writes in progress (Events give way to them). */
  private writing = 0;
  private eventsDrained: Promise<void> | undefined;
  private resolveEvents: (() => void) | undefined;
  /**
   * Writes made (status or annotation patches) and write errors, for `metallb_k8s_client_update*_total`; Events
   * dropped because too many were waiting.
   */
  readonly counters = { updates: 0, updateErrors: 0, eventsDropped: 0 };

  constructor(private readonly options: KubernetesControllerOptions) {}

  /** True once a full pass over every Service has succeeded (MetalLB's `initialLoadPerformed`). */
  get initialLoadPerformed(): boolean {
    return this.initialLoad;
  }

  /** A new valid configuration: pools are replaced (IPs re-homed or evicted) and every Service is re-converged. */
  setConfig(config: IngotConfig): void {
    this.config = config;
    this.applyPools();
    this.requestFullPass();
  }

  /** Namespaces and their labels changed: re-resolves pools' `namespaceSelectors` when any pool uses them. */
  setNamespaces(namespaces: readonly KubeObject[]): void {
    this.namespaces = namespaces.map((n) => ({ name: n.metadata?.name ?? '', labels: n.metadata?.labels ?? {} }));
    if (!this.config?.pools.some((p) => (p.serviceAllocation?.namespaceSelectors.length ?? 0) > 0)) return;
    this.applyPools();
    this.requestFullPass();
  }

  /**
   * A Service was added or changed. Before the first full pass has succeeded it is not converged on its own (MetalLB's
   * `initialLoadPerformed`), but remembered: a change that lands after the pass already handled the Service is
   * converged right after the pass (MetalLB drops it until some later event).
   */
  serviceChanged(svc: KubeObject): void {
    if (this.closed) return;
    const echo = this.echoes.get(objectKey(svc));
    if (echo && !echo.own.has(svc.metadata?.resourceVersion ?? '')) echo.dirty = true;
    if (!this.initialLoad) {
      this.changedDuringLoad.add(objectKey(svc));
      return;
    }
    this.queue.add(objectKey(svc));
    this.kick();
  }

  /** A Service was deleted: its IPs are released and, when it held some, pending Services get another try. */
  serviceDeleted(svc: KubeObject): void {
    const key = objectKey(svc);
    this.queue.delete(key);
    this.lastEvent.delete(key);
    this.echoes.delete(key);
    if (this.config && this.controller.delete(key)) this.requestFullPass();
  }

  /** Resolves when no pass or Service is being processed or queued, and every Event is posted (backoff timers not included). */
  async idle(): Promise<void> {
    while (this.running || this.eventsDrained) {
      if (this.running) await this.running;
      if (this.eventsDrained) await this.eventsDrained;
    }
  }

  /** Stops processing and cancels retries. */
  close(): void {
    this.closed = true;
    clearTimeout(this.passTimer);
    for (const t of this.keyTimers.values()) clearTimeout(t);
  }

  private applyPools(): void {
    if (!this.config) return;
    const result = this.controller.allocator.setPools(this.config.pools, { namespaces: this.namespaces });
    for (const e of result.evicted)
      this.options.log.warn('service IPs are in no pool any more; released', { service: e.serviceKey, ips: e.ips });
  }

  private requestFullPass(): void {
    this.fullPassWanted = true;
    this.kick();
  }

  private kick(): void {
    if (this.running || this.closed) return;
    this.running = this.work().finally(() => {
      this.running = undefined;
      if (!this.closed && this.config && (this.fullPassWanted || (this.initialLoad && this.queue.size > 0)))
        this.kick();
    });
  }

  private async work(): Promise<void> {
    while (!this.closed && this.config) {
      if (this.fullPassWanted) {
        this.fullPassWanted = false;
        clearTimeout(this.passTimer);
        this.queue.clear();
        this.changedDuringLoad.clear();
        const outcome = await this.fullPass();
        if (!outcome.error && !outcome.reprocessAll) {
          if (!this.initialLoad) this.options.log.info('initial load performed: every service converged');
          this.initialLoad = true;
          for (const key of this.changedDuringLoad) this.queue.add(key);
          this.changedDuringLoad.clear();
          this.passFailures = 0;
          this.passRepeats = 0;
        } else if (!outcome.error && this.passRepeats < 3) {
          this.passRepeats++;
          this.fullPassWanted = true;
        } else {
          this.passRepeats = 0;
          const delay = backoffDelay(this.passFailures++, this.options.retry);
          this.options.log.warn('full pass over services failed; retrying', { delayMs: delay });
          this.passTimer = setTimeout(() => this.requestFullPass(), delay);
        }
        continue;
      }
      if (!this.initialLoad || this.queue.size === 0) return;
      // The queued changes in arrival order: decided one by one, then written several at a time (as a full pass).
      const decided: Decided[] = [];
      for (const key of [...this.queue].slice(0, QUEUE_BATCH)) {
        this.queue.delete(key);
        const svc = this.options.service(key);
        if (!svc || !handlesClass(svc, this.options.loadBalancerClass)) {
          if (this.controller.delete(key)) this.fullPassWanted = true;
          continue;
        }
        const echo = this.echoes.get(key);
        if (echo && !echo.dirty && echo.own.has(svc.metadata?.resourceVersion ?? '')) continue;
        decided.push({ svc, result: this.decide(svc) });
      }
      await this.writeAll(decided, (svc, outcome) => {
        const key = objectKey(svc);
        if (outcome.reprocessAll) this.fullPassWanted = true;
        if (outcome.error) this.retryKey(key);
        else this.keyFailures.delete(key);
      });
    }
  }

  /**
   * Writes decisions, `writeConcurrency` at a time, reporting each outcome. Decisions are taken from `decided` one at a
   * time as a writer is free (a lazy iterable decides in order as it goes: 10,000 results are never held at once).
   */
  private async writeAll(decided: Iterable<Decided>, done: (svc: KubeObject, outcome: Outcome) => void): Promise<void> {
    const next = decided[Symbol.iterator]();
    const worker = async () => {
      while (!this.closed) {
        const item = next.next();
        if (item.done) return;
        const { svc, result } = item.value;
        done(svc, result ? await this.write(svc, result) : { reprocessAll: false, error: false });
      }
    };
    this.writing++;
    try {
      await Promise.all(Array.from({ length: Math.max(1, this.options.writeConcurrency ?? 16) }, worker));
    } finally {
      this.writing--;
      this.pumpEvents();
    }
  }

  private async fullPass(): Promise<Outcome> {
    const services = this.options.services().filter((s) => handlesClass(s, this.options.loadBalancerClass));
    const live = new Set(services.map(objectKey));
    const outcome: Outcome = { reprocessAll: false, error: false };
    for (const key of this.controller.allocator.serviceKeys()) {
      if (!live.has(key)) this.controller.delete(key);
    }
    // Services holding IPs first, most first: they re-claim their own IPs before pending ones allocate (MetalLB #1774).
    const ordered = services
      .map((svc) => ({ key: objectKey(svc), held: ingressIps(svc).length }))
      .sort((a, b) => b.held - a.held);
    // Decisions in that order (the allocator is synchronous), each as a writer is free, several writes at a time. Each
    // is made from the cached object of that moment; one deleted since is left out (its deletion released its IPs).
    await this.writeAll(this.decideInOrder(ordered.map((o) => o.key)), (_svc, r) => {
      outcome.reprocessAll ||= r.reprocessAll;
      outcome.error ||= r.error;
    });
    return outcome;
  }

  /** Decides the cached Services of `keys` in that order, each when asked for (those gone or of another class skipped). */
  private *decideInOrder(keys: readonly string[]): Generator<Decided> {
    for (const key of keys) {
      const svc = this.options.service(key);
      if (svc && handlesClass(svc, this.options.loadBalancerClass)) yield { svc, result: this.decide(svc) };
    }
  }

  /** Converges one Service in the allocator; undefined when its fields cannot be read. */
  private decide(obj: KubeObject): ConvergeResult | undefined {
    this.echoes.set(objectKey(obj), { own: new Set([obj.metadata?.resourceVersion ?? '']), dirty: false });
    const parsed = parseServiceObject({ ...obj, apiVersion: 'v1', kind: 'Service' });
    if (!parsed.ok) {
      this.options.log.warn('service not handled: unreadable fields', {
        service: objectKey(obj),
        issues: parsed.issues,
      });
      return undefined;
    }
    return this.controller.converge(parsed.service, ingressIps(obj));
  }

  /** Queues the decision's events and writes its status and annotation. */
  private async write(obj: KubeObject, result: ConvergeResult): Promise<Outcome> {
    const key = objectKey(obj);
    this.queueEvents(obj, result.events);
    try {
      const written = await writeServiceState(
        this.options.api,
        obj,
        { ips: result.ips, ...(result.pool ? { pool: result.pool } : {}) },
        {
          ...(this.options.conflictRetry ? { retry: this.options.conflictRetry } : {}),
          onWritten: (rv) => this.echoes.get(key)?.own.add(rv),
        },
      );
      this.counters.updates += written.resourceVersions.length;
      if (written.statusWritten || written.annotationWritten)
        this.options.log.info('service updated', {
          service: key,
          ips: result.ips,
          pool: result.pool,
          conflicts: written.conflicts,
        });
      if (written.gone && this.controller.delete(key)) return { reprocessAll: true, error: false };
      return { reprocessAll: result.reprocessAll, error: false };
    } catch (err) {
      this.counters.updateErrors++;
      this.options.log.warn('writing service status failed', { service: key, error: (err as Error).message });
      return { reprocessAll: result.reprocessAll, error: true };
    }
  }

  /**
   * Logs the events of one converge and queues them for posting (an event identical to the previous one for the same
   * Service is not repeated). Events are posted in order, beside the status writes rather than before each (as
   * client-go's event recorder does), {@link EVENT_CONCURRENCY} at a time, one at a time while status writes are
   * pending (the status is what users and speakers wait for); past {@link MAX_QUEUED_EVENTS} waiting,
   * new ones are dropped and counted (client-go drops past 1,000).
   */
  private queueEvents(obj: KubeObject, events: readonly ServiceEvent[]): void {
    const key = objectKey(obj);
    let ref: KubeObject | undefined;
    for (const e of events) {
      const log = e.type === 'Warning' ? this.options.log.warn : this.options.log.info;
      const signature = `${e.type}\u0000${e.reason}\u0000${e.message}`;
      if (this.lastEvent.get(key) === signature) continue;
      this.lastEvent.set(key, signature);
      log(e.message, { service: key, reason: e.reason, eventType: e.type });
      if (this.pendingEvents.length >= MAX_QUEUED_EVENTS) {
        this.counters.eventsDropped++;
        continue;
      }
      ref ??= { metadata: eventReference(obj) };
      this.pendingEvents.push({ key, ref, event: e });
    }
    this.pumpEvents();
  }

  private pumpEvents(): void {
    if (this.pendingEvents.length === 0 && this.eventsPosting === 0) {
      this.resolveEvents?.();
      this.eventsDrained = undefined;
      this.resolveEvents = undefined;
      return;
    }
    this.eventsDrained ??= new Promise<void>((resolve) => {
      this.resolveEvents = resolve;
    });
    const concurrency = this.writing > 0 ? EVENT_CONCURRENCY_WHILE_WRITING : EVENT_CONCURRENCY;
    while (this.eventsPosting < concurrency && this.pendingEvents.length > 0 && !this.closed) {
      const next = this.pendingEvents.shift() as PendingEvent;
      this.eventsPosting++;
      // The body is made when it is sent: thousands may wait.
      const body = serviceEventObject(next.ref, next.event, CONTROLLER_COMPONENT);
      this.options.api
        .createEvent(next.ref.metadata?.namespace ?? 'default', body)
        .catch((err: Error) => {
          this.options.log.warn('posting event failed', {
            service: next.key,
            reason: next.event.reason,
            error: err.message,
          });
        })
        .finally(() => {
          this.eventsPosting--;
          this.pumpEvents();
        });
    }
    if (this.closed && this.eventsPosting === 0) {
      this.pendingEvents.length = 0;
      this.pumpEvents();
    }
  }

  private retryKey(key: string): void {
    // The failed write produced no echo to skip: the retry must decide again even when the cached object is the one
    // decided before (unchanged, so no watch event will arrive to requeue it).
    this.echoes.delete(key);
    const failures = this.keyFailures.get(key) ?? 0;
    this.keyFailures.set(key, failures + 1);
    clearTimeout(this.keyTimers.get(key));
    this.keyTimers.set(
      key,
      setTimeout(
        () => {
          this.keyTimers.delete(key);
          if (this.closed) return;
          this.queue.add(key);
          this.kick();
        },
        backoffDelay(failures, this.options.retry),
      ),
    );
  }
}

/** What an Event says of its Service: name, namespace, uid and resourceVersion (those present). */
function eventReference(obj: KubeObject): NonNullable<KubeObject['metadata']> {
  const m = obj.metadata ?? {};
  return {
    ...(m.name !== undefined ? { name: m.name } : {}),
    ...(m.namespace !== undefined ? { namespace: m.namespace } : {}),
    ...(m.uid !== undefined ? { uid: m.uid } : {}),
    ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
  };
}
