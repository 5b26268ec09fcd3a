/**
 * Rate limit for repetitive warnings (rejected packets, name conflicts): the first occurrence of a key is let through,
 * then at most one per `intervalMs`, carrying how many were suppressed since the last one. Bounded: at most `maxKeys`
 * keys are tracked (the oldest forgotten first).
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  /**
   * @param intervalMs - least time between two warnings of the same key
   * @param maxKeys - most keys remembered
   */
  constructor(
    readonly intervalMs = 10_000,
    readonly maxKeys = 256,
  ) {}

  /**
   * Should a warning for `key` be emitted at `now`?
   * @returns undefined to stay quiet, else how many were suppressed since the last warning of this key
   */
  admit(key: string, now: number): number | undefined {
    const entry = this.last.get(key);
    if (entry && now - entry.at < this.intervalMs) {
      entry.suppressed++;
      return undefined;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.delete(key);
    this.last.set(key, { at: now, suppressed: 0 });
    if (this.last.size > this.maxKeys) this.last.delete(this.last.keys().next().value as string);
    return suppressed;
  }
}
