import { readFileSync } from 'node:fs';
import { type Backends, type BackendsOptions, createBackends } from '../backends/create-backends.js';
import type { Logger } from '../logger.js';
import { type MembershipSource, startMembership } from '../membership-source.js';
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
  /** Logger. */
  log: Logger;
}

/**
 * The speaker's own parts in Kubernetes mode: the layer-2 and BGP backends and the gossip membership, made before the
 * mode starts ({@link prepare}); the discovery of the other speakers once the Node informer runs ({@link start}).
 */
export class KubernetesSpeakerRole {
  private backendsMade: Backends | undefined;
  private membershipSource: MembershipSource | undefined;
  private discovery: SpeakerDiscovery | undefined;

  constructor(private readonly options: KubernetesSpeakerRoleOptions) {}

  /** The backends (after {@link prepare}). */
  get backends(): Backends {
    if (!this.backendsMade) throw new Error('the speaker role is not prepared');
    return this.backendsMade;
  }

  /** The gossip membership, when configured (after {@link prepare}). */
  get membership(): MembershipSource | undefined {
    return this.membershipSource;
  }

  /** Makes the backends and joins the membership; `onMembersChanged` re-plans (the mode does not exist yet). */
  async prepare(onMembersChanged: () => void): Promise<void> {
    const { log, memberlist: ml } = this.options;
    this.backendsMade = await createBackends({ ...this.options.backends, log });
    this.membershipSource = ml
      ? await startMembership({
          name: this.options.node,
          labels: this.options.labels,
          bind: ml.bind,
          join: ml.join,
          ...(ml.secretFile ? { secret: readFileSync(ml.secretFile, 'utf8').trim() } : {}),
          ...(ml.advertise ? { advertise: ml.advertise } : {}),
          insecurePlaintext: ml.insecurePlaintext,
          ...(ml.wire ? { wire: ml.wire } : {}),
          log: log.child('memberlist'),
          onChange: onMembersChanged,
        })
      : undefined;
  }

  /** With `memberlistDiscover`: joins the speakers at the Nodes' addresses now, every minute and when a Node appears. */
  async start(mode: KubernetesMode): Promise<void> {
    const membership = this.membershipSource;
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
   * Stops discovery, withdraws every layer-2 IP and cancels the gratuitous bursts, then leaves the membership, so the
   * new owners' first round is the last word on the segment (issue 17).
   */
  async stop(): Promise<void> {
    this.discovery?.stop();
    await this.backendsMade?.layer2.close?.();
    await this.membershipSource?.close();
  }
}
