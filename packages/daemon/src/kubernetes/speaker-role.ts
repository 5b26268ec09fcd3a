import { readFileSync } from 'node:fs';
import { type Backends, type BackendsOptions, createBackends } from '../backends/create-backends.js';
import type { Logger } from '../logger.js';
import { type MembershipSource, startMembership } from '../membership-source.js';
import type { MetricSample } from '../metrics.js';
import type { NodeInfo } from '../speaker/announcement-plan.js';
import { type FailoverProfile, type RunningFastFailover, startFastFailover } from '../speaker/fast-failover.js';
import type { KubernetesMode } from './kubernetes-mode.js';
import { SpeakerDiscovery } from './speaker-discovery.js';

/** Options of {@link KubernetesSpeakerRole} (from the command line). */
export interface KubernetesSpeakerRoleOptions {
  /** This node's name. */
  node: string;
  /** This node's labels (gossiped). */
  labels: Record<string, string>;
  /** Live or dry-run backends, and their settings. */
  backends: Omit<BackendsOptions, 'log'>;
  /** Gossip membership (`--memberlist-*`); absent = none (every node announces as if alone). */
  memberlist?: {
    bind: string;
    join: string[];
    secretFile?: string;
    advertise?: string;
    insecurePlaintext: boolean;
    wire?: 'ingot' | 'memberlist';
  };
  /** With `memberlist`: join the other speakers at their Nodes' addresses (no static seeds needed). */
  memberlistDiscover?: boolean;
  /**
   * Layer-2 failover profile (`--failover`): `fast` runs the per-pair heartbeat beside gossip (UDP on the memberlist
   * port + 1) and needs `memberlist`. @default 'gossip'
   */
  failover?: FailoverProfile;
  /** Logger. */
  log: Logger;
  /** What the role starts with (tests pass fakes). @default the real ones */
  parts?: Partial<SpeakerParts>;
}

/** The functions {@link KubernetesSpeakerRole} starts its parts with. */
export interface SpeakerParts {
  createBackends: typeof createBackends;
  startMembership: typeof startMembership;
  startFastFailover: typeof startFastFailover;
}

/**
 * The speaker's own parts in Kubernetes mode: the layer-2 and BGP backends and the gossip membership, made before the
 * mode starts ({@link prepare}); the discovery of the other speakers once the Node informer runs ({@link start}).
 */
export class KubernetesSpeakerRole {
  private backendsMade: Backends | undefined;
  private membershipSource: MembershipSource | undefined;
  private discovery: SpeakerDiscovery | undefined;
  private secret: string | undefined;
  private fast: RunningFastFailover | undefined;
  private mode: KubernetesMode | undefined;
  private readonly parts: SpeakerParts;

  constructor(private readonly options: KubernetesSpeakerRoleOptions) {
    if (options.failover === 'fast' && !options.memberlist)
      throw new Error('--failover fast needs gossip membership (--memberlist-bind): the heartbeat runs beside it');
    this.parts = { createBackends, startMembership, startFastFailover, ...options.parts };
  }

  /** The backends (after {@link prepare}). */
  get backends(): Backends {
    if (!this.backendsMade) throw new Error('the speaker role is not prepared');
    return this.backendsMade;
  }

  /** The gossip membership, when configured (after {@link prepare}). */
  get membership(): MembershipSource | undefined {
    return this.membershipSource;
  }

  /**
   * The live gossip members the layer-2 plan is computed from: without the owners the `fast` profile took over
   * (provisionally), as in standalone mode; undefined without gossip.
   */
  members(): NodeInfo[] | undefined {
    const live = this.membershipSource?.members();
    const fast = this.fast?.failover;
    return fast ? live?.filter((m) => !fast.excluded(m.name)) : live;
  }

  /** The `fast` profile's metrics (`ingot_layer2_fast_takeovers_*`, `ingot_heartbeat_*`); none with `gossip`. */
  metrics(): MetricSample[] {
    return this.fast?.failover.metrics() ?? [];
  }

  /** Makes the backends and joins the membership; `onMembersChanged` re-plans (the mode does not exist yet). */
  async prepare(onMembersChanged: () => void): Promise<void> {
    const { log, memberlist: ml } = this.options;
    this.backendsMade = await this.parts.createBackends({ ...this.options.backends, log });
    this.secret = ml?.secretFile ? readFileSync(ml.secretFile, 'utf8').trim() : undefined;
    this.membershipSource = ml
      ? await this.parts.startMembership({
          name: this.options.node,
          labels: this.options.labels,
          bind: ml.bind,
          join: ml.join,
          ...(this.secret !== undefined ? { secret: this.secret } : {}),
          ...(ml.advertise ? { advertise: ml.advertise } : {}),
          insecurePlaintext: ml.insecurePlaintext,
          ...(ml.wire ? { wire: ml.wire } : {}),
          log: log.child('memberlist'),
          onChange: onMembersChanged,
        })
      : undefined;
  }

  /**
   * Starts the `fast` profile's heartbeat on the mode's announcement plan (`--failover fast`), and with
   * `memberlistDiscover` joins the speakers at the Nodes' addresses now, every minute and when a Node appears.
   */
  async start(mode: KubernetesMode): Promise<void> {
    this.mode = mode;
    const membership = this.membershipSource;
    const { daemon } = mode;
    if (this.options.failover === 'fast' && membership && daemon) {
      const layer2 = this.backends.layer2;
      this.fast = await this.parts.startFastFailover({
        self: this.options.node,
        membership,
        ...(this.secret !== undefined ? { secret: this.secret } : {}),
        plan: () => daemon.announcementPlan(),
        reconcile: () => mode.reconcile(),
        reannounce: () => layer2.reannounce?.(),
        log: this.options.log.child('failover'),
        ...(this.options.backends.realtimePriority !== undefined
          ? { realtimePriority: this.options.backends.realtimePriority }
          : {}),
      });
    }
    if (!membership || !this.options.memberlistDiscover) return;
    const discovery = new SpeakerDiscovery({
      nodes: () => mode.watch.nodes(),
      self: this.options.node,
      advertised: membership.advertised,
      members: () =>
        membership
          .view()
          .filter((m) => m.state === 'alive' || m.state === 'suspect')
          .map((m) => m.address),
      join: (seeds) => membership.join(seeds),
      log: this.options.log.child('memberlist'),
    });
    this.discovery = discovery;
    mode.watch.on('change', (resource, verb) => {
      if (resource === 'node' && verb === 'add') void discovery.rejoin();
    });
    await discovery.start();
  }

  /**
   * Stops discovery, withdraws every layer-2 IP and cancels the gratuitous bursts (the Daemon's `stopLayer2`), then
   * (failover profile `fast`) tells the successors `leaving` on the heartbeat path, then leaves the membership, so the
   * new owners' first round is the last word on the segment (issue 17); then closes the layer-2 backend, and the
   * heartbeat thread last (it answers probes until then). The order of standalone mode's stop.
   */
  async stop(): Promise<void> {
    this.discovery?.stop();
    await this.mode?.daemon?.stopLayer2();
    await this.fast?.failover.leave();
    await this.membershipSource?.close();
    await this.backendsMade?.layer2.close?.();
    await this.fast?.close();
  }
}
