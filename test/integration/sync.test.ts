import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { DAY } from '../../src/lib/clock.js';
import { ingestEvents, rebuildProjections } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { PROJECTION_TABLES } from '../../src/services/projections/apply.js';
import { BackfillInterrupted, backfillCursors, backfillStripe } from '../../src/services/sync/backfill.js';
import { reconcileStripeEvents } from '../../src/services/sync/reconcile.js';
import { createStripeSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';

const T0 = 1_780_000_000;
const CONNECTED = 'acct_1SyncConnected';

describeEachDb('Stripe API sync (backfill, reconcile) against the local Stripe API', (kind) => {
  let database: Database;
  let sandbox: StripeSandbox;
  let close: () => Promise<void>;
  let apiBase: string;
  let stripe: Stripe;
  const now = () => sandbox.store.now();

  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await database.query(sql.raw(`truncate stripe_events, outbox, sync_cursors, ${PROJECTION_TABLES.join(', ')}`));
    sandbox = createStripeSandbox({ now: T0, accounts: [CONNECTED] });
    seedSampleAccount(sandbox.store, { customers: 23, seed: 11 });
    seedSampleAccount(sandbox.store, { customers: 7, seed: 12, account: CONNECTED });
    const listening = await sandbox.listen(0);
    close = listening.close;
    apiBase = listening.url;
    stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase, maxNetworkRetries: 0 });
  });
  afterEach(async () => {
    await close();
  });

  const count = async (table: string, where = 'true') =>
    Number((await database.query<{ n: number }>(sql.raw(`select count(*)::int as n from ${table} where ${where}`)))[0]!.n);

  it('backfill fills the projections with what the API holds, and a second run changes nothing', async () => {
    const live = sandbox.store.listObjects<Stripe.Subscription>(undefined, 'subscription').find((s) => s.status === 'active')!;
    await stripe.subscriptions.cancel(live.id);
    const summary = await backfillStripe({ database, stripe, now, pageSize: 10 });
    const customers = sandbox.store.listObjects(undefined, 'customer');
    const subs = sandbox.store.listObjects<Stripe.Subscription>(undefined, 'subscription');
    const invoices = sandbox.store.listObjects(undefined, 'invoice');
    expect(summary.resources.customers).toMatchObject({ seen: 23, stored: 23, skipped: false });
    expect(summary.resources.subscriptions!.seen).toBe(subs.length);
    expect(await count('customers', `account = 'platform'`)).toBe(customers.length);
    expect(await count('invoices', `account = 'platform'`)).toBe(invoices.length);
    expect(await count('payment_methods', `account = 'platform' and customer_id is not null`)).toBeGreaterThanOrEqual(23);

    // Every subscription's projected state is the API's, ended ones marked deleted as the webhook would.
    const rows = await database.query<{ id: string; status: string; deleted: boolean; src_event_id: string }>(
      sql`select id, status, deleted, src_event_id from subscriptions where account = 'platform'`,
    );
    expect(rows).toHaveLength(subs.length);
    for (const sub of subs) {
      const row = rows.find((r) => r.id === sub.id)!;
      expect(row.status).toBe(sub.status);
      expect(row.deleted).toBe(sub.status === 'canceled');
    }
    expect(subs.some((s) => s.status === 'canceled')).toBe(true);

    // The last 30 days of events are stored with their real ids.
    const recent = sandbox.store.listEvents(undefined).filter((e) => e.created >= now() - 30 * DAY);
    expect(summary.resources.events!.seen).toBe(recent.length);
    expect(await count('stripe_events', `source = 'backfill' and id not like 'evt_sync_%'`)).toBe(recent.length);
    expect(await count('stripe_events', `processed_at is null`)).toBe(0);

    // Completed resources are skipped; a --restart re-reads everything and stores nothing new.
    const again = await backfillStripe({ database, stripe, now, pageSize: 10 });
    expect(Object.values(again.resources).every((r) => r!.skipped)).toBe(true);
    const before = await count('stripe_events');
    const restarted = await backfillStripe({ database, stripe, now, pageSize: 10, restart: true });
    expect(restarted.resources.customers).toMatchObject({ skipped: false, seen: 23, stored: 0, duplicates: 23 });
    expect(await count('stripe_events')).toBe(before);
  });

  it('an interrupted backfill resumes after its cursor: complete, and nothing read twice', async () => {
    const controller = new AbortController();
    let pages = 0;
    await expect(
      backfillStripe({
        database,
        stripe,
        now,
        pageSize: 5,
        signal: controller.signal,
        onProgress: (resource) => {
          if (resource === 'customers' && ++pages === 2) controller.abort();
        },
      }),
    ).rejects.toBeInstanceOf(BackfillInterrupted);
    const [cursor] = (await backfillCursors(database, 'platform')).filter((c) => c.resource === 'backfill:customers');
    expect(cursor).toMatchObject({ itemsSeen: 10, completedAt: null });
    // The API lists newest first; the cursor is the 10th customer of that order.
    const newestFirst = [...sandbox.store.listObjects(undefined, 'customer')].reverse() as { id: string }[];
    expect(cursor!.cursor).toBe(newestFirst[9]!.id);
    expect(await count('customers')).toBe(10);

    const resumed = await backfillStripe({ database, stripe, now, pageSize: 5, resources: ['customers'] });
    expect(resumed.resources.customers).toMatchObject({ resumedAfter: newestFirst[9]!.id, seen: 13, stored: 13, duplicates: 0 });
    expect(await count('customers')).toBe(23);
    expect(await count('stripe_events', `id like 'evt_sync_cus_%'`)).toBe(23);
  });

  it('--restart with a wrong key fails on the first call and keeps the stored cursors', async () => {
    await backfillStripe({ database, stripe, now, pageSize: 10, resources: ['customers', 'subscriptions'] });
    const kept = await backfillCursors(database, 'platform');
    expect(kept.map((c) => c.resource)).toEqual(['backfill:customers', 'backfill:subscriptions']);
    const wrong = createStripeClient({ secretKey: 'sk_test_not_this_one', apiBase, maxNetworkRetries: 0 });
    await expect(backfillStripe({ database, stripe: wrong, now, restart: true })).rejects.toThrow(/API key/i);
    expect(await backfillCursors(database, 'platform')).toEqual(kept);
    // With the right key the restart does forget them, and reads everything again.
    const restarted = await backfillStripe({ database, stripe, now, pageSize: 10, resources: ['customers'], restart: true });
    expect(restarted.resources.customers).toMatchObject({ skipped: false, seen: 23, duplicates: 23 });
    expect((await backfillCursors(database, 'platform')).map((c) => c.resource)).toEqual(['backfill:customers']);
  });

  it('a Stripe outage mid-backfill fails it; the rerun skips finished resources and completes', async () => {
    sandbox.faults.inject({ status: 500, pathPrefix: '/v1/invoices', count: 1 });
    await expect(backfillStripe({ database, stripe, now, pageSize: 10 })).rejects.toThrow();
    expect(sandbox.faults.history.some((h) => h.path.startsWith('/v1/invoices') && h.status === 500)).toBe(true);
    expect(await count('invoices')).toBe(0);
    const rerun = await backfillStripe({ database, stripe, now, pageSize: 10 });
    expect(rerun.resources.customers!.skipped).toBe(true);
    expect(rerun.resources.subscriptions!.skipped).toBe(true);
    expect(rerun.resources.invoices).toMatchObject({ skipped: false, resumedAfter: null });
    expect(await count('invoices')).toBe(sandbox.store.listObjects(undefined, 'invoice').length);
  });

  it('is safe alongside webhooks: a later webhook wins over the snapshot, an older one arriving late does not', async () => {
    await backfillStripe({ database, stripe, now, resources: ['customers', 'subscriptions'] });
    const sub = sandbox.store.listObjects<Stripe.Subscription>(undefined, 'subscription').find((s) => s.status === 'active')!;
    // A change after the fetch, delivered by webhook.
    sandbox.store.setNow(now() + 60);
    await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true });
    const change = sandbox.store.listEvents(undefined).at(-1)! as unknown as StripeEventEnvelope;
    expect(change.type).toBe('customer.subscription.updated');
    await ingestEvents(database, [change], { source: 'webhook' });
    // An old event for the same subscription (from before the fetch) arrives late.
    const old = sandbox.store
      .listEvents(undefined)
      .find((e) => e.type === 'customer.subscription.created' && (e.data.object as { id: string }).id === sub.id)! as unknown as StripeEventEnvelope;
    await ingestEvents(database, [old], { source: 'webhook' });
    const [row] = await database.query<{ cancel_at_period_end: boolean; src_event_id: string }>(
      sql`select cancel_at_period_end, src_event_id from subscriptions where id = ${sub.id}`,
    );
    expect(row).toEqual({ cancel_at_period_end: true, src_event_id: change.id });

    // Re-running the backfill now fetches the same state: same outcome, whichever lands last.
    await backfillStripe({ database, stripe, now, resources: ['subscriptions'], restart: true });
    const [after] = await database.query<{ cancel_at_period_end: boolean }>(sql`select cancel_at_period_end from subscriptions where id = ${sub.id}`);
    expect(after!.cancel_at_period_end).toBe(true);
  });

  it('a real event in the same second as the backfill, or behind a skewed fetch clock, wins over the snapshot', async () => {
    // As a new user: backfill, change one subscription at once (same simulated second), reconcile.
    await backfillStripe({ database, stripe, now, resources: ['customers', 'subscriptions'] });
    const [first, second] = sandbox.store.listObjects<Stripe.Subscription>(undefined, 'subscription').filter((s) => s.status === 'active');
    await stripe.subscriptions.update(first!.id, { cancel_at_period_end: true });
    await reconcileStripeEvents({ database, stripe, now: now() });
    const change = sandbox.store.listEvents(undefined).at(-1)!;
    expect(change).toMatchObject({ type: 'customer.subscription.updated', created: now() });
    const stored = await database.query<{ processed: boolean }>(sql`select processed_at is not null as processed from stripe_events where id = ${change.id}`);
    expect(stored).toEqual([{ processed: true }]);
    const cancelling = async (id: string) =>
      (await database.query<{ c: boolean }>(sql`select cancel_at_period_end as c from subscriptions where id = ${id}`))[0]!.c;
    expect(await cancelling(first!.id)).toBe(true);

    // A backfill whose clock runs ten minutes ahead of Stripe's, then a change Stripe dates now.
    await backfillStripe({ database, stripe, now: () => now() + 600, resources: ['subscriptions'], restart: true });
    expect(await cancelling(first!.id)).toBe(true);
    await stripe.subscriptions.update(second!.id, { cancel_at_period_end: true });
    await reconcileStripeEvents({ database, stripe, now: now() });
    expect(await cancelling(second!.id)).toBe(true);

    // Rebuilding from the store gives the same rows.
    const before = await database.query(sql`select id, cancel_at_period_end, src_event_id from subscriptions order by id`);
    await rebuildProjections(database);
    expect(await database.query(sql`select id, cancel_at_period_end, src_event_id from subscriptions order by id`)).toEqual(before);
  });

  it('reconcile stores exactly the events the webhook endpoint missed', async () => {
    const all = [...sandbox.store.listEvents(undefined)].sort((a, b) => a.created - b.created) as unknown as StripeEventEnvelope[];
    const missed = all.slice(-5, -2);
    const delivered = all.filter((e) => !missed.includes(e));
    await ingestEvents(database, delivered, { source: 'webhook' });
    const overlapSeconds = all.at(-1)!.created - missed[0]!.created + 60;
    const summary = await reconcileStripeEvents({ database, stripe, now: now(), overlapSeconds });
    expect(summary.stored).toBe(3);
    expect(summary.seen).toBe(summary.stored + summary.duplicates);
    const reconciled = await database.query<{ id: string }>(sql`select id from stripe_events where source = 'reconcile' order by id`);
    expect(reconciled.map((r) => r.id)).toEqual(missed.map((e) => e.id).sort());
    expect(await count('stripe_events')).toBe(all.length);
    expect(await count('outbox')).toBe(all.length);
    // Nothing left to find.
    expect((await reconcileStripeEvents({ database, stripe, now: now(), overlapSeconds })).stored).toBe(0);
  });

  it('Connect: --stripe-account scopes every call and stores everything under that account', async () => {
    const summary = await backfillStripe({ database, stripe, now, stripeAccount: CONNECTED });
    expect(summary.account).toBe(CONNECTED);
    expect(await count('customers', `account = '${CONNECTED}'`)).toBe(7);
    expect(await count('customers', `account <> '${CONNECTED}'`)).toBe(0);
    expect(await count('subscriptions', `account <> '${CONNECTED}'`)).toBe(0);
    expect(await count('stripe_events', `account <> '${CONNECTED}'`)).toBe(0);
    const connectedIds = new Set(sandbox.store.listObjects<{ id: string }>(CONNECTED, 'customer').map((c) => c.id));
    const rows = await database.query<{ id: string }>(sql`select id from customers`);
    expect(rows.every((r) => connectedIds.has(r.id))).toBe(true);

    // Reconcile for the connected account only looks at its events.
    await database.query(sql`delete from stripe_events where id not like 'evt_sync_%'`);
    const r = await reconcileStripeEvents({ database, stripe, now: now(), stripeAccount: CONNECTED });
    const recent = sandbox.store.listEvents(CONNECTED).filter((e) => e.created >= now() - 30 * DAY);
    expect(r).toMatchObject({ account: CONNECTED, stored: recent.length });
    expect(await count('stripe_events', `account <> '${CONNECTED}'`)).toBe(0);
    expect(await count('stripe_events', `source = 'reconcile'`)).toBe(recent.length);
  });
});
