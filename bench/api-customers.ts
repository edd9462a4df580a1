/**
 * GET /v1/customers latency at scale.
 *
 *   npx tsx bench/api-customers.ts [--customers 100000] [--requests 300] [--database-url postgres://...]
 *
 * Fills a fresh PostgreSQL database (generated in SQL, like bench/features.ts) with N customers,
 * a live subscription each, and two scoring snapshots, then times pages of 50 through the app
 * (app.request: routing, auth, validation, JSON) with and without a band filter, against a floor
 * measured in the same run: the service's listing called directly, without HTTP.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { createApp } from '../src/app.js';
import { parseEnv } from '../src/env.js';
import { createApiKey } from '../src/services/auth/index.js';
import { listCustomers } from '../src/services/customers/list-customers.js';
import { freshPostgres } from '../training/data.js';

const { values } = parseArgs({ options: { customers: { type: 'string', default: '100000' }, requests: { type: 'string', default: '300' }, 'database-url': { type: 'string' } } });
const N = Number(values.customers);
const REQUESTS = Number(values.requests);
const AS_OF = Date.UTC(2026, 6, 1) / 1000;
const NOW = AS_OF + 3600;

function quantiles(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number) => Number(s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(2));
  return { p50: q(0.5), p99: q(0.99), max: Number(s[s.length - 1]!.toFixed(2)) };
}

async function time(fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 20; i++) await fn(); // warm plans and caches
  const out: number[] = [];
  for (let i = 0; i < REQUESTS; i++) {
    const t = performance.now();
    await fn();
    out.push(performance.now() - t);
  }
  return out;
}

const database = await freshPostgres(values['database-url'] ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres');
try {
  const t0 = performance.now();
  await database.query(sql.raw(`insert into customers (account, id, email, name, created, src_created, src_rank, src_event_id)
    select case when c % 10 = 0 then 'acct_bench' || (c % 7) else 'platform' end, 'cus_' || c, 'c' || c || '@example.com', 'Customer ' || c, ${AS_OF} - c, 1, 0, 'evt_' || c
    from generate_series(1, ${N}) c`));
  await database.query(sql.raw(`insert into subscriptions (account, id, customer_id, status, currency, mrr, src_created, src_rank, src_event_id)
    select case when c % 10 = 0 then 'acct_bench' || (c % 7) else 'platform' end, 'sub_' || c, 'cus_' || c, 'active', 'usd', (array[900, 2900, 9900])[1 + c % 3] * (1 + c % 5), 1, 0, 'evt_s' || c
    from generate_series(1, ${N}) c`));
  for (const asOf of [AS_OF - 30 * 86400, AS_OF]) {
    await database.query(sql.raw(`insert into scores (account, customer_id, as_of, model_name, model_version, probability, band, drivers)
      select case when c % 10 = 0 then 'acct_bench' || (c % 7) else 'platform' end, 'cus_' || c, ${asOf}, 'churn', 'v1', p,
        case when p >= 0.6 then 'critical' when p >= 0.35 then 'high' when p >= 0.15 then 'medium' else 'low' end,
        '[{"feature":"mrr_change_90d","value":-0.2,"contribution":0.12,"sentence":"MRR down 18% in 90 days"}]'::jsonb
      from (select c, power(random(), 3)::real as p from generate_series(1, ${N}) c) g`));
  }
  // the serving champion: the listing reads its newest snapshot
  await database.query(sql.raw(`insert into model_versions (name, version, status, metrics, path, created_at, promoted_at) values ('churn', 'v1', 'champion', '{}', 'churn/v1', now(), now())`));
  await database.query(sql`analyze`);
  const loadSeconds = (performance.now() - t0) / 1000;

  const app = createApp({ database, env: parseEnv({ DATABASE_URL: database.url }), now: () => NOW, rateLimit: { capacity: 1e9, refillPerSecond: 1e9 } });
  const { key } = await createApiKey(database, { role: 'viewer', actor: 'bench', now: new Date(NOW * 1000) });
  const headers = { authorization: `Bearer ${key}` };
  const check = async (url: string) => {
    const res = await app.request(url, { headers });
    if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const first = (await check('/v1/customers?limit=50')) as { items: unknown[]; nextCursor: string };
  if (first.items.length !== 50) throw new Error('expected a full page');
  const results = {
    customers: N,
    requests: REQUESTS,
    loadSeconds: Number(loadSeconds.toFixed(1)),
    floorDirect: quantiles(await time(() => listCustomers(database, { limit: 50 }))),
    floorDirectBand: quantiles(await time(() => listCustomers(database, { limit: 50, filters: { band: 'high' } }))),
    apiPage: quantiles(await time(() => check('/v1/customers?limit=50'))),
    apiBand: quantiles(await time(() => check('/v1/customers?limit=50&band=high'))),
    apiDeepPage: quantiles(await time(() => check(`/v1/customers?limit=50&cursor=${first.nextCursor}`))),
  };
  for (const [k, v] of Object.entries(results)) if (typeof v === 'object') console.log(`${k.padEnd(16)} p50 ${v.p50} ms  p99 ${v.p99} ms  max ${v.max} ms`);
  console.log(JSON.stringify(results));
} finally {
  await database.close();
}
