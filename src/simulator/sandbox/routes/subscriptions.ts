import { Hono } from 'hono';
import { newId } from '../../../lib/ids.js';
import { allOf, emitForRequest, requireObject, type SandboxEnv } from '../context.js';
import { invalidParam } from '../errors.js';
import { expandObject, listExpandPaths } from '../expand.js';
import { createdFilter, objectSequence, pageRequest, paginate, timeRangeParam } from '../list.js';
import { assertKnownParams, expandParam, stringParam } from '../params.js';
import type { StripeObject } from '../store.js';
import { SUBSCRIPTION_UPDATE_PARAMS, updateSubscription } from '../subscription-update.js';

const STATUSES = ['active', 'all', 'canceled', 'ended', 'incomplete', 'incomplete_expired', 'past_due', 'paused', 'trialing', 'unpaid'];
const ENDED = ['canceled', 'incomplete_expired'];

function statusFilter(status: string | undefined): (subscription: StripeObject) => boolean {
  if (status === undefined) return (s) => !ENDED.includes(s.status as string);
  if (!STATUSES.includes(status)) throw invalidParam('status', `Invalid status: must be one of ${STATUSES.join(', ')}`);
  if (status === 'all') return () => true;
  if (status === 'ended') return (s) => ENDED.includes(s.status as string);
  return (s) => s.status === status;
}

/** /v1/subscriptions: list (`customer`, `status` incl. all/ended/canceled, `created`), retrieve, update, cancel. */
export function subscriptionRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  app.get('/subscriptions', (c) => {
    const { params, store, account } = c.var;
    const customer = stringParam(params, 'customer');
    const price = stringParam(params, 'price');
    const filter = allOf<StripeObject>(
      statusFilter(stringParam(params, 'status')),
      createdFilter(timeRangeParam(params, 'created')),
      price === undefined
        ? undefined
        : (s) => ((s.items as { data: { price: { id: string } }[] }).data ?? []).some((item) => item.price.id === price),
    );
    const sequence = objectSequence(store.typeIndex(account, 'subscription'), customer ? `customer:${customer}` : undefined);
    const page = paginate(sequence, pageRequest(params), '/v1/subscriptions', filter, 'subscription');
    const expand = listExpandPaths(expandParam(params));
    return c.json({ ...page, data: page.data.map((s) => expandObject(store, account, s, expand)) });
  });

  app.get('/subscriptions/:id', (c) => {
    const { store, account, params } = c.var;
    return c.json(expandObject(store, account, requireObject(c, 'subscription', c.req.param('id')), expandParam(params)));
  });

  app.post('/subscriptions/:id', (c) => {
    const { store, account, params } = c.var;
    assertKnownParams(params, SUBSCRIPTION_UPDATE_PARAMS);
    const current = requireObject(c, 'subscription', c.req.param('id'));
    const update = updateSubscription(current, params, {
      now: store.now(),
      coupon: (id) => (store.isDeleted(account, 'coupon', id) ? undefined : store.getObject<StripeObject>(account, 'coupon', id)),
      discount: (id) => store.getObject<StripeObject>(account, 'discount', id),
      newDiscountId: () => newId('di', 24),
    });
    for (const couponId of update.couponsRedeemed) {
      const coupon = store.getObject<StripeObject>(account, 'coupon', couponId)!;
      const timesRedeemed = (coupon.times_redeemed as number) + 1;
      const maxRedemptions = coupon.max_redemptions;
      store.putObject(account, {
        ...coupon,
        times_redeemed: timesRedeemed,
        valid: typeof maxRedemptions === 'number' ? timesRedeemed < maxRedemptions : coupon.valid,
      });
    }
    for (const discount of update.discountsDeleted) emitForRequest(c, 'customer.discount.deleted', discount);
    for (const discount of update.discountsCreated) emitForRequest(c, 'customer.discount.created', discount);
    if (Object.keys(update.previousAttributes).length > 0) {
      emitForRequest(c, 'customer.subscription.updated', update.subscription, update.previousAttributes);
    }
    return c.json(expandObject(store, account, update.subscription, expandParam(params)));
  });

  /** Cancels at once (Stripe's `DELETE /v1/subscriptions/:id`). */
  app.delete('/subscriptions/:id', (c) => {
    const { store, account, params } = c.var;
    const current = requireObject(c, 'subscription', c.req.param('id'));
    if (ENDED.includes(current.status as string)) {
      throw invalidParam('subscription', `No such subscription: '${current.id}'`, 'resource_missing');
    }
    const now = store.now();
    const canceled: StripeObject = {
      ...structuredClone(current),
      status: 'canceled',
      canceled_at: now,
      ended_at: now,
      cancel_at_period_end: false,
      cancellation_details: {
        ...((current.cancellation_details as object | null) ?? { comment: null, feedback: null }),
        reason: 'cancellation_requested',
      },
    };
    emitForRequest(c, 'customer.subscription.deleted', canceled);
    return c.json(expandObject(store, account, canceled, expandParam(params)));
  });

  return app;
}
