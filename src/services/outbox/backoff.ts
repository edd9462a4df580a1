/**
 * How long a failed outbox row waits before its next attempt: exponential in the number of
 * attempts, capped, with "equal jitter" (half fixed, half random) so relays that failed together
 * do not all retry in the same instant, yet a row never comes back sooner than half its delay.
 */
export interface BackoffPolicy {
  /** delay after the first failure, seconds */
  baseSeconds: number;
  /** ceiling, seconds */
  capSeconds: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseSeconds: 2, capSeconds: 600 };

/** Seconds to wait after `attempts` failures (attempts ≥ 1); `random` in [0, 1). */
export function retryDelaySeconds(attempts: number, random: number, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const exponent = Math.min(Math.max(attempts, 1) - 1, 30);
  const ceiling = Math.min(policy.capSeconds, policy.baseSeconds * 2 ** exponent);
  return ceiling / 2 + (ceiling / 2) * Math.min(Math.max(random, 0), 1);
}
