/**
 * Feature + scoring throughput from PostgreSQL.
 *
 *   npx tsx bench/features.ts --customers 100000 [--database-url postgres://...]
 *
 * Fills a fresh database on the server (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 * with projection rows for N customers generated in SQL (generate_series: about 18 months of
 * history each — monthly subscription versions with seat and plan changes, trials, cancellations,
 * invoices with a share paid late or failing, payment failures, cards, refunds, disputes,
 * discounts, several currencies and Connect accounts), because simulating and ingesting 100,000
 * customers' events would take far longer than the thing measured. Then times, as `churn score`
 * runs them: featureMatrixAt for all customers, probabilities and drivers with a model, and
 * storing the scores. Prints a line per stage and one JSON line.
 */
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import type { Database } from '../src/db/client.js';
import { initBackend } from '../src/ml/backend.js';
import { featureMatrixAt, FEATURES } from '../src/ml/features.js';
import { trainModel } from '../src/ml/model.js';
import { scoreAllCustomers } from '../src/services/scoring/score-all-customers.js';
import { freshPostgres } from '../training/data.js';
import type { LabelledData } from '../src/ml/types.js';

const DAY = 86_400;
const AS_OF = Date.UTC(2026, 6, 1) / 1000;

/** Projection rows for `n` customers, generated inside the database. */
async function generateHistory(database: Database, n: number): Promise<void> {
  const asOf = AS_OF;
  await database.query(sql.raw(`
    create unlogged table bench_customers as
    select c,
      case when c % 10 = 0 then 'acct_bench' || (c % 7) else 'platform' end as account,
      'cus_' || c as customer_id,
      ${asOf} - (30 + (random() * 520)::int) * ${DAY} as start,
      (array['usd','usd','usd','eur','gbp','jpy','cad'])[1 + c % 7] as currency,
      case when c % 9 = 0 then 12 else 1 end as interval_months,
      1 + (random() * 20)::int as seats,
      (array[900, 2900, 9900])[1 + (c % 3)] as unit,
      case when random() < 0.25 then 1 + (random() * 15)::int else null end as churn_month,
      random() < 0.1 as trial,
      random() < 0.05 as flaky
    from generate_series(1, ${n}) c`));
  await database.query(sql.raw(`
    insert into subscription_versions (account, subscription_id, event_id, valid_from, rank, customer_id, status, currency, created, start_date,
      current_period_start, current_period_end, collection_method, mrr, quantity, price_id, product_id, interval, interval_count, item_count,
      cancel_at_period_end, canceled_at, ended_at, trial_start, trial_end, discount_coupons, discount_end)
    select account, 'sub_' || c, 'evt_sv_' || c || '_' || m, start + m * 30 * ${DAY} + 60, 121, customer_id,
      case when churn_month is not null and m >= churn_month then 'canceled' when m = 0 and trial then 'trialing'
           when flaky and m % 5 = 4 then 'past_due' else 'active' end,
      currency, start, start, start + m * 30 * ${DAY}, start + (m + interval_months) * 30 * ${DAY},
      case when c % 11 = 0 then 'send_invoice' else 'charge_automatically' end,
      (unit * (seats + (m / 4) * ((c % 3) - 1))) / interval_months, greatest(1, seats + (m / 4) * ((c % 3) - 1)),
      'price_' || (c % 3) || '_' || (m / 6), 'prod_' || (c % 3), case when interval_months = 12 then 'year' else 'month' end, 1, 1 + (c % 2),
      churn_month is not null and m = churn_month - 1, case when churn_month is not null and m >= churn_month - 1 then start + (churn_month - 1) * 30 * ${DAY} end,
      case when churn_month is not null and m >= churn_month then start + m * 30 * ${DAY} + 60 end,
      case when trial then start end, case when trial then start + 14 * ${DAY} end,
      case when c % 8 = 0 and m < 3 then '["intro25"]'::jsonb else '[]'::jsonb end, case when c % 8 = 0 then start + 90 * ${DAY} end
    from bench_customers, generate_series(0, 18) m
    where start + m * 30 * ${DAY} <= ${asOf} and (churn_month is null or m <= churn_month)`));
  await database.query(sql.raw(`
    insert into invoices (account, id, customer_id, subscription_id, status, billing_reason, collection_method, currency, amount_due, amount_paid,
      amount_remaining, total, attempt_count, created, due_date, period_start, period_end, finalized_at, paid_at, src_created, src_rank, src_event_id)
    select account, 'in_' || c || '_' || m, customer_id, 'sub_' || c, 'paid', 'subscription_cycle', 'charge_automatically', currency,
      unit * seats, unit * seats, 0, unit * seats, 1, start + m * 30 * ${DAY}, start + (m * 30 + 14) * ${DAY}, start + m * 30 * ${DAY},
      start + (m + 1) * 30 * ${DAY}, start + m * 30 * ${DAY} + 3600,
      case when flaky and m % 5 = 4 then start + (m * 30 + 7) * ${DAY} when c % 11 = 0 then start + (m * 30 + 9) * ${DAY} else start + m * 30 * ${DAY} + 3700 end,
      start + m * 30 * ${DAY} + 3700, 3000, 'evt_in_' || c || '_' || m
    from bench_customers, generate_series(0, 18) m
    where start + m * 30 * ${DAY} <= ${asOf} and (churn_month is null or m < churn_month) and (m % interval_months = 0)`));
  await database.query(sql.raw(`
    insert into payment_failures (account, event_id, customer_id, invoice_id, subscription_id, amount, currency, attempt, failure_code, failed_at)
    select account, 'evt_pf_' || c || '_' || m || '_' || a, customer_id, 'in_' || c || '_' || m, 'sub_' || c, unit * seats, currency, a,
      'card_declined', start + (m * 30 + (a - 1) * 3) * ${DAY} + 3600
    from bench_customers, generate_series(0, 18) m, generate_series(1, 2) a
    where flaky and m % 5 = 4 and start + m * 30 * ${DAY} <= ${asOf} and (churn_month is null or m < churn_month)`));
  await database.query(sql.raw(`
    insert into payment_methods (account, id, customer_id, type, card_brand, card_funding, exp_month, exp_year, created, attached_at, src_created, src_rank, src_event_id)
    select account, 'pm_' || c, customer_id, case when c % 13 = 0 then 'sepa_debit' else 'card' end, 'visa', case when c % 17 = 0 then 'prepaid' else 'credit' end,
      1 + c % 12, 2026 + c % 4, start, start, start, 0, 'evt_pm_' || c
    from bench_customers`));
  await database.query(sql.raw(`
    insert into charges (account, id, customer_id, invoice_id, payment_method_type, amount, currency, status, created, src_created, src_rank, src_event_id)
    select account, 'ch_' || c, customer_id, 'in_' || c || '_0', 'card', unit * seats, currency, 'succeeded', start + 3700, start + 3700, 101, 'evt_ch_' || c
    from bench_customers`));
  await database.query(sql.raw(`
    insert into refunds (account, id, charge_id, customer_id, amount, currency, status, created)
    select account, 're_' || c, 'ch_' || c, customer_id, unit, currency, 'succeeded', ${asOf} - (c % 200) * ${DAY}
    from bench_customers where c % 50 = 0`));
  await database.query(sql.raw(`
    insert into disputes (account, id, charge_id, customer_id, amount, currency, status, reason, created, src_created, src_rank, src_event_id)
    select account, 'dp_' || c, 'ch_' || c, customer_id, unit, currency, 'needs_response', 'fraudulent', ${asOf} - (c % 120) * ${DAY},
      ${asOf} - (c % 120) * ${DAY}, 0, 'evt_dp_' || c
    from bench_customers where c % 300 = 0`));
  await database.query(sql.raw(`
    insert into discounts (account, id, customer_id, subscription_id, coupon_id, percent_off, start, "end", src_created, src_rank, src_event_id)
    select account, 'di_' || c, customer_id, 'sub_' || c, 'intro25', 25, start, start + 90 * ${DAY}, start, 0, 'evt_di_' || c
    from bench_customers where c % 8 = 0`));
  await database.query(sql.raw(`analyze`));
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { customers: { type: 'string', default: '100000' }, 'database-url': { type: 'string' } } });
  const n = Number(values.customers);
  const server = values['database-url'] ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const backend = await initBackend();
  const database = await freshPostgres(server);
  try {
    const t0 = performance.now();
    await generateHistory(database, n);
    const [{ versions }] = await database.query<{ versions: number }>(sql`select count(*)::int as versions from subscription_versions`);
    const [{ invoices }] = await database.query<{ invoices: number }>(sql`select count(*)::int as invoices from invoices`);
    const generateSeconds = (performance.now() - t0) / 1000;
    process.stdout.write(`generated ${n} customers (${versions} subscription versions, ${invoices} invoices) in ${generateSeconds.toFixed(1)} s\n`);

    // a model to score with: trained briefly on part of this data (throughput, not quality, is measured)
    const sample = await featureMatrixAt(database, AS_OF - 60 * DAY);
    const rows = Math.min(sample.matrix.rows, 20_000);
    const cols = sample.matrix.cols;
    const x = { data: sample.matrix.data.slice(0, rows * cols), rows, cols };
    const y = Uint8Array.from({ length: rows }, (_, i) => (x.data[i * cols + FEATURES.findIndex((f) => f.name === 'failed_payments_90d')]! > 0 || i % 17 === 0 ? 1 : 0));
    const part = (from: number, to: number): LabelledData => ({ x: { data: x.data.slice(from * cols, to * cols), rows: to - from, cols }, y: y.slice(from, to) });
    const model = await trainModel({
      train: part(0, Math.floor(rows * 0.6)),
      valid: part(Math.floor(rows * 0.6), Math.floor(rows * 0.8)),
      calib: part(Math.floor(rows * 0.8), rows),
      featureSet: sample.featureSet,
      seed: 1,
      now: new Date(AS_OF * 1000),
      options: { maxEpochs: 2 },
    });
    model.metadata.name = 'bench';
    model.metadata.version = 'bench-1';

    const rssBefore = process.memoryUsage().rss;
    let peakRss = rssBefore;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const started = performance.now();
    const result = await scoreAllCustomers(database, { asOf: AS_OF, model });
    const total = (performance.now() - started) / 1000;
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const scored = result.customers.length;
    const t = result.timings;
    const out = {
      bench: 'features+scoring',
      database: 'postgres',
      backend,
      customers: n,
      scored,
      features: cols,
      featuresSeconds: t.featuresMs / 1000,
      scoringSeconds: t.scoringMs / 1000,
      storingSeconds: t.storingMs / 1000,
      totalSeconds: total,
      featureRowsPerSecond: scored / (t.featuresMs / 1000),
      scoreRowsPerSecond: scored / (t.scoringMs / 1000),
      endToEndRowsPerSecond: scored / total,
      peakRssMb: Math.round(peakRss / 2 ** 20),
    };
    process.stdout.write(
      [
        `features: ${scored} live customers x ${cols} features in ${out.featuresSeconds.toFixed(2)} s (${Math.round(out.featureRowsPerSecond)} rows/s)`,
        `scoring + drivers (${backend}): ${out.scoringSeconds.toFixed(2)} s (${Math.round(out.scoreRowsPerSecond)} rows/s)`,
        `storing scores: ${out.storingSeconds.toFixed(2)} s`,
        `total ${total.toFixed(2)} s (target < 60 s), peak RSS ${out.peakRssMb} MB`,
        JSON.stringify(out),
      ].join('\n') + '\n',
    );
    model.network.dispose();
  } finally {
    await database.close();
  }
}

await main();
