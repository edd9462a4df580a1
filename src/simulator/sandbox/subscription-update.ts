import type { UnixSeconds } from '../../lib/clock.js';
import { StripeApiError, invalidParam, resourceMissing } from './errors.js';
import { buildDiscount } from './objects.js';
import { applyMetadata, booleanParam, objectParam, stringParam, type ParamObject, type ParamValue } from './params.js';
import type { StripeObject } from './store.js';

/** The parameters `POST /v1/subscriptions/:id` takes here; anything else is `parameter_unknown`. */
export const SUBSCRIPTION_UPDATE_PARAMS = [
  'cancel_at',
  'cancel_at_period_end',
  'cancellation_details',
  'default_payment_method',
  'description',
  'discounts',
  'expand',
  'metadata',
  'off_session',
  'pause_collection',
  'payment_behavior',
  'proration_behavior',
  'proration_date',
  'trial_end',
] as const;

const PRORATION_BEHAVIORS = ['always_invoice', 'create_prorations', 'none'];
const PAUSE_BEHAVIORS = ['keep_as_draft', 'mark_uncollectible', 'void'];
const FEEDBACK = ['customer_service', 'low_quality', 'missing_features', 'other', 'switched_service', 'too_complex', 'too_expensive', 'unused'];
const MAX_TRIAL_SECONDS = 730 * 86_400;

export interface UpdateContext {
  now: UnixSeconds;
  coupon(id: string): StripeObject | undefined;
  discount(id: string): StripeObject | undefined;
  newDiscountId(): string;
}

export interface SubscriptionUpdate {
  subscription: StripeObject;
  /** Top-level fields that changed, with their values before (Stripe's `previous_attributes`). */
  previousAttributes: Record<string, unknown>;
  discountsCreated: StripeObject[];
  discountsDeleted: StripeObject[];
  /** Coupons whose `times_redeemed` went up by one. */
  couponsRedeemed: string[];
}

interface SubscriptionItemShape {
  current_period_start?: number;
  current_period_end?: number;
}

function items(subscription: StripeObject): SubscriptionItemShape[] {
  const list = subscription.items as { data?: SubscriptionItemShape[] } | undefined;
  return list?.data ?? [];
}

/** The end of the current period: on items since 2025-03-31.basil, top-level before. */
export function currentPeriodEnd(subscription: StripeObject): UnixSeconds | null {
  const ends = items(subscription)
    .map((item) => item.current_period_end)
    .filter((v): v is number => typeof v === 'number');
  if (ends.length > 0) return Math.max(...ends);
  return typeof subscription.current_period_end === 'number' ? subscription.current_period_end : null;
}

function futureTimestamp(value: string, param: string, now: UnixSeconds, max?: UnixSeconds): UnixSeconds {
  if (!/^\d+$/.test(value)) throw invalidParam(param, `Invalid integer: ${value}`);
  const unix = Number(value);
  if (unix <= now) throw invalidParam(param, 'Invalid timestamp: must be an integer Unix timestamp in the future.');
  if (max !== undefined && unix > max) throw invalidParam(param, 'Invalid timestamp: can be no more than two years in the future.');
  return unix;
}

function discountIds(subscription: StripeObject): string[] {
  const discounts = subscription.discounts;
  if (!Array.isArray(discounts)) return [];
  return discounts.map((d) => (typeof d === 'string' ? d : (d as { id: string }).id));
}

function couponOfDiscount(discount: StripeObject | undefined): string | null {
  if (!discount) return null;
  const source = discount.source as { coupon?: unknown } | undefined;
  const coupon = source?.coupon ?? discount.coupon;
  if (typeof coupon === 'string') return coupon;
  if (coupon && typeof coupon === 'object') return (coupon as { id: string }).id;
  return null;
}

function assertRedeemable(coupon: StripeObject, param: string, now: UnixSeconds): void {
  const maxRedemptions = coupon.max_redemptions;
  const redeemBy = coupon.redeem_by;
  if (coupon.valid === false || (typeof redeemBy === 'number' && redeemBy < now)) {
    throw invalidParam(param, `Coupon ${coupon.id} is expired.`, 'coupon_expired');
  }
  if (typeof maxRedemptions === 'number' && typeof coupon.times_redeemed === 'number' && coupon.times_redeemed >= maxRedemptions) {
    throw invalidParam(param, `Coupon ${coupon.id} has been redeemed the maximum number of times.`, 'coupon_expired');
  }
}

function applyDiscounts(
  next: StripeObject,
  value: ParamValue,
  context: UpdateContext,
  result: Pick<SubscriptionUpdate, 'discountsCreated' | 'discountsDeleted' | 'couponsRedeemed'>,
): void {
  const existing = discountIds(next);
  const existingByCoupon = new Map<string, string>();
  for (const id of existing) {
    const coupon = couponOfDiscount(context.discount(id));
    if (coupon) existingByCoupon.set(coupon, id);
  }
  const entries: ParamValue[] = value === '' ? [] : Array.isArray(value) ? value : [];
  if (value !== '' && !Array.isArray(value)) throw invalidParam('discounts', 'Invalid array');
  const kept: string[] = [];
  entries.forEach((entry, i) => {
    if (typeof entry === 'string' || Array.isArray(entry)) throw invalidParam(`discounts[${i}]`, 'Invalid object');
    const couponId = stringParam(entry, 'coupon');
    const discountId = stringParam(entry, 'discount');
    if (entry.promotion_code !== undefined) {
      throw invalidParam(`discounts[${i}][promotion_code]`, 'Promotion codes are not supported by the churn sandbox.');
    }
    if (couponId) {
      const current = existingByCoupon.get(couponId);
      if (current) {
        if (!kept.includes(current)) kept.push(current);
        return;
      }
      const coupon = context.coupon(couponId);
      if (!coupon) throw resourceMissing('coupon', couponId, `discounts[${i}][coupon]`);
      assertRedeemable(coupon, `discounts[${i}][coupon]`, context.now);
      const customer = typeof next.customer === 'string' ? next.customer : (next.customer as { id: string }).id;
      const discount = buildDiscount({ id: context.newDiscountId(), coupon, customer, subscription: next.id, start: context.now });
      result.discountsCreated.push(discount);
      result.couponsRedeemed.push(couponId);
      existingByCoupon.set(couponId, discount.id);
      kept.push(discount.id);
    } else if (discountId) {
      if (!existing.includes(discountId)) throw resourceMissing('discount', discountId, `discounts[${i}][discount]`);
      if (!kept.includes(discountId)) kept.push(discountId);
    } else {
      throw invalidParam(`discounts[${i}]`, 'You must provide one of coupon, discount or promotion_code.', 'parameter_missing');
    }
  });
  for (const id of existing) {
    if (!kept.includes(id)) {
      const discount = context.discount(id);
      if (discount) result.discountsDeleted.push(discount);
    }
  }
  next.discounts = kept;
}

function applyTrialEnd(next: StripeObject, value: string, context: UpdateContext): void {
  const { now } = context;
  const setItemsPeriodEnd = (end: UnixSeconds) => {
    const list = next.items as { data?: SubscriptionItemShape[] } | undefined;
    if (list?.data) list.data = list.data.map((item) => ({ ...item, current_period_end: end }));
    if (typeof next.current_period_end === 'number') next.current_period_end = end;
  };
  if (value === 'now') {
    next.trial_end = now;
    if (next.status === 'trialing') next.status = 'active';
    return;
  }
  const trialEnd = futureTimestamp(value, 'trial_end', now, now + MAX_TRIAL_SECONDS);
  next.trial_end = trialEnd;
  if (next.trial_start === null || next.trial_start === undefined || next.status !== 'trialing') next.trial_start = now;
  next.status = 'trialing';
  // With proration_behavior none the current period runs until the trial ends; billing restarts there.
  next.billing_cycle_anchor = trialEnd;
  setItemsPeriodEnd(trialEnd);
}

function applyPauseCollection(next: StripeObject, value: ParamValue, now: UnixSeconds): void {
  if (value === '') {
    next.pause_collection = null;
    return;
  }
  if (typeof value === 'string' || Array.isArray(value)) throw invalidParam('pause_collection', 'Invalid object');
  const behavior = stringParam(value, 'behavior');
  if (!behavior) throw invalidParam('pause_collection[behavior]', 'Missing required param: pause_collection[behavior].', 'parameter_missing');
  if (!PAUSE_BEHAVIORS.includes(behavior)) {
    throw invalidParam('pause_collection[behavior]', `Invalid pause_collection[behavior]: must be one of ${PAUSE_BEHAVIORS.join(', ')}`);
  }
  const resumesAtText = stringParam(value, 'resumes_at');
  const resumesAt = resumesAtText ? futureTimestamp(resumesAtText, 'pause_collection[resumes_at]', now) : null;
  // Pausing collection leaves the status `active`; only the invoices are held.
  next.pause_collection = { behavior, resumes_at: resumesAt };
}

function applyCancellation(next: StripeObject, atPeriodEnd: boolean | undefined, details: ParamObject | '' | undefined, now: UnixSeconds): void {
  if (atPeriodEnd === undefined && details === undefined) return;
  const current = (next.cancellation_details as { comment: string | null; feedback: string | null; reason: string | null } | null) ?? {
    comment: null,
    feedback: null,
    reason: null,
  };
  const cancellation = { ...current };
  if (atPeriodEnd === true) {
    next.cancel_at_period_end = true;
    next.cancel_at = currentPeriodEnd(next);
    next.canceled_at = now;
    cancellation.reason = 'cancellation_requested';
  } else if (atPeriodEnd === false) {
    next.cancel_at_period_end = false;
    next.cancel_at = null;
    next.canceled_at = null;
    cancellation.reason = null;
    cancellation.feedback = null;
    cancellation.comment = null;
  }
  if (details !== undefined && details !== '') {
    const feedback = stringParam(details, 'feedback');
    if (feedback !== undefined) {
      if (feedback !== '' && !FEEDBACK.includes(feedback)) throw invalidParam('cancellation_details[feedback]', `Invalid cancellation_details[feedback]: must be one of ${FEEDBACK.join(', ')}`);
      cancellation.feedback = feedback === '' ? null : feedback;
    }
    const comment = stringParam(details, 'comment');
    if (comment !== undefined) cancellation.comment = comment === '' ? null : comment;
  }
  next.cancellation_details = cancellation;
}

function previousAttributes(before: StripeObject, after: StripeObject): Record<string, unknown> {
  const previous: Record<string, unknown> = {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  for (const key of keys) {
    if (JSON.stringify(before[key]) !== JSON.stringify(after[key])) previous[key] = before[key] ?? null;
  }
  return previous;
}

/**
 * `POST /v1/subscriptions/:id` as pure logic: the subscription after the update, what changed, and the
 * discounts it created or removed. Nothing is stored here.
 */
export function updateSubscription(subscription: StripeObject, params: ParamObject, context: UpdateContext): SubscriptionUpdate {
  const ended = subscription.status === 'canceled' || subscription.status === 'incomplete_expired';
  if (ended) {
    const disallowed = Object.keys(params).filter((k) => !['metadata', 'cancellation_details', 'expand'].includes(k));
    if (disallowed.length > 0) {
      throw new StripeApiError(400, {
        type: 'invalid_request_error',
        code: 'invalid_canceled_subscription_fields',
        message: 'A canceled subscription can only update its cancellation_details and metadata.',
        param: disallowed[0],
      });
    }
  }
  const proration = stringParam(params, 'proration_behavior');
  if (proration !== undefined && !PRORATION_BEHAVIORS.includes(proration)) {
    throw invalidParam('proration_behavior', `Invalid proration_behavior: must be one of ${PRORATION_BEHAVIORS.join(', ')}`);
  }
  const next = structuredClone(subscription);
  const result: SubscriptionUpdate = { subscription: next, previousAttributes: {}, discountsCreated: [], discountsDeleted: [], couponsRedeemed: [] };

  if (params.discounts !== undefined) applyDiscounts(next, params.discounts, context, result);
  const trialEnd = stringParam(params, 'trial_end');
  if (trialEnd !== undefined) applyTrialEnd(next, trialEnd, context);
  if (params.pause_collection !== undefined) applyPauseCollection(next, params.pause_collection, context.now);
  const cancelAtPeriodEnd = booleanParam(params, 'cancel_at_period_end');
  const cancelAtText = stringParam(params, 'cancel_at');
  if (cancelAtText !== undefined && cancelAtPeriodEnd === true) {
    throw invalidParam('cancel_at', 'You may only specify one of these parameters: cancel_at, cancel_at_period_end.');
  }
  applyCancellation(next, cancelAtPeriodEnd, objectParam(params, 'cancellation_details'), context.now);
  if (cancelAtText !== undefined) {
    if (cancelAtText === '') {
      next.cancel_at = null;
      next.canceled_at = null;
    } else {
      next.cancel_at = futureTimestamp(cancelAtText, 'cancel_at', context.now);
      next.canceled_at = context.now;
      next.cancellation_details = { ...(next.cancellation_details as object), reason: 'cancellation_requested' };
    }
  }
  if (params.metadata !== undefined) next.metadata = applyMetadata((next.metadata as Record<string, string>) ?? {}, params.metadata);
  const description = stringParam(params, 'description');
  if (description !== undefined) next.description = description === '' ? null : description;
  const defaultPaymentMethod = stringParam(params, 'default_payment_method');
  if (defaultPaymentMethod !== undefined) next.default_payment_method = defaultPaymentMethod === '' ? null : defaultPaymentMethod;

  result.previousAttributes = previousAttributes(subscription, next);
  return result;
}
