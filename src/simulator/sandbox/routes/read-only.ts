import type { Hono } from 'hono';
import { allOf, requireObject, type SandboxContext, type SandboxEnv } from '../context.js';
import { expandObject, listExpandPaths } from '../expand.js';
import { createdFilter, objectSequence, pageRequest, paginate, timeRangeParam } from '../list.js';
import { expandParam, stringParam } from '../params.js';
import type { StripeObject } from '../store.js';

const idOf = (value: unknown): string | null =>
  typeof value === 'string' ? value : value && typeof value === 'object' && typeof (value as { id?: unknown }).id === 'string' ? (value as { id: string }).id : null;

/**
 * One read-only list + retrieve pair as Stripe serves it: newest first, `created` ranges, and the
 * filters Stripe documents for that list (`customer` walks the customer index).
 */
export function listAndRetrieve(
  app: Hono<SandboxEnv>,
  path: string,
  objectType: string,
  filters: readonly ('customer' | 'charge' | 'payment_intent' | 'invoice')[],
  extraFilter?: (params: SandboxContext['var']['params']) => ((o: StripeObject) => boolean) | undefined,
): void {
  app.get(`/${path}`, (c) => {
    const { store, account, params } = c.var;
    const wanted = Object.fromEntries(filters.map((f) => [f, stringParam(params, f)]));
    const filter = allOf<StripeObject>(
      ...filters.map((f) => (wanted[f] === undefined ? undefined : (o: StripeObject) => idOf(o[f]) === wanted[f])),
      createdFilter(timeRangeParam(params, 'created')),
      extraFilter?.(params),
    );
    const parentKey = wanted.customer ? `customer:${wanted.customer}` : undefined;
    const page = paginate(objectSequence(store.typeIndex(account, objectType), parentKey), pageRequest(params), `/v1/${path}`, filter, objectType);
    const expand = listExpandPaths(expandParam(params));
    return c.json({ ...page, data: page.data.map((o) => expandObject(store, account, o, expand)) });
  });
  app.get(`/${path}/:id`, (c) => {
    const { store, account, params } = c.var;
    return c.json(expandObject(store, account, requireObject(c, objectType, c.req.param('id')), expandParam(params)));
  });
}
