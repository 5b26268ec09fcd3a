import { isIP } from 'node:net';
import type { Logger } from '../logger.js';
import type { KubeObject } from './kube-objects.js';

/**
 * Gossip seeds from the cluster's Nodes: the `InternalIP` (else `ExternalIP`) of every Node but this one, in the
 * gossip address's family, at the gossip port, minus the addresses already among the live members. Speakers run on
 * the host network, so a speaker's gossip address is its Node's address.
 * @param nodes - the Node objects (the speaker's cache)
 * @param self - this node's name
 * @param port - the gossip port (every speaker binds the same one)
 * @param family - 4 or 6: the gossip address's family
 * @param members - `host:port` of the live members (`[v6]:port` for IPv6)
 */
export function seedsFromNodes(
  nodes: readonly KubeObject[],
  self: string,
  port: number,
  family: 4 | 6,
  members: readonly string[],
): string[] {
  const known = new Set(members);
  const seeds: string[] = [];
  for (const node of nodes) {
    if (!node.metadata?.name || node.metadata.name === self) continue;
    const addresses = ((node.status as { addresses?: { type?: string; address?: string }[] } | undefined)?.addresses ??
      []) as { type?: string; address?: string }[];
    const pick = (type: string) =>
      addresses.find((a) => a.type === type && typeof a.address === 'string' && isIP(a.address) === family)?.address;
    const ip = pick('InternalIP') ?? pick('ExternalIP');
    if (!ip) continue;
    const seed = family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
    if (!known.has(seed)) seeds.push(seed);
  }
  return seeds.sort();
}

/** Options of {@link SpeakerDiscovery}. */
export interface SpeakerDiscoveryOptions {
  /** The cluster's Nodes (the speaker's watch cache: reading it costs no request). */
  nodes(): readonly KubeObject[];
  /** This node's name. */
  self: string;
  /** The gossip address this speaker advertises, `host:port`: gives the port and the family to look for. */
  advertised: string;
  /** `host:port` of the live members. */
  members(): readonly string[];
  /** Joins these seeds; resolves with how many answered. */
  join(seeds: string[]): Promise<number>;
  /** How often the speaker tries again to join Nodes that are not members (MetalLB: every minute). @default 60000 */
  intervalMs?: number;
  /** Structured logger. */
  log: Logger;
}

/**
 * Finds the other speakers without static seeds: at start, every `intervalMs`, and when asked (a Node appeared), it
 * joins the address of every Node that is not yet a live member. MetalLB lists the speaker Pods by label instead;
 * Ingot reads the Node cache the speaker already holds, so discovery costs no API request and no extra permission,
 * and works the same where no kubelet runs Pods (the lab). A Node without a running speaker is just a seed that
 * does not answer.
 */
export class SpeakerDiscovery {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly port: number;
  private readonly family: 4 | 6;

  constructor(private readonly options: SpeakerDiscoveryOptions) {
    const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(options.advertised);
    if (!m) throw new Error(`speaker discovery: bad gossip address ${JSON.stringify(options.advertised)}`);
    this.port = Number(m[2]);
    this.family = isIP(m[1] as string) === 6 ? 6 : 4;
  }

  /** Joins once now, then every `intervalMs`. */
  start(): Promise<void> {
    this.timer = setInterval(() => void this.rejoin(), this.options.intervalMs ?? 60_000);
    this.timer.unref();
    return this.rejoin();
  }

  /** Stops the periodic rejoin. */
  stop(): void {
    clearInterval(this.timer);
  }

  /** Joins every Node not yet a member now (coalesced with a pass already running). */
  rejoin(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const seeds = seedsFromNodes(
          this.options.nodes(),
          this.options.self,
          this.port,
          this.family,
          this.options.members(),
        );
        if (seeds.length === 0) continue;
        try {
          const answered = await this.options.join(seeds);
          this.options.log.info('joined speakers found through the Nodes', { seeds, answered });
        } catch (err) {
          this.options.log.debug('no speaker answered yet', { seeds, error: (err as Error).message });
        }
      } while (this.again);
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}
