/**
 * Outbox relay and Stripe backfill throughput on real PostgreSQL (`npm run bench -- sync
 * [--events 20000] [--customers 2000]`). Prints one JSON object.
 *
 * relay:    N stored events forwarded to a local HTTP server speaking Inngest's event API,
 *           through the real `inngest.send`, by one relay and then by two relays at once.
 * backfill: a local Stripe API holding a sample account of C customers (one subscription,
 *           a few invoices, a card each), copied with the real SDK (page size 100), including
 *           one payment-method list call per customer, then the last 30 days of events.
 * Everything runs in this one process on a 2-core machine shared with other work: read the
 * figures as orders of magnitude.
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { storeEvents } from '../src/services/events/store.js';
import { outboxBacklog, runRelay } from '../src/services/outbox/relay.js';
import { backfillStripe } from '../src/services/sync/backfill.js';
import { createStripeSandbox } from '../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../src/stripe/client.js';
import { customerObject, stripeEvent } from '../test/fixtures/stripe-events.js';
import { createTestDatabase } from '../test/helpers/db.js';
import { startInngestTarget } from '../test/integration/relay-target.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const EVENTS = arg('events', 20_000);
const CUSTOMERS = arg('customers', 2_000);

const database = await createTestDatabase('postgres', { poolSize: 10 });
const target = await startInngestTarget();

async function storeBatch(n: number, tag: string) {
  const events = Array.from({ length: n }, (_, i) => stripeEvent('customer.created', customerObject(`cus_${tag}${i}`), { created: 1_780_000_000 + i }));
  for (let i = 0; i < events.length; i += 1000) await database.db.transaction((tx) => storeEvents(tx, events.slice(i, i + 1000), 'webhook'));
}

async function drain(relays: number): Promise<number> {
  const controller = new AbortController();
  const start = performance.now();
  const running = Array.from({ length: relays }, () => runRelay({ database, send: target.send, batchSize: 100, idleMs: 5, signal: controller.signal }));
  while ((await outboxBacklog(database)).pending > 0) await new Promise((r) => setTimeout(r, 20));
  const seconds = (performance.now() - start) / 1000;
  controller.abort();
  await Promise.all(running);
  return seconds;
}

await storeBatch(EVENTS, 'a');
const oneRelay = await drain(1);
await storeBatch(EVENTS, 'b');
const twoRelays = await drain(2);
const delivered = new Set(target.received.map((e) => e.id)).size;

await database.query(sql`truncate stripe_events, outbox`);
const sandbox = createStripeSandbox({ now: 1_780_000_000 });
const seeded = seedSampleAccount(sandbox.store, { customers: CUSTOMERS, seed: 1 });
const listening = await sandbox.listen(0);
const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: listening.url, maxNetworkRetries: 0 });
const t0 = performance.now();
const summary = await backfillStripe({ database, stripe, now: () => sandbox.store.now() });
const backfillSeconds = (performance.now() - t0) / 1000;
const objects = Object.values(summary.resources).reduce((n, r) => n + (r?.seen ?? 0), 0);

const result = {
  relay: {
    events: EVENTS,
    oneRelaySeconds: +oneRelay.toFixed(2),
    oneRelayEventsPerSecond: Math.round(EVENTS / oneRelay),
    twoRelaysSeconds: +twoRelays.toFixed(2),
    twoRelaysEventsPerSecond: Math.round(EVENTS / twoRelays),
    distinctDelivered: delivered,
    duplicatesSent: target.received.length - delivered,
  },
  backfill: {
    customers: seeded.customers,
    subscriptions: seeded.subscriptions,
    invoices: seeded.invoices,
    itemsRead: objects,
    perResource: Object.fromEntries(Object.entries(summary.resources).map(([k, r]) => [k, r!.seen])),
    seconds: +backfillSeconds.toFixed(2),
    itemsPerSecond: Math.round(objects / backfillSeconds),
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.stderr.write(
  `relay: ${result.relay.oneRelayEventsPerSecond} events/s (1 relay), ${result.relay.twoRelaysEventsPerSecond} events/s (2 relays), ${result.relay.duplicatesSent} duplicates; backfill: ${objects} items in ${result.backfill.seconds} s\n`,
);
await listening.close();
await target.close();
await database.close();
