import { Hono, type Context } from 'hono';
import type { Inngest } from 'inngest';
import { serve } from 'inngest/hono';
import type { AppDeps, AppEnv } from '../app.js';
import { inngest } from '../inngest/client.js';
import type { InngestDeps } from '../inngest/deps.js';
import { createInngestFunctions } from '../inngest/index.js';
import { createStripeClient } from '../stripe/client.js';
import { errorResponse } from './errors.js';

type ServeHandler = (c: Context) => Promise<Response>;

/** The functions' dependencies from the app's: the same database and clock, Stripe when configured, the champion. */
export function inngestDepsFromApp(deps: AppDeps, client: Inngest = inngest): InngestDeps {
  const env = deps.env;
  return {
    database: deps.database,
    now: deps.now,
    client,
    stripe: env.STRIPE_SECRET_KEY ? createStripeClient({ secretKey: env.STRIPE_SECRET_KEY, apiBase: env.STRIPE_API_BASE }) : undefined,
    // the hot-reloading champion registry, when the app has one (scoring and deciding skip otherwise)
    champion: deps.models ? () => deps.models!.champion() : undefined,
    refreshChampion: deps.models ? () => deps.models!.refresh() : undefined,
    modelDir: env.MODEL_DIR,
  };
}

/**
 * Why the serve handler cannot work with this client, or undefined when it can. Outside dev mode
 * every call must be signed, so without a signing key the SDK fails each request with a bare 500
 * (and an error log per hit); we answer the envelope instead and `churn serve` says it once.
 */
export function inngestServeProblem(client: Inngest): string | undefined {
  if (client.mode === 'dev' || client.signingKey) return undefined;
  return 'Inngest is not configured (set INNGEST_SIGNING_KEY and INNGEST_EVENT_KEY for Inngest Cloud or a self-hosted server, or INNGEST_DEV=1 for the dev server)';
}

/**
 * GET|POST|PUT /api/inngest: the Inngest serve handler (GET introspection, PUT registration,
 * POST function calls, signed with INNGEST_SIGNING_KEY outside dev mode). The functions are
 * bound to the app's deps on the first request, once per app.
 */
export function inngestRoutes(options: { client?: Inngest } = {}) {
  const client = options.client ?? inngest;
  const handlers = new WeakMap<AppDeps, ServeHandler>();
  const handlerFor = (deps: AppDeps): ServeHandler => {
    let handler = handlers.get(deps);
    if (!handler) {
      handler = serve({ client, functions: createInngestFunctions(inngestDepsFromApp(deps, client)) });
      handlers.set(deps, handler);
    }
    return handler;
  };
  const routes = new Hono<AppEnv>();
  routes.on(['GET', 'POST', 'PUT'], '/', (c) => {
    const problem = inngestServeProblem(client);
    if (problem) return errorResponse(c, 'UNAVAILABLE', problem, { reason: 'INNGEST_NOT_CONFIGURED' });
    return handlerFor(c.get('deps'))(c);
  });
  return routes;
}
