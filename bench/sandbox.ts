/**
 * Local Stripe API (sandbox) speed: listing stays O(page) however many customers the store holds.
 * `npm run bench -- sandbox [--customers 100000] [--world 2000]`
 * Prints one JSON object: per-page latency at the start, middle and end of a large list, the time to
 * page through everything with the official SDK, a filtered list, and loading a generated world.
 */
import Stripe from 'stripe';
import { createStripeSandbox, SandboxStore } from '../src/simulator/sandbox/index.js';
import { buildCustomer } from '../src/simulator/sandbox/objects.js';
import { loadWorld } from '../src/simulator/sandbox/world-link.js';
import { createStripeClient } from '../src/stripe/client.js';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const customers = option('customers', 100_000);
const worldCustomers = option('world', 2_000);
const API_KEY = 'sk_test_bench';

async function median(samples: number, run: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await run();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return Number(times[Math.floor(times.length / 2)]!.toFixed(2));
}

const store = new SandboxStore({ now: 1_780_000_000 });
let t = performance.now();
for (let i = 0; i < customers; i++) {
  store.putObject(undefined, buildCustomer({ id: `cus_${String(i).padStart(14, '0')}`, created: 1_700_000_000 + i, email: `c${i}@example.com`, name: `C ${i}` }));
}
const fillMs = performance.now() - t;

const sandbox = createStripeSandbox({ apiKey: API_KEY, store });
const server = await sandbox.listen(0);
const stripe: Stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
const ids = store.listObjects<{ id: string }>(undefined, 'customer').map((c) => c.id);

const firstPageMs = await median(30, () => stripe.customers.list({ limit: 100 }));
const middlePageMs = await median(30, () => stripe.customers.list({ limit: 100, starting_after: ids[Math.floor(ids.length / 2)]! }));
const lastPageMs = await median(30, () => stripe.customers.list({ limit: 100, starting_after: ids[150]! }));
const emailFilterMs = await median(5, () => stripe.customers.list({ limit: 10, email: ids.length > 0 ? 'c0@example.com' : 'x' }));

t = performance.now();
let listed = 0;
for await (const _customer of stripe.customers.list({ limit: 100 })) listed++;
const pageAllMs = performance.now() - t;
await server.close();

const worldStore = new SandboxStore();
const heapBefore = process.memoryUsage().heapUsed;
t = performance.now();
const summary = await loadWorld(worldStore, { customers: worldCustomers, months: 12, seed: 1 });
const worldMs = performance.now() - t;
const worldHeapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;

const figures = {
  customers,
  fill_store_ms: Number(fillMs.toFixed(0)),
  first_page_100_ms: firstPageMs,
  middle_page_100_ms: middlePageMs,
  last_page_100_ms: lastPageMs,
  email_filter_full_scan_ms: emailFilterMs,
  page_through_all_ms: Number(pageAllMs.toFixed(0)),
  page_through_all_customers_per_s: Math.round(listed / (pageAllMs / 1000)),
  listed,
  world_customers: worldCustomers,
  world_months: 12,
  world_events: summary.events,
  world_load_ms: Number(worldMs.toFixed(0)),
  world_events_per_s: Math.round(summary.events / (worldMs / 1000)),
  world_heap_mb: Number(worldHeapMb.toFixed(0)),
};
process.stdout.write(JSON.stringify(figures) + '\n');
process.stderr.write(
  `sandbox: ${customers} customers; a page of 100 takes ${firstPageMs} ms at the start, ${middlePageMs} ms in the middle, ${lastPageMs} ms at the end; ` +
    `paging through all ${listed} with the SDK took ${(pageAllMs / 1000).toFixed(1)} s; a ${worldCustomers}-customer 12-month world (${summary.events} events) loads in ${(worldMs / 1000).toFixed(1)} s\n`,
);
