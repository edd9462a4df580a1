import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { DAY } from '../../src/lib/clock.js';
import { FEATURES, featureMatrixForScope } from '../../src/ml/features.js';
import { churnLabelsAt } from '../../src/ml/labels.js';
import { ingestEvents, rebuildProjections } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { backfillStripe } from '../../src/services/sync/backfill.js';
import { createStripeSandbox, SandboxStore } from '../../src/simulator/sandbox/index.js';
import { simulateToSink } from '../../src/simulator/world/index.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { pgArray } from '../../src/db/bulk.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * A simulated account as a new user meets it: the local Stripe API holds every object but only the
 * last 30 days of events. One database ingests the world's whole event history, the other backfills
 * from the API; the rebuilt history must tell the same past.
 */
describe('backfill rebuilds a point-in-time history from the API', () => {
  let full: Database;
  let backfilled: Database;
  /** webhooks flowed for the last 60 days before the backfill ran (longer than Stripe keeps events) */
  let webhooksFirst: Database;
  let end = 0;
  let apiCalls = 0;
  let closeSandbox: () => Promise<void>;

  beforeAll(async () => {
    [full, backfilled, webhooksFirst] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres'), createTestDatabase('postgres')]);
    const store = new SandboxStore({ eventRetentionDays: 30 });
    const events: StripeEventEnvelope[] = [];
    const summary = await simulateToSink(
      { customers: 160, months: 8, seed: 5, start: Date.UTC(2025, 0, 1) / 1000 },
      {
        write(event: Stripe.Event) {
          if (event.created > store.now()) store.setNow(event.created);
          store.applyEvent(event);
          events.push(event as unknown as StripeEventEnvelope);
        },
      },
    );
    end = summary.end;
    store.setNow(end);
    await ingestEvents(full, events, { source: 'ingest' });
    const sandbox = createStripeSandbox({ store });
    const listening = await sandbox.listen(0);
    closeSandbox = listening.close;
    const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: listening.url, maxNetworkRetries: 0 });
    const result = await backfillStripe({ database: backfilled, stripe, now: () => store.now() });
    apiCalls = result.apiCalls;
    await ingestEvents(webhooksFirst, events.filter((e) => e.created > end - 60 * DAY), { source: 'webhook' });
    await backfillStripe({ database: webhooksFirst, stripe, now: () => store.now() });
  }, 120_000);
  afterAll(async () => {
    await closeSandbox?.();
    await Promise.all([full?.close(), backfilled?.close(), webhooksFirst?.close()]);
  });

  const labelsAt = async (db: Database, t: number) =>
    new Map((await churnLabelsAt(db, t)).map((l) => [l.customerId, `${l.churned}:${l.churnType}:${l.churnedAt}`]));

  it('gives the same population and churn labels, voluntary and involuntary, months before the event window', async () => {
    let compared = 0;
    let churners = 0;
    for (let t = end - 200 * DAY; t <= end - 60 * DAY; t += 30 * DAY) {
      const [truth, rebuilt] = await Promise.all([labelsAt(full, t), labelsAt(backfilled, t)]);
      // customers Stripe deleted are listed nowhere, so the backfill cannot know them
      for (const [customer, label] of truth) {
        if (!rebuilt.has(customer)) continue;
        expect(rebuilt.get(customer), `${customer} at ${t}`).toBe(label);
        compared += 1;
        if (label.startsWith('true')) churners += 1;
      }
      expect(rebuilt.size).toBeGreaterThanOrEqual(truth.size * 0.9);
    }
    expect(compared).toBeGreaterThan(400);
    expect(churners).toBeGreaterThan(10);
  });

  it('after two months of webhooks, the backfill rebuilds only the time before them and meets them seamlessly', async () => {
    let compared = 0;
    for (let t = end - 200 * DAY; t <= end - 30 * DAY; t += 17 * DAY) {
      const [truth, mixed] = await Promise.all([labelsAt(full, t), labelsAt(webhooksFirst, t)]);
      for (const [customer, label] of truth) {
        if (!mixed.has(customer)) continue;
        expect(mixed.get(customer), `${customer} at ${t}`).toBe(label);
        compared += 1;
      }
      expect(mixed.size).toBeGreaterThanOrEqual(truth.size * 0.9);
    }
    expect(compared).toBeGreaterThan(800);
    const current = (db: Database) => db.query(sql`select id, status, cancel_at_period_end, canceled_at, ended_at from subscriptions order by id`);
    expect(await current(webhooksFirst)).toEqual(await current(full));
    // every failure once: rebuilt before the webhooks began, the webhooks' own after
    const failures = (db: Database) => db.query(sql`select customer_id, failed_at, attempt from payment_failures order by customer_id, failed_at`);
    expect(await failures(webhooksFirst)).toEqual(await failures(full));
    const [{ rebuilt }] = await webhooksFirst.query<{ rebuilt: number }>(
      sql`select count(*)::int as rebuilt from payment_failures where event_id like 'evt\_sync\_h\_%' and failed_at >= ${end - 60 * DAY}`,
    );
    expect(rebuilt).toBe(0);
  });

  it('dates every failed payment before the window with its decline code and invoice, as the events did', async () => {
    const failures = async (db: Database) =>
      db.query<{ customer_id: string; failed_at: number; invoice_id: string; attempt: number }>(
        sql`select customer_id, failed_at::int as failed_at, invoice_id, attempt from payment_failures
            where failed_at < ${end - 31 * DAY} order by customer_id, failed_at`,
      );
    const [truth, rebuilt] = await Promise.all([failures(full), failures(backfilled)]);
    expect(truth.length).toBeGreaterThan(5);
    expect(rebuilt).toEqual(truth);
    // The failed charge says why (the simulated invoice.payment_failed events do not): the rebuilt rows keep it.
    const codes = await backfilled.query<{ failure_code: string | null; decline_code: string | null }>(
      sql`select distinct failure_code, decline_code from payment_failures where failed_at < ${end - 31 * DAY}`,
    );
    expect(codes.every((c) => ['card_declined', 'insufficient_funds', 'expired_card'].includes(c.failure_code!))).toBe(true);
    expect(codes.every((c) => c.decline_code === 'generic_decline' || c.decline_code === 'expired_card')).toBe(true);
  });

  it('past subscription states (trialing, past_due, cancelling) are the ones the events recorded', async () => {
    const statesAt = async (db: Database, t: number) =>
      db.query<{ subscription_id: string; status: string; cancel_at_period_end: boolean }>(
        sql`select distinct on (subscription_id) subscription_id, status, cancel_at_period_end from subscription_versions
            where valid_from <= ${t} order by subscription_id, valid_from desc, rank desc, event_id desc`,
      );
    let seen = 0;
    let differ = 0;
    const statuses = new Set<string>();
    for (let t = end - 180 * DAY; t <= end - 45 * DAY; t += 15 * DAY) {
      const truth = new Map((await statesAt(full, t)).map((r) => [r.subscription_id, `${r.status}:${r.cancel_at_period_end}`]));
      for (const r of await statesAt(backfilled, t)) {
        seen += 1;
        statuses.add(r.status);
        if (truth.get(r.subscription_id) !== `${r.status}:${r.cancel_at_period_end}`) differ += 1;
      }
    }
    expect(statuses).toEqual(new Set(['trialing', 'active', 'past_due', 'canceled']));
    expect(differ / seen).toBeLessThan(0.01);
  });

  it('stays deterministic: rebuilding the projections from the store gives the same rows', async () => {
    const rows = () => backfilled.query(sql`select account, subscription_id, event_id, valid_from, rank, status from subscription_versions order by 1, 2, 3`);
    const before = await rows();
    await rebuildProjections(backfilled);
    expect(await rows()).toEqual(before);
  });

  it('rebuilt history is stored and projected but never relayed to workflows (it is the past)', async () => {
    const n = async (q: ReturnType<typeof sql>) => Number((await backfilled.query<{ n: number }>(q))[0]!.n);
    expect(await n(sql`select count(*)::int as n from stripe_events where id like 'evt\_sync\_h\_%'`)).toBeGreaterThan(500);
    expect(await n(sql`select count(*)::int as n from outbox where event_id like 'evt\_sync\_h\_%'`)).toBe(0);
    expect(await n(sql`select count(*)::int as n from stripe_events where id like 'evt\_sync\_h\_%' and processed_at is null`)).toBe(0);
    expect(await n(sql`select count(*)::int as n from outbox`)).toBeGreaterThan(0);
  });

  it('reads the API in pages of 100 with cards expanded: a few calls per hundred objects, none per customer', async () => {
    const objects = Number((await backfilled.query<{ n: number }>(sql`select count(*)::int as n from stripe_events where id like 'evt_sync_%' and id not like 'evt_sync_h_%'`))[0]!.n);
    const customers = Number((await backfilled.query<{ n: number }>(sql`select count(*)::int as n from customers`))[0]!.n);
    // list pages (~objects/100, a few per resource), no call per customer: their cards come expanded
    expect(customers).toBeGreaterThan(150);
    expect(apiCalls).toBeLessThan(objects / 100 + 30);
  });
});

/**
 * What Stripe no longer lists: cards replaced and detached, discounts that ran out. A longer world
 * than above, so that some cards expire, fail and get replaced before the 30-day events window.
 */
describe('backfill rebuilds detached cards and ended discounts from charges and invoices', () => {
  let full: Database;
  let backfilled: Database;
  let end = 0;
  let closeSandbox: () => Promise<void>;

  beforeAll(async () => {
    [full, backfilled] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres')]);
    const store = new SandboxStore({ eventRetentionDays: 30 });
    const events: StripeEventEnvelope[] = [];
    const summary = await simulateToSink(
      { customers: 300, months: 14, seed: 5, start: Date.UTC(2025, 0, 1) / 1000 },
      {
        write(event: Stripe.Event) {
          if (event.created > store.now()) store.setNow(event.created);
          store.applyEvent(event);
          events.push(event as unknown as StripeEventEnvelope);
        },
      },
    );
    end = summary.end;
    store.setNow(end);
    await ingestEvents(full, events, { source: 'ingest' });
    const sandbox = createStripeSandbox({ store });
    const listening = await sandbox.listen(0);
    closeSandbox = listening.close;
    const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: listening.url, maxNetworkRetries: 0 });
    await backfillStripe({ database: backfilled, stripe, now: () => store.now() });
  }, 180_000);
  afterAll(async () => {
    await closeSandbox?.();
    await Promise.all([full?.close(), backfilled?.close()]);
  });

  /** The named features of these customers at `t`, from one database: customer → values. */
  const featuresAt = async (db: Database, t: number, customerIds: string[], names: string[]) => {
    const m = await featureMatrixForScope(db, t, { kind: 'customers', account: 'platform', customerIds });
    const cols = names.map((n) => FEATURES.findIndex((f) => f.name === n));
    return new Map(m.keys.map((k, r) => [k.customerId, cols.map((c) => Number(m.matrix.data[r * m.matrix.cols + c]!.toFixed(3)))]));
  };

  it('a card replaced and detached before the window reads the same card features from the rebuilt history as from the events', async () => {
    // Stripe lists only attached methods: these cards exist in the backfilled database only as
    // rebuilt from the charges made with them.
    const replaced = await full.query<{ id: string; customer_id: string; detached_at: number; attached_at: number }>(
      sql`select id, customer_id, detached_at::float8 as detached_at, coalesce(attached_at, created)::float8 as attached_at from payment_methods
          where detached_at < ${end - 31 * DAY} and customer_id is not null order by id`,
    );
    expect(replaced.length).toBeGreaterThan(0);
    const rebuilt = await backfilled.query<{ id: string; detached_at: number }>(
      sql`select id, detached_at::float8 as detached_at from payment_methods where id = any(${pgArray(replaced.map((r) => r.id))}::text[])`,
    );
    expect(rebuilt.length).toBe(replaced.length);
    const names = ['has_payment_method', 'card_expiring_30d', 'days_to_card_expiry', 'card_expires_before_renewal', 'renewal_on_expired_card_30d', 'payment_method_card',
      'prepaid_card', 'debit_card', 'payment_methods_added_90d', 'card_brand_visa', 'card_brand_mastercard', 'card_brand_amex', 'card_brand_other', 'card_wallet'];
    const customers = [...new Set(replaced.map((r) => r.customer_id))];
    let compared = 0;
    let readOldCard = 0;
    const differences: string[] = [];
    for (let t = end - 240 * DAY; t <= end - 35 * DAY; t += 5 * DAY) {
      const [truth, mine] = await Promise.all([featuresAt(full, t, customers, names), featuresAt(backfilled, t, customers, names)]);
      for (const [customer, values] of truth) {
        if (!mine.has(customer)) continue;
        compared += 1;
        if (replaced.some((r) => r.customer_id === customer && r.attached_at <= t && t < r.detached_at)) readOldCard += 1;
        if (JSON.stringify(mine.get(customer)) !== JSON.stringify(values)) differences.push(`${customer} at ${t}: ${JSON.stringify(values)} vs ${JSON.stringify(mine.get(customer))}`);
      }
    }
    expect(readOldCard).toBeGreaterThan(0);
    expect(compared).toBeGreaterThan(readOldCard);
    expect(differences).toEqual([]);
  });

  it('a discount that ended before the window shows in the periods it applied and reads as the events did', async () => {
    const ended = await full.query<{ id: string; customer_id: string; start: number; end: number; percent_off: number; interval: string }>(
      sql`select d.id, d.customer_id, d.start::float8 as start, d."end"::float8 as "end", d.percent_off, s.interval from discounts d
          join subscriptions s on s.account = d.account and s.id = d.subscription_id where d.deleted_at < ${end - 31 * DAY} order by d.id`,
    );
    expect(ended.length).toBeGreaterThan(3);
    const rows = await backfilled.query<{ id: string; start: number; end: number; percent_off: number; deleted_at: number }>(
      sql`select id, start::float8 as start, "end"::float8 as "end", percent_off, deleted_at::float8 as deleted_at from discounts where id = any(${pgArray(ended.map((d) => d.id))}::text[]) order by id`,
    );
    const truth = new Map(ended.map((d) => [d.id, d]));
    // every one whose subscription was billed while it ran (a trial cancelled before any charge never shows on an invoice)
    expect(rows.length).toBeGreaterThanOrEqual(ended.length * 0.8);
    for (const r of rows) {
      const t = truth.get(r.id)!;
      // a yearly invoice discounted by a three-month coupon does not say when the coupon ran out:
      // the rebuilt discount runs to that period's end
      expect([r.start, t.interval === 'year' ? Math.min(r.end, t.end) : r.end, r.percent_off, r.deleted_at], r.id).toEqual([t.start, t.end, t.percent_off, r.end]);
    }
    // (mrr_paid_usd_log is left out: it moves with seat changes the simulator makes mid-period,
    // which the invoices date at the next renewal)
    const names = ['discount_active', 'discount_days_left', 'days_since_discount_ended'];
    const customers = [...new Set(ended.filter((d) => d.interval === 'month' && rows.some((r) => r.id === d.id)).map((d) => d.customer_id))];
    let inForce = 0;
    let compared = 0;
    const differences: string[] = [];
    for (let t = end - 240 * DAY; t <= end - 35 * DAY; t += 5 * DAY) {
      const [a, b] = await Promise.all([featuresAt(full, t, customers, names), featuresAt(backfilled, t, customers, names)]);
      for (const [customer, values] of a) {
        if (!b.has(customer)) continue;
        compared += 1;
        if (values[0] === 1) inForce += 1;
        if (JSON.stringify(b.get(customer)) !== JSON.stringify(values)) differences.push(`${customer} at ${t}: ${JSON.stringify(values)} vs ${JSON.stringify(b.get(customer))}`);
      }
    }
    expect(inForce).toBeGreaterThan(0);
    expect(compared).toBeGreaterThan(inForce);
    expect(differences).toEqual([]);
  });

  it('reruns store nothing new and a replay of the store gives the same rows: the rebuilt ids are deterministic', async () => {
    const count = async () => Number((await backfilled.query<{ n: number }>(sql`select count(*)::int as n from stripe_events where id like 'evt\_sync\_h\_%'`))[0]!.n);
    const rows = () => backfilled.query(sql`select id, customer_id, attached_at, detached_at, exp_month, exp_year from payment_methods order by id`);
    const [before, pmsBefore] = [await count(), await rows()];
    const { rebuildAccountHistory } = await import('../../src/services/sync/history.js');
    const again = await rebuildAccountHistory(backfilled, { account: 'platform', apiVersion: null });
    expect(again.paymentMethods).toBeGreaterThan(0);
    expect(again.discounts).toBeGreaterThan(0);
    expect(await count()).toBe(before);
    expect(await rows()).toEqual(pmsBefore);
    // replaying the store (`churn rebuild`) gives the same payment methods and discounts
    const discounts = () => backfilled.query(sql`select id, customer_id, start, "end", deleted_at, percent_off from discounts order by id`);
    const discountsBefore = await discounts();
    await rebuildProjections(backfilled);
    expect(await rows()).toEqual(pmsBefore);
    expect(await discounts()).toEqual(discountsBefore);
  });
});
