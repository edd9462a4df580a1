import { createServer } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { storeEvents } from '../../src/services/events/store.js';
import { outboxBacklog, relayOutboxBatch, runRelay } from '../../src/services/outbox/relay.js';
import { customerObject, stripeEvent } from '../fixtures/stripe-events.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';
import { startInngestTarget, unreachableInngest, type InngestTarget } from './relay-target.js';

interface OutboxRow {
  event_id: string;
  attempts: number;
  last_error: string | null;
  delivered: boolean;
  available_in: number;
}

async function outboxRows(database: Database, now: number): Promise<OutboxRow[]> {
  return database.query<OutboxRow>(sql`
    select event_id, attempts, last_error, delivered_at is not null as delivered,
           extract(epoch from available_at)::float8 - ${now}::float8 as available_in
    from outbox order by id`);
}

async function storeCustomerEvents(database: Database, n: number, account?: string) {
  const base = 1_780_000_000;
  const events = Array.from({ length: n }, (_, i) =>
    stripeEvent('customer.created', customerObject(`cus_relay${String(i).padStart(5, '0')}`), { created: base + i, account }),
  );
  for (let i = 0; i < events.length; i += 500) await database.db.transaction((tx) => storeEvents(tx, events.slice(i, i + 500), 'webhook'));
  return events;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describeEachDb('outbox relay', (kind) => {
  let database: Database;
  let target: InngestTarget;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await database.close();
  });
  beforeEach(async () => {
    target = await startInngestTarget();
    await database.query(sql`truncate outbox, stripe_events`);
  });
  afterEach(async () => {
    await target.close();
  });

  it('delivers stored events to Inngest as stripe/<type> with the Stripe event id, once', async () => {
    const events = await storeCustomerEvents(database, 3, 'acct_relay1');
    const first = await relayOutboxBatch(database, { send: target.send });
    expect(first).toMatchObject({ claimed: 3, delivered: 3, failed: 0 });
    expect(target.received.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
    const sent = target.received.find((e) => e.id === events[0]!.id)!;
    expect(sent.name).toBe('stripe/customer.created');
    expect(sent.data).toEqual({ id: events[0]!.id, account: 'acct_relay1', type: 'customer.created', created: events[0]!.created });
    expect(sent.ts).toBe(events[0]!.created * 1000);

    const second = await relayOutboxBatch(database, { send: target.send });
    expect(second.claimed).toBe(0);
    expect(target.received).toHaveLength(3);
    const rows = await outboxRows(database, Date.now() / 1000);
    expect(rows.every((r) => r.delivered && r.attempts === 1 && r.last_error === null)).toBe(true);
  });

  it('keeps failed rows, backs off exponentially with jitter, and delivers once Inngest recovers', async () => {
    await storeCustomerEvents(database, 2);
    const now = Date.now() / 1000 + 1;
    target.mode = 'fail';
    const failed = await relayOutboxBatch(database, { send: target.send, now: () => now, random: () => 0.5 });
    expect(failed).toMatchObject({ claimed: 2, delivered: 0, failed: 2 });
    expect(failed.error).toBeTruthy();
    let rows = await outboxRows(database, now);
    // base 2 s, first failure: ceiling 2 s, equal jitter 1 + 0.5·1 = 1.5 s
    for (const r of rows) {
      expect(r).toMatchObject({ attempts: 1, delivered: false });
      expect(r.last_error).toMatch(/bad day|500|Unknown/i);
      expect(r.available_in).toBeCloseTo(1.5, 2);
    }
    // not due yet: nothing is claimed, nothing is sent
    const requestsBefore = target.requests;
    expect((await relayOutboxBatch(database, { send: target.send, now: () => now + 1 })).claimed).toBe(0);
    expect(target.requests).toBe(requestsBefore);

    // second failure doubles the ceiling: 2 + 0.5·2 = 3 s
    await relayOutboxBatch(database, { send: target.send, now: () => now + 2, random: () => 0.5 });
    rows = await outboxRows(database, now + 2);
    for (const r of rows) {
      expect(r.attempts).toBe(2);
      expect(r.available_in).toBeCloseTo(3, 2);
    }

    target.mode = 'accept';
    const ok = await relayOutboxBatch(database, { send: target.send, now: () => now + 6 });
    expect(ok).toMatchObject({ claimed: 2, delivered: 2 });
    rows = await outboxRows(database, now);
    expect(rows.every((r) => r.delivered && r.attempts === 3 && r.last_error === null)).toBe(true);
    expect(target.received).toHaveLength(2);
  });

  it('loses nothing while Inngest is unreachable, then delivers everything', async () => {
    const events = await storeCustomerEvents(database, 40);
    const down = unreachableInngest(await freePort());
    const controller = new AbortController();
    const outage = runRelay({ database, send: down, batchSize: 20, idleMs: 20, signal: controller.signal });
    // Every row gets tried (and fails) at least once: two batches of 20.
    for (let i = 0; i < 200; i++) {
      const rows = await outboxRows(database, 0);
      if (rows.every((r) => r.attempts >= 1)) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    controller.abort();
    const totals = await outage;
    expect(totals.delivered).toBe(0);
    expect(totals.failed).toBeGreaterThanOrEqual(40);
    let rows = await outboxRows(database, 0);
    expect(rows).toHaveLength(40);
    expect(rows.every((r) => !r.delivered && r.attempts >= 1 && r.last_error)).toBe(true);

    // Inngest is back; once the backoff has passed everything goes out, each event once.
    const later = Date.now() / 1000 + 3600;
    for (let i = 0; i < 10; i++) if ((await relayOutboxBatch(database, { send: target.send, now: () => later, batchSize: 15 })).claimed === 0) break;
    rows = await outboxRows(database, 0);
    expect(rows.every((r) => r.delivered)).toBe(true);
    expect(target.received.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
  });

  it('rows in flight are leased: another relay skips them, and takes them over once the lease runs out', async () => {
    await storeCustomerEvents(database, 4);
    target.delayMs = 400;
    const now = Date.now() / 1000;
    const first = relayOutboxBatch(database, { send: target.send, now: () => now, sendTimeoutMs: 5_000 });
    await new Promise((r) => setTimeout(r, 150));
    // While the first send is in flight the database is free (no open transaction) and nothing is due.
    expect((await relayOutboxBatch(database, { send: target.send, now: () => now })).claimed).toBe(0);
    const leased = await outboxRows(database, now);
    expect(leased.every((r) => !r.delivered && r.available_in >= 35)).toBe(true);
    expect(await first).toMatchObject({ delivered: 4 });
    // A relay that died mid-send leaves a lease; after it expires the rows are sent again.
    await database.query(sql`update outbox set delivered_at = null, available_at = to_timestamp(${now + 35}::float8)`);
    target.delayMs = 0;
    expect((await relayOutboxBatch(database, { send: target.send, now: () => now + 36 })).delivered).toBe(4);
    expect(target.received).toHaveLength(8); // Inngest de-duplicates the re-send by event id
  });

  it('two relays running at once deliver every row exactly once', async () => {
    const events = await storeCustomerEvents(database, 300);
    target.delayMs = 5;
    const controller = new AbortController();
    const relays = [0, 1].map(() => runRelay({ database, send: target.send, batchSize: 20, idleMs: 10, signal: controller.signal }));
    for (let i = 0; i < 600; i++) {
      if ((await outboxBacklog(database)).pending === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    controller.abort();
    const totals = await Promise.all(relays);
    const ids = target.received.map((e) => e.id);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    expect(new Set(ids)).toEqual(new Set(events.map((e) => e.id)));
    expect(totals[0]!.delivered + totals[1]!.delivered).toBe(300);
    if (kind === 'postgres') {
      // with a real server both workers got a share (they ran concurrently, not one after the other)
      expect(totals[0]!.delivered).toBeGreaterThan(0);
      expect(totals[1]!.delivered).toBeGreaterThan(0);
    }
    expect(await outboxBacklog(database)).toMatchObject({ pending: 0, delivered: 300 });
  });
});
