import type { Env } from '../../env.js';
import { systemNow, type UnixSeconds } from '../../lib/clock.js';

/**
 * The clock synthetic snapshots are dated with. Stripe's is the wall clock. The local
 * Stripe-compatible API runs on simulated time and tells it at /_sandbox/clock; when it
 * answers, the offset to it is used, so snapshots and simulated events share one clock.
 */
export async function stripeClock(env: Env): Promise<() => UnixSeconds> {
  if (!env.STRIPE_API_BASE || !env.STRIPE_SECRET_KEY) return systemNow;
  try {
    const res = await fetch(new URL('/_sandbox/clock', env.STRIPE_API_BASE), {
      headers: { authorization: `Bearer ${env.STRIPE_SECRET_KEY}` },
      signal: AbortSignal.timeout(2000),
    });
    if (!res.ok) return systemNow;
    const body = (await res.json()) as { now?: unknown };
    if (typeof body.now !== 'number') return systemNow;
    const offset = body.now - systemNow();
    return () => systemNow() + offset;
  } catch {
    return systemNow;
  }
}
