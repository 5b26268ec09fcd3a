/** Per-IP counters named after MetalLB's layer-2 metrics. */
export interface IpCounters {
  /** `metallb_layer2_requests_received`: ARP requests / NS for this announced IP. */
  requestsReceived: number;
  /** `metallb_layer2_responses_sent`: ARP replies / solicited NAs sent for it. */
  responsesSent: number;
  /** `metallb_layer2_gratuitous_sent`: gratuitous frames sent (2 per ARP round per interface, 1 per NDP round). */
  gratuitousSent: number;
}

/**
 * Per-IP counters shared by all interfaces of a responder, with a Prometheus text exposition using MetalLB's metric
 * names (`metallb_layer2_requests_received{ip="…"}` …), so existing dashboards keep working.
 *
 * @example
 * ```ts
 * const c = new Layer2Counters();
 * c.add('192.0.2.10', 'requestsReceived');
 * c.get('192.0.2.10').requestsReceived; // 1
 * console.log(c.prometheus());
 * ```
 */
export class Layer2Counters {
  private readonly byIp = new Map<string, IpCounters>();
  private readonly collectors = new Set<() => void>();

  /**
   * Registers a function that adds counts kept elsewhere (e.g. by a transport's answer thread) before every read.
   * @returns a function that unregisters it
   */
  addCollector(collect: () => void): () => void {
    this.collectors.add(collect);
    return () => this.collectors.delete(collect);
  }

  private collect(): void {
    for (const c of this.collectors) c();
  }

  /** Increments one counter of `ip` by `n` (default 1). */
  add(ip: string, which: keyof IpCounters, n = 1): void {
    let c = this.byIp.get(ip);
    if (!c) {
      c = { requestsReceived: 0, responsesSent: 0, gratuitousSent: 0 };
      this.byIp.set(ip, c);
    }
    c[which] += n;
  }

  /** Counters of `ip` (zeros when never seen). */
  get(ip: string): IpCounters {
    this.collect();
    return { ...(this.byIp.get(ip) ?? { requestsReceived: 0, responsesSent: 0, gratuitousSent: 0 }) };
  }

  /** A copy of all counters, keyed by IP. Counters persist after withdraw, like Prometheus counters. */
  snapshot(): Record<string, IpCounters> {
    this.collect();
    const out: Record<string, IpCounters> = {};
    for (const [ip, c] of this.byIp) out[ip] = { ...c };
    return out;
  }

  /** Prometheus text exposition (format 0.0.4) of the three counters. */
  prometheus(): string {
    this.collect();
    const lines: string[] = [];
    const family = (name: string, help: string, key: keyof IpCounters) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [ip, c] of this.byIp) lines.push(`${name}{ip="${ip}"} ${c[key]}`);
    };
    family('metallb_layer2_requests_received', 'Number of layer2 requests received for owned IPs', 'requestsReceived');
    family('metallb_layer2_responses_sent', 'Number of layer2 responses sent for owned IPs', 'responsesSent');
    family(
      'metallb_layer2_gratuitous_sent',
      'Number of gratuitous layer2 packets sent for owned IPs',
      'gratuitousSent',
    );
    return `${lines.join('\n')}\n`;
  }
}
