import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createStripeSandbox, type ListeningSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';

const NOW = 1_780_000_000;
const API_KEY = 'sk_test_sandbox_reliability';
const ACCT_A = 'acct_1ConnectedAAAA';
const ACCT_B = 'acct_1ConnectedBBBB';

let sandbox: StripeSandbox;
let server: ListeningSandbox;
let stripe: Stripe;

function eventsOfType(type: string, account?: string): Stripe.Event[] {
  return sandbox.store.listEvents(account).filter((e) => e.type === type);
}

function activeSubscription(account?: string, skip = 0): Stripe.Subscription {
  return sandbox.store.listObjects<Stripe.Subscription>(account, 'subscription').filter((s) => s.status === 'active')[skip]!;
}

beforeAll(async () => {
  sandbox = createStripeSandbox({ apiKey: API_KEY, now: NOW });
  seedSampleAccount(sandbox.store, { customers: 30, seed: 1 });
  seedSampleAccount(sandbox.store, { customers: 12, seed: 2, account: ACCT_A });
  seedSampleAccount(sandbox.store, { customers: 9, seed: 3, account: ACCT_B });
  server = await sandbox.listen(0);
  stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 2 });
});

afterAll(async () => {
  await server?.close();
});

beforeEach(() => {
  sandbox.faults.clear();
});

describe('idempotency', () => {
  it('replays the first response for the same key and parameters: one coupon, one event', async () => {
    const params = { id: 'WINBACK_A', percent_off: 30, duration: 'once' as const };
    const first = await stripe.coupons.create(params, { idempotencyKey: 'int_001:coupon' });
    const second = await stripe.coupons.create(params, { idempotencyKey: 'int_001:coupon' });
    expect(second).toEqual(first);
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(eventsOfType('coupon.created').filter((e) => (e.data.object as Stripe.Coupon).id === 'WINBACK_A')).toHaveLength(1);
    const event = eventsOfType('coupon.created').find((e) => (e.data.object as Stripe.Coupon).id === 'WINBACK_A')!;
    expect(event.request).toEqual({ id: first.lastResponse.requestId, idempotency_key: 'int_001:coupon' });
  });

  it('rejects the same key with different parameters as StripeIdempotencyError', async () => {
    const sub = activeSubscription(undefined, 0);
    await stripe.subscriptions.update(sub.id, { metadata: { offer: 'a' } }, { idempotencyKey: 'int_002' });
    const error = await stripe.subscriptions.update(sub.id, { metadata: { offer: 'b' } }, { idempotencyKey: 'int_002' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect((error as Stripe.errors.StripeError).statusCode).toBe(400);
    expect(sandbox.store.getObject<Stripe.Subscription>(undefined, 'subscription', sub.id)!.metadata.offer).toBe('a');
  });

  it('scopes keys per connected account', async () => {
    const a = await stripe.coupons.create({ id: 'SCOPED', percent_off: 10 }, { idempotencyKey: 'shared-key', stripeAccount: ACCT_A });
    const b = await stripe.coupons.create({ id: 'SCOPED', percent_off: 20 }, { idempotencyKey: 'shared-key', stripeAccount: ACCT_B });
    expect(a.percent_off).toBe(10);
    expect(b.percent_off).toBe(20);
    expect(b.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });
});

describe("the SDK's own retries against injected faults keep one effect", () => {
  it('a 500 before handling is retried with the same idempotency key; the trial is extended once', async () => {
    const sub = activeSubscription(undefined, 1);
    const before = eventsOfType('customer.subscription.updated').length;
    sandbox.faults.inject({ status: 500, count: 1, pathPrefix: `/v1/subscriptions/${sub.id}`, method: 'POST' });
    const trialEnd = NOW + 14 * 86_400;
    const updated = await stripe.subscriptions.update(sub.id, { trial_end: trialEnd, proration_behavior: 'none' });
    expect(updated.status).toBe('trialing');
    expect(updated.trial_end).toBe(trialEnd);
    expect(sandbox.faults.history.filter((h) => h.path === `/v1/subscriptions/${sub.id}`)).toHaveLength(1);
    expect(eventsOfType('customer.subscription.updated').length - before).toBe(1);
  });

  it('a 429 looks like Stripe rate limiting, the SDK retries it, and the coupon is created once', async () => {
    sandbox.faults.inject({ status: 429, count: 2, pathPrefix: '/v1/coupons' });
    const coupon = await stripe.coupons.create({ id: 'RETRY429', percent_off: 15, duration: 'once' });
    expect(coupon.id).toBe('RETRY429');
    expect(sandbox.faults.history.filter((h) => h.path === '/v1/coupons' && h.status === 429)).toHaveLength(2);
    expect(eventsOfType('coupon.created').filter((e) => (e.data.object as Stripe.Coupon).id === 'RETRY429')).toHaveLength(1);
  });

  it('without retries a 429 surfaces as StripeRateLimitError with rate_limit_error', async () => {
    const noRetry = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
    sandbox.faults.inject({ status: 429, count: 1 });
    const error = await noRetry.customers.list({ limit: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeRateLimitError);
    expect((error as Stripe.errors.StripeError).rawType).toBe('rate_limit_error');
    expect((error as Stripe.errors.StripeError).code).toBe('rate_limit');
    // The fault is used up: the next call succeeds.
    expect((await noRetry.customers.list({ limit: 1 })).data).toHaveLength(1);
  });

  it('faults can be injected over HTTP at /_sandbox/faults', async () => {
    const response = await fetch(`${server.url}/_sandbox/faults`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${API_KEY}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ status: 500, count: 1, pathPrefix: '/v1/invoices' }),
    });
    expect(response.status).toBe(200);
    const noRetry = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
    const error = await noRetry.invoices.list({ limit: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect((error as Stripe.errors.StripeError).statusCode).toBe(500);
    const unauthorised = await fetch(`${server.url}/_sandbox/faults`, { method: 'DELETE' });
    expect(unauthorised.status).toBe(401);
  });
});

describe('Stripe-Account scoping', () => {
  it('a connected account sees only its own objects and events', async () => {
    const idsA: string[] = [];
    for await (const customer of stripe.customers.list({ limit: 5 }, { stripeAccount: ACCT_A })) idsA.push(customer.id);
    expect(idsA).toHaveLength(12);
    const storedA = sandbox.store.listObjects<Stripe.Customer>(ACCT_A, 'customer').map((c) => c.id);
    expect(idsA.sort()).toEqual(storedA.sort());
    const platform = (await stripe.customers.list({ limit: 100 })).data.map((c) => c.id);
    expect(platform.some((id) => storedA.includes(id))).toBe(false);

    const customerOfB = sandbox.store.listObjects<Stripe.Customer>(ACCT_B, 'customer')[0]!;
    const crossed = await stripe.customers.retrieve(customerOfB.id, {}, { stripeAccount: ACCT_A }).catch((e: unknown) => e);
    expect(crossed).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect((crossed as Stripe.errors.StripeError).statusCode).toBe(404);

    const events = await stripe.events.list({ limit: 3 }, { stripeAccount: ACCT_B });
    expect(events.data.every((e) => e.account === ACCT_B)).toBe(true);
  });

  it('an unknown account is refused', async () => {
    const error = await stripe.customers.list({}, { stripeAccount: 'acct_unknown' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Stripe.errors.StripePermissionError);
  });
});

describe('webhook delivery', () => {
  const WHSEC = 'whsec_sandbox_reliability_test_secret';
  let receiver: Server;
  let receiverUrl: string;
  const received: Stripe.Event[] = [];
  let failuresLeft = 0;
  let rejected = 0;

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        if (failuresLeft > 0) {
          failuresLeft--;
          res.writeHead(503).end();
          return;
        }
        try {
          const event = Stripe.webhooks.constructEvent(Buffer.concat(chunks), String(req.headers['stripe-signature']), WHSEC);
          received.push(event);
          res.writeHead(200).end('{}');
        } catch {
          rejected++;
          res.writeHead(400).end();
        }
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/stripe`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  });

  it('delivers signed events verifiable with constructEvent, in order, retrying failures with backoff', async () => {
    const local = createStripeSandbox({ apiKey: API_KEY, now: NOW, webhookRetry: { baseDelayMs: 20 } });
    seedSampleAccount(local.store, { customers: 3, seed: 9 });
    const seeded = local.store.listEvents(undefined).length;
    // Added after seeding: the endpoint gets what happens from now on, like `churn stripe-sandbox`.
    local.webhooks.addEndpoint({ url: receiverUrl, secret: WHSEC });
    const listening = await local.listen(0);
    try {
      const client = createStripeClient({ secretKey: API_KEY, apiBase: listening.url, maxNetworkRetries: 0 });
      failuresLeft = 2;
      received.length = 0;
      const coupon = await client.coupons.create({ id: 'HOOKED', percent_off: 20, duration: 'repeating', duration_in_months: 2 });
      const sub = local.store.listObjects<Stripe.Subscription>(undefined, 'subscription').find((s) => s.status === 'active')!;
      const updated = await client.subscriptions.update(sub.id, { discounts: [{ coupon: coupon.id }] });
      await local.webhooks.idle();
      expect(received.map((e) => e.type)).toEqual(['coupon.created', 'customer.discount.created', 'customer.subscription.updated']);
      expect(received.map((e) => e.id)).toEqual(local.store.listEvents(undefined).slice(seeded).map((e) => e.id));
      expect(received[2]!.request?.id).toBe(updated.lastResponse.requestId);
      expect((received[2]!.data.object as Stripe.Subscription).discounts).toEqual(updated.discounts);
      expect(rejected).toBe(0);
      expect(local.webhooks.deliveries.map((r) => [r.type, r.delivered, r.attempts])).toEqual([
        ['coupon.created', true, 3],
        ['customer.discount.created', true, 1],
        ['customer.subscription.updated', true, 1],
      ]);
    } finally {
      await listening.close();
    }
  });

  it('gives up after the bounded number of attempts and moves on to the next event', async () => {
    const local = createStripeSandbox({ apiKey: API_KEY, now: NOW, webhookRetry: { attempts: 2, baseDelayMs: 10 } });
    local.webhooks.addEndpoint({ url: receiverUrl, secret: WHSEC });
    failuresLeft = 2;
    received.length = 0;
    local.store.emit(undefined, 'coupon.created', { id: 'LOST', object: 'coupon' });
    local.store.emit(undefined, 'coupon.created', { id: 'KEPT', object: 'coupon' });
    await local.webhooks.idle();
    expect(local.webhooks.deliveries.map((d) => [d.delivered, d.attempts])).toEqual([
      [false, 2],
      [true, 1],
    ]);
    expect(received.map((e) => (e.data.object as { id: string }).id)).toEqual(['KEPT']);
  });
});
