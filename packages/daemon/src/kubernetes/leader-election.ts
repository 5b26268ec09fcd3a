import type { Logger } from '../logger.js';
import { type KubeEndpoint, KubeHttp } from './kube-http.js';
import { orUndefined, rawCoordinationV1Api } from './kube-rest.js';
import { isConflict } from './service-write-api.js';

/** A `coordination.k8s.io/v1` Lease, as plain JSON (times as RFC 3339 strings). */
export interface LeaseObject {
  /** Lease metadata. */
  metadata: { name: string; namespace: string; resourceVersion?: string };
  /** Lease spec. */
  spec: {
    /** Who holds the lease; empty when released. */
    holderIdentity?: string;
    /** How long the holder's claim lasts after each renewal. */
    leaseDurationSeconds?: number;
    /** When the current holder acquired it. */
    acquireTime?: string;
    /** When the current holder last renewed it. */
    renewTime?: string;
    /** How many times the holder changed. */
    leaseTransitions?: number;
  };
}

/** Reads and writes Leases (an interface so tests and other clients can stand in). */
export interface LeaseApi {
  /** The Lease, or undefined when it does not exist. */
  read(namespace: string, name: string): Promise<LeaseObject | undefined>;
  /** Creates the Lease (409 when it already exists). */
  create(lease: LeaseObject): Promise<LeaseObject>;
  /** Replaces the Lease; `metadata.resourceVersion` is a precondition (409 when it changed). */
  replace(lease: LeaseObject): Promise<LeaseObject>;
}

/** Kubernetes MicroTime text (RFC 3339 with microseconds), which Lease times require. */
export function microTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, -1)}000Z`;
}

/** A {@link LeaseApi} in plain JSON over {@link KubeHttp} (`coordination.k8s.io/v1`). */
export async function coordinationLeaseApi(kubeConfig: KubeEndpoint): Promise<LeaseApi> {
  const api = rawCoordinationV1Api(new KubeHttp(kubeConfig));
  const plain = (lease: unknown): LeaseObject => lease as LeaseObject;
  const body = (lease: LeaseObject) => ({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', ...lease });
  return {
    read: async (namespace, name) => {
      const lease = await orUndefined(() => api.readNamespacedLease({ namespace, name }));
      return lease === undefined ? undefined : plain(lease);
    },
    create: async (lease) =>
      plain(await api.createNamespacedLease({ namespace: lease.metadata.namespace, body: body(lease) })),
    replace: async (lease) =>
      plain(
        await api.replaceNamespacedLease({
          namespace: lease.metadata.namespace,
          name: lease.metadata.name,
          body: body(lease),
        }),
      ),
  };
}

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  /** Lease reads and writes. */
  api: LeaseApi;
  /** The Lease's namespace. */
  namespace: string;
  /** The Lease's name. @default 'ingot-controller' */
  name?: string;
  /** This candidate's identity (e.g. the pod name); unique among candidates. */
  identity: string;
  /** How long a claim lasts without renewal. @default 15000 */
  leaseDurationMs?: number;
  /** A leader that could not renew for this long steps down. @default 10000 */
  renewDeadlineMs?: number;
  /** Time between attempts to acquire or renew. @default 2000 */
  retryPeriodMs?: number;
  /** Structured logger. */
  log: Logger;
  /** Called when this candidate becomes the leader. */
  onStartedLeading: () => void;
  /** Called when it stops being the leader (lost the lease, could not renew, or stopped). */
  onStoppedLeading: () => void;
  /** Clock. @default Date.now */
  now?: () => number;
}

/**
 * Leader election over a Lease, with client-go's rules: a holder renews every `retryPeriodMs`; a candidate takes the
 * Lease over only after it has seen the same holder and renew time unchanged for `leaseDurationMs` on its own clock
 * (no clock comparison across nodes); every write carries the resourceVersion read, so two candidates cannot both
 * win; a leader that cannot renew within `renewDeadlineMs` steps down; `stop()` releases the Lease so a successor
 * need not wait. MetalLB has no controller leader election (#2216, #2226): this lets `ingot` run two controller replicas.
 */
export class LeaderElector {
  private timer: NodeJS.Timeout | undefined;
  private leading = false;
  private lastRenew = 0;
  private observed: { key: string; at: number } | undefined;
  private stopped = false;
  private readonly name: string;
  private readonly now: () => number;

  constructor(private readonly options: LeaderElectorOptions) {
    this.name = options.name ?? 'ingot-controller';
    this.now = options.now ?? Date.now;
  }

  /** True while this candidate holds the Lease. */
  get isLeader(): boolean {
    return this.leading;
  }

  /** Starts trying to acquire (then renew) the Lease. */
  start(): void {
    this.stopped = false;
    void this.tick();
  }

  /** Stops; a leader releases the Lease (empty holder) and steps down. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    try {
      const lease = await this.options.api.read(this.options.namespace, this.name);
      if (lease?.spec.holderIdentity === this.options.identity)
        await this.options.api.replace({
          ...lease,
          spec: { ...lease.spec, holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(this.now()) },
        });
    } catch (err) {
      this.options.log.warn('releasing the leader lease failed', { error: (err as Error).message });
    }
    this.stepDown('stopped');
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    try {
      if (await this.tryAcquireOrRenew()) {
        this.lastRenew = this.now();
        if (!this.leading && !this.stopped) {
          this.leading = true;
          this.options.log.info('became the leader', { lease: this.name, identity: this.options.identity });
          this.options.onStartedLeading();
        }
      } else if (this.leading) this.stepDown('lease held by another candidate');
    } catch (err) {
      if (!isConflict(err))
        this.options.log.warn('leader lease request failed', { lease: this.name, error: (err as Error).message });
      if (this.leading && this.now() - this.lastRenew > (this.options.renewDeadlineMs ?? 10_000))
        this.stepDown('could not renew the lease in time');
    }
    if (!this.stopped) this.timer = setTimeout(() => void this.tick(), this.options.retryPeriodMs ?? 2_000);
  }

  /** One attempt; true when this candidate holds the Lease afterwards. */
  private async tryAcquireOrRenew(): Promise<boolean> {
    const { api, namespace, identity } = this.options;
    const durationMs = this.options.leaseDurationMs ?? 15_000;
    const now = this.now();
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(durationMs / 1000)),
      renewTime: microTime(now),
    };
    const lease = await api.read(namespace, this.name);
    if (!lease) {
      await api.create({
        metadata: { name: this.name, namespace },
        spec: { ...spec, acquireTime: microTime(now), leaseTransitions: 0 },
      });
      return true;
    }
    const holder = lease.spec.holderIdentity ?? '';
    if (holder !== identity) {
      const key = `${holder}\u0000${lease.spec.renewTime ?? ''}`;
      if (this.observed?.key !== key) this.observed = { key, at: now };
      const heldFor = holder === '' ? Number.POSITIVE_INFINITY : now - this.observed.at;
      if (heldFor < durationMs) return false;
    }
    await api.replace({
      ...lease,
      spec: {
        ...lease.spec,
        ...spec,
        ...(holder !== identity
          ? { acquireTime: microTime(now), leaseTransitions: (lease.spec.leaseTransitions ?? 0) + 1 }
          : {}),
      },
    });
    return true;
  }

  private stepDown(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.options.log.warn('stopped leading', { lease: this.name, identity: this.options.identity, reason });
    this.options.onStoppedLeading();
  }
}
