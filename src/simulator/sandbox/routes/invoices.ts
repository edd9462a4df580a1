import { Hono } from 'hono';
import { allOf, requireObject, type SandboxEnv } from '../context.js';
import { invalidParam } from '../errors.js';
import { expandObject, listExpandPaths } from '../expand.js';
import { createdFilter, objectSequence, pageRequest, paginate, timeRangeParam } from '../list.js';
import { expandParam, stringParam } from '../params.js';
import type { StripeObject } from '../store.js';

const STATUSES = ['draft', 'open', 'paid', 'uncollectible', 'void'];

function subscriptionOf(invoice: StripeObject): string | null {
  if (typeof invoice.subscription === 'string') return invoice.subscription;
  const parent = invoice.parent as { subscription_details?: { subscription?: string } | null } | null | undefined;
  return parent?.subscription_details?.subscription ?? null;
}

/** /v1/invoices: list (`customer`, `subscription`, `status`, `created`), retrieve. */
export function invoiceRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  app.get('/invoices', (c) => {
    const { store, account, params } = c.var;
    const customer = stringParam(params, 'customer');
    const subscription = stringParam(params, 'subscription');
    const status = stringParam(params, 'status');
    if (status !== undefined && !STATUSES.includes(status)) throw invalidParam('status', `Invalid status: must be one of ${STATUSES.join(', ')}`);
    // Walk the narrowest index: one subscription's invoices, else one customer's, else all.
    const parentKey = subscription ? `subscription:${subscription}` : customer ? `customer:${customer}` : undefined;
    const filter = allOf<StripeObject>(
      status === undefined ? undefined : (invoice) => invoice.status === status,
      customer && subscription ? (invoice) => invoice.customer === customer : undefined,
      subscription ? (invoice) => subscriptionOf(invoice) === subscription : undefined,
      createdFilter(timeRangeParam(params, 'created')),
    );
    const page = paginate(objectSequence(store.typeIndex(account, 'invoice'), parentKey), pageRequest(params), '/v1/invoices', filter, 'invoice');
    const expand = listExpandPaths(expandParam(params));
    return c.json({ ...page, data: page.data.map((invoice) => expandObject(store, account, invoice, expand)) });
  });

  app.get('/invoices/:id', (c) => {
    const { store, account, params } = c.var;
    return c.json(expandObject(store, account, requireObject(c, 'invoice', c.req.param('id')), expandParam(params)));
  });

  return app;
}
