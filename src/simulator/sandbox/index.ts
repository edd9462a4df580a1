import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Logger } from '../../lib/logger.js';
import type { SandboxEnv } from './context.js';
import { StripeApiError, unrecognizedUrl } from './errors.js';
import { FaultInjector } from './faults.js';
import { IdempotencyStore } from './idempotency.js';
import { connectedAccount, idempotency, injectFaults, rateLimit, requestContext, requireApiKey, stripeParams } from './middleware.js';
import { RateLimiter } from './rate-limit.js';
import { controlRoutes } from './routes/control.js';
import { couponRoutes } from './routes/coupons.js';
import { creditNoteRoutes } from './routes/credit-notes.js';
import { customerRoutes } from './routes/customers.js';
import { eventRoutes } from './routes/events.js';
import { invoiceRoutes } from './routes/invoices.js';
import { paymentMethodRoutes } from './routes/payment-methods.js';
import { paymentRoutes } from './routes/payments.js';
import { subscriptionScheduleRoutes } from './routes/subscription-schedules.js';
import { subscriptionRoutes } from './routes/subscriptions.js';
import { SandboxStore } from './store.js';
import { DEFAULT_RETRY, WebhookDispatcher, type WallClock, type WebhookEndpoint, type WebhookRetryPolicy } from './webhooks.js';

export { SandboxStore, PLATFORM, PINNED_API_VERSION, type StripeObject } from './store.js';
export { FaultInjector, type FaultSpec, type ActiveFault } from './faults.js';
export { RateLimiter, type RateLimitStats } from './rate-limit.js';
export { WebhookDispatcher, type WebhookEndpoint, type DeliveryRecord, type WebhookRetryPolicy } from './webhooks.js';
export { loadWorld, storeActionLookup, storeEventSink } from './world-link.js';
export { seedSampleAccount, type SampleAccountOptions } from './sample-account.js';

export const DEFAULT_SANDBOX_API_KEY = 'sk_test_churn_sandbox';

export interface StripeSandboxOptions {
  /** The secret key clients must send (`Authorization: Bearer …`). Default `sk_test_churn_sandbox`. */
  apiKey?: string;
  /** An existing store (e.g. already holding a world); otherwise a new empty one. */
  store?: SandboxStore;
  /** Start of the simulated clock for a new store (unix seconds). */
  now?: number;
  apiVersion?: string;
  /** Connected accounts (`acct_…`) to accept before they hold any object. */
  accounts?: string[];
  webhooks?: WebhookEndpoint[];
  webhookRetry?: Partial<WebhookRetryPolicy>;
  /** Wall clock for webhook signature timestamps only (receivers compare them with their own clock). */
  wallClock?: WallClock;
  /**
   * Stripe's per-account request limit: above `perSecond` reads (or writes) per second for one
   * account, a 429 `rate_limit_error` the SDK retries. Off by default; Stripe allows about 100 in
   * live mode and 25 in test mode. Also settable at run time (`POST /_sandbox/rate-limit`).
   */
  rateLimit?: { perSecond: number };
  /** Wall clock in milliseconds for the rate limit (default `performance.now()`), never the simulated clock. */
  rateLimitClock?: () => number;
  logger?: Logger;
}

export interface ListeningSandbox {
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface StripeSandbox {
  app: Hono<SandboxEnv>;
  store: SandboxStore;
  apiKey: string;
  faults: FaultInjector;
  /** The per-account request limit and how many requests it throttled. */
  rateLimiter: RateLimiter;
  webhooks: WebhookDispatcher;
  /** Listens on 127.0.0.1; port 0 (the default) picks a free port. */
  listen(port?: number): Promise<ListeningSandbox>;
}

/**
 * A Stripe-compatible local API over an in-memory SandboxStore: the subset of /v1 the product calls,
 * with Stripe's list pagination, error envelopes, API-key check, Stripe-Account scoping, idempotency,
 * Request-Id, events for every mutation, signed webhook delivery, and faults on demand.
 */
export function createStripeSandbox(options: StripeSandboxOptions = {}): StripeSandbox {
  const apiKey = options.apiKey ?? DEFAULT_SANDBOX_API_KEY;
  const store = options.store ?? new SandboxStore({ now: options.now, apiVersion: options.apiVersion });
  for (const account of options.accounts ?? []) store.registerAccount(account);
  const faults = new FaultInjector();
  const rateLimiter = new RateLimiter(options.rateLimit?.perSecond ?? null);
  const rateLimitClock = options.rateLimitClock ?? (() => performance.now());
  const webhooks = new WebhookDispatcher({ ...DEFAULT_RETRY, ...options.webhookRetry }, options.wallClock, options.logger);
  for (const endpoint of options.webhooks ?? []) webhooks.addEndpoint(endpoint);
  store.onEvent((event) => webhooks.enqueue(event));
  const idempotencyKeys = new IdempotencyStore();

  const app = new Hono<SandboxEnv>();
  app.use('*', requestContext(store));
  app.use('/_sandbox/*', requireApiKey(apiKey));
  app.route('/_sandbox', controlRoutes({ store, faults, webhooks, rateLimiter }));

  app.use('/v1/*', injectFaults(faults), requireApiKey(apiKey), connectedAccount(store), rateLimit(rateLimiter, rateLimitClock), stripeParams(), idempotency(idempotencyKeys));
  app.route('/v1', customerRoutes());
  app.route('/v1', subscriptionRoutes());
  app.route('/v1', couponRoutes());
  app.route('/v1', invoiceRoutes());
  app.route('/v1', eventRoutes());
  app.route('/v1', paymentMethodRoutes());
  app.route('/v1', paymentRoutes());
  app.route('/v1', creditNoteRoutes());
  app.route('/v1', subscriptionScheduleRoutes());

  app.notFound((c) => {
    const error = unrecognizedUrl(c.req.method, c.req.path);
    return c.json(error.toJSON(), 404);
  });
  app.onError((err, c) => {
    const error = err instanceof StripeApiError ? err : null;
    if (!error) options.logger?.error({ err, path: c.req.path }, 'sandbox handler failed');
    const response = error ?? new StripeApiError(500, { type: 'api_error', message: 'An unknown error occurred' });
    for (const [name, value] of Object.entries(response.headers)) c.header(name, value);
    return c.json(response.toJSON(), response.status as 400);
  });

  const listen = (port = 0): Promise<ListeningSandbox> =>
    new Promise((resolve, reject) => {
      const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
      server.once('error', reject);
      server.once('listening', () => {
        const address = server.address() as AddressInfo;
        const url = `http://127.0.0.1:${address.port}`;
        resolve({
          url,
          port: address.port,
          close: () =>
            new Promise<void>((done, fail) => {
              webhooks.close();
              server.close((err) => (err ? fail(err) : done()));
              // Clients keep sockets alive between calls; close them so the port is freed at once.
              (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
            }),
        });
      });
    });

  return { app, store, apiKey, faults, rateLimiter, webhooks, listen };
}
