import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import Stripe from 'stripe';
import { createStripeSandbox, type ListeningSandbox, type StripeSandbox } from '../../src/simulator/sandbox/index.js';
import { seedSampleAccount } from '../../src/simulator/sandbox/sample-account.js';
import { storeActionLookup } from '../../src/simulator/sandbox/world-link.js';
import { createStripeClient } from '../../src/stripe/client.js';

const NOW = 1_780_000_000;
const DAY = 86_400;
const API_KEY = 'sk_test_sandbox_mutations';

let sandbox: StripeSandbox;
let server: ListeningSandbox;
let stripe: Stripe;
let pool: Stripe.Subscription[];

function take(): Stripe.Subscription {
  return pool.shift()!;
}

function latestEvent(type: string): Stripe.Event {
  const events = sandbox.store.listEvents(undefined).filter((e) => e.type === type);
  return events[events.length - 1]!;
}

async function expectStripeError(promise: Promise<unknown>, param: string, code?: string): Promise<Stripe.errors.StripeError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  const stripeError = error as Stripe.errors.StripeError;
  expect(stripeError.param).toBe(param);
  if (code) expect(stripeError.code).toBe(code);
  return stripeError;
}

beforeAll(async () => {
  sandbox = createStripeSandbox({ apiKey: API_KEY, now: NOW });
  seedSampleAccount(sandbox.store, { customers: 60, seed: 5 });
  server = await sandbox.listen(0);
  stripe = createStripeClient({ secretKey: API_KEY, apiBase: server.url, maxNetworkRetries: 0 });
  pool = sandbox.store.listObjects<Stripe.Subscription>(undefined, 'subscription').filter((s) => s.status === 'active');
});

afterAll(async () => {
  await server?.close();
});

describe('retention actions on subscriptions', () => {
  it('applies a coupon through discounts: a discount, customer.discount.created, previous_attributes, redemption count', async () => {
    const sub = take();
    const coupon = await stripe.coupons.create({ id: 'SAVE25X3', percent_off: 25, duration: 'repeating', duration_in_months: 3 });
    const updated = await stripe.subscriptions.update(sub.id, { discounts: [{ coupon: coupon.id }], proration_behavior: 'none' });
    expect(updated.discounts).toHaveLength(1);
    const discountId = updated.discounts[0] as string;
    expect(discountId).toMatch(/^di_/);
    const discount = sandbox.store.getObject<Stripe.Discount>(undefined, 'discount', discountId)!;
    expect(discount.source.coupon).toBe('SAVE25X3');
    expect(discount.subscription).toBe(sub.id);
    expect(discount.start).toBe(NOW);
    expect(discount.end).toBe(Date.UTC(2026, 7, 28, 20, 26, 40) / 1000); // three calendar months later
    const created = latestEvent('customer.discount.created');
    expect((created.data.object as Stripe.Discount).id).toBe(discountId);
    const subEvent = latestEvent('customer.subscription.updated');
    expect(subEvent.data.previous_attributes).toEqual({ discounts: [] });
    expect((await stripe.coupons.retrieve('SAVE25X3')).times_redeemed).toBe(1);

    // Applying the same coupon again keeps the same discount and changes nothing.
    const events = sandbox.store.listEvents(undefined).length;
    const again = await stripe.subscriptions.update(sub.id, { discounts: [{ coupon: 'SAVE25X3' }] });
    expect(again.discounts).toEqual([discountId]);
    expect(sandbox.store.listEvents(undefined).length).toBe(events);

    // Expanded, the discount comes back as an object.
    const expanded = await stripe.subscriptions.retrieve(sub.id, { expand: ['discounts'] });
    expect((expanded.discounts[0] as Stripe.Discount).source.coupon).toBe('SAVE25X3');
    const listed = await stripe.subscriptions.list({ customer: sub.customer as string, expand: ['data.discounts'] });
    expect((listed.data[0]!.discounts[0] as Stripe.Discount).id).toBe(discountId);

    // The world reads it back as an action on this subscription.
    expect(storeActionLookup(sandbox.store)(undefined, sub.id)).toMatchObject({ couponIds: ['SAVE25X3'], discountIds: [discountId] });

    // Clearing discounts deletes the discount.
    const cleared = await stripe.subscriptions.update(sub.id, { discounts: '' });
    expect(cleared.discounts).toEqual([]);
    expect((latestEvent('customer.discount.deleted').data.object as Stripe.Discount).id).toBe(discountId);
  });

  it('refuses an unknown coupon and an exhausted one', async () => {
    const sub = take();
    await expectStripeError(stripe.subscriptions.update(sub.id, { discounts: [{ coupon: 'NOPE' }] }), 'discounts[0][coupon]', 'resource_missing');
    await stripe.coupons.create({ id: 'ONLYONCE', percent_off: 50, max_redemptions: 1 });
    await stripe.subscriptions.update(sub.id, { discounts: [{ coupon: 'ONLYONCE' }] });
    await expectStripeError(stripe.subscriptions.update(take().id, { discounts: [{ coupon: 'ONLYONCE' }] }), 'discounts[0][coupon]', 'coupon_expired');
  });

  it('extends a trial with trial_end and proration_behavior none; a past trial_end is refused', async () => {
    const sub = take();
    const trialEnd = NOW + 30 * DAY;
    const updated = await stripe.subscriptions.update(sub.id, { trial_end: trialEnd, proration_behavior: 'none' });
    expect(updated.status).toBe('trialing');
    expect(updated.trial_end).toBe(trialEnd);
    expect(updated.trial_start).toBe(NOW);
    expect(updated.items.data[0]!.current_period_end).toBe(trialEnd);
    const previous = latestEvent('customer.subscription.updated').data.previous_attributes as Record<string, unknown>;
    expect(previous).toMatchObject({ status: 'active', trial_end: sub.trial_end });
    expect(storeActionLookup(sandbox.store)(undefined, sub.id)?.trialEnd).toBe(trialEnd);
    await expectStripeError(stripe.subscriptions.update(take().id, { trial_end: NOW - DAY }), 'trial_end');
    await expectStripeError(stripe.subscriptions.update(take().id, { trial_end: NOW + DAY, proration_behavior: 'sometimes' as 'none' }), 'proration_behavior');
  });

  it('pauses collection (status stays active) and clears it with an empty value', async () => {
    const sub = take();
    const resumesAt = NOW + 60 * DAY;
    const paused = await stripe.subscriptions.update(sub.id, { pause_collection: { behavior: 'void', resumes_at: resumesAt } });
    expect(paused.status).toBe('active');
    expect(paused.pause_collection).toEqual({ behavior: 'void', resumes_at: resumesAt });
    expect(latestEvent('customer.subscription.updated').data.previous_attributes).toEqual({ pause_collection: null });
    expect(storeActionLookup(sandbox.store)(undefined, sub.id)?.pauseCollection).toEqual({ behavior: 'void', resumes_at: resumesAt });
    const resumed = await stripe.subscriptions.update(sub.id, { pause_collection: '' });
    expect(resumed.pause_collection).toBeNull();
    expect(latestEvent('customer.subscription.updated').data.previous_attributes).toEqual({ pause_collection: { behavior: 'void', resumes_at: resumesAt } });
    await expectStripeError(stripe.subscriptions.update(sub.id, { pause_collection: { behavior: 'later' as 'void' } }), 'pause_collection[behavior]');
  });

  it('cancels at period end with feedback and takes it back', async () => {
    const sub = take();
    const periodEnd = sub.items.data[0]!.current_period_end;
    const canceling = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: true, cancellation_details: { feedback: 'too_expensive' } });
    expect(canceling.cancel_at_period_end).toBe(true);
    expect(canceling.cancel_at).toBe(periodEnd);
    expect(canceling.canceled_at).toBe(NOW);
    expect(canceling.cancellation_details).toEqual({ comment: null, feedback: 'too_expensive', reason: 'cancellation_requested' });
    expect(canceling.status).toBe('active');
    const kept = await stripe.subscriptions.update(sub.id, { cancel_at_period_end: false });
    expect(kept.cancel_at).toBeNull();
    expect(kept.cancellation_details?.reason).toBeNull();
    expect(latestEvent('customer.subscription.updated').data.previous_attributes).toMatchObject({ cancel_at_period_end: true, cancel_at: periodEnd });
  });

  it('merges metadata, removes a key with an empty value, and refuses unknown parameters', async () => {
    const sub = take();
    await stripe.subscriptions.update(sub.id, { metadata: { a: '1', b: '2' } });
    const updated = await stripe.subscriptions.update(sub.id, { metadata: { a: '', c: '3' } });
    expect(updated.metadata).toEqual({ b: '2', c: '3' });
    await expectStripeError(stripe.subscriptions.update(sub.id, { coupon: 'X' } as Stripe.SubscriptionUpdateParams), 'coupon', 'parameter_unknown');
  });

  it('a canceled subscription only takes metadata and cancellation details', async () => {
    const sub = take();
    const canceled = await stripe.subscriptions.cancel(sub.id);
    expect(canceled.status).toBe('canceled');
    expect(latestEvent('customer.subscription.deleted').data.object).toMatchObject({ id: sub.id, status: 'canceled', ended_at: NOW });
    await expectStripeError(stripe.subscriptions.update(sub.id, { trial_end: NOW + DAY }), 'trial_end');
    const listed = await stripe.subscriptions.list({ customer: sub.customer as string, status: 'canceled' });
    expect(listed.data.map((s) => s.id)).toContain(sub.id);
  });
});

describe('events and invoices lists', () => {
  it('lists events newest first across pages, filtered by types[] and created range', async () => {
    const all = sandbox.store.listEvents(undefined);
    const since = all[Math.floor(all.length / 2)]!.created;
    const wanted = ['invoice.paid', 'customer.subscription.updated'];
    const seen: Stripe.Event[] = [];
    for await (const event of stripe.events.list({ types: wanted, created: { gte: since }, limit: 25 })) seen.push(event);
    const expected = all.filter((e) => wanted.includes(e.type) && e.created >= since).reverse();
    expect(seen.length).toBeGreaterThan(25);
    expect(seen.map((e) => e.id)).toEqual(expected.map((e) => e.id));
    for (let i = 1; i < seen.length; i++) expect(seen[i - 1]!.created).toBeGreaterThanOrEqual(seen[i]!.created);

    const wildcard = await stripe.events.list({ type: 'customer.discount.*', limit: 100 });
    expect(wildcard.data.length).toBeGreaterThan(0);
    expect(wildcard.data.every((e) => e.type.startsWith('customer.discount.'))).toBe(true);
    const before = await stripe.events.list({ created: { lt: since }, limit: 5 });
    expect(before.data.every((e) => e.created < since)).toBe(true);
    const one = await stripe.events.retrieve(seen[0]!.id);
    expect(one.id).toBe(seen[0]!.id);
  });

  it('filters invoices by customer, subscription and status', async () => {
    const invoices = sandbox.store.listObjects<Stripe.Invoice>(undefined, 'invoice');
    const sample = invoices[3]!;
    const subscription = sample.parent!.subscription_details!.subscription as string;
    const bySubscription = await stripe.invoices.list({ subscription, limit: 100 });
    expect(bySubscription.data.map((i) => i.id).sort()).toEqual(
      invoices.filter((i) => i.parent?.subscription_details?.subscription === subscription).map((i) => i.id).sort(),
    );
    const byCustomer = await stripe.invoices.list({ customer: sample.customer as string, status: 'paid', limit: 100 });
    expect(byCustomer.data.length).toBeGreaterThan(0);
    expect(byCustomer.data.every((i) => i.customer === sample.customer && i.status === 'paid')).toBe(true);
    const uncollectible = await stripe.invoices.list({ status: 'uncollectible', limit: 100 });
    expect(uncollectible.data.length).toBe(invoices.filter((i) => i.status === 'uncollectible').length);
  });

  it('lists a customer’s payment methods', async () => {
    const customer = sandbox.store.listObjects<Stripe.Customer>(undefined, 'customer')[0]!;
    const methods = await stripe.paymentMethods.list({ customer: customer.id, type: 'card' });
    expect(methods.data).toHaveLength(1);
    expect(methods.data[0]!.customer).toBe(customer.id);
    const viaCustomer = await stripe.customers.listPaymentMethods(customer.id);
    expect(viaCustomer.data.map((pm) => pm.id)).toEqual(methods.data.map((pm) => pm.id));
  });
});
