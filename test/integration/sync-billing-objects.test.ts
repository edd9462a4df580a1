import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { DAY } from '../../src/lib/clock.js';
import { FEATURES, featureMatrixForScope } from '../../src/ml/features.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { BackfillInterrupted, backfillStripe } from '../../src/services/sync/backfill.js';
import { simulateConsumerToSink } from '../../src/simulator/consumer/world.js';
import { createStripeSandbox, SandboxStore } from '../../src/simulator/sandbox/index.js';
import { simulateToSink } from '../../src/simulator/world/index.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { createTestDatabase } from '../helpers/db.js';

/**
 * Payment intents, credit notes and subscription schedules, end to end: the simulated worlds make
 * them, the local Stripe API serves them to the real SDK, backfill stores them, and the rows (and
 * the features read from them) match what the full event history of the same world projects.
 */
interface World {
  store: SandboxStore;
  events: StripeEventEnvelope[];
  stripe: Stripe;
  close: () => Promise<void>;
  end: number;
}

async function serve(fill: (write: (event: object) => void) => Promise<{ end: number }>): Promise<World> {
  const store = new SandboxStore({ eventRetentionDays: 30 });
  const events: StripeEventEnvelope[] = [];
  const { end } = await fill((event) => {
    const e = event as unknown as Stripe.Event;
    if (e.created > store.now()) store.setNow(e.created);
    store.applyEvent(e);
    events.push(event as unknown as StripeEventEnvelope);
  });
  store.setNow(end);
  const sandbox = createStripeSandbox({ store });
  const listening = await sandbox.listen(0);
  const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: listening.url, maxNetworkRetries: 0 });
  return { store, events, stripe, close: listening.close, end };
}

const TABLES = {
  payment_intents: 'id, customer_id, amount, status, latest_charge_id, failure_code, decline_code, created',
  credit_notes: 'id, customer_id, invoice_id, amount, status, reason, created, voided_at',
  subscription_schedules: 'id, customer_id, subscription_id, status, phases, created, released_at, canceled_at',
} as const;

async function rows(db: Database, table: keyof typeof TABLES): Promise<string[]> {
  const found = await db.query<Record<string, unknown>>(sql.raw(`select ${TABLES[table]} from ${table} order by id`));
  return found.map((r) => JSON.stringify(r));
}

describe('payment intents, credit notes and subscription schedules from the Stripe API', () => {
  let saas: World;
  let consumer: World;
  const dbs: Database[] = [];

  beforeAll(async () => {
    saas = await serve(async (write) => simulateToSink({ customers: 150, months: 7, seed: 11 }, { write }));
    consumer = await serve(async (write) => simulateConsumerToSink({ customers: 260, months: 10, seed: 4 }, { write }));
  }, 120_000);
  afterAll(async () => {
    await saas?.close();
    await consumer?.close();
    await Promise.all(dbs.map((d) => d.close()));
  });

  it('lists and retrieves them through the real SDK, with Stripe filters and pagination', async () => {
    const intents = await saas.stripe.paymentIntents.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
    expect(intents.length).toBe(saas.store.listObjects(undefined, 'payment_intent').length);
    const failed = intents.find((p) => p.last_payment_error?.decline_code);
    expect(failed?.status).toBe('requires_payment_method');
    const mine = await saas.stripe.paymentIntents.list({ customer: failed!.customer as string, limit: 3 }).autoPagingToArray({ limit: 1000 });
    expect(mine.every((p) => p.customer === failed!.customer)).toBe(true);
    expect(mine.map((p) => p.id)).toContain(failed!.id);
    expect((await saas.stripe.paymentIntents.retrieve(failed!.id)).last_payment_error?.code).toBe(failed!.last_payment_error!.code);

    const notes = await saas.stripe.creditNotes.list({ limit: 2 }).autoPagingToArray({ limit: 10_000 });
    expect(notes.length).toBeGreaterThan(2);
    expect(new Set(notes.map((n) => n.id)).size).toBe(notes.length);
    const note = notes[0]!;
    const byInvoice = await saas.stripe.creditNotes.list({ invoice: note.invoice as string });
    expect(byInvoice.data.map((n) => n.id)).toEqual([note.id]);
    expect((await saas.stripe.creditNotes.retrieve(note.id)).total).toBe(note.total);
    const created = await saas.stripe.creditNotes.list({ created: { gt: note.created }, limit: 100 }).autoPagingToArray({ limit: 10_000 });
    expect(created.every((n) => n.created > note.created)).toBe(true);

    const schedules = await consumer.stripe.subscriptionSchedules.list({ limit: 100 }).autoPagingToArray({ limit: 10_000 });
    expect(schedules.length).toBe(consumer.store.listObjects(undefined, 'subscription_schedule').length);
    // released and canceled schedules are listed like Stripe lists them
    expect(schedules.some((s) => s.status === 'released')).toBe(true);
    const live = schedules.find((s) => s.status === 'active')!;
    expect(live.current_phase!.end_date).toBeGreaterThan(consumer.end);
    const ofCustomer = await consumer.stripe.subscriptionSchedules.list({ customer: live.customer as string });
    expect(ofCustomer.data.map((s) => s.id)).toContain(live.id);
    await expect(consumer.stripe.subscriptionSchedules.retrieve('sub_sched_missing')).rejects.toMatchObject({ statusCode: 404 });
  });

  it('backfills them resumably, and the rows and features match the full event history', async () => {
    for (const [world, interrupted] of [[saas, 'payment_intents'], [consumer, 'subscription_schedules']] as const) {
      const [full, backfilled] = await Promise.all([createTestDatabase('postgres'), createTestDatabase('postgres')]);
      dbs.push(full, backfilled);
      await ingestEvents(full, world.events, { source: 'ingest' });
      const now = () => world.store.now();
      // interrupted after the first stored page of one of the new resources, then resumed
      const abort = new AbortController();
      await expect(
        backfillStripe({ database: backfilled, stripe: world.stripe, now, pageSize: 10, resources: ['customers', 'subscriptions', 'invoices', 'charges', interrupted], signal: abort.signal, onProgress: (r) => r === interrupted && abort.abort() }),
      ).rejects.toBeInstanceOf(BackfillInterrupted);
      const resumed = await backfillStripe({ database: backfilled, stripe: world.stripe, now });
      expect(resumed.resources[interrupted]?.resumedAfter ?? null).not.toBeNull();
      expect(resumed.resources[interrupted]?.seen).toBeGreaterThan(0);
      expect(resumed.resources.charges?.skipped).toBe(true);
      for (const table of Object.keys(TABLES) as (keyof typeof TABLES)[]) {
        expect(await rows(backfilled, table), table).toEqual(await rows(full, table));
      }
      const names = ['credit_notes_90d', 'credited_usd_90d_log', 'commitment_months_left'];
      const cols = names.map((n) => FEATURES.findIndex((f) => f.name === n));
      let nonZero = 0;
      for (let t = world.end - 150 * DAY; t <= world.end - 40 * DAY; t += 55 * DAY) {
        const [a, b] = await Promise.all([full, backfilled].map((db) => featureMatrixForScope(db, t, { kind: 'all' })));
        const valuesOf = (m: typeof a) => new Map(m.keys.map((k, r) => [k.customerId, cols.map((c) => m.matrix.data[r * m.matrix.cols + c]!)]));
        const fromEvents = valuesOf(a!);
        for (const [customer, values] of valuesOf(b!)) {
          if (!fromEvents.has(customer)) continue;
          expect(values, `${customer} at ${t}`).toEqual(fromEvents.get(customer));
          if (values.some((v) => v > 0)) nonZero += 1;
        }
      }
      expect(nonZero).toBeGreaterThan(3);
    }
  }, 300_000);
});
