import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/stripe-openapi/resources.json' with { type: 'json' };
import { compareVersions, orderRank } from '../../src/services/projections/ordering.js';
import { billedPeriods, invoicedDiscounts, paymentMethodHistory, periodAt, subscriptionHistory } from '../../src/services/sync/history.js';
import { snapshotDate, syntheticSnapshotEvent } from '../../src/services/sync/synthetic.js';

const DAY = 86_400;
const T = 1_750_000_000;

/** Stripe's published subscription, reshaped to one story: 14-day trial, monthly, cancelled at period end. */
function story() {
  const base = structuredClone(fixtures.subscription) as Record<string, any>;
  const item = base.items.data[0];
  item.price.recurring = { interval: 'month', interval_count: 1, usage_type: 'licensed' };
  item.price.id = 'price_basic';
  item.quantity = 3;
  return {
    ...base,
    id: 'sub_story',
    created: T,
    start_date: T,
    billing_cycle_anchor: T + 14 * DAY,
    trial_start: T,
    trial_end: T + 14 * DAY,
    status: 'canceled',
    canceled_at: T + 100 * DAY,
    cancel_at_period_end: true,
    cancel_at: null,
    ended_at: T + 120 * DAY,
    cancellation_details: { comment: null, feedback: 'too_expensive', reason: 'cancellation_requested' },
    items: { ...base.items, data: [item] },
  };
}

describe('rebuilt history from what a subscription records', () => {
  it('goes trialing → active → past_due → active → cancelling, each at its own moment, ending before the end', () => {
    const sub = story();
    const points = subscriptionHistory(sub, Number.MAX_SAFE_INTEGER, [{ firstFailedAt: T + 50 * DAY, settledAt: T + 53 * DAY }]);
    const states = points.map((p) => [p.at - T, p.object.status, p.object.cancel_at_period_end, p.object.canceled_at]);
    expect(states[0]).toEqual([0, 'trialing', false, null]);
    expect(points[0]!.type).toBe('customer.subscription.created');
    expect(states).toContainEqual([14 * DAY, 'active', false, null]);
    expect(states).toContainEqual([50 * DAY, 'past_due', false, null]);
    expect(states).toContainEqual([53 * DAY, 'active', false, null]);
    expect(states.at(-1)).toEqual([100 * DAY, 'active', true, T + 100 * DAY]);
    expect(points.at(-1)!.object.cancellation_details.reason).toBe('cancellation_requested');
    // the end is the object's own snapshot, not repeated
    expect(points.every((p) => p.at < sub.ended_at && p.object.ended_at === null)).toBe(true);
    // before the request nobody had asked to cancel
    expect(points.filter((p) => p.at < sub.canceled_at).every((p) => p.object.cancellation_details.reason === null)).toBe(true);
  });

  it('stops at the cutoff where real events begin', () => {
    const points = subscriptionHistory(story(), T + 60 * DAY, []);
    expect(points.every((p) => p.at < T + 60 * DAY)).toBe(true);
    expect(points.some((p) => p.object.cancel_at_period_end)).toBe(false);
  });

  it('takes items, quantities and periods from the invoice lines of each billed period (both API shapes)', () => {
    const line = (start: number, quantity: number, legacy = false) =>
      legacy
        ? { period: { start, end: start + 30 * DAY }, quantity, subscription_item: 'si_1', proration: false, price: { id: 'price_basic', product: 'prod_1', unit_amount: 1000 } }
        : {
            period: { start, end: start + 30 * DAY },
            quantity,
            parent: { subscription_item_details: { subscription_item: 'si_1', proration: false } },
            pricing: { price_details: { price: 'price_basic', product: 'prod_1' }, unit_amount_decimal: '1000' },
          };
    const invoices = [
      { status: 'paid', lines: { data: [line(T + 14 * DAY, 3)] } },
      { status: 'paid', lines: { data: [line(T + 44 * DAY, 5, true)] } },
      { status: 'void', lines: { data: [line(T + 74 * DAY, 9)] } },
    ];
    const billed = billedPeriods(invoices);
    expect(billed.map((p) => [p.start - T, p.items[0]!.quantity])).toEqual([
      [14 * DAY, 3],
      [44 * DAY, 5],
    ]);
    const points = subscriptionHistory(story(), T + 70 * DAY, [], billed);
    const at44 = points.find((p) => p.at === T + 44 * DAY)!;
    expect(at44.object.items.data[0]).toMatchObject({ id: 'si_1', quantity: 5, current_period_start: T + 44 * DAY, current_period_end: T + 74 * DAY });
    expect(at44.object.items.data[0].price.recurring.interval).toBe('month');
  });

  const planLine = (item: string, start: number, end: number, quantity: number, extra: Record<string, unknown> = {}) => ({
    period: { start, end },
    quantity,
    amount: 1000 * quantity,
    parent: { subscription_item_details: { subscription_item: item, proration: false } },
    pricing: { price_details: { price: item === 'si_1' ? 'price_basic' : 'price_addon', product: 'prod_1' }, unit_amount_decimal: '1000' },
    ...extra,
  });
  const prorated = (item: string, start: number, end: number, quantity: number, amount: number) => ({
    ...planLine(item, start, end, quantity),
    amount,
    parent: { subscription_item_details: { subscription_item: item, proration: true } },
  });

  it('dates an add-on added mid-period at its item\'s creation, not at the renewal that first billed it', () => {
    const sub = story();
    const main = sub.items.data[0];
    const addon = { ...structuredClone(main), id: 'si_2', created: T + 50 * DAY, quantity: 1, price: { ...main.price, id: 'price_addon' } };
    sub.items = { ...sub.items, data: [main, addon] };
    const invoices = [
      { status: 'paid', lines: { data: [planLine('si_1', T + 14 * DAY, T + 44 * DAY, 3)] } },
      { status: 'paid', lines: { data: [planLine('si_1', T + 44 * DAY, T + 74 * DAY, 3)] } },
      { status: 'paid', lines: { data: [planLine('si_1', T + 74 * DAY, T + 104 * DAY, 3), planLine('si_2', T + 74 * DAY, T + 104 * DAY, 1)] } },
    ];
    const points = subscriptionHistory(sub, T + 90 * DAY, [], billedPeriods(invoices));
    const itemsAt = (t: number) => [...points].reverse().find((p) => p.at <= t)!.object.items.data.map((i: any) => i.id);
    expect(points.map((p) => p.at - T)).toContain(50 * DAY);
    expect(itemsAt(T + 49 * DAY)).toEqual(['si_1']);
    expect(itemsAt(T + 50 * DAY)).toEqual(['si_1', 'si_2']);
    expect(itemsAt(T + 80 * DAY)).toEqual(['si_1', 'si_2']);
    // the add-on keeps the period it was added in
    const at50 = points.find((p) => p.at === T + 50 * DAY)!;
    expect(at50.object.items.data[1]).toMatchObject({ current_period_start: T + 44 * DAY, current_period_end: T + 74 * DAY });
  });

  it('dates a prorated seat change at the change, keeping the other items and the billing period', () => {
    const sub = story();
    const main = sub.items.data[0];
    const addon = { ...structuredClone(main), id: 'si_2', created: T, quantity: 1, price: { ...main.price, id: 'price_addon' } };
    sub.items = { ...sub.items, data: [main, addon] };
    const invoices = [
      { status: 'paid', lines: { data: [planLine('si_1', T + 14 * DAY, T + 44 * DAY, 3), planLine('si_2', T + 14 * DAY, T + 44 * DAY, 1)] } },
      // seats 3 → 5 on day 30: the unused time of 3 credited, 5 charged for the rest of the period
      { status: 'paid', lines: { data: [prorated('si_1', T + 30 * DAY, T + 44 * DAY, 3, -1400), prorated('si_1', T + 30 * DAY, T + 44 * DAY, 5, 2333)] } },
      { status: 'paid', lines: { data: [planLine('si_1', T + 44 * DAY, T + 74 * DAY, 5), planLine('si_2', T + 44 * DAY, T + 74 * DAY, 1)] } },
    ];
    const points = subscriptionHistory(sub, T + 60 * DAY, [], billedPeriods(invoices));
    const at30 = points.find((p) => p.at === T + 30 * DAY)!;
    expect(at30.object.items.data.map((i: any) => [i.id, i.quantity, i.current_period_start])).toEqual([
      ['si_1', 5, T + 14 * DAY],
      ['si_2', 1, T + 14 * DAY],
    ]);
    expect(points.find((p) => p.at === T + 14 * DAY)!.object.items.data.map((i: any) => i.quantity)).toEqual([3, 1]);
  });

  it('rebuilds an ended discount from the invoices it applied to: from its start (trial included) for as many months as it discounted', () => {
    const invoice = (start: number, end: number, subtotal: number, discounted: boolean) => ({
      status: 'paid',
      subtotal,
      discounts: discounted ? ['di_intro'] : [],
      total_discount_amounts: discounted ? [{ amount: subtotal / 4, discount: 'di_intro' }] : [],
      lines: { data: [planLine('si_1', start, end, 1)] },
    });
    const m = (k: number) => Date.UTC(2025, k, 15) / 1000 + 14 * DAY;
    const S = Date.UTC(2025, 0, 15) / 1000;
    const invoices = [invoice(S, S + 14 * DAY, 0, false), invoice(m(0), m(1), 4000, true), invoice(m(1), m(2), 4000, true), invoice(m(2), m(3), 4000, true), invoice(m(3), m(4), 4000, false)];
    const [d, ...more] = invoicedDiscounts(invoices, { id: 'sub_story', customer: 'cus_1' });
    expect(more).toEqual([]);
    expect(d).toMatchObject({ id: 'di_intro', object: 'discount', customer: 'cus_1', subscription: 'sub_story', start: S, end: Date.UTC(2025, 3, 15) / 1000 });
    // it shows in the subscription over exactly those months
    const sub = { ...story(), start_date: S, created: S, trial_start: S, trial_end: S + 14 * DAY, billing_cycle_anchor: S + 14 * DAY, canceled_at: null, ended_at: null, status: 'active', discounts: [] };
    const points = subscriptionHistory(sub, m(5), [], billedPeriods(invoices), [d!]);
    const discountsAt = (t: number) => [...points].reverse().find((p) => p.at <= t)!.object.discounts.map((x: any) => x.id);
    expect(discountsAt(S)).toEqual(['di_intro']);
    expect(discountsAt(m(2) + DAY)).toEqual(['di_intro']);
    expect(discountsAt(Date.UTC(2025, 3, 15) / 1000)).toEqual([]);
  });

  it('rebuilds a replaced card from its charges: on file from sign-up until the new card took over, renewed before it lapsed', () => {
    const card = (exp_year: number, last4: string) => ({ type: 'card', card: { brand: 'visa', funding: 'debit', exp_month: 9, exp_year, last4, wallet: null } });
    // T is mid-June 2025; the first card runs through September 2025
    const uses = [
      { at: T + 14 * DAY, paymentMethod: 'pm_old', details: card(2025, '4242') },
      { at: T + 44 * DAY, paymentMethod: 'pm_old', details: card(2025, '4242') },
      { at: T + 134 * DAY, paymentMethod: 'pm_old', details: card(2028, '4242') },
      { at: T + 160 * DAY, paymentMethod: 'pm_new', details: card(2030, '1111') },
    ];
    const lapse = Date.UTC(2025, 9, 1) / 1000;
    expect(T + 44 * DAY < lapse && lapse < T + 134 * DAY).toBe(true);
    const points = paymentMethodHistory({ id: 'cus_1', created: T }, uses, [{ id: 'pm_new', attachedAt: T + 159 * DAY }], T + 200 * DAY);
    expect(points.map((p) => [p.object.id, p.type, p.at, p.object.card.exp_year])).toEqual([
      ['pm_old', 'payment_method.attached', T, 2025],
      // charged with the renewed card only after the old one lapsed: renewed by its last valid moment
      ['pm_old', 'payment_method.updated', lapse - 1, 2028],
      ['pm_new', 'payment_method.updated', T + 159 * DAY, 2030],
      ['pm_old', 'payment_method.detached', T + 159 * DAY, 2028],
    ]);
    expect(points.every((p) => p.object.customer === 'cus_1' && p.object.type === 'card')).toBe(true);
    // a detachment inside the events window has its real event: the rebuilt one stays before it
    const cut = paymentMethodHistory({ id: 'cus_1', created: T }, uses.slice(0, 3), [], T + 140 * DAY);
    expect(cut.at(-1)).toMatchObject({ type: 'payment_method.detached', at: T + 134 * DAY + 1 });
  });

  it('steps billing periods by calendar months and years from the anchor', () => {
    const jan31 = Date.UTC(2025, 0, 31) / 1000;
    expect(periodAt(jan31, 'month', 1, Date.UTC(2025, 2, 5) / 1000)).toEqual([Date.UTC(2025, 1, 28) / 1000, Date.UTC(2025, 2, 31) / 1000]);
    expect(periodAt(jan31, 'year', 1, Date.UTC(2026, 5, 1) / 1000)).toEqual([Date.UTC(2026, 0, 31) / 1000, Date.UTC(2027, 0, 31) / 1000]);
  });
});

describe('snapshot dating', () => {
  it('dates a snapshot at the latest time the object records, never a future one', () => {
    const sub = { ...story(), status: 'active', ended_at: null, canceled_at: null, cancel_at: T + 400 * DAY };
    expect(snapshotDate('subscription', sub, T + 200 * DAY)).toBe(T + 14 * DAY);
    expect(snapshotDate('subscription', story(), T + 200 * DAY)).toBe(T + 120 * DAY);
    const invoice = { created: T, status_transitions: { finalized_at: T + 3600, paid_at: T + 5 * DAY, voided_at: null, marked_uncollectible_at: null } };
    expect(snapshotDate('invoice', invoice, T + 6 * DAY)).toBe(T + 5 * DAY);
  });

  it('a real event in the same second beats any snapshot, whatever their lifecycle ranks', () => {
    const snapshot = syntheticSnapshotEvent('subscription', story(), { fetchedAt: T + 200 * DAY });
    const real = { created: snapshot.created, rank: orderRank('evt_1RealEvent', 0), eventId: 'evt_1RealEvent' };
    const synthetic = { created: snapshot.created, rank: orderRank(snapshot.id, 281), eventId: snapshot.id };
    expect(compareVersions(real, synthetic)).toBeGreaterThan(0);
    expect(compareVersions({ ...real, created: real.created - 1 }, synthetic)).toBeLessThan(0);
  });
});
