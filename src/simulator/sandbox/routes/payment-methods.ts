import { Hono } from 'hono';
import { requireObject, allOf, type SandboxEnv, type SandboxContext } from '../context.js';
import { missingParam } from '../errors.js';
import { expandObject, listExpandPaths } from '../expand.js';
import { objectSequence, pageRequest, paginate } from '../list.js';
import { expandParam, stringParam } from '../params.js';
import type { StripeObject } from '../store.js';

function listForCustomer(c: SandboxContext, customer: string, url: string): Response {
  const { store, account, params } = c.var;
  const type = stringParam(params, 'type');
  const filter = allOf<StripeObject>(
    // Detached payment methods keep their old index entry; only currently attached ones count.
    (pm) => pm.customer === customer,
    type === undefined ? undefined : (pm) => pm.type === type,
  );
  const page = paginate(objectSequence(store.typeIndex(account, 'payment_method'), `customer:${customer}`), pageRequest(params), url, filter, 'payment_method');
  const expand = listExpandPaths(expandParam(params));
  return c.json({ ...page, data: page.data.map((pm) => expandObject(store, account, pm, expand)) });
}

/** /v1/payment_methods?customer=…, /v1/customers/:id/payment_methods, /v1/payment_methods/:id. */
export function paymentMethodRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  app.get('/payment_methods', (c) => {
    const customer = stringParam(c.var.params, 'customer');
    if (!customer) throw missingParam('customer');
    requireObject(c, 'customer', customer);
    return listForCustomer(c, customer, '/v1/payment_methods');
  });

  app.get('/customers/:id/payment_methods', (c) => {
    const customer = c.req.param('id');
    requireObject(c, 'customer', customer);
    return listForCustomer(c, customer, `/v1/customers/${customer}/payment_methods`);
  });

  app.get('/payment_methods/:id', (c) => {
    const { store, account, params } = c.var;
    return c.json(expandObject(store, account, requireObject(c, 'payment_method', c.req.param('id')), expandParam(params)));
  });

  return app;
}
