import type { PoolStats } from '@ingot/allocator';
import type { ConfigIssue } from '../config/resources.js';
import type { Logger } from '../logger.js';
import type { KubeObject } from './kube-objects.js';
import type { StatusObjectApi } from './status-objects-api.js';
import { describeIssue } from './webhook-admission.js';

/** ConfigurationState's `status.result`. */
export type ConfigurationResult = 'Valid' | 'Invalid' | 'Unknown';

/** The ConfigurationState status for a configuration: valid, or rejected with these issues. */
export function configurationStatus(
  issues: readonly ConfigIssue[] | undefined,
  now: Date,
  previous?: { result?: string; conditions?: { status?: string; lastTransitionTime?: string }[] },
): Record<string, unknown> {
  const valid = issues !== undefined && issues.length === 0;
  const result: ConfigurationResult = issues === undefined ? 'Unknown' : valid ? 'Valid' : 'Invalid';
  const status = issues === undefined ? 'Unknown' : valid ? 'True' : 'False';
  const summary = (issues ?? []).map(describeIssue).join('; ');
  const before = previous?.conditions?.[0];
  return {
    result,
    errorSummary: summary,
    conditions: [
      {
        type: 'configReconcilerValid',
        status,
        reason: issues === undefined ? 'UnknownError' : valid ? 'Reconciled' : 'ConfigurationError',
        message: valid ? 'the configuration is valid and in force' : summary || 'no configuration read yet',
        // The transition time moves only when the status changes.
        lastTransitionTime:
          before?.status === status && before.lastTransitionTime
            ? before.lastTransitionTime
            : now.toISOString().replace(/\.\d+Z$/, 'Z'),
      },
    ],
  };
}

/** Options of {@link ConfigurationStateWriter}. */
export interface ConfigurationStateOptions {
  /** Reads and writes. */
  api: StatusObjectApi;
  /** `controller`, or `speaker` (with `node`). */
  component: 'controller' | 'speaker';
  /** The speaker's node. */
  node?: string;
  /** Structured logger. */
  log: Logger;
  /** The current time. @default () => new Date() */
  now?: () => Date;
}

/**
 * Writes this component's ConfigurationState (`controller`, or `speaker-<node>`; labels
 * `metallb.io/component-type` and `metallb.io/node-name`), so `kubectl get configurationstates -n metallb-system`
 * shows whether each component accepted the configuration and, if not, why. Written only when the outcome changes.
 */
export class ConfigurationStateWriter {
  private lastText: string | undefined;
  private chain: Promise<void> = Promise.resolve();
  readonly name: string;

  constructor(private readonly options: ConfigurationStateOptions) {
    this.name = options.component === 'controller' ? 'controller' : `speaker-${options.node ?? ''}`;
  }

  /** Records the outcome: `[]` valid, issues when rejected, undefined when unknown. Resolves once written. */
  report(issues: readonly ConfigIssue[] | undefined): Promise<void> {
    this.chain = this.chain
      .then(() => this.write(issues))
      .catch((err: Error) => {
        this.lastText = undefined;
        this.options.log.warn('writing ConfigurationState failed', { name: this.name, error: err.message });
      });
    return this.chain;
  }

  private async write(issues: readonly ConfigIssue[] | undefined): Promise<void> {
    const { api } = this.options;
    const key = JSON.stringify(issues ?? null);
    if (key === this.lastText) return;
    let existing = await api.get('configurationstates', this.name);
    if (!existing) {
      const labels: Record<string, string> = { 'metallb.io/component-type': this.options.component };
      if (this.options.node) labels['metallb.io/node-name'] = this.options.node;
      existing = await api.create('configurationstates', {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'ConfigurationState',
        metadata: { name: this.name, labels },
      } as KubeObject);
    }
    const status = configurationStatus(issues, (this.options.now ?? (() => new Date()))(), existing.status as never);
    await api.patchStatus('configurationstates', this.name, status);
    this.lastText = key;
  }
}

/** IPAddressPool `status`, from the allocator's counts (int64 in the API, capped at 2^53 - 1 here: JSON numbers). */
export function poolStatus(stats: PoolStats): Record<string, number> {
  const cap = (n: bigint | number) => Number(BigInt(n) > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : n);
  return {
    assignedIPv4: stats.inUse.ipv4,
    assignedIPv6: stats.inUse.ipv6,
    availableIPv4: cap(stats.available.ipv4),
    availableIPv6: cap(stats.available.ipv6),
  };
}

/**
 * Writes each IPAddressPool's `status` counts (assigned and available addresses per family), as MetalLB's
 * controller does, whenever they change.
 */
export class PoolStatusWriter {
  private readonly written = new Map<string, string>();
  private readonly failedAt = new Map<string, number>();
  private running: Promise<void> | undefined;

  constructor(
    private readonly api: StatusObjectApi,
    private readonly log: Logger,
  ) {}

  /** Writes the pools whose counts differ from what was last written (one pass at a time; a busy call is skipped). */
  sync(stats: readonly PoolStats[]): Promise<void> {
    this.running ??= (async () => {
      for (const s of stats) {
        const status = poolStatus(s);
        const text = JSON.stringify(status);
        if (this.written.get(s.pool) === text) continue;
        if (Date.now() - (this.failedAt.get(s.pool) ?? Number.NEGATIVE_INFINITY) < 30_000) continue;
        try {
          await this.api.patchStatus('ipaddresspools', s.pool, status);
          this.written.set(s.pool, text);
          this.failedAt.delete(s.pool);
        } catch (err) {
          this.failedAt.set(s.pool, Date.now());
          this.log.warn('writing IPAddressPool status failed', { pool: s.pool, error: (err as Error).message });
        }
      }
      const live = new Set(stats.map((s) => s.pool));
      for (const pool of [...this.written.keys()]) if (!live.has(pool)) this.written.delete(pool);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
