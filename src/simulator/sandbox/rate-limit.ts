import { invalidParam, rateLimited, type StripeApiError } from './errors.js';
import { PLATFORM } from './store.js';

/**
 * Stripe's per-account request limit, as a token bucket per (account, reads | writes): Stripe
 * allows about 100 read and 100 write operations per second per account in live mode and 25 in
 * test mode, and answers a 429 `rate_limit_error` above it. Each bucket holds one second of
 * requests (the burst) and refills continuously. Time is the sandbox's wall clock in milliseconds,
 * passed in, never the simulated clock: a limit is about how fast a client calls, not about
 * simulated months.
 */

export type RequestKind = 'read' | 'write';

export interface ThrottleCounts {
  read: number;
  write: number;
}

export interface RateLimitStats {
  /** requests per second per account and kind; null = no limit */
  perSecond: number | null;
  /** requests the limit let through since it was last set */
  allowed: number;
  /** requests answered 429 since it was last set */
  throttled: number;
  /** throttled requests per account (`platform` or `acct_…`) */
  throttledByAccount: Record<string, ThrottleCounts>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export function requestKind(method: string): RequestKind {
  return method === 'GET' || method === 'HEAD' ? 'read' : 'write';
}

export class RateLimiter {
  private limit: number | null = null;
  private buckets = new Map<string, Bucket>();
  private allowed = 0;
  private throttled = 0;
  private byAccount = new Map<string, ThrottleCounts>();

  constructor(perSecond: number | null = null) {
    this.set(perSecond);
  }

  get perSecond(): number | null {
    return this.limit;
  }

  /** A new limit (null or 0 = off) starts with full buckets and fresh counts. */
  set(perSecond: number | null): void {
    if (perSecond !== null && (!Number.isFinite(perSecond) || perSecond < 0)) {
      throw invalidParam('perSecond', 'perSecond must be a positive number of requests per second, or null for no limit');
    }
    this.limit = perSecond === null || perSecond === 0 ? null : perSecond;
    this.buckets.clear();
    this.allowed = 0;
    this.throttled = 0;
    this.byAccount.clear();
  }

  /**
   * Takes one request from the account's bucket at wall-clock time `nowMs`: null if it may go on,
   * otherwise the 429 Stripe answers (with `Stripe-Should-Retry: true`, so the SDK retries it).
   */
  take(account: string | undefined, kind: RequestKind, nowMs: number): StripeApiError | null {
    const limit = this.limit;
    if (limit === null) return null;
    const owner = account ?? PLATFORM;
    const key = `${owner} ${kind}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      bucket = { tokens: limit, updatedAt: nowMs };
      this.buckets.set(key, bucket);
    }
    const elapsed = Math.max(0, nowMs - bucket.updatedAt) / 1000;
    bucket.tokens = Math.min(limit, bucket.tokens + elapsed * limit);
    bucket.updatedAt = Math.max(bucket.updatedAt, nowMs);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.allowed++;
      return null;
    }
    this.throttled++;
    let counts = this.byAccount.get(owner);
    if (!counts) {
      counts = { read: 0, write: 0 };
      this.byAccount.set(owner, counts);
    }
    counts[kind]++;
    return rateLimited();
  }

  stats(): RateLimitStats {
    return {
      perSecond: this.limit,
      allowed: this.allowed,
      throttled: this.throttled,
      throttledByAccount: Object.fromEntries([...this.byAccount].map(([account, counts]) => [account, { ...counts }])),
    };
  }
}
