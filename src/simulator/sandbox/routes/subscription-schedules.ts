import { Hono } from 'hono';
import type { SandboxEnv } from '../context.js';
import { inTimeRange, timeRangeParam } from '../list.js';
import { booleanParam } from '../params.js';
import type { StripeObject } from '../store.js';
import { listAndRetrieve } from './read-only.js';

/**
 * /v1/subscription_schedules: list (`customer`, `created`, `canceled_at`, `completed_at`,
 * `released_at`, `scheduled`), retrieve; read only. Like Stripe, the list holds schedules of every
 * status (canceled, completed and released ones too) unless a filter narrows it.
 */
export function subscriptionScheduleRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  listAndRetrieve(app, 'subscription_schedules', 'subscription_schedule', ['customer'], (params) => {
    const ranges = (['canceled_at', 'completed_at', 'released_at'] as const).map((field) => [field, timeRangeParam(params, field)] as const).filter(([, r]) => r !== undefined);
    const scheduled = booleanParam(params, 'scheduled');
    if (ranges.length === 0 && scheduled === undefined) return undefined;
    return (o: StripeObject) =>
      ranges.every(([field, range]) => typeof o[field] === 'number' && inTimeRange(o[field] as number, range!)) && (scheduled === undefined || (o.status === 'not_started') === scheduled);
  });
  return app;
}
