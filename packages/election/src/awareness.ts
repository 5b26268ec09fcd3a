/**
 * Lifeguard's local health multiplier: a score in [0, max-1] that rises when this node misses nacks or has to refute a
 * suspicion about itself (signs that *it* is slow or its network is lossy) and falls with every successful probe. Probe
 * timeouts are multiplied by `score + 1`, so an unhealthy node waits longer before accusing others.
 */
export class Awareness {
  private value = 0;
  /** @param max - the largest multiplier (memberlist's AwarenessMaxMultiplier) */
  constructor(private readonly max: number) {}
  /** Current score (0 = healthy). */
  get score(): number {
    return this.value;
  }
  /** Adds `delta` (clamped to [0, max-1]). */
  apply(delta: number): void {
    this.value = Math.min(this.max - 1, Math.max(0, this.value + delta));
  }
  /** `ms` stretched by the current multiplier. */
  scale(ms: number): number {
    return ms * (this.value + 1);
  }
}
