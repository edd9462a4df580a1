import Stripe from 'stripe';
import { DAY, type UnixSeconds } from '../lib/clock.js';
import type { PolicyAction, PolicyDefinition } from '../services/policies/definition.js';

/**
 * The Stripe calls a retention offer is made of, over the official SDK (DESIGN.md "Stripe facts
 * the design relies on"):
 * - one coupon per policy version, with an id derived from the policy, so every offer under that
 *   version redeems the same coupon and a retried creation finds it;
 * - the offer itself as one subscription update: the coupon added to `discounts` (existing
 *   discounts kept), `trial_end` with `proration_behavior: none`, or `pause_collection`.
 *
 * Every mutating call carries an Idempotency-Key derived from our own ids, so a retried step is the
 * same request to Stripe. The update also writes `metadata.churn_intervention`, so a later run can
 * see the offer on the subscription after Stripe's 24-hour idempotency window has passed.
 *
 * Request parameters are passed in already planned (trial end, resume time, discounts to keep):
 * the same key with different parameters is an `idempotency_error`, so whatever computes them must
 * compute them once (apply-intervention stores the plan before the first call).
 */

/** Subscription metadata naming the intervention whose offer the subscription carries. */
export const INTERVENTION_METADATA_KEY = 'churn_intervention';
export const POLICY_METADATA_KEY = 'churn_policy';

/** The account as stored on our rows: `acct_…` for a connected account, 'platform' otherwise. */
export type AccountRef = string;

export interface CallScope {
  /** connected account to act in; omitted (or 'platform') = the platform account */
  stripeAccount?: AccountRef;
}

/** One SDK result with the Stripe request id it came back with. */
export interface StripeCall<T> {
  value: T;
  requestId: string;
}

export interface PolicyRef {
  id: string;
  version: number;
  definition: Pick<PolicyDefinition, 'name' | 'action'>;
}

export type CouponAction = Extract<PolicyAction, { kind: 'coupon' }>;

function requestOptions(scope: CallScope, idempotencyKey?: string): Stripe.RequestOptions {
  const options: Stripe.RequestOptions = {};
  if (scope.stripeAccount && scope.stripeAccount !== 'platform') options.stripeAccount = scope.stripeAccount;
  if (idempotencyKey) options.idempotencyKey = idempotencyKey;
  return options;
}

function requestIdOf(result: { lastResponse?: { requestId?: string } }): string {
  return result.lastResponse?.requestId ?? '';
}

/** The Idempotency-Key of one step of one intervention: `int_…:apply`. */
export function interventionIdempotencyKey(interventionId: string, step: string): string {
  return `${interventionId}:${step}`;
}

/** Coupon ids allow letters, digits, `_` and `-`; policy ids (`pol_…`) already are. */
export function retentionCouponId(policy: { id: string; version: number }): string {
  return `churn_${policy.id}_v${policy.version}`.replace(/[^A-Za-z0-9_-]/g, '_');
}

function couponAction(policy: PolicyRef): CouponAction {
  const action = policy.definition.action;
  if (action.kind !== 'coupon') throw new Error(`policy ${policy.id} v${policy.version} does not offer a coupon (${action.kind})`);
  return action;
}

export function retentionCouponParams(policy: PolicyRef): Stripe.CouponCreateParams {
  const action = couponAction(policy);
  const params: Stripe.CouponCreateParams = {
    id: retentionCouponId(policy),
    duration: action.duration,
    // Stripe caps coupon names at 40 characters; the metadata carries the exact policy.
    name: `churn: ${policy.definition.name}`.slice(0, 40),
    metadata: { churn_policy_id: policy.id, churn_policy_version: String(policy.version), churn_policy_name: policy.definition.name.slice(0, 500) },
  };
  if (action.percentOff !== undefined) params.percent_off = action.percentOff;
  else {
    params.amount_off = action.amountOff!;
    params.currency = action.currency!;
  }
  if (action.duration === 'repeating') params.duration_in_months = action.durationInMonths!;
  return params;
}

/**
 * A coupon with this policy version's id exists but says something else (made by hand, or by
 * another system): redeeming it would give customers an offer nobody decided.
 */
export class RetentionCouponConflictError extends Error {
  constructor(readonly couponId: string, readonly differences: string[]) {
    super(`coupon ${couponId} exists with other terms than its policy (${differences.join(', ')})`);
    this.name = 'RetentionCouponConflictError';
  }
}

function couponDifferences(coupon: Stripe.Coupon, expected: Stripe.CouponCreateParams): string[] {
  const out: string[] = [];
  if ((coupon.percent_off ?? undefined) !== expected.percent_off) out.push(`percent_off ${coupon.percent_off} != ${expected.percent_off}`);
  if ((coupon.amount_off ?? undefined) !== expected.amount_off) out.push(`amount_off ${coupon.amount_off} != ${expected.amount_off}`);
  if (expected.currency !== undefined && coupon.currency !== expected.currency) out.push(`currency ${coupon.currency} != ${expected.currency}`);
  if (coupon.duration !== expected.duration) out.push(`duration ${coupon.duration} != ${expected.duration}`);
  if ((coupon.duration_in_months ?? undefined) !== expected.duration_in_months) {
    out.push(`duration_in_months ${coupon.duration_in_months} != ${expected.duration_in_months}`);
  }
  return out;
}

export interface EnsuredCoupon {
  coupon: Stripe.Coupon;
  /** false when it already existed (created by an earlier offer or a retried step) */
  created: boolean;
  requestIds: string[];
}

/**
 * The policy version's coupon, created on first use. The id is deterministic and the creation is
 * idempotent (key from policy id and version); after the idempotency window a second creation is
 * `resource_already_exists`, and the existing coupon is read back and checked against the policy.
 */
export async function ensureRetentionCoupon(stripe: Stripe, policy: PolicyRef, scope: CallScope = {}): Promise<EnsuredCoupon> {
  const params = retentionCouponParams(policy);
  const key = `churn:coupon:${policy.id}:v${policy.version}`;
  const requestIds: string[] = [];
  let coupon: Stripe.Response<Stripe.Coupon>;
  let created = true;
  try {
    coupon = await stripe.coupons.create(params, requestOptions(scope, key));
  } catch (err) {
    if (!(err instanceof Stripe.errors.StripeError) || err.code !== 'resource_already_exists') throw err;
    if (err.requestId) requestIds.push(err.requestId);
    coupon = await stripe.coupons.retrieve(params.id!, {}, requestOptions(scope));
    created = false;
  }
  requestIds.push(requestIdOf(coupon));
  const differences = couponDifferences(coupon, params);
  if (differences.length > 0) throw new RetentionCouponConflictError(coupon.id, differences);
  return { coupon, created, requestIds };
}

/** The subscription with its discounts expanded (their coupons tell whether an offer is on it). */
export async function retrieveSubscriptionForOffer(stripe: Stripe, subscriptionId: string, scope: CallScope = {}): Promise<StripeCall<Stripe.Subscription>> {
  const subscription = await stripe.subscriptions.retrieve(subscriptionId, { expand: ['discounts'] }, requestOptions(scope));
  return { value: subscription, requestId: requestIdOf(subscription) };
}

/** Discount ids on a subscription, whether expanded or not. */
export function discountIdsOf(subscription: Pick<Stripe.Subscription, 'discounts'>): string[] {
  return (subscription.discounts ?? []).map((d) => (typeof d === 'string' ? d : d.id));
}

/** Coupon ids of a subscription's expanded discounts (unexpanded ones say nothing). */
export function couponIdsOf(subscription: Pick<Stripe.Subscription, 'discounts'>): string[] {
  const ids: string[] = [];
  for (const d of subscription.discounts ?? []) {
    if (typeof d === 'string') continue;
    const coupon = d.source?.coupon;
    if (typeof coupon === 'string') ids.push(coupon);
    else if (coupon && typeof coupon === 'object') ids.push(coupon.id);
  }
  return ids;
}

export interface OfferTarget {
  subscriptionId: string;
  interventionId: string;
  /** `pol_…:vN`, written beside the intervention id */
  policyTag?: string;
  /** step name in the idempotency key (default 'apply') */
  step?: string;
}

function offerMetadata(target: OfferTarget): Record<string, string> {
  const metadata: Record<string, string> = { [INTERVENTION_METADATA_KEY]: target.interventionId };
  if (target.policyTag) metadata[POLICY_METADATA_KEY] = target.policyTag;
  return metadata;
}

async function updateForOffer(stripe: Stripe, target: OfferTarget, params: Stripe.SubscriptionUpdateParams, scope: CallScope): Promise<StripeCall<Stripe.Subscription>> {
  const key = interventionIdempotencyKey(target.interventionId, target.step ?? 'apply');
  const subscription = await stripe.subscriptions.update(target.subscriptionId, { ...params, metadata: offerMetadata(target) }, requestOptions(scope, key));
  return { value: subscription, requestId: requestIdOf(subscription) };
}

/**
 * Adds a coupon to the subscription's discounts. Stripe replaces the whole `discounts` list, so
 * the discounts already there are passed back by id, in their order, before the new coupon.
 */
export function addCouponToSubscription(
  stripe: Stripe,
  target: OfferTarget & { couponId: string; keepDiscountIds: string[] },
  scope: CallScope = {},
): Promise<StripeCall<Stripe.Subscription>> {
  const discounts: Stripe.SubscriptionUpdateParams.Discount[] = [...target.keepDiscountIds.map((id) => ({ discount: id })), { coupon: target.couponId }];
  // Expanded in the answer, so the caller learns the new discount's id without another read.
  return updateForOffer(stripe, target, { discounts, proration_behavior: 'none', expand: ['discounts'] }, scope);
}

/** New trial end for an extension of `days`: counted from the current trial end when it is later than now. */
export function extendedTrialEnd(currentTrialEnd: UnixSeconds | null | undefined, now: UnixSeconds, days: number): UnixSeconds {
  return Math.max(now, currentTrialEnd ?? 0) + days * DAY;
}

/** When a pause of `days` starting now ends. */
export function pauseResumesAt(now: UnixSeconds, days: number): UnixSeconds {
  return now + days * DAY;
}

/** Sets `trial_end` (planned with `extendedTrialEnd`) without prorating: the extra days are simply not billed. */
export function extendTrial(stripe: Stripe, target: OfferTarget & { trialEnd: UnixSeconds }, scope: CallScope = {}): Promise<StripeCall<Stripe.Subscription>> {
  return updateForOffer(stripe, target, { trial_end: target.trialEnd, proration_behavior: 'none' }, scope);
}

/** Voids the invoices until `resumesAt`; the subscription stays `active`. */
export function pauseCollection(stripe: Stripe, target: OfferTarget & { resumesAt: UnixSeconds }, scope: CallScope = {}): Promise<StripeCall<Stripe.Subscription>> {
  return updateForOffer(stripe, target, { pause_collection: { behavior: 'void', resumes_at: target.resumesAt } }, scope);
}

/** How a failed Stripe call should be treated by whoever runs the step. */
export type StripeFailureKind = 'retryable' | 'permanent' | 'idempotency_conflict';

/**
 * - 429, 5xx, connection errors and 409 "key in use": retry (the SDK already retried with the same
 *   key; a later step retry is the same request again);
 * - 400 idempotency_error: the key was used with other parameters, which only happens when a
 *   concurrent or earlier attempt already sent it: the caller re-reads the subscription before
 *   deciding it failed;
 * - other invalid requests (4xx: no such subscription, canceled, bad coupon, account access
 *   revoked) and card errors: retrying can never succeed;
 * - authentication errors are configuration, not this offer: retryable, so fixing the key and
 *   re-running applies the offer instead of dropping it.
 */
export function classifyStripeFailure(err: unknown): StripeFailureKind {
  if (!(err instanceof Stripe.errors.StripeError)) return 'retryable';
  const status = err.statusCode ?? 0;
  if (err instanceof Stripe.errors.StripeRateLimitError || status === 429) return 'retryable';
  // StripeAPIError also covers 409 (the key is in use by a request still running).
  if (err instanceof Stripe.errors.StripeConnectionError || err instanceof Stripe.errors.StripeAPIError) return 'retryable';
  if (status >= 500 || status === 409 || status === 0) return 'retryable';
  if (err instanceof Stripe.errors.StripeIdempotencyError) return 'idempotency_conflict';
  if (err instanceof Stripe.errors.StripeAuthenticationError) return 'retryable';
  return 'permanent';
}
