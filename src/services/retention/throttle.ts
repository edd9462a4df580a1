/**
 * A client-side request budget per Stripe account for the batch path (`churn act` applies many
 * offers without Inngest, whose own concurrency keys would otherwise pace it). Stripe's rate limits
 * are per account and lower in test mode (DESIGN.md), so each account gets its own bucket: a
 * connected account near its limit never slows another one down.
 *
 * The bucket is kept as a theoretical arrival time (GCRA, the token bucket written as one number):
 * each `wait` reserves the next free slot at once and then sleeps until it, so concurrent callers
 * queue in call order without polling, and an idle account builds up at most `burst` slots.
 */

export interface AccountThrottle {
  /** Resolves when one request for `account` may be sent. */
  wait(account: string): Promise<void>;
  /** Stripe answered 429 for `account`: hold every request for it back by `ms` more. */
  penalize(account: string, ms: number): void;
}

export interface AccountThrottleOptions {
  /** requests per second each account may send */
  perSecond: number;
  /** requests an idle account may send back to back (default 1: evenly spaced) */
  burst?: number;
  /** milliseconds, monotonic; default performance.now */
  clock?: () => number;
  /** default setTimeout */
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createAccountThrottle(options: AccountThrottleOptions): AccountThrottle {
  if (!(options.perSecond > 0) || !Number.isFinite(options.perSecond)) throw new Error(`perSecond must be a positive number, got ${options.perSecond}`);
  const burst = options.burst ?? 1;
  if (!Number.isInteger(burst) || burst < 1) throw new Error(`burst must be a whole number >= 1, got ${burst}`);
  const clock = options.clock ?? (() => performance.now());
  const sleep = options.sleep ?? defaultSleep;
  const interval = 1000 / options.perSecond;
  // The time at which the bucket would be empty again if nothing more were sent.
  const arrival = new Map<string, number>();

  return {
    async wait(account) {
      const now = clock();
      const tat = Math.max(arrival.get(account) ?? now, now);
      // `burst` slots may be used ahead of the steady rate.
      const allowedAt = tat - (burst - 1) * interval;
      arrival.set(account, tat + interval);
      const delay = allowedAt - now;
      if (delay > 0) await sleep(delay);
    },
    penalize(account, ms) {
      if (!(ms > 0)) return;
      const now = clock();
      arrival.set(account, Math.max(arrival.get(account) ?? now, now) + ms);
    },
  };
}
