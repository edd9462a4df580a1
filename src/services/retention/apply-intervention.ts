import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { eq, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import type { Database } from '../../db/client.js';
import { interventions } from '../../db/schema/index.js';
import type { UnixSeconds } from '../../lib/clock.js';
import { errorMessage } from '../../lib/errors.js';
import { isPrivateAddress, resolveOutboundTarget } from '../../lib/outbound.js';
import { inSpan } from '../../lib/tracing.js';
import {
  addCouponToSubscription,
  classifyStripeFailure,
  couponIdsOf,
  discountIdsOf,
  ensureRetentionCoupon,
  extendTrial,
  extendedTrialEnd,
  INTERVENTION_METADATA_KEY,
  pauseCollection,
  pauseResumesAt,
  retentionCouponId,
  RetentionCouponConflictError,
  retrieveSubscriptionForOffer,
  type CallScope,
  type StripeCall,
} from '../../stripe/retention-actions.js';
import type { PolicyAction, PolicyDefinition } from '../policies/definition.js';
import { policyVersion } from '../policies/store.js';
import { releaseBudget } from './budget.js';
import { offerCost } from './costs.js';
import type { AccountThrottle } from './throttle.js';

/**
 * Applies one decided intervention through the Stripe Subscription API, exactly once.
 *
 * decided -> applying -> applied | failed. Every Stripe call carries an Idempotency-Key derived
 * from the intervention id and the step, and its parameters are planned once and stored on the row
 * before the first call, so a retried step is byte-for-byte the same request. Before calling, the
 * subscription is read: when it already carries this intervention's offer (metadata
 * `churn_intervention`, or the policy's coupon, or the planned trial end / resume time), the offer
 * is recorded as applied without another call. That covers a crash between Stripe's answer and the
 * database write, also after Stripe's 24-hour idempotency window and with a new client.
 *
 * Failures that can never succeed (no such subscription, canceled, cancelling when the policy does
 * not include cancelling, an invalid request) mark the row failed, release its budget reservation
 * and throw `PermanentApplyError` (an Inngest function maps it to NonRetriableError). 429s, 5xx and
 * connection errors leave the row 'applying' and are rethrown for the caller to retry.
 *
 * The pieces (`prepareApply`, `ensureOfferCoupon`, `performStripeAction`, `recordApplied`) are
 * exported so an Inngest function can run them as separate steps; `applyIntervention` composes them
 * for the batch path. Every piece returns plain JSON, so step results can be memoised.
 */

export type InterventionRow = typeof interventions.$inferSelect;

export interface NotifyOptions {
  /** allow http(s) targets on loopback/private/link-local addresses (tests, on-premise receivers) */
  allowPrivateAddresses?: boolean;
  /** attempts for a 5xx/429/network failure before giving up for this run (default 3) */
  attempts?: number;
  /** first backoff, doubled per attempt (default 500 ms) */
  backoffMs?: number;
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface ApplyDeps {
  database: Database;
  stripe: Stripe;
  now: UnixSeconds;
  notify?: NotifyOptions;
  /** batch path: paces Stripe calls per account (Inngest paces its own steps) */
  throttle?: AccountThrottle;
  /**
   * coupons known to exist, as `account:couponId`; the batch path shares one set so a run creates or
   * checks each policy's coupon once instead of once per offer
   */
  knownCoupons?: Set<string>;
}

export type PermanentFailureCode =
  | 'intervention_missing'
  | 'policy_missing'
  | 'action_mismatch'
  | 'no_subscription'
  | 'subscription_missing'
  | 'subscription_ended'
  | 'subscription_cancelling'
  | 'customer_mismatch'
  | 'coupon_conflict'
  | 'stripe_rejected'
  | 'idempotency_conflict'
  | 'notify_refused'
  | 'notify_rejected';

/** An offer that can never be applied; the row is already marked failed and its budget released. */
export class PermanentApplyError extends Error {
  /** Stripe request ids of the calls made before the failure was known */
  readonly requestIds: string[];
  constructor(
    readonly code: PermanentFailureCode,
    readonly interventionId: string,
    message: string,
    options?: { cause?: unknown; requestIds?: string[] },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PermanentApplyError';
    this.requestIds = options?.requestIds ?? [];
  }
}

/** What was planned for the Stripe call, stored on the row before it is made. */
export type OfferPlan =
  | { kind: 'coupon'; couponId: string; keepDiscountIds: string[] }
  | { kind: 'trial_extension'; days: number; trialEnd: UnixSeconds; previousTrialEnd: UnixSeconds | null }
  | { kind: 'pause'; days: number; behavior: 'void'; resumesAt: UnixSeconds }
  | { kind: 'notify'; url: string };

export interface PreparedApply {
  kind: 'ready';
  interventionId: string;
  account: string;
  customerId: string;
  subscriptionId: string | null;
  policy: { id: string; version: number; definition: PolicyDefinition };
  mrr: number;
  currency: string;
  budgetMonth: string;
  expectedCost: number;
}

export type PrepareResult = PreparedApply | { kind: 'unchanged'; interventionId: string; status: string };

export interface PerformedAction {
  interventionId: string;
  /** parameters as applied (coupon and discount ids, trial end, resume time, webhook status …) */
  params: Record<string, unknown>;
  /** Stripe request ids of the calls this attempt made, in order */
  requestIds: string[];
  /** billing interval of the subscription, for the cost */
  intervalMonths: number;
  /** the offer was already on the subscription (an earlier attempt's call went through) */
  recovered: boolean;
}

export interface ApplyResult {
  intervention: InterventionRow;
  /** applied now, found already applied on the subscription, or nothing to do */
  outcome: 'applied' | 'recovered' | 'unchanged';
}

const ACTIVE_STATUSES = ['decided', 'applying'];
const ENDED_SUBSCRIPTION = ['canceled', 'incomplete_expired'];

function scopeOf(account: string): CallScope {
  return account === 'platform' ? {} : { stripeAccount: account };
}

async function loadIntervention(database: Database, id: string): Promise<InterventionRow | undefined> {
  const [row] = await database.db.select().from(interventions).where(eq(interventions.id, id)).limit(1);
  return row;
}

function describeStripeError(err: unknown): string {
  if (err instanceof Stripe.errors.StripeError) {
    const parts = [err.statusCode, err.rawType ?? err.type, err.code, err.param && `param ${err.param}`].filter(Boolean);
    return `${err.message} (${parts.join(', ')})`;
  }
  return errorMessage(err);
}

/**
 * Marks the row failed with the reason and gives its reservation back, in one transaction; only the
 * transition out of decided/applying releases money, so repeating it releases nothing twice.
 */
export async function recordFailed(database: Database, failure: PermanentApplyError): Promise<InterventionRow | undefined> {
  await database.db.transaction(async (tx) => {
    const rows = await database.query<{ policy_id: string; budget_month: string; expected_cost: string | number }>(
      sql`update interventions set status = 'failed', error = ${`${failure.code}: ${failure.message}`},
            stripe_request_ids = stripe_request_ids || ${JSON.stringify(failure.requestIds)}::jsonb
          where id = ${failure.interventionId} and status in ('decided', 'applying')
          returning policy_id, budget_month, expected_cost`,
      tx,
    );
    const row = rows[0];
    if (row) await releaseBudget(database, row.policy_id, row.budget_month, Number(row.expected_cost), tx);
  });
  return loadIntervention(database, failure.interventionId);
}

async function fail(database: Database, code: PermanentFailureCode, interventionId: string, message: string, options?: { cause?: unknown; requestIds?: string[] }): Promise<never> {
  const failure = new PermanentApplyError(code, interventionId, message, options);
  await recordFailed(database, failure);
  throw failure;
}

/**
 * Loads the row and its policy version and moves it to 'applying'. Rows in any other state than
 * decided/applying (holdout, dry_run, applied, failed, skipped) are left as they are.
 */
export async function prepareApply(deps: Pick<ApplyDeps, 'database'>, interventionId: string): Promise<PrepareResult> {
  const { database } = deps;
  const row = await loadIntervention(database, interventionId);
  if (!row) throw new PermanentApplyError('intervention_missing', interventionId, `no intervention ${interventionId}`);
  if (!ACTIVE_STATUSES.includes(row.status)) return { kind: 'unchanged', interventionId, status: row.status };
  const policy = await policyVersion(database.db, row.policyId, row.policyVersion);
  if (!policy) return fail(database, 'policy_missing', interventionId, `policy ${row.policyId} v${row.policyVersion} does not exist`);
  if (policy.definition.action.kind !== row.action) {
    return fail(database, 'action_mismatch', interventionId, `the row says ${row.action} but policy ${policy.id} v${policy.version} offers ${policy.definition.action.kind}`);
  }
  const moved = await database.query<{ id: string }>(
    sql`update interventions set status = 'applying' where id = ${interventionId} and status in ('decided', 'applying') returning id`,
  );
  if (moved.length === 0) {
    // Another run finished it between the read and the update.
    const now = await loadIntervention(database, interventionId);
    return { kind: 'unchanged', interventionId, status: now?.status ?? 'missing' };
  }
  return {
    kind: 'ready',
    interventionId,
    account: row.account,
    customerId: row.customerId,
    subscriptionId: row.subscriptionId,
    policy: { id: policy.id, version: policy.version, definition: policy.definition },
    mrr: row.mrr,
    currency: row.currency,
    budgetMonth: row.budgetMonth,
    expectedCost: row.expectedCost,
  };
}

/**
 * Makes sure the policy version's coupon exists in the intervention's account (a no-op for other
 * actions). Returns the coupon id the subscription update will redeem.
 */
export async function ensureOfferCoupon(deps: Pick<ApplyDeps, 'database' | 'stripe' | 'throttle' | 'knownCoupons'>, prepared: PreparedApply): Promise<{ couponId: string | null; requestIds: string[] }> {
  if (prepared.policy.definition.action.kind !== 'coupon') return { couponId: null, requestIds: [] };
  const couponId = retentionCouponId(prepared.policy);
  const known = `${prepared.account}:${couponId}`;
  if (deps.knownCoupons?.has(known)) return { couponId, requestIds: [] };
  await deps.throttle?.wait(prepared.account);
  try {
    const ensured = await ensureRetentionCoupon(deps.stripe, prepared.policy, scopeOf(prepared.account));
    deps.knownCoupons?.add(known);
    return { couponId: ensured.coupon.id, requestIds: ensured.requestIds };
  } catch (err) {
    if (err instanceof RetentionCouponConflictError) return fail(deps.database, 'coupon_conflict', prepared.interventionId, err.message, { cause: err });
    if (classifyStripeFailure(err) === 'retryable') throw err;
    return fail(deps.database, 'stripe_rejected', prepared.interventionId, `creating coupon ${couponId}: ${describeStripeError(err)}`, { cause: err });
  }
}

/** Billing interval in whole months, as the decision's cost estimate counts it. */
function subscriptionIntervalMonths(subscription: Stripe.Subscription): number {
  const recurring = subscription.items?.data?.[0]?.price?.recurring;
  const n = recurring?.interval_count && recurring.interval_count > 0 ? recurring.interval_count : 1;
  switch (recurring?.interval) {
    case 'year':
      return 12 * n;
    case 'week':
      return Math.max(1, Math.round((n * 12) / 52));
    case 'day':
      return Math.max(1, Math.round((n * 12) / 365));
    default:
      return n;
  }
}

function customerIdOf(subscription: Stripe.Subscription): string {
  return typeof subscription.customer === 'string' ? subscription.customer : subscription.customer.id;
}

function ourDiscountId(subscription: Stripe.Subscription, couponId: string): string | null {
  for (const d of subscription.discounts ?? []) {
    if (typeof d === 'string') continue;
    const coupon = typeof d.source?.coupon === 'string' ? d.source.coupon : d.source?.coupon?.id;
    if (coupon === couponId) return d.id;
  }
  return null;
}

/** Whether the subscription already carries this intervention's offer, and how we can tell. */
function offerAlreadyOn(subscription: Stripe.Subscription, prepared: PreparedApply, plan: OfferPlan | null): 'metadata' | 'coupon' | 'trial_end' | 'pause_collection' | null {
  if (subscription.metadata?.[INTERVENTION_METADATA_KEY] === prepared.interventionId) return 'metadata';
  const action = prepared.policy.definition.action;
  if (action.kind === 'coupon' && couponIdsOf(subscription).includes(retentionCouponId(prepared.policy))) return 'coupon';
  if (plan?.kind === 'trial_extension' && subscription.trial_end === plan.trialEnd) return 'trial_end';
  if (plan?.kind === 'pause' && subscription.pause_collection?.resumes_at === plan.resumesAt) return 'pause_collection';
  return null;
}

/** The parameters for the Stripe call, computed once from the subscription as first read. */
function planOffer(action: PolicyAction, prepared: PreparedApply, subscription: Stripe.Subscription, now: UnixSeconds): OfferPlan {
  switch (action.kind) {
    case 'coupon':
      return { kind: 'coupon', couponId: retentionCouponId(prepared.policy), keepDiscountIds: discountIdsOf(subscription) };
    case 'trial_extension':
      return { kind: 'trial_extension', days: action.days, trialEnd: extendedTrialEnd(subscription.trial_end, now, action.days), previousTrialEnd: subscription.trial_end ?? null };
    case 'pause':
      return { kind: 'pause', days: action.days, behavior: 'void', resumesAt: pauseResumesAt(now, action.days) };
    case 'notify':
      return { kind: 'notify', url: action.url };
  }
}

/**
 * Stores the plan unless an earlier or concurrent attempt stored one first, and returns the one
 * that counts. Null when the row is no longer being applied (another run recorded it meanwhile).
 */
async function settlePlan(database: Database, interventionId: string, plan: OfferPlan): Promise<{ plan: OfferPlan; status: string; params: Record<string, unknown> } | null> {
  await database.query(
    sql`update interventions set params = params || jsonb_build_object('plan', ${JSON.stringify(plan)}::jsonb)
        where id = ${interventionId} and status = 'applying' and params->'plan' is null`,
  );
  const row = await loadIntervention(database, interventionId);
  if (!row) return null;
  const stored = (row.params as { plan?: OfferPlan }).plan;
  if (!stored) return null;
  return { plan: stored, status: row.status, params: row.params };
}

async function storedPlan(database: Database, interventionId: string): Promise<OfferPlan | null> {
  const row = await loadIntervention(database, interventionId);
  return ((row?.params as { plan?: OfferPlan } | undefined)?.plan as OfferPlan | undefined) ?? null;
}

function appliedParams(plan: OfferPlan | null, subscription: Stripe.Subscription, prepared: PreparedApply): Record<string, unknown> {
  const action = prepared.policy.definition.action;
  switch (action.kind) {
    case 'coupon': {
      const couponId = retentionCouponId(prepared.policy);
      const keep = plan?.kind === 'coupon' ? plan.keepDiscountIds : discountIdsOf(subscription).filter((id) => id !== ourDiscountId(subscription, couponId));
      return { couponId, discountId: ourDiscountId(subscription, couponId), keptDiscountIds: keep };
    }
    case 'trial_extension':
      return {
        days: action.days,
        trialEnd: subscription.trial_end ?? (plan?.kind === 'trial_extension' ? plan.trialEnd : null),
        previousTrialEnd: plan?.kind === 'trial_extension' ? plan.previousTrialEnd : null,
        prorationBehavior: 'none',
      };
    case 'pause':
      return {
        days: action.days,
        behavior: subscription.pause_collection?.behavior ?? 'void',
        resumesAt: subscription.pause_collection?.resumes_at ?? (plan?.kind === 'pause' ? plan.resumesAt : null),
      };
    case 'notify':
      return { url: action.url };
  }
}

async function retrieveOrFail(deps: ApplyDeps, prepared: PreparedApply, requestIds: string[]): Promise<Stripe.Subscription> {
  await deps.throttle?.wait(prepared.account);
  let call: StripeCall<Stripe.Subscription>;
  try {
    call = await retrieveSubscriptionForOffer(deps.stripe, prepared.subscriptionId!, scopeOf(prepared.account));
  } catch (err) {
    const kind = classifyStripeFailure(err);
    if (kind === 'retryable') throw err;
    const requestId = err instanceof Stripe.errors.StripeError ? err.requestId : undefined;
    const ids = requestId ? [...requestIds, requestId] : requestIds;
    const missing = err instanceof Stripe.errors.StripeError && err.code === 'resource_missing';
    return fail(deps.database, missing ? 'subscription_missing' : 'stripe_rejected', prepared.interventionId, `reading subscription ${prepared.subscriptionId}: ${describeStripeError(err)}`, { cause: err, requestIds: ids });
  }
  requestIds.push(call.requestId);
  return call.value;
}

/**
 * Reads the subscription, and either finds the offer already on it or makes the one Stripe call
 * that applies it (a POST to the notify URL for notify). Nothing is recorded as applied here.
 */
export async function performStripeAction(deps: ApplyDeps, prepared: PreparedApply, coupon: { couponId?: string | null; requestIds?: string[] } = {}): Promise<PerformedAction> {
  // The span is the parent of the Stripe call spans made by the instrumented client (src/stripe/client.ts).
  return inSpan('apply intervention', { 'churn.intervention_id': prepared.interventionId, 'churn.action': prepared.policy.definition.action.kind }, () => performStripeActionNow(deps, prepared, coupon));
}

async function performStripeActionNow(deps: ApplyDeps, prepared: PreparedApply, coupon: { couponId?: string | null; requestIds?: string[] }): Promise<PerformedAction> {
  const action = prepared.policy.definition.action;
  if (action.kind === 'notify') return performNotify(deps, prepared);
  const requestIds = [...(coupon.requestIds ?? [])];
  if (!prepared.subscriptionId) return fail(deps.database, 'no_subscription', prepared.interventionId, 'the intervention names no subscription');

  const subscription = await retrieveOrFail(deps, prepared, requestIds);
  const done = (sub: Stripe.Subscription, plan: OfferPlan | null, recovered: boolean): PerformedAction => ({
    interventionId: prepared.interventionId,
    params: { ...appliedParams(plan, sub, prepared), ...(recovered ? { recovered: true } : {}) },
    requestIds,
    intervalMonths: subscriptionIntervalMonths(sub),
    recovered,
  });

  const earlierPlan = await storedPlan(deps.database, prepared.interventionId);
  // The offer may be on the subscription already: a crash after Stripe's answer, or a concurrent
  // run. Checked before the state checks, so an offer applied before a cancellation still counts.
  if (offerAlreadyOn(subscription, prepared, earlierPlan)) return done(subscription, earlierPlan, true);

  if (customerIdOf(subscription) !== prepared.customerId) {
    return fail(deps.database, 'customer_mismatch', prepared.interventionId, `subscription ${subscription.id} belongs to ${customerIdOf(subscription)}, not ${prepared.customerId}`, { requestIds });
  }
  if (ENDED_SUBSCRIPTION.includes(subscription.status)) {
    return fail(deps.database, 'subscription_ended', prepared.interventionId, `subscription ${subscription.id} is ${subscription.status}`, { requestIds });
  }
  const cancelling = subscription.cancel_at_period_end || subscription.cancel_at !== null && subscription.cancel_at !== undefined;
  if (cancelling && !prepared.policy.definition.eligibility.includeCancelling) {
    return fail(deps.database, 'subscription_cancelling', prepared.interventionId, `subscription ${subscription.id} is set to cancel and policy ${prepared.policy.id} does not include cancelling customers`, { requestIds });
  }

  const settled = await settlePlan(deps.database, prepared.interventionId, earlierPlan ?? planOffer(action, prepared, subscription, deps.now));
  if (!settled || settled.status !== 'applying') {
    // Recorded by another run between our read and now: nothing left to call.
    return done(subscription, settled?.plan ?? earlierPlan, true);
  }
  const plan = settled.plan;
  const target = { subscriptionId: subscription.id, interventionId: prepared.interventionId, policyTag: `${prepared.policy.id}:v${prepared.policy.version}` };
  const scope = scopeOf(prepared.account);
  await deps.throttle?.wait(prepared.account);
  try {
    let call: StripeCall<Stripe.Subscription>;
    if (plan.kind === 'coupon') {
      call = await addCouponToSubscription(deps.stripe, { ...target, couponId: coupon.couponId ?? plan.couponId, keepDiscountIds: plan.keepDiscountIds }, scope);
    } else if (plan.kind === 'trial_extension') call = await extendTrial(deps.stripe, { ...target, trialEnd: plan.trialEnd }, scope);
    else if (plan.kind === 'pause') call = await pauseCollection(deps.stripe, { ...target, resumesAt: plan.resumesAt }, scope);
    else throw new Error(`unexpected plan ${plan.kind} for a Stripe action`);
    requestIds.push(call.requestId);
    return done(call.value, plan, false);
  } catch (err) {
    const kind = classifyStripeFailure(err);
    if (kind === 'retryable') throw err;
    const requestId = err instanceof Stripe.errors.StripeError ? err.requestId : undefined;
    if (requestId) requestIds.push(requestId);
    if (kind === 'idempotency_conflict') {
      // Our key was already used with other parameters: some other attempt sent it. If its offer
      // is on the subscription now, that attempt is the one that counts.
      const again = await retrieveOrFail(deps, prepared, requestIds);
      if (offerAlreadyOn(again, prepared, plan)) return done(again, plan, true);
      return fail(deps.database, 'idempotency_conflict', prepared.interventionId, describeStripeError(err), { cause: err, requestIds });
    }
    return fail(deps.database, 'stripe_rejected', prepared.interventionId, `updating subscription ${subscription.id}: ${describeStripeError(err)}`, { cause: err, requestIds });
  }
}

/** Writes the applied offer: status, parameters, request ids, its cost, when. A second call changes nothing. */
export async function recordApplied(deps: Pick<ApplyDeps, 'database' | 'now'>, prepared: PreparedApply, performed: PerformedAction): Promise<InterventionRow> {
  const { database } = deps;
  const cost = offerCost(prepared.policy.definition.action, { mrr: prepared.mrr, currency: prepared.currency, intervalMonths: performed.intervalMonths });
  await database.query(
    sql`update interventions set status = 'applied',
          params = (params - 'plan') || ${JSON.stringify(performed.params)}::jsonb,
          stripe_request_ids = stripe_request_ids || ${JSON.stringify(performed.requestIds.filter(Boolean))}::jsonb,
          cost = ${cost}, applied_at = ${deps.now}, error = null
        where id = ${prepared.interventionId} and status in ('decided', 'applying')`,
  );
  const row = await loadIntervention(database, prepared.interventionId);
  if (!row) throw new Error(`intervention ${prepared.interventionId} disappeared while being applied`);
  return row;
}

/** Prepare, ensure the coupon, call Stripe (or find the offer already there), record. */
export async function applyIntervention(deps: ApplyDeps & { interventionId: string }): Promise<ApplyResult> {
  const prepared = await prepareApply(deps, deps.interventionId);
  if (prepared.kind === 'unchanged') {
    const row = await loadIntervention(deps.database, deps.interventionId);
    return { intervention: row!, outcome: 'unchanged' };
  }
  const coupon = await ensureOfferCoupon(deps, prepared);
  const performed = await performStripeAction(deps, prepared, coupon);
  const intervention = await recordApplied(deps, prepared, performed);
  return { intervention, outcome: performed.recovered ? 'recovered' : 'applied' };
}

// ---------------------------------------------------------------------------------------------
// notify: the decision posted to the policy's webhook URL for a person to act on

export { isPrivateAddress };

class NotifyRefused extends Error {}
class NotifyRejected extends Error {}

interface NotifyResponse {
  status: number;
  body: string;
}

/**
 * Resolves the host once, refuses private addresses (unless allowed), and connects to the checked
 * address itself, so a DNS answer that changes between the check and the connection cannot
 * redirect the request (TLS still verifies the certificate against the host name).
 */
async function postJson(url: URL, body: string, headers: Record<string, string>, options: NotifyOptions): Promise<NotifyResponse> {
  const target = await resolveOutboundTarget(url, options.allowPrivateAddresses === true, (m) => new NotifyRefused(m));
  const hostname = target.hostname;
  const client = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = client.request(
      {
        host: target.address,
        family: target.family,
        port: url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80,
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        servername: isIP(hostname) ? undefined : hostname,
        headers: { ...headers, host: url.host, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        timeout: options.timeoutMs ?? 10_000,
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          // Only the start of an answer is kept for the error message.
          if (size < 2048) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 500) }));
        response.on('error', reject);
      },
    );
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url.host} within ${options.timeoutMs ?? 10_000} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}

/** The decision as the webhook receives it. */
export async function notifyPayload(database: Database, prepared: PreparedApply, now: UnixSeconds): Promise<Record<string, unknown>> {
  const row = await loadIntervention(database, prepared.interventionId);
  return {
    id: `${prepared.interventionId}:notify`,
    type: 'churn.intervention.decided',
    created: now,
    intervention: {
      id: prepared.interventionId,
      account: prepared.account,
      customer: prepared.customerId,
      subscription: prepared.subscriptionId,
      decidedAt: row?.decidedAt ?? null,
      arm: row?.arm ?? 'treatment',
      probability: row?.probability ?? null,
      band: row?.band ?? null,
      modelVersion: row?.modelVersion ?? null,
      reasons: row?.reasons ?? [],
      mrr: prepared.mrr,
      currency: prepared.currency,
      horizonDays: row?.horizonDays ?? null,
    },
    policy: { id: prepared.policy.id, version: prepared.policy.version, name: prepared.policy.definition.name },
  };
}

/**
 * POSTs the decision to the policy's URL. 2xx = applied; 5xx, 408, 429 and network errors are
 * retried here and, when they persist, rethrown (row stays 'applying'); any other status, or a
 * refused address, fails the intervention. The receiver gets `Idempotency-Key: int_…:notify` to
 * drop a repeat: a crash after its 2xx and before our write sends it once more.
 */
async function performNotify(deps: ApplyDeps, prepared: PreparedApply): Promise<PerformedAction> {
  const action = prepared.policy.definition.action as Extract<PolicyAction, { kind: 'notify' }>;
  const options = deps.notify ?? {};
  const attempts = Math.max(1, options.attempts ?? 3);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const body = JSON.stringify(await notifyPayload(deps.database, prepared, deps.now));
  const headers = { 'idempotency-key': `${prepared.interventionId}:notify`, 'user-agent': 'churn-retention-notify' };
  const url = new URL(action.url);
  let lastError: unknown;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const response = await postJson(url, body, headers, options);
      if (response.status >= 200 && response.status < 300) {
        return { interventionId: prepared.interventionId, params: { url: action.url, status: response.status, attempts: attempt }, requestIds: [], intervalMonths: 1, recovered: false };
      }
      if (response.status >= 500 || response.status === 408 || response.status === 429) {
        lastError = new Error(`${action.url} answered ${response.status}: ${response.body}`);
      } else {
        throw new NotifyRejected(`${action.url} answered ${response.status}: ${response.body}`);
      }
    } catch (err) {
      if (err instanceof NotifyRefused) return fail(deps.database, 'notify_refused', prepared.interventionId, err.message);
      if (err instanceof NotifyRejected) return fail(deps.database, 'notify_rejected', prepared.interventionId, err.message);
      lastError = err;
    }
    if (attempt < attempts) await sleep((options.backoffMs ?? 500) * 2 ** (attempt - 1));
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
