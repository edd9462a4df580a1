import { Hono } from 'hono';
import { newId } from '../../../lib/ids.js';
import { allOf, emitForRequest, requireObject, type SandboxEnv } from '../context.js';
import { expandObject, listExpandPaths } from '../expand.js';
import { createdFilter, objectSequence, pageRequest, paginate, timeRangeParam } from '../list.js';
import { buildCustomer } from '../objects.js';
import { applyMetadata, assertKnownParams, expandParam, stringParam } from '../params.js';
import type { StripeObject } from '../store.js';

const CREATE_PARAMS = ['description', 'email', 'expand', 'metadata', 'name', 'phone'];

/** /v1/customers: list (newest first; `email`, `created`), retrieve, create. */
export function customerRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  app.get('/customers', (c) => {
    const { params, store, account } = c.var;
    const email = stringParam(params, 'email');
    const filter = allOf<StripeObject>(
      email === undefined ? undefined : (customer) => customer.email === email,
      createdFilter(timeRangeParam(params, 'created')),
    );
    const page = paginate(objectSequence(store.typeIndex(account, 'customer')), pageRequest(params), '/v1/customers', filter, 'customer');
    const expand = listExpandPaths(expandParam(params));
    return c.json({ ...page, data: page.data.map((customer) => expandObject(store, account, customer, expand)) });
  });

  app.get('/customers/:id', (c) => {
    const { store, account, params } = c.var;
    const id = c.req.param('id');
    if (store.isDeleted(account, 'customer', id)) return c.json({ id, object: 'customer', deleted: true });
    return c.json(expandObject(store, account, requireObject(c, 'customer', id), expandParam(params)));
  });

  app.post('/customers', (c) => {
    const { store, account, params } = c.var;
    assertKnownParams(params, CREATE_PARAMS);
    const customer = buildCustomer({
      id: newId('cus', 14),
      created: store.now(),
      email: stringParam(params, 'email') ?? null,
      name: stringParam(params, 'name') ?? null,
      description: stringParam(params, 'description') ?? null,
      phone: stringParam(params, 'phone') ?? null,
      metadata: params.metadata === undefined ? {} : applyMetadata({}, params.metadata),
    });
    emitForRequest(c, 'customer.created', customer);
    return c.json(expandObject(store, account, customer, expandParam(params)));
  });

  return app;
}
