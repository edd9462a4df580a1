import { sql } from 'drizzle-orm';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { LOG_REDACT_CENSOR, LOG_REDACT_PATHS } from '../../src/lib/logger.js';
import { metricsRegistry, stripeEndpointLabel } from '../../src/lib/metrics.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import { upliftReportFromStore } from '../../src/services/retention/uplift-report.js';
import { createStripeSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';
import { stripeEvent, stripeObject } from '../fixtures/stripe-events.js';
import { testApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/db.js';

const NOW = 1_780_000_000;

function metricValue(body: string, name: string, labels = ''): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('Stripe endpoint labels', () => {
  it('replace object ids by :id and keep resource names, so label values stay bounded', () => {
    expect(stripeEndpointLabel('post', '/v1/subscriptions/sub_1PxYz2AbCdEf')).toBe('POST /v1/subscriptions/:id');
    expect(stripeEndpointLabel('DELETE', '/v1/customers/cus_Q1w2e3r4t5/discount')).toBe('DELETE /v1/customers/:id/discount');
    expect(stripeEndpointLabel('GET', '/v1/customers?limit=100&starting_after=cus_Abc123')).toBe('GET /v1/customers');
    expect(stripeEndpointLabel('GET', '/v1/coupons/churn-retention-20-off')).toBe('GET /v1/coupons/:id');
    expect(stripeEndpointLabel('POST', '/v1/test_helpers/test_clocks/clock_1Abcdefgh/advance')).toBe('POST /v1/test_helpers/test_clocks/:id/advance');
    expect(stripeEndpointLabel('GET', '/v1/payment_methods')).toBe('GET /v1/payment_methods');
    expect(stripeEndpointLabel('GET', '/v1/events/evt_test00000001abcdef')).toBe('GET /v1/events/:id');
  });
});

describe('the Stripe client built by createStripeClient', () => {
  let sandbox: StripeSandbox;
  let close: () => Promise<void>;
  let url = '';
  beforeAll(async () => {
    sandbox = createStripeSandbox({ now: NOW });
    seedSampleAccount(sandbox.store, { customers: 5, seed: 3 });
    const listening = await sandbox.listen(0);
    url = listening.url;
    close = () => listening.close();
  });
  afterAll(async () => close?.());

  it('measures every call: latency by endpoint template and status, errors by endpoint and status', async () => {
    const stripe = createStripeClient({ secretKey: sandbox.apiKey, apiBase: url, maxNetworkRetries: 0 });
    const list = await stripe.customers.list({ limit: 3 });
    expect(list.data.length).toBeGreaterThan(0);
    await expect(stripe.subscriptions.retrieve('sub_DoesNotExist123')).rejects.toThrow();
    const body = await metricsRegistry.metrics();
    expect(metricValue(body, 'churn_stripe_api_request_duration_seconds_count', '{endpoint="GET /v1/customers",status="200"}')).toBe(1);
    expect(metricValue(body, 'churn_stripe_api_request_duration_seconds_count', '{endpoint="GET /v1/subscriptions/:id",status="404"}')).toBe(1);
    expect(metricValue(body, 'churn_stripe_api_errors_total', '{endpoint="GET /v1/subscriptions/:id",status="404"}')).toBe(1);
    expect(metricValue(body, 'churn_stripe_api_errors_total', '{endpoint="GET /v1/customers",status="200"}')).toBeUndefined();
  });
});

describe('/metrics business gauges and declines (PGlite)', () => {
  let database: Database;
  beforeAll(async () => {
    database = await createTestDatabase('pglite');
  });
  afterAll(async () => database?.close().catch(() => {}));

  it('counts projected card declines by decline code and brand, once per charge', async () => {
    const failed = stripeObject('charge', {
      id: 'ch_1DeclineTest0001',
      status: 'failed',
      paid: false,
      failure_code: 'card_declined',
      outcome: { reason: 'insufficient_funds', type: 'issuer_declined' },
      payment_method_details: { type: 'card', card: { brand: 'visa', last4: '4242' } },
    });
    const event = stripeEvent('charge.failed', failed, { created: NOW - 60 });
    await ingestEvents(database, [event], { source: 'ingest' });
    await ingestEvents(database, [event], { source: 'ingest' }); // a duplicate projects nothing
    const body = await metricsRegistry.metrics();
    expect(metricValue(body, 'churn_payment_declines_total', '{decline_code="insufficient_funds",card_brand="visa"}')).toBe(1);
  });

  it('reads model, interventions, budgets and open alerts at scrape time; keeps them, marked stale, when the database is gone', async () => {
    const month = new Date(NOW * 1000).toISOString().slice(0, 7);
    await database.query(sql`insert into model_versions (name, version, status, metrics, path, created_at) values ('churn', 'v20260101T000000Z-abc', 'champion', '{}'::jsonb, 'churn/v1', now())`);
    await database.query(sql`insert into policy_budgets (policy_id, month, currency, limit_amount, reserved) values ('pol_a', ${month}, 'usd', 100000, 2500)`);
    await database.query(sql`insert into alerts (id, kind, key, severity, message, value, threshold, opened_at, last_seen_at) values ('alr_1', 'budget_pace', 'pol_a', 'warning', 'ahead', 2, 1.5, ${NOW}, ${NOW})`);
    await database.query(sql`insert into interventions (id, account, customer_id, policy_id, policy_version, decided_at, arm, action, status, probability, band, budget_month, outcome)
      values ('int_1', 'platform', 'cus_1', 'pol_a', 1, ${NOW - 86400}, 'treatment', 'coupon', 'applied', 0.4, 'high', ${month}, null),
             ('int_2', 'platform', 'cus_2', 'pol_a', 1, ${NOW - 86400}, 'treatment', 'coupon', 'applied', 0.4, 'high', ${month}, 'stayed'),
             ('int_3', 'platform', 'cus_3', 'pol_a', 1, ${NOW - 86400}, 'holdout', 'coupon', 'holdout', 0.4, 'high', ${month}, 'stayed')`);
    const { app } = testApp(database, { now: () => NOW });
    const up = await (await app.request('/metrics')).text();
    expect(metricValue(up, 'churn_active_model_info', '{name="churn",version="v20260101T000000Z-abc"}')).toBe(1);
    expect(metricValue(up, 'churn_budget_used_minor', '{policy_id="pol_a",currency="usd"}')).toBe(2500);
    expect(metricValue(up, 'churn_budget_limit_minor', '{policy_id="pol_a",currency="usd"}')).toBe(100000);
    expect(metricValue(up, 'churn_interventions', '{action="coupon",arm="treatment",status="applied",outcome="pending"}')).toBe(1);
    expect(metricValue(up, 'churn_interventions', '{action="coupon",arm="treatment",status="applied",outcome="stayed"}')).toBe(1);
    expect(metricValue(up, 'churn_interventions', '{action="coupon",arm="holdout",status="holdout",outcome="stayed"}')).toBe(1);
    expect(metricValue(up, 'churn_alerts_open', '{kind="budget_pace"}')).toBe(1);
    expect(metricValue(up, 'churn_business_gauges_stale')).toBe(0);
    // saved MRR is the uplift report's own overall estimate (absent when the report has none)
    const report = await upliftReportFromStore(database);
    expect(metricValue(up, 'churn_saved_mrr_minor', `{currency="${report.currency}",bound="estimate"}`)).toBe(report.overall.savedMrr?.estimate);

    await database.close();
    const res = await app.request('/metrics');
    expect(res.status).toBe(200);
    const down = await res.text();
    expect(metricValue(down, 'churn_business_gauges_stale')).toBe(1);
    expect(metricValue(down, 'churn_budget_used_minor', '{policy_id="pol_a",currency="usd"}')).toBe(2500);
    expect(metricValue(down, 'churn_active_model_info', '{name="churn",version="v20260101T000000Z-abc"}')).toBe(1);
  });
});

describe('log redaction', () => {
  it('never writes keys, authorization headers, webhook secrets or card objects', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, done) => (lines.push(String(chunk)), done()) });
    const log = pino({ redact: { paths: [...LOG_REDACT_PATHS], censor: LOG_REDACT_CENSOR } }, sink);
    log.info(
      {
        headers: { authorization: 'Bearer sk_live_abc', 'stripe-signature': 't=1,v1=abc', cookie: 'session=1' },
        STRIPE_SECRET_KEY: 'sk_live_abc',
        STRIPE_WEBHOOK_SECRET: 'whsec_abc',
        options: { secretKey: 'sk_test_abc', apiKey: 'ck_abc' },
        charge: { id: 'ch_1', payment_method_details: { card: { brand: 'visa', last4: '4242', fingerprint: 'fp_secret' } } },
        paymentMethod: { id: 'pm_1', card: { number: '4242424242424242', cvc: '123' } },
      },
      'something happened',
    );
    const text = lines.join('');
    for (const secret of ['sk_live_abc', 'whsec_abc', 'sk_test_abc', 'ck_abc', 't=1,v1=abc', 'session=1', '4242424242424242', 'fp_secret', '"123"']) {
      expect(text).not.toContain(secret);
    }
    expect(text).toContain('ch_1');
    expect(text).toContain('[redacted]');
  });
});
