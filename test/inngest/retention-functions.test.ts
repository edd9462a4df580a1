import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InngestTestEngine } from '@inngest/test';
import { sql } from 'drizzle-orm';
import { Inngest, type InngestFunction } from 'inngest';
import type Stripe from 'stripe';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { createApplyIntervention, APPLY_RETRIES, APPLY_THROTTLE } from '../../src/inngest/functions/apply-intervention.js';
import { createDecideRetentionDaily, DECIDE_RETENTION_SCHEDULE } from '../../src/inngest/functions/decide-retention-daily.js';
import { createRescoreOnRiskEvent, scoreRequestIdFor } from '../../src/inngest/functions/rescore-on-risk-event.js';
import { createRetrainModel, RETRAIN_SCHEDULE } from '../../src/inngest/functions/retrain-model.js';
import { createScoreAllDaily, SCORE_ALL_SCHEDULE } from '../../src/inngest/functions/score-all-daily.js';
import { createScoreCustomerBatch } from '../../src/inngest/functions/score-customer-batch.js';
import { createScoreCustomer } from '../../src/inngest/functions/score-customer.js';
import { createTrackOutcomes, TRACK_OUTCOMES_SCHEDULE } from '../../src/inngest/functions/track-outcomes.js';
import type { InngestDeps } from '../../src/inngest/deps.js';
import { createInngestFunctions } from '../../src/inngest/index.js';
import { customerReference } from '../../src/inngest/risk-events.js';
import { planCustomerSlices } from '../../src/inngest/score-scope.js';
import { DAY } from '../../src/lib/clock.js';
import { initBackend } from '../../src/ml/backend.js';
import { featureSet } from '../../src/ml/features.js';
import { ModelRegistry } from '../../src/ml/registry.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { createPolicy } from '../../src/services/policies/store.js';
import { trainChurnModel } from '../../src/services/training/train-model.js';
import { createStripeSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { loadWorld } from '../../src/simulator/sandbox/world-link.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { stripeEvent, stripeObject } from '../fixtures/stripe-events.js';
import { createTestDatabase } from '../helpers/db.js';
import { silentLogger, startInngestTarget, type InngestTarget } from '../integration/relay-target.js';

/**
 * The retention workflow's Inngest functions on a real embedded database holding a small simulated
 * Stripe account, the real Stripe SDK against the local Stripe-compatible API that holds the same
 * account, a champion trained (briefly) on that account, and the real Inngest SDK sending its
 * events over HTTP to a stand-in for Inngest's event API.
 */

let database: Database;
let sandbox: StripeSandbox;
let closeSandbox: () => Promise<void>;
let stripe: Stripe;
let target: InngestTarget;
let client: Inngest;
let modelDir: string;
let registry: ModelRegistry;
let end: number;
let deps: InngestDeps;
let storedEvents: StripeEventEnvelope[];

const count = async (query: ReturnType<typeof sql>) => Number((await database.query<{ n: number }>(query))[0]!.n);
const received = (name: string) => target.received.filter((e) => e.name === name);
const execute = (fn: InngestFunction.Like, events: [{ name: string; data: Record<string, unknown>; id?: string }]) =>
  // a fresh engine each time: one engine memoises step results as Inngest does within one run
  new InngestTestEngine({ function: fn }).execute({ events });
const cronEvent = (cron: string) => [{ name: 'inngest/scheduled.timer', data: { cron } }] as [{ name: string; data: Record<string, unknown> }];

beforeAll(async () => {
  await initBackend();
  sandbox = createStripeSandbox();
  const world = await loadWorld(sandbox.store, { customers: 160, months: 6, seed: 11, accounts: 2 });
  end = world.end;
  const listening = await sandbox.listen(0);
  closeSandbox = listening.close;
  stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: listening.url, maxNetworkRetries: 0 });
  database = await createTestDatabase('pglite');
  storedEvents = sandbox.store.accounts().flatMap((a) => sandbox.store.listEvents(a)) as unknown as StripeEventEnvelope[];
  await ingestEvents(database, storedEvents, { source: 'ingest' });
  modelDir = await mkdtemp(join(tmpdir(), 'churn-inngest-models-'));
  const trained = await trainChurnModel(database, { modelDir, now: new Date(end * 1000), seed: 1, modelOptions: { maxEpochs: 2 }, split: { minTrainPositives: 3 } });
  if (!trained.promoted) throw new Error(`the fixture needs a champion: ${trained.decision.reason}`);
  registry = new ModelRegistry({ db: database.db, modelDir, featureSet: featureSet() });
  target = await startInngestTarget();
  client = new Inngest({ id: 'churn', eventKey: 'test-event-key', baseUrl: target.url, isDev: false, logger: silentLogger });
  deps = { database, now: () => end, client, stripe, champion: () => registry.champion(), refreshChampion: () => registry.refresh(), modelDir };
}, 120_000);

afterAll(async () => {
  await target?.close();
  await closeSandbox?.();
  await database?.close();
  if (modelDir) await rm(modelDir, { recursive: true, force: true });
});

beforeEach(() => {
  target.received.length = 0;
});

/** Customers with a live subscription now, per the projections. */
async function liveCustomers(): Promise<Array<{ account: string; customer_id: string }>> {
  return database.query(
    sql`select distinct account, customer_id from subscriptions where status in ('trialing', 'active', 'past_due', 'unpaid', 'paused', 'incomplete') order by account, customer_id`,
  );
}

describe('function configuration (so flow control cannot silently disappear)', () => {
  it('declares triggers, debounce, concurrency, throttle, retries and schedules', () => {
    const fns = createInngestFunctions(deps);
    const byId = new Map(fns.map((f) => [f.id(), f.opts as unknown as Record<string, unknown>]));
    expect([...byId.keys()]).toEqual([
      'project-stripe-event',
      'reconcile-stripe-events',
      'rescore-on-risk-event',
      'score-customer',
      'score-all-daily',
      'score-customer-batch',
      'decide-retention-daily',
      'apply-intervention',
      'track-outcomes',
      'retrain-model',
      'check-alerts',
    ]);
    const events = (id: string) => (byId.get(id)!.triggers as Array<{ event?: string; cron?: string }>).map((t) => t.event ?? `cron:${t.cron}`);
    expect(events('rescore-on-risk-event')).toEqual([
      'stripe/invoice.payment_failed',
      'stripe/customer.subscription.updated',
      'stripe/payment_method.*',
      'stripe/customer.source.expiring',
      'stripe/charge.dispute.created',
      'stripe/charge.refunded',
      'stripe/refund.created',
    ]);
    // Inngest accepts at most 10 triggers per function
    expect(events('rescore-on-risk-event').length).toBeLessThanOrEqual(10);
    expect(events('score-customer')).toEqual(['churn/customer.score.requested']);
    expect(byId.get('score-customer')).toMatchObject({
      debounce: { key: 'event.data.account + "-" + event.data.customerId', period: '20s', timeout: '50s' },
      concurrency: { limit: 5, key: 'event.data.account' },
    });
    expect(events('score-all-daily')).toEqual([`cron:${SCORE_ALL_SCHEDULE}`]);
    expect(SCORE_ALL_SCHEDULE).toBe('0 2 * * *');
    expect(events('score-customer-batch')).toEqual(['churn/customers.score.batch.requested']);
    expect(byId.get('score-customer-batch')).toMatchObject({ concurrency: { limit: 2, key: 'event.data.account' } });
    // the decision runs an hour after the scoring fan-out, outcomes after the decision
    expect(events('decide-retention-daily')).toEqual([`cron:${DECIDE_RETENTION_SCHEDULE}`]);
    expect(DECIDE_RETENTION_SCHEDULE).toBe('0 3 * * *');
    expect(byId.get('decide-retention-daily')).toMatchObject({ concurrency: { limit: 1 } });
    expect(events('apply-intervention')).toEqual(['churn/intervention.decided']);
    expect(byId.get('apply-intervention')).toMatchObject({ throttle: { limit: 20, period: '1s', key: 'event.data.account' }, retries: 5 });
    expect(APPLY_THROTTLE).toEqual({ limit: 20, period: '1s', key: 'event.data.account' });
    expect(APPLY_RETRIES).toBe(5);
    expect(events('track-outcomes')).toEqual([`cron:${TRACK_OUTCOMES_SCHEDULE}`]);
    expect(TRACK_OUTCOMES_SCHEDULE).toBe('30 4 * * *');
    expect(events('retrain-model')).toEqual([`cron:${RETRAIN_SCHEDULE}`, 'churn/model.retrain.requested']);
    expect(RETRAIN_SCHEDULE).toBe('0 5 * * 0');
    expect(byId.get('retrain-model')).toMatchObject({ concurrency: { limit: 1 } });
  });
});

describe('rescore-on-risk-event', () => {
  it('finds the customer from the stored Stripe event and requests one score, id derived from the Stripe event', async () => {
    const failed = storedEvents.find((e) => e.type === 'invoice.payment_failed')!;
    expect(failed).toBeDefined();
    const data = { id: failed.id, account: failed.account ?? 'platform', type: failed.type, created: failed.created };
    const fn = createRescoreOnRiskEvent(deps);
    const { result, error } = await execute(fn, [{ name: `stripe/${failed.type}`, data }]);
    expect(error).toBeUndefined();
    const customer = failed.data.object.customer as string;
    expect(result).toMatchObject({ customerId: customer, account: data.account });
    expect(received('churn/customer.score.requested')).toEqual([
      expect.objectContaining({ id: scoreRequestIdFor(failed.id), data: { account: data.account, customerId: customer, reason: 'stripe_event' } }),
    ]);
    // The same Stripe event delivered again asks with the same Inngest id, which Inngest drops.
    await execute(fn, [{ name: `stripe/${failed.type}`, data }]);
    expect(received('churn/customer.score.requested').map((e) => e.id)).toEqual([scoreRequestIdFor(failed.id), scoreRequestIdFor(failed.id)]);
  });

  it('reaches the customer through the charge for a refund or a dispute', async () => {
    const viaCharge = storedEvents.find((e) => e.type === 'refund.created' || e.type === 'charge.dispute.created');
    expect(viaCharge, 'the simulated account has refunds or disputes').toBeDefined();
    const chargeId = viaCharge!.data.object.charge as string;
    const [charge] = await database.query<{ customer_id: string }>(sql`select customer_id from charges where id = ${chargeId}`);
    const data = { id: viaCharge!.id, account: viaCharge!.account ?? 'platform', type: viaCharge!.type, created: viaCharge!.created };
    const { result } = await execute(createRescoreOnRiskEvent(deps), [{ name: `stripe/${viaCharge!.type}`, data }]);
    expect(result).toMatchObject({ customerId: charge!.customer_id });
    expect(received('churn/customer.score.requested')[0]!.data).toMatchObject({ customerId: charge!.customer_id });
  });

  it('refuses, without retrying, an event that is not in the store', async () => {
    const { error } = await execute(createRescoreOnRiskEvent(deps), [
      { name: 'stripe/invoice.payment_failed', data: { id: 'evt_neverstored', account: 'platform', type: 'invoice.payment_failed', created: end } },
    ]);
    expect((error as { name?: string }).name).toBe('NonRetriableError');
    expect(target.received).toHaveLength(0);
  });

  it('reads the customer from Stripe object shapes that do not carry it the same way', () => {
    const at = { created: end };
    // customer.source.expiring carries the card (Stripe's card object: id card_…, its customer)
    const card = { id: 'card_expiring1', object: 'card', brand: 'Visa', exp_month: 12, exp_year: 2026, last4: '4242', customer: 'cus_cardowner' };
    expect(customerReference(stripeEvent('customer.source.expiring', card, at))).toEqual({ kind: 'customer', customerId: 'cus_cardowner' });
    const detached = stripeObject('payment_method', { id: 'pm_detached1', customer: null });
    expect(customerReference(stripeEvent('payment_method.detached', detached, { ...at, previous: { customer: 'cus_formerowner' } }))).toEqual({
      kind: 'customer',
      customerId: 'cus_formerowner',
    });
    expect(customerReference(stripeEvent('payment_method.updated', { ...detached, customer: null }, at))).toEqual({ kind: 'via', table: 'payment_methods', id: 'pm_detached1' });
    const refund = stripeObject('refund', { charge: 'ch_refunded1' });
    delete refund.customer;
    expect(customerReference(stripeEvent('refund.created', refund, at))).toEqual({ kind: 'via', table: 'charges', id: 'ch_refunded1' });
    expect(customerReference(stripeEvent('charge.refunded', stripeObject('charge', { customer: { id: 'cus_expanded', object: 'customer' } }), at))).toEqual({
      kind: 'customer',
      customerId: 'cus_expanded',
    });
  });
});

describe('score-customer', () => {
  beforeEach(async () => {
    await database.query(sql`truncate scores`);
  });

  it('scores that one customer at the requested time with the champion and stores one row', async () => {
    const [one] = await liveCustomers();
    const { result, error } = await execute(createScoreCustomer(deps), [
      { name: 'churn/customer.score.requested', data: { account: one!.account, customerId: one!.customer_id, asOf: end - DAY, reason: 'stripe_event' } },
    ]);
    expect(error).toBeUndefined();
    const champion = await registry.champion();
    expect(result).toMatchObject({ account: one!.account, customerId: one!.customer_id, asOf: end - DAY, modelVersion: champion!.metadata.version });
    const rows = await database.query<{ account: string; customer_id: string; as_of: number; probability: number; model_version: string }>(
      sql`select account, customer_id, as_of, probability, model_version from scores`,
    );
    expect(rows).toEqual([
      { account: one!.account, customer_id: one!.customer_id, as_of: end - DAY, probability: expect.closeTo((result as { probability: number }).probability, 5), model_version: champion!.metadata.version },
    ]);
  });

  it('scores at now when the request names no time, and skips a customer with nothing live', async () => {
    const [one] = await liveCustomers();
    const { result } = await execute(createScoreCustomer(deps), [{ name: 'churn/customer.score.requested', data: { account: one!.account, customerId: one!.customer_id } }]);
    expect(result).toMatchObject({ asOf: end });
    const gone = await execute(createScoreCustomer(deps), [{ name: 'churn/customer.score.requested', data: { account: one!.account, customerId: 'cus_nobodyhere' } }]);
    expect(gone.result).toMatchObject({ skipped: expect.stringContaining('no live subscription') });
    expect(await count(sql`select count(*)::int as n from scores`)).toBe(1);
  });

  it('reports itself skipped before any model exists', async () => {
    const [one] = await liveCustomers();
    const { result } = await execute(createScoreCustomer({ ...deps, champion: async () => null }), [
      { name: 'churn/customer.score.requested', data: { account: one!.account, customerId: one!.customer_id } },
    ]);
    expect(result).toMatchObject({ skipped: expect.stringContaining('no champion') });
    expect(await count(sql`select count(*)::int as n from scores`)).toBe(0);
  });
});

describe('score-all-daily and score-customer-batch', () => {
  beforeEach(async () => {
    await database.query(sql`truncate scores`);
  });

  it('fans out one event per slice of each account, and the slices together score every live customer once', async () => {
    const live = await liveCustomers();
    const accounts = [...new Set(live.map((c) => c.account))];
    expect(accounts).toHaveLength(2);
    const size = 25;
    const { result, error } = await execute(createScoreAllDaily({ ...deps, scoreBatchSize: size }), cronEvent(SCORE_ALL_SCHEDULE));
    expect(error).toBeUndefined();
    const batches = received('churn/customers.score.batch.requested');
    const perAccount = accounts.map((a) => Math.ceil(live.filter((c) => c.account === a).length / size));
    expect(batches).toHaveLength(perAccount[0]! + perAccount[1]!);
    expect(result).toEqual({ asOf: end, batches: batches.length, customers: live.length, accounts: 2 });
    for (const b of batches) {
      expect(b.data).toMatchObject({ asOf: end });
      expect((b.data as { planned: number }).planned).toBeLessThanOrEqual(size);
      expect(b.id).toBe(`score-batch-${(b.data as { account: string }).account}-${end}-${(b.data as { batch: number }).batch}`);
    }
    // each account's first slice is open below and its last open above
    for (const a of accounts) {
      const mine = batches.filter((b) => (b.data as { account: string }).account === a).map((b) => b.data as { afterCustomerId: string | null; throughCustomerId: string | null });
      expect(mine[0]!.afterCustomerId).toBeNull();
      expect(mine.at(-1)!.throughCustomerId).toBeNull();
      for (let i = 1; i < mine.length; i++) expect(mine[i]!.afterCustomerId).toBe(mine[i - 1]!.throughCustomerId);
    }

    let scored = 0;
    for (const b of batches) {
      const run = await execute(createScoreCustomerBatch(deps), [{ name: b.name, data: b.data as Record<string, unknown>, id: b.id }]);
      expect(run.error).toBeUndefined();
      scored += (run.result as { scored: number }).scored;
    }
    expect(scored).toBe(live.length);
    const rows = await database.query<{ account: string; customer_id: string }>(sql`select account, customer_id from scores where as_of = ${end} order by account, customer_id`);
    expect(rows).toEqual(live);
  });

  it('plans one slice per account at the default size', async () => {
    const slices = await planCustomerSlices(database, 2_000);
    expect(slices.map((s) => [s.afterCustomerId, s.throughCustomerId])).toEqual([
      [null, null],
      [null, null],
    ]);
  });
});

describe('decide-retention-daily, apply-intervention, track-outcomes', () => {
  let decided: Array<{ id?: string; name: string; data: Record<string, unknown> }>;

  beforeAll(async () => {
    await createPolicy(
      database,
      {
        name: 'Keep at-risk customers with 20 % off',
        mode: 'live',
        targeting: { kind: 'threshold', minProbability: 0.001 },
        action: { kind: 'coupon', percentOff: 20, duration: 'repeating', durationInMonths: 3 },
        eligibility: { cooldownDays: 0, skipIfDiscounted: false },
        budget: { monthlyAmount: 10_000_000, currency: 'usd' },
        holdoutPercent: 30,
      },
      'test',
    );
  });

  it('without a Stripe key decides as a dry run and asks nothing to be applied', async () => {
    const dry = { ...deps, stripe: undefined, now: () => end - 2 * DAY };
    const { result, error } = await execute(createDecideRetentionDaily(dry), cronEvent(DECIDE_RETENTION_SCHEDULE));
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ dryRun: true, emitted: 0 });
    expect((result as { recorded: number }).recorded).toBeGreaterThan(0);
    expect(await count(sql`select count(*)::int as n from interventions where decided_at = ${end - 2 * DAY} and status <> 'dry_run'`)).toBe(0);
    expect(target.received).toHaveLength(0);
  });

  it('records treated and holdout interventions and emits one event per live treatment, its id the intervention id', async () => {
    const { result, error } = await execute(createDecideRetentionDaily(deps), cronEvent(DECIDE_RETENTION_SCHEDULE));
    expect(error).toBeUndefined();
    const r = result as { dryRun: boolean; treated: number; holdout: number; emitted: number };
    expect(r.dryRun).toBe(false);
    expect(r.treated).toBeGreaterThan(1);
    expect(r.holdout).toBeGreaterThan(0);
    const rows = await database.query<{ id: string; account: string; customer_id: string; subscription_id: string; arm: string; status: string }>(
      sql`select id, account, customer_id, subscription_id, arm, status from interventions where decided_at = ${end} order by id`,
    );
    const treated = rows.filter((x) => x.arm === 'treatment');
    expect(treated.every((x) => x.status === 'decided')).toBe(true);
    expect(rows.filter((x) => x.arm === 'holdout').every((x) => x.status === 'holdout')).toBe(true);
    decided = received('churn/intervention.decided');
    expect(r.emitted).toBe(treated.length);
    expect(decided.map((e) => e.id)).toEqual(treated.map((x) => x.id));
    expect(decided[0]!.data).toEqual({
      interventionId: treated[0]!.id,
      account: treated[0]!.account,
      customerId: treated[0]!.customer_id,
      subscriptionId: treated[0]!.subscription_id,
      policyId: expect.stringMatching(/^pol_/),
      policyVersion: 1,
      treatment: 'coupon',
    });

    // Run again for the same day (a retried or duplicated cron): nothing new is recorded, and the
    // same ids are sent again, which Inngest drops as duplicates.
    target.received.length = 0;
    const again = await execute(createDecideRetentionDaily(deps), cronEvent(DECIDE_RETENTION_SCHEDULE));
    expect(again.result).toMatchObject({ recorded: 0, emitted: treated.length });
    expect(received('churn/intervention.decided').map((e) => e.id)).toEqual(treated.map((x) => x.id));
    expect(await count(sql`select count(*)::int as n from interventions where decided_at = ${end}`)).toBe(rows.length);
  });

  it('applies a decided coupon once through Stripe, each call its own step; the same event again applies nothing more', async () => {
    const event = decided[0]!;
    const data = event.data as { interventionId: string; account: string; subscriptionId: string };
    const fn = createApplyIntervention(deps);
    const { result, error, ctx } = await execute(fn, [{ name: event.name, data, id: event.id }]);
    expect(error).toBeUndefined();
    expect(result).toMatchObject({ interventionId: data.interventionId, outcome: 'applied', status: 'applied' });
    expect(ctx.step.run.mock.calls.map((c) => c[0])).toEqual(['prepare-apply', 'ensure-coupon', 'update-subscription', 'record-applied']);
    const scope = data.account === 'platform' ? {} : { stripeAccount: data.account };
    const subscription = await stripe.subscriptions.retrieve(data.subscriptionId, { expand: ['discounts'] }, scope);
    const coupons = (subscription.discounts ?? []).map((d) => (typeof d === 'string' ? d : typeof d.source?.coupon === 'string' ? d.source.coupon : d.source?.coupon?.id));
    expect(coupons.filter((c) => c?.startsWith('churn_'))).toHaveLength(1);
    const [row] = await database.query<{ status: string; stripe_request_ids: string[]; cost: number }>(
      sql`select status, stripe_request_ids, cost from interventions where id = ${data.interventionId}`,
    );
    expect(row!.status).toBe('applied');
    expect(row!.stripe_request_ids.length).toBeGreaterThan(0);
    const eventsBefore = sandbox.store.listEvents(data.account === 'platform' ? undefined : data.account).length;

    const again = await execute(fn, [{ name: event.name, data, id: event.id }]);
    expect(again.result).toMatchObject({ interventionId: data.interventionId, outcome: 'unchanged', status: 'applied' });
    expect(again.ctx.step.run.mock.calls.map((c) => c[0])).toEqual(['prepare-apply']);
    const afterwards = await stripe.subscriptions.retrieve(data.subscriptionId, { expand: ['discounts'] }, scope);
    expect(afterwards.discounts).toHaveLength((subscription.discounts ?? []).length);
    expect(sandbox.store.listEvents(data.account === 'platform' ? undefined : data.account).length).toBe(eventsBefore);
    const [same] = await database.query<{ stripe_request_ids: string[] }>(sql`select stripe_request_ids from interventions where id = ${data.interventionId}`);
    expect(same!.stripe_request_ids).toEqual(row!.stripe_request_ids);
  });

  it('ends an offer that can never be applied (the subscription was canceled meanwhile) as NonRetriableError', async () => {
    const event = decided[1]!;
    const data = event.data as { interventionId: string; account: string; subscriptionId: string };
    const scope = data.account === 'platform' ? {} : { stripeAccount: data.account };
    await stripe.subscriptions.cancel(data.subscriptionId, {}, scope);
    const { error } = await execute(createApplyIntervention(deps), [{ name: event.name, data, id: event.id }]);
    expect((error as { name?: string }).name).toBe('NonRetriableError');
    expect(String((error as { message?: string }).message)).toContain('subscription_ended');
    const [row] = await database.query<{ status: string; error: string }>(sql`select status, error from interventions where id = ${data.interventionId}`);
    expect(row).toMatchObject({ status: 'failed', error: expect.stringContaining('subscription_ended') });
  });

  it('refuses to apply without a Stripe client', async () => {
    const event = decided[2]!;
    const { error } = await execute(createApplyIntervention({ ...deps, stripe: undefined }), [{ name: event.name, data: event.data, id: event.id }]);
    expect((error as { name?: string }).name).toBe('NonRetriableError');
  });

  it('settles, once their horizon has passed, treated and holdout outcomes alike', async () => {
    const pending = await execute(createTrackOutcomes(deps), cronEvent(TRACK_OUTCOMES_SCHEDULE));
    expect(pending.result).toMatchObject({ settled: 0 });
    const due = await count(sql`select count(*)::int as n from interventions where status in ('applied', 'holdout', 'dry_run') and outcome is null`);
    expect(due).toBeGreaterThan(0);
    const later = { ...deps, now: () => end + 31 * DAY };
    const { result, error } = await execute(createTrackOutcomes(later), cronEvent(TRACK_OUTCOMES_SCHEDULE));
    expect(error).toBeUndefined();
    const settled = result as { settled: number; churned: number; stayed: number };
    expect(settled.settled).toBe(due);
    expect(settled.churned + settled.stayed).toBe(due);
    expect(await count(sql`select count(*)::int as n from interventions where arm = 'holdout' and outcome is not null`)).toBeGreaterThan(0);
    expect(await count(sql`select count(*)::int as n from interventions where status in ('applied', 'holdout', 'dry_run') and outcome is null`)).toBe(0);
    // settled outcomes never change: a second run settles nothing
    const again = await execute(createTrackOutcomes(later), cronEvent(TRACK_OUTCOMES_SCHEDULE));
    expect(again.result).toMatchObject({ settled: 0 });
  });
});

describe('retrain-model', () => {
  it('trains on request, promotes only by the registry rules, and announces churn/model.trained', async () => {
    const before = (await registry.champion())!.metadata.version;
    // a small account: few epochs, and a lower bar for churners than the default's
    const later = { ...deps, now: () => end + 3600, training: { seed: 2, modelOptions: { maxEpochs: 2 }, split: { minTrainPositives: 3 } } };
    const { result, error } = await execute(createRetrainModel(later), [{ name: 'churn/model.retrain.requested', data: { requestedBy: 'test-suite' } }]);
    expect(error).toBeUndefined();
    const r = result as { version: string; promoted: boolean; promotedVersion: string | null; runId: string };
    const trained = received('churn/model.trained');
    expect(trained).toHaveLength(1);
    expect(trained[0]!.data).toMatchObject({ modelName: 'churn', version: r.version, trainingRunId: r.runId, promoted: r.promoted, promotedVersion: r.promotedVersion });
    expect((trained[0]!.data as { metrics: Record<string, number> }).metrics).toMatchObject({ rocAuc: expect.any(Number), baselineRocAuc: expect.any(Number) });
    const [run] = await database.query<{ trigger: string; status: string; model_version: string }>(sql`select trigger, status, model_version from training_runs where id = ${r.runId}`);
    expect(run).toEqual({ trigger: 'event:test-suite', status: 'succeeded', model_version: r.version });
    // the serving champion follows the promotion rules' verdict
    const serving = (await registry.champion())!.metadata.version;
    expect(serving).toBe(r.promoted ? r.promotedVersion : before);
  }, 60_000);

  it('on the weekly schedule, too little history ends without retries and announces nothing', async () => {
    const { error } = await execute(createRetrainModel({ ...deps, now: () => end + 7200 }), cronEvent(RETRAIN_SCHEDULE));
    expect((error as { name?: string }).name).toBe('NonRetriableError');
    expect(String((error as { message?: string }).message)).toMatch(/churners/);
    expect(received('churn/model.trained')).toHaveLength(0);
    const [run] = await database.query<{ trigger: string; status: string }>(sql`select trigger, status from training_runs order by started_at desc limit 1`);
    expect(run).toEqual({ trigger: 'schedule', status: 'failed' });
  }, 60_000);
});
