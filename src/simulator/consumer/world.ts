/**
 * A second synthetic Stripe business, built to look nothing like the first (src/simulator/world):
 * a consumer streaming service. It exists to judge whether the churn model generalises beyond the
 * world it was designed with; the product never reads anything here but the Stripe events.
 *
 * The business. One platform account billing in EUR. Two base products (Streaming Basic,
 * Streaming Premium) and eight add-on products priced separately (Sports, Kids, Music, Cloud DVR,
 * Movies, Extra screen, News, HD). Every product has three prices: monthly, a one-year contract
 * (interval year, 10 months' price) and a two-year contract (interval year, interval_count 2,
 * 18 months' price); all items of a subscription share its contract interval, as Stripe requires.
 * Contracts: 55 % monthly, 30 % one-year, 15 % two-year. 45 % of customers pay manually
 * (collection_method send_invoice, due in 14 days, no payment method on file); the rest by card
 * (Visa 55 %, Mastercard 35 %, Amex 10 %; 35 % through Apple Pay or Google Pay). Countries DE, FR,
 * NL, ES, IT, AT, BE (weights 30/20/12/12/12/7/7); 8 % are businesses with a VAT id, 5 % tax exempt.
 * Half the customers exist when the history starts (start_date up to 36 months back; 15 % of them
 * on a legacy base price 30 % below the list price); the rest sign up evenly over the months.
 * New customers hold 0-3 add-ons. No trials, no seats (quantity 1), no coupons, no card expiries,
 * no refunds or disputes: few of the first world's dunning and seat signals.
 *
 * Hidden churn process. A customer churns at the first of: the cancellation request
 * (customer.subscription.updated with cancel_at_period_end, canceled_at and
 * cancellation_details.reason 'cancellation_requested'; the subscription is deleted at period end),
 * or the deletion of the subscription after unpaid renewals (reason 'payment_failed'). A churned
 * customer never returns. Voluntary: the probability q of deciding within 30 days is fixed from the
 * state at each month start (where the truth is recorded):
 *
 *   logit(q) = -2.45
 *            - 0.55 * ln(1 + tenure in months)
 *            - 0.35 on Premium
 *            + per add-on held: Sports +0.55, Kids -0.45, Music +0.35, Cloud DVR -0.55, Movies +0.25,
 *              Extra screen -0.30, News +0.15, HD -0.20
 *            + 0.50 Sports on a monthly contract (seasonal fans), -0.30 Kids on Premium
 *            + contract: one-year -1.60 (-0.20 when it renews within 45 days),
 *                        two-year -2.20 (-0.40 when it renews within 45 days), monthly 0
 *            + 0.25 pays manually (send_invoice)
 *            - 0.40 on the legacy base price
 *            + 0.50 removed an add-on in the last 60 days
 *            + 0.35 * f, f ~ N(0, 1) a hidden frailty, never emitted
 *
 *   daily rate λ = -ln(1 - q) / 30; the decision time within the month is exponential with rate λ.
 *
 * Add-ons change at a random time within a month: one is added with probability 0.04 and one
 * removed with 0.03 + 0.03 * f⁺ (frail customers trim first), always through
 * customer.subscription.updated with the new items.
 *
 * Involuntary: at each renewal a card payer's charge fails with probability 0.03 (invoice
 * .payment_failed, attempt 1); retries at +3 and +7 days each fail with 0.5; the third failure
 * deletes the subscription (payment_failed). A manual payer pays the renewal invoice 1-14 days
 * after it is finalized with probability 0.985; otherwise it is marked uncollectible and the
 * subscription deleted 21 days after the renewal.
 *
 * Subscription schedules (no bearing on churn): 60 % of one- and two-year contracts (drawn from a
 * stream of their own) are signed through a subscription schedule (end_behavior release) with one
 * phase per commitment term, the current one ending at the contract's renewal:
 * subscription_schedule.created at sign-up, .updated with a new phase at each renewal, .released
 * when the customer asks to cancel (before the subscription update), .canceled when the
 * subscription is deleted for non-payment; the subscription's `schedule` names it while it manages it.
 *
 * The truth (oracle). At every month start, for every live customer not already set to cancel:
 * p30 = 1 - (1 - q)(1 - p_inv), where p_inv is the probability that a renewal due (or a dunning
 * or unpaid invoice in flight) ends the subscription within the next 30 days, given what happened
 * so far (exact for the rules above; the voluntary part assumes the month's rate holds for the
 * 30 days, which February and 31-day months bend slightly). p30Visible is the same with the hidden
 * frailty at its mean 0 (the visible oracle: what no Stripe record shows left out).
 */
import { DAY } from '../../lib/clock.js';
import { hashWords, Random, stripeId } from '../world/random.js';

export interface ConsumerWorldOptions {
  customers: number;
  months: number;
  seed: number;
  /** unix seconds at 00:00 UTC on the 1st of a month (default 2025-01-01) */
  start?: number;
}

export interface ConsumerTruthRecord {
  account: null;
  customer: string;
  asOf: number;
  p30: number;
  /** p30 with the hidden frailty at its mean (0): the visible oracle */
  p30Visible: number;
}

export interface ConsumerEventSink {
  write(event: Record<string, unknown>): void | Promise<void>;
}

export interface ConsumerSummary {
  customers: number;
  months: number;
  seed: number;
  start: number;
  end: number;
  events: number;
  voluntaryChurn: number;
  involuntaryChurn: number;
  truthRecords: number;
}

export const CONSUMER_API_VERSION = '2026-10-28.endive';
const DEFAULT_START = Date.UTC(2025, 0, 1) / 1000;

const BASES = [
  { name: 'Streaming Basic', monthly: 799 },
  { name: 'Streaming Premium', monthly: 1299 },
] as const;
const ADDONS = [
  { name: 'Sports', monthly: 999, effect: 0.55 },
  { name: 'Kids', monthly: 399, effect: -0.45 },
  { name: 'Music', monthly: 499, effect: 0.35 },
  { name: 'Cloud DVR', monthly: 299, effect: -0.55 },
  { name: 'Movies', monthly: 599, effect: 0.25 },
  { name: 'Extra screen', monthly: 349, effect: -0.3 },
  { name: 'News', monthly: 199, effect: 0.15 },
  { name: 'HD', monthly: 249, effect: -0.2 },
] as const;
const SPORTS = 0;
const KIDS = 1;
/** contract 0 monthly, 1 one-year, 2 two-year: interval, interval_count, months covered, price in monthly units */
const CONTRACTS = [
  { interval: 'month', count: 1, months: 1, factor: 1, label: 'monthly' },
  { interval: 'year', count: 1, months: 12, factor: 10, label: 'one-year' },
  { interval: 'year', count: 2, months: 24, factor: 18, label: 'two-year' },
] as const;
const COUNTRIES = ['DE', 'FR', 'NL', 'ES', 'IT', 'AT', 'BE'] as const;
const COUNTRY_WEIGHTS = [30, 20, 12, 12, 12, 7, 7];
const BRANDS = ['visa', 'mastercard', 'amex'] as const;
const CATALOG_OWNER = 0xfe000000;

interface Price {
  /** position in the catalog: item ids are derived from it */
  n: number;
  id: string;
  product: string;
  nickname: string;
  unitAmount: number;
  contract: number;
}

interface Catalog {
  products: { id: string; name: string }[];
  /** base[b][contract], addon[a][contract]; legacy[b] is the monthly legacy base price */
  base: Price[][];
  addon: Price[][];
  legacy: Price[];
}

function buildCatalog(seed: number): Catalog {
  let n = 0;
  const products: { id: string; name: string }[] = [];
  const pricesOf = (name: string, monthly: number): Price[] => {
    const product = stripeId('prod', seed, CATALOG_OWNER, products.length);
    products.push({ id: product, name });
    return CONTRACTS.map((c, contract) => ({ n, id: stripeId('price', seed, CATALOG_OWNER, n++), product, nickname: `${name} ${c.label}`, unitAmount: monthly * c.factor, contract }));
  };
  const base = BASES.map((b) => pricesOf(b.name, b.monthly));
  const addon = ADDONS.map((a) => pricesOf(a.name, a.monthly));
  const legacy = BASES.map((b, i) => ({ n, id: stripeId('price', seed, CATALOG_OWNER, n++), product: base[i]![0]!.product, nickname: `${b.name} legacy monthly`, unitAmount: Math.round(b.monthly * 0.7), contract: 0 }));
  return { products, base, addon, legacy };
}

interface Customer {
  index: number;
  id: string;
  subId: string;
  frailty: number;
  country: string;
  taxExempt: 'none' | 'exempt';
  taxId: boolean;
  manual: boolean;
  contract: number;
  premium: boolean;
  legacy: boolean;
  addons: number[];
  startDate: number;
  periodStart: number;
  periodEnd: number;
  lastRemoval: number;
  /** 0 live, 1 set to cancel, 2 ended */
  state: 0 | 1 | 2;
  churnedAt: number;
  /** in-flight renewal: time it was due and whether it will fail; attempts made so far */
  dunning: { due: number; fails: boolean; attempts: number; invoice: string; paidAt: number } | null;
  invoices: number;
  /** the subscription schedule holding the contract commitment ('' when none), and whether it still manages the subscription */
  scheduleId: string;
  scheduleLive: boolean;
  scheduleCreated: number;
  /** the commitment terms the schedule has held, oldest first */
  phases: [number, number][];
}

const addMonths = (t: number, months: number) => {
  const d = new Date(t * 1000);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()) / 1000;
};
const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** The month's voluntary probability q of deciding within 30 days, from the state at `at`. */
export function consumerVoluntaryProbability(c: Customer, at: number, frailty = c.frailty): number {
  const tenureMonths = Math.max(0, (at - c.startDate) / (30.44 * DAY));
  const renewsSoon = c.periodEnd - at <= 45 * DAY;
  let z = -2.45 - 0.55 * Math.log1p(tenureMonths) + (c.premium ? -0.35 : 0);
  for (const a of c.addons) z += ADDONS[a]!.effect;
  if (c.contract === 0 && c.addons.includes(SPORTS)) z += 0.5;
  if (c.premium && c.addons.includes(KIDS)) z -= 0.3;
  if (c.contract === 1) z += renewsSoon ? -0.2 : -1.6;
  if (c.contract === 2) z += renewsSoon ? -0.4 : -2.2;
  if (c.manual) z += 0.25;
  if (c.legacy) z -= 0.4;
  if (c.lastRemoval > 0 && at - c.lastRemoval <= 60 * DAY) z += 0.5;
  z += 0.35 * frailty;
  return sigmoid(z);
}

const CARD_FAIL = 0.03;
/** share of one- and two-year contracts signed through a subscription schedule */
const SCHEDULED_SHARE = 0.6;
const RETRY_FAIL = 0.5;
const MANUAL_UNPAID = 0.015;
const RETRY_DAYS = [3, 7];
const MANUAL_CANCEL_DAYS = 21;

/** Probability that renewals end the subscription within (at, at + 30 days], given what is known at `at`. */
export function consumerInvoluntaryProbability(c: Customer, at: number): number {
  const until = at + 30 * DAY;
  let survive = 1;
  if (c.dunning) {
    const d = c.dunning;
    if (c.manual) {
      const cancelAt = d.due + MANUAL_CANCEL_DAYS * DAY;
      if (cancelAt > at && cancelAt <= until) {
        // unpaid so far: P(never pays | not paid in the first k days)
        const k = Math.min(14, Math.max(0, (at - d.due) / DAY));
        const stillPays = (1 - MANUAL_UNPAID) * (14 - k) / 14;
        survive *= 1 - MANUAL_UNPAID / (MANUAL_UNPAID + stillPays);
      }
    } else {
      const deleteAt = d.due + RETRY_DAYS[1]! * DAY;
      if (deleteAt > at && deleteAt <= until) survive *= 1 - RETRY_FAIL ** (3 - d.attempts);
    }
  }
  // the next renewal, when it falls in the window (not while one is in flight)
  if (!c.dunning && c.periodEnd > at && c.periodEnd <= until) {
    const endAt = c.periodEnd + (c.manual ? MANUAL_CANCEL_DAYS : RETRY_DAYS[1]!) * DAY;
    if (endAt <= until) survive *= 1 - (c.manual ? MANUAL_UNPAID : CARD_FAIL * RETRY_FAIL * RETRY_FAIL);
  }
  return 1 - survive;
}

interface Pending {
  at: number;
  order: number;
  event: Record<string, unknown>;
}

/** Runs the consumer world month by month into `sink` (events in created order) and the truth into `truth`. */
export async function simulateConsumerToSink(
  options: ConsumerWorldOptions,
  sink: ConsumerEventSink,
  truth?: { write(record: ConsumerTruthRecord): void },
  hooks: { onMonth?: () => void } = {},
): Promise<ConsumerSummary> {
  const seed = options.seed;
  const start = options.start ?? DEFAULT_START;
  const catalog = buildCatalog(seed);
  let eventCounter = 0;
  let order = 0;
  let pending: Pending[] = [];
  const emit = (type: string, at: number, object: Record<string, unknown>, previous?: Record<string, unknown>) => {
    const id = stripeId('evt', seed, 0xfd000000, eventCounter++);
    pending.push({
      at,
      order: order++,
      event: { id, object: 'event', api_version: CONSUMER_API_VERSION, created: at, data: previous ? { object, previous_attributes: previous } : { object }, livemode: false, pending_webhooks: 0, request: { id: null, idempotency_key: null }, type },
    });
  };

  // catalog at the start
  for (const p of catalog.products) emit('product.created', start, { id: p.id, object: 'product', active: true, created: start, livemode: false, metadata: {}, name: p.name, type: 'service' });
  for (const p of [...catalog.base.flat(), ...catalog.addon.flat(), ...catalog.legacy]) emit('price.created', start, priceObject(p, start));

  // customers: half at the start (backdated), the rest signing up over the months
  const customers: Customer[] = [];
  const signupAt: number[] = [];
  for (let i = 0; i < options.customers; i++) {
    const r = new Random(seed, hashWords(i, 0xc05));
    const existing = i < options.customers / 2;
    const at = existing ? start : start + Math.floor(r.next() * Math.max(1, options.months - 2) * 30.44 * DAY);
    const contract = r.weighted([55, 30, 15]);
    const startDate = existing ? at - Math.floor(r.next() * 36 * 30.44 * DAY) : at;
    // the current period: the contract's periods since the start date
    let periodStart = startDate;
    while (addMonths(periodStart, CONTRACTS[contract]!.months) <= at) periodStart = addMonths(periodStart, CONTRACTS[contract]!.months);
    const addons: number[] = [];
    const count = r.weighted([35, 35, 20, 10]);
    while (addons.length < count) {
      const a = r.int(0, ADDONS.length - 1);
      if (!addons.includes(a)) addons.push(a);
    }
    customers.push({
      index: i,
      id: stripeId('cus', seed, i, 0),
      subId: stripeId('sub', seed, i, 0),
      frailty: r.normal(),
      country: COUNTRIES[r.weighted(COUNTRY_WEIGHTS)]!,
      taxExempt: r.chance(0.05) ? 'exempt' : 'none',
      taxId: r.chance(0.08),
      manual: r.chance(0.45),
      contract,
      premium: r.chance(0.35),
      legacy: existing && contract === 0 && r.chance(0.15),
      addons: addons.sort((a, b) => a - b),
      startDate,
      periodStart,
      periodEnd: addMonths(periodStart, CONTRACTS[contract]!.months),
      lastRemoval: 0,
      state: 0,
      churnedAt: 0,
      dunning: null,
      invoices: 0,
      // its own stream, so the churn draws above are untouched
      scheduleId: contract > 0 && new Random(seed, hashWords(i, 0x5c4ed)).chance(SCHEDULED_SHARE) ? stripeId('sub_sched', seed, i, 0) : '',
      scheduleLive: false,
      scheduleCreated: 0,
      phases: [],
    });
    signupAt.push(at);
  }

  const itemsOf = (c: Customer) => {
    const base = c.legacy ? catalog.legacy[c.premium ? 1 : 0]! : catalog.base[c.premium ? 1 : 0]![c.contract]!;
    return [base, ...c.addons.map((a) => catalog.addon[a]![c.contract]!)];
  };
  const subscription = (c: Customer, extra: Record<string, unknown> = {}) => {
    const items = itemsOf(c).map((p) => ({
      id: stripeId('si', seed, c.index, p.n),
      object: 'subscription_item', created: c.startDate, current_period_end: c.periodEnd, current_period_start: c.periodStart, metadata: {},
      price: { id: p.id, object: 'price', active: true, currency: 'eur', nickname: p.nickname, product: p.product, recurring: { interval: CONTRACTS[p.contract]!.interval, interval_count: CONTRACTS[p.contract]!.count, usage_type: 'licensed' }, type: 'recurring', unit_amount: p.unitAmount, unit_amount_decimal: String(p.unitAmount) },
      quantity: 1, subscription: c.subId,
    }));
    return {
      id: c.subId, object: 'subscription', billing_cycle_anchor: c.startDate, cancel_at: null, cancel_at_period_end: false, canceled_at: null,
      cancellation_details: { comment: null, feedback: null, reason: null }, collection_method: c.manual ? 'send_invoice' : 'charge_automatically',
      created: c.startDate, currency: 'eur', customer: c.id, days_until_due: c.manual ? 14 : null, default_payment_method: c.manual ? null : stripeId('pm', seed, c.index, 0),
      discounts: [], ended_at: null, items: { object: 'list', data: items, has_more: false, total_count: items.length, url: `/v1/subscription_items?subscription=${c.subId}` },
      livemode: false, metadata: {}, pause_collection: null, schedule: c.scheduleLive ? c.scheduleId : null, start_date: c.startDate, status: 'active', trial_end: null, trial_start: null,
      ...extra,
    };
  };
  const invoice = (c: Customer, id: string, at: number, status: string, extra: Record<string, unknown> = {}) => {
    const amount = itemsOf(c).reduce((s, p) => s + p.unitAmount, 0);
    return {
      id, object: 'invoice', account_country: 'DE', amount_due: amount, amount_paid: status === 'paid' ? amount : 0, amount_remaining: status === 'paid' ? 0 : amount,
      attempt_count: 0, billing_reason: 'subscription_cycle', collection_method: c.manual ? 'send_invoice' : 'charge_automatically', created: at, currency: 'eur',
      customer: c.id, customer_address: { city: null, country: c.country, line1: null, line2: null, postal_code: null, state: null }, customer_tax_exempt: c.taxExempt,
      customer_tax_ids: c.taxId ? [{ type: 'eu_vat', value: `${c.country}${100000000 + c.index}` }] : [], due_date: c.manual ? at + 14 * DAY : null, livemode: false, metadata: {},
      parent: { quote_details: null, subscription_details: { metadata: {}, subscription: c.subId }, type: 'subscription_details' },
      period_end: at, period_start: at, status, status_transitions: { finalized_at: at, marked_uncollectible_at: null, paid_at: null, voided_at: null }, subtotal: amount, total: amount,
      ...extra,
    };
  };
  const signUp = (c: Customer, at: number) => {
    emit('customer.created', at, {
      id: c.id, object: 'customer', address: { city: null, country: c.country, line1: null, line2: null, postal_code: null, state: null }, created: at, currency: 'eur',
      delinquent: false, email: `viewer${c.index}@example.com`, invoice_settings: { default_payment_method: c.manual ? null : stripeId('pm', seed, c.index, 0) }, livemode: false,
      metadata: {}, name: `Viewer ${c.index}`, tax_exempt: c.taxExempt,
    });
    if (!c.manual) {
      const r = new Random(seed, hashWords(c.index, 0xca4d));
      emit('payment_method.attached', at, {
        id: stripeId('pm', seed, c.index, 0), object: 'payment_method', billing_details: { address: { country: c.country } }, created: at, customer: c.id, livemode: false, metadata: {}, type: 'card',
        card: { brand: BRANDS[r.weighted([55, 35, 10])], country: c.country, exp_month: r.int(1, 12), exp_year: 2031 + r.int(0, 4), funding: r.chance(0.2) ? 'debit' : 'credit', last4: String(1000 + (c.index % 9000)), wallet: r.chance(0.35) ? { type: r.chance(0.6) ? 'apple_pay' : 'google_pay' } : null },
      });
    }
    if (c.scheduleId) {
      // the contract signed through a schedule: one phase per commitment term, the first from the start date
      c.scheduleLive = true;
      c.scheduleCreated = c.startDate;
      let from = c.startDate;
      while (from < c.periodStart) {
        const to = addMonths(from, CONTRACTS[c.contract]!.months);
        c.phases.push([from, to]);
        from = to;
      }
      c.phases.push([c.periodStart, c.periodEnd]);
      emit('subscription_schedule.created', at, schedule(c, 'active', at));
    }
    emit('customer.subscription.created', at, subscription(c));
  };
  const schedule = (c: Customer, status: 'active' | 'released' | 'canceled', at: number) => {
    const items = itemsOf(c).map((p) => ({ discounts: [], metadata: {}, price: p.id, quantity: 1, tax_rates: [] }));
    const current = c.phases.at(-1)!;
    return {
      id: c.scheduleId, object: 'subscription_schedule', application: null, canceled_at: status === 'canceled' ? at : null, completed_at: null, created: c.scheduleCreated,
      current_phase: status === 'active' ? { end_date: current[1], start_date: current[0] } : null, customer: c.id,
      default_settings: { billing_cycle_anchor: 'automatic', collection_method: c.manual ? 'send_invoice' : 'charge_automatically', default_payment_method: null, description: null },
      end_behavior: 'release', livemode: false, metadata: {},
      phases: c.phases.map(([startDate, endDate]) => ({ add_invoice_items: [], collection_method: null, currency: 'eur', default_payment_method: null, discounts: [], end_date: endDate, items, metadata: {}, proration_behavior: 'create_prorations', start_date: startDate, trial_end: null })),
      released_at: status === 'released' ? at : null, released_subscription: status === 'released' ? c.subId : null, status, subscription: status === 'active' ? c.subId : null, test_clock: null,
    };
  };
  const nextInvoiceId = (c: Customer) => stripeId('in', seed, c.index, ++c.invoices);

  let voluntary = 0;
  let involuntary = 0;
  let truthRecords = 0;
  let events = 0;
  const flush = async (until: number) => {
    const ready = pending.filter((p) => p.at < until).sort((a, b) => a.at - b.at || a.order - b.order);
    pending = pending.filter((p) => p.at >= until);
    for (const p of ready) {
      const r = sink.write(p.event);
      if (r) await r;
      events++;
    }
  };

  let monthStart = start;
  for (let m = 0; m < options.months; m++) {
    const monthEnd = addMonths(monthStart, 1);
    // the truth at the month start, from the state everyone is in now
    const q = new Float64Array(customers.length);
    customers.forEach((c, i) => {
      if (signupAt[i]! >= monthStart || c.state !== 0) return;
      q[i] = consumerVoluntaryProbability(c, monthStart);
      const pInv = consumerInvoluntaryProbability(c, monthStart);
      const p30 = 1 - (1 - q[i]!) * (1 - pInv);
      const p30Visible = 1 - (1 - consumerVoluntaryProbability(c, monthStart, 0)) * (1 - pInv);
      truth?.write({ account: null, customer: c.id, asOf: monthStart, p30, p30Visible });
      truthRecords++;
    });
    for (const [i, c] of customers.entries()) {
      const r = new Random(seed, hashWords(i, m + 1, 0xc0de));
      const at0 = signupAt[i]!;
      if (at0 >= monthStart && at0 < monthEnd) signUp(c, at0);
      if (at0 >= monthEnd || c.state === 2) continue;
      const from = Math.max(monthStart, at0);
      // voluntary decision (rate fixed at the month start; a new customer uses their sign-up state)
      const qv = at0 >= monthStart ? consumerVoluntaryProbability(c, at0) : q[i]!;
      const lambda = -Math.log(1 - qv) / (30 * DAY);
      const decideAt = c.state === 0 ? from + Math.floor(-Math.log(1 - r.next()) / lambda) : Infinity;
      // add-on changes at a random time in the month (after the month start, so the truth did not see them)
      const changeAt = from + 1 + Math.floor(r.next() * (monthEnd - from - 2));
      const add = r.chance(0.04);
      const remove = r.chance(0.03 + 0.03 * Math.max(0, c.frailty));
      const addPick = r.int(0, ADDONS.length - 1);
      const removePick = r.next();
      // walk this customer's timeline through the month
      let changed = false;
      for (;;) {
        const renewal = (c.state as Customer["state"]) !== 2 && !c.dunning && c.periodEnd < monthEnd ? c.periodEnd : Infinity;
        const dunningStep = c.dunning ? dunningNextAt(c) : Infinity;
        const change = !changed && c.state === 0 ? changeAt : Infinity;
        const decide = c.state === 0 && decideAt < monthEnd ? decideAt : Infinity;
        const next = Math.min(renewal, dunningStep, change, decide);
        if (next >= monthEnd || next === Infinity) break;
        if (next === decide) {
          c.state = 1;
          c.churnedAt = decide;
          voluntary++;
          if (c.scheduleLive) {
            // a customer leaving at the end of the term: the schedule is released first
            c.scheduleLive = false;
            emit('subscription_schedule.released', decide, schedule(c, 'released', decide));
          }
          emit('customer.subscription.updated', decide, subscription(c, { cancel_at: c.periodEnd, cancel_at_period_end: true, canceled_at: decide, cancellation_details: { comment: null, feedback: null, reason: 'cancellation_requested' } }), { cancel_at_period_end: false });
        } else if (next === change) {
          changed = true;
          if (remove && c.addons.length > 0) {
            c.addons.splice(Math.floor(removePick * c.addons.length), 1);
            c.lastRemoval = change;
            emit('customer.subscription.updated', change, subscription(c), { items: {} });
          } else if (add && !c.addons.includes(addPick)) {
            c.addons.push(addPick);
            c.addons.sort((a, b) => a - b);
            emit('customer.subscription.updated', change, subscription(c), { items: {} });
          }
        } else if (next === renewal) {
          if (c.state === 1) {
            c.state = 2;
            emit('customer.subscription.deleted', renewal, subscription(c, { status: 'canceled', cancel_at_period_end: true, canceled_at: c.churnedAt, ended_at: renewal, cancellation_details: { comment: null, feedback: null, reason: 'cancellation_requested' } }));
            break;
          }
          c.periodStart = c.periodEnd;
          c.periodEnd = addMonths(c.periodStart, CONTRACTS[c.contract]!.months);
          emit('customer.subscription.updated', renewal, subscription(c), { current_period_start: c.periodStart });
          if (c.scheduleLive) {
            c.phases.push([c.periodStart, c.periodEnd]);
            emit('subscription_schedule.updated', renewal, schedule(c, 'active', renewal), { phases: [] });
          }
          const id = nextInvoiceId(c);
          const fails = r.chance(c.manual ? MANUAL_UNPAID : CARD_FAIL);
          emit('invoice.finalized', renewal, invoice(c, id, renewal, 'open'));
          if (c.manual) {
            c.dunning = { due: renewal, fails, attempts: 0, invoice: id, paidAt: fails ? 0 : renewal + r.int(1, 14) * DAY - r.int(0, 3600) };
          } else if (fails) {
            emit('invoice.payment_failed', renewal + 60, invoice(c, id, renewal, 'open', { attempt_count: 1, next_payment_attempt: renewal + RETRY_DAYS[0]! * DAY }));
            c.dunning = { due: renewal, fails: true, attempts: 1, invoice: id, paidAt: 0 };
          } else {
            emit('invoice.paid', renewal + 60, invoice(c, id, renewal, 'paid', { attempt_count: 1, status_transitions: { finalized_at: renewal, marked_uncollectible_at: null, paid_at: renewal + 60, voided_at: null } }));
          }
        } else {
          // a dunning step: a manual payment, a manual write-off, or a card retry
          const d = c.dunning!;
          if (c.manual) {
            if (!d.fails) {
              emit('invoice.paid', d.paidAt, invoice(c, d.invoice, d.due, 'paid', { status_transitions: { finalized_at: d.due, marked_uncollectible_at: null, paid_at: d.paidAt, voided_at: null } }));
              c.dunning = null;
            } else {
              endForNonPayment(c, next, d.invoice, d.due);
            }
          } else {
            const fail = r.chance(RETRY_FAIL);
            d.attempts++;
            if (!fail) {
              emit('invoice.paid', next, invoice(c, d.invoice, d.due, 'paid', { attempt_count: d.attempts, status_transitions: { finalized_at: d.due, marked_uncollectible_at: null, paid_at: next, voided_at: null } }));
              c.dunning = null;
            } else {
              emit('invoice.payment_failed', next, invoice(c, d.invoice, d.due, 'open', { attempt_count: d.attempts, next_payment_attempt: d.attempts < 3 ? d.due + RETRY_DAYS[d.attempts - 1]! * DAY : null }));
              if (d.attempts >= 3) endForNonPayment(c, next + 60, d.invoice, d.due);
            }
          }
        }
        if ((c.state as Customer["state"]) === 2) break;
      }
    }
    await flush(monthEnd);
    hooks.onMonth?.();
    monthStart = monthEnd;
  }
  await flush(Infinity);

  function dunningNextAt(c: Customer): number {
    const d = c.dunning!;
    if (c.manual) return d.fails ? d.due + MANUAL_CANCEL_DAYS * DAY : d.paidAt;
    return d.due + RETRY_DAYS[d.attempts - 1]! * DAY;
  }
  function endForNonPayment(c: Customer, at: number, invoiceId: string, due: number): void {
    if (c.manual) emit('invoice.marked_uncollectible', at, invoice(c, invoiceId, due, 'uncollectible', { status_transitions: { finalized_at: due, marked_uncollectible_at: at, paid_at: null, voided_at: null } }));
    if (c.scheduleLive) {
      // Stripe cancels the schedule with its subscription
      c.scheduleLive = false;
      emit('subscription_schedule.canceled', at, schedule(c, 'canceled', at));
    }
    emit('customer.subscription.deleted', at, subscription(c, { status: 'canceled', canceled_at: at, ended_at: at, cancellation_details: { comment: null, feedback: null, reason: 'payment_failed' } }));
    if (c.state === 0) {
      involuntary++;
      c.churnedAt = at;
    }
    c.state = 2;
    c.dunning = null;
  }

  return { customers: options.customers, months: options.months, seed, start, end: monthStart, events, voluntaryChurn: voluntary, involuntaryChurn: involuntary, truthRecords };
}

function priceObject(p: Price, created: number): Record<string, unknown> {
  const c = CONTRACTS[p.contract]!;
  return {
    id: p.id, object: 'price', active: true, billing_scheme: 'per_unit', created, currency: 'eur', livemode: false, lookup_key: null, metadata: {}, nickname: p.nickname,
    product: p.product, recurring: { interval: c.interval, interval_count: c.count, usage_type: 'licensed' }, type: 'recurring', unit_amount: p.unitAmount, unit_amount_decimal: String(p.unitAmount),
  };
}
