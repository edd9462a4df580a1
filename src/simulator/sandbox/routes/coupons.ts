import { Hono } from 'hono';
import { newId } from '../../../lib/ids.js';
import { allOf, emitForRequest, requireObject, type SandboxEnv } from '../context.js';
import { invalidParam, missingParam } from '../errors.js';
import { expandObject, listExpandPaths } from '../expand.js';
import { createdFilter, objectSequence, pageRequest, paginate, timeRangeParam } from '../list.js';
import { buildCoupon, type CouponFields } from '../objects.js';
import { applyMetadata, assertKnownParams, expandParam, integerParam, numberParam, stringParam, type ParamObject } from '../params.js';
import type { SandboxStore, StripeObject } from '../store.js';
import { StripeApiError } from '../errors.js';

const CREATE_PARAMS = ['amount_off', 'currency', 'duration', 'duration_in_months', 'expand', 'id', 'max_redemptions', 'metadata', 'name', 'percent_off', 'redeem_by'];
const DURATIONS = ['forever', 'once', 'repeating'] as const;

/** Validates `POST /v1/coupons` parameters the way Stripe does and returns the coupon's fields. */
export function couponFields(params: ParamObject, store: SandboxStore, account: string | undefined): CouponFields {
  assertKnownParams(params, CREATE_PARAMS);
  const percentOff = numberParam(params, 'percent_off');
  const amountOff = integerParam(params, 'amount_off');
  const currency = stringParam(params, 'currency')?.toLowerCase();
  if (percentOff === undefined && amountOff === undefined) {
    throw invalidParam('percent_off', 'You must pass either a percent_off or an amount_off.', 'parameter_missing');
  }
  if (percentOff !== undefined && amountOff !== undefined) {
    throw invalidParam('amount_off', 'You may only specify one of these parameters: amount_off, percent_off.');
  }
  if (percentOff !== undefined && (percentOff <= 0 || percentOff > 100)) {
    throw invalidParam('percent_off', 'Invalid percent_off: must be greater than 0 and at most 100.');
  }
  if (amountOff !== undefined) {
    if (amountOff <= 0) throw invalidParam('amount_off', 'Invalid amount_off: must be a positive integer in the smallest currency unit.');
    if (!currency) throw missingParam('currency');
  }
  const duration = (stringParam(params, 'duration') ?? 'once') as CouponFields['duration'];
  if (!DURATIONS.includes(duration)) throw invalidParam('duration', `Invalid duration: must be one of ${DURATIONS.join(', ')}`);
  const durationInMonths = integerParam(params, 'duration_in_months');
  if (duration === 'repeating' && durationInMonths === undefined) throw missingParam('duration_in_months');
  if (duration !== 'repeating' && durationInMonths !== undefined) {
    throw invalidParam('duration_in_months', 'duration_in_months can only be set when duration is repeating.');
  }
  if (durationInMonths !== undefined && durationInMonths < 1) throw invalidParam('duration_in_months', 'duration_in_months must be at least 1.');
  const id = stringParam(params, 'id') || newId('', 8).slice(1);
  if (store.getObject(account, 'coupon', id) && !store.isDeleted(account, 'coupon', id)) {
    throw new StripeApiError(400, { type: 'invalid_request_error', code: 'resource_already_exists', message: 'Coupon already exists.', param: 'id' });
  }
  const redeemBy = integerParam(params, 'redeem_by');
  if (redeemBy !== undefined && redeemBy <= store.now()) throw invalidParam('redeem_by', 'Invalid timestamp: must be an integer Unix timestamp in the future.');
  return {
    id,
    created: store.now(),
    percent_off: percentOff ?? null,
    amount_off: amountOff ?? null,
    currency: amountOff !== undefined ? currency! : null,
    duration,
    duration_in_months: durationInMonths ?? null,
    name: stringParam(params, 'name') || null,
    max_redemptions: integerParam(params, 'max_redemptions') ?? null,
    redeem_by: redeemBy ?? null,
    metadata: params.metadata === undefined ? {} : applyMetadata({}, params.metadata),
  };
}

/** /v1/coupons: create (emits `coupon.created`), retrieve, list. */
export function couponRoutes(): Hono<SandboxEnv> {
  const app = new Hono<SandboxEnv>();

  app.post('/coupons', (c) => {
    const { store, account, params } = c.var;
    const coupon = buildCoupon(couponFields(params, store, account));
    emitForRequest(c, 'coupon.created', coupon);
    return c.json(expandObject(store, account, coupon, expandParam(params)));
  });

  app.get('/coupons/:id', (c) => {
    const { store, account, params } = c.var;
    return c.json(expandObject(store, account, requireObject(c, 'coupon', c.req.param('id')), expandParam(params)));
  });

  app.get('/coupons', (c) => {
    const { store, account, params } = c.var;
    const filter = allOf<StripeObject>(createdFilter(timeRangeParam(params, 'created')));
    const page = paginate(objectSequence(store.typeIndex(account, 'coupon')), pageRequest(params), '/v1/coupons', filter, 'coupon');
    const expand = listExpandPaths(expandParam(params));
    return c.json({ ...page, data: page.data.map((coupon) => expandObject(store, account, coupon, expand)) });
  });

  return app;
}
