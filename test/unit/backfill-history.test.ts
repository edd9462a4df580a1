import { describe, expect, it } from 'vitest';
import fixtures from '../fixtures/stripe-openapi/resources.json' with { type: 'json' };
import { compareVersions, orderRank } from '../../src/services/projections/ordering.js';
import { billedPeriods, periodAt, subscriptionHistory } from '../../src/services/sync/history.js';
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
