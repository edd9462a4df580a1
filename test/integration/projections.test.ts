import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { ingestEvents, rebuildProjections } from '../../src/services/events/ingest.js';
import { PROJECTION_TABLES } from '../../src/services/projections/apply.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';
import {
  customerObject,
  invoiceObject,
  stripeEvent,
  stripeObject,
  subscriptionObject,
  toOldInvoiceShape,
  toOldSubscriptionShape,
} from '../fixtures/stripe-events.js';

const T0 = 1_760_000_000;

async function dump(database: Database): Promise<Record<string, unknown[]>> {
  const out: Record<string, unknown[]> = {};
  for (const table of PROJECTION_TABLES) {
    out[table] = await database.query(sql.raw(`select * from ${table} order by 1, 2, 3`));
  }
  return out;
}

async function truncateAll(database: Database) {
  await database.query(sql.raw(`truncate stripe_events, outbox, ${PROJECTION_TABLES.join(', ')}`));
}

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describeEachDb('projections', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => database?.close());
  beforeEach(async () => truncateAll(database));

  const subStatus = async (id: string) =>
    (await database.query<{ status: string; deleted: boolean; cancel_at_period_end: boolean }>(sql`select status, deleted, cancel_at_period_end from subscriptions where id = ${id}`))[0];

  it('keeps the newer snapshot when an older one arrives later', async () => {
    const created = stripeEvent('customer.subscription.created', subscriptionObject({ id: 'sub_A', customer: 'cus_A', status: 'active' }), { created: T0 });
    const updated = stripeEvent('customer.subscription.updated', subscriptionObject({ id: 'sub_A', customer: 'cus_A', status: 'active', cancelAtPeriodEnd: true, feedback: 'too_expensive' }), {
      created: T0 + 60,
      previous: { cancel_at_period_end: false },
    });
    await ingestEvents(database, [updated], { source: 'webhook' });
    await ingestEvents(database, [created], { source: 'webhook' });
    const row = (await database.query<{ cancel_at_period_end: boolean; cancellation_feedback: string; src_event_id: string }>(
      sql`select cancel_at_period_end, cancellation_feedback, src_event_id from subscriptions where id = 'sub_A'`,
    ))[0]!;
    expect(row.cancel_at_period_end).toBe(true);
    expect(row.cancellation_feedback).toBe('too_expensive');
    expect(row.src_event_id).toBe(updated.id);
    // Both snapshots are kept as history for point-in-time reads.
    const versions = await database.query(sql`select * from subscription_versions where subscription_id = 'sub_A'`);
    expect(versions).toHaveLength(2);
  });

  it('resolves same-second invoice events by lifecycle, whatever their arrival order', async () => {
    const base = { id: 'in_A', customer: 'cus_A', subscription: 'sub_A', created: T0 - 3600 };
    const finalized = stripeEvent('invoice.finalized', invoiceObject({ ...base, status: 'open' }), { created: T0 });
    const trio = ['invoice.paid', 'invoice.payment_succeeded', 'invoice.updated'].map((type) =>
      stripeEvent(type, invoiceObject({ ...base, status: 'paid', paidAt: T0 }), { created: T0 }),
    );
    for (const order of permutations([finalized, ...trio])) {
      await truncateAll(database);
      for (const e of order) await ingestEvents(database, [e], { source: 'webhook' });
      const inv = (await database.query<{ status: string; amount_paid: number; paid_at: number }>(sql`select status, amount_paid, paid_at from invoices where id = 'in_A'`))[0]!;
      expect(inv.status).toBe('paid');
      expect(Number(inv.amount_paid)).toBe(2000);
      expect(Number(inv.paid_at)).toBe(T0);
    }
  });

  it('ranks a same-second past_due update above the renewal that preceded it', async () => {
    const renewal = stripeEvent('customer.subscription.updated', subscriptionObject({ id: 'sub_B', customer: 'cus_B', status: 'active' }), { created: T0 });
    const pastDue = stripeEvent('customer.subscription.updated', subscriptionObject({ id: 'sub_B', customer: 'cus_B', status: 'past_due' }), { created: T0 });
    await ingestEvents(database, [pastDue], { source: 'webhook' });
    await ingestEvents(database, [renewal], { source: 'webhook' });
    expect((await subStatus('sub_B'))!.status).toBe('past_due');
  });

  it('keeps a deleted subscription deleted even when a stale update arrives afterwards', async () => {
    const deleted = stripeEvent('customer.subscription.deleted', subscriptionObject({ id: 'sub_C', customer: 'cus_C', status: 'canceled', cancellationReason: 'payment_failed' }), { created: T0 });
    const staleSameSecond = stripeEvent('customer.subscription.updated', subscriptionObject({ id: 'sub_C', customer: 'cus_C', status: 'active' }), { created: T0 });
    const staleOlder = stripeEvent('customer.subscription.updated', subscriptionObject({ id: 'sub_C', customer: 'cus_C', status: 'past_due' }), { created: T0 - 5 });
    await ingestEvents(database, [deleted], { source: 'webhook' });
    await ingestEvents(database, [staleSameSecond, staleOlder], { source: 'webhook' });
    const row = await subStatus('sub_C');
    expect(row).toMatchObject({ status: 'canceled', deleted: true });
    // A later-stamped update for a deleted subscription (Stripe never sends one, but a replay might) cannot resurrect it.
    await ingestEvents(database, [stripeEvent('customer.subscription.updated', subscriptionObject({ id: 'sub_C', customer: 'cus_C', status: 'active' }), { created: T0 + 100 })], { source: 'webhook' });
    expect(await subStatus('sub_C')).toMatchObject({ status: 'canceled', deleted: true });
  });

  it('normalises the 2024-06-20 shapes into the same rows as the current shapes', async () => {
    const sub = subscriptionObject({ id: 'sub_N', customer: 'cus_N', unitAmount: 12000, quantity: 3, interval: 'year', periodStart: T0, periodEnd: T0 + 365 * 86400 });
    const inv = invoiceObject({ id: 'in_N', customer: 'cus_N', subscription: 'sub_N', status: 'open', created: T0, attemptCount: 1 });
    await ingestEvents(database, [stripeEvent('customer.subscription.created', sub, { created: T0 }), stripeEvent('invoice.payment_failed', inv, { created: T0 })], { source: 'ingest' });
    const current = await dump(database);
    await truncateAll(database);
    await ingestEvents(
      database,
      [
        stripeEvent('customer.subscription.created', toOldSubscriptionShape(sub), { created: T0, apiVersion: '2024-06-20' }),
        stripeEvent('invoice.payment_failed', toOldInvoiceShape(inv), { created: T0, apiVersion: '2024-06-20' }),
      ],
      { source: 'ingest' },
    );
    const old = await dump(database);
    const strip = (rows: unknown[]) => rows.map((r) => ({ ...(r as object), src_event_id: undefined, event_id: undefined }));
    for (const table of ['subscriptions', 'subscription_items', 'invoices', 'payment_failures']) {
      expect(strip(old[table]!), table).toEqual(strip(current[table]!));
    }
    const s = (await database.query<{ mrr: number; quantity: number; current_period_end: number; interval: string }>(sql`select mrr, quantity, current_period_end, interval from subscriptions`))[0]!;
    expect(Number(s.mrr)).toBe(3000); // 3 seats x 120.00 a year = 30.00 a month
    expect(s.quantity).toBe(3);
    expect(Number(s.current_period_end)).toBe(T0 + 365 * 86400);
    const i = (await database.query<{ subscription_id: string }>(sql`select subscription_id from invoices`))[0]!;
    expect(i.subscription_id).toBe('sub_N');
    const f = (await database.query<{ subscription_id: string; attempt: number }>(sql`select subscription_id, attempt from payment_failures`))[0]!;
    expect(f).toMatchObject({ subscription_id: 'sub_N', attempt: 1 });
  });

  it('keys everything by (account, id): connected accounts never collide', async () => {
    const a = stripeEvent('customer.created', customerObject('cus_same', { email: 'a@example.com' }), { created: T0, account: 'acct_1A' });
    const b = stripeEvent('customer.created', customerObject('cus_same', { email: 'b@example.com' }), { created: T0, account: 'acct_1B' });
    const p = stripeEvent('customer.created', customerObject('cus_same', { email: 'p@example.com' }), { created: T0 });
    await ingestEvents(database, [a, b, p], { source: 'webhook' });
    const rows = await database.query<{ account: string; email: string }>(sql`select account, email from customers order by account`);
    expect(rows).toEqual([
      { account: 'acct_1A', email: 'a@example.com' },
      { account: 'acct_1B', email: 'b@example.com' },
      { account: 'platform', email: 'p@example.com' },
    ]);
  });

  it('stores duplicates once and unknown types without projecting them', async () => {
    const e = stripeEvent('customer.created', customerObject('cus_D'), { created: T0 });
    const unknown = stripeEvent('issuing_card.created', { id: 'ic_1', object: 'issuing.card' }, { created: T0 });
    const first = await ingestEvents(database, [e, unknown], { source: 'ingest' });
    const second = await ingestEvents(database, [e, unknown, e], { source: 'ingest' });
    expect(first).toEqual({ stored: 2, duplicates: 0 });
    expect(second).toEqual({ stored: 0, duplicates: 2 });
    const stored = await database.query<{ id: string; unhandled: boolean }>(sql`select id, unhandled from stripe_events order by id`);
    expect(stored).toHaveLength(2);
    expect(stored.find((r) => r.id === unknown.id)!.unhandled).toBe(true);
    const outboxRows = await database.query<{ topic: string }>(sql`select topic from outbox order by topic`);
    expect(outboxRows.map((r) => r.topic)).toEqual(['stripe/customer.created', 'stripe/issuing_card.created']);
  });

  it('rebuilds identical rows from the stored events', async () => {
    const events: StripeEventEnvelope[] = [];
    for (let c = 0; c < 8; c++) {
      const cus = `cus_R${c}`;
      const sub = `sub_R${c}`;
      events.push(stripeEvent('customer.created', customerObject(cus), { created: T0 + c }));
      const pm = stripeObject('payment_method', { id: `pm_R${c}`, customer: cus, card: { exp_month: 1 + c, exp_year: 2027 } });
      events.push(stripeEvent('payment_method.attached', pm, { created: T0 + c }));
      events.push(stripeEvent('customer.subscription.created', subscriptionObject({ id: sub, customer: cus, status: 'trialing' }), { created: T0 + c }));
      events.push(stripeEvent('customer.subscription.updated', subscriptionObject({ id: sub, customer: cus, status: 'active', quantity: 2 + c }), { created: T0 + 100 + c }));
      for (let m = 0; m < 3; m++) {
        const created = T0 + 200 + m * 1000 + c;
        const inv = { id: `in_R${c}_${m}`, customer: cus, subscription: sub, created };
        events.push(stripeEvent('invoice.created', invoiceObject({ ...inv, status: 'draft' }), { created }));
        events.push(stripeEvent('invoice.finalized', invoiceObject({ ...inv, status: 'open' }), { created: created + 1 }));
        if ((c + m) % 3 === 0) events.push(stripeEvent('invoice.payment_failed', invoiceObject({ ...inv, status: 'open', attemptCount: 1 }), { created: created + 1 }));
        for (const type of ['invoice.paid', 'invoice.payment_succeeded', 'invoice.updated'])
          events.push(stripeEvent(type, invoiceObject({ ...inv, status: 'paid', paidAt: created + 2 }), { created: created + 2 }));
      }
      if (c % 2 === 0) {
        events.push(stripeEvent('customer.discount.created', stripeObject('discount', { id: `di_R${c}`, customer: cus, subscription: sub, start: T0, end: T0 + 90 * 86400, source: { type: 'coupon', coupon: 'SAVE20' } }), { created: T0 + 500 }));
        events.push(stripeEvent('payment_method.detached', { ...pm, customer: null }, { created: T0 + 600 }));
        events.push(stripeEvent('customer.subscription.deleted', subscriptionObject({ id: sub, customer: cus, status: 'canceled', cancellationReason: 'cancellation_requested', feedback: 'unused' }), { created: T0 + 5000 }));
      }
    }
    // Deliver in a scrambled order with duplicates, the way webhooks arrive.
    const scrambled = [...events].sort((a, b) => (a.id.split('').reverse().join('') < b.id.split('').reverse().join('') ? -1 : 1));
    for (let i = 0; i < scrambled.length; i += 7) await ingestEvents(database, scrambled.slice(i, i + 7), { source: 'webhook' });
    await ingestEvents(database, events.slice(0, 20), { source: 'webhook' });
    const incremental = await dump(database);
    const replayed = await rebuildProjections(database);
    expect(replayed).toBe(events.length);
    const rebuilt = await dump(database);
    expect(rebuilt).toEqual(incremental);
    expect(incremental.subscriptions!.filter((s: any) => s.deleted)).toHaveLength(4);
    expect(incremental.discounts!.map((d: any) => d.coupon_id)).toEqual(['SAVE20', 'SAVE20', 'SAVE20', 'SAVE20']);
    const pmRow = incremental.payment_methods!.find((p: any) => p.id === 'pm_R0') as any;
    expect(pmRow.customer_id).toBe('cus_R0');
    expect(Number(pmRow.detached_at)).toBe(T0 + 600);
  });
});
