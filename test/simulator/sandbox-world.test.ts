import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { World } from '../../src/simulator/world/index.js';
import { createStripeSandbox, SandboxStore, type ListeningSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { loadWorld, storeActionLookup, storeEventSink } from '../../src/simulator/sandbox/world-link.js';
import { createStripeClient } from '../../src/stripe/client.js';

const API_KEY = 'sk_test_sandbox_world';

describe('a generated world served by the sandbox', () => {
  let sandbox: StripeSandbox;
  let server: ListeningSandbox;
  let stripe: Stripe;

  beforeAll(async () => {
    const store = new SandboxStore();
    await loadWorld(store, { customers: 120, months: 3, seed: 4 });
    sandbox = createStripeSandbox({ apiKey: API_KEY, store });
    server = await sandbox.listen(0);
    stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
  });

  afterAll(async () => {
    await server?.close();
  });

  it('holds every world customer and event, and its clock is the end of the simulated history', async () => {
    const ids: string[] = [];
    for await (const customer of stripe.customers.list({ limit: 100 })) ids.push(customer.id);
    expect(ids.length).toBe(sandbox.store.listObjects(undefined, 'customer').length);
    expect(ids.length).toBeGreaterThan(0);
    const newest = (await stripe.events.list({ limit: 1 })).data[0]!;
    const stored = sandbox.store.listEvents(undefined);
    expect(newest.id).toBe(stored[stored.length - 1]!.id);
    expect(sandbox.store.now()).toBe(Date.UTC(2025, 3, 1) / 1000);
  });
});

describe('the world reacts to actions taken through the API', () => {
  it('keeps a discount applied through the sandbox on the subscriptions it emits next month', async () => {
    const world = new World({ customers: 80, months: 4, seed: 12 });
    const sandbox = createStripeSandbox({ apiKey: API_KEY, store: new SandboxStore({ now: world.now() }) });
    const sink = storeEventSink(sandbox.store);
    for (let m = 0; m < 2; m++) await world.advanceMonth(sink);
    const server = await sandbox.listen(0);
    try {
      const stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
      const live = (await stripe.subscriptions.list({ status: 'active', limit: 100 })).data.filter((s) => !s.cancel_at_period_end);
      expect(live.length).toBeGreaterThan(5);
      const target = live[0]!;
      await stripe.coupons.create({ id: 'RETAIN30', percent_off: 30, duration: 'repeating', duration_in_months: 3 });
      const updated = await stripe.subscriptions.update(target.id, { discounts: [...target.discounts.map((d) => ({ discount: d as string })), { coupon: 'RETAIN30' }] });
      const ours = updated.discounts.find((d) => !target.discounts.includes(d)) as string;
      expect(storeActionLookup(sandbox.store)(undefined, target.id)?.couponIds).toContain('RETAIN30');
      const before = sandbox.store.listEvents(undefined).length;
      await world.advanceMonth(sink, storeActionLookup(sandbox.store));
      const next = sandbox.store.listEvents(undefined).slice(before);
      expect(next.length).toBeGreaterThan(0);
      const about = next.filter((e) => (e.data.object as { id?: string }).id === target.id);
      // The subscription rolled into its next period: the world's event carries our discount.
      expect(about.length).toBeGreaterThan(0);
      for (const event of about) expect((event.data.object as Stripe.Subscription).discounts).toContain(ours);
      expect(sandbox.store.getObject<Stripe.Subscription>(undefined, 'subscription', target.id)!.discounts).toContain(ours);
    } finally {
      await server.close();
    }
  });
});
