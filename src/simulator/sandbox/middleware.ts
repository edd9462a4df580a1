import type { MiddlewareHandler } from 'hono';
import { newId } from '../../lib/ids.js';
import type { SandboxEnv } from './context.js';
import { StripeApiError } from './errors.js';
import type { FaultInjector } from './faults.js';
import { IdempotencyStore } from './idempotency.js';
import { requestKind, type RateLimiter } from './rate-limit.js';
import { canonicalParams, parseStripeParams } from './params.js';
import { PLATFORM, type SandboxStore } from './store.js';

/** Every response carries a `Request-Id` (and the pinned `Stripe-Version`), as Stripe's do. */
export function requestContext(store: SandboxStore): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const requestId = newId('req', 14);
    c.set('store', store);
    c.set('requestId', requestId);
    c.set('idempotencyKey', null);
    c.set('params', {});
    await next();
    c.header('Request-Id', requestId);
    c.header('Stripe-Version', c.req.header('Stripe-Version') ?? store.apiVersion);
  };
}

/** Faults run before anything else touches the request, as if Stripe never got to handle it. */
export function injectFaults(faults: FaultInjector): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const hit = faults.take(c.req.method, c.req.path);
    if (hit) {
      if (hit.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, hit.delayMs));
      if (hit.error) throw hit.error;
    }
    await next();
  };
}

function bearerKey(authorization: string | undefined): string | null {
  if (!authorization) return null;
  const [scheme, value] = authorization.split(/\s+/, 2);
  if (!scheme || !value) return null;
  if (scheme.toLowerCase() === 'bearer') return value;
  if (scheme.toLowerCase() === 'basic') {
    // Stripe also takes the key as the Basic-auth user name (curl -u sk_test_…:).
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    return decoded.split(':', 1)[0] ?? null;
  }
  return null;
}

function redactKey(key: string): string {
  // Stripe shows the mode prefix and the last four characters; short keys show only the prefix.
  const prefix = key.match(/^(sk|rk|pk)_(test|live)_/)?.[0] ?? '';
  return key.length < prefix.length + 12 ? `${prefix}****` : `${prefix}${'*'.repeat(key.length - prefix.length - 4)}${key.slice(-4)}`;
}

/** The configured secret key in `Authorization: Bearer …`; a wrong or missing key is a 401. */
export function requireApiKey(apiKey: string): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const presented = bearerKey(c.req.header('Authorization'));
    if (presented === null) {
      throw new StripeApiError(401, {
        type: 'invalid_request_error',
        message:
          'You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. \'Authorization: Bearer YOUR_SECRET_KEY\').',
      });
    }
    if (presented !== apiKey) {
      throw new StripeApiError(401, {
        type: 'invalid_request_error',
        code: 'api_key_invalid',
        message: `Invalid API Key provided: ${redactKey(presented)}`,
      });
    }
    c.set('apiKey', presented);
    await next();
  };
}

/** `Stripe-Account: acct_…` scopes the request to a connected account the store knows. */
export function connectedAccount(store: SandboxStore): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const header = c.req.header('Stripe-Account')?.trim();
    if (header) {
      if (!header.startsWith('acct_') || header === PLATFORM || !store.hasAccount(header)) {
        throw new StripeApiError(403, {
          type: 'invalid_request_error',
          code: 'account_invalid',
          message: `The provided key '${redactKey(c.var.apiKey)}' does not have access to account '${header}' (or that account does not exist). Application access may have been revoked.`,
        });
      }
      c.set('account', header);
    } else {
      c.set('account', undefined);
    }
    await next();
  };
}

/**
 * The per-account request limit, after the account is known and before idempotency: a throttled
 * request never started executing, so Stripe saves nothing for its key and the SDK's retry with the
 * same key runs it for the first time.
 */
export function rateLimit(limiter: RateLimiter, clockMs: () => number): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const error = limiter.take(c.var.account, requestKind(c.req.method), clockMs());
    if (error) throw error;
    await next();
  };
}

/** Decodes the form body (POST) or the query string into nested parameters. */
export function stripeParams(): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const url = new URL(c.req.url);
    let search = url.searchParams;
    if (c.req.method === 'POST') {
      const type = c.req.header('Content-Type') ?? '';
      const text = await c.req.text();
      if (type.includes('application/json') && text.trim().startsWith('{')) {
        throw new StripeApiError(400, {
          type: 'invalid_request_error',
          message: 'Invalid request: the v1 API takes application/x-www-form-urlencoded parameters, not JSON.',
        });
      }
      const merged = new URLSearchParams(text);
      for (const [k, v] of url.searchParams) merged.append(k, v);
      search = merged;
    }
    c.set('params', parseStripeParams(search));
    await next();
  };
}

/** Replays or rejects POSTs that reuse an `Idempotency-Key` (see IdempotencyStore). */
export function idempotency(keys: IdempotencyStore): MiddlewareHandler<SandboxEnv> {
  return async (c, next) => {
    const key = c.req.header('Idempotency-Key');
    if (c.req.method !== 'POST' || !key) {
      await next();
      return;
    }
    if (key.length > 255) {
      throw new StripeApiError(400, {
        type: 'invalid_request_error',
        message: 'Invalid idempotency key: keys must be at most 255 characters long.',
        param: 'Idempotency-Key',
      });
    }
    c.set('idempotencyKey', key);
    const scoped = IdempotencyStore.scope(c.var.account ?? PLATFORM, c.var.apiKey, key);
    const fingerprint = `${c.req.method} ${c.req.path} ${canonicalParams(c.var.params)}`;
    const lookup = keys.begin(scoped, fingerprint);
    if (lookup.kind === 'mismatch') {
      throw new StripeApiError(400, {
        type: 'idempotency_error',
        message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
      });
    }
    if (lookup.kind === 'in_flight') {
      throw new StripeApiError(409, {
        type: 'idempotency_error',
        code: 'idempotency_key_in_use',
        message: 'There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through). Please retry this request later.',
      });
    }
    if (lookup.kind === 'replay') {
      const { saved } = lookup;
      c.res = new Response(saved.body, { status: saved.status, headers: saved.headers });
      c.header('Idempotent-Replayed', 'true');
      c.header('Original-Request', saved.requestId);
      c.header('Idempotency-Key', key);
      return;
    }
    let saved = null;
    try {
      await next();
      // Stripe saves every result once the endpoint started executing; 5xx stays retryable here.
      if (c.res.status < 500) {
        saved = {
          fingerprint,
          status: c.res.status,
          body: await c.res.clone().text(),
          headers: { 'Content-Type': c.res.headers.get('Content-Type') ?? 'application/json' },
          requestId: c.var.requestId,
        };
      }
      c.header('Idempotency-Key', key);
    } finally {
      keys.finish(scoped, saved);
    }
  };
}
