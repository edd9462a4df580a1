import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../../src/db/client.js';
import { PROJECTION_TABLES } from '../../src/services/projections/apply.js';
import { projectPendingEvents } from '../../src/services/events/ingest.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';
import { signedWebhook, testApp, testEnv, TEST_WEBHOOK_SECRET_OLD } from '../helpers/app.js';
import { customerObject, stripeEvent, subscriptionObject } from '../fixtures/stripe-events.js';

const NOW = 1_760_000_000;

describeEachDb('POST /webhooks/stripe', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => database?.close());
  beforeEach(async () => {
    await database.query(sql.raw(`truncate stripe_events, outbox, ${PROJECTION_TABLES.join(', ')}`));
  });

  const count = async (table: string) => Number((await database.query<{ n: number }>(sql.raw(`select count(*)::int as n from ${table}`)))[0]!.n);

  it('stores a verified event and its outbox row before answering 200, then projects it', async () => {
    let woken = 0;
    const { app } = testApp(database, { onEventsStored: () => woken++ });
    const event = stripeEvent('customer.subscription.created', subscriptionObject({ id: 'sub_W1', customer: 'cus_W1' }), { created: NOW - 5 });
    const res = await app.request('/webhooks/stripe', signedWebhook(JSON.stringify(event)));
    expect(res.status).toBe(200);
    expect((await res.json()) as any).toEqual({ received: true, id: event.id, duplicate: false });
    expect(await count('stripe_events')).toBe(1);
    const ob = await database.query<{ topic: string; event_id: string }>(sql`select topic, event_id from outbox`);
    expect(ob).toEqual([{ topic: 'stripe/customer.subscription.created', event_id: event.id }]);
    expect(woken).toBe(1);
    expect(await projectPendingEvents(database)).toBe(1);
    expect(await count('subscriptions')).toBe(1);
    expect(await projectPendingEvents(database)).toBe(0);
  });

  it('answers a duplicate delivery with a 200 no-op', async () => {
    const { app } = testApp(database);
    const body = JSON.stringify(stripeEvent('customer.created', customerObject('cus_dup'), { created: NOW }));
    const first = await app.request('/webhooks/stripe', signedWebhook(body));
    const second = await app.request('/webhooks/stripe', signedWebhook(body, { timestamp: NOW + 30 }));
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(((await second.json()) as any).duplicate).toBe(true);
    expect(await count('stripe_events')).toBe(1);
    expect(await count('outbox')).toBe(1);
  });

  it('stores one row when the same event arrives many times at the same moment', async () => {
    const { app } = testApp(database);
    const body = JSON.stringify(stripeEvent('customer.created', customerObject('cus_race'), { created: NOW }));
    const responses = await Promise.all(Array.from({ length: 12 }, () => app.request('/webhooks/stripe', signedWebhook(body))));
    expect(responses.map((r) => r.status)).toEqual(Array(12).fill(200));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<any>));
    expect(bodies.filter((b) => !b.duplicate)).toHaveLength(1);
    expect(await count('stripe_events')).toBe(1);
    expect(await count('outbox')).toBe(1);
  });

  it('accepts a signature made with a rotated secret', async () => {
    const { app } = testApp(database);
    const body = JSON.stringify(stripeEvent('customer.created', customerObject('cus_rot'), { created: NOW }));
    const res = await app.request('/webhooks/stripe', signedWebhook(body, { secret: TEST_WEBHOOK_SECRET_OLD }));
    expect(res.status).toBe(200);
  });

  it('stores unknown event types without projecting them', async () => {
    const { app } = testApp(database);
    const body = JSON.stringify(stripeEvent('treasury.received_credit.created', { id: 'rc_1', object: 'treasury.received_credit' }, { created: NOW }));
    const res = await app.request('/webhooks/stripe', signedWebhook(body));
    expect(res.status).toBe(200);
    const row = (await database.query<{ unhandled: boolean }>(sql`select unhandled from stripe_events`))[0]!;
    expect(row.unhandled).toBe(true);
    await projectPendingEvents(database);
    for (const t of PROJECTION_TABLES) expect(await count(t)).toBe(0);
  });

  it('keys Connect events by their account', async () => {
    const { app } = testApp(database);
    const body = JSON.stringify(stripeEvent('customer.created', customerObject('cus_c'), { created: NOW, account: 'acct_1Connected' }));
    expect((await app.request('/webhooks/stripe', signedWebhook(body))).status).toBe(200);
    await projectPendingEvents(database);
    const rows = await database.query<{ account: string }>(sql`select account from customers`);
    expect(rows).toEqual([{ account: 'acct_1Connected' }]);
  });

  const rejected: [string, () => RequestInit, number, string][] = [
    ['a missing signature', () => ({ method: 'POST', body: JSON.stringify(stripeEvent('customer.created', customerObject('cus_x'), { created: NOW })) }), 400, 'INVALID_SIGNATURE'],
    ['a signature made with another secret', () => signedWebhook(JSON.stringify(stripeEvent('customer.created', customerObject('cus_x'), { created: NOW })), { secret: 'whsec_attacker' }), 400, 'INVALID_SIGNATURE'],
    ['a garbage signature header', () => ({ ...signedWebhook('{}'), headers: { 'stripe-signature': 'nonsense' } }), 400, 'INVALID_SIGNATURE'],
    ['a stale timestamp (replay)', () => signedWebhook(JSON.stringify(stripeEvent('customer.created', customerObject('cus_x'), { created: NOW })), { timestamp: NOW - 301 }), 400, 'INVALID_SIGNATURE'],
    ['a body changed after signing', () => {
      const init = signedWebhook(JSON.stringify(stripeEvent('customer.created', customerObject('cus_x'), { created: NOW })));
      return { ...init, body: String(init.body).replace('cus_x', 'cus_y') };
    }, 400, 'INVALID_SIGNATURE'],
    ['malformed JSON with a valid signature', () => signedWebhook('{"id": "evt_1", "type": '), 400, 'MALFORMED_JSON'],
    ['JSON that is not a Stripe event', () => signedWebhook(JSON.stringify({ hello: 'world' })), 422, 'VALIDATION_FAILED'],
    ['an oversize body', () => signedWebhook(JSON.stringify(stripeEvent('customer.created', customerObject('cus_big', { metadata: { blob: 'x'.repeat(70_000) } }), { created: NOW }))), 413, 'PAYLOAD_TOO_LARGE'],
  ];
  for (const [what, init, status, code] of rejected) {
    it(`rejects ${what} with ${status} ${code} and stores nothing`, async () => {
      const { app } = testApp(database);
      const res = await app.request('/webhooks/stripe', init());
      expect(res.status).toBe(status);
      const body = (await res.json()) as any;
      expect(body.error.code).toBe(code);
      expect(body.error.requestId).toBeTruthy();
      expect(body.error.message).not.toMatch(/whsec_/);
      expect(await count('stripe_events')).toBe(0);
      expect(await count('outbox')).toBe(0);
    });
  }

  it('rejects an oversize body sent without Content-Length (chunked) with 413 and stores nothing', async () => {
    const { app } = testApp(database);
    const body = JSON.stringify(stripeEvent('customer.created', customerObject('cus_chunked', { metadata: { blob: 'x'.repeat(70_000) } }), { created: NOW }));
    const init = signedWebhook(body);
    const bytes = new TextEncoder().encode(body);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < bytes.length; i += 8192) controller.enqueue(bytes.subarray(i, i + 8192));
        controller.close();
      },
    });
    const res = await app.request('/webhooks/stripe', { ...init, body: stream, duplex: 'half' } as RequestInit);
    expect(res.status).toBe(413);
    expect(((await res.json()) as any).error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(await count('stripe_events')).toBe(0);
    // and a small chunked delivery still goes through
    const small = JSON.stringify(stripeEvent('customer.created', customerObject('cus_chunked_ok'), { created: NOW }));
    const ok = await app.request('/webhooks/stripe', {
      ...signedWebhook(small),
      body: new ReadableStream<Uint8Array>({ start: (c) => (c.enqueue(new TextEncoder().encode(small)), c.close()) }),
      duplex: 'half',
    } as RequestInit);
    expect(ok.status).toBe(200);
    expect(await count('stripe_events')).toBe(1);
  });

  it('answers 503 when no webhook secret is configured, so Stripe keeps retrying', async () => {
    const { app } = testApp(database, { env: testEnv({ STRIPE_WEBHOOK_SECRET: '' }) });
    const res = await app.request('/webhooks/stripe', signedWebhook(JSON.stringify(stripeEvent('customer.created', customerObject('cus_x'), { created: NOW }))));
    expect(res.status).toBe(503);
  });
});

it('answers 503 when the database is down, so Stripe retries the delivery', async () => {
  const down = await openDatabase({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none', migrate: false, poolSize: 1 });
  try {
    const { app } = testApp(down);
    const res = await app.request('/webhooks/stripe', signedWebhook(JSON.stringify(stripeEvent('customer.created', customerObject('cus_down'), { created: NOW }))));
    expect(res.status).toBe(503);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('UNAVAILABLE');
    const ready = await app.request('/readyz');
    expect(ready.status).toBe(503);
  } finally {
    await down.close();
  }
});

describeEachDb('GET /metrics', (kind) => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase(kind);
  });
  afterAll(async () => database?.close());

  it('exposes webhook outcomes and backlogs in Prometheus format', async () => {
    const { app } = testApp(database);
    await app.request('/webhooks/stripe', signedWebhook(JSON.stringify(stripeEvent('customer.created', customerObject('cus_m'), { created: NOW }))));
    await app.request('/webhooks/stripe', { method: 'POST', body: '{}' });
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/churn_webhook_deliveries_total\{outcome="stored"\} [1-9]/);
    expect(text).toMatch(/churn_webhook_deliveries_total\{outcome="INVALID_SIGNATURE"\} [1-9]/);
    expect(text).toMatch(/churn_backlog\{queue="unprojected_events"\} 1/);
    expect(text).toMatch(/churn_backlog\{queue="outbox_pending"\} 1/);
  });
});
