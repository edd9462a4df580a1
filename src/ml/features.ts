import type { Database } from '../db/client.js';
import {
  DAY_SECONDS,
  catalogueItemsQuery,
  productNamesQuery,
  customerProfileQuery,
  cardsAtQuery,
  chargeFactsQuery,
  discountFactsQuery,
  disputeFactsQuery,
  invoiceFactsQuery,
  paymentFailureFactsQuery,
  paymentMethodsQuery,
  refundFactsQuery,
  creditNoteFactsQuery,
  commitmentFactsQuery,
  subscriptionChangesQuery,
  subscriptionStateQuery,
  type CardAtRow,
  type CatalogueItemRow,
  type CustomerProfileRow,
  type ChargeFactsRow,
  type DiscountFactsRow,
  type DisputeFactsRow,
  type FeatureScope,
  type InvoiceFactsRow,
  type PaymentFailureFactsRow,
  type PaymentMethodRow,
  type RefundFactsRow,
  type CreditNoteFactsRow,
  type CommitmentFactsRow,
  type SubscriptionChangesRow,
  type SubscriptionStateRow,
} from '../db/queries/features.sql.js';
import { PLATFORM_ACCOUNT } from '../services/events/parse.js';
import { intervalMonths } from '../services/projections/normalize.js';
import { applyVocabulary, customerCatalogue, slotSpecs, type CatalogueVocabulary, type CustomerCatalogue } from './catalogue.js';
import type { FeatureRow, FeatureSet, FeatureSpec, Matrix } from './types.js';

/**
 * Point-in-time churn features.
 *
 * A customer's features at `asOf` are computed only from what the projections knew at `asOf`
 * (subscription versions valid then, invoices by their status-transition times, failures, payment
 * methods attached then...). Adding events after `asOf` never changes them, so training snapshots at
 * past dates see exactly what a live scorer would have seen on that date.
 *
 * Money: MRR and amounts are converted to approximate US dollars with a fixed rate table
 * (USD_PER_MAJOR_UNIT in src/db/queries/features.sql.ts) and log-scaled, log(1 + USD); the table is
 * deliberately static so features do not move with exchange rates.
 *
 * Missing data never yields NaN: "never happened" is a capped sentinel (e.g. 365 days since the last
 * failure), "no card" sets the card one-hots to 0 and days-to-expiry to its cap.
 */

export const FEATURE_SET_VERSION = 'churn-features-v5';

export interface CustomerKey {
  account: string;
  customerId: string;
}

/** Everything known about one customer at `asOf`, as read by the set-based queries. */
export interface CustomerFacts {
  account: string;
  asOf: number;
  /** subscriptions as they stood at asOf */
  sub: SubscriptionStateRow;
  /** ...and 90 days before */
  past?: SubscriptionStateRow;
  changes?: SubscriptionChangesRow;
  failures?: PaymentFailureFactsRow;
  invoices?: InvoiceFactsRow;
  refunds?: RefundFactsRow;
  creditNotes?: CreditNoteFactsRow;
  commitment?: CommitmentFactsRow;
  disputes?: DisputeFactsRow;
  charges?: ChargeFactsRow;
  discounts?: DiscountFactsRow;
  paymentMethod: ChosenPaymentMethod;
  /** items of the live subscriptions at asOf (from the versions' own payloads) */
  items?: CatalogueItemRow[];
  /** country and tax status as the newest finalized invoice recorded them */
  profile?: CustomerProfileRow;
}

export interface ChosenPaymentMethod {
  /** payment methods attached and not detached at asOf */
  live: number;
  /** attached within the 90 days before asOf */
  added90d: number;
  type: string | null;
  funding: string | null;
  brand: string | null;
  /** wallet the card is used through (apple_pay, google_pay, link...), from the payment method's own event */
  wallet: string | null;
  /** unix seconds when the card stops working (start of the month after exp_month), null when not a card */
  cardExpiresAt: number | null;
}

interface FeatureDefinition {
  spec: FeatureSpec;
  value: (f: CustomerFacts) => number;
}

const days = (seconds: number) => seconds / DAY_SECONDS;
const clamp = (v: number, lo: number, hi: number) => (Number.isFinite(v) ? Math.min(hi, Math.max(lo, v)) : lo);
const n = (v: number | null | undefined, fallback = 0) => (v === null || v === undefined || !Number.isFinite(Number(v)) ? fallback : Number(v));
const round1 = (v: number) => Math.round(v * 10) / 10;
const plural = (v: number, word: string) => `${Math.round(v)} ${word}${Math.round(v) === 1 ? '' : 's'}`;
const bool = (b: boolean | null | undefined) => (b ? 1 : 0);
const usdFromLog = (v: number) => Math.max(0, Math.round(Math.expm1(v)));

/** "customer for 20 days / 11 months / 3 years": one phrasing for every feature of the tenure fact. */
function tenureSentence(daysOld: number, what = 'customer for'): string {
  if (daysOld < 60) return `${what} ${plural(daysOld, 'day')}`;
  if (daysOld < 730) return `${what} ${plural(daysOld / 30.44, 'month')}`;
  return `${what} ${round1(daysOld / 365.25)} years`;
}

/** Monthly USD the customer pays now, read from the row (undefined when the model has no such column). */
const mrrNow = (row?: FeatureRow): number | undefined => {
  const v = row?.('mrr_usd_log');
  return v === undefined ? undefined : Math.max(0, Math.expm1(v));
};
/** MRR in USD before a change whose log ratio log(1 + now) - log(1 + before) is `ratio`. */
const mrrBefore = (ratio: number, row?: FeatureRow): number | undefined => {
  const v = row?.('mrr_usd_log');
  return v === undefined ? undefined : Math.max(0, Math.expm1(v - ratio));
};
/** Seats now (quantity, at least 1), read from the row. */
const seatsNow = (row?: FeatureRow): number | undefined => {
  const v = row?.('seats_log');
  return v === undefined ? undefined : Math.max(1, Math.round(Math.expm1(v)));
};

/**
 * A change in money as a person reads it: a percentage with the amounts when it is moderate, the
 * amounts alone when the percentage would be large (a base of $3 makes any change look huge).
 */
function moneyChangeSentence(what: string, ratio: number, when: string, before?: number, after?: number): string {
  const direction = ratio >= 0 ? 'up' : 'down';
  const pct = Math.abs(Math.round(Math.expm1(ratio) * 100));
  if (before === undefined || after === undefined) return `${what} ${direction} ${pct}% ${when}`;
  if (pct > 300) return `${what} ${direction} from $${Math.round(before)} to $${Math.round(after)} ${when}`;
  return `${what} ${direction} ${pct}% ${when} ($${Math.round(before)} to $${Math.round(after)})`;
}

/** The smallest MRR (USD) a change in MRR is stated against: below it the change is the customer starting to pay. */
const MIN_MRR_BASE_USD = 1;

const BANK_DEBIT_TYPES = new Set(['sepa_debit', 'us_bank_account', 'bacs_debit', 'au_becs_debit', 'acss_debit', 'nz_bank_account', 'ach_debit', 'ach_credit_transfer']);

function discountActive(f: CustomerFacts): boolean {
  return !!f.sub.discount_active || n(f.discounts?.active_discounts) > 0;
}

/** The payment method on file, else the type the latest charge was paid with (no payment method objects seen). */
function paymentMethodType(f: CustomerFacts): string | null {
  return f.paymentMethod.type ?? f.charges?.last_charge_method ?? null;
}

function daysUntil(at: number | null | undefined, asOf: number, cap: number): number {
  if (at === null || at === undefined) return cap;
  return clamp(days(at - asOf), 0, cap);
}

/** Monthly amount of one licensed item, in minor units; null for metered or unpriced items. */
function itemMonthly(it: CatalogueItemRow): number | null {
  if (it.usage_type === 'metered' || it.unit_amount === null || it.unit_amount === undefined) return null;
  return (Number(it.unit_amount) * Math.max(0, n(it.quantity, 1))) / intervalMonths(it.interval, it.interval_count);
}

function addonShare(items: readonly CatalogueItemRow[]): number {
  const bySub = new Map<string, number[]>();
  for (const it of items) {
    const m = itemMonthly(it);
    if (m === null) continue;
    const list = bySub.get(it.subscription_id);
    if (list) list.push(m);
    else bySub.set(it.subscription_id, [m]);
  }
  let total = 0;
  let addons = 0;
  for (const amounts of bySub.values()) {
    const sum = amounts.reduce((a, b) => a + b, 0);
    total += sum;
    addons += sum - Math.max(...amounts);
  }
  return total > 0 ? clamp(addons / total, 0, 1) : 0;
}

/**
 * log(1 + last) - log(1 + mean of the earlier paid, non-zero invoices), in minor units of the
 * invoices' currency; 0 without such a base (a first paid invoice after a $0 trial is not a rise).
 */
export function invoiceAmountTrend(last: number | null | undefined, earlierPaid: readonly (number | string)[] | null | undefined): number {
  const base = (earlierPaid ?? []).map(Number).filter((a) => Number.isFinite(a) && a > 0);
  if (last == null || base.length === 0) return 0;
  const mean = base.reduce((a, b) => a + b, 0) / base.length;
  return clamp(Math.log1p(Math.max(0, Number(last))) - Math.log1p(mean), -10, 10);
}

function mainCurrency(f: CustomerFacts): string | null {
  return f.items?.find((it) => it.currency)?.currency ?? null;
}

const DEFINITIONS: FeatureDefinition[] = [
  {
    spec: { name: 'tenure_days', kind: 'days', description: 'days since the customer first subscribed', sentence: (v) => tenureSentence(v), driver: { fact: 'tenure' } },
    value: (f) => clamp(days(f.asOf - n(f.sub.first_start, f.asOf)), 0, 3650),
  },
  {
    spec: { name: 'tenure_months_log', logScaled: true, kind: 'number', description: 'log(1 + tenure in months): churn hazards fall roughly with log tenure', sentence: (v) => tenureSentence(Math.expm1(v) * 30.44), driver: { fact: 'tenure' } },
    value: (f) => Math.log1p(clamp(days(f.asOf - n(f.sub.first_start, f.asOf)), 0, 3650) / 30.44),
  },
  {
    spec: { name: 'subscription_age_days', kind: 'days', description: 'days since the oldest live subscription started', sentence: (v) => tenureSentence(v, 'current subscription running for'), driver: { fact: 'tenure' } },
    value: (f) => clamp(days(f.asOf - n(f.sub.oldest_live_start, f.asOf)), 0, 3650),
  },
  {
    spec: { name: 'mrr_usd_log', logScaled: true, kind: 'money', description: 'log(1 + MRR in approximate USD) of live subscriptions, before discounts', sentence: (v) => `MRR about $${usdFromLog(v)}`, driver: { fact: 'mrr' } },
    value: (f) => Math.log1p(Math.max(0, n(f.sub.mrr_usd))),
  },
  {
    spec: { name: 'mrr_change_90d', kind: 'ratio', description: 'log ratio of MRR now to MRR 90 days ago (new customers count from 0)', sentence: (v, row) => moneyChangeSentence('MRR', v, 'in 90 days', mrrBefore(v, row), mrrNow(row)), driver: { fact: 'mrr_change', base: (v, row) => mrrBefore(v, row), minBase: MIN_MRR_BASE_USD } },
    value: (f) => clamp(Math.log1p(Math.max(0, n(f.sub.mrr_usd))) - Math.log1p(Math.max(0, n(f.past?.mrr_usd))), -10, 10),
  },
  {
    spec: { name: 'mrr_paid_usd_log', logScaled: true, kind: 'money', description: 'log(1 + MRR in approximate USD after the largest active percentage discount)', sentence: (v) => `pays about $${usdFromLog(v)} a month`, driver: { fact: 'mrr' } },
    value: (f) => {
      const pct = discountActive(f) ? clamp(n(f.discounts?.max_percent_off), 0, 100) : 0;
      return Math.log1p(Math.max(0, n(f.sub.mrr_usd)) * (1 - pct / 100));
    },
  },
  {
    spec: { name: 'price_per_seat_usd_log', logScaled: true, kind: 'money', description: 'log(1 + MRR in approximate USD per seat): the plan tier', sentence: (v) => `about $${usdFromLog(v)} per seat` },
    value: (f) => Math.log1p(Math.max(0, n(f.sub.mrr_usd)) / Math.max(1, n(f.sub.quantity, 1))),
  },
  {
    spec: { name: 'mrr_vs_start', kind: 'ratio', description: 'log ratio of MRR now to MRR when the subscriptions started (expansion or contraction so far)', sentence: (v, row) => moneyChangeSentence('MRR', v, 'since the start', mrrBefore(v, row), mrrNow(row)), driver: { fact: 'mrr_change', base: (v, row) => mrrBefore(v, row), minBase: MIN_MRR_BASE_USD } },
    value: (f) => {
      const now = Math.max(0, n(f.sub.mrr_usd));
      return clamp(Math.log1p(now) - Math.log1p(Math.max(0, now - n(f.changes?.mrr_usd_delta_total))), -10, 10);
    },
  },
  {
    spec: { name: 'interval_months', kind: 'number', description: 'billing interval of the main subscription in months', sentence: (v) => (v >= 12 ? `billed every ${round1(v / 12)} year(s)` : `billed every ${round1(v)} month(s)`), driver: { fact: 'contract' } },
    value: (f) => clamp(n(f.sub.interval_months, 1), 0, 60),
  },
  {
    spec: { name: 'seats_log', logScaled: true, kind: 'count', description: 'log(1 + total quantity of live subscriptions)', sentence: (v) => plural(Math.expm1(v), 'seat'), driver: { fact: 'seats' } },
    value: (f) => Math.log1p(Math.max(0, n(f.sub.quantity))),
  },
  {
    spec: { name: 'seats_vs_start', kind: 'ratio', description: 'log ratio of seats now to seats at the start', sentence: (v, row) => { const now = seatsNow(row); return now === undefined ? `${v >= 0 ? 'grew' : 'shrank'} to ${Math.round(Math.exp(v) * 100)}% of the starting seats` : `seats ${v >= 0 ? 'grew' : 'shrank'} from ${Math.max(1, Math.round(now / Math.exp(v)))} to ${now} since the start`; }, driver: { fact: 'plan_moves', base: (v, row) => { const now = seatsNow(row); return now === undefined ? undefined : now / Math.exp(v); }, minBase: 1, absent: (v, row) => { const now = seatsNow(row); return now === undefined ? Math.abs(v) < 0.005 : Math.max(1, Math.round(now / Math.exp(v))) === now; } } },
    value: (f) => {
      const now = Math.max(1, n(f.sub.quantity, 1));
      return clamp(Math.log(now) - Math.log(Math.max(1, now - n(f.changes?.seat_delta_total))), -10, 10);
    },
  },
  {
    // seats_vs_start's contraction part alone: losing seats since the start says far more than adding
    // them (a logistic regression cannot bend one column at 0)
    spec: { name: 'seats_below_start', kind: 'ratio', description: 'log ratio of the starting seats to seats now when fewer (contraction since the start; 0 otherwise)', sentence: (v, row) => { const now = seatsNow(row); return now === undefined ? `down to ${Math.round(Math.exp(-v) * 100)}% of the starting seats` : `seats down from ${Math.round(now * Math.exp(v))} to ${now} since the start`; }, driver: { fact: 'plan_moves', absent: (v) => v < 0.005 } },
    value: (f) => {
      const now = Math.max(1, n(f.sub.quantity, 1));
      return clamp(Math.log(Math.max(1, now - n(f.changes?.seat_delta_total))) - Math.log(now), 0, 10);
    },
  },
  {
    spec: { name: 'seat_change_90d', kind: 'number', description: 'change in total quantity over 90 days (clipped to ±100)', sentence: (v) => `${v >= 0 ? '+' : ''}${Math.round(v)} seats in 90 days`, driver: { fact: 'plan_moves', absent: (v) => Math.round(v) === 0 } },
    value: (f) => (f.past?.quantity == null ? 0 : clamp(n(f.sub.quantity) - n(f.past.quantity), -100, 100)),
  },
  {
    spec: { name: 'seat_changes_90d', kind: 'count', description: 'quantity changes in 90 days', sentence: (v) => `${plural(v, 'seat change')} in 90 days`, driver: { fact: 'plan_moves' } },
    value: (f) => clamp(n(f.changes?.seat_changes_90d), 0, 50),
  },
  {
    spec: { name: 'seat_decreases_60d', kind: 'count', description: 'quantity decreases in 60 days', sentence: (v) => `seats reduced ${plural(v, 'time')} in 60 days`, driver: { fact: 'plan_moves' } },
    value: (f) => clamp(n(f.changes?.seat_decreases_60d), 0, 50),
  },
  {
    spec: { name: 'downgrades_60d', kind: 'count', description: 'MRR decreases in 60 days', sentence: (v) => `${plural(v, 'downgrade')} in 60 days`, driver: { fact: 'plan_moves' } },
    value: (f) => clamp(n(f.changes?.downgrades_60d), 0, 50),
  },
  {
    spec: { name: 'upgrades_60d', kind: 'count', description: 'MRR increases (seats added, plan upgraded) in 60 days', sentence: (v) => `${plural(v, 'upgrade')} in 60 days`, driver: { fact: 'plan_moves' } },
    value: (f) => clamp(n(f.changes?.upgrades_60d), 0, 50),
  },
  {
    spec: { name: 'upgrades_90d', kind: 'count', description: 'MRR increases in 90 days', sentence: (v) => `${plural(v, 'upgrade')} in 90 days`, driver: { fact: 'plan_moves' } },
    value: (f) => clamp(n(f.changes?.upgrades_90d), 0, 50),
  },
  {
    spec: { name: 'downgrades_90d', kind: 'count', description: 'MRR decreases in 90 days', sentence: (v) => `${plural(v, 'downgrade')} in 90 days`, driver: { fact: 'plan_moves' } },
    value: (f) => clamp(n(f.changes?.downgrades_90d), 0, 50),
  },
  {
    spec: { name: 'net_plan_moves', kind: 'number', description: 'upgrades minus downgrades over the customer lifetime', sentence: (v) => `net ${v >= 0 ? '+' : ''}${Math.round(v)} plan moves so far`, driver: { fact: 'plan_moves', absent: (v) => Math.round(v) === 0 } },
    value: (f) => clamp(n(f.changes?.upgrades_total) - n(f.changes?.downgrades_total), -20, 20),
  },
  {
    spec: { name: 'plan_changes', kind: 'count', description: 'price changes over the customer lifetime', sentence: (v) => `${plural(v, 'plan change')} so far`, driver: { fact: 'plan_moves' } },
    value: (f) => clamp(n(f.changes?.plan_changes), 0, 100),
  },
  {
    spec: { name: 'days_since_plan_change', kind: 'days', description: 'days since the last price or MRR change (tenure if none), max 730', sentence: (v) => `last plan change ${plural(v, 'day')} ago`, driver: { fact: 'plan_moves', absent: (v, row) => { const tenure = row('tenure_days'); return tenure !== undefined && Math.abs(Math.min(tenure, 730) - v) < 1; } } },
    value: (f) => clamp(days(f.asOf - n(f.changes?.last_plan_change, n(f.sub.first_start, f.asOf))), 0, 730),
  },
  {
    spec: { name: 'products', kind: 'count', description: 'subscription items (products) on live subscriptions', sentence: (v) => plural(v, 'product'), driver: { fact: 'items' } },
    value: (f) => clamp(n(f.sub.item_count), 0, 50),
  },
  {
    spec: { name: 'live_subscriptions', kind: 'count', description: 'live subscriptions', sentence: (v) => plural(v, 'live subscription') },
    value: (f) => clamp(n(f.sub.live_subscriptions), 0, 50),
  },
  {
    spec: { name: 'ended_subscriptions', kind: 'count', description: 'subscriptions that ended before', sentence: (v) => `${plural(v, 'earlier subscription')} ended` },
    value: (f) => clamp(n(f.sub.ended_subscriptions), 0, 50),
  },
  {
    spec: { name: 'failed_payments_30d', kind: 'count', description: 'failed payment attempts in 30 days', sentence: (v) => `${plural(v, 'failed payment')} in 30 days`, driver: { fact: 'failed_payments' } },
    value: (f) => clamp(n(f.failures?.failures_30d), 0, 50),
  },
  {
    spec: { name: 'failed_payments_60d', kind: 'count', description: 'failed payment attempts in 60 days', sentence: (v) => `${plural(v, 'failed payment')} in 60 days`, driver: { fact: 'failed_payments' } },
    value: (f) => clamp(n(f.failures?.failures_60d), 0, 50),
  },
  {
    spec: { name: 'failed_payments_90d', kind: 'count', description: 'failed payment attempts in 90 days', sentence: (v) => `${plural(v, 'failed payment')} in 90 days`, driver: { fact: 'failed_payments' } },
    value: (f) => clamp(n(f.failures?.failures_90d), 0, 100),
  },
  {
    spec: { name: 'failed_payments_365d', kind: 'count', description: 'failed payment attempts in 365 days', sentence: (v) => `${plural(v, 'failed payment')} in a year`, driver: { fact: 'failed_payments' } },
    value: (f) => clamp(n(f.failures?.failures_365d), 0, 200),
  },
  {
    spec: { name: 'days_since_last_failure', kind: 'days', description: 'days since the last failed payment, 365 when none', sentence: (v) => (v >= 365 ? 'no failed payment in a year' : `last failed payment ${plural(v, 'day')} ago`), driver: { fact: 'failed_payments', absent: (v) => v >= 365 } },
    value: (f) => (f.failures?.last_failed_at == null ? 365 : clamp(days(f.asOf - f.failures.last_failed_at), 0, 365)),
  },
  {
    spec: { name: 'dunning_attempt', kind: 'count', description: 'failed attempts on invoices still unpaid (current dunning attempt)', sentence: (v) => (v > 0 ? `in dunning, attempt ${Math.round(v)}` : 'not in dunning'), driver: { fact: 'payment_overdue' } },
    value: (f) => clamp(n(f.failures?.dunning_attempt), 0, 20),
  },
  {
    spec: { name: 'past_due', kind: 'bool', description: 'a live subscription is past_due or unpaid', sentence: (v) => (v ? 'subscription past due' : 'subscription in good standing'), driver: { fact: 'payment_overdue' } },
    value: (f) => bool(f.sub.any_past_due || f.sub.any_unpaid),
  },
  {
    spec: { name: 'has_payment_method', kind: 'bool', description: 'a payment method is attached', sentence: (v) => (v ? 'payment method on file' : 'no payment method on file'), driver: { absent: (v) => v !== 0 } },
    value: (f) => bool(f.paymentMethod.live > 0),
  },
  {
    spec: { name: 'card_expiring_30d', kind: 'bool', description: 'the payment card expires within 30 days (or already has)', sentence: (v) => (v ? 'card expires within 30 days' : 'card not expiring soon'), driver: { fact: 'card_expiry' } },
    value: (f) => bool(f.paymentMethod.cardExpiresAt !== null && f.paymentMethod.cardExpiresAt - f.asOf <= 30 * DAY_SECONDS),
  },
  {
    spec: { name: 'days_to_card_expiry', kind: 'days', description: 'days until the card expires (-60..730; 730 when no card)', sentence: (v) => (v < 0 ? `card expired ${plural(-v, 'day')} ago` : v >= 730 ? 'no card expiry soon' : `card expires in ${Math.round(v)} days`), driver: { fact: 'card_expiry', absent: (v) => v >= 730 } },
    value: (f) => (f.paymentMethod.cardExpiresAt === null ? 730 : clamp(days(f.paymentMethod.cardExpiresAt - f.asOf), -60, 730)),
  },
  {
    spec: { name: 'card_expires_before_renewal', kind: 'bool', description: 'the card on file expires before the next renewal charge (that charge will be declined unless the card is updated)', sentence: (v) => (v ? 'card expires before the next renewal' : 'card valid at the next renewal'), driver: { fact: 'card_expiry' } },
    value: (f) => bool(f.paymentMethod.cardExpiresAt !== null && f.sub.period_end != null && f.paymentMethod.cardExpiresAt <= Number(f.sub.period_end)),
  },
  {
    spec: { name: 'renewal_on_expired_card_30d', kind: 'bool', description: 'a renewal is due within 30 days and the card on file will have expired by then', sentence: (v) => (v ? 'renews within 30 days on an expired card' : 'no renewal due on an expired card'), driver: { fact: 'card_expiry' } },
    value: (f) => {
      const end = f.sub.period_end == null ? null : Number(f.sub.period_end);
      const card = f.paymentMethod.cardExpiresAt;
      return bool(end !== null && card !== null && end - f.asOf <= 30 * DAY_SECONDS && card <= end);
    },
  },
  {
    spec: { name: 'payment_method_card', kind: 'category_onehot', description: 'payment method type is card', sentence: (v) => (v ? 'pays by card' : 'does not pay by card'), driver: { fact: 'payment_method_type' } },
    value: (f) => bool(paymentMethodType(f) === 'card'),
  },
  {
    spec: { name: 'payment_method_bank_debit', kind: 'category_onehot', description: 'payment method type is a bank debit (SEPA, ACH, BACS...)', sentence: (v) => (v ? 'pays by bank debit' : 'does not pay by bank debit'), driver: { fact: 'payment_method_type' } },
    value: (f) => bool(BANK_DEBIT_TYPES.has(paymentMethodType(f) ?? '')),
  },
  {
    spec: { name: 'payment_method_other', kind: 'category_onehot', description: 'payment method of another type (wallets, link...)', sentence: (v) => (v ? 'pays by another method' : 'no other payment method'), driver: { fact: 'payment_method_type' } },
    value: (f) => {
      const type = paymentMethodType(f);
      return bool(type !== null && type !== 'card' && !BANK_DEBIT_TYPES.has(type));
    },
  },
  {
    spec: { name: 'prepaid_card', kind: 'bool', description: 'the card is prepaid', sentence: (v) => (v ? 'prepaid card' : 'not a prepaid card'), driver: { fact: 'card_funding' } },
    value: (f) => bool(f.paymentMethod.funding === 'prepaid'),
  },
  {
    spec: { name: 'debit_card', kind: 'bool', description: 'the card is a debit card (declines for insufficient funds are more common)', sentence: (v) => (v ? 'debit card' : 'not a debit card'), driver: { fact: 'card_funding' } },
    value: (f) => bool(f.paymentMethod.funding === 'debit'),
  },
  {
    spec: { name: 'payment_methods_added_90d', kind: 'count', description: 'payment methods attached in 90 days', sentence: (v) => `${plural(v, 'payment method')} added in 90 days` },
    value: (f) => clamp(f.paymentMethod.added90d, 0, 20),
  },
  {
    spec: { name: 'send_invoice', kind: 'bool', description: 'collection method is send_invoice (pays invoices manually)', sentence: (v) => (v ? 'pays invoices manually' : 'charged automatically') },
    value: (f) => bool(f.sub.any_send_invoice),
  },
  {
    spec: { name: 'cancel_at_period_end', kind: 'bool', description: 'a live subscription is set to cancel (cancel_at_period_end or cancel_at)', sentence: (v) => (v ? 'set to cancel at period end' : 'not set to cancel') },
    value: (f) => bool(f.sub.any_cancel_at_period_end),
  },
  {
    spec: { name: 'discount_active', kind: 'bool', description: 'a discount is in force', sentence: (v) => (v ? 'has an active discount' : 'no active discount'), driver: { fact: 'discount' } },
    value: (f) => bool(discountActive(f)),
  },
  {
    spec: { name: 'discount_days_left', kind: 'days', description: 'days until the active discount ends (365 for a forever discount, 0 when none)', sentence: (v) => (v <= 0 ? 'no discount ending' : `discount ends in ${Math.round(v)} days`), driver: { fact: 'discount', absent: (v) => v <= 0 } },
    value: (f) => {
      if (!discountActive(f)) return 0;
      const ends = [f.sub.discount_end, f.discounts?.discount_end].filter((e): e is number => e !== null && e !== undefined);
      return ends.length === 0 ? 365 : daysUntil(Math.min(...ends), f.asOf, 365);
    },
  },
  {
    spec: { name: 'days_since_discount_ended', kind: 'days', description: 'days since a discount ran out or was removed (365 when none)', sentence: (v) => (v >= 365 ? 'no discount ended recently' : `discount ended ${plural(v, 'day')} ago`), driver: { fact: 'discount', absent: (v) => v >= 365 } },
    value: (f) => {
      const ends = [f.changes?.discount_ended_at, f.discounts?.last_discount_ended].filter((e): e is number => e !== null && e !== undefined && e <= f.asOf);
      return ends.length === 0 ? 365 : clamp(days(f.asOf - Math.max(...ends)), 0, 365);
    },
  },
  {
    // the days count above is linear to a model like the logistic regression; the price rise after a
    // discount runs out is felt in the weeks after it, which this step says directly
    spec: { name: 'discount_ended_60d', kind: 'bool', description: 'a discount ran out or was removed in the last 60 days (the customer now pays more)', sentence: (v) => (v ? 'discount ended in the last 60 days' : 'no discount ended in 60 days'), driver: { fact: 'discount' } },
    value: (f) => {
      const ends = [f.changes?.discount_ended_at, f.discounts?.last_discount_ended].filter((e): e is number => e !== null && e !== undefined && e <= f.asOf);
      return bool(ends.length > 0 && f.asOf - Math.max(...ends) <= 60 * DAY_SECONDS);
    },
  },
  {
    spec: { name: 'trialing', kind: 'bool', description: 'a live subscription is in trial', sentence: (v) => (v ? 'in trial' : 'not in trial'), driver: { fact: 'trial' } },
    value: (f) => bool(f.sub.any_trialing),
  },
  {
    spec: { name: 'trial_days_left', kind: 'days', description: 'days left in the trial (0 when not trialing)', sentence: (v) => (Math.round(v) === 0 ? 'trial ends today' : `${plural(v, 'trial day')} left`), driver: { fact: 'trial', absent: (v) => v <= 0 } },
    value: (f) => (f.sub.any_trialing ? daysUntil(f.sub.trial_end, f.asOf, 365) : 0),
  },
  {
    spec: { name: 'invoice_amount_trend', kind: 'ratio', description: 'log ratio of the newest invoice to the mean of up to three earlier invoices that were paid and not zero (0 when there are none: a $0 trial invoice or an unpaid one is no base)', sentence: (v) => (Math.exp(v) >= 3 ? `last invoice ${round1(Math.exp(v))} times the earlier paid ones` : `last invoice ${v >= 0 ? 'up' : 'down'} ${Math.abs(Math.round(Math.expm1(v) * 100))}% on earlier paid ones`) },
    value: (f) => invoiceAmountTrend(f.invoices?.last_amount, f.invoices?.previous_paid_amounts),
  },
  {
    spec: { name: 'refunds_60d', kind: 'count', description: 'refunds in 60 days', sentence: (v) => `${plural(v, 'refund')} in 60 days`, driver: { fact: 'refunds' } },
    value: (f) => clamp(n(f.refunds?.refunds_60d), 0, 50),
  },
  {
    spec: { name: 'refunds_90d', kind: 'count', description: 'refunds in 90 days', sentence: (v) => `${plural(v, 'refund')} in 90 days`, driver: { fact: 'refunds' } },
    value: (f) => clamp(n(f.refunds?.refunds_90d), 0, 50),
  },
  {
    spec: { name: 'credit_notes_90d', kind: 'count', description: 'credit notes (credits or refunds against invoices) issued in 90 days, voided ones left out', sentence: (v) => `${plural(v, 'credit note')} in 90 days`, driver: { fact: 'credit_notes' } },
    value: (f) => clamp(n(f.creditNotes?.credit_notes_90d), 0, 50),
  },
  {
    spec: { name: 'credited_usd_90d_log', logScaled: true, kind: 'money', description: 'log(1 + approximate USD) credited by credit notes in 90 days', sentence: (v) => `$${usdFromLog(v)} credited in 90 days`, driver: { fact: 'credit_notes', absent: (v) => usdFromLog(v) === 0 } },
    value: (f) => Math.log1p(clamp(n(f.creditNotes?.credited_usd_90d), 0, 1e7)),
  },
  {
    spec: {
      name: 'commitment_months_left',
      kind: 'number',
      description: 'months until the contract commitment ends (a subscription schedule\'s current phase, or a fixed cancel_at), 0 when none',
      sentence: (v) => (v < 1 ? 'contract commitment ends within a month' : `contract commitment ends in ${plural(Math.round(v), 'month')}`),
      driver: { fact: 'commitment', absent: (v) => v <= 0 },
    },
    value: (f) => (f.commitment?.commitment_end ? clamp((Number(f.commitment.commitment_end) - f.asOf) / (30.44 * DAY_SECONDS), 0, 60) : 0),
  },
  {
    spec: { name: 'disputes_90d', kind: 'count', description: 'disputes opened in 90 days', sentence: (v) => `${plural(v, 'dispute')} in 90 days` },
    value: (f) => clamp(n(f.disputes?.disputes_90d), 0, 20),
  },
  {
    spec: { name: 'days_to_period_end', kind: 'days', description: 'days until the current billing period ends (next renewal)', sentence: (v) => (Math.round(v) === 0 ? 'renews today' : `renews in ${plural(v, 'day')}`), driver: { fact: 'renewal' } },
    value: (f) => daysUntil(f.sub.period_end, f.asOf, 800),
  },
  {
    spec: { name: 'days_to_renewal_45', kind: 'days', description: 'days until the next renewal charge, capped at 45: the fine timing of the next collection (and dunning) for monthly plans', sentence: (v) => (v >= 45 ? 'no renewal charge within 45 days' : Math.round(v) === 0 ? 'next charge today' : `next charge in ${plural(v, 'day')}`), driver: { fact: 'renewal', absent: (v) => v >= 45 } },
    value: (f) => daysUntil(f.sub.period_end, f.asOf, 45),
  },
  {
    spec: { name: 'connected_account', kind: 'bool', description: 'customer of a Connect connected account', sentence: (v) => (v ? 'on a connected account' : 'on the platform account') },
    value: (f) => bool(f.account !== PLATFORM_ACCOUNT),
  },
  {
    spec: { name: 'median_days_to_pay', kind: 'days', description: 'median days from invoice finalization to payment over 365 days', sentence: (v) => `pays invoices in ${round1(v)} days (median)`, driver: { fact: 'payment_speed', absent: (v) => v < 1 } },
    value: (f) => clamp(n(f.invoices?.median_days_to_pay), 0, 120),
  },
  {
    spec: { name: 'late_paid_share', kind: 'ratio', description: 'share of invoices in 365 days paid more than 7 days after finalization', sentence: (v) => `${Math.round(v * 100)}% of invoices paid late`, driver: { fact: 'payment_speed' } },
    value: (f) => clamp(n(f.invoices?.late_paid_share), 0, 1),
  },
  {
    spec: { name: 'open_invoice_amount_log', logScaled: true, kind: 'money', description: 'log(1 + approximate USD) of invoices open (unpaid) at asOf', sentence: (v) => `$${usdFromLog(v)} unpaid`, driver: { fact: 'payment_overdue' } },
    value: (f) => Math.log1p(Math.max(0, n(f.invoices?.open_amount_usd))),
  },
  {
    spec: { name: 'open_invoices', kind: 'count', description: 'invoices open (unpaid) at asOf', sentence: (v) => plural(v, 'unpaid invoice'), driver: { fact: 'payment_overdue' } },
    value: (f) => clamp(n(f.invoices?.open_invoices), 0, 50),
  },
  {
    spec: { name: 'max_days_overdue', kind: 'days', description: 'days since the oldest open invoice was due (0 when none)', sentence: (v) => (Math.round(v) === 0 ? 'invoice due today unpaid' : `invoice unpaid for ${plural(v, 'day')}`), driver: { fact: 'payment_overdue', absent: (v, row) => (row('open_invoices') ?? 1) === 0 } },
    value: (f) => clamp(n(f.invoices?.max_days_open), 0, 365),
  },
  {
    spec: { name: 'uncollectible_invoices_365d', kind: 'count', description: 'invoices written off in 365 days', sentence: (v) => `${plural(v, 'invoice')} written off in a year` },
    value: (f) => clamp(n(f.invoices?.uncollectible_365d), 0, 50),
  },
  {
    spec: { name: 'paused', kind: 'bool', description: 'a live subscription is paused (status paused or pause_collection set)', sentence: (v) => (v ? 'payments paused' : 'not paused') },
    value: (f) => bool(f.sub.any_paused),
  },
  {
    spec: { name: 'status_changes_90d', kind: 'count', description: 'subscription status changes in 90 days', sentence: (v) => `${plural(v, 'status change')} in 90 days` },
    value: (f) => clamp(n(f.changes?.status_changes_90d), 0, 50),
  },
  // Contract, add-ons, payment method detail, currency, country and tax: facts every account has.
  {
    spec: { name: 'contract_monthly', kind: 'category_onehot', description: 'the main subscription renews every month (no longer commitment)', sentence: (v) => (v ? 'on a monthly contract' : 'not on a monthly contract'), driver: { fact: 'contract' } },
    value: (f) => bool(n(f.sub.interval_months, 1) <= 1),
  },
  {
    spec: { name: 'contract_annual', kind: 'category_onehot', description: 'the main subscription renews yearly (12 to 23 months)', sentence: (v) => (v ? 'on a yearly contract' : 'not on a yearly contract'), driver: { fact: 'contract' } },
    value: (f) => bool(n(f.sub.interval_months, 1) >= 12 && n(f.sub.interval_months, 1) < 24),
  },
  {
    spec: { name: 'contract_multi_year', kind: 'category_onehot', description: 'the main subscription renews every two years or more', sentence: (v) => (v ? 'on a multi-year contract' : 'not on a multi-year contract'), driver: { fact: 'contract' } },
    value: (f) => bool(n(f.sub.interval_months, 1) >= 24),
  },
  {
    spec: { name: 'addon_items', kind: 'count', description: 'items beyond the main one on live subscriptions (add-ons)', sentence: (v) => plural(v, 'add-on'), driver: { fact: 'items' } },
    value: (f) => clamp((f.items?.length ?? n(f.sub.item_count)) - n(f.sub.live_subscriptions), 0, 50),
  },
  {
    spec: { name: 'addon_mrr_share', kind: 'ratio', description: "share of MRR from add-ons (every item but each subscription's largest)", sentence: (v) => `${Math.round(v * 100)}% of MRR from add-ons`, driver: { fact: 'items' } },
    value: (f) => addonShare(f.items ?? []),
  },
  {
    spec: { name: 'card_brand_visa', kind: 'category_onehot', description: 'the card on file is a Visa', sentence: (v) => (v ? 'pays with a Visa card' : 'not a Visa card'), driver: { fact: 'payment_method_type' } },
    value: (f) => bool(f.paymentMethod.brand === 'visa'),
  },
  {
    spec: { name: 'card_brand_mastercard', kind: 'category_onehot', description: 'the card on file is a Mastercard', sentence: (v) => (v ? 'pays with a Mastercard' : 'not a Mastercard'), driver: { fact: 'payment_method_type' } },
    value: (f) => bool(f.paymentMethod.brand === 'mastercard'),
  },
  {
    spec: { name: 'card_brand_amex', kind: 'category_onehot', description: 'the card on file is an American Express', sentence: (v) => (v ? 'pays with an American Express card' : 'not an American Express card'), driver: { fact: 'payment_method_type' } },
    value: (f) => bool(f.paymentMethod.brand === 'amex'),
  },
  {
    spec: { name: 'card_brand_other', kind: 'category_onehot', description: 'the card on file is of another brand', sentence: (v) => (v ? 'pays with a less common card brand' : 'card of a common brand'), driver: { fact: 'payment_method_type' } },
    value: (f) => bool(f.paymentMethod.brand !== null && !['visa', 'mastercard', 'amex'].includes(f.paymentMethod.brand)),
  },
  {
    spec: { name: 'card_wallet', kind: 'bool', description: 'the card is used through a wallet (Apple Pay, Google Pay, Link...)', sentence: (v) => (v ? 'pays through a wallet' : 'does not pay through a wallet'), driver: { fact: 'payment_method_type' } },
    value: (f) => bool(f.paymentMethod.wallet !== null),
  },
  {
    spec: { name: 'currency_usd', kind: 'category_onehot', description: 'billed in US dollars', sentence: (v) => (v ? 'billed in USD' : 'not billed in USD'), driver: { fact: 'currency' } },
    value: (f) => bool(mainCurrency(f) === 'usd'),
  },
  {
    spec: { name: 'currency_eur', kind: 'category_onehot', description: 'billed in euros', sentence: (v) => (v ? 'billed in EUR' : 'not billed in EUR'), driver: { fact: 'currency' } },
    value: (f) => bool(mainCurrency(f) === 'eur'),
  },
  {
    spec: { name: 'currency_gbp', kind: 'category_onehot', description: 'billed in pounds sterling', sentence: (v) => (v ? 'billed in GBP' : 'not billed in GBP'), driver: { fact: 'currency' } },
    value: (f) => bool(mainCurrency(f) === 'gbp'),
  },
  {
    spec: { name: 'currency_other', kind: 'category_onehot', description: 'billed in another currency', sentence: (v) => (v ? 'billed in a less common currency' : 'billed in USD, EUR or GBP'), driver: { fact: 'currency' } },
    value: (f) => {
      const c = mainCurrency(f);
      return bool(c !== null && !['usd', 'eur', 'gbp'].includes(c));
    },
  },
  {
    spec: { name: 'tax_exempt', kind: 'bool', description: 'the customer is tax exempt or reverse-charged (as of the newest finalized invoice)', sentence: (v) => (v ? 'tax exempt or reverse charge' : 'pays tax normally') },
    value: (f) => bool(f.profile?.tax_exempt === 'exempt' || f.profile?.tax_exempt === 'reverse'),
  },
  {
    spec: { name: 'has_tax_id', kind: 'bool', description: 'the customer had a tax ID on the newest finalized invoice (a registered business)', sentence: (v) => (v ? 'tax ID on file' : 'no tax ID on file') },
    value: (f) => bool(n(f.profile?.tax_ids) > 0),
  },
  // Catalogue vocabulary slots: 0 here, written by applyVocabulary (catalogue.ts) from the model's vocabulary.
  ...slotSpecs().map((spec) => ({ spec, value: () => 0 })),
];

export const FEATURES: FeatureSpec[] = DEFINITIONS.map((d) => d.spec);

/** The catalogue and account-structure features added in churn-features-v4 (for ablations: what they change). */
export const ACCOUNT_STRUCTURE_FEATURES: string[] = FEATURES.slice(FEATURES.findIndex((f) => f.name === 'contract_monthly')).map((f) => f.name);

/** The versioned feature set a model is trained on and stored with. */
export function featureSet(): FeatureSet {
  return { version: FEATURE_SET_VERSION, features: FEATURES };
}

/**
 * A stored feature set (names only survive JSON) bound back to the live specs, so drivers get their
 * sentences. Fails loudly when the model was trained on a different feature version or order.
 */
export function bindFeatureSet(stored: { version: string; features: { name: string }[] }): FeatureSet {
  if (stored.version !== FEATURE_SET_VERSION) {
    throw new Error(`model was trained on features ${stored.version}, this build computes ${FEATURE_SET_VERSION}; retrain the model`);
  }
  const names = stored.features.map((f) => f.name);
  if (names.join(',') !== FEATURES.map((f) => f.name).join(',')) throw new Error('stored feature names do not match this build; retrain the model');
  return featureSet();
}

/** Feature values for one customer, in FEATURES order (pure; exported for tests and explanations). */
export function featureValues(facts: CustomerFacts): Float32Array {
  const out = new Float32Array(DEFINITIONS.length);
  for (let i = 0; i < DEFINITIONS.length; i++) {
    const v = DEFINITIONS[i]!.value(facts);
    out[i] = Number.isFinite(v) ? v : 0;
  }
  return out;
}

export interface FeatureMatrix {
  asOf: number;
  featureSet: FeatureSet;
  /** row r of `matrix` belongs to keys[r] */
  keys: CustomerKey[];
  matrix: Matrix;
  /** what each row holds (products, prices, country), for learning and applying a vocabulary */
  catalogues: CustomerCatalogue[];
  /** price nicknames seen on the items, for readable vocabulary labels */
  priceNames: Map<string, string>;
}

export interface FeatureMatrixOptions {
  /** the model's catalogue vocabulary: fills the product, price and country slot columns (left 0 without one) */
  vocabulary?: CatalogueVocabulary;
}

const keyOf = (account: string, customerId: string) => `${account}\u0001${customerId}`;

function byCustomer<T extends { account: string; customer_id: string }>(rows: T[]): Map<string, T> {
  const m = new Map<string, T>();
  for (const r of rows) m.set(keyOf(r.account, r.customer_id), r);
  return m;
}

/** Start of the month after the card's expiry month (cards work through their whole exp month). */
export function cardExpiresAt(expMonth: number | null, expYear: number | null): number | null {
  if (!expMonth || !expYear) return null;
  return Math.floor(Date.UTC(expYear, expMonth, 1) / 1000);
}

async function paymentMethodsByCustomer(database: Database, asOf: number, scope: FeatureScope, subs: Map<string, SubscriptionStateRow>): Promise<Map<string, ChosenPaymentMethod>> {
  const rows = await database.query<PaymentMethodRow>(paymentMethodsQuery(asOf, scope));
  // A row rewritten after asOf (other than by its detachment) may show a newer card than the one on
  // file at asOf (automatic card updates change the expiry); read those cards from the event store.
  // A backfill snapshot is dated at the method's creation but shows the card as fetched: read it the same way.
  const rewritten = rows.filter((r) => (Number(r.src_created) > asOf || r.from_snapshot) && Number(r.src_created) !== Number(r.detached_at));
  const cardAt = new Map<string, CardAtRow>();
  for (let i = 0; i < rewritten.length; i += 5000) {
    const keys = rewritten.slice(i, i + 5000).map((r) => ({ account: r.account, id: r.id }));
    for (const c of await database.query<CardAtRow>(cardsAtQuery(asOf, keys))) cardAt.set(keyOf(c.account, c.id), c);
  }
  const grouped = new Map<string, PaymentMethodRow[]>();
  for (const r of rows) {
    const k = keyOf(r.account, r.customer_id);
    const list = grouped.get(k);
    if (list) list.push(r);
    else grouped.set(k, [r]);
  }
  const out = new Map<string, ChosenPaymentMethod>();
  for (const [k, list] of grouped) {
    if (!subs.has(k)) continue;
    const live = list.filter((r) => r.detached_at === null || Number(r.detached_at) > asOf);
    const defaults = new Set(subs.get(k)!.default_payment_methods ?? []);
    // The subscription's default payment method when set, else the newest one attached.
    const chosen = [...live].sort((a, b) => Number(defaults.has(b.id)) - Number(defaults.has(a.id)) || Number(b.attached_at) - Number(a.attached_at) || (a.id < b.id ? 1 : -1))[0];
    let expMonth = chosen?.exp_month ?? null;
    let expYear = chosen?.exp_year ?? null;
    let funding = chosen?.card_funding ?? null;
    const old = chosen ? cardAt.get(keyOf(chosen.account, chosen.id)) : undefined;
    if (old && old.exp_month !== null && old.exp_year !== null) {
      expMonth = old.exp_month;
      expYear = old.exp_year;
      funding = old.funding ?? funding;
    }
    out.set(k, {
      live: live.length,
      added90d: list.filter((r) => Number(r.attached_at) > asOf - 90 * DAY_SECONDS).length,
      type: chosen?.type ?? null,
      funding,
      brand: chosen?.card_brand ?? null,
      wallet: chosen?.card_wallet ?? null,
      cardExpiresAt: chosen?.type === 'card' || (chosen && chosen.type === null && expMonth) ? cardExpiresAt(expMonth, expYear) : null,
    });
  }
  return out;
}

const NO_PAYMENT_METHOD: ChosenPaymentMethod = { live: 0, added90d: 0, type: null, funding: null, brand: null, wallet: null, cardExpiresAt: null };

/**
 * Features of every customer in scope with a live subscription at `asOf`, from a handful of
 * set-based queries (one per projection family), assembled into a row-major Float32Array.
 */
export async function featureMatrixForScope(database: Database, asOf: number, scope: FeatureScope, options: FeatureMatrixOptions = {}): Promise<FeatureMatrix> {
  const [stateRows, pastRows, changeRows, failRows, invoiceRows, refundRows, disputeRows, chargeRows, discountRows, itemRows, profileRows, creditNoteRows, commitmentRows] = await Promise.all([
    database.query<SubscriptionStateRow>(subscriptionStateQuery(asOf, scope)),
    database.query<SubscriptionStateRow>(subscriptionStateQuery(asOf - 90 * DAY_SECONDS, scope)),
    database.query<SubscriptionChangesRow>(subscriptionChangesQuery(asOf, scope)),
    database.query<PaymentFailureFactsRow>(paymentFailureFactsQuery(asOf, scope)),
    database.query<InvoiceFactsRow>(invoiceFactsQuery(asOf, scope)),
    database.query<RefundFactsRow>(refundFactsQuery(asOf, scope)),
    database.query<DisputeFactsRow>(disputeFactsQuery(asOf, scope)),
    database.query<ChargeFactsRow>(chargeFactsQuery(asOf, scope)),
    database.query<DiscountFactsRow>(discountFactsQuery(asOf, scope)),
    database.query<CatalogueItemRow>(catalogueItemsQuery(asOf, scope)),
    database.query<CustomerProfileRow>(customerProfileQuery(asOf, scope)),
    database.query<CreditNoteFactsRow>(creditNoteFactsQuery(asOf, scope)),
    database.query<CommitmentFactsRow>(commitmentFactsQuery(asOf, scope)),
  ]);
  const creditNotes = byCustomer(creditNoteRows);
  const commitments = byCustomer(commitmentRows);
  const liveRows = stateRows.filter((r) => Number(r.live_subscriptions) > 0);
  const subs = byCustomer(liveRows);
  const past = byCustomer(pastRows.filter((r) => Number(r.live_subscriptions) > 0));
  const changes = byCustomer(changeRows);
  const failures = byCustomer(failRows);
  const invoices = byCustomer(invoiceRows);
  const refunds = byCustomer(refundRows);
  const disputes = byCustomer(disputeRows);
  const charges = byCustomer(chargeRows);
  const discounts = byCustomer(discountRows);
  const paymentMethods = await paymentMethodsByCustomer(database, asOf, scope, subs);
  const profiles = byCustomer(profileRows);
  const itemsOf = new Map<string, CatalogueItemRow[]>();
  const priceNames = new Map<string, string>();
  for (const it of itemRows) {
    const k = keyOf(it.account, it.customer_id);
    const list = itemsOf.get(k);
    if (list) list.push(it);
    else itemsOf.set(k, [it]);
    if (it.price_id && it.nickname) priceNames.set(it.price_id, it.nickname);
  }
  const catalogues: CustomerCatalogue[] = new Array(liveRows.length);

  const cols = DEFINITIONS.length;
  const data = new Float32Array(liveRows.length * cols);
  const keys: CustomerKey[] = new Array(liveRows.length);
  liveRows.forEach((sub, r) => {
    const k = keyOf(sub.account, sub.customer_id);
    keys[r] = { account: sub.account, customerId: sub.customer_id };
    data.set(
      featureValues({
        account: sub.account,
        asOf,
        sub,
        past: past.get(k),
        changes: changes.get(k),
        failures: failures.get(k),
        invoices: invoices.get(k),
        refunds: refunds.get(k),
        creditNotes: creditNotes.get(k),
        commitment: commitments.get(k),
        disputes: disputes.get(k),
        charges: charges.get(k),
        discounts: discounts.get(k),
        paymentMethod: paymentMethods.get(k) ?? NO_PAYMENT_METHOD,
        items: itemsOf.get(k) ?? [],
        profile: profiles.get(k),
      }),
      r * cols,
    );
    catalogues[r] = customerCatalogue(sub.account, itemsOf.get(k) ?? [], profiles.get(k)?.country ?? null, discountActive({ sub, discounts: discounts.get(k) } as CustomerFacts) ? clamp(n(discounts.get(k)?.max_percent_off), 0, 100) : 0);
  });
  const matrix = { data, rows: liveRows.length, cols };
  if (options.vocabulary) applyVocabulary(matrix, catalogues, options.vocabulary, FEATURES.map((f) => f.name));
  return { asOf, featureSet: featureSet(), keys, matrix, catalogues, priceNames };
}

/** All customers (optionally of some accounts) with a live subscription at `asOf`. */
export function featureMatrixAt(database: Database, asOf: number, options: { accounts?: string[] } & FeatureMatrixOptions = {}): Promise<FeatureMatrix> {
  const scope: FeatureScope = options.accounts ? { kind: 'accounts', accounts: options.accounts } : { kind: 'all' };
  return featureMatrixForScope(database, asOf, scope, { vocabulary: options.vocabulary });
}

/** One customer's features at `asOf`; null when they have no live subscription then. */
export async function featureVectorAt(database: Database, customer: CustomerKey, asOf: number, options: FeatureMatrixOptions = {}): Promise<Float32Array | null> {
  const m = await featureMatrixForScope(database, asOf, { kind: 'customer', account: customer.account, customerId: customer.customerId }, options);
  return m.matrix.rows === 0 ? null : m.matrix.data.slice(0, m.matrix.cols);
}

/**
 * Product names from the account's product events, for readable vocabulary labels (run once per
 * training run, for the products the training rows hold; the newest name at any time wins).
 */
export async function productNames(database: Database, productIds: readonly string[]): Promise<Map<string, string>> {
  if (productIds.length === 0) return new Map();
  const rows = await database.query<{ id: string; name: string | null }>(productNamesQuery(productIds));
  return new Map(rows.filter((r) => r.name).map((r) => [r.id, r.name!]));
}

/** Column index of a feature by name (throws on a typo rather than reading the wrong column). */
export function featureIndex(name: string): number {
  const i = FEATURES.findIndex((f) => f.name === name);
  if (i < 0) throw new Error(`unknown feature ${name}`);
  return i;
}
