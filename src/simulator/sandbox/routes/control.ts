import { Hono } from 'hono';
import type { SandboxEnv } from '../context.js';
import { invalidParam } from '../errors.js';
import type { FaultInjector, FaultSpec, FaultStatus } from '../faults.js';
import type { RateLimiter } from '../rate-limit.js';
import type { SandboxStore } from '../store.js';
import type { WebhookDispatcher } from '../webhooks.js';

async function jsonBody(request: Request): Promise<Record<string, unknown>> {
  const text = await request.text();
  if (text.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw invalidParam('body', 'The sandbox control API takes a JSON object body.');
}

function optionalNumber(body: Record<string, unknown>, name: string): number | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw invalidParam(name, `${name} must be a number`);
  return value;
}

function optionalString(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParam(name, `${name} must be a string`);
  return value;
}

/**
 * `/_sandbox/*`: what a test or a person drives from outside the Stripe API: faults, the per-account
 * rate limit and what it throttled, the simulated clock, webhook endpoints and their delivery log.
 * Not part of Stripe's API (and never rate limited).
 */
export function controlRoutes(deps: { store: SandboxStore; faults: FaultInjector; webhooks: WebhookDispatcher; rateLimiter: RateLimiter }): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();
  const { store, faults, webhooks, rateLimiter } = deps;

  app.post('/faults', async (c) => {
    const body = await jsonBody(c.req.raw);
    const spec: FaultSpec = {
      status: optionalNumber(body, 'status') as FaultStatus | undefined,
      count: optionalNumber(body, 'count'),
      pathPrefix: optionalString(body, 'pathPrefix'),
      method: optionalString(body, 'method'),
      delayMs: optionalNumber(body, 'delayMs'),
    };
    return c.json({ fault: faults.inject(spec) });
  });
  app.get('/faults', (c) => c.json({ faults: faults.list(), history: faults.history }));
  app.delete('/faults', (c) => {
    faults.clear();
    return c.json({ faults: [] });
  });

  app.get('/rate-limit', (c) => c.json(rateLimiter.stats()));
  app.post('/rate-limit', async (c) => {
    const body = await jsonBody(c.req.raw);
    if (!('perSecond' in body)) throw invalidParam('perSecond', 'perSecond is required (a number of requests per second, or null for no limit)');
    rateLimiter.set(optionalNumber(body, 'perSecond') ?? null);
    return c.json(rateLimiter.stats());
  });

  app.get('/clock', (c) => c.json({ now: store.now() }));
  app.post('/clock', async (c) => {
    const now = optionalNumber(await jsonBody(c.req.raw), 'now');
    if (now === undefined || !Number.isInteger(now)) throw invalidParam('now', 'now must be whole unix seconds');
    store.setNow(now);
    return c.json({ now: store.now() });
  });

  app.get('/webhooks', (c) =>
    c.json({
      endpoints: webhooks.endpoints().map((e) => ({ url: e.url, enabledEvents: e.enabledEvents ?? ['*'] })),
      pending: webhooks.pendingCount(),
      deliveries: webhooks.deliveries,
    }),
  );
  app.post('/webhooks', async (c) => {
    const body = await jsonBody(c.req.raw);
    const url = optionalString(body, 'url');
    const secret = optionalString(body, 'secret');
    if (!url) throw invalidParam('url', 'url is required');
    if (!secret) throw invalidParam('secret', 'secret (whsec_…) is required');
    try {
      webhooks.addEndpoint({ url, secret });
    } catch (err) {
      throw invalidParam('url', err instanceof Error ? err.message : String(err));
    }
    return c.json({ endpoints: webhooks.endpoints().map((e) => ({ url: e.url })) });
  });

  app.get('/accounts', (c) =>
    c.json({
      accounts: store.accounts().map((account) => ({
        account,
        customers: store.typeIndex(account === 'platform' ? undefined : account, 'customer')?.order.length ?? 0,
        events: store.eventIndex(account === 'platform' ? undefined : account)?.list.length ?? 0,
      })),
    }),
  );

  return app;
}
