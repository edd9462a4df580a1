/**
 * Applying retention offers through the local Stripe API (`npm run bench -- apply [--offers 1000]
 * [--accounts 4] [--concurrency 16] [--rates 25,100] [--pglite] [--compare]`). Prints one JSON object.
 *
 * For each per-account rate limit (25/s is Stripe's test mode, 100/s live): a fresh sandbox with
 * one platform and (accounts - 1) connected accounts, `offers` decided interventions spread over
 * them (70 % coupon, 15 % trial extension, 15 % pause), applied by `concurrency` workers with the
 * real SDK (maxNetworkRetries 5) and the client-side per-account throttle at 90 % of the limit, as
 * `churn act` does. To prove exactly-once under trouble, 10 % of the offers are delivered twice at
 * the same time (a duplicate event), and 10 subscription updates answer 500 and 10 answer 429
 * (injected through `POST /_sandbox/faults`).
 *
 * Rate limiting: `createStripeSandbox({ rateLimit })` when the sandbox has it (probed); otherwise a
 * Stripe-like per-account limiter (token bucket, 429 rate_limit_error with Stripe-Should-Retry) in
 * front of the sandbox here, reported as `limiter: "bench"`.
 *
 * Figures: offers/s, 429s answered (each one retried by the SDK with the same key), 5xx answered,
 * duplicates (extra subscription updates Stripe applied for one offer: must be 0; counted from the
 * sandbox's events and coupon redemptions), p50/p99 per offer (throttle waits included).
 * Everything runs in this one process on a 2-core machine shared with other work.
 */
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { serve } from '@hono/node-server';
import { sql } from 'drizzle-orm';
import type Stripe from 'stripe';
import type { Database } from '../src/db/client.js';
import { interventions, policies } from '../src/db/schema/index.js';
import { newId } from '../src/lib/ids.js';
import { policyDefinitionSchema, type PolicyAction } from '../src/services/policies/definition.js';
import { applyIntervention, PermanentApplyError } from '../src/services/retention/apply-intervention.js';
import { offerCost } from '../src/services/retention/costs.js';
import { createAccountThrottle } from '../src/services/retention/throttle.js';
import { createStripeSandbox, type StripeSandbox, type StripeSandboxOptions } from '../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../src/stripe/client.js';
import { retentionCouponId } from '../src/stripe/retention-actions.js';
import { createTestDatabase } from '../test/helpers/db.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}
const OFFERS = Number(arg('offers', '1000'));
const ACCOUNTS = Number(arg('accounts', '4'));
const CONCURRENCY = Number(arg('concurrency', '16'));
const RATES = arg('rates', '25,100').split(',').map(Number);
const DB_KIND = process.argv.includes('--pglite') ? 'pglite' : 'postgres';
const DUPLICATE_SHARE = 0.1;
/** also run each rate without the client throttle, leaving the pacing to 429s and the SDK's backoff */
const COMPARE = process.argv.includes('--compare');
const API_KEY = 'sk_test_bench_apply';
const NOW = 1_780_000_000;
const MONTH = '2026-05';

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!.toFixed(1));
}

/** Stripe's 429 for a request over the account's limit (the body and header the sandbox's faults use). */
function rateLimitedResponse(): Response {
  return new Response(
    JSON.stringify({ error: { type: 'rate_limit_error', code: 'rate_limit', message: 'Too many requests hit the API too quickly. We recommend an exponential backoff of your requests.' } }),
    { status: 429, headers: { 'Content-Type': 'application/json', 'Stripe-Should-Retry': 'true', 'Request-Id': newId('req', 14) } },
  );
}

/** A per-account token bucket of `perSecond` requests, refilled continuously. */
function frontLimiter(perSecond: number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (account: string): boolean => {
    const now = performance.now();
    const bucket = buckets.get(account) ?? { tokens: perSecond, at: now };
    bucket.tokens = Math.min(perSecond, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    buckets.set(account, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };
}

interface Front {
  url: string;
  counts: { requests: number; status429: number; status5xx: number; limitedHere: number };
  close(): Promise<void>;
}

/** Counts what the API answered, and limits per account here when the sandbox cannot. */
async function startFront(sandbox: StripeSandbox, limit: ((account: string) => boolean) | null): Promise<Front> {
  const counts = { requests: 0, status429: 0, status5xx: 0, limitedHere: 0 };
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve(
      {
        fetch: async (request: Request) => {
          const path = new URL(request.url).pathname;
          const api = path.startsWith('/v1/');
          if (api) counts.requests++;
          let response: Response;
          if (api && limit && !limit(request.headers.get('stripe-account') ?? 'platform')) {
            counts.limitedHere++;
            response = rateLimitedResponse();
          } else {
            response = await sandbox.app.fetch(request);
          }
          if (api && response.status === 429) counts.status429++;
          if (api && response.status >= 500) counts.status5xx++;
          return response;
        },
        port: 0,
        hostname: '127.0.0.1',
      },
      () => resolve(s),
    );
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    counts,
    close: () =>
      new Promise<void>((resolve) => {
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Whether this sandbox build limits requests itself (`rateLimit` is being added by someone else). */
async function sandboxLimits(perSecond: number): Promise<boolean> {
  const sandbox = createStripeSandbox({ apiKey: API_KEY, now: NOW, rateLimit: { perSecond } } as StripeSandboxOptions);
  const front = await startFront(sandbox, null);
  await Promise.all(
    Array.from({ length: perSecond * 3 }, () => fetch(`${front.url}/v1/customers?limit=1`, { headers: { Authorization: `Bearer ${API_KEY}` } }).then((r) => r.arrayBuffer())),
  );
  await front.close();
  return front.counts.status429 > 0;
}

async function injectFaults(url: string, status: number, count: number): Promise<void> {
  const response = await fetch(`${url}/_sandbox/faults`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ status, count, method: 'POST', pathPrefix: '/v1/subscriptions/' }),
  });
  if (!response.ok) throw new Error(`fault injection refused: ${response.status} ${await response.text()}`);
}

const ACTIONS: { share: number; action: PolicyAction }[] = [
  { share: 0.7, action: { kind: 'coupon', percentOff: 20, duration: 'repeating', durationInMonths: 3 } },
  { share: 0.15, action: { kind: 'trial_extension', days: 14 } },
  { share: 0.15, action: { kind: 'pause', days: 30 } },
];

async function runAtRate(database: Database, perSecond: number, useSandboxLimiter: boolean, clientThrottle: boolean) {
  const accounts = ['platform', ...Array.from({ length: ACCOUNTS - 1 }, (_, i) => `acct_1BenchApply${i}`)];
  const sandbox = createStripeSandbox({
    apiKey: API_KEY,
    now: NOW,
    accounts: accounts.filter((a) => a !== 'platform'),
    ...(useSandboxLimiter ? { rateLimit: { perSecond } } : {}),
  } as StripeSandboxOptions);
  const perAccount = Math.ceil(OFFERS / accounts.length);
  const live = new Map<string, Stripe.Subscription[]>();
  for (const [i, account] of accounts.entries()) {
    const scope = account === 'platform' ? undefined : account;
    // ~30 % of the sample churns; seed enough for every offer to have a live subscription.
    seedSampleAccount(sandbox.store, { customers: Math.ceil(perAccount * 1.7), seed: 100 + i, ...(scope ? { account: scope } : {}) });
    live.set(account, sandbox.store.listObjects<Stripe.Subscription>(scope, 'subscription').filter((s) => s.status === 'active' || s.status === 'trialing'));
  }
  const front = await startFront(sandbox, useSandboxLimiter ? null : frontLimiter(perSecond));

  // Policies and decided interventions, inserted as the decision step leaves them.
  await database.query(sql`truncate interventions, policies, policy_budgets`);
  const policyRows: (typeof policies.$inferInsert & { id: string; definition: ReturnType<typeof policyDefinitionSchema.parse> })[] = [];
  for (const { action } of ACTIONS) {
    const id = newId('pol');
    const definition = policyDefinitionSchema.parse({ name: `bench ${action.kind}`, mode: 'live', targeting: { kind: 'threshold', minProbability: 0.2 }, action, budget: { monthlyAmount: 100_000_000 } });
    policyRows.push({ id, version: 1, name: definition.name, definition, createdBy: 'bench' });
  }
  await database.db.insert(policies).values(policyRows);
  const rows: (typeof interventions.$inferInsert)[] = [];
  for (let n = 0; n < OFFERS; n++) {
    const account = accounts[n % accounts.length]!;
    const sub = live.get(account)!.shift();
    if (!sub) throw new Error(`not enough live subscriptions in ${account}`);
    const pick = n % 20 < 14 ? 0 : n % 20 < 17 ? 1 : 2;
    const policy = policyRows[pick]!;
    const mrr = sub.items.data[0]!.price.unit_amount ?? 0;
    rows.push({
      id: newId('int'),
      account,
      customerId: sub.customer as string,
      subscriptionId: sub.id,
      policyId: policy.id,
      policyVersion: 1,
      decidedAt: NOW - 3600,
      arm: 'treatment',
      action: policy.definition.action.kind,
      status: 'decided',
      probability: 0.5,
      band: 'high',
      mrr,
      currency: 'usd',
      expectedCost: offerCost(policy.definition.action, { mrr, currency: 'usd', intervalMonths: 1 }),
      budgetMonth: MONTH,
    });
  }
  for (let i = 0; i < rows.length; i += 500) await database.db.insert(interventions).values(rows.slice(i, i + 500));
  for (const policy of policyRows) {
    const reserved = rows.filter((r) => r.policyId === policy.id).reduce((s, r) => s + (r.expectedCost ?? 0), 0);
    await database.query(sql`insert into policy_budgets (policy_id, month, currency, limit_amount, reserved) values (${policy.id}, ${MONTH}, 'usd', 100000000, ${reserved})`);
  }

  const stripe = createStripeClient({ secretKey: API_KEY, apiBase: front.url, maxNetworkRetries: 5 });
  const throttle = clientThrottle ? createAccountThrottle({ perSecond: perSecond * 0.9 }) : undefined;
  const knownCoupons = new Set<string>();
  await injectFaults(front.url, 500, 10);
  await injectFaults(front.url, 429, 10);

  const latencies: number[] = [];
  const outcomes: Record<string, number> = {};
  const errors: string[] = [];
  let next = 0;
  const start = performance.now();
  const apply = (id: string) => applyIntervention({ database, stripe, now: NOW, interventionId: id, throttle, knownCoupons });
  const worker = async () => {
    while (next < rows.length) {
      const n = next++;
      const id = rows[n]!.id!;
      const t = performance.now();
      try {
        const duplicate = n % Math.round(1 / DUPLICATE_SHARE) === 3;
        const results = await Promise.all(duplicate ? [apply(id), apply(id)] : [apply(id)]);
        for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      } catch (err) {
        outcomes[err instanceof PermanentApplyError ? 'failed' : 'error'] = (outcomes[err instanceof PermanentApplyError ? 'failed' : 'error'] ?? 0) + 1;
        if (errors.length < 5) errors.push(`${id}: ${(err as Error).message}`);
      }
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - start) / 1000;

  // What Stripe (the sandbox) applied, counted from its own records.
  let duplicates = 0;
  let missing = 0;
  const byAccount = new Map<string, Map<string, number>>();
  for (const account of accounts) {
    const updates = new Map<string, number>();
    for (const event of sandbox.store.listEvents(account === 'platform' ? undefined : account)) {
      if (event.type !== 'customer.subscription.updated' || !event.request?.id) continue;
      const subId = (event.data.object as { id: string }).id;
      updates.set(subId, (updates.get(subId) ?? 0) + 1);
    }
    byAccount.set(account, updates);
  }
  for (const r of rows) {
    const count = byAccount.get(r.account)!.get(r.subscriptionId!) ?? 0;
    if (count === 0) missing++;
    duplicates += Math.max(0, count - 1);
  }
  let redemptions = 0;
  for (const account of accounts) {
    const coupon = sandbox.store.getObject<Stripe.Coupon>(account === 'platform' ? undefined : account, 'coupon', retentionCouponId(policyRows[0]!));
    redemptions += coupon?.times_redeemed ?? 0;
  }
  const couponOffers = rows.filter((r) => r.policyId === policyRows[0]!.id).length;
  duplicates += Math.max(0, redemptions - couponOffers);
  const statusRows = await database.query<{ status: string; n: number }>(sql`select status, count(*)::int as n from interventions group by status order by status`);
  await front.close();

  latencies.sort((a, b) => a - b);
  return {
    per_account_limit_per_s: perSecond,
    limiter: useSandboxLimiter ? 'sandbox' : 'bench',
    client_throttle_per_s: clientThrottle ? Number((perSecond * 0.9).toFixed(1)) : null,
    accounts: accounts.length,
    offers: rows.length,
    duplicate_deliveries: rows.filter((_, n) => n % Math.round(1 / DUPLICATE_SHARE) === 3).length,
    seconds: Number(seconds.toFixed(2)),
    offers_per_s: Number((rows.length / seconds).toFixed(1)),
    stripe_requests: front.counts.requests,
    stripe_requests_per_offer: Number((front.counts.requests / rows.length).toFixed(2)),
    retries_429: front.counts.status429,
    limited_by_bench_limiter: front.counts.limitedHere,
    injected_429: 10,
    retries_5xx: front.counts.status5xx,
    injected_5xx: 10,
    duplicates,
    offers_not_on_stripe: missing,
    coupon_redemptions: redemptions,
    coupon_offers: couponOffers,
    p50_ms: percentile(latencies, 50),
    p99_ms: percentile(latencies, 99),
    outcomes,
    statuses: Object.fromEntries(statusRows.map((r) => [r.status, r.n])),
    errors,
  };
}

const database = await createTestDatabase(DB_KIND, { poolSize: 10 });
try {
  const sandboxHasLimiter = await sandboxLimits(RATES[0]!);
  const runs = [];
  for (const rate of RATES) {
    for (const clientThrottle of COMPARE ? [true, false] : [true]) {
      runs.push(await runAtRate(database, rate, sandboxHasLimiter, clientThrottle));
      process.stderr.write(`${rate}/s per account, client throttle ${clientThrottle ? 'on' : 'off'}: ${JSON.stringify(runs.at(-1))}\n`);
    }
  }
  const result = { database: DB_KIND, concurrency: CONCURRENCY, sandbox_rate_limit_available: sandboxHasLimiter, runs };
  process.stdout.write(`${JSON.stringify(result)}\n`);
} finally {
  await database.close();
}
