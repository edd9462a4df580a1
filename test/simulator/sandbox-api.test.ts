import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createStripeSandbox, type StripeSandbox, type ListeningSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';

const NOW = 1_780_000_000; // 2026-05-28, the sandbox's simulated "now"
const API_KEY = 'sk_test_sandbox_api_tests';

let sandbox: StripeSandbox;
let server: ListeningSandbox;
let stripe: Stripe;

beforeAll(async () => {
  sandbox = createStripeSandbox({ apiKey: API_KEY, now: NOW });
  seedSampleAccount(sandbox.store, { customers: 57, seed: 7 });
  server = await sandbox.listen(0);
  stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
});

afterAll(async () => {
  await server?.close();
});

describe('customers through the official SDK', () => {
  it('pages through every customer newest first with autoPagingEach, no duplicates, no gaps', async () => {
    const seen: Stripe.Customer[] = [];
    await stripe.customers.list({ limit: 10 }).autoPagingEach((customer) => {
      seen.push(customer);
    });
    const stored = sandbox.store.listObjects<Stripe.Customer>(undefined, 'customer');
    expect(seen).toHaveLength(57);
    expect(new Set(seen.map((c) => c.id)).size).toBe(57);
    expect(seen.map((c) => c.id)).toEqual([...stored].reverse().map((c) => c.id));
  });

  it('answers one page with Stripe list fields and has_more', async () => {
    const page = await stripe.customers.list({ limit: 3 });
    expect(page.object).toBe('list');
    expect(page.url).toBe('/v1/customers');
    expect(page.data).toHaveLength(3);
    expect(page.has_more).toBe(true);
    const before = await stripe.customers.list({ limit: 2, ending_before: page.data[2]!.id });
    expect(before.data.map((c) => c.id)).toEqual(page.data.slice(0, 2).map((c) => c.id));
    expect(before.has_more).toBe(false);
  });

  it('retrieves a customer and answers a missing one with resource_missing', async () => {
    const [first] = sandbox.store.listObjects<Stripe.Customer>(undefined, 'customer');
    const customer = await stripe.customers.retrieve(first!.id);
    expect(customer.id).toBe(first!.id);
    const missing = await stripe.customers.retrieve('cus_doesnotexist').catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((missing as Stripe.errors.StripeError).code).toBe('resource_missing');
    expect((missing as Stripe.errors.StripeError).statusCode).toBe(404);
    expect((missing as Stripe.errors.StripeError).requestId).toMatch(/^req_/);
  });

  it('rejects a wrong API key with StripeAuthenticationError', async () => {
    const wrong = createStripeClient({ secretKey: 'sk_test_wrong_key_0000', apiBase: server.url, maxNetworkRetries: 0 });
    const error = await wrong.customers.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect((error as Stripe.errors.StripeError).statusCode).toBe(401);
    expect((error as Stripe.errors.StripeError).message).not.toContain('sk_test_wrong_key_0000');
  });
});

describe('subscriptions through the official SDK', () => {
  it('filters by customer and by status, excluding canceled by default', async () => {
    const all = sandbox.store.listObjects<Stripe.Subscription>(undefined, 'subscription');
    const canceled = all.filter((s) => s.status === 'canceled');
    expect(canceled.length).toBeGreaterThan(0);
    const listedDefault: string[] = [];
    for await (const s of stripe.subscriptions.list({ limit: 100 })) listedDefault.push(s.id);
    expect(listedDefault.length).toBe(all.length - canceled.length);
    const listedCanceled = await stripe.subscriptions.list({ status: 'canceled', limit: 100 });
    expect(listedCanceled.data.map((s) => s.id).sort()).toEqual(canceled.map((s) => s.id).sort());
    const listedAll = await stripe.subscriptions.list({ status: 'all', limit: 100 });
    expect(listedAll.data).toHaveLength(all.length);
    const one = all[5]!;
    const forCustomer = await stripe.subscriptions.list({ customer: one.customer as string, status: 'all' });
    expect(forCustomer.data.map((s) => s.id)).toEqual([one.id]);
  });

  it('updates metadata and emits customer.subscription.updated with previous_attributes and the request id', async () => {
    const target = sandbox.store.listObjects<Stripe.Subscription>(undefined, 'subscription').find((s) => s.status === 'active')!;
    const updated = await stripe.subscriptions.update(target.id, { metadata: { churn_offer: 'int_123' } });
    expect(updated.metadata).toEqual({ ...target.metadata, churn_offer: 'int_123' });
    expect(sandbox.store.getObject<Stripe.Subscription>(undefined, 'subscription', target.id)!.metadata.churn_offer).toBe('int_123');
    const events = await stripe.events.list({ type: 'customer.subscription.updated', limit: 1 });
    const event = events.data[0]!;
    expect((event.data.object as Stripe.Subscription).id).toBe(target.id);
    expect(event.data.previous_attributes).toEqual({ metadata: target.metadata });
    expect(event.request?.id).toBe(updated.lastResponse.requestId);
    expect(event.request?.idempotency_key).toMatch(/^stripe-node-retry-/);
  });
});

describe('the sandbox control API and curl-style access', () => {
  it('accepts the key as a Basic-auth user name, as curl -u sk_test_…: sends it', async () => {
    const response = await fetch(`${server.url}/v1/customers?limit=1`, {
      headers: { Authorization: `Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    const missing = await fetch(`${server.url}/v1/customers`);
    expect(missing.status).toBe(401);
  });

  it('moves the simulated clock: objects created afterwards carry the new time', async () => {
    const later = NOW + 3 * 86_400;
    const response = await fetch(`${server.url}/_sandbox/clock`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ now: later }),
    });
    expect(await response.json()).toEqual({ now: later });
    const coupon = await stripe.coupons.create({ percent_off: 5 });
    expect(coupon.created).toBe(later);
    const event = (await stripe.events.list({ type: 'coupon.created', limit: 1 })).data[0]!;
    expect(event.created).toBe(later);
    sandbox.store.setNow(NOW);
  });
});
