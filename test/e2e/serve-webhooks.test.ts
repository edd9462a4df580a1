import { afterAll, beforeAll, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import type { Database } from '../../src/db/client.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { PROJECTION_TABLES } from '../../src/services/projections/apply.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createWebhookSink, simulateToSink } from '../../src/simulator/world/index.js';
import { createTestDatabase } from '../helpers/db.js';
import { testEnv, TEST_WEBHOOK_SECRET } from '../helpers/app.js';

/**
 * The live path and the batch path must agree: a simulated account delivered as signed
 * webhooks over HTTP (4 in flight, so out of order) to `churn serve`, and the same events
 * ingested from a file, leave identical projections.
 */
let live: Database;
let batch: Database;
let server: RunningServer;

beforeAll(async () => {
  live = await createTestDatabase('postgres');
  batch = await createTestDatabase('pglite');
  server = await startServer(live, testEnv(), { port: 0, host: '127.0.0.1', relay: false });
});
afterAll(async () => {
  await server?.close();
  await live?.close();
  await batch?.close();
});

async function dump(database: Database) {
  const out: Record<string, unknown[]> = {};
  for (const table of PROJECTION_TABLES) {
    const rows = await database.query<Record<string, unknown>>(sql.raw(`select * from ${table} order by 1, 2, 3`));
    // The two drivers return bigint columns differently (string vs number); compare values.
    out[table] = rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'number' ? String(v) : v])));
  }
  return out;
}

it('webhooks delivered out of order over HTTP project exactly like a batch ingest of the same events', async () => {
  const events: StripeEventEnvelope[] = [];
  const webhook = createWebhookSink({ url: `${server.url}/webhooks/stripe`, secret: TEST_WEBHOOK_SECRET, concurrency: 4 });
  const summary = await simulateToSink({ customers: 25, months: 3, seed: 11, accounts: 2 }, {
    write(event) {
      events.push(event as unknown as StripeEventEnvelope);
      return webhook.write(event);
    },
  });
  await webhook.close();
  expect(webhook.failures).toEqual([]);
  expect(webhook.delivered).toBe(summary.events);
  // a few redeliveries, as Stripe does
  const again = createWebhookSink({ url: `${server.url}/webhooks/stripe`, secret: TEST_WEBHOOK_SECRET, concurrency: 4 });
  for (const e of events.slice(0, 30)) await again.write(e as never);
  await again.close();

  await server.projector.drain();
  await ingestEvents(batch, events, { source: 'ingest' });

  const [{ n }] = await live.query<{ n: number }>(sql`select count(*)::int as n from stripe_events`);
  expect(Number(n)).toBe(events.length);
  const [{ pending }] = await live.query<{ pending: number }>(sql`select count(*)::int as pending from stripe_events where processed_at is null or processing_error is not null`);
  expect(Number(pending)).toBe(0);
  const a = await dump(live);
  const b = await dump(batch);
  expect(a.subscriptions!.length).toBeGreaterThan(20);
  expect(new Set(a.customers!.map((c) => (c as { account: string }).account)).size).toBeGreaterThan(1);
  for (const table of PROJECTION_TABLES) expect(a[table], table).toEqual(b[table]);
});

it('reports the TF.js backend and model state on /healthz and readiness on /readyz', async () => {
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { status: string; tfjsBackend: string; model: { version: string | null } };
  expect(health.status).toBe('ok');
  expect(['tensorflow', 'wasm', 'cpu']).toContain(health.tfjsBackend);
  expect(health.model.version).toBeNull();
  const ready = await fetch(`${server.url}/readyz`);
  expect(ready.status).toBe(200);
});
