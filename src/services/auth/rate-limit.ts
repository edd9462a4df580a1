/**
 * Per-key token bucket, in memory: each key may burst `capacity` requests and refills at
 * `refillPerSecond`. In memory means per process — several API processes each allow the full
 * rate; that is the documented trade-off for a single-instance deployment.
 */
export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly capacity: number, private readonly refillPerSecond: number) {}

  /** Takes one token at `nowMs`; returns 0 when allowed, else the seconds to wait. */
  take(key: string, nowMs: number): number {
    const b = this.buckets.get(key) ?? { tokens: this.capacity, at: nowMs };
    b.tokens = Math.min(this.capacity, b.tokens + ((nowMs - b.at) / 1000) * this.refillPerSecond);
    b.at = nowMs;
    this.buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - b.tokens) / this.refillPerSecond));
  }
}
