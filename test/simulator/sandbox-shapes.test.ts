import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createStripeSandbox, loadWorld, SandboxStore, type ListeningSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { createStripeClient } from '../../src/stripe/client.js';

const NOW = 1_780_000_000;
const API_KEY = 'sk_test_sandbox_shape_tests';

function fixture(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`../fixtures/stripe/${name}.json`, import.meta.url), 'utf8'));
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/**
 * Every key of the fixture is present in `actual` with the same JSON type. A `null` in the fixture is
 * a nullable field (anything passes); arrays compare each actual element with the fixture's first.
 */
function shapeMismatches(actual: unknown, expected: unknown, path = '$'): string[] {
  if (expected === null) return [];
  const want = jsonType(expected);
  const got = jsonType(actual);
  if (want !== got) return [`${path}: expected ${want}, got ${got}`];
  if (want === 'array') {
    const [model] = expected as unknown[];
    if (model === undefined) return [];
    return (actual as unknown[]).flatMap((item, i) => shapeMismatches(item, model, `${path}[${i}]`));
  }
  if (want === 'object') {
    const problems: string[] = [];
    for (const [key, value] of Object.entries(expected as Record<string, unknown>)) {
      if (!(key in (actual as Record<string, unknown>))) problems.push(`${path}.${key}: missing`);
      else problems.push(...shapeMismatches((actual as Record<string, unknown>)[key], value, `${path}.${key}`));
    }
    return problems;
  }
  return [];
}

let sandbox: StripeSandbox;
let server: ListeningSandbox;
let stripe: Stripe;

async function rawGet(path: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${server.url}${path}`, { headers: { Authorization: `Bearer ${API_KEY}` } });
  return { status: response.status, body: await response.json() };
}

beforeAll(async () => {
  sandbox = createStripeSandbox({ apiKey: API_KEY, now: NOW });
  seedSampleAccount(sandbox.store, { customers: 20, seed: 11 });
  server = await sandbox.listen(0);
  stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
});

afterAll(async () => {
  await server?.close();
});

describe('responses have the shapes of Stripe objects (test/fixtures/stripe)', () => {
  it('the comparison itself catches a missing key and a wrong type', () => {
    expect(shapeMismatches({ id: 'x', created: '1' }, { id: 'y', created: 1, email: 'a' })).toEqual([
      '$.created: expected number, got string',
      '$.email: missing',
    ]);
  });

  it('customer, payment method and list envelope', async () => {
    const list = await rawGet('/v1/customers?limit=3');
    expect(shapeMismatches(list.body, fixture('list'))).toEqual([]);
    const customers = (list.body as { data: unknown[] }).data;
    expect(customers).toHaveLength(3);
    for (const customer of customers) expect(shapeMismatches(customer, fixture('customer'))).toEqual([]);
    const customerId = (customers[0] as { id: string }).id;
    const methods = await rawGet(`/v1/payment_methods?customer=${customerId}&type=card`);
    expect((methods.body as { data: unknown[] }).data.length).toBeGreaterThan(0);
    for (const pm of (methods.body as { data: unknown[] }).data) expect(shapeMismatches(pm, fixture('payment_method'))).toEqual([]);
  });

  it('subscription and invoice', async () => {
    const subscriptions = await rawGet('/v1/subscriptions?status=all&limit=100');
    const data = (subscriptions.body as { data: unknown[] }).data;
    expect(data.length).toBe(20);
    for (const subscription of data) expect(shapeMismatches(subscription, fixture('subscription'))).toEqual([]);
    const invoices = await rawGet('/v1/invoices?limit=100');
    const invoiceData = (invoices.body as { data: unknown[] }).data;
    expect(invoiceData.length).toBeGreaterThan(0);
    for (const invoice of invoiceData) expect(shapeMismatches(invoice, fixture('invoice'))).toEqual([]);
  });

  it('coupon, discount and event created through the SDK', async () => {
    const coupon = await stripe.coupons.create({ percent_off: 25.5, duration: 'repeating', duration_in_months: 3 });
    expect(shapeMismatches(JSON.parse(JSON.stringify(coupon)), fixture('coupon'))).toEqual([]);
    const target = sandbox.store.listObjects<Stripe.Subscription>(undefined, 'subscription').find((s) => s.status === 'active')!;
    const updated = await stripe.subscriptions.update(target.id, { discounts: [{ coupon: coupon.id }], expand: ['discounts'] });
    const [discount] = updated.discounts as Stripe.Discount[];
    expect(shapeMismatches(JSON.parse(JSON.stringify(discount)), fixture('discount'))).toEqual([]);
    const events = await rawGet('/v1/events?limit=2');
    const [updatedEvent, discountEvent] = (events.body as { data: Stripe.Event[] }).data;
    expect(updatedEvent!.type).toBe('customer.subscription.updated');
    expect(shapeMismatches(updatedEvent, fixture('event'))).toEqual([]);
    expect(discountEvent!.type).toBe('customer.discount.created');
    expect(shapeMismatches(discountEvent!.data.object, fixture('discount'))).toEqual([]);
  });

  it('errors', async () => {
    const missing = await rawGet('/v1/customers/cus_doesnotexist');
    expect(missing.status).toBe(404);
    expect(shapeMismatches(missing.body, fixture('error'))).toEqual([]);
    const unknown = await rawGet('/v1/no_such_resource');
    expect(unknown.status).toBe(404);
    expect((unknown.body as { error: { type: string } }).error.type).toBe('invalid_request_error');
  });
});

describe('a generated world is served in the same Stripe shapes', () => {
  let worldSandbox: StripeSandbox;
  const get = async (path: string): Promise<{ data: unknown[] }> => {
    const response = await worldSandbox.app.request(path, { headers: { Authorization: `Bearer ${API_KEY}` } });
    expect(response.status).toBe(200);
    return (await response.json()) as { data: unknown[] };
  };

  beforeAll(async () => {
    const store = new SandboxStore();
    await loadWorld(store, { customers: 150, months: 4, seed: 21 });
    worldSandbox = createStripeSandbox({ apiKey: API_KEY, store });
  });

  it('customers, subscriptions, invoices, payment methods and event objects', async () => {
    const checks: [string, string][] = [
      ['/v1/customers?limit=100', 'customer'],
      ['/v1/subscriptions?status=all&limit=100', 'subscription'],
      ['/v1/invoices?limit=100', 'invoice'],
    ];
    for (const [path, name] of checks) {
      const { data } = await get(path);
      expect(data.length).toBeGreaterThan(20);
      const problems = new Set(data.flatMap((object) => shapeMismatches(object, fixture(name))));
      expect([...problems], `${path} vs ${name}.json`).toEqual([]);
    }
    const customer = (await get('/v1/customers?limit=1')).data[0] as { id: string };
    for (const pm of (await get(`/v1/payment_methods?customer=${customer.id}`)).data) expect(shapeMismatches(pm, fixture('payment_method'))).toEqual([]);
    const updates = (await get('/v1/events?type=customer.subscription.updated&limit=20')).data as Stripe.Event[];
    expect(updates.length).toBeGreaterThan(0);
    // Events Stripe creates on its own (renewals, dunning) carry request { id: null, idempotency_key: null }.
    const automaticEvent = { ...(fixture('event') as object), request: { id: null, idempotency_key: null } };
    for (const event of updates) {
      expect(event.request).toEqual({ id: null, idempotency_key: null });
      expect(shapeMismatches(event, automaticEvent)).toEqual([]);
      expect(shapeMismatches(event.data.object, fixture('subscription'))).toEqual([]);
    }
  });
});
