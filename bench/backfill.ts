/**
 * `churn backfill` of a whole simulated account from the local Stripe API, on real PostgreSQL
 * (`npm run bench -- backfill [--customers 100000] [--months 12] [--seed 1]`). Prints one JSON object.
 *
 * The world is generated into the local API's in-memory store, which keeps every object and (like
 * Stripe) only the last 30 days of events; then backfillStripe copies it with the real SDK, pages of
 * 100, and rebuilds the dated history. Reported: wall time per resource and in total, API calls
 * (every page), and what those calls would take against Stripe's live-mode limit of about 100 read
 * requests per second (the local API answers faster than that, and runs in this process on a shared
 * 2-core machine: read the seconds as orders of magnitude, the call count as exact).
 *
 * Baseline in the same run (the floor): with `--floor 1` (the default), before the backfill, every
 * list the backfill makes is paged through once with the same SDK, page size and expansions, storing
 * nothing; the backfill can be no faster than that. `apiSeconds` is the time the backfill itself
 * spent waiting on API responses (summed `elapsed` of every call), the rest being building snapshots
 * and storing them. `--floor 0` skips the floor pass.
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { backfillStripe, type BackfillResource } from '../src/services/sync/backfill.js';
import { createStripeSandbox, loadWorld, SandboxStore } from '../src/simulator/sandbox/index.js';
import { createStripeClient } from '../src/stripe/client.js';
import { createTestDatabase } from '../test/helpers/db.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}
const CUSTOMERS = arg('customers', 100_000);
const MONTHS = arg('months', 12);
const SEED = arg('seed', 1);
const FLOOR = arg('floor', 1) !== 0;
const LIVE_MODE_READS_PER_SECOND = 100;

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 500);

const t0 = performance.now();
const store = new SandboxStore({ eventRetentionDays: 30 });
const world = await loadWorld(store, { customers: CUSTOMERS, months: MONTHS, seed: SEED });
const simulateSeconds = (performance.now() - t0) / 1000;
process.stderr.write(`world: ${CUSTOMERS} customers, ${MONTHS} months, ${world.events} events in ${simulateSeconds.toFixed(0)} s\n`);

const database = await createTestDatabase('postgres', { poolSize: 4 });
const sandbox = createStripeSandbox({ store });
const listening = await sandbox.listen(0);
const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: listening.url, maxNetworkRetries: 2 });
let apiMs = 0;
let apiCallsSeen = 0;
stripe.on('response', (e: { elapsed: number }) => {
  apiMs += e.elapsed;
  apiCallsSeen += 1;
});

// The floor: the same lists (customers and subscriptions with the backfill's expansions, the
// 30-day events window), paged and discarded.
let floor: { seconds: number; apiCalls: number; items: number } | null = null;
if (FLOOR) {
  process.stderr.write('floor: listing every page without storing…\n');
  const callsBefore = apiCallsSeen;
  const tf = performance.now();
  let items = 0;
  const page = { limit: 100 };
  const lists: AsyncIterable<unknown>[] = [
    stripe.customers.list({ ...page, expand: ['data.invoice_settings.default_payment_method'] }),
    stripe.subscriptions.list({ ...page, status: 'all', expand: ['data.discounts', 'data.default_payment_method'] }),
    stripe.invoices.list(page),
    stripe.charges.list(page),
    stripe.refunds.list(page),
    stripe.disputes.list(page),
    stripe.events.list({ ...page, created: { gte: store.now() - 30 * 86_400 } }),
  ];
  for (const list of lists) for await (const _ of list) items += 1;
  floor = { seconds: +((performance.now() - tf) / 1000).toFixed(1), apiCalls: apiCallsSeen - callsBefore, items };
  apiMs = 0;
  process.stderr.write(`floor: ${floor.items} items in ${floor.apiCalls} calls, ${floor.seconds} s\n`);
}
const resourceSeconds: Partial<Record<BackfillResource, number>> = {};
let current: { resource: BackfillResource; started: number } | null = null;
const closeCurrent = () => {
  if (!current) return;
  resourceSeconds[current.resource] = +((performance.now() - current.started) / 1000).toFixed(1);
  process.stderr.write(`  ${current.resource}: ${resourceSeconds[current.resource]} s (API calls so far ${apiCallsSeen})\n`);
};
const t1 = performance.now();
const summary = await backfillStripe({
  database,
  stripe,
  now: () => store.now(),
  onResourceStart: (resource) => {
    closeCurrent();
    current = { resource, started: performance.now() };
    process.stderr.write(`  ${resource}…\n`);
  },
});
closeCurrent();
const backfillSeconds = (performance.now() - t1) / 1000;
clearInterval(sampler);
const [{ events }] = await database.query<{ events: number }>(sql`select count(*)::int as events from stripe_events`);
const [{ versions }] = await database.query<{ versions: number }>(sql`select count(*)::int as versions from subscription_versions`);

const result = {
  customers: CUSTOMERS,
  months: MONTHS,
  seed: SEED,
  worldEvents: world.events,
  simulateSeconds: +simulateSeconds.toFixed(1),
  backfillSeconds: +backfillSeconds.toFixed(1),
  secondsPerResource: resourceSeconds,
  read: Object.fromEntries(Object.entries(summary.resources).map(([k, r]) => [k, r!.seen])),
  paymentMethodsExpanded: Object.values(summary.resources).reduce((n, r) => n + (r?.paymentMethodsExpanded ?? 0), 0),
  storedEvents: events,
  storedSubscriptionVersions: versions,
  apiCalls: summary.apiCalls,
  apiCallsPerSecondHere: Math.round(summary.apiCalls / backfillSeconds),
  liveModeMinutesAt100PerSecond: +(summary.apiCalls / LIVE_MODE_READS_PER_SECOND / 60).toFixed(1),
  apiSeconds: +(apiMs / 1000).toFixed(1),
  floor,
  backfillOverFloor: floor ? +(backfillSeconds / floor.seconds).toFixed(1) : null,
  peakRssMb: Math.round(peakRss / 1e6),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
process.stderr.write(
  `backfill of ${CUSTOMERS} customers (${MONTHS} months): ${result.backfillSeconds} s here, ${summary.apiCalls} API calls ` +
    `(at Stripe's ~${LIVE_MODE_READS_PER_SECOND} reads/s in live mode: at least ${result.liveModeMinutesAt100PerSecond} min of calls)` +
    (floor ? `; floor (same lists, nothing stored) ${floor.seconds} s, ${floor.apiCalls} calls: backfill ${result.backfillOverFloor}x the floor` : '') +
    '\n',
);
await listening.close();
await database.close();
