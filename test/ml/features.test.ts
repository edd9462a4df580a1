import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { FEATURES, featureIndex, featureMatrixAt, featureValues, featureVectorAt, type CustomerFacts, type FeatureMatrix } from '../../src/ml/features.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';
import { subscriptionVersions } from '../../src/db/schema/index.js';
import { DAY, T, card, charge, discount, dispute, failure, invoice, paymentMethodEvent, refund, subVersion } from './features-fixtures.js';

function valueOf(m: FeatureMatrix, customerId: string, feature: string, account = 'platform'): number {
  const r = m.keys.findIndex((k) => k.customerId === customerId && k.account === account);
  if (r < 0) throw new Error(`${customerId} not in matrix`);
  return m.matrix.data[r * m.matrix.cols + featureIndex(feature)]!;
}

/** A small account at T (2026-06-30) with one customer per situation worth a feature. */
async function seedHistory(db: Database): Promise<void> {
  // cus_up: monthly customer for 200 days, upgraded 30 days ago (50 -> 80 USD, 1 -> 3 seats).
  await subVersion(db, { customerId: 'cus_up', subscriptionId: 'sub_up', at: T - 200 * DAY, mrr: 5000, quantity: 1 });
  await subVersion(db, { customerId: 'cus_up', subscriptionId: 'sub_up', at: T - 30 * DAY, startDate: T - 200 * DAY, mrr: 8000, quantity: 3, priceId: 'price_pro', currentPeriodEnd: T + 10 * DAY });
  await invoice(db, { customerId: 'cus_up', amount: 5000, finalizedAt: T - 90 * DAY, paidAt: T - 90 * DAY + 60 });
  await invoice(db, { customerId: 'cus_up', amount: 5000, finalizedAt: T - 60 * DAY, paidAt: T - 60 * DAY + 60 });
  await invoice(db, { customerId: 'cus_up', amount: 8000, finalizedAt: T - 30 * DAY, paidAt: T - 30 * DAY + 60 });

  // cus_dun: in dunning: two failed attempts on an invoice still open at T.
  await subVersion(db, { customerId: 'cus_dun', subscriptionId: 'sub_dun', at: T - 400 * DAY });
  await subVersion(db, { customerId: 'cus_dun', subscriptionId: 'sub_dun', at: T - 10 * DAY, startDate: T - 400 * DAY, status: 'past_due' });
  const open = await invoice(db, { customerId: 'cus_dun', amount: 5000, finalizedAt: T - 10 * DAY, dueDate: T - 10 * DAY });
  await failure(db, { customerId: 'cus_dun', invoiceId: open, at: T - 10 * DAY, attempt: 1 });
  await failure(db, { customerId: 'cus_dun', invoiceId: open, at: T - 3 * DAY, attempt: 2 });
  await card(db, { customerId: 'cus_dun', attachedAt: T - 400 * DAY, expMonth: 7, expYear: 2026 });

  // cus_eur: annual EUR plan (1200 EUR a year = 100 EUR MRR), send_invoice, set to cancel, discount, SEPA.
  await subVersion(db, { customerId: 'cus_eur', subscriptionId: 'sub_eur', at: T - 100 * DAY, currency: 'eur', mrr: 10000, interval: 'year', collectionMethod: 'send_invoice', currentPeriodEnd: T + 265 * DAY });
  await subVersion(db, { customerId: 'cus_eur', subscriptionId: 'sub_eur', at: T - 5 * DAY, startDate: T - 100 * DAY, currency: 'eur', mrr: 10000, interval: 'year', collectionMethod: 'send_invoice', cancelAtPeriodEnd: true, currentPeriodEnd: T + 265 * DAY });
  await card(db, { customerId: 'cus_eur', attachedAt: T - 100 * DAY, expMonth: 1, expYear: 2030, type: 'sepa_debit' });
  await discount(db, { customerId: 'cus_eur', start: T - 20 * DAY, end: T + 40 * DAY });
  await invoice(db, { customerId: 'cus_eur', currency: 'eur', amount: 120000, finalizedAt: T - 100 * DAY, paidAt: T - 80 * DAY });

  // cus_trial: in trial with 9 days left, refund and dispute in the last 90 days.
  await subVersion(db, { customerId: 'cus_trial', subscriptionId: 'sub_trial', at: T - 5 * DAY, status: 'trialing', trialEnd: T + 9 * DAY, mrr: 2000 });
  await refund(db, { customerId: 'cus_trial', at: T - 4 * DAY, amount: 1000 });
  await dispute(db, { customerId: 'cus_trial', at: T - 2 * DAY });
  await charge(db, { customerId: 'cus_trial', at: T - 5 * DAY, method: 'card' });

  // cus_gone: canceled before T (not live); cus_future: subscribes after T (not known yet).
  await subVersion(db, { customerId: 'cus_gone', subscriptionId: 'sub_gone', at: T - 300 * DAY });
  await subVersion(db, { customerId: 'cus_gone', subscriptionId: 'sub_gone', at: T - 10 * DAY, status: 'canceled', startDate: T - 300 * DAY });
  await subVersion(db, { customerId: 'cus_future', subscriptionId: 'sub_future', at: T + 1 * DAY });

  // cus_conn: on a connected account, a card updated automatically AFTER T (row shows the new expiry).
  await subVersion(db, { account: 'acct_1Conn', customerId: 'cus_conn', subscriptionId: 'sub_conn', at: T - 50 * DAY, currency: 'jpy', mrr: 1500, pauseBehavior: 'void' });
  await card(db, { account: 'acct_1Conn', id: 'pm_conn', customerId: 'cus_conn', attachedAt: T - 50 * DAY, expMonth: 12, expYear: 2029, srcCreated: T + 3 * DAY });
  await paymentMethodEvent(db, { account: 'acct_1Conn', id: 'pm_conn', customerId: 'cus_conn', at: T - 50 * DAY, type: 'payment_method.attached', expMonth: 7, expYear: 2026 });
  await paymentMethodEvent(db, { account: 'acct_1Conn', id: 'pm_conn', customerId: 'cus_conn', at: T + 3 * DAY, type: 'payment_method.automatically_updated', expMonth: 12, expYear: 2029 });

  // cus_bare: a subscription row with nothing but the required columns (NULL currency, interval, periods...)
  await db.db.insert(subscriptionVersions).values({ account: 'platform', subscriptionId: 'sub_bare', eventId: 'evt_bare', validFrom: T - 3 * DAY, rank: 0, customerId: 'cus_bare', status: 'active' });
}

/** Everything a later day adds: none of it was known at T. */
async function seedLaterEvents(db: Database): Promise<void> {
  await subVersion(db, { customerId: 'cus_up', subscriptionId: 'sub_up', at: T + 1, startDate: T - 200 * DAY, mrr: 1000, quantity: 1, priceId: 'price_basic' });
  await subVersion(db, { customerId: 'cus_dun', subscriptionId: 'sub_dun', at: T + 5 * DAY, status: 'canceled', startDate: T - 400 * DAY, cancellationReason: 'payment_failed' });
  await subVersion(db, { customerId: 'cus_trial', subscriptionId: 'sub_trial_2', at: T + 2 * DAY, mrr: 9000 });
  const later = await invoice(db, { customerId: 'cus_trial', amount: 2000, finalizedAt: T + 9 * DAY });
  await failure(db, { customerId: 'cus_trial', invoiceId: later, at: T + 9 * DAY, attempt: 1 });
  await card(db, { customerId: 'cus_up', attachedAt: T + 1 * DAY, expMonth: 8, expYear: 2026 });
  await refund(db, { customerId: 'cus_up', at: T + 1, amount: 100 });
  await dispute(db, { customerId: 'cus_eur', at: T + 1 });
  await discount(db, { customerId: 'cus_up', start: T + 1, end: null });
  await charge(db, { customerId: 'cus_eur', at: T + 1, method: 'card', status: 'failed' });
}

describeEachDb('point-in-time features', (kind) => {
  let db: Database;
  let before: FeatureMatrix;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    await seedHistory(db);
    before = await featureMatrixAt(db, T);
  });
  afterAll(() => db?.close());

  it('covers exactly the customers with a live subscription at asOf', () => {
    const ids = before.keys.map((k) => `${k.account}/${k.customerId}`).sort();
    expect(ids).toEqual(['acct_1Conn/cus_conn', 'platform/cus_bare', 'platform/cus_dun', 'platform/cus_eur', 'platform/cus_trial', 'platform/cus_up']);
    expect(before.matrix.cols).toBe(FEATURES.length);
    expect(FEATURES.length).toBeGreaterThanOrEqual(25);
    expect(before.featureSet.version).toMatch(/^churn-features-v\d+$/);
    expect(before.matrix.data.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('reads plan, MRR and seat history from subscription versions', () => {
    expect(valueOf(before, 'cus_up', 'mrr_usd_log')).toBeCloseTo(Math.log1p(80), 4);
    expect(valueOf(before, 'cus_up', 'mrr_change_90d')).toBeCloseTo(Math.log1p(80) - Math.log1p(50), 4);
    expect(valueOf(before, 'cus_up', 'upgrades_90d')).toBe(1);
    expect(valueOf(before, 'cus_up', 'downgrades_90d')).toBe(0);
    expect(valueOf(before, 'cus_up', 'seat_change_90d')).toBe(2);
    expect(valueOf(before, 'cus_up', 'plan_changes')).toBe(1);
    expect(valueOf(before, 'cus_up', 'days_since_plan_change')).toBeCloseTo(30, 3);
    expect(valueOf(before, 'cus_up', 'tenure_days')).toBeCloseTo(200, 3);
    expect(valueOf(before, 'cus_up', 'days_to_period_end')).toBeCloseTo(10, 3);
    expect(valueOf(before, 'cus_up', 'invoice_amount_trend')).toBeCloseTo(Math.log1p(8000) - Math.log1p(5000), 4);
    expect(valueOf(before, 'cus_up', 'has_payment_method')).toBe(0);
  });

  it('sees dunning: failures, the attempt, the open invoice and an expiring card', () => {
    expect(valueOf(before, 'cus_dun', 'failed_payments_30d')).toBe(2);
    expect(valueOf(before, 'cus_dun', 'dunning_attempt')).toBe(2);
    expect(valueOf(before, 'cus_dun', 'days_since_last_failure')).toBeCloseTo(3, 3);
    expect(valueOf(before, 'cus_dun', 'past_due')).toBe(1);
    expect(valueOf(before, 'cus_dun', 'open_invoices')).toBe(1);
    expect(valueOf(before, 'cus_dun', 'open_invoice_amount_log')).toBeCloseTo(Math.log1p(50), 4);
    expect(valueOf(before, 'cus_dun', 'max_days_overdue')).toBeCloseTo(10, 3);
    // card valid through July 2026: it stops working on 1 August, 32 days after 2026-06-30
    expect(valueOf(before, 'cus_dun', 'days_to_card_expiry')).toBeCloseTo(32, 3);
    expect(valueOf(before, 'cus_dun', 'card_expiring_30d')).toBe(0);
    expect(valueOf(before, 'cus_dun', 'payment_method_card')).toBe(1);
    expect(valueOf(before, 'cus_up', 'failed_payments_90d')).toBe(0);
    expect(valueOf(before, 'cus_up', 'days_since_last_failure')).toBe(365);
  });

  it('normalises currencies and reads contract terms', () => {
    // 100 EUR a month at the fixed 1.08 rate
    expect(valueOf(before, 'cus_eur', 'mrr_usd_log')).toBeCloseTo(Math.log1p(108), 3);
    // JPY is zero-decimal: 1500 yen ~ 10 USD
    expect(valueOf(before, 'cus_conn', 'mrr_usd_log', 'acct_1Conn')).toBeCloseTo(Math.log1p(1500 * 0.0067), 3);
    expect(valueOf(before, 'cus_eur', 'interval_months')).toBe(12);
    expect(valueOf(before, 'cus_eur', 'send_invoice')).toBe(1);
    expect(valueOf(before, 'cus_eur', 'cancel_at_period_end')).toBe(1);
    expect(valueOf(before, 'cus_eur', 'discount_active')).toBe(1);
    expect(valueOf(before, 'cus_eur', 'discount_days_left')).toBeCloseTo(40, 3);
    expect(valueOf(before, 'cus_eur', 'payment_method_bank_debit')).toBe(1);
    expect(valueOf(before, 'cus_eur', 'payment_method_card')).toBe(0);
    expect(valueOf(before, 'cus_eur', 'median_days_to_pay')).toBeCloseTo(20, 3);
    expect(valueOf(before, 'cus_eur', 'late_paid_share')).toBe(1);
    expect(valueOf(before, 'cus_trial', 'trialing')).toBe(1);
    expect(valueOf(before, 'cus_trial', 'trial_days_left')).toBeCloseTo(9, 3);
    expect(valueOf(before, 'cus_trial', 'refunds_90d')).toBe(1);
    expect(valueOf(before, 'cus_trial', 'disputes_90d')).toBe(1);
    expect(valueOf(before, 'cus_conn', 'connected_account', 'acct_1Conn')).toBe(1);
    expect(valueOf(before, 'cus_up', 'connected_account')).toBe(0);
    expect(valueOf(before, 'cus_conn', 'paused', 'acct_1Conn')).toBe(1);
  });

  it('gives neutral values, never NaN, when a customer has NULLs everywhere', () => {
    expect(valueOf(before, 'cus_bare', 'mrr_usd_log')).toBe(0);
    expect(valueOf(before, 'cus_bare', 'interval_months')).toBe(1);
    expect(valueOf(before, 'cus_bare', 'has_payment_method')).toBe(0);
    expect(valueOf(before, 'cus_bare', 'days_to_card_expiry')).toBe(730);
    expect(valueOf(before, 'cus_bare', 'days_since_last_failure')).toBe(365);
    expect(valueOf(before, 'cus_bare', 'tenure_days')).toBeCloseTo(3, 3);
  });

  it('uses the card as it was at asOf even when a later automatic update rewrote the row', () => {
    // the row says 12/2029, but at T the card on file expired end of July 2026
    expect(valueOf(before, 'cus_conn', 'days_to_card_expiry', 'acct_1Conn')).toBeCloseTo(32, 3);
    const after = Date.UTC(2026, 8, 1) / 1000;
    // by September the event store says the updated card
    return featureMatrixAt(db, after).then((m) => expect(valueOf(m, 'cus_conn', 'days_to_card_expiry', 'acct_1Conn')).toBe(730));
  });

  it('agrees with the single-customer form and filters by account', async () => {
    const v = await featureVectorAt(db, { account: 'platform', customerId: 'cus_dun' }, T);
    const r = before.keys.findIndex((k) => k.customerId === 'cus_dun');
    expect(Array.from(v!)).toEqual(Array.from(before.matrix.data.slice(r * before.matrix.cols, (r + 1) * before.matrix.cols)));
    expect(await featureVectorAt(db, { account: 'platform', customerId: 'cus_gone' }, T)).toBeNull();
    const conn = await featureMatrixAt(db, T, { accounts: ['acct_1Conn'] });
    expect(conn.keys).toEqual([{ account: 'acct_1Conn', customerId: 'cus_conn' }]);
  });

  it('does not change when events after asOf arrive', async () => {
    await seedLaterEvents(db);
    const after = await featureMatrixAt(db, T);
    expect(after.keys).toEqual(before.keys);
    for (let c = 0; c < after.matrix.cols; c++) {
      for (let r = 0; r < after.matrix.rows; r++) {
        const i = r * after.matrix.cols + c;
        expect(after.matrix.data[i], `${after.keys[r]!.customerId} ${FEATURES[c]!.name}`).toBe(before.matrix.data[i]);
      }
    }
    // ...while a later asOf does see them
    const later = await featureMatrixAt(db, T + 10 * DAY);
    expect(valueOf(later, 'cus_up', 'downgrades_90d')).toBe(1);
    expect(later.keys.some((k) => k.customerId === 'cus_dun')).toBe(false);
  });
});

it('sees the next renewal landing on an expired card, debit cards and recent upgrades', () => {
  const asOf = T;
  const facts = (over: { periodEnd: number; cardExpiresAt: number | null; funding?: string; upgrades60?: number }): CustomerFacts => ({
    account: 'platform',
    asOf,
    sub: {
      account: 'platform', customer_id: 'cus_x', live_subscriptions: 1, mrr_usd: 20, quantity: 1, item_count: 1, interval_months: 1,
      any_cancel_at_period_end: false, any_trialing: false, trial_end: null, any_past_due: false, any_unpaid: false, any_paused: false,
      any_send_invoice: false, period_end: over.periodEnd, discount_active: false, discount_end: null, oldest_live_start: asOf - 100 * DAY,
      default_payment_methods: null, first_start: asOf - 100 * DAY, ended_subscriptions: 0,
    },
    changes: { upgrades_60d: over.upgrades60 ?? 0 } as CustomerFacts['changes'],
    paymentMethod: { live: 1, added90d: 0, type: 'card', funding: over.funding ?? 'credit', brand: 'visa', wallet: null, cardExpiresAt: over.cardExpiresAt },
  });
  const value = (f: CustomerFacts, name: string) => featureValues(f)[featureIndex(name)]!;
  // renews in 12 days, the card stops working in 5: that charge will be declined
  const lapsing = facts({ periodEnd: asOf + 12 * DAY, cardExpiresAt: asOf + 5 * DAY, funding: 'debit', upgrades60: 1 });
  expect(value(lapsing, 'card_expires_before_renewal')).toBe(1);
  expect(value(lapsing, 'renewal_on_expired_card_30d')).toBe(1);
  expect(value(lapsing, 'days_to_renewal_45')).toBeCloseTo(12, 3);
  expect(value(lapsing, 'debit_card')).toBe(1);
  expect(value(lapsing, 'upgrades_60d')).toBe(1);
  // an annual plan renewing in 200 days on a card that expired already: not due within 30 days
  const later = facts({ periodEnd: asOf + 200 * DAY, cardExpiresAt: asOf - 10 * DAY });
  expect(value(later, 'card_expires_before_renewal')).toBe(1);
  expect(value(later, 'renewal_on_expired_card_30d')).toBe(0);
  expect(value(later, 'days_to_renewal_45')).toBe(45);
  expect(value(later, 'debit_card')).toBe(0);
  // a card valid past the renewal, and no card at all
  expect(value(facts({ periodEnd: asOf + 12 * DAY, cardExpiresAt: asOf + 40 * DAY }), 'renewal_on_expired_card_30d')).toBe(0);
  expect(value(facts({ periodEnd: asOf + 12 * DAY, cardExpiresAt: null }), 'card_expires_before_renewal')).toBe(0);
});

describeEachDb('invoice amount trend', (kind) => {
  let db: Database;
  let m: FeatureMatrix;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    // cus_trial0: a $0 trial invoice, then the first paid $50 invoice: no paid base yet, so no trend
    await subVersion(db, { customerId: 'cus_trial0', subscriptionId: 'sub_trial0', at: T - 45 * DAY, mrr: 5000 });
    await invoice(db, { customerId: 'cus_trial0', amount: 0, finalizedAt: T - 45 * DAY, paidAt: T - 45 * DAY });
    await invoice(db, { customerId: 'cus_trial0', amount: 5000, finalizedAt: T - 15 * DAY, paidAt: T - 15 * DAY + 60 });
    // cus_mixed: trial $0, two paid $40 invoices, one $90 never paid, then $60 (open at T): base = $40
    await subVersion(db, { customerId: 'cus_mixed', subscriptionId: 'sub_mixed', at: T - 150 * DAY, mrr: 6000 });
    await invoice(db, { customerId: 'cus_mixed', amount: 0, finalizedAt: T - 150 * DAY, paidAt: T - 150 * DAY });
    await invoice(db, { customerId: 'cus_mixed', amount: 4000, finalizedAt: T - 120 * DAY, paidAt: T - 120 * DAY + 60 });
    await invoice(db, { customerId: 'cus_mixed', amount: 4000, finalizedAt: T - 90 * DAY, paidAt: T - 90 * DAY + 60 });
    await invoice(db, { customerId: 'cus_mixed', amount: 9000, finalizedAt: T - 60 * DAY });
    await invoice(db, { customerId: 'cus_mixed', amount: 6000, finalizedAt: T - 5 * DAY });
    // cus_paidlater: the earlier invoice is paid only after T, so at T it is no base
    await subVersion(db, { customerId: 'cus_paidlater', subscriptionId: 'sub_paidlater', at: T - 70 * DAY, mrr: 3000 });
    await invoice(db, { customerId: 'cus_paidlater', amount: 1000, finalizedAt: T - 60 * DAY, paidAt: T + DAY });
    await invoice(db, { customerId: 'cus_paidlater', amount: 3000, finalizedAt: T - 30 * DAY, paidAt: T - 30 * DAY + 60 });
    // cus_drop: four paid invoices of $80, $100, $100, $100 (only the three newest earlier ones count), then $20
    await subVersion(db, { customerId: 'cus_drop', subscriptionId: 'sub_drop', at: T - 200 * DAY, mrr: 2000 });
    for (const [ago, amount] of [[150, 8000], [120, 10000], [90, 10000], [60, 10000], [30, 2000]] as const) {
      await invoice(db, { customerId: 'cus_drop', amount, finalizedAt: T - ago * DAY, paidAt: T - ago * DAY + 60 });
    }
    m = await featureMatrixAt(db, T);
  });
  afterAll(() => db?.close());

  it('compares the newest invoice with earlier paid, non-zero invoices only', () => {
    expect(valueOf(m, 'cus_trial0', 'invoice_amount_trend')).toBe(0);
    expect(valueOf(m, 'cus_mixed', 'invoice_amount_trend')).toBeCloseTo(Math.log1p(6000) - Math.log1p(4000), 4);
    expect(valueOf(m, 'cus_paidlater', 'invoice_amount_trend')).toBe(0);
    expect(valueOf(m, 'cus_drop', 'invoice_amount_trend')).toBeCloseTo(Math.log1p(2000) - Math.log1p(10000), 4);
  });

  it('states the trend against the earlier paid invoices', () => {
    const spec = FEATURES[featureIndex('invoice_amount_trend')]!;
    expect(spec.sentence(valueOf(m, 'cus_mixed', 'invoice_amount_trend'), () => undefined)).toBe('last invoice up 50% on earlier paid ones');
  });
});

it('states a discount that ended in the last 60 days and seat contraction since the start as steps', () => {
  const asOf = T;
  const facts = (over: { discountEndedAt?: number; quantity: number; seatDeltaTotal: number }): CustomerFacts => ({
    account: 'platform',
    asOf,
    sub: {
      account: 'platform', customer_id: 'cus_x', live_subscriptions: 1, mrr_usd: 20, quantity: over.quantity, item_count: 1, interval_months: 1,
      any_cancel_at_period_end: false, any_trialing: false, trial_end: null, any_past_due: false, any_unpaid: false, any_paused: false,
      any_send_invoice: false, period_end: asOf + 10 * DAY, discount_active: false, discount_end: null, oldest_live_start: asOf - 300 * DAY,
      default_payment_methods: null, first_start: asOf - 300 * DAY, ended_subscriptions: 0,
    },
    changes: { discount_ended_at: over.discountEndedAt ?? null, seat_delta_total: over.seatDeltaTotal } as CustomerFacts['changes'],
    paymentMethod: { live: 1, added90d: 0, type: 'card', funding: 'credit', brand: 'visa', wallet: null, cardExpiresAt: null },
  });
  const value = (f: CustomerFacts, name: string) => featureValues(f)[featureIndex(name)]!;
  expect(value(facts({ discountEndedAt: asOf - 20 * DAY, quantity: 4, seatDeltaTotal: -4 }), 'discount_ended_60d')).toBe(1);
  expect(value(facts({ discountEndedAt: asOf - 90 * DAY, quantity: 4, seatDeltaTotal: 0 }), 'discount_ended_60d')).toBe(0);
  expect(value(facts({ quantity: 4, seatDeltaTotal: 0 }), 'discount_ended_60d')).toBe(0);
  // 8 seats at the start, 4 now: contraction log 2; grown from 2 to 4: no contraction
  expect(value(facts({ quantity: 4, seatDeltaTotal: -4 }), 'seats_below_start')).toBeCloseTo(Math.log(2), 5);
  expect(value(facts({ quantity: 4, seatDeltaTotal: 2 }), 'seats_below_start')).toBe(0);
  const spec = FEATURES[featureIndex('seats_below_start')]!;
  expect(spec.sentence(Math.log(2), (name) => (name === 'seats_log' ? Math.log1p(4) : undefined))).toBe('seats down from 8 to 4 since the start');
});
