import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { eq, sql } from 'drizzle-orm';
import Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { interventions, policies } from '../../src/db/schema/index.js';
import { DAY } from '../../src/lib/clock.js';
import { newId } from '../../src/lib/ids.js';
import { policyDefinitionSchema, type PolicyAction, type PolicyInput } from '../../src/services/policies/definition.js';
import {
  applyIntervention,
  ensureOfferCoupon,
  PermanentApplyError,
  performStripeAction,
  prepareApply,
  type PreparedApply,
} from '../../src/services/retention/apply-intervention.js';
import { reserveBudget } from '../../src/services/retention/budget.js';
import { offerCost } from '../../src/services/retention/costs.js';
import { createStripeSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { retentionCouponId } from '../../src/stripe/retention-actions.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';

const NOW = 1_780_000_000;
const API_KEY = 'sk_test_apply_intervention';
const CONNECTED = 'acct_1ApplyConnected';
const MONTH = '2026-05';

/** Every request the sandbox answered, seen from in front of it (the sandbox itself stays as it is). */
interface SeenRequest {
  method: string;
  path: string;
  account: string | null;
  idempotencyKey: string | null;
  status: number;
  body: string;
  replayed: boolean;
}

describeEachDb('applyIntervention against the local Stripe API', (kind) => {
  let database: Database;
  let sandbox: StripeSandbox;
  let front: ReturnType<typeof serve>;
  let apiBase: string;
  let stripe: Stripe;
  const seen: SeenRequest[] = [];
  const pool = new Map<string, Stripe.Subscription[]>();
  let decisions = 0;

  beforeAll(async () => {
    database = await createTestDatabase(kind, { poolSize: 4 });
    sandbox = createStripeSandbox({ apiKey: API_KEY, now: NOW, accounts: [CONNECTED] });
    seedSampleAccount(sandbox.store, { customers: 80, seed: 11 });
    seedSampleAccount(sandbox.store, { customers: 20, seed: 12, account: CONNECTED });
    for (const account of ['platform', CONNECTED]) {
      const subs = sandbox.store
        .listObjects<Stripe.Subscription>(account === 'platform' ? undefined : account, 'subscription')
        .filter((s) => s.status === 'active' && !s.cancel_at_period_end);
      pool.set(account, subs);
    }
    front = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const server = serve(
        {
          fetch: async (request: Request) => {
            const body = request.method === 'POST' ? await request.clone().text() : '';
            const response = await sandbox.app.fetch(request);
            const url = new URL(request.url);
            seen.push({
              method: request.method,
              path: url.pathname,
              account: request.headers.get('stripe-account'),
              idempotencyKey: request.headers.get('idempotency-key'),
              status: response.status,
              body: decodeURIComponent(body),
              replayed: response.headers.get('idempotent-replayed') === 'true',
            });
            return response;
          },
          port: 0,
          hostname: '127.0.0.1',
        },
        () => resolve(server),
      );
    });
    apiBase = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
    stripe = createStripeClient({ secretKey: API_KEY, apiBase, maxNetworkRetries: 2 });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => {
      (front as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
      front.close(() => resolve());
    });
    await database.close();
  });

  beforeEach(() => {
    sandbox.faults.clear();
  });

  function take(account = 'platform'): Stripe.Subscription {
    const sub = pool.get(account)!.shift();
    if (!sub) throw new Error(`no live subscription left in ${account}`);
    return sub;
  }

  function storeAccount(account: string): string | undefined {
    return account === 'platform' ? undefined : account;
  }

  function subscriptionNow(sub: Stripe.Subscription, account = 'platform'): Stripe.Subscription {
    return sandbox.store.getObject<Stripe.Subscription>(storeAccount(account), 'subscription', sub.id)!;
  }

  /** Events API requests made the sandbox emit about this subscription or its discounts (not the seeded history). */
  function eventsFor(sub: Stripe.Subscription, type: string, account = 'platform'): Stripe.Event[] {
    return sandbox.store.listEvents(storeAccount(account)).filter((e) => {
      if (e.type !== type || !e.request?.id) return false;
      const object = e.data.object as { id?: string; subscription?: string | null };
      return object.id === sub.id || object.subscription === sub.id;
    });
  }

  function requestsFor(sub: Stripe.Subscription, method?: string): SeenRequest[] {
    return seen.filter((r) => r.path === `/v1/subscriptions/${sub.id}` && (method === undefined || r.method === method));
  }

  function mrrOf(sub: Stripe.Subscription): number {
    return sub.items.data[0]!.price.unit_amount ?? 0;
  }

  async function insertPolicy(action: PolicyAction, extra: Partial<PolicyInput> = {}) {
    const id = newId('pol');
    const definition = policyDefinitionSchema.parse({
      name: `apply test ${id}`,
      mode: 'live',
      targeting: { kind: 'threshold', minProbability: 0.2 },
      action,
      budget: { monthlyAmount: 1_000_000, currency: 'usd' },
      ...extra,
    });
    await database.db.insert(policies).values({ id, version: 1, name: definition.name, definition, createdBy: 'test' });
    return { id, version: 1, definition };
  }

  async function insertIntervention(
    policy: Awaited<ReturnType<typeof insertPolicy>>,
    sub: { id: string; customer: string | { id: string } } | null,
    options: { account?: string; status?: string; mrr?: number; customerId?: string } = {},
  ) {
    const id = newId('int');
    const mrr = options.mrr ?? 4900;
    const expectedCost = offerCost(policy.definition.action, { mrr, currency: 'usd', intervalMonths: 1 });
    const status = options.status ?? 'decided';
    await database.db.insert(interventions).values({
      id,
      account: options.account ?? 'platform',
      customerId: options.customerId ?? (sub ? (typeof sub.customer === 'string' ? sub.customer : sub.customer.id) : 'cus_none'),
      subscriptionId: sub?.id ?? null,
      policyId: policy.id,
      policyVersion: policy.version,
      // one decision per customer and time (the table's unique key)
      decidedAt: NOW - 60 - decisions++,
      arm: status === 'holdout' ? 'holdout' : 'treatment',
      action: policy.definition.action.kind,
      status,
      probability: 0.4,
      band: 'high',
      mrr,
      currency: 'usd',
      expectedCost: status === 'decided' ? expectedCost : 0,
      budgetMonth: MONTH,
    });
    if (status === 'decided') {
      expect(await reserveBudget(database, { policyId: policy.id, month: MONTH, currency: 'usd', limitAmount: 1_000_000 }, expectedCost)).toBe(true);
    }
    return { id, expectedCost };
  }

  async function row(id: string) {
    const [r] = await database.db.select().from(interventions).where(eq(interventions.id, id));
    return r!;
  }

  async function reserved(policyId: string): Promise<number> {
    const rows = await database.query<{ reserved: string | number }>(sql`select reserved from policy_budgets where policy_id = ${policyId} and month = ${MONTH}`);
    return Number(rows[0]?.reserved ?? 0);
  }

  const deps = (client: Stripe = stripe) => ({ database, stripe: client, now: NOW });
  const couponAction: PolicyAction = { kind: 'coupon', percentOff: 20, duration: 'repeating', durationInMonths: 3 };

  it('applies a coupon once: one discount, the coupon named after the policy, the row applied with its cost and request ids', async () => {
    const sub = take();
    const policy = await insertPolicy(couponAction);
    const { id } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });

    const result = await applyIntervention({ ...deps(), interventionId: id });
    expect(result.outcome).toBe('applied');

    const couponId = retentionCouponId(policy);
    expect(couponId).toBe(`churn_${policy.id}_v1`);
    const coupon = sandbox.store.getObject<Stripe.Coupon>(undefined, 'coupon', couponId)!;
    expect(coupon).toMatchObject({ percent_off: 20, duration: 'repeating', duration_in_months: 3, times_redeemed: 1 });
    expect(coupon.metadata).toMatchObject({ churn_policy_id: policy.id, churn_policy_version: '1' });
    const couponCreate = seen.find((r) => r.path === '/v1/coupons' && r.body.includes(couponId))!;
    expect(couponCreate.idempotencyKey).toBe(`churn:coupon:${policy.id}:v1`);

    const after = subscriptionNow(sub);
    expect(after.discounts).toHaveLength(1);
    expect(after.metadata).toMatchObject({ churn_intervention: id, churn_policy: `${policy.id}:v1` });
    expect(eventsFor(sub, 'customer.discount.created')).toHaveLength(1);
    const update = requestsFor(sub, 'POST');
    expect(update).toHaveLength(1);
    expect(update[0]!.idempotencyKey).toBe(`${id}:apply`);
    // The removed top-level `coupon` parameter is never sent.
    expect(update[0]!.body).not.toMatch(/(^|&)coupon=/);
    expect(update[0]!.body).toContain(`discounts[0][coupon]=${couponId}`);

    const stored = await row(id);
    expect(stored.status).toBe('applied');
    expect(stored.appliedAt).toBe(NOW);
    expect(stored.cost).toBe(offerCost(couponAction, { mrr: mrrOf(sub), currency: 'usd', intervalMonths: 1 }));
    expect(stored.cost).toBe(Math.ceil(mrrOf(sub) * 3 * 0.2));
    expect(stored.params).toMatchObject({ couponId, discountId: after.discounts[0], keptDiscountIds: [] });
    expect(stored.params).not.toHaveProperty('plan');
    expect(stored.stripeRequestIds.length).toBeGreaterThanOrEqual(3);
    for (const requestId of stored.stripeRequestIds) expect(requestId).toMatch(/^req_/);
    expect(stored.error).toBeNull();
  });

  it('a duplicate event applies nothing twice: a re-run is a no-op without a single Stripe request, and two at once give one discount', async () => {
    const sub = take();
    const policy = await insertPolicy(couponAction);
    const { id } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
    await applyIntervention({ ...deps(), interventionId: id });
    const before = seen.length;
    const again = await applyIntervention({ ...deps(), interventionId: id });
    expect(again.outcome).toBe('unchanged');
    expect(again.intervention.status).toBe('applied');
    expect(seen.length).toBe(before);

    const other = take();
    const second = await insertIntervention(policy, other, { mrr: mrrOf(other) });
    const [a, b] = await Promise.all([applyIntervention({ ...deps(), interventionId: second.id }), applyIntervention({ ...deps(), interventionId: second.id })]);
    expect([a.intervention.status, b.intervention.status]).toEqual(['applied', 'applied']);
    expect(subscriptionNow(other).discounts).toHaveLength(1);
    expect(eventsFor(other, 'customer.discount.created')).toHaveLength(1);
    expect(eventsFor(other, 'customer.subscription.updated')).toHaveLength(1);
    // One coupon, redeemed once per subscription.
    expect(sandbox.store.getObject<Stripe.Coupon>(undefined, 'coupon', retentionCouponId(policy))!.times_redeemed).toBe(2);
  });

  it('retries after an injected 500 or 429 (SDK retries with the same key): one discount', async () => {
    const policy = await insertPolicy(couponAction);
    for (const status of [500, 429] as const) {
      const sub = take();
      const { id } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
      sandbox.faults.inject({ status, method: 'POST', pathPrefix: `/v1/subscriptions/${sub.id}`, count: 1 });
      const result = await applyIntervention({ ...deps(), interventionId: id });
      expect(result.intervention.status).toBe('applied');
      const posts = requestsFor(sub, 'POST');
      expect(posts.map((p) => p.status)).toEqual([status, 200]);
      expect(new Set(posts.map((p) => p.idempotencyKey))).toEqual(new Set([`${id}:apply`]));
      expect(subscriptionNow(sub).discounts).toHaveLength(1);
      expect(eventsFor(sub, 'customer.discount.created')).toHaveLength(1);
    }
  });

  it('a 5xx or 429 that outlasts the SDK retries leaves the row applying and rethrows; the next attempt applies it once', async () => {
    const noRetries = createStripeClient({ secretKey: API_KEY, apiBase, maxNetworkRetries: 0 });
    const policy = await insertPolicy(couponAction);
    for (const status of [503, 429] as const) {
      const sub = take();
      const { id, expectedCost } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
      sandbox.faults.inject({ status, method: 'POST', pathPrefix: `/v1/subscriptions/${sub.id}`, count: 1 });
      const error = await applyIntervention({ ...deps(noRetries), interventionId: id }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Stripe.errors.StripeError);
      expect(error).not.toBeInstanceOf(PermanentApplyError);
      expect((await row(id)).status).toBe('applying');
      expect(await reserved(policy.id)).toBeGreaterThanOrEqual(expectedCost);
      const result = await applyIntervention({ ...deps(noRetries), interventionId: id });
      expect(result.outcome).toBe('applied');
      expect(subscriptionNow(sub).discounts).toHaveLength(1);
      expect(eventsFor(sub, 'customer.discount.created')).toHaveLength(1);
    }
  });

  it('a crash between the Stripe call and the database write is recovered from the subscription, with a new client, without calling again', async () => {
    const policy = await insertPolicy(couponAction);
    const sub = take();
    const { id } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
    // First run: Stripe applies the offer, then the process dies before recordApplied.
    const prepared = (await prepareApply({ database }, id)) as PreparedApply;
    expect(prepared.kind).toBe('ready');
    const coupon = await ensureOfferCoupon(deps(), prepared);
    const performed = await performStripeAction(deps(), prepared, coupon);
    expect(performed.recovered).toBe(false);
    expect((await row(id)).status).toBe('applying');
    expect(subscriptionNow(sub).discounts).toHaveLength(1);

    // Second run: a new process, a new client; the subscription already says it carries the offer.
    const postsBefore = requestsFor(sub, 'POST').length;
    const fresh = createStripeClient({ secretKey: API_KEY, apiBase, maxNetworkRetries: 0 });
    const result = await applyIntervention({ ...deps(fresh), interventionId: id });
    expect(result.outcome).toBe('recovered');
    expect(requestsFor(sub, 'POST')).toHaveLength(postsBefore);
    expect(subscriptionNow(sub).discounts).toHaveLength(1);
    expect(eventsFor(sub, 'customer.discount.created')).toHaveLength(1);
    const stored = await row(id);
    expect(stored.status).toBe('applied');
    expect(stored.params).toMatchObject({ couponId: retentionCouponId(policy), discountId: subscriptionNow(sub).discounts[0], recovered: true });
    expect(stored.cost).toBeGreaterThan(0);
  });

  it('a crashed trial extension is not extended twice', async () => {
    const policy = await insertPolicy({ kind: 'trial_extension', days: 14 });
    const sub = take();
    const { id } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
    const prepared = (await prepareApply({ database }, id)) as PreparedApply;
    await performStripeAction(deps(), prepared);
    const trialEnd = subscriptionNow(sub).trial_end;
    expect(trialEnd).toBe(NOW + 14 * DAY);
    const fresh = createStripeClient({ secretKey: API_KEY, apiBase, maxNetworkRetries: 0 });
    const result = await applyIntervention({ ...deps(fresh), now: NOW + 3600, interventionId: id });
    expect(result.outcome).toBe('recovered');
    expect(subscriptionNow(sub).trial_end).toBe(trialEnd);
    expect(requestsFor(sub, 'POST')).toHaveLength(1);
    expect((await row(id)).params).toMatchObject({ days: 14, trialEnd, recovered: true });
  });

  it('a retry after a crash before Stripe answered sends the stored plan again, never a second different request', async () => {
    // The first attempt planned and stored its parameters, then its request failed at Stripe (500).
    const noRetries = createStripeClient({ secretKey: API_KEY, apiBase, maxNetworkRetries: 0 });
    const policy = await insertPolicy({ kind: 'pause', days: 30 });
    const sub = take();
    const { id } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
    sandbox.faults.inject({ status: 500, method: 'POST', pathPrefix: `/v1/subscriptions/${sub.id}`, count: 1 });
    await expect(applyIntervention({ ...deps(noRetries), interventionId: id })).rejects.toBeInstanceOf(Stripe.errors.StripeAPIError);
    // Retried an hour later: resumes_at is still the one planned first (same key, same parameters).
    await applyIntervention({ ...deps(noRetries), now: NOW + 3600, interventionId: id });
    const posts = requestsFor(sub, 'POST');
    expect(posts.map((p) => p.status)).toEqual([500, 200]);
    expect(posts[0]!.body).toBe(posts[1]!.body);
    expect(subscriptionNow(sub).pause_collection).toEqual({ behavior: 'void', resumes_at: NOW + 30 * DAY });
  });

  it('keeps the discounts already on the subscription', async () => {
    const sub = take();
    await stripe.coupons.create({ id: `LOYAL10_${sub.id}`, percent_off: 10, duration: 'forever' });
    const withLoyalty = await stripe.subscriptions.update(sub.id, { discounts: [{ coupon: `LOYAL10_${sub.id}` }] });
    const loyaltyDiscount = withLoyalty.discounts[0] as string;
    const policy = await insertPolicy(couponAction);
    const { id } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
    await applyIntervention({ ...deps(), interventionId: id });
    const after = subscriptionNow(sub);
    expect(after.discounts).toHaveLength(2);
    expect(after.discounts[0]).toBe(loyaltyDiscount);
    expect(eventsFor(sub, 'customer.discount.deleted')).toHaveLength(0);
    expect(requestsFor(sub, 'POST').at(-1)!.body).toContain(`discounts[0][discount]=${loyaltyDiscount}`);
    expect((await row(id)).params).toMatchObject({ keptDiscountIds: [loyaltyDiscount] });
  });

  it('acts inside the connected account: the coupon and the discount live there, every call carries Stripe-Account', async () => {
    const sub = take(CONNECTED);
    const policy = await insertPolicy(couponAction);
    const { id } = await insertIntervention(policy, sub, { account: CONNECTED, mrr: mrrOf(sub) });
    const start = seen.length;
    const result = await applyIntervention({ ...deps(), interventionId: id });
    expect(result.intervention.status).toBe('applied');
    const couponId = retentionCouponId(policy);
    expect(sandbox.store.getObject(CONNECTED, 'coupon', couponId)).toBeDefined();
    expect(sandbox.store.getObject(undefined, 'coupon', couponId)).toBeUndefined();
    expect(subscriptionNow(sub, CONNECTED).discounts).toHaveLength(1);
    expect(eventsFor(sub, 'customer.discount.created', CONNECTED)).toHaveLength(1);
    const calls = seen.slice(start);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.account).toBe(CONNECTED);
  });

  it('a canceled subscription: failed with a clear error, budget released, PermanentApplyError, no update sent', async () => {
    const sub = take();
    await stripe.subscriptions.cancel(sub.id);
    const policy = await insertPolicy(couponAction);
    const { id, expectedCost } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
    expect(await reserved(policy.id)).toBe(expectedCost);
    const error = await applyIntervention({ ...deps(), interventionId: id }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentApplyError);
    expect((error as PermanentApplyError).code).toBe('subscription_ended');
    const stored = await row(id);
    expect(stored.status).toBe('failed');
    expect(stored.error).toMatch(/subscription_ended: subscription sub_\w+ is canceled/);
    expect(await reserved(policy.id)).toBe(0);
    expect(requestsFor(sub, 'POST')).toHaveLength(0);
    // Failed is final: running it again changes nothing and releases nothing twice.
    const again = await applyIntervention({ ...deps(), interventionId: id });
    expect(again.outcome).toBe('unchanged');
    expect(await reserved(policy.id)).toBe(0);
  });

  it('fails for good: a missing subscription, one set to cancel (unless the policy includes cancelling), a coupon id taken by other terms', async () => {
    const policy = await insertPolicy(couponAction);
    const missing = await insertIntervention(policy, { id: 'sub_doesnotexist', customer: 'cus_x' });
    await expect(applyIntervention({ ...deps(), interventionId: missing.id })).rejects.toMatchObject({ name: 'PermanentApplyError', code: 'subscription_missing' });
    expect((await row(missing.id)).status).toBe('failed');

    const cancelling = take();
    await stripe.subscriptions.update(cancelling.id, { cancel_at_period_end: true });
    const refused = await insertIntervention(policy, cancelling);
    await expect(applyIntervention({ ...deps(), interventionId: refused.id })).rejects.toMatchObject({ code: 'subscription_cancelling' });
    expect(subscriptionNow(cancelling).discounts).toHaveLength(0);

    const inclusive = await insertPolicy(couponAction, { eligibility: { includeCancelling: true } });
    const allowed = await insertIntervention(inclusive, cancelling);
    expect((await applyIntervention({ ...deps(), interventionId: allowed.id })).intervention.status).toBe('applied');
    expect(subscriptionNow(cancelling).discounts).toHaveLength(1);

    const squatted = await insertPolicy(couponAction);
    await stripe.coupons.create({ id: retentionCouponId(squatted), percent_off: 90, duration: 'forever' });
    const sub = take();
    const conflict = await insertIntervention(squatted, sub);
    await expect(applyIntervention({ ...deps(), interventionId: conflict.id })).rejects.toMatchObject({ code: 'coupon_conflict' });
    expect(subscriptionNow(sub).discounts).toHaveLength(0);
    expect(await reserved(squatted.id)).toBe(0);
    expect(await reserved(policy.id)).toBe(0);
  });

  it('extends a trial from the later of now and the current trial end, with proration_behavior none', async () => {
    const policy = await insertPolicy({ kind: 'trial_extension', days: 21 });
    const active = take();
    const first = await insertIntervention(policy, active, { mrr: mrrOf(active) });
    await applyIntervention({ ...deps(), interventionId: first.id });
    expect(subscriptionNow(active)).toMatchObject({ status: 'trialing', trial_end: NOW + 21 * DAY });
    const body = requestsFor(active, 'POST')[0]!.body;
    expect(body).toContain('proration_behavior=none');
    expect(body).toContain(`trial_end=${NOW + 21 * DAY}`);
    const stored = await row(first.id);
    expect(stored.params).toMatchObject({ days: 21, trialEnd: NOW + 21 * DAY, previousTrialEnd: active.trial_end ?? null, prorationBehavior: 'none' });
    expect(stored.cost).toBe(Math.ceil((mrrOf(active) * 21) / 30.4375));

    // Already in a trial that ends later: the extension is added to its end.
    const trialing = take();
    const currentEnd = NOW + 5 * DAY;
    await stripe.subscriptions.update(trialing.id, { trial_end: currentEnd, proration_behavior: 'none' });
    const second = await insertIntervention(policy, trialing);
    await applyIntervention({ ...deps(), interventionId: second.id });
    expect(subscriptionNow(trialing).trial_end).toBe(currentEnd + 21 * DAY);
    expect((await row(second.id)).params).toMatchObject({ previousTrialEnd: currentEnd, trialEnd: currentEnd + 21 * DAY });
  });

  it('pauses collection with behavior void until now + days; the subscription stays active', async () => {
    const policy = await insertPolicy({ kind: 'pause', days: 45 });
    const sub = take();
    const { id } = await insertIntervention(policy, sub, { mrr: mrrOf(sub) });
    await applyIntervention({ ...deps(), interventionId: id });
    const after = subscriptionNow(sub);
    expect(after.status).toBe('active');
    expect(after.pause_collection).toEqual({ behavior: 'void', resumes_at: NOW + 45 * DAY });
    expect(after.metadata.churn_intervention).toBe(id);
    expect((await row(id)).params).toMatchObject({ days: 45, behavior: 'void', resumesAt: NOW + 45 * DAY });
    expect(eventsFor(sub, 'customer.subscription.updated')).toHaveLength(1);
  });

  it('holdout and dry-run rows are returned unchanged and call nothing', async () => {
    const policy = await insertPolicy(couponAction);
    const sub = take();
    const start = seen.length;
    for (const status of ['holdout', 'dry_run']) {
      const { id } = await insertIntervention(policy, sub, { status });
      const result = await applyIntervention({ ...deps(), interventionId: id });
      expect(result).toMatchObject({ outcome: 'unchanged', intervention: { status } });
    }
    expect(seen.length).toBe(start);
    // An unknown id is refused for good rather than retried forever.
    await expect(applyIntervention({ ...deps(), interventionId: 'int_unknown' })).rejects.toMatchObject({ code: 'intervention_missing' });
  });

  it('notify: posts the decision as JSON (retrying a 503), no Stripe call, cost 0; a loopback URL is refused unless allowed', async () => {
    const received: { body: Record<string, unknown>; key: string | undefined }[] = [];
    let failures = 1;
    const receiver: Server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failures-- > 0) {
          res.writeHead(503).end('busy');
          return;
        }
        received.push({ body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>, key: req.headers['idempotency-key'] as string | undefined });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks/churn`;
      const policy = await insertPolicy({ kind: 'notify', url });
      const sub = take();
      const start = seen.length;
      const { id } = await insertIntervention(policy, sub);
      const sleeps: number[] = [];
      const result = await applyIntervention({ ...deps(), notify: { allowPrivateAddresses: true, sleep: async (ms) => void sleeps.push(ms) }, interventionId: id });
      expect(result.outcome).toBe('applied');
      expect(sleeps).toHaveLength(1);
      expect(received).toHaveLength(1);
      expect(received[0]!.key).toBe(`${id}:notify`);
      expect(received[0]!.body).toMatchObject({
        type: 'churn.intervention.decided',
        intervention: { id, customer: sub.customer, subscription: sub.id, probability: expect.closeTo(0.4, 5), band: 'high' },
        policy: { id: policy.id, version: 1 },
      });
      expect(seen.length).toBe(start);
      const stored = await row(id);
      expect(stored).toMatchObject({ status: 'applied', cost: 0 });
      expect(stored.params).toMatchObject({ url, status: 204, attempts: 2 });

      const refused = await insertIntervention(policy, take());
      await expect(applyIntervention({ ...deps(), interventionId: refused.id })).rejects.toMatchObject({ code: 'notify_refused' });
      expect((await row(refused.id)).error).toMatch(/private or loopback/);
      expect(received).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => receiver.close(() => resolve()));
    }
  });
});
