import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Database } from '../../src/db/client.js';
import { applyVocabulary, featureSetWithVocabulary, learnVocabulary, MIN_VOCABULARY_ROWS } from '../../src/ml/catalogue.js';
import { FEATURES, featureIndex, featureMatrixAt, featureSet, productNames, type FeatureMatrix } from '../../src/ml/features.js';
import { ingestEvents } from '../../src/services/events/ingest.js';
import type { StripeEventEnvelope } from '../../src/services/events/parse.js';
import { createTestDatabase, describeEachDb } from '../helpers/db.js';

/**
 * Catalogue, contract, add-on, payment-method, currency, country and tax features, from real Stripe
 * event shapes through the ingest path, as of a date: an add-on bought after asOf changes nothing.
 */
const DAY = 86_400;
const T = Date.UTC(2026, 5, 30) / 1000;
let n = 0;
const evt = (type: string, created: number, object: Record<string, unknown>): StripeEventEnvelope =>
  ({ id: `evt_cat_${++n}`, object: 'event', api_version: '2026-10-28.endive', created, data: { object }, livemode: false, pending_webhooks: 0, request: { id: null, idempotency_key: null }, type }) as unknown as StripeEventEnvelope;

const price = (id: string, product: string, unit: number, interval: 'month' | 'year', count = 1, nickname?: string) => ({
  id, object: 'price', active: true, currency: 'eur', nickname: nickname ?? null, product, type: 'recurring', unit_amount: unit,
  recurring: { interval, interval_count: count, usage_type: 'licensed' },
});
const item = (id: string, p: ReturnType<typeof price>, quantity = 1) => ({ id, object: 'subscription_item', price: p, quantity, current_period_start: T - 40 * DAY, current_period_end: T + 20 * DAY });
const subscription = (id: string, customer: string, items: ReturnType<typeof item>[], extra: Record<string, unknown> = {}) => ({
  id, object: 'subscription', customer, status: 'active', currency: 'eur', created: T - 100 * DAY, start_date: T - 100 * DAY,
  collection_method: 'charge_automatically', cancel_at_period_end: false, items: { object: 'list', data: items }, discounts: [], metadata: {}, ...extra,
});

const BASIC = price('price_basic_m', 'prod_stream', 999, 'month', 1, 'Streaming monthly');
const BASIC_OLD = price('price_basic_legacy', 'prod_stream', 499, 'month', 1, 'Streaming legacy');
const TWO_YEAR = price('price_basic_2y', 'prod_stream', 999 * 20, 'year', 2, 'Streaming two-year');
const SPORT = price('price_sport_m', 'prod_sport', 500, 'month', 1, 'Sport add-on');

async function seed(db: Database): Promise<void> {
  const events: StripeEventEnvelope[] = [
    evt('product.created', T - 400 * DAY, { id: 'prod_stream', object: 'product', name: 'Streaming', active: true }),
    evt('product.created', T - 400 * DAY, { id: 'prod_sport', object: 'product', name: 'Sport pack', active: true }),
    // cus_a: monthly streaming plus the sport add-on, Visa through Apple Pay, German, tax exempt with a tax id
    evt('customer.subscription.created', T - 100 * DAY, subscription('sub_a', 'cus_a', [item('si_a1', BASIC), item('si_a2', SPORT)])),
    evt('payment_method.attached', T - 100 * DAY, { id: 'pm_a', object: 'payment_method', customer: 'cus_a', type: 'card', created: T - 100 * DAY, card: { brand: 'visa', funding: 'credit', exp_month: 12, exp_year: 2030, wallet: { type: 'apple_pay' } } }),
    evt('invoice.finalized', T - 10 * DAY, {
      id: 'in_a', object: 'invoice', customer: 'cus_a', status: 'open', currency: 'eur', amount_due: 1499, amount_paid: 0, amount_remaining: 1499, total: 1499, attempt_count: 0,
      collection_method: 'charge_automatically', created: T - 10 * DAY, customer_address: { country: 'DE' }, customer_tax_exempt: 'exempt', customer_tax_ids: [{ type: 'eu_vat', value: 'DE123' }],
      status_transitions: { finalized_at: T - 10 * DAY }, parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_a' } },
    }),
    // cus_b: two-year contract on the same product, paid by invoice (send_invoice), Mastercard, no wallet
    evt('customer.subscription.created', T - 100 * DAY, subscription('sub_b', 'cus_b', [item('si_b1', TWO_YEAR)], { collection_method: 'send_invoice' })),
    evt('payment_method.attached', T - 100 * DAY, { id: 'pm_b', object: 'payment_method', customer: 'cus_b', type: 'card', created: T - 100 * DAY, card: { brand: 'mastercard', funding: 'debit', exp_month: 1, exp_year: 2031, wallet: null } }),
    // cus_c: a legacy price half the list price of the same product
    evt('customer.subscription.created', T - 100 * DAY, subscription('sub_c', 'cus_c', [item('si_c1', BASIC_OLD)])),
    // after T: cus_b adds the sport add-on and moves to Apple Pay (not known at T)
    evt('customer.subscription.updated', T + 2 * DAY, subscription('sub_b', 'cus_b', [item('si_b1', TWO_YEAR), item('si_b2', SPORT)], { collection_method: 'send_invoice' })),
    evt('payment_method.updated', T + 2 * DAY, { id: 'pm_b', object: 'payment_method', customer: 'cus_b', type: 'card', created: T - 100 * DAY, card: { brand: 'mastercard', funding: 'debit', exp_month: 1, exp_year: 2031, wallet: { type: 'apple_pay' } } }),
  ];
  // enough monthly streaming customers for the list price and the vocabulary
  for (let i = 0; i < MIN_VOCABULARY_ROWS + 5; i++) events.push(evt('customer.subscription.created', T - 50 * DAY, subscription(`sub_m${i}`, `cus_m${i}`, [item(`si_m${i}`, BASIC)])));
  await ingestEvents(db, events, { source: 'ingest' });
}

const value = (m: FeatureMatrix, customer: string, feature: string) => {
  const r = m.keys.findIndex((k) => k.customerId === customer);
  if (r < 0) throw new Error(`${customer} not live`);
  return m.matrix.data[r * m.matrix.cols + featureIndex(feature)]!;
};

describeEachDb('catalogue and account-structure features', (kind) => {
  let db: Database;
  let raw: FeatureMatrix;
  beforeAll(async () => {
    db = await createTestDatabase(kind);
    await seed(db);
    raw = await featureMatrixAt(db, T);
  });
  afterAll(async () => db?.close());

  it('reads contract length, add-ons, collection, payment method, currency, country and tax as of the date', () => {
    expect(value(raw, 'cus_a', 'contract_monthly')).toBe(1);
    expect(value(raw, 'cus_b', 'contract_multi_year')).toBe(1);
    expect(value(raw, 'cus_b', 'contract_monthly')).toBe(0);
    expect(value(raw, 'cus_a', 'addon_items')).toBe(1);
    expect(value(raw, 'cus_a', 'addon_mrr_share')).toBeCloseTo(500 / 1499, 4);
    // the add-on cus_b buys after T is not known at T
    expect(value(raw, 'cus_b', 'addon_items')).toBe(0);
    expect(value(raw, 'cus_b', 'send_invoice')).toBe(1);
    expect(value(raw, 'cus_a', 'card_brand_visa')).toBe(1);
    expect(value(raw, 'cus_a', 'card_wallet')).toBe(1);
    expect(value(raw, 'cus_b', 'card_brand_mastercard')).toBe(1);
    expect(value(raw, 'cus_b', 'card_wallet')).toBe(0); // the wallet came later
    expect(value(raw, 'cus_a', 'currency_eur')).toBe(1);
    expect(value(raw, 'cus_a', 'tax_exempt')).toBe(1);
    expect(value(raw, 'cus_a', 'has_tax_id')).toBe(1);
    expect(value(raw, 'cus_b', 'tax_exempt')).toBe(0);
  });

  it('learns a vocabulary of the common products and prices with readable names, and an "other" bucket', async () => {
    const names = await productNames(db, ['prod_stream', 'prod_sport']);
    expect(names.get('prod_stream')).toBe('Streaming');
    const vocabulary = learnVocabulary(raw.catalogues, { prices: raw.priceNames, products: names });
    // only products and prices held by enough rows get a slot
    expect(vocabulary.products.map((p) => p.label)).toEqual(['Streaming']);
    expect(vocabulary.prices.map((p) => p.label)).toEqual(['Streaming monthly']);
    const x = { ...raw.matrix, data: raw.matrix.data.slice() };
    applyVocabulary(x, raw.catalogues, vocabulary, FEATURES.map((f) => f.name));
    const m = { ...raw, matrix: x };
    expect(value(m, 'cus_a', 'product_1')).toBe(1);
    expect(value(m, 'cus_a', 'other_products')).toBe(1); // the sport pack is rare here
    expect(value(m, 'cus_c', 'other_prices')).toBe(1);
    // the legacy price pays about half the product's list price; a list-price customer pays it
    expect(value(m, 'cus_c', 'price_vs_list')).toBeCloseTo(Math.log(499 / 999), 3);
    expect(value(m, 'cus_m0', 'price_vs_list')).toBeCloseTo(0, 6);
    // the driver sentences name what the slots hold
    const bound = featureSetWithVocabulary(featureSet(), vocabulary).features;
    const spec = (name: string) => bound.find((f) => f.name === name)!;
    expect(spec('product_1').sentence(1)).toBe('holds Streaming');
    expect(spec('price_1').sentence(1)).toBe('on the Streaming monthly price');
    expect(spec('price_vs_list').sentence(Math.log(0.5))).toBe('pays 50% below the list price');
    expect(spec('contract_multi_year').sentence(1)).toBe('on a multi-year contract');
  });

  it('fills the slots when a vocabulary is passed, as scoring does', async () => {
    const vocabulary = learnVocabulary(raw.catalogues, { prices: raw.priceNames });
    const scored = await featureMatrixAt(db, T, { vocabulary });
    expect(value(scored, 'cus_m1', 'product_1')).toBe(1);
    expect(value(scored, 'cus_c', 'price_vs_list')).toBeLessThan(-0.5);
  });
});
