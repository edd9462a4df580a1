import { Hono } from 'hono';
import { requestId } from 'hono/request-id';
import type { Database } from './db/client.js';
import type { Env } from './env.js';
import type { UnixSeconds } from './lib/clock.js';
import type { ModelRegistry } from './ml/registry.js';
import { errorResponse, handleError } from './routes/errors.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { inngestRoutes } from './routes/inngest.js';
import { webhookRoutes } from './routes/webhooks.js';
import { apiRoutes } from './routes/openapi.js';
import { docsRoutes } from './routes/docs.js';
import { dashboardRoutes } from './routes/dashboard.js';

/** Everything a handler may use, handed in once so tests build the app with their own parts. */
export interface AppDeps {
  database: Database;
  env: Env;
  /** the clock, as an argument: tests pass a fixed one */
  now: () => UnixSeconds;
  /** called after webhook events were stored, so the projector can catch up at once */
  onEventsStored?: () => void;
  /** extra readiness checks (model loaded, …) contributed by other parts */
  readinessChecks?: Record<string, () => Promise<boolean> | boolean>;
  /** the champion model, hot-reloaded (absent in tests that need no model) */
  models?: ModelRegistry;
  /** extra status shown by /healthz (TF.js backend, …) */
  healthInfo?: () => Record<string, unknown>;
  /** per-API-key token bucket (default: bursts of 120, 20 a second) */
  rateLimit?: { capacity: number; refillPerSecond: number };
}

export type AppEnv = { Variables: { requestId: string; deps: AppDeps } };

/** Builds the Hono app once; tests call `app.request()` on it. */
export function createApp(deps: AppDeps, mount?: (app: Hono<AppEnv>) => void): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  // X-Request-Id on every response (an incoming one is kept), echoed in every error body
  app.use('*', requestId());
  app.use('*', async (c, next) => {
    c.set('deps', deps);
    await next();
  });
  app.onError(handleError);
  app.notFound((c) => errorResponse(c, 'NOT_FOUND', `no route for ${c.req.method} ${c.req.path}`));
  app.route('/', healthRoutes());
  app.route('/', metricsRoutes());
  app.route('/webhooks', webhookRoutes());
  app.route('/api/inngest', inngestRoutes());
  app.route('/', apiRoutes({ rateLimit: deps.rateLimit }));
  app.route('/', docsRoutes());
  app.route('/', dashboardRoutes());
  mount?.(app);
  return app;
}
