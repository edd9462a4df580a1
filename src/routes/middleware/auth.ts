import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../../app.js';
import { ChurnError } from '../../lib/errors.js';
import { authenticate, roleAtLeast, TokenBuckets, type Principal, type Role } from '../../services/auth/index.js';
import { malformedBody } from './schemas.js';

export type ApiEnv = { Variables: AppEnv['Variables'] & { principal: Principal } };

/** Default per-key budget: bursts of 120 requests, 20 a second sustained. */
export const DEFAULT_RATE_LIMIT = { capacity: 120, refillPerSecond: 20 };

/**
 * Bearer authentication for /v1: a stored API key or CHURN_ADMIN_TOKEN, then the key's token
 * bucket. Unknown, malformed and revoked keys all get the same 401, so a probe learns nothing.
 */
export function apiAuth(limits: { capacity: number; refillPerSecond: number } = DEFAULT_RATE_LIMIT): MiddlewareHandler<ApiEnv> {
  const buckets = new TokenBuckets(limits.capacity, limits.refillPerSecond);
  return async (c, next) => {
    const deps = c.get('deps');
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!match) throw new ChurnError('UNAUTHORIZED', 'send an API key as "Authorization: Bearer <key>"');
    const now = deps.now();
    const principal = await authenticate(deps.database, match[1]!, { adminToken: deps.env.CHURN_ADMIN_TOKEN, now: new Date(now * 1000) });
    if (!principal) throw new ChurnError('UNAUTHORIZED', 'the API key is unknown or revoked');
    const wait = buckets.take(principal.id, now * 1000);
    if (wait > 0) {
      c.header('Retry-After', String(wait));
      throw new ChurnError('RATE_LIMITED', `rate limit reached for this key: retry in ${wait}s`);
    }
    c.set('principal', principal);
    await next();
  };
}

export function requireRole(role: Role): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const principal = c.get('principal');
    if (!roleAtLeast(principal.role, role)) throw new ChurnError('FORBIDDEN', `this needs the ${role} role; the key is ${principal.role}`);
    await next();
  };
}

/**
 * A route with the role it needs, enforced by its middleware and published in the document as
 * `x-role`, so the 401/403 test matrix reads the roles from the same place the server enforces them.
 */
export function apiRoute<const R extends Omit<RouteConfig, 'middleware'>>(role: Role, config: R) {
  return createRoute({
    ...config,
    // a body that is not JSON is answered 400 MALFORMED_JSON before validation
    responses: config.request?.body ? { ...malformedBody, ...config.responses } : config.responses,
    security: [{ bearerAuth: [] }],
    'x-role': role,
    middleware: [requireRole(role)] as const,
  } as R & { middleware: [MiddlewareHandler<ApiEnv>]; 'x-role': Role });
}
